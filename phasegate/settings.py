"""Process settings: one ``Settings`` object, read from flags, then ``PHASEGATE_*``, then defaults.

The Temporal address and the ledger URL may be left unset; they then resolve against the data
directory: the dev server that ``phasegate dev`` runs there (its state file; with none running,
``NoDevServer`` says so rather than guessing another server), and the SQLite file
``<data_dir>/ledger.db``. A blank value (``PHASEGATE_NAMESPACE=``) counts as unset.

The environment is read as pydantic-settings' ``BaseSettings`` read it (``PHASEGATE_`` and the
field's name in any case, the value as given, defaults validated), by a few lines here:
pydantic-settings took ~80 ms to import, on every command.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError, PydanticUseDefault

# SQLAlchemy and the dev-server launcher (which brings the Temporal SDK) are imported where a
# setting needs them, not here: every command reads settings, and the light ones (`model list`,
# `--help`) must start without either.

__all__ = ["LogFormat", "LogLevel", "Settings", "get_settings"]

ENV_PREFIX = "PHASEGATE_"
DEFAULT_ADDRESS = "127.0.0.1:7233"
LEDGER_DATABASES = {("sqlite", "pysqlite"), ("postgresql", "psycopg")}
"""(backend, driver) pairs the ledger runs on: SQLite, and PostgreSQL through psycopg 3."""
_DATABASE_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """,
    re.X,
)
"""SQLAlchemy's own pattern of a database URL (``sqlalchemy.engine.url._parse_url``)."""
_DEFAULT_DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg"}
"""The driver SQLAlchemy (2.1) picks for a URL that names none, for the backends a ledger runs
on; any other backend is no ledger's, whatever its driver."""
_ADDRESS = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(?P<port>[0-9]{1,5})")

