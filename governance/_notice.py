"""What a notification says: the versioned webhook body (one model per kind, published as JSON
Schema), the e-mail's plain text and HTML, and the HMAC-SHA256 signature of a webhook.

The webhook body, schema ``phasegate.notification/v1``::

    {"schema": "phasegate.notification/v1", "id": "apollo#12.3", "kind": "gate_opened",
     "project": {"id": "apollo", "title": "Apollo", "model": "projektflodet@1.0"},
     "subject": "...", "at": "...", "deadline": "..." | null, "url": "..." | null,
     "recipients": [{"id": "anna", "name": "Anna", "email": "...", "roles": [...]}],
     "data": {...the kind's own fields...}}

``id`` is the idempotency key: a receiver that has seen it drops the message (a postman
killed mid-delivery sends it at most once more).

The signature header, as Stripe's and GitHub's: ``Phasegate-Signature: t=<unix>,v1=<hex>``
where ``<hex>`` is HMAC-SHA256 with the channel's secret over ``"<t>.<body>"``. A receiver
recomputes it (``verify_signature``) and refuses an old ``t`` (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import time
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

SCHEMA = "phasegate.notification/v1"
SIGNATURE_HEADER = "Phasegate-Signature"
DEFAULT_TOLERANCE = 300
"""Seconds a signature's timestamp may be away from the receiver's clock."""


class _Open(BaseModel):
    """A kind's own fields; a later version may add fields, which a receiver should ignore."""

    model_config = ConfigDict(defer_build=True, extra="allow")


class DeadlineData(_Open):
    deadline: datetime | None = Field(None, description="When the answer is due.")


class EscalationData(DeadlineData):
    level: str | None = Field(None, description="The escalation level it went up to.")


class DecisionData(_Open):
    outcome: str = Field(description="approve, reject, rework, or the exception's outcome.")
    state: str | None = Field(None, description="The project's state after the decision.")


class PhaseOpenedData(_Open):
    phase: str


class StandupData(_Open):
    timebox: float | None = Field(None, description="The stand-up's timebox in seconds.")


class IterationData(_Open):
    number: int | None = None


class ChangeData(DeadlineData):
    classification: str | None = None
    outcome: str | None = None


class ExceptionData(EscalationData):
    report: int | None = Field(None, description="The exception report's number.")


class HighlightData(_Open):
    number: int
    reason: str | None = None
    rag: str | None = None


