"""The postman against a real SMTP server (aiosmtpd) and a real HTTP receiver: what arrives,
signed; a receiver down then up gets every message exactly once; retries run out into the
dead-letter list, and a retry sends it."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from temporalio.testing import ActivityEnvironment
from typer.testing import CliRunner

from activities import Postman, ProjectActivities, load_config
from governance import GovernanceError
from governance.audit import AuditEventIn, EventKind
from governance.messages import ChainHeadMessage, NotifyInput, NotifyPerson, RecordInput
from governance.notifications import (
    SIGNATURE_HEADER,
    DeliveryPolicy,
    NotifyConfig,
    body_bytes,
    email_content,
    parse_notify_config,
    sign,
    verify_signature,
    webhook_body,
    webhook_schema,
)
from ledger import Ledger
from phasegate.cli import app
from tests.notify.receivers import (
    SECRET,
    Mail,
    Receiver,
    config_yaml,
    self_signed,
    smtp_server,
)

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
ENV = {"HOOK_SECRET": SECRET}
FAST = {"backoff_seconds": 0.05, "max_backoff_seconds": 0.2, "poll_seconds": 0.05}

ANNA = NotifyPerson(id="anna", name="Anna Lind", email="anna@example.org", roles=["bestallare"])
BO = NotifyPerson(id="bo", name="Bo Ek", email="bo@example.org", roles=["mottagare"])
CECILIA = NotifyPerson(id="cecilia", name="Cecilia Berg", roles=["leverantor"])  # no address


def event(seq: int) -> AuditEventIn:
    return AuditEventIn(
        project_id="apollo",
        seq=seq,
        at=T0,
        kind=EventKind.gate_opened,
        payload={},
        model="projektflodet@1.0",
        model_hash="ab" * 32,
        workflow_id="project-apollo",
        run_id="run-1",
    )


def notification(seq: int, kind: str = "gate_opened", **payload: object) -> NotifyInput:
    return NotifyInput(
        project_id="apollo",
        kind=kind,  # type: ignore[arg-type]
        recipients=["anna", "bo", "cecilia"],
        subject=f"Gate idea_gate awaits your decision ({seq})",
        payload={"deadline": "2027-01-14T09:00:00+00:00", **payload},
        chain="apollo",
        event_seq=seq,
        ordinal=0,
        model="projektflodet@1.0",
        title="Apollo",
        people=[ANNA, BO, CECILIA],
    )


def record(ledger: Ledger, *seqs: int) -> None:
    """Store notifications the way a project does: through the record activity."""
    acts = ProjectActivities(ledger)
    for seq in seqs:
        head = ledger.last_seq("apollo")
        after = ChainHeadMessage() if head == 0 else None
        batch = RecordInput(events=[event(seq)], notify=[notification(seq)], after=after)
        ActivityEnvironment().run(acts.record, batch)


def config(smtp_port: int, receiver: Receiver, **delivery: float) -> NotifyConfig:
    return parse_notify_config(config_yaml(smtp_port, receiver.url, **delivery), ENV)


async def until(check: Callable[[], bool], postman: Postman, seconds: float = 10) -> None:
    """Let the postman work until ``check`` holds."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the postman did not get there in time"
        await postman.deliver_due()
        await asyncio.sleep(0.02)


