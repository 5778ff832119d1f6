"""Notifications: the configuration (channels, routes, delivery policy), the webhook body's
versioned schema and its signature, and the e-mail's content. Pure: the postman
(activities/_postman.py) does the sending."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from governance._errors import GovernanceError, Issue, issues_from_validation
from governance._load import _read
from governance._notice import (
    DEFAULT_TOLERANCE,
    SCHEMA,
    SIGNATURE_HEADER,
    WebhookBody,
    body_bytes,
    chat_text,
    email_content,
    project_url,
    sign,
    verify_signature,
    webhook_body,
    webhook_schema,
)
from governance._notify_config import (
    EVERYONE,
    AppriseChannel,
    DeliveryPolicy,
    EmailChannel,
    NotifyConfig,
    Route,
    WebhookChannel,
    expand_env,
)
from governance._types import NotificationKind
from governance._yaml import read_yaml

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVERYONE",
    "SCHEMA",
    "SIGNATURE_HEADER",
    "AppriseChannel",
    "DeliveryPolicy",
    "EmailChannel",
    "NotificationKind",
    "NotifyConfig",
    "Route",
    "WebhookBody",
    "WebhookChannel",
    "body_bytes",
    "chat_text",
    "email_content",
    "load_notify_config",
    "parse_notify_config",
    "project_url",
    "sign",
    "verify_signature",
    "webhook_body",
    "webhook_schema",
]


def parse_notify_config(
    data: str | bytes | dict[str, Any], env: Mapping[str, str], source: str = "<notify config>"
) -> NotifyConfig:
    """A configuration from YAML text (or parsed data), ``${VAR}`` expanded from ``env``;
    ``GovernanceError`` lists every problem with its path."""
    if not isinstance(data, dict):
        data = read_yaml(data, source)
    if not isinstance(data, dict):
        raise GovernanceError([Issue("(document)", "must be a mapping of keys to values")], source)
    try:
        expanded = expand_env(data, env)
    except GovernanceError as exc:
        raise GovernanceError(exc.issues, source) from None
    try:
        return NotifyConfig.model_validate(expanded)
    except ValidationError as exc:
        issues = issues_from_validation(exc, NotifyConfig, secret=("secret", "password"))
        raise GovernanceError([_untagged(i) for i in issues], source) from None
    except GovernanceError as exc:
        raise GovernanceError(exc.issues, source) from None


_TAGS = tuple(f".{t}" for t in ("email", "webhook", "apprise"))


def _untagged(issue: Issue) -> Issue:
    """``channels.mail.email.from`` -> ``channels.mail.from``: pydantic names the channel's
    type (the union's tag) in the path; the file does not."""
    if not issue.path.startswith("channels."):
        return issue
    head, _, rest = issue.path[len("channels.") :].partition(".")
    for tag in _TAGS:
        if f".{rest}".startswith(tag) and (len(rest) == len(tag) - 1 or rest[len(tag) - 1] == "."):
            rest = rest[len(tag) :]
            return Issue(f"channels.{head}{'.' if rest else ''}{rest}", issue.message)
    return issue


def load_notify_config(path: Path, env: Mapping[str, str]) -> NotifyConfig:
    return parse_notify_config(_read(path), env, str(path))