class ProjectRef(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    id: str
    title: str | None = None
    model: str | None = Field(None, description="The governance model, name@version.")


class Recipient(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    id: str
    name: str
    email: str | None = None
    roles: list[str] = Field(default_factory=list)


class _Envelope(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", populate_by_name=True)

    schema_: Literal["phasegate.notification/v1"] = Field(
        "phasegate.notification/v1", alias="schema"
    )
    id: str = Field(description="Idempotency key: the same message twice has the same id.")
    project: ProjectRef
    subject: str
    at: datetime = Field(description="When the transition that sent it happened.")
    deadline: datetime | None = Field(None, description="When what is asked is due.")
    url: str | None = Field(None, description="The project's dashboard page.")
    recipients: list[Recipient]


class GateOpened(_Envelope):
    kind: Literal["gate_opened"]
    data: DeadlineData


class Reminder(_Envelope):
    kind: Literal["reminder"]
    data: DeadlineData


class Escalation(_Envelope):
    kind: Literal["escalation"]
    data: EscalationData


class Decision(_Envelope):
    kind: Literal["decision"]
    data: DecisionData


class PhaseOpened(_Envelope):
    kind: Literal["phase_opened"]
    data: PhaseOpenedData


class ProjectNotice(_Envelope):
    kind: Literal["project"]
    data: _Open


class TaskAssigned(_Envelope):
    kind: Literal["task_assigned"]
    data: _Open


class Standup(_Envelope):
    kind: Literal["standup"]
    data: StandupData


class IterationNotice(_Envelope):
    kind: Literal["iteration"]
    data: IterationData


class ChangeNotice(_Envelope):
    kind: Literal["change"]
    data: ChangeData


class ExceptionNotice(_Envelope):
    kind: Literal["exception"]
    data: ExceptionData


class HighlightReport(_Envelope):
    kind: Literal["highlight_report"]
    data: HighlightData


WebhookBody = Annotated[
    GateOpened
    | Reminder
    | Escalation
    | Decision
    | PhaseOpened
    | ProjectNotice
    | TaskAssigned
    | Standup
    | IterationNotice
    | ChangeNotice
    | ExceptionNotice
    | HighlightReport,
    Field(discriminator="kind"),
]
"""The webhook body: one model per kind, told apart by ``kind``."""

_BODY: TypeAdapter[Any] = TypeAdapter(WebhookBody)


def webhook_schema() -> dict[str, Any]:
    """The JSON Schema of the webhook body (``phasegate notify schema`` prints it)."""
    schema = _BODY.json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA,
        "title": "phasegate notification, version 1",
        **schema,
    }


def webhook_body(
    key: str, message: dict[str, Any], at: datetime, dashboard_url: str | None
) -> BaseModel:
    """The webhook body of a stored notification (``NotifyInput`` as a dict)."""
    payload = dict(message.get("payload") or {})
    deadline = payload.get("deadline")
    return _BODY.validate_python(  # type: ignore[no-any-return]
        {
            "schema": SCHEMA,
            "id": key,
            "kind": message["kind"],
            "project": {
                "id": message["project_id"],
                "title": message.get("title"),
                "model": message.get("model"),
            },
            "subject": message["subject"],
            "at": at,
            "deadline": deadline,
            "url": project_url(dashboard_url, message["project_id"]),
            "recipients": message.get("people") or [],
            "data": payload,
        }
    )


def body_bytes(body: BaseModel) -> bytes:
    """The body as sent and signed: compact JSON, UTF-8."""
    return body.model_dump_json(by_alias=True).encode()


def project_url(base: str | None, project_id: str) -> str | None:
    if not base:
        return None
    return f"{base.rstrip('/')}/projects/{project_id}"


# -- signing ------------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Phasegate-Signature`` header value for ``body``: ``t=<unix>,v1=<hex>``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> bool:
    """True when ``header`` (``t=<unix>,v1=<hex>[,v1=<hex>...]``) signs exactly ``body``
    with ``secret`` and its timestamp is within ``tolerance`` seconds of ``now`` (a replay
    of an old message is refused). Compares in constant time; never raises on bad input."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(name, []).append(value)
    stamp = parts.get("t", [""])[0]
    # Only ASCII digits (int() also takes "+1", "1_0" and other scripts' digits), and few
    # enough that the difference with a float clock cannot overflow.
    if not (stamp.isascii() and stamp.lstrip("-").isdigit() and len(stamp) <= 12):
        return False
    t = int(stamp)
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
    expected = mac.hexdigest().encode()
    # compare_digest raises TypeError on a str with non-ASCII characters: compare bytes.
    return any(hmac.compare_digest(expected, given.encode()) for given in parts.get("v1", []))


# -- e-mail -------------------------------------------------------------------------------------

_ASKS = {
    "gate_opened": "A gate awaits your decision.",
    "reminder": "This still awaits your answer.",
    "escalation": "This was escalated to you: it awaits your decision.",
    "decision": "A decision was taken.",
    "task_assigned": "A task is assigned to you.",
    "exception": "An exception awaits a decision.",
    "change": "A change request needs you.",
}


def email_content(
    key: str, message: dict[str, Any], at: datetime, dashboard_url: str | None
) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a notification's e-mail: what is asked, by when, and
    the link to the project's dashboard page."""
    payload: dict[str, Any] = dict(message.get("payload") or {})
    title = message.get("title") or message["project_id"]
    subject = f"[phasegate] {message['subject']}"
    asked = _ASKS.get(message["kind"], "For your information.")
    rows: list[tuple[str, str]] = [("Project", f"{title} ({message['project_id']})")]
    if payload.get("deadline"):
        rows.append(("By when", _when(payload["deadline"])))
    for name in ("outcome", "state", "level", "phase", "classification", "reason", "rag"):
        if payload.get(name) is not None:
            rows.append((name.capitalize(), str(payload[name])))
    rows.append(("When", _when(at.isoformat())))
    url = project_url(dashboard_url, message["project_id"])
    text = [message["subject"], "", asked, ""]
    text += [f"{label}: {value}" for label, value in rows]
    if url:
        text += ["", f"Open it: {url}"]
    text += ["", f"Reference: {key}", "-- phasegate"]
    esc = html.escape
    cells = "".join(
        f"<tr><th align='left' style='padding-right:1em'>{esc(label)}</th>"
        f"<td>{esc(value)}</td></tr>"
        for label, value in rows
    )
    link = f"<p><a href='{esc(url, quote=True)}'>Open it in phasegate</a></p>" if url else ""
    body = (
        "<!DOCTYPE html><html><body style='font-family:sans-serif'>"
        f"<h2>{esc(message['subject'])}</h2><p><strong>{esc(asked)}</strong></p>"
        f"<table>{cells}</table>{link}"
        f"<p style='color:#777;font-size:small'>Reference: {esc(key)}</p></body></html>"
    )
    return subject, "\n".join(text) + "\n", body


def _when(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.strftime("%A %d %B %Y, %H:%M %Z").strip()


def chat_text(key: str, message: dict[str, Any], dashboard_url: str | None) -> tuple[str, str]:
    """(title, body) for a chat channel (Apprise)."""
    payload: dict[str, Any] = dict(message.get("payload") or {})
    lines = [_ASKS.get(message["kind"], "")]
    if payload.get("deadline"):
        lines.append(f"By {_when(payload['deadline'])}")
    names = ", ".join(p["name"] for p in message.get("people") or [])
    if names:
        lines.append(f"For {names}")
    url = project_url(dashboard_url, message["project_id"])
    if url:
        lines.append(url)
    lines.append(f"ref {key}")
    return message["subject"], "\n".join(line for line in lines if line)