async def test_email_and_webhook_arrive_readable_and_signed(
    ledger: Ledger, smtp: tuple[int, list[Mail]], receiver: Receiver
) -> None:
    port, mails = smtp
    record(ledger, 1)
    async with Postman(ledger, config(port, receiver, **FAST)) as postman:
        await until(lambda: len(mails) == 2 and len(receiver.received) == 1, postman)

    # One e-mail per recipient with an address (cecilia has none), from the channel's sender.
    assert sorted(r for m in mails for r in m.recipients) == ["anna@example.org", "bo@example.org"]
    mail = next(m for m in mails if m.recipients == ["anna@example.org"])
    assert mail.sender == "phasegate@example.org"
    assert mail.subject == "[phasegate] Gate idea_gate awaits your decision (1)"
    text, html = mail.part("plain"), mail.part("html")
    for part in (text, html):
        assert "A gate awaits your decision." in part  # what is asked
        assert "Thursday 14 January 2027, 09:00 UTC" in part  # by when
        assert "https://pg.example.org/projects/apollo" in part  # the dashboard link
        assert "apollo#1.0" in part  # the reference (idempotency key)
    assert "<h2>Gate idea_gate awaits your decision (1)</h2>" in html

    (hook,) = receiver.received
    assert hook.signed()
    assert hook.headers["Phasegate-Idempotency-Key"] == "apollo#1.0"
    body = hook.json
    jsonschema.validate(body, webhook_schema())
    assert body["schema"] == "phasegate.notification/v1"
    assert (body["id"], body["kind"], body["project"]["title"]) == (
        "apollo#1.0",
        "gate_opened",
        "Apollo",
    )
    assert body["deadline"] == "2027-01-14T09:00:00Z"
    assert [r["id"] for r in body["recipients"]] == ["anna", "bo", "cecilia"]
    # A body changed on the way, or signed with another secret, fails verification.
    tampered = hook.body.replace(b"apollo#1.0", b"apollo#9.0")
    assert not verify_signature(SECRET, hook.headers[SIGNATURE_HEADER], tampered)
    assert not verify_signature(
        "another-secret-entirely", hook.headers[SIGNATURE_HEADER], hook.body
    )
    assert ledger.outbox_counts() == {"pending": 0, "delivered": 3, "dead": 0, "unrouted": 0}


def test_a_signature_is_refused_when_old_or_malformed() -> None:
    body = b'{"id": "x"}'
    now = 1_800_000_000
    header = sign(SECRET, body, now)
    assert verify_signature(SECRET, header, body, now=now + 299)
    assert not verify_signature(SECRET, header, body, now=now + 301)  # a replay, too late
    assert not verify_signature(SECRET, header, body, 300, now=now - 301)
    for bad in ("", "t=abc,v1=00", f"v1={header.split('v1=')[1]}", "t=1800000000"):
        assert not verify_signature(SECRET, bad, body, now=now)
    # Rotating secrets: a header may carry several v1 signatures; one that matches is enough.
    rotated = f"{header},v1={'0' * 64}"
    assert verify_signature(SECRET, rotated, body, now=now)


async def test_receiver_down_then_up_gets_every_message_exactly_once(
    ledger: Ledger, smtp: tuple[int, list[Mail]], receiver: Receiver
) -> None:
    port, _ = smtp
    record(ledger, 1, 2, 3, 4, 5)
    receiver.status = 503
    async with Postman(ledger, config(port, receiver, max_attempts=50, **FAST)) as postman:
        await until(lambda: receiver.requests >= 15, postman)  # three tries each, refused
        assert receiver.received == []
        assert {d.attempts >= 2 for d in ledger.deliveries("pending")} == {True}
        receiver.status = 200
        await until(lambda: len(receiver.received) == 5, postman)
        await postman.deliver_due()
        await asyncio.sleep(0.3)  # past the longest backoff: nothing comes again
        await postman.deliver_due()
    assert sorted(receiver.keys()) == [f"apollo#{n}.0" for n in range(1, 6)]
    assert all(h.signed() for h in receiver.received)
    assert ledger.deliveries("pending") == [] and ledger.deliveries("dead") == []


