"""Small value types of the model language: identifiers, text, ISO-8601 durations, dates,
percentages, money, currencies."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from governance._errors import shown


class Strict(BaseModel):
    """Base of every model-language class: unknown keys are errors, values are frozen. Its
    validator is built when first used (``defer_build``: see ``messages.Message``)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


def got(value: Any) -> str:
    """``value`` for a message; a number or boolean where text belongs gets a hint to quote it
    (YAML reads ``2027`` or ``1.10`` unquoted as numbers)."""
    if isinstance(value, bool | int | float):
        return f"{shown(value)} (YAML read a number: quote it)"
    return shown(value)


# -- identifiers ------------------------------------------------------------------------------

_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_VERSION = re.compile(r"^(?:0|[1-9][0-9]{0,8})(?:\.(?:0|[1-9][0-9]{0,8})){0,2}$")
"""Up to three numbers of at most nine digits, without leading zeros: ``1.0`` and ``1.00``
are never two versions of one model."""


def _ident(value: Any) -> Any:
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise PydanticCustomError(
            "identifier",
            "must be a lower-case identifier (a letter, then letters, digits or _), got {value}",
            {"value": got(value)},
        )
    return value


def _slug(value: Any) -> Any:
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise PydanticCustomError(
            "slug",
            "must be a slug (lower-case letters, digits and inner hyphens, at most 63), "
            "got {value}",
            {"value": got(value)},
        )
    return value


def _version(value: Any) -> Any:
    # A number is refused, not converted: YAML reads an unquoted 1.10 as 1.1.
    if not isinstance(value, str) or not _VERSION.fullmatch(value):
        raise PydanticCustomError(
            "version",
            'must be a version in quotes, like "1", "1.2" or "1.10", got {value}',
            {"value": got(value)},
        )
    return value


Ident = Annotated[str, BeforeValidator(_ident)]
"""Ids of roles, phases, levels: usable as state names and in mermaid diagrams."""
Slug = Annotated[str, BeforeValidator(_slug)]
"""Project and person ids: usable in workflow ids (``project-<slug>``)."""
Version = Annotated[str, BeforeValidator(_version)]

# A model reference, "name@version": what a charter names its model by.
_NUMBER = r"(?:0|[1-9][0-9]{0,8})"
_REF = re.compile(rf"^([a-z][a-z0-9_]{{0,62}})@({_NUMBER}(?:\.{_NUMBER}){{0,2}})$")


def _model_ref(value: Any) -> Any:
    if not isinstance(value, str) or not _REF.fullmatch(value):
        raise PydanticCustomError(
            "model_ref",
            'must name a governance model as "name@version" (e.g. "projektflodet@1.0"), '
            "got {value}",
            {"value": shown(value)},
        )
    return value


ModelRef = Annotated[str, BeforeValidator(_model_ref)]


def split_ref(ref: str) -> tuple[str, str]:
    name, _, version = ref.partition("@")
    return name, version


def is_model_ref(text: str) -> bool:
    """Whether ``text`` names a model (``prince2``, ``prince2@2.0``) rather than a file path."""
    return _REF.fullmatch(text if "@" in text else f"{text}@0") is not None


# -- free text ---------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
"""Surrogates too: a byte that is not UTF-8 arrives as one (from a command line) and cannot
be stored or sent on."""


def _no_control(pattern: re.Pattern[str], allowed: str) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, str):
            found = pattern.search(value)
            if found is not None:
                raise PydanticCustomError(
                    "control_character",
                    "must not contain control characters{allowed}: found {char} at position {pos}",
                    {
                        "allowed": allowed,
                        "char": f"U+{ord(found.group()):04X}",
                        "pos": found.start(),
                    },
                )
        return value

    return check


Text = Annotated[str, BeforeValidator(_no_control(_CONTROL, " (other than newline and tab)"))]
"""Free text (comments, descriptions): newline and tab allowed, no other control character
(a NUL breaks PostgreSQL; escape sequences rewrite a terminal)."""
Line = Annotated[str, BeforeValidator(_no_control(_CONTROL_LINE, ""))]
"""One line of text (titles, names, actors): no control character at all."""


