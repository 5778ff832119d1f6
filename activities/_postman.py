"""The postman: delivers the ledger's notification outbox to e-mail, webhooks and chat.

How a notification travels, and why the workflow never waits on it:

1. A step of a project workflow queues a notification with its audit events
   (``Recording.notify``); the ``record`` activity stores both in ONE ledger transaction
   (``Ledger.record``), the notification keyed by its idempotency key
   ``<chain>#<event seq>.<n>``, fixed in the workflow's history, so a retried write stores
   it once. That is all the workflow waits for: no third party is called on its path.
2. A postman, a long-lived asyncio task in every worker process (``run_worker`` starts it
   when ``PHASEGATE_NOTIFY_CONFIG`` is set), *routes* each new notification: the
   configuration's routes give its (channel, target) pairs (one per recipient's address for
   a person-addressed e-mail channel, one for a webhook or chat channel), stored as
   deliveries. Routing at delivery time rather than in the ``record`` transaction keeps a
   bad or changed configuration from ever stopping a project's chain; one delivery per
   target gives each its own retries, so a webhook that is down does not make an e-mail
   that went out go out again.
3. It *claims* due deliveries (a lease: ``claimed_until``; ``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL, SQLite's write lock otherwise, so two postmen never send the same one),
   sends them concurrently, and marks each delivered, or failed with the next attempt after
   an exponential backoff, or dead after ``max_attempts`` (``phasegate notify failed``;
   ``phasegate notify retry ID`` makes a dead letter due again).

A postman killed between sending and marking leaves its lease to expire; another (or the
restarted one) sends that delivery once more: at most one duplicate, carrying the same
idempotency key (the webhook body's ``id`` and the ``Phasegate-Idempotency-Key`` header,
the e-mail's ``Message-ID``), so the receiver can drop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

import aiosmtplib
import httpx
import structlog

from governance.notifications import (
    SIGNATURE_HEADER,
    AppriseChannel,
    EmailChannel,
    NotifyConfig,
    WebhookChannel,
    body_bytes,
    chat_text,
    email_content,
    load_notify_config,
    sign,
    webhook_body,
)
from ledger import Delivery, Ledger

log = structlog.get_logger("phasegate.postman")

IDEMPOTENCY_HEADER = "Phasegate-Idempotency-Key"


class DeliveryFailed(Exception):
    """One attempt failed; the message says why (stored as the delivery's last error)."""


def load_config(path: Path, env: Mapping[str, str]) -> NotifyConfig:
    """The configuration at ``path``, with every Apprise URL checked by Apprise itself."""
    from governance import GovernanceError, Issue

    config = load_notify_config(path, env)
    issues = [
        Issue(f"channels.{name}.urls[{i}]", "is not a URL Apprise knows")
        for name, channel in config.channels.items()
        if isinstance(channel, AppriseChannel)
        for i, url in enumerate(channel.urls)
        if not _apprise_accepts(url)
    ]
    if issues:
        raise GovernanceError(issues, str(path))
    return config


def _apprise_accepts(url: str) -> bool:
    import apprise

    return bool(apprise.Apprise().add(url))


class Postman:
    """Routes and sends one ledger's notifications; ``run`` loops until stopped."""

    def __init__(
        self,
        ledger: Ledger,
        config: NotifyConfig,
        *,
        dashboard_url: str | None = None,
        batch: int = 50,
    ) -> None:
        self._ledger = ledger
        self._config = config
        self._policy = config.delivery
        self._dashboard = dashboard_url or config.dashboard_url
        self._batch = batch
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Postman:
        self._http = httpx.AsyncClient()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; idle, look again every ``poll_seconds``. A failing
        database is logged and tried again: the postman outlives it."""
        log.info("postman.started", ledger=self._ledger.display_url)
        while not stop.is_set():
            try:
                busy = await self.deliver_due()
            except Exception as exc:  # the database went away: keep going
                log.warning("postman.error", error=f"{exc.__class__.__name__}: {exc}")
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._policy.poll_seconds)
        log.info("postman.stopped")

    async def deliver_due(self) -> int:
        """Route what is new, then send every delivery due now; the number handled."""
        handled = await self.route_new()
        while True:
            lease = timedelta(seconds=self._policy.lease_seconds)
            # Leases by the database's clock: workers' clocks may disagree.
            claimed = await asyncio.to_thread(
                self._ledger.claim_deliveries, None, lease, self._batch
            )
            if not claimed:
                return handled
            await asyncio.gather(*(self._deliver(d) for d in claimed))
            handled += len(claimed)

    async def route_new(self) -> int:
        routed = 0
        while notes := await asyncio.to_thread(self._ledger.unrouted_notifications, 200):
            for note in notes:
                m = note.message
                targets = self._config.targets(
                    note.kind, note.project_id, m.get("model"), m.get("people") or []
                )
                if not targets:
                    log.info("postman.unrouted", key=note.key, kind=note.kind)
                await asyncio.to_thread(
                    self._ledger.route_notification, note.id, targets, datetime.now(UTC)
                )
                routed += 1
        return routed

    async def _deliver(self, d: Delivery) -> None:
        try:
            await self.send(d)
        except Exception as exc:
            error = str(exc) if isinstance(exc, DeliveryFailed) else _describe(exc)
            dead = d.attempts >= self._policy.max_attempts
            then = (
                None
                if dead
                else datetime.now(UTC) + timedelta(seconds=self._policy.backoff(d.attempts))
            )
            await asyncio.to_thread(
                self._ledger.delivery_failed, d.id, error, then, attempt=d.attempts
            )
            log.warning(
                "postman.dead_letter" if dead else "postman.retry",
                delivery=d.id,
                key=d.notification.key,
                channel=d.channel,
                attempts=d.attempts,
                error=error,
                next_attempt_at=None if then is None else then.isoformat(),
            )
            return
        await asyncio.to_thread(self._ledger.delivery_sent, d.id, datetime.now(UTC))
        log.debug("postman.delivered", delivery=d.id, key=d.notification.key, channel=d.channel)

    async def send(self, d: Delivery) -> None:
        """One attempt; raises when it failed."""
        channel = self._config.channels.get(d.channel)
        if channel is None:
            raise DeliveryFailed(f"channel {d.channel!r} is no longer in the configuration")
        # httpx's and aiosmtplib's timeouts bound each read and write, not the whole send: a
        # receiver answering a byte at a time would hold it past its lease, and another
        # postman would send it again meanwhile. The channel's timeout (shorter than the
        # lease, the configuration checks) bounds the whole send; Apprise, which has none,
        # gets most of the lease (its plugins that run in a thread may still finish later).
        limit = (
            self._policy.lease_seconds * 0.8
            if isinstance(channel, AppriseChannel)
            else channel.timeout_seconds
        )
        try:
            async with asyncio.timeout(limit):
                if isinstance(channel, WebhookChannel):
                    await self._webhook(channel, d)
                elif isinstance(channel, EmailChannel):
                    await self._email(channel, d)
                else:
                    await self._apprise(channel, d)
        except TimeoutError as exc:
            raise DeliveryFailed(f"channel {d.channel!r}: no answer within {limit:g} s") from exc

    async def _webhook(self, channel: WebhookChannel, d: Delivery) -> None:
        note = d.notification
        body = body_bytes(webhook_body(note.key, note.message, note.at, self._dashboard))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "phasegate-webhook/1",
            SIGNATURE_HEADER: sign(channel.secret, body),
            IDEMPOTENCY_HEADER: note.key,
        }
        assert self._http is not None, "use the postman as an async context manager"
        try:
            response = await self._http.post(
                channel.url, content=body, headers=headers, timeout=channel.timeout_seconds
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{_shown(channel.url)}: {_describe(exc)}") from exc
        if not response.is_success:
            raise DeliveryFailed(f"{_shown(channel.url)} answered HTTP {response.status_code}")

    async def _email(self, channel: EmailChannel, d: Delivery) -> None:
        note = d.notification
        subject, text, html = email_content(note.key, note.message, note.at, self._dashboard)
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = channel.sender
        msg["To"] = d.target
        msg["Date"] = formatdate(localtime=False)
        digest = hashlib.sha256(f"{note.key}|{d.target}".encode()).hexdigest()[:32]
        msg["Message-ID"] = f"<{digest}@phasegate>"
        msg[IDEMPOTENCY_HEADER] = note.key
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        try:
            await aiosmtplib.send(
                msg,
                hostname=channel.host,
                port=channel.port,
                use_tls=channel.security == "tls",
                start_tls=channel.security == "starttls",
                username=channel.username,
                password=channel.password,
                timeout=channel.timeout_seconds,
                cert_bundle=channel.ca_file,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP {channel.host}:{channel.port}: {_describe(exc)}") from exc

    async def _apprise(self, channel: AppriseChannel, d: Delivery) -> None:
        import apprise

        note = d.notification
        title, body = chat_text(note.key, note.message, self._dashboard)
        sender = apprise.Apprise()
        for url in channel.urls:
            sender.add(url)
        if not await sender.async_notify(body=body, title=title):
            raise DeliveryFailed(f"Apprise could not notify {len(channel.urls)} URL(s)")


def _shown(url: str) -> str:
    """A URL as errors show it: no credentials, no path, no query (any of them may hold a
    token: Slack, Discord and most no-code receivers put it in the path)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    path = "/..." if parts.path.strip("/") else ""
    return f"{parts.scheme}://{host}{port}{path}"


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__
