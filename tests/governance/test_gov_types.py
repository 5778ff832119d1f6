"""Durations, percentages, money and paths: the small value types of the model language."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import EmailStr, TypeAdapter, ValidationError

import governance as g
from governance._errors import issues_from_validation, shown
from governance._types import (
    Duration,
    Email,
    Ident,
    Line,
    ModelRef,
    Money,
    NonNegDuration,
    Percent,
    Slug,
    Text,
    Version,
)

DURATION = TypeAdapter(Duration)
NON_NEG = TypeAdapter(NonNegDuration)
PERCENT = TypeAdapter(Percent)
MONEY = TypeAdapter(Money)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P2W", timedelta(weeks=2)),
        ("PT15M", timedelta(minutes=15)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P6M", timedelta(days=180)),
        ("P1Y", timedelta(days=365)),
        ("P1Y2M3W4DT5H6M7S", timedelta(days=365 + 60 + 21 + 4, hours=5, minutes=6, seconds=7)),
        ("PT1H30M", timedelta(minutes=90)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT0.000001S", timedelta(microseconds=1)),
        ("p3d", timedelta(days=3)),
        (" P3D ", timedelta(days=3)),
        ("PT0S", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert g.parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "PT",
        "P1DT",
        "-P3D",
        "3D",
        "P3",
        "P1.5D",
        "PT1H2",
        "P2W1Y",
        "1 week",
        "P9999999999D",
    ],
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        g.parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(days=14), "P2W"),
        (timedelta(days=10), "P10D"),
        (timedelta(days=180), "P180D"),
        (timedelta(minutes=15), "PT15M"),
        (timedelta(minutes=90), "PT1H30M"),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(days=7, hours=1), "P7DT1H"),
        (timedelta(0), "PT0S"),
        (timedelta(days=-3), "-P3D"),
        (timedelta(seconds=1.5), "PT1.5S"),
        (timedelta(microseconds=1), "PT0.000001S"),
    ],
)
def test_format_duration(value: timedelta, text: str) -> None:
    assert g.format_duration(value) == text


durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=100_000))


@settings(max_examples=300, deadline=None)
@given(durations)
def test_format_then_parse_is_the_identity(value: timedelta) -> None:
    text = g.format_duration(value)
    assert g.parse_duration(text) == value
    assert "e" not in text.lower()  # never scientific notation


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 50), st.integers(0, 11), st.integers(0, 10), st.integers(0, 400),
    st.integers(0, 48), st.integers(0, 120), st.integers(0, 120),
)  # fmt: skip
def test_parse_then_format_then_parse(
    y: int, mo: int, w: int, d: int, h: int, mi: int, s: int
) -> None:
    text = f"P{y}Y{mo}M{w}W{d}DT{h}H{mi}M{s}S"
    value = g.parse_duration(text)
    assert value == timedelta(days=365 * y + 30 * mo + 7 * w + d, hours=h, minutes=mi, seconds=s)
    assert g.parse_duration(g.format_duration(value)) == value


def test_duration_field_accepts_text_and_timedelta_and_serialises_to_text() -> None:
    assert DURATION.validate_python("P2W") == timedelta(weeks=2)
    assert DURATION.validate_python(timedelta(hours=1)) == timedelta(hours=1)
    assert DURATION.dump_python(timedelta(days=21), mode="json") == "P3W"
    assert NON_NEG.validate_python("PT0S") == timedelta(0)


@pytest.mark.parametrize(
    ("adapter", "value", "shown"),
    [
        (DURATION, "-P3D", '"-P3D"'),
        (DURATION, "PT0S", '"PT0S"'),
        (DURATION, timedelta(0), '"PT0S"'),
        (DURATION, timedelta(days=-1), '"-P1D"'),
        (DURATION, 3, "3"),
        (DURATION, "three days", '"three days"'),
        (DURATION, "P99999999999D", '"P99999999999D"'),
        (NON_NEG, "-PT1M", '"-PT1M"'),
    ],
)
def test_bad_durations_say_what_they_got(
    adapter: TypeAdapter[Any], value: object, shown: str
) -> None:
    with pytest.raises(ValidationError) as info:
        adapter.validate_python(value)
    (issue,) = issues_from_validation(info.value)
    assert "ISO-8601 duration (e.g. P3D, P2W, PT15M)" in issue.message
    assert issue.message.endswith(f"got {shown}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10%", 10.0),
        (10, 10.0),
        ("10", 10.0),
        (" 2.5 % ", 2.5),
        (0, 0.0),
        ("100%", 100.0),
        (7.5, 7.5),
    ],
)
def test_percent_parses(value: object, expected: float) -> None:
    assert PERCENT.validate_python(value) == expected


@pytest.mark.parametrize(
    "value", ["-5%", -5, "101%", 100.01, "ten", "%", True, None, "nan", "inf%", [10]]
)
def test_percent_rejects(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        PERCENT.validate_python(value)
    (issue,) = issues_from_validation(info.value)
    assert issue.message.startswith("must be a percentage from 0 to 100")
    assert issue.message.count("got ") == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_000_000, Decimal(1_000_000)),
        ("1_000_000", Decimal(1_000_000)),
        ("1250.50", Decimal("1250.50")),
        (0, Decimal(0)),
        (12.5, Decimal("12.5")),
    ],
)
def test_money_parses_and_serialises_as_exact_text(value: object, expected: Decimal) -> None:
    amount = MONEY.validate_python(value)
    assert amount == expected
    assert MONEY.dump_python(amount, mode="json") == format(expected, "f")


@pytest.mark.parametrize(
    "value",
    [
        -1, "-0.01", "abc", "NaN", "Infinity", True, None, [1], {"a": 1},
        "1e999999999", 1e300, "1e15", 10**15, "0.00001", "1e-999999999",
    ],
)  # fmt: skip
def test_money_rejects_what_is_not_a_bounded_amount(value: object) -> None:
    # Bounded in digits and exponent: "1e999999999" once broke project start, and took 15 s
    # and 3 GB in model validate (the hash writes the amount out in full).
    started = time.perf_counter()
    with pytest.raises(ValidationError) as info:
        MONEY.validate_python(value)
    (issue,) = issues_from_validation(info.value)
    assert issue.message == (
        "must be a non-negative amount of at most 15 digits before the decimal point and 4 "
        f"after, got {shown(value)}"
    )
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("value", ["999999999999999.9999", 10**15 - 1, "1E+14", "0.0001"])
def test_money_accepts_up_to_fifteen_digits_and_four_decimals(value: object) -> None:
    assert MONEY.validate_python(value) == Decimal(str(value))


@pytest.mark.parametrize(
    ("adapter", "good", "bad"),
    [
        (TypeAdapter(Ident), ["a", "pre_study", "x" * 63], ["", "A", "1a", "pre-study", "x" * 64]),
        (TypeAdapter(Slug), ["a", "new-crm", "a1"], ["-a", "a-", "New", "a_b", "x" * 64]),
        (TypeAdapter(Version), ["1", "1.0", "1.2.3"], ["v1", "1.2.3.4", "", "1."]),
    ],
)
def test_identifiers(adapter: TypeAdapter[Any], good: list[str], bad: list[str]) -> None:
    for value in good:
        assert adapter.validate_python(value) == value
    for value in bad:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


@pytest.mark.parametrize(("value", "text"), [(1.1, "1.1"), (2, "2")])
def test_a_numeric_version_is_refused_with_a_hint_to_quote_it(value: object, text: str) -> None:
    # Unquoted, YAML reads version 1.10 as the number 1.1: converting it back to text gave
    # "1.1", another version. Only a string is a version.
    with pytest.raises(ValidationError) as info:
        TypeAdapter(Version).validate_python(value)
    (issue,) = issues_from_validation(info.value)
    assert issue.message == (
        'must be a version in quotes, like "1", "1.2" or "1.10", '
        f"got {text} (YAML read a number: quote it)"
    )


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        (("phases", 2, "gate", "sla"), "phases[2].gate.sla"),
        (("people", 0), "people[0]"),
        ((), "(document)"),
        (("name",), "name"),
        ((0, "id"), "[0].id"),
    ],
)
def test_format_path(loc: tuple[str | int, ...], text: str) -> None:
    assert g.format_path(loc) == text


def test_issue_prints_as_path_colon_message() -> None:
    assert (
        str(g.Issue("board.executive", 'unknown role "x"')) == 'board.executive: unknown role "x"'
    )


@pytest.mark.parametrize("version", ["1.00", "01", "1.010", "1" * 10, "1." + "2" * 200])
def test_a_version_is_short_and_has_one_spelling(version: str) -> None:
    """``1.0`` and ``1.00`` are never two versions of one model, and a version fits the
    ledger's columns and Temporal's search attributes."""
    with pytest.raises(ValidationError, match="must be a version"):
        TypeAdapter(Version).validate_python(version)
    with pytest.raises(ValidationError, match="name@version"):
        TypeAdapter(ModelRef).validate_python(f"acme@{version}")


@pytest.mark.parametrize("kind", [Text, Line])
def test_a_byte_that_is_not_utf8_is_refused_not_a_crash(kind: object) -> None:
    text = b"bad \xff byte".decode("utf-8", "surrogateescape")  # as a command line hands it
    with pytest.raises(ValidationError, match="control characters"):
        TypeAdapter(kind).validate_python(text)


@pytest.mark.parametrize(
    "value",
    [
        "anna.lind@example.com",
        "Anna.Lind@Example.COM",
        " anna@example.com ",
        "Anna Lind <anna@example.com>",
        "anna@",
        "@example.com",
        "anna@exa mple.com",
        "anna@localhost",
        "anna@[127.0.0.1]",
        "anna\n@example.com",
        "x" * 300 + "@example.com",
        "",
        5,
        None,
    ],
)
def test_an_email_is_checked_as_pydantic_s_email_str_checks_it(value: object) -> None:
    """Email loads email_validator when it first checks an address (EmailStr: when a model
    using it is defined); what it accepts, how it normalises and what it says are the same."""
    ours, theirs = TypeAdapter(Email), TypeAdapter(EmailStr)
    try:
        expected = theirs.validate_python(value)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as info:
            ours.validate_python(value)
        assert info.value.errors(include_url=False) == exc.errors(include_url=False)
    else:
        assert ours.validate_python(value) == expected


def test_an_email_has_the_json_schema_of_email_str() -> None:
    assert TypeAdapter(Email).json_schema() == TypeAdapter(EmailStr).json_schema()
    assert TypeAdapter(Email | None).json_schema() == TypeAdapter(EmailStr | None).json_schema()