# -- ISO-8601 durations -----------------------------------------------------------------------

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
DAYS_PER_MONTH = 30
DAYS_PER_YEAR = 365
MAX_YEARS = 100
MAX_DURATION = timedelta(days=MAX_YEARS * DAYS_PER_YEAR)
"""The longest duration the model language takes: deadlines are dates, and a date runs out in
the year 9999 (``P10000Y`` would pass validation and break the project that uses it)."""


def parse_duration(text: str) -> timedelta:
    """Parse ``P2W``, ``P3D``, ``PT15M``, ``P6M`` (a month is 30 days, a year 365).

    Raises ``ValueError`` for anything else, including negative durations.
    """
    match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(text)
    g = {k: int(v or 0) for k, v in match.groupdict().items() if k != "s"}
    # Seconds may carry a fraction: count it in whole microseconds, exactly (no float).
    micros = (Decimal(match["s"] or 0) * 1_000_000).to_integral_value()
    try:
        return timedelta(
            days=g["y"] * DAYS_PER_YEAR + g["mo"] * DAYS_PER_MONTH + g["w"] * 7 + g["d"],
            hours=g["h"],
            minutes=g["mi"],
            microseconds=int(micros),
        )
    except OverflowError:  # beyond timedelta's 999 999 999 days: not a duration we can hold
        raise ValueError(text) from None


def format_duration(value: timedelta) -> str:
    """The shortest ISO-8601 text for a duration: ``P14D`` -> ``P2W``, 90 min -> ``PT1H30M``."""
    # Integer arithmetic on the timedelta's own fields: a float would lose microseconds on
    # long durations, and "%g" would write 1e-06 (not ISO-8601) for a microsecond.
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    days, micros = value.days, value.microseconds
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if days and not (value.seconds or micros) and days % 7 == 0:
        return f"{sign}P{days // 7}W"
    out = f"{sign}P" + (f"{days}D" if days else "")
    second_text = f"{seconds}.{micros:06d}".rstrip("0") if micros else str(seconds)
    clock = (
        (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes else "")
        + (f"{second_text}S" if seconds or micros else "")
    )
    if clock:
        out += "T" + clock
    return out if out not in {"P", "-P"} else "PT0S"


def _duration_validator(*, allow_zero: bool, at_least: timedelta | None = None) -> Any:
    what = "a non-negative" if allow_zero else "a positive"

    def validate(value: Any) -> timedelta:
        if isinstance(value, timedelta):
            parsed: timedelta | None = value
        else:
            try:
                parsed = parse_duration(value)
            except (ValueError, TypeError, AttributeError):
                parsed = None
        text = format_duration(value) if isinstance(value, timedelta) else value
        if parsed is None or parsed < timedelta(0) or (not allow_zero and not parsed):
            raise PydanticCustomError(
                "duration",
                f"must be {what} ISO-8601 duration (e.g. P3D, P2W, PT15M), got {{value}}",
                {"value": shown(text)},
            )
        if parsed > MAX_DURATION:
            raise PydanticCustomError(
                "duration_too_long",
                f"must be at most P{MAX_YEARS}Y ({MAX_DURATION.days} days), got {{value}}",
                {"value": shown(text)},
            )
        if at_least is not None and parsed < at_least:
            raise PydanticCustomError(
                "duration",
                "must be at least {least}, got {value}",
                {"least": format_duration(at_least), "value": shown(text)},
            )
        return parsed

    return validate


_DURATION_SCHEMA = WithJsonSchema({"type": "string", "format": "duration", "pattern": "^P"})
_AS_TEXT = PlainSerializer(format_duration, return_type=str)
Duration = Annotated[
    timedelta, BeforeValidator(_duration_validator(allow_zero=False)), _AS_TEXT, _DURATION_SCHEMA
]
"""A positive ISO-8601 duration; serialised back to ISO-8601 text."""
NonNegDuration = Annotated[
    timedelta, BeforeValidator(_duration_validator(allow_zero=True)), _AS_TEXT, _DURATION_SCHEMA
]
MIN_SLA = timedelta(minutes=1)
Sla = Annotated[
    timedelta,
    BeforeValidator(_duration_validator(allow_zero=False, at_least=MIN_SLA)),
    _AS_TEXT,
    _DURATION_SCHEMA,
]
"""Time to decide: at least a minute (a shorter one escalates before anyone can answer)."""


