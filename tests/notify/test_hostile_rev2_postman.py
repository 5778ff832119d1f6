"""Hostile review of the postman against real servers: a receiver that answers a byte at a
time past the lease, secrets in URLs, SMTP passwords and Apprise tokens in errors and logs,
hostile titles and subjects in e-mails, the signature's parser, and abusive configurations."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from temporalio.testing import ActivityEnvironment
from typer.testing import CliRunner

from activities import Postman, ProjectActivities
from activities._postman import DeliveryFailed
from governance import GovernanceError
from governance.messages import ChainHeadMessage, NotifyInput, RecordInput
from governance.notifications import parse_notify_config, sign, verify_signature
from ledger import Ledger
from phasegate.cli import app
from phasegate.logging import QUIET_LIBRARIES, configure_logging
from tests.notify.receivers import HOST, SECRET, Mail, Receiver, smtp_server
from tests.notify.test_delivery import _readme_block, event, notification, record, until

ENV = {"HOOK_SECRET": SECRET}


@contextmanager
def trickling_receiver(pause: float, chars: int) -> Iterator[int]:
    """An HTTP server that reads a request and then answers 200 one byte every ``pause``
    seconds: each read is well inside any per-read timeout, the whole answer is not."""
    server = socket.socket()
    server.bind((HOST, 0))
    server.listen(8)
    done = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(65536)
                    answer = f"HTTP/1.1 200 OK\r\nContent-Length: {chars}\r\n\r\n{'x' * chars}"
                    for byte in answer.encode():
                        if done.is_set():
                            break
                        conn.sendall(bytes([byte]))
                        time.sleep(pause)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        done.set()
        thread.join(5)
        server.close()


async def test_a_receiver_answering_a_byte_at_a_time_cannot_hold_a_send_past_its_lease(
    ledger: Ledger,
) -> None:
    """httpx's timeout bounds each read, not the request: without a deadline of its own a
    send outlives its lease and another postman sends the message again meanwhile."""
    with trickling_receiver(pause=0.1, chars=40) as port:
        cfg = parse_notify_config(
            f"""
version: 1
channels:
  hook: {{type: webhook, url: "http://{HOST}:{port}/hook", secret: "{SECRET}",
         timeout_seconds: 1}}
routes: [{{channels: [hook]}}]
delivery: {{lease_seconds: 2}}
""",
            {},
        )
        record(ledger, 1)
        async with Postman(ledger, cfg) as postman:
            await postman.route_new()
            lease = timedelta(seconds=cfg.delivery.lease_seconds)
            (d,) = ledger.claim_deliveries(datetime.now(UTC), lease)
            started = time.monotonic()
            with pytest.raises(DeliveryFailed, match="'hook': no answer within 1 s"):
                await postman.send(d)
            took = time.monotonic() - started
    assert took < cfg.delivery.lease_seconds, f"the send took {took:.1f} s"


# -- secrets ------------------------------------------------------------------------------------


@pytest.fixture
def worker_logging() -> Iterator[None]:
    """Logging set up as a worker's (INFO), and as it was again afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    configure_logging("json", "INFO")
    yield
    for name, quiet_level in quiet.items():
        logging.getLogger(name).setLevel(quiet_level)
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    structlog.reset_defaults()


def no_secret(secret: str, *texts: object) -> None:
    for text in texts:
        assert secret not in str(text), f"{secret!r} shown in {text!r}"