async def test_retries_run_out_into_the_dead_letters_and_a_retry_sends_it(
    ledger: Ledger, smtp: tuple[int, list[Mail]], receiver: Receiver, tmp_path: Path
) -> None:
    port, mails = smtp
    record(ledger, 1)
    cli = CliRunner()
    url = ["--ledger-url", ledger.url]
    pending = cli.invoke(app, ["notify", "pending", *url])
    assert pending.exit_code == 0, pending.output
    assert "0 pending, 0 delivered, 0 dead; 1 notification(s) not routed yet" in pending.output
    receiver.status = 500
    async with Postman(ledger, config(port, receiver, max_attempts=3, **FAST)) as postman:
        await until(lambda: len(ledger.deliveries("dead")) == 1, postman)
        assert receiver.requests == 3 and len(mails) == 2  # the e-mails went out regardless

        failed = cli.invoke(app, ["notify", "failed", *url])
        assert failed.exit_code == 0, failed.output
        (dead,) = ledger.deliveries("dead")
        assert f"{dead.id}\tdead\tapollo\tgate_opened\thook\t*\tattempts 3" in failed.output
        assert "answered HTTP 500" in failed.output
        refused = cli.invoke(app, ["notify", "retry", "4242", *url])
        assert refused.exit_code == 1 and "no delivery has id 4242" in refused.output

        receiver.status = 200
        await postman.deliver_due()
        assert receiver.received == []  # a dead letter waits for the retry
        retried = cli.invoke(app, ["notify", "retry", str(dead.id), *url])
        assert retried.exit_code == 0, retried.output
        await until(lambda: len(receiver.received) == 1, postman)
    assert receiver.keys() == ["apollo#1.0"]
    assert cli.invoke(app, ["notify", "failed", *url]).output.strip() == "no dead letters"
    assert len(mails) == 2  # the retry sent the webhook only


