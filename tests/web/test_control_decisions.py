"""Deciding a formal change and an exception from the dashboard: the buttons only for whom
the project allows, the signed-in person as the actor, the workflow's refusal shown as it is,
CSRF on every form. One PRINCE2 project (the page tests' setup) with a formal change and an
exception carries all of it."""

from __future__ import annotations

import html as markup
from pathlib import Path

import pytest
from web_support import Served, csrf_of, signed_in, start_under_way

from ledger import Ledger
from phasegate.cli import app as cli_app
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver

HOLDER = {"executive": "ada", "project_manager": "dev", "corporate": "grace"}
"""Who holds each deciding role in the example charter."""


def test_a_formal_change_and_an_exception_are_decided_in_the_dashboard(
    web: Served, web_cli: Cli, web_ledger: Ledger, tmp_path: Path
) -> None:
    pid = start_under_way(web_cli, tmp_path, "New payslip layout", "50000", "P10D")
    st = web_cli.json("project", "status", pid)
    change = st["control"]["changes"][-1]
    assert change["classification"] == "formal" and change["decided_by"] is None
    cid = change["id"]
    change_form = f'action="/projects/{pid}/changes/{cid}/decide"'

    # Someone the change does not ask sees no buttons; a forged POST is refused, as the
    # workflow says, and changes nothing.
    finn = signed_in(web, web_ledger.create_token("finn", "web tests")[1])
    page = finn.get(f"/projects/{pid}")
    assert page.status_code == 200 and change_form not in page.text
    assert 'action="/projects/{pid}/exception/decide"' not in page.text
    assert change_form not in finn.get("/work").text
    forged = finn.post(
        f"/projects/{pid}/changes/{cid}/decide",
        data={"csrf": csrf_of(page.text), "decision": "approve", "back": "project"},
    )
    assert forged.status_code == 403, forged.text
    args = ["change", "decide", pid, cid, "--as", "finn", "--decision", "approve"]
    refusal = web_cli.runner.invoke(cli_app, args)  # the same refusal, from the CLI
    message = refusal.stderr.strip().splitlines()[-1].split(": ", 1)[-1]
    assert refusal.exit_code != 0 and message, refusal.stderr
    assert message in markup.unescape(forged.text)  # word for word, in place
    after = web_cli.json("project", "status", pid)["control"]["changes"][-1]
    assert after["state"] == change["state"] and after["decided_by"] is None

    # The executive decides it from "my work": recorded as her; a form without the CSRF
    # token is refused first and changes nothing.
    ada = signed_in(web, web_ledger.create_token("ada", "web tests")[1])
    work = ada.get("/work").text
    assert change_form in work and 'value="reject"' in work
    no_csrf = ada.post(f"/projects/{pid}/changes/{cid}/decide", data={"decision": "approve"})
    assert no_csrf.status_code == 403 and "Nothing was changed" in no_csrf.text
    assert web_cli.json("project", "status", pid)["control"]["changes"][-1]["decided_by"] is None
    done = ada.post(
        f"/projects/{pid}/changes/{cid}/decide",
        data={"csrf": csrf_of(work), "decision": "approve", "comment": "Worth it", "back": "work"},
    )
    assert done.status_code == 200, done.text
    assert f"your approve on {cid} is recorded" in done.text
    decided = web_cli.json("project", "status", pid)["control"]["changes"][-1]
    assert decided["decided_by"] == "ada" and decided["state"] != change["state"]

    # The exception's holder widens the tolerance from the project page.
    ex = web_cli.json("project", "status", pid)["control"]["exception"]
    holder = signed_in(web, web_ledger.create_token(HOLDER[ex["role"]], "web tests")[1])
    page = holder.get(f"/projects/{pid}")
    assert f'action="/projects/{pid}/exception/decide"' in page.text
    assert 'name="tolerance_cost"' in page.text and 'value="close"' in page.text
    bad = holder.post(
        f"/projects/{pid}/exception/decide",
        data={"csrf": csrf_of(page.text), "decision": "widen", "exception_id": ex["id"],
              "back": "project"},
    )  # fmt: skip
    assert bad.status_code == 422 and "widen needs a new tolerance" in bad.text
    widened = holder.post(
        f"/projects/{pid}/exception/decide",
        data={"csrf": csrf_of(page.text), "decision": "widen", "exception_id": ex["id"],
              "tolerance_cost": "8%", "comment": "Parallel runs were planned", "back": "project"},
    )  # fmt: skip
    assert widened.status_code == 200, widened.text
    assert f"your decision on {ex['id']} (widen) is recorded" in widened.text
    control = web_cli.json("project", "status", pid)["control"]
    assert control["exception"] is None or control["exception"]["id"] != ex["id"]
