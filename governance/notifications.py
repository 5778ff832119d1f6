"""Notifications: the configuration (channels, routes, delivery policy), the webhook body's
versioned schema and its signature, and the e-mail's content. Pure: the postman
(activities/_postman.py) does the sending."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from governance._errors import GovernanceError, Issue
from governance._load import _read, _validate
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
    NotificationKind,
    NotifyConfig,
    Route,
    WebhookChannel,
    expand_env,
)
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
    return _validate(NotifyConfig, expanded, source)


def load_notify_config(path: Path, env: Mapping[str, str]) -> NotifyConfig:
    return parse_notify_config(_read(path), env, str(path))