def test_config_problems_are_listed_with_their_places(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text(
        """
version: 1
channels:
  mail: {type: email, host: smtp.example.org, from: not-an-address, username: u}
  hook: {type: webhook, url: "https://hooks.example.org/x", secret: "${MISSING_SECRET}"}
  chat: {type: apprise, urls: ["nosuchscheme://x"]}
routes:
  - kinds: [gate_opened, gate_closed]
    channels: [mail, pager]
"""
    )
    cli = CliRunner()
    out = cli.invoke(app, ["notify", "validate", str(path)], env={"MISSING_SECRET": ""})
    # ${MISSING_SECRET} set but empty: the secret is too short.
    assert out.exit_code == 1
    lines = out.output.splitlines()
    # A head line, then each problem on a line of its own (no "\\n" escaped into one line).
    assert lines[0] == f"error: {path}: 3 problem(s)", out.output
    for expected in (
        "channels.mail.from: must be an e-mail address",
        "channels.hook.secret: must be 16 characters or more, got 0 (not shown)",
        "routes[0].kinds[1]: Input should be",
    ):
        assert any(line.startswith(f"  {expected}") for line in lines[1:]), out.output
    short = cli.invoke(app, ["notify", "validate", str(path)], env={"MISSING_SECRET": "hunter2"})
    assert short.exit_code == 1
    assert "channels.hook.secret: must be 16 characters or more, got 7" in short.output
    assert "hunter2" not in short.output  # a refused secret is never echoed
    missing = cli.invoke(app, ["notify", "validate", str(path)], env={"MISSING_SECRET": None})
    assert missing.exit_code == 1
    assert "channels.hook.secret: refers to ${MISSING_SECRET}, which is not set" in missing.output

    path.write_text(
        """
version: 1
channels:
  hook: {type: webhook, url: "https://hooks.example.org/x", secret: "${HOOK_SECRET}"}
  chat: {type: apprise, urls: ["nosuchscheme://x"]}
  mail: {type: email, host: smtp.example.org, from: pg@example.org, username: u}
routes:
  - channels: [hook, pager]
"""
    )
    out = cli.invoke(app, ["notify", "validate", str(path)], env=ENV)
    assert out.exit_code == 1
    assert "channels.mail: set username and password together, or neither" in out.output
    path.write_text(path.read_text().replace("username: u", "username: u, password: p"))
    out = cli.invoke(app, ["notify", "validate", str(path)], env=ENV)
    assert out.exit_code == 1
    assert (
        'routes[0].channels[1]: "pager" is not a channel; the channels are chat, hook, mail'
        in out.output
    )
    path.write_text(path.read_text().replace(", pager", ""))
    out = cli.invoke(app, ["notify", "validate", str(path)], env=ENV)
    assert out.exit_code == 1
    assert "channels.chat.urls[0]: is not a URL Apprise knows" in out.output
    path.write_text(path.read_text().replace("nosuchscheme://x", "json://127.0.0.1:9/x"))
    out = cli.invoke(app, ["notify", "validate", str(path)], env=ENV)
    assert out.exit_code == 0, out.output
    assert "valid: 3 channel(s) (chat, hook, mail), 1 route(s)" in out.output


def test_routes_pick_kinds_projects_models_roles_and_addresses() -> None:
    cfg = parse_notify_config(
        """
version: 1
channels:
  mail: {type: email, host: h, from: pg@example.org}
  team: {type: email, host: h, from: pg@example.org, to: [team@example.org]}
  board: {type: apprise, urls: ["json://127.0.0.1:9/x"]}
routes:
  - kinds: [escalation]
    roles: [portfoljagare]
    channels: [mail]
    addresses: {gustav: gustav@example.org}
  - projects: [apollo]
    models: [prince2]
    channels: [board]
  - people: [bo]
    channels: [mail, team]
""",
        {},
    )
    gustav = {"id": "gustav", "name": "G", "email": None, "roles": ["portfoljagare"]}
    bo = {"id": "bo", "name": "B", "email": "bo@example.org", "roles": []}
    both = [gustav, bo]
    assert cfg.targets("escalation", "apollo", "projektflodet@1.0", both) == [
        ("mail", "gustav@example.org"),
        ("mail", "bo@example.org"),
        ("team", "team@example.org"),
    ]
    assert cfg.targets("reminder", "apollo/it-2", "prince2@2.0", [gustav]) == [("board", "*")]
    assert cfg.targets("reminder", "zeus", "prince2@2.0", [gustav]) == []


def test_the_schema_command_prints_the_published_schema(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["notify", "schema", "-o", str(tmp_path / "s.json")])
    assert out.exit_code == 0
    import json

    schema = json.loads((tmp_path / "s.json").read_text())
    assert schema["$id"] == "phasegate.notification/v1"
    kinds = {
        m["properties"]["kind"]["const"]
        for m in schema["$defs"].values()
        if "kind" in m.get("properties", {})
    }
    assert {"gate_opened", "reminder", "escalation", "decision"} <= kinds
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": "phasegate.notification/v1", "kind": "gate_opened"}, schema)


def test_a_worker_with_a_bad_configuration_refuses_to_start(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text("version: 1\nchannels: {}\nroutes: []\n")
    out = CliRunner().invoke(
        app,
        ["worker", "--address", "127.0.0.1:1", "--ledger-url", f"sqlite:///{tmp_path}/l.db"],
        env={"PHASEGATE_NOTIFY_CONFIG": str(path)},
    )
    assert out.exit_code == 1
    assert out.output.splitlines()[0] == f"error: PHASEGATE_NOTIFY_CONFIG {path}: 2 problem(s)"
    assert "\n  channels: Dictionary should have at least 1 item" in out.output
    assert not (tmp_path / "l.db").exists()  # nothing started, nothing created


async def test_an_apprise_channel_reaches_its_service(ledger: Ledger, receiver: Receiver) -> None:
    """Apprise's JSON service (``json://``) posting to the local receiver stands for Slack,
    Teams and the rest: the same Apprise call, a service on loopback."""
    cfg = parse_notify_config(
        f"""
version: 1
dashboard_url: https://pg.example.org
channels:
  chat: {{type: apprise, urls: ["json://127.0.0.1:{receiver.port}/hook"]}}
routes:
  - roles: [bestallare]
    channels: [chat]
""",
        {},
    )
    record(ledger, 1)
    async with Postman(ledger, cfg) as postman:
        await until(lambda: len(receiver.received) == 1, postman)
    body = receiver.received[0].json
    assert body["title"] == "Gate idea_gate awaits your decision (1)"
    assert "A gate awaits your decision." in body["message"]
    assert "For Anna Lind, Bo Ek, Cecilia Berg" in body["message"]
    assert "https://pg.example.org/projects/apollo" in body["message"]
    receiver.status = 500
    record(ledger, 2)
    async with Postman(ledger, cfg) as postman:
        await until(lambda: receiver.requests >= 2, postman)
    (pending,) = ledger.deliveries("pending")
    assert pending.last_error == "Apprise could not notify 1 URL(s)"


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_block(after: str, lang: str) -> str:
    text = README.read_text()
    start = text.index(f"```{lang}\n", text.index(after)) + len(lang) + 4
    return text[start : text.index("```", start)]


def test_the_readme_configuration_is_valid_and_its_receiver_snippet_verifies() -> None:
    section = "## Notifications: e-mail, chat and signed webhooks"
    env = {
        "SMTP_PASSWORD": "pw",
        "SLACK_TOKEN_A": "T1JJ3T3L2",
        "SLACK_TOKEN_B": "A1BRTD4JD",
        "SLACK_TOKEN_C": "TIiajkdnlazkcOXrIdevi7FQ",
        "PHASEGATE_WEBHOOK_SECRET": SECRET,
    }
    path = Path(tempfile.mkdtemp()) / "notify.yaml"
    path.write_text(_readme_block(section, "yaml"))
    cfg = load_config(path, env)
    assert sorted(cfg.channels) == ["board_slack", "erp", "mail"]
    gustav = {"id": "gustav", "name": "G", "email": None, "roles": ["portfoljagare"]}
    assert cfg.targets("escalation", "new-crm", "projektflodet@1.0", [gustav]) == [
        ("mail", "gustav.alm@example.org"),
        ("erp", "*"),
    ]
    names: dict[str, object] = {}
    exec(_readme_block(section, "python"), names)
    readme_verify = names["verify_signature"]
    body = b'{"id": "new-crm#4.0"}'
    header = sign(SECRET, body)
    assert readme_verify(SECRET, header, body)  # type: ignore[operator]
    assert not readme_verify(SECRET, header, body + b" ")  # type: ignore[operator]
    assert not readme_verify(SECRET, sign(SECRET, body, int(time.time()) - 600), body)  # type: ignore[operator]


async def test_a_delivery_error_never_shows_the_urls_credentials(
    ledger: Ledger, receiver: Receiver
) -> None:
    url = receiver.url.replace("http://", "http://user:pa55@") + "?token=sekrit"
    cfg = parse_notify_config(
        f"""
version: 1
channels:
  hook: {{type: webhook, url: "{url}", secret: "{SECRET}"}}
routes:
  - channels: [hook]
""",
        {},
    )
    receiver.status = 502
    record(ledger, 1)
    async with Postman(ledger, cfg) as postman:
        await until(lambda: receiver.requests >= 1, postman)
    (pending,) = ledger.deliveries("pending")
    # Neither the credentials, the query nor the path (where many receivers keep a token).
    assert pending.last_error == f"http://127.0.0.1:{receiver.port}/... answered HTTP 502"


def test_the_default_retries_outlast_a_receiver_down_for_an_hour() -> None:
    policy = DeliveryPolicy()
    waits = [policy.backoff(n) for n in range(1, policy.max_attempts)]
    assert waits[:4] == [5, 10, 20, 40] and max(waits) == 3600
    assert sum(waits) == 8715  # 2.4 hours


def test_a_send_may_not_outlast_its_lease() -> None:
    text = """
version: 1
channels:
  hook: {type: webhook, url: "http://127.0.0.1:9/x", secret: "0123456789abcdef",
         timeout_seconds: 30}
routes: [{channels: [hook]}]
delivery: {lease_seconds: 30}
"""
    with pytest.raises(GovernanceError) as info:
        parse_notify_config(text, {})
    assert [str(i) for i in info.value.issues] == [
        "channels.hook.timeout_seconds: must be shorter than delivery.lease_seconds (30): a "
        "send that outlasts its lease could be sent by another postman meanwhile"
    ]
    assert parse_notify_config(text.replace("lease_seconds: 30", "lease_seconds: 31"), {})


def failures(ledger: Ledger) -> int:
    return len([d for d in ledger.deliveries("pending") if d.last_error])


async def test_email_logs_in_when_the_server_asks_and_a_wrong_password_is_retried(
    ledger: Ledger, tmp_path: Path
) -> None:
    def cfg(port: int, password: str) -> NotifyConfig:
        return parse_notify_config(
            f"""
version: 1
channels:
  mail: {{type: email, host: 127.0.0.1, port: {port}, security: none,
          username: phasegate, password: "${{SMTP_PASSWORD}}", from: pg@example.org}}
routes: [{{channels: [mail]}}]
delivery: {{backoff_seconds: 0.05, max_backoff_seconds: 0.1}}
""",
            {"SMTP_PASSWORD": password},
        )

    record(ledger, 1)
    with smtp_server(login=("phasegate", "right")) as (port, mails):
        async with Postman(ledger, cfg(port, "wrong")) as postman:
            await until(lambda: failures(ledger) == 2, postman)
        assert mails == []
        errors = {d.last_error for d in ledger.deliveries("pending")}
        assert len(errors) == 1 and f"SMTP 127.0.0.1:{port}: SMTPAuthenticationError" in str(
            errors.pop()
        )
        async with Postman(ledger, cfg(port, "right")) as postman:
            await until(lambda: len(mails) == 2, postman)
    assert sorted(m.recipients[0] for m in mails) == ["anna@example.org", "bo@example.org"]


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("gate_opened", {"deadline": "2027-01-14T09:00:00+00:00"}),
        ("reminder", {"deadline": None}),
        ("escalation", {"level": "portfolio", "deadline": "2027-01-14T09:00:00+00:00"}),
        ("decision", {"outcome": "approve", "state": "pre_study"}),
        ("decision", {"outcome": "close"}),
        ("phase_opened", {"phase": "planning"}),
        ("project", {}),
        ("task_assigned", {}),
        ("standup", {"timebox": 900.0}),
        ("iteration", {"number": 3}),
        ("change", {"deadline": None, "classification": "formal"}),
        ("change", {"outcome": "approved"}),
        ("exception", {"level": "board", "deadline": None, "report": 1}),
        ("highlight_report", {"number": 2, "reason": "cadence", "rag": "amber"}),
    ],
)
def test_every_kind_makes_a_body_of_the_published_schema_and_an_email(
    kind: str, payload: dict[str, object]
) -> None:
    message = notification(7, kind, **payload).model_dump(mode="json")
    message["payload"] = payload
    body = webhook_body("apollo#7.0", message, T0, "https://pg.example.org")
    document = json.loads(body_bytes(body))
    jsonschema.validate(document, webhook_schema())
    assert document["kind"] == kind
    for name, value in payload.items():  # every field is there; times in UTC as ...Z
        shown = value.replace("+00:00", "Z") if isinstance(value, str) else value
        assert document["data"][name] == shown
    subject, text, html = email_content("apollo#7.0", message, T0, None)
    assert subject.startswith("[phasegate] ") and "apollo#7.0" in text and "<h2>" in html


async def test_email_over_starttls_trusts_the_ca_file_it_is_given(
    ledger: Ledger, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)

    def cfg(port: int, ca: str) -> NotifyConfig:
        return parse_notify_config(
            f"""
version: 1
channels:
  mail: {{type: email, host: 127.0.0.1, port: {port}, security: starttls, {ca}
          username: phasegate, password: right, from: pg@example.org}}
routes: [{{channels: [mail]}}]
delivery: {{backoff_seconds: 0.05, max_backoff_seconds: 0.1}}
""",
            {},
        )

    record(ledger, 1)
    with smtp_server(login=("phasegate", "right"), tls=(cert, key)) as (port, mails):
        async with Postman(ledger, cfg(port, "")) as postman:  # the system's CAs: refused
            await until(lambda: failures(ledger) == 2, postman)
        assert mails == []
        assert "CERTIFICATE_VERIFY_FAILED" in str(ledger.deliveries("pending")[0].last_error)
        async with Postman(ledger, cfg(port, f"ca_file: {cert},")) as postman:
            await until(lambda: len(mails) == 2, postman)
    assert sorted(m.recipients[0] for m in mails) == ["anna@example.org", "bo@example.org"]