_PERSON = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
"""A person id as charters write them (governance's ``Slug``; not imported: settings stay light)."""
OIDC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""Signature algorithms an identity provider's JWT may use: public-key ones only, so a key
published in the JWKS can never be used as a shared secret (``HS256`` confusion)."""

LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseModel):
    """Everything a phasegate process (CLI, worker, API) needs to find its servers.

    ``Settings(**values)``: ``values`` first, then ``PHASEGATE_<NAME>`` from the environment,
    then the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_from_environment(), **values})

    data_dir: Path = Path(".phasegate")
    """Where ``phasegate dev`` keeps the Temporal database, its log, its state file and the
    default SQLite ledger."""
    address: str | None = None
    """Temporal frontend ``host:port``; ``None`` means the dev server running for ``data_dir``."""
    namespace: str = "default"
    task_queue: str = "phasegate"
    ledger_url: str | None = None
    """SQLAlchemy URL of the ledger; ``None`` means ``sqlite:///<data_dir>/ledger.db``."""
    log_format: LogFormat = "auto"
    log_level: LogLevel = "INFO"
    pmo: tuple[str, ...] = ()
    """Person ids with portfolio-wide read access over the REST API (``PHASEGATE_PMO=anna,bo``):
    they see every project; everyone else sees the projects whose charter names them."""
    oidc_issuer: str | None = None
    """The identity provider whose JWTs the REST API accepts (their ``iss``); set together with
    ``oidc_audience`` and ``oidc_jwks_url``, or none of them (personal API tokens only)."""
    oidc_audience: str | None = None
    """The ``aud`` the JWTs must name (the API's client id at the provider)."""
    oidc_jwks_url: str | None = None
    """Where the provider publishes its signing keys (https; http only on a loopback host)."""
    oidc_person_claim: str = "sub"
    """The JWT claim that holds the person id of the charters."""
    oidc_algorithms: tuple[str, ...] = ("RS256",)
    """The signature algorithms accepted (public-key ones only), comma-separated."""
    oidc_groups_claim: str = "groups"
    """The JWT claim that lists the person's groups at the identity provider (a list of
    strings, or one string)."""
    pmo_groups: tuple[str, ...] = ()
    """OIDC groups whose members have the PMO's portfolio-wide read access
    (``PHASEGATE_PMO_GROUPS=pmo,portfolio-office``), besides the people of ``pmo``."""
    api_url: str | None = None
    """The REST API the CLI talks to instead of Temporal and the ledger, as the person of
    ``token`` (``PHASEGATE_API_URL``; https, plain http only on a loopback host); set
    together with ``token``, or neither (the CLI then works locally)."""
    token: SecretStr | None = None
    """The personal API token (or OpenID Connect token) the CLI sends to ``api_url``."""
    notify_config: Path | None = None
    """The notification configuration (YAML: channels, routes, delivery); unset, workers keep
    no outbox and notifications are only logged."""
    dashboard_url: str | None = None
    """The dashboard's base URL, for the links in notifications (over the config's own)."""
    session_secret: SecretStr | None = None
    """The key that signs the web dashboard's session cookies (``PHASEGATE_SESSION_SECRET``,
    at least 32 characters). Unset: a random key per process (with a warning), so sessions end
    when the process does and are not shared between API processes."""

    @field_validator("session_secret", mode="after")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError(
                "must be at least 32 characters (e.g. `python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`)"
            )
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # ``PHASEGATE_NAMESPACE=`` in a compose file or shell means "not set", not "empty".
        if isinstance(value, str) and not value.strip():
            raise PydanticUseDefault
        return value

    @field_validator("pmo", "oidc_algorithms", "pmo_groups", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("pmo", mode="after")
    @classmethod
    def _person_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for person in value:
            if not _PERSON.fullmatch(person):
                raise ValueError(
                    f"{person!r} is not a person id (lower-case letters, digits and inner "
                    "hyphens, as charters write them); separate ids with commas"
                )
        return value

    @field_validator("oidc_algorithms", mode="after")
    @classmethod
    def _public_key_algorithms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("name at least one algorithm, e.g. RS256")
        for name in value:
            if name not in OIDC_ALGORITHMS:
                raise ValueError(
                    f"{name!r} is not a public-key signature algorithm; use some of "
                    f"{', '.join(sorted(OIDC_ALGORITHMS))}"
                )
        return value

    @field_validator("oidc_jwks_url", mode="after")
    @classmethod
    def _jwks_url(cls, value: str | None) -> str | None:
        if value is None or _protected(value):
            return value
        raise ValueError(
            f"must be an https URL (http only on a loopback host), got {value!r}: the keys "
            "that prove who a person is must not travel unprotected"
        )

    @field_validator("api_url", mode="after")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(
                f"give the API's base URL alone (e.g. https://phasegate.example.org), got "
                f"{value!r}: no query, fragment or credentials (the token is PHASEGATE_TOKEN)"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"must be a URL with its scheme, e.g. https://phasegate.example.org or "
                f"http://127.0.0.1:8080 (what `phasegate dev` prints after web:), got {value!r}"
            )
        if not _protected(value):
            raise ValueError(
                f"must be an https URL (http only on a loopback host), got {value!r}: the "
                "token that proves who you are must not travel unprotected"
            )
        return value.rstrip("/")

    @field_validator("token", mode="before")
    @classmethod
    def _token_text(cls, value: object) -> object:
        # A token pasted with its line end still works; one with other characters than a
        # token has (or a header may carry) is refused without showing it.
        if isinstance(value, str):
            value = value.strip()
            if not (value.isascii() and value.isprintable() and " " not in value):
                raise ValueError("is not a token: printable ASCII without spaces expected")
        return value

    @model_validator(mode="after")
    def _api_whole(self) -> Self:
        if (self.api_url is None) != (self.token is None):
            missing = "PHASEGATE_TOKEN" if self.token is None else "PHASEGATE_API_URL"
            raise ValueError(
                "PHASEGATE_API_URL and PHASEGATE_TOKEN go together (with both set, the CLI "
                f"acts through the REST API as the token's person); {missing} is not set"
            )
        return self

    @model_validator(mode="after")
    def _oidc_whole(self) -> Self:
        given = {
            "oidc_issuer": self.oidc_issuer,
            "oidc_audience": self.oidc_audience,
            "oidc_jwks_url": self.oidc_jwks_url,
        }
        missing = [name for name, value in given.items() if value is None]
        if missing and len(missing) < len(given):
            raise ValueError(
                f"OpenID Connect needs oidc_issuer, oidc_audience and oidc_jwks_url together; "
                f"missing: {', '.join(missing)}"
            )
        return self

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_issuer is not None

    @field_validator("address", mode="after")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        match = _ADDRESS.fullmatch(value) if value is not None else None
        if value is not None and (match is None or not 0 < int(match["port"]) < 65536):
            raise ValueError(f"must be host:port with a port from 1 to 65535, got {value!r}")
        return value

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("ledger_url", mode="after")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is not None and database_of(value) not in LEDGER_DATABASES:
            raise PydanticCustomError(
                "ledger_url",
                "not a ledger database URL: {value}; use sqlite:///PATH/ledger.db or "
                "postgresql+psycopg://USER@HOST/DB",
                {"value": value},
            )
        return value

    def effective_address(self) -> str:
        """The Temporal address to dial: the explicit one, else the live dev server of
        ``data_dir`` (read from its state file on every call); ``NoDevServer`` without one."""
        if self.address is not None:
            return self.address
        from phasegate.devserver import NoDevServer, read_state

        state = read_state(self.data_dir)
        if state is None:
            raise NoDevServer(self.data_dir, self.namespace)
        return state.address

    def effective_ledger_url(self) -> str:
        """The ledger URL: the explicit one, else a SQLite file in ``data_dir`` (absolute path,
        escaped: a directory may contain ``?``, ``%`` or ``#``)."""
        if self.ledger_url is not None:
            return self.ledger_url
        return sqlite_url(self.data_dir / "ledger.db")


def database_of(url: str) -> tuple[str, str] | None:
    """The (backend, driver) of the database URL ``url`` as SQLAlchemy reads it
    (the name and driver of the dialect ``make_url(url).get_dialect()`` loads), for the ledger's
    backends; None for a URL SQLAlchemy would not parse. Read without SQLAlchemy, which takes
    ~0.2 s to import: every command reads its settings, and most never open the ledger.
    ``tests/cli/test_settings_database_url.py`` holds it to SQLAlchemy's answers."""
    found = _DATABASE_URL.match(url)
    if found is None:
        return None
    if found["port"] is not None:  # SQLAlchemy makes it an int, or refuses the URL
        try:
            int(found["port"])
        except ValueError:
            return None
    backend, plus, driver = str(found["name"]).partition("+")
    if "+" in driver:  # get_driver_name() says the first, but no dialect loads for it
        return None
    found_driver = driver if plus else _DEFAULT_DRIVERS.get(backend)
    return None if found_driver is None else (backend, found_driver)


def _from_environment() -> dict[str, str]:
    """The ``PHASEGATE_*`` variables that name a setting, by setting; the name's case does
    not matter (``phasegate_namespace`` too), the value is passed on as it is."""
    fields = {f"{ENV_PREFIX}{name}".lower(): name for name in Settings.model_fields}
    return {fields[key.lower()]: v for key, v in os.environ.items() if key.lower() in fields}


def _protected(url: str) -> bool:
    """An https URL, or an http one to a loopback host (nothing leaves the machine)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        return False
    if parts.scheme == "https" and host:
        return True
    return parts.scheme == "http" and bool(host) and _loopback(host or "")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sqlite_url(path: Path) -> str:
    """The SQLite URL of the file ``path`` (made absolute), as SQLAlchemy renders
    ``URL.create("sqlite", database=...)``: ``?``, ``%``, ``#`` and the like escaped."""
    from ledger import sqlite_url as of_file  # the ledger package only when a URL is made

    return of_file(str(path.resolve()))


def get_settings(**overrides: Any) -> Settings:
    """Settings with CLI flags applied: ``overrides`` > ``PHASEGATE_*`` environment > defaults.

    An override of ``None`` means "flag not given" and is ignored, so the CLI can pass every
    option through unchanged. Unknown names raise ``pydantic.ValidationError``.
    """
    return Settings(**{name: value for name, value in overrides.items() if value is not None})