async def test_a_webhook_token_in_the_urls_path_is_not_shown_in_errors_logs_or_notify_failed(
    ledger: Ledger, receiver: Receiver, caplog: pytest.LogCaptureFixture, worker_logging: None
) -> None:
    """Slack, Discord, Zapier and most no-code receivers put the secret in the path."""
    token = "T0KEN-b3f1c2d4e5"
    cfg = parse_notify_config(
        f"""
version: 1
channels:
  hook: {{type: webhook, url: "{receiver.url}/services/{token}", secret: "{SECRET}"}}
routes: [{{channels: [hook]}}]
delivery: {{max_attempts: 1}}
""",
        {},
    )
    receiver.status = 502
    record(ledger, 1)
    caplog.set_level(logging.INFO)
    with structlog.testing.capture_logs() as logs:
        async with Postman(ledger, cfg) as postman:
            await until(lambda: len(ledger.deliveries("dead")) == 1, postman)
    (dead,) = ledger.deliveries("dead")
    shown = CliRunner().invoke(app, ["notify", "failed", "--ledger-url", ledger.url]).output
    assert f"http://{HOST}:{receiver.port}/... answered HTTP 502" == dead.last_error
    no_secret(token, dead.last_error, logs, shown)
    no_secret(token, [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO])


async def test_a_wrong_smtp_password_is_not_shown_in_errors_or_logs(
    ledger: Ledger, receiver: Receiver
) -> None:
    password = "pa55-w0rd-x9"
    with smtp_server(login=("pg", "right-one")) as (port, mails):
        cfg = parse_notify_config(
            f"""
version: 1
channels:
  mail: {{type: email, host: {HOST}, port: {port}, security: none, from: pg@example.org,
         username: pg, password: "${{SMTP_PASSWORD}}"}}
routes: [{{channels: [mail]}}]
delivery: {{max_attempts: 1}}
""",
            {"SMTP_PASSWORD": password},
        )
        record(ledger, 1)
        with structlog.testing.capture_logs() as logs:
            async with Postman(ledger, cfg) as postman:
                await until(lambda: len(ledger.deliveries("dead")) == 2, postman)
    assert mails == []
    errors = [d.last_error for d in ledger.deliveries("dead")]
    assert all(e and "SMTP" in e for e in errors)
    no_secret(password, errors, logs)


