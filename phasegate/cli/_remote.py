"""The CLI over the REST API: with ``PHASEGATE_API_URL`` and ``PHASEGATE_TOKEN`` set, the
commands the API offers send their request there, as the person the token proves, and print
what the API answers exactly as they print it locally (the API answers the same models). The
actor is that person: ``--as`` is not trusted in this mode (another person's name is refused
before anything is sent). The commands the API does not offer refuse (``not_over_api``).

httpx is imported when a request is made; this mode never imports the Temporal SDK, SQLAlchemy
or the ledger, so its commands start as fast as `model list`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO, overload

import typer
from typing_extensions import TypedDict  # pydantic reads this one on Python 3.11

from phasegate.cli._common import current_context, fail, load_settings
from phasegate.cli._output import safe, say
from phasegate.errors import pydantic_message

if TYPE_CHECKING:
    import httpx

__all__ = ["LOCAL_OPTIONS", "Remote", "over_api"]

LOCAL_OPTIONS = {
    "data_dir": "--data-dir",
    "address": "--address",
    "namespace": "--namespace",
    "ledger_url": "--ledger-url",
    "task_queue": "--task-queue",
}
"""The options that say where Temporal and the ledger are: the API's server knows its own."""
TIMEOUT_S = 60.0
"""How long an answer may take: a command waits up to 30 s for a worker and 15 s for the
ledger on the server (see `phasegate.service`)."""
CONNECT_TIMEOUT_S = 10.0
PAGE = 500
"""Items asked per page of a list (the API's largest page)."""


def over_api() -> Remote | None:
    """The API to talk to when ``PHASEGATE_API_URL`` and ``PHASEGATE_TOKEN`` are set; None
    to work locally. Exit 1 for a bad setting (one of the two alone, an http URL to another
    host); exit 2 when the command line gives an option of the local mode
    (``--address``, ...), which the API's server decides."""
    s = load_settings("WARNING", {})
    if s.api_url is None or s.token is None:
        return None
    ctx = current_context()
    if ctx is not None:
        given = [
            option
            for name, option in LOCAL_OPTIONS.items()
            if name in ctx.params
            # Typer carries its own copy of click: its enum, compared by name.
            and getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"
        ]
        if given:
            raise fail(
                f"{', '.join(given)}: not used over the API (PHASEGATE_API_URL is set: the "
                "API's server has its own Temporal and ledger); leave it out, or unset "
                "PHASEGATE_API_URL and PHASEGATE_TOKEN to work locally",
                2,
            )
    return Remote(s.api_url, s.token.get_secret_value())


class _Page(TypedDict):
    total: int
    items: list[Any]


@dataclass(frozen=True)
class Me:
    """The person the token proves (``GET /api/me``)."""

    person: str
    pmo: bool


