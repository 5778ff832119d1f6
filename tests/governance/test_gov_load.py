"""Reading YAML: the 1.2 core schema's meanings, merge keys, and what stays accepted."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import date

import pytest

import governance as g
from tests.governance.gov_cases import (
    PF_CHARTER,
    PF_CHARTER_TEXT,
    PF_MODEL,
    dump,
    edit_text,
    person,
)


def test_plain_scalars_mean_what_yaml_1_2_says() -> None:
    data = g.read_yaml(
        "a: off\nb: yes\nc: 2027-01-11\nd: 1:30\ne: 1_000\nf: 0o17\ng: 0x1F\nh: 1.10\n"
        "i: true\nj: ~\nk:\nl: -.inf\nm: '010'\n"
    )
    assert data == {
        "a": "off", "b": "yes", "c": "2027-01-11", "d": "1:30", "e": "1_000", "f": 15,
        "g": 31, "h": 1.1, "i": True, "j": None, "k": None, "l": float("-inf"), "m": "010",
    }  # fmt: skip


def test_a_role_called_off_stays_a_role_called_off() -> None:
    # YAML 1.1 read the role id `off` as false, and the model then refused the boolean.
    text = edit_text("id: pmo", "id: off", dump(PF_MODEL))
    assert "off" in {r.id for r in g.parse_model(text).roles}


def test_a_merge_key_with_an_explicit_override_is_accepted() -> None:
    data = g.read_yaml(
        "base: &base {sla: P10D, reminder: P7D, rule: all}\n"
        "strict: &strict {rule: majority, on_reject: back}\n"
        "gate: {<<: [*strict, *base], reminder: P5D}\n"
    )
    # Explicit keys win over merged ones; of the merged mappings the first one listed wins.
    assert data["gate"] == {
        "sla": "P10D", "reminder": "P5D", "rule": "majority", "on_reject": "back",
    }  # fmt: skip
    with pytest.raises(g.GovernanceError) as info:
        g.read_yaml("gate: {<<: {a: 1}, b: 1, b: 2}\n")
    assert [str(i) for i in info.value.issues] == [
        'line 1, column 26: not valid YAML: duplicate key "b"'
    ]


def test_a_model_written_with_anchors_and_merge_keys_validates() -> None:
    # Every gate takes its SLA, reminder and escalation from one anchor; the benefits gate
    # keeps its own longer SLA and reminder (explicit keys override merged ones).
    text = dump(PF_MODEL)
    for old in ("    sla: P10D\n", "    reminder: P7D\n", "    escalate_to: portfolio\n"):
        text = text.replace(old, "")
    text = text.replace("  gate:\n", "  gate:\n    <<: *gate\n")
    text = text.replace("  formal:\n", "  formal:\n    <<: *gate\n")  # the formal change rule
    assert text.count("<<: *gate") == 7
    anchor = "gate_defaults: &gate {sla: P10D, reminder: P7D, escalate_to: portfolio}\n"
    data = g.read_yaml(anchor + text)
    del data["gate_defaults"]
    model = g.parse_model(data)
    assert {p.gate.escalate_to for p in model.phases} == {"portfolio"}
    assert model.change_rule().escalate_to == "portfolio"
    slas = [g.format_duration(p.gate.sla) for p in model.phases]
    assert slas == ["P10D"] * 5 + ["P30D"]
    assert model.content_hash() == g.builtin_models()["projektflodet"].content_hash()


def test_dates_are_calendar_dates_written_as_text() -> None:
    charter = g.parse_charter(PF_CHARTER_TEXT)
    assert (charter.baseline.start, charter.baseline.planned_end) == (
        date(2027, 1, 11),
        date(2027, 9, 30),
    )
    leap = edit_text("planned_end: 2027-09-30", "planned_end: 2028-02-29", PF_CHARTER_TEXT)
    assert g.parse_charter(leap).baseline.planned_end == date(2028, 2, 29)


def test_e_mail_addresses_and_currencies_are_checked_by_their_libraries() -> None:
    data = copy.deepcopy(PF_CHARTER)
    person(data, "anna")["email"] = "anna.lind@Example.COM"
    data["baseline"]["currency"] = "CHF"
    charter = g.parse_charter(data)
    assert charter.people[0].email == "anna.lind@example.com"  # the domain normalised
    assert charter.baseline.currency == "CHF"


def test_text_fields_keep_newlines_and_tabs_one_line_fields_do_not() -> None:
    data = copy.deepcopy(PF_CHARTER)
    data["description"] = "Two lines:\n\tindented"
    data["waivers"] = [{"rule": "tolerances", "reason": "First.\nSecond.", "granted_by": "anna"}]
    charter = g.parse_charter(data)
    assert charter.description == "Two lines:\n\tindented"
    data["title"] = "Nytt\tCRM"
    with pytest.raises(g.GovernanceError) as info:
        g.parse_charter(data)
    assert [i.path for i in info.value.issues] == ["title"]


def test_a_duplicate_among_thirty_thousand_people_is_found() -> None:
    # The duplicate check compared each person with all before it: 60,000 people took 8 s
    # (bench/bench_governance.py times it against a charter with no duplicate).
    data = copy.deepcopy(PF_CHARTER)
    data["people"] += [{"id": f"p{i}", "name": "P", "roles": ["teamledare"]} for i in range(30_000)]
    data["people"].append({"id": "anna", "name": "Anna again", "roles": ["bestallare"]})
    with pytest.raises(g.GovernanceError) as info:
        g.parse_charter(data)
    assert [str(i) for i in info.value.issues] == ['people[30007].id: duplicate person "anna"']


LOOKUPS = ("pycountry", "email_validator", "holidays", "governance.messages")


def test_reading_the_built_in_models_loads_no_lookup_table_and_no_messages() -> None:
    """`model list` and `model validate` start without them: a model's calendar country is
    found in the holidays library's table without importing the library; pycountry's
    currencies and the e-mail checker are loaded when a charter is first checked, or all at
    once by ``load_lookups`` (as a worker does before its first workflow task)."""
    code = (
        f"import json, sys, governance as g; seen = lambda: [m for m in {LOOKUPS!r} "
        "if m in sys.modules]; g.builtin_models(); before = seen(); g.load_lookups(); "
        "print(json.dumps([before, seen()]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [[], ["pycountry", "email_validator"]]


def test_a_charter_is_checked_with_the_lookups_loaded_on_first_use() -> None:
    """In a fresh interpreter, where nothing loaded pycountry or email_validator first."""
    code = (
        "import json, sys, governance as g\n"
        "text = sys.stdin.read()\n"
        "c = g.parse_charter(text)\n"
        "bad = text.replace('currency: SEK', 'currency: XYZ')\n"
        "try:\n    g.parse_charter(bad)\nexcept g.GovernanceError as exc:\n"
        "    print(json.dumps([c.baseline.currency, [str(i) for i in exc.issues]]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=PF_CHARTER_TEXT,
        capture_output=True,
        text=True,
        check=True,
    )
    currency, issues = json.loads(out.stdout)
    assert currency == "SEK"
    assert len(issues) == 1 and issues[0].startswith("baseline.currency: must be an ISO 4217")
