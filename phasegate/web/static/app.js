// phasegate dashboard: live updates by polling with ETags, and forms answered in place.
// Without this script every page still works: forms post and the answer is a whole page.
(function () {
  "use strict";
  var POLL_MS = 2000;
  var etag = null;

  // An answer to a form brings its result; a poll brings none and must not erase the one shown
  // (a refusal would vanish within 2 s, before anyone read it).
  function swap(html, withResult) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var live = doc.getElementById("live");
    var result = doc.getElementById("result");
    var here = document.getElementById("live");
    if (live && live.innerHTML !== here.innerHTML) { here.innerHTML = live.innerHTML; }
    if (withResult && result) { document.getElementById("result").innerHTML = result.innerHTML; }
  }

  function typing() {
    // Never replace a form someone is filling in: wait until they leave it.
    var el = document.activeElement;
    if (!el || !document.getElementById("live").contains(el)) { return false; }
    if (el.tagName === "TEXTAREA" || el.tagName === "INPUT" || el.tagName === "SELECT") { return true; }
    var form = el.closest("form");
    return !!(form && Array.prototype.some.call(form.querySelectorAll("textarea"), function (t) { return t.value; }));
  }

  function poll() {
    if (document.hidden || typing()) { return; }
    var headers = { "X-Phasegate-Live": "1" };
    if (etag) { headers["If-None-Match"] = etag; }
    fetch(location.href, { headers: headers, credentials: "same-origin", cache: "no-cache" })
      .then(function (r) {
        if (r.status === 401) { location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search)); return null; }
        if (r.status !== 200) { return null; }
        var fresh = r.headers.get("ETag");
        if (fresh && fresh === etag) { return null; }
        etag = fresh;
        return r.text();
      })
      .then(function (html) { if (html) { swap(html, false); } })
      .catch(function () { /* offline for a moment: try again at the next tick */ });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-inplace")) { return; }
    ev.preventDefault();
    var body = new URLSearchParams(new FormData(form, ev.submitter));
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    // getAttribute, not form.action: a control named "action" (the project page's buttons)
    // shadows the form's property.
    fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin",
                                         headers: { "X-Phasegate-Live": "1" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        etag = null;
        swap(html, true);
        var result = document.querySelector("#result .result");
        if (result) { result.setAttribute("tabindex", "-1"); result.focus(); }
      })
      .catch(function () { buttons.forEach(function (b) { b.disabled = false; }); });
  });

  if (document.body.getAttribute("data-live") === "1") {
    setInterval(poll, POLL_MS);
  }
})();