@dataclass
class Remote:
    """Requests to the API with the token; every failure is one line on stderr and an exit
    code, as a local refusal is."""

    url: str
    token: str
    _http: httpx.Client | None = None

    @contextmanager
    def session(self) -> Iterator[Remote]:
        """One connection for the requests of a command."""
        import httpx

        with httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
            timeout=httpx.Timeout(TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
            follow_redirects=False,
        ) as http:
            self._http = http
            try:
                yield self
            finally:
                self._http = None

    def get(self, path: str, into: Any, params: dict[str, Any] | None = None) -> Any:
        """The answer to ``GET path``, read as ``into`` (a model, dataclass or type)."""
        return self.read(into, self._json(self._send("GET", path, params=params)))

    def get_unless(self, path: str, into: Any, absent: str) -> Any:
        """``get``, or None when the API answers 404 with the error type ``absent`` (a
        report the project has not issued: ``NoReport``)."""
        response = self._send("GET", path, absent=absent)
        return None if response is None else self.read(into, self._json(response))

    def post(self, path: str, into: Any, body: dict[str, Any] | None = None, **raw: Any) -> Any:
        """The answer to ``POST path`` with the JSON ``body`` (or ``content``, ``headers``
        and ``params`` as httpx takes them), read as ``into``."""
        sent = raw if raw else {"json": body}
        return self.read(into, self._json(self._send("POST", path, **sent)))

    def pages(
        self, path: str, into: Any, params: dict[str, Any] | None = None, size: int = PAGE
    ) -> list[Any]:
        """Every item of a paged list (``{"total", "items"}``), page after page of ``size``
        items, each read as ``into``."""
        items: list[Any] = []
        while True:
            asked = {**(params or {}), "limit": size, "offset": len(items)}
            page: _Page = self.get(path, _Page, asked)
            items += page["items"]
            if len(page["items"]) < size or len(items) >= page["total"]:
                found: list[Any] = self.read(list[into], items)
                return found

    def me(self) -> Me:
        found: Me = self.get("/api/me", Me)
        return found

    def read(self, into: Any, data: object) -> Any:
        """``data`` as ``into``; exit 1 when it is not that (another API, another version)."""
        from pydantic import TypeAdapter, ValidationError

        try:
            return TypeAdapter(into).validate_python(data)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(map(str, first["loc"])) or "(the answer)"
            raise fail(
                f"the API at {self.url} answered what this phasegate cannot read ({where}: "
                f"{pydantic_message(first)}); is PHASEGATE_API_URL the phasegate API, of this "
                "version?"
            ) from None

    def acting(self, actor: str | None) -> None:
        """Refuse (exit 2, nothing sent) an ``--as`` that names anyone but the token's
        person: over the API nobody acts in another's name."""
        if actor is None:
            return
        me = self.me()
        if actor != me.person:
            raise fail(
                f"--as {safe(actor)}: over the API you act as {me.person}, the person of "
                "PHASEGATE_TOKEN, never as another; leave --as out, or use "
                f"{safe(actor)}'s own token (nothing was sent)",
                2,
            )

    @overload
    def _send(
        self, method: str, path: str, absent: None = None, **kwargs: Any
    ) -> httpx.Response: ...
    @overload
    def _send(
        self, method: str, path: str, absent: str, **kwargs: Any
    ) -> httpx.Response | None: ...
    def _send(
        self, method: str, path: str, absent: str | None = None, **kwargs: Any
    ) -> httpx.Response | None:
        if self._http is None:
            with self.session():
                return self._send(method, path, absent, **kwargs)
        with self._transport():
            response = self._http.request(method, path, **kwargs)
        if absent is not None and response.status_code == 404:
            error = _error_of(response)
            if error is not None and error[0] == absent:
                return None
        self._check(response)
        return response

    def download(self, path: str, params: dict[str, Any], out: TextIO) -> None:
        """``GET path``, its body written to ``out`` as it arrives (a stream: an export)."""
        with self.session(), self._transport():
            assert self._http is not None
            with self._http.stream("GET", path, params=params) as response:
                if not response.is_success:
                    response.read()
                    self._check(response)
                for text in response.iter_text():
                    out.write(text)

    @contextmanager
    def _transport(self) -> Iterator[None]:
        """A failure to reach the API, or of the connection, as one line and exit 1."""
        import httpx

        try:
            yield
        except httpx.ConnectError as exc:
            raise fail(
                f"the API at {self.url} is unreachable ({_reason(exc)}): check "
                "PHASEGATE_API_URL, and that `phasegate api` runs there"
            ) from None
        except httpx.TimeoutException:
            raise fail(
                f"the API at {self.url} did not answer within {TIMEOUT_S:.0f} s; if this was "
                "a command, check its result (`phasegate project status`) before sending it "
                "again"
            ) from None
        except httpx.HTTPError as exc:
            raise fail(f"the API at {self.url}: {_reason(exc)}") from None

    def _check(self, response: httpx.Response) -> None:
        if response.status_code == 401:
            raise fail(
                f"the API at {self.url} refused the token: PHASEGATE_TOKEN is wrong, revoked "
                "or expired (`phasegate token create` makes a new one)"
            )
        error = _error_of(response)
        if response.status_code == 202 and error is not None and error[0] == "Unanswered":
            say(f"warning: {error[1]}", err=True)  # applied, unanswered: as locally
            raise typer.Exit(0)
        if response.is_success:
            return
        if error is not None:
            raise fail(error[1])  # the refusal as the local mode prints it
        raise fail(
            f"the API at {self.url} answered {response.status_code} "
            f"{response.reason_phrase or ''}".rstrip()
            + " (is PHASEGATE_API_URL the phasegate API?)"
        )

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise fail(
                f"the API at {self.url} answered something other than JSON "
                "(is PHASEGATE_API_URL the phasegate API?)"
            ) from None


def _error_of(response: httpx.Response) -> tuple[str, str] | None:
    """The API's ``{"error": {"type", "message"}}``, if that is what the answer holds."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error.get("type", "")), error["message"]
    return None


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