async def test_an_apprise_token_is_not_shown_in_errors_or_logs(
    ledger: Ledger, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    token = "apprise-t0ken-77aa"
    cfg = parse_notify_config(
        f"""
version: 1
channels:
  chat: {{type: apprise, urls: ["json://bot:{token}@{HOST}:{receiver.port}/hook/{token}"]}}
routes: [{{channels: [chat]}}]
delivery: {{max_attempts: 1}}
""",
        {},
    )
    receiver.status = 500
    record(ledger, 1)
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        async with Postman(ledger, cfg) as postman:
            await until(lambda: len(ledger.deliveries("dead")) == 1, postman)
    (dead,) = ledger.deliveries("dead")
    assert dead.last_error == "Apprise could not notify 1 URL(s)"
    no_secret(token, logs, [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO])


def test_a_config_error_never_echoes_a_secret() -> None:
    short = "short-s3cr"  # under 16 characters: refused
    with pytest.raises(GovernanceError) as info:
        parse_notify_config(
            """
version: 1
channels:
  hook: {type: webhook, url: "https://h.example.org/x", secret: "${S}"}
  mail: {type: email, host: h, from: a@example.org, username: u, password: "${S}", port: 0}
routes: [{channels: [hook, mail]}]
""",
            {"S": short},
        )
    assert [str(i) for i in info.value.issues] == [
        "channels.hook.secret: must be 16 characters or more, got 10 (not shown)",
        "channels.mail.port: Input should be greater than or equal to 1, got 0",
    ]
    no_secret(short, info.value, info.value.issues)
    with pytest.raises(GovernanceError) as info:  # a number where text is due
        parse_notify_config(
            """
version: 1
channels:
  mail: {type: email, host: h, from: a@example.org, username: u, password: 19283746}
routes: [{channels: [mail]}]
""",
            {},
        )
    assert [str(i) for i in info.value.issues] == [
        "channels.mail.password: must be text, got a value not shown (YAML read a number: quote it)"
    ]


# -- what an e-mail shows -----------------------------------------------------------------------


def store(ledger: Ledger, note: NotifyInput) -> None:
    ActivityEnvironment().run(
        ProjectActivities(ledger).record,
        RecordInput(events=[event(1)], notify=[note], after=ChainHeadMessage()),
    )


async def test_html_in_a_title_subject_or_reason_is_shown_as_text_in_the_email(
    ledger: Ledger, smtp: tuple[int, list[Mail]]
) -> None:
    port, mails = smtp
    evil = notification(1, reason="<img src=x onerror=alert(1)>").model_copy(
        update={
            "title": "<script>alert('t')</script>",
            "subject": "Gate </h2><a href='https://evil.example'>x</a> awaits",
        }
    )
    store(ledger, evil)
    cfg = parse_notify_config(
        f"""
version: 1
channels:
  mail: {{type: email, host: {HOST}, port: {port}, security: none, from: pg@example.org}}
routes: [{{channels: [mail]}}]
""",
        {},
    )
    async with Postman(ledger, cfg) as postman:
        await until(lambda: len(mails) == 2, postman)
    page = mails[0].part("html")
    for raw in ("<script", "<img", "<a href='https://evil", "</h2><a"):
        assert raw not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert('t')</script>" in mails[0].part("plain")  # plain text is plain


async def test_a_line_break_in_a_subject_never_becomes_a_header(
    ledger: Ledger, smtp: tuple[int, list[Mail]]
) -> None:
    """No title or change title can hold one (they are single lines); should one ever reach
    the postman it fails that delivery with a clear error and adds no header."""
    port, mails = smtp
    evil = notification(1).model_copy(
        update={"subject": "Gate\r\nBcc: mallory@evil.example\r\n\r\nforged body"}
    )
    store(ledger, evil)
    cfg = parse_notify_config(
        f"""
version: 1
channels:
  mail: {{type: email, host: {HOST}, port: {port}, security: none, from: pg@example.org}}
routes: [{{channels: [mail]}}]
delivery: {{max_attempts: 1}}
""",
        {},
    )
    async with Postman(ledger, cfg) as postman:
        await until(lambda: len(ledger.deliveries("dead")) == 2, postman)
    assert mails == []
    for d in ledger.deliveries("dead"):
        assert "linefeed or carriage return" in str(d.last_error)


# -- the signature ------------------------------------------------------------------------------

BODY = b'{"id": "apollo#1.0"}'
NOW = 1_800_000_000


@pytest.mark.parametrize(
    "header",
    [
        f"t=1{'0' * 400},v1=00",  # a timestamp too large for a float
        f"t={NOW},v1=\u00e9\u00e9",  # a non-ASCII signature
        f"t={NOW},v1=" + "\u0661" * 64,  # Arabic-Indic digits
        "t=\u0661\u0668\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660,v1=00",
        "t=nan,v1=00",
        "t=+1800000000,v1=00",
        "t=1_800_000_000,v1=00",
        "",
        ",,,",
        "t=",
        "v1=00",
    ],
)
def test_verify_signature_refuses_malformed_headers_without_raising(header: str) -> None:
    assert verify_signature(SECRET, header, BODY, now=NOW) is False
    assert verify_signature(SECRET, header, BODY) is False  # against the float clock
    names: dict[str, object] = {}
    exec(_readme_block("A receiver checks it over the raw body", "python"), names)
    assert names["verify_signature"](SECRET, header, BODY) is False  # type: ignore[operator]


def test_verify_signature_takes_spaces_and_several_v1_and_refuses_the_rest() -> None:
    good = sign(SECRET, BODY, NOW)
    t, v1 = good.split(",")
    assert verify_signature(SECRET, good, BODY, now=NOW)
    assert verify_signature(SECRET, f" {t} , v1=00 ,{v1} ", BODY, now=NOW)  # rotation
    assert not verify_signature(SECRET, f"{t},v1=00,v2={v1[3:]}", BODY, now=NOW)
    assert not verify_signature(SECRET, f"{t},{v1.upper()}", BODY, now=NOW)  # V1= is no v1=
    assert not verify_signature("another-secret-16chars", good, BODY, now=NOW)
    assert not verify_signature(SECRET, good, BODY + b" ", now=NOW)
    # A replay: inside the tolerance it verifies (the receiver drops it by its id), after not.
    assert verify_signature(SECRET, good, BODY, now=NOW + 299)
    assert not verify_signature(SECRET, good, BODY, now=NOW + 301)
    assert not verify_signature(SECRET, good, BODY, now=NOW - 301)  # from the future
    # The timestamp is signed: moving it breaks the signature, a negative one is refused.
    assert not verify_signature(SECRET, f"t={NOW + 1},{v1}", BODY, now=NOW)
    assert not verify_signature(SECRET, sign(SECRET, BODY, -NOW), BODY, now=NOW)
    # A second t= does not replace the signed one.
    assert not verify_signature(SECRET, f"t={NOW},t={NOW + 5},{v1}", BODY, now=NOW + 400)


# -- abusive configurations ---------------------------------------------------------------------


def test_an_expanded_value_is_not_expanded_again_and_stays_one_value() -> None:
    cfg = parse_notify_config(
        """
version: 1
channels:
  hook: {type: webhook, url: "https://h.example.org/x", secret: "${S}"}
routes: [{channels: [hook]}]
""",
        {"S": "${HOME}\n  evil: {type: webhook}  # ${S}", "HOME": "/root"},
    )
    (channel,) = cfg.channels.values()
    assert channel.secret == "${HOME}\n  evil: {type: webhook}  # ${S}"  # type: ignore[union-attr]
    assert list(cfg.channels) == ["hook"]


def test_an_alias_bomb_and_a_huge_file_are_refused(tmp_path: Path) -> None:
    bomb = "version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    started = time.monotonic()
    with pytest.raises(GovernanceError, match="limit"):
        parse_notify_config(bomb, {})
    with pytest.raises(GovernanceError):
        parse_notify_config("version: 1\n# " + "x" * 50_000_000, {})
    assert time.monotonic() - started < 10


def test_a_url_that_is_not_http_is_refused() -> None:
    for url in ("file:///etc/passwd", "gopher://127.0.0.1:25/", "http:/x", "//h/x"):
        with pytest.raises(GovernanceError, match=r"channels\.hook\.url"):
            parse_notify_config(
                f"""
version: 1
channels: {{hook: {{type: webhook, url: "{url}", secret: "{SECRET}"}}}}
routes: [{{channels: [hook]}}]
""",
                {},
            )


def test_the_trickling_receiver_is_slow() -> None:
    """The trickling receiver above does hold an answer longer than its lease."""
    with (
        trickling_receiver(pause=0.05, chars=30) as port,
        socket.create_connection((HOST, port)) as conn,
    ):
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        started, got = time.monotonic(), b""
        while len(got) < 70:
            chunk = conn.recv(100)
            if not chunk:
                break
            got += chunk
        assert time.monotonic() - started > 2 and got.endswith(b"x" * 30)


def test_an_smtp_password_is_never_configured_to_cross_the_network_in_clear() -> None:
    def channel(host: str, security: str) -> str:
        return f"""
version: 1
channels:
  mail: {{type: email, host: "{host}", security: {security}, from: a@example.org,
         username: u, password: "${{P}}"}}
routes: [{{channels: [mail]}}]
"""

    for host in ("smtp.example.org", "10.0.0.5", "127.0.0.1.example.org"):
        with pytest.raises(GovernanceError) as info:
            parse_notify_config(channel(host, "none"), {"P": "pa55-w0rd-x9"})
        assert [str(i) for i in info.value.issues] == [
            "channels.mail: a password is sent only over TLS: set security to starttls or tls "
            "(none is for a relay on this machine, 127.0.0.1 or localhost)"
        ]
    for host, security in [("smtp.example.org", "starttls"), ("smtp.example.org", "tls")] + [
        (h, "none") for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2")
    ]:
        assert parse_notify_config(channel(host, security), {"P": "pa55-w0rd-x9"})