# -- dates -------------------------------------------------------------------------------------

_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _day(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    reason = ""
    if isinstance(value, str) and _DAY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:  # 2027-02-30: "day is out of range for month"
            reason = f" ({exc})"
    raise PydanticCustomError(
        "date",
        "must be a calendar date as YYYY-MM-DD{reason}, got {value}",
        {"reason": reason, "value": shown(value)},
    )


Day = Annotated[date, BeforeValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]
"""A calendar date written ``2027-01-11`` (never a number, a timestamp or a date-time)."""


# -- percentages and money --------------------------------------------------------------------


def _percent(value: Any) -> Any:
    number: float | None
    try:
        if isinstance(value, str):
            text = value.strip()
            number = float(text[:-1].strip() if text.endswith("%") else text)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            number = None
    except ValueError:
        number = None
    if number is None or not 0 <= number <= 100:
        raise PydanticCustomError(
            "percent",
            'must be a percentage from 0 to 100 (e.g. 10 or "10%"), got {value}',
            {"value": shown(value)},
        )
    return number


Percent = Annotated[
    float,
    BeforeValidator(_percent),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": "%$"}]}),
]


MONEY_DIGITS = 15
MONEY_DECIMALS = 4
_SMALLEST_UNIT = Decimal(1).scaleb(-MONEY_DECIMALS)


def _money(value: Any) -> Any:
    amount: Decimal | None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            amount = None
        elif isinstance(value, int | Decimal):
            amount = Decimal(value)
        else:
            amount = Decimal(str(value).replace("_", "").strip())
    except ArithmeticError:
        amount = None
    # Bounded in digits and exponent: "1e999999999" would otherwise be a billion digits
    # long once written out (in a hash, a report, a ledger row).
    if (
        amount is None
        or not amount.is_finite()
        or amount < 0
        or (amount and amount.adjusted() >= MONEY_DIGITS)
        or amount.quantize(_SMALLEST_UNIT) != amount
    ):
        raise PydanticCustomError(
            "money",
            "must be a non-negative amount of at most {digits} digits before the decimal "
            "point and {decimals} after, got {value}",
            {"digits": MONEY_DIGITS, "decimals": MONEY_DECIMALS, "value": shown(value)},
        )
    return amount


Money = Annotated[
    Decimal,
    BeforeValidator(_money),
    PlainSerializer(lambda d: format(d, "f"), return_type=str),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}]}),
]


# -- currencies and e-mail addresses ----------------------------------------------------------


@functools.cache
def iso_4217() -> frozenset[str]:
    """The ISO 4217 currency codes, from pycountry's database: read on first use, not when
    governance is imported (pycountry and its database cost a command that checks no charter
    ~40 ms). A worker reads it before its first workflow task (``load_lookups``), so that a
    charter validated inside the workflow sandbox finds it read."""
    import pycountry

    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def _currency(value: Any) -> Any:
    if value not in iso_4217():
        raise PydanticCustomError(
            "currency",
            "must be an ISO 4217 currency code in capitals (e.g. EUR, SEK, USD), got {value}",
            {"value": shown(value)},
        )
    return value


Currency = Annotated[
    str, BeforeValidator(_currency), WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$"})
]
"""An ISO 4217 currency code, checked against pycountry's list."""


def _email(value: str) -> str:
    # pydantic's own check, the one EmailStr runs; it imports email_validator on first use,
    # where EmailStr imports it when a model using it is defined (~30 ms for every command).
    from pydantic.networks import validate_email

    return validate_email(value)[1]


Email = Annotated[
    str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})
]
"""An e-mail address, checked and normalised as pydantic's ``EmailStr`` does (same errors, same
JSON Schema), with ``email_validator`` loaded when an address is first checked."""


NotificationKind = Literal[
    "gate_opened",
    "reminder",
    "escalation",
    "decision",
    "phase_opened",
    "project",
    "task_assigned",
    "standup",
    "iteration",
    "change",
    "exception",
    "highlight_report",
]
"""The kinds of notification a project sends (``NotifyInput.kind``)."""
