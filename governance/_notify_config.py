"""The notification configuration: channels, routes from event kinds and projects to them, and
the delivery policy. A YAML file (setting ``PHASEGATE_NOTIFY_CONFIG``), validated like the
models: every problem is reported with its path.

Secrets may be written ``${ENV_VAR}``: expanded from the environment the caller hands over,
and a variable that is not set is an error naming where it is used. Routing is pure: which
(channel, target) pairs a notification goes to, given its kind, project, model and recipients.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from governance._errors import GovernanceError, Issue, format_path
from governance._types import Email, Ident, Line, NotificationKind, Slug, Strict

EVERYONE = "*"
"""The target of a channel that addresses no one person (a webhook, a chat room)."""

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class EmailChannel(Strict):
    """E-mail over SMTP: to each recipient's own address, or to the fixed ``to`` list."""

    type: Literal["email"]
    host: Line = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls``: upgrade a plain connection (port 587); ``tls``: TLS from the start
    (port 465); ``none``: no encryption (a relay on this machine, tests)."""
    username: str | None = None
    password: str | None = None
    sender: Email = Field(alias="from")
    to: list[Email] = Field(default_factory=list)
    """Fixed addresses (a team list); empty: each recipient at their own address."""
    timeout_seconds: float = Field(30, gt=0, le=600)
    ca_file: str | None = None
    """A PEM file of the certificate authorities to trust for the server's certificate (a
    private CA); unset: the system's."""

    @model_validator(mode="after")
    def _auth_pair(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("set username and password together, or neither")
        if self.password is not None and self.security == "none" and not _loopback(self.host):
            raise ValueError(
                "a password is sent only over TLS: set security to starttls or tls "
                "(none is for a relay on this machine, 127.0.0.1 or localhost)"
            )
        return self


def _loopback(host: str) -> bool:
    """Whether ``host`` names this machine (where a password in clear stays on it)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class WebhookChannel(Strict):
    """A JSON POST signed with HMAC-SHA256 (``Phasegate-Signature``)."""

    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://[^\s/]+", description="http(s) URL")
    secret: str
    """The shared secret the receiver verifies the signature with (16 characters or more)."""
    timeout_seconds: float = Field(10, gt=0, le=600)

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        # A ValueError, not min_length: the message must not show the secret it refuses.
        if len(value) < 16:
            raise ValueError(f"must be 16 characters or more, got {len(value)} (not shown)")
        return value


class AppriseChannel(Strict):
    """Any service Apprise reaches by URL: Slack, Microsoft Teams, Mattermost, Discord, ..."""

    type: Literal["apprise"]
    urls: list[str] = Field(min_length=1)


Channel = Annotated[EmailChannel | WebhookChannel | AppriseChannel, Field(discriminator="type")]


class Route(Strict):
    """Notifications of these kinds, projects and models go to these channels; an empty
    filter matches everything. ``roles`` and ``people`` pick the recipients the route is for
    (anyone who holds one of the roles or is named); a route with neither is for all."""

    kinds: list[NotificationKind] = Field(default_factory=list)
    projects: list[Slug] = Field(default_factory=list)
    models: list[Line] = Field(default_factory=list)
    """Model names (``prince2``) or refs (``prince2@2.0``)."""
    roles: list[Ident] = Field(default_factory=list)
    people: list[Slug] = Field(default_factory=list)
    channels: list[Ident] = Field(min_length=1)
    addresses: dict[Slug, Email] = Field(default_factory=dict)
    """A person's e-mail address for this route, over the charter's ``people[].email``."""

    def matches(self, kind: str, project_id: str, model: str | None) -> bool:
        if self.kinds and kind not in self.kinds:
            return False
        if self.projects and project_id.split("/", 1)[0] not in self.projects:
            return False
        if self.models:
            name = (model or "").split("@", 1)[0]
            return any(m in (model, name) for m in self.models)
        return True

    def picks(self, person: Mapping[str, Any]) -> bool:
        if not self.roles and not self.people:
            return True
        return person["id"] in self.people or bool(set(self.roles) & set(person["roles"]))


class DeliveryPolicy(Strict):
    """Retries with exponential backoff: attempt n waits ``backoff_seconds * 2**(n-1)``, at
    most ``max_backoff_seconds``; after ``max_attempts`` the delivery is a dead letter."""

    max_attempts: int = Field(12, ge=1, le=100)
    """With the other defaults, the last attempt comes some 2.4 hours after the first: a
    receiver down for an hour loses nothing."""
    backoff_seconds: float = Field(5, gt=0, le=86400)
    max_backoff_seconds: float = Field(3600, gt=0, le=7 * 86400)
    lease_seconds: float = Field(60, gt=0, le=3600)
    """How long a postman holds a delivery it is sending; past it another may send it."""
    poll_seconds: float = Field(1, gt=0, le=60)
    """How often an idle postman looks for new notifications."""

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        return float(min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempts - 1)))


class NotifyConfig(Strict):
    """A notification configuration file (version 1)."""

    version: Literal[1]
    dashboard_url: str | None = Field(None, pattern=r"^https?://[^\s/]+")
    """The dashboard's base URL, for links (the setting ``PHASEGATE_DASHBOARD_URL`` wins)."""
    channels: dict[Ident, Channel] = Field(min_length=1)
    routes: list[Route] = Field(min_length=1)
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy)

    @model_validator(mode="after")
    def _channels_named(self) -> Self:
        lease = self.delivery.lease_seconds
        slow = [
            Issue(
                f"channels.{name}.timeout_seconds",
                f"must be shorter than delivery.lease_seconds ({lease:g}): a send that "
                "outlasts its lease could be sent by another postman meanwhile",
            )
            for name, channel in self.channels.items()
            if not isinstance(channel, AppriseChannel) and channel.timeout_seconds >= lease
        ]
        issues = slow + [
            Issue(
                format_path(["routes", i, "channels", j]),
                f'"{name}" is not a channel; the channels are {", ".join(sorted(self.channels))}',
            )
            for i, route in enumerate(self.routes)
            for j, name in enumerate(route.channels)
            if name not in self.channels
        ]
        if issues:
            raise GovernanceError(issues)
        return self

    def targets(
        self,
        kind: str,
        project_id: str,
        model: str | None,
        people: list[Mapping[str, Any]],
    ) -> list[tuple[str, str]]:
        """The (channel, target) pairs a notification goes to, each once: a person-addressed
        e-mail channel gives one per recipient with an address (the route's, else the
        charter's), every other channel one (``EVERYONE``, or each fixed address)."""
        out: dict[tuple[str, str], None] = {}
        for route in self.routes:
            if not route.matches(kind, project_id, model):
                continue
            picked = [p for p in people if route.picks(p)]
            if not picked:
                continue
            for name in route.channels:
                channel = self.channels[name]
                for target in _targets(channel, route, picked):
                    out[(name, target)] = None
        return list(out)


def _targets(channel: Any, route: Route, picked: list[Mapping[str, Any]]) -> Iterator[str]:
    if isinstance(channel, EmailChannel):
        if channel.to:
            yield from channel.to
            return
        for person in picked:
            address = route.addresses.get(person["id"]) or person.get("email")
            if address:
                yield str(address)
        return
    yield EVERYONE


def expand_env(data: Any, env: Mapping[str, str], path: list[str | int] | None = None) -> Any:
    """``data`` with every ``${NAME}`` in its strings replaced from ``env``; a name ``env``
    lacks raises ``GovernanceError`` with every such place."""
    issues: list[Issue] = []

    def walk(value: Any, loc: list[str | int]) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, [*loc, k]) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, [*loc, i]) for i, v in enumerate(value)]
        if isinstance(value, str):

            def sub(m: re.Match[str]) -> str:
                name = m.group(1)
                if name not in env:
                    issues.append(
                        Issue(format_path(loc), f"refers to ${{{name}}}, which is not set")
                    )
                    return ""
                return env[name]

            return _ENV_REF.sub(sub, value)
        return value

    out = walk(data, list(path or []))
    if issues:
        raise GovernanceError(issues)
    return out
