"""Broken governance models and charters, one mistake each, with the exact issue each must raise.

Each case starts from a document that validates (a built-in model or an example charter), makes
one mistake and names the field path and the key words of the message it must produce. Both the
library tests (``test_gov_broken.py``) and the CLI tests (``tests/cli/test_cli_model.py``) run
every case, so a message and its CLI line cannot drift apart.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

import governance as g

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ROOT / "governance" / "builtin"
EXAMPLES = ROOT / "examples"

PF_MODEL_TEXT = (BUILTIN / "projektflodet.yaml").read_text(encoding="utf-8")
PF_MODEL = yaml.safe_load(PF_MODEL_TEXT)
P2_MODEL = yaml.safe_load((BUILTIN / "prince2.yaml").read_text(encoding="utf-8"))
PF_CHARTER = yaml.safe_load((EXAMPLES / "projektflodet-charter.yaml").read_text(encoding="utf-8"))
P2_CHARTER = yaml.safe_load((EXAMPLES / "prince2-charter.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Broken:
    id: str
    kind: Literal["model", "charter"]
    text: str
    """The document under test, as YAML text (written to ``case.yaml``)."""
    path: str
    """The exact path of the issue the mistake must raise."""
    words: tuple[str, ...]
    """Fragments that must all appear in that issue's message."""
    issues: int = 1
    """How many issues the document has in all (a mistake must not drown in noise)."""
    files: dict[str, str] = field(default_factory=dict)
    """Other files written beside ``case.yaml`` (e.g. a model the charter names)."""
    model: str | None = None
    """Passed as ``--model`` to ``charter validate`` (a file name among ``files``)."""
    exact: bool = False
    """``words`` is the issue's whole message (the crafted cases pin it exactly)."""


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def changed(base: dict[str, Any], edit: Callable[[dict[str, Any]], object]) -> str:
    data = copy.deepcopy(base)
    edit(data)
    return dump(data)


def gate(d: dict[str, Any], i: int) -> dict[str, Any]:
    gate_: dict[str, Any] = d["phases"][i]["gate"]
    return gate_


def person(d: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in d["people"] if p["id"] == pid)


def _dup_key_text() -> tuple[str, int]:
    anchor = "title: Projektflödet\n"
    text = PF_MODEL_TEXT.replace(anchor, anchor + 'version: "2.0"\n', 1)
    line = text[: text.index(anchor)].count("\n") + 2
    return text, line


_DUP_TEXT, _DUP_LINE = _dup_key_text()
_BIG_TEXT = PF_MODEL_TEXT + "# " + "x" * 1_000_000 + "\n"
_BIG_SIZE = len(_BIG_TEXT.encode())
_WAIVER = {"reason": "The regulator requires one single cut-over.", "granted_by": "anna"}


def _rename_closure(d: dict[str, Any], new: str) -> None:
    """Rename the closure phase (phases[4]) and the closing_phase that names it: one mistake."""
    d["phases"][4]["id"] = d["closing_phase"] = new


MODEL_CASES = [
    Broken(
        "negative-sla",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 2).update(sla="-P3D")),
        "phases[2].gate.sla",
        ("must be a positive ISO-8601 duration", 'got "-P3D"'),
    ),
    Broken(
        "zero-sla",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 1).update(sla="PT0S")),
        "phases[1].gate.sla",
        ("must be a positive ISO-8601 duration", 'got "PT0S"'),
    ),
    Broken(
        "typo-aprovers",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 0).update(aprovers=gate(d, 0).pop("approvers"))),
        "phases[0].gate.aprovers",
        ("unknown key", 'did you mean "approvers"?'),
        issues=2,  # and phases[0].gate.approvers: is required
    ),
    Broken(
        "duplicate-yaml-key",
        "model",
        _DUP_TEXT,
        f"line {_DUP_LINE}, column 1",
        ("not valid YAML", 'duplicate key "version"'),
    ),
    Broken(
        "unknown-approver-role",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 1)["approvers"].append("ceo")),
        "phases[1].gate.approvers[3]",
        ('unknown role "ceo"', "declared roles: bestallare, leverantor, mottagare"),
    ),
    Broken(
        "required-not-approver",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 1)["required"].append("pmo")),
        "phases[1].gate.required[1]",
        ('"pmo" must also be one of the approvers',),
    ),
    Broken(
        "unknown-consult-role",
        "model",
        changed(P2_MODEL, lambda d: gate(d, 0)["consult"].append("ceo")),
        "phases[0].gate.consult[2]",
        ('unknown role "ceo"', "declared roles: corporate, executive"),
    ),
    Broken(
        "consult-also-approver",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 1).update(consult=["teamledare", "mottagare"])),
        "phases[1].gate.consult[1]",
        ('"mottagare" is one of the approvers', "an adviser's vote is not counted"),
    ),
    Broken(
        "formal-consult-also-approver",
        "model",
        changed(P2_MODEL, lambda d: d["change_control"]["formal"]["consult"].append("executive")),
        "change_control.formal.consult[2]",
        ('"executive" is one of the approvers', "either decides or advises"),
    ),
    Broken(
        "required-only-advises",
        "model",
        changed(P2_MODEL, lambda d: gate(d, 3)["required"].append("senior_user")),
        "phases[3].gate.required[1]",
        ('"senior_user" only advises (consult)', "must be one of the approvers"),
    ),
    Broken(
        "duplicate-consult",
        "model",
        changed(P2_MODEL, lambda d: gate(d, 1)["consult"].append("senior_user")),
        "phases[1].gate.consult",
        ('role "senior_user" is listed twice',),
    ),
    Broken(
        "duplicate-approver",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 1)["approvers"].append("mottagare")),
        "phases[1].gate.approvers",
        ('role "mottagare" is listed twice',),
    ),
    Broken(
        "executive-not-a-role",
        "model",
        changed(PF_MODEL, lambda d: d["board"].update(executive="boss")),
        "board.executive",
        ('unknown role "boss"', "declared roles"),
        issues=2,  # and board.members: must include the executive "boss"
    ),
    Broken(
        "executive-not-board-member",
        "model",
        changed(PF_MODEL, lambda d: d["board"].update(members=["mottagare", "leverantor"])),
        "board.members",
        ('must include the executive "bestallare"',),
    ),
    Broken(
        "reminder-after-sla",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 0).update(reminder="P12D")),
        "phases[0].gate.reminder",
        ("must come before the SLA passes",),
    ),
    Broken(
        "iterative-without-policy",
        "model",
        changed(PF_MODEL, lambda d: d["phases"][3].pop("iteration")),
        "phases[3].iteration",
        ("an iterative phase needs an iteration policy",),
    ),
    Broken(
        "policy-on-non-iterative-phase",
        "model",
        changed(PF_MODEL, lambda d: d["phases"][2].update(iteration={"length": "P2W"})),
        "phases[2].iteration",
        ("only an iterative phase has an iteration policy",),
    ),
    Broken(
        "iteration-too-long",
        "model",
        changed(PF_MODEL, lambda d: d["phases"][3]["iteration"].update(length="P8W")),
        "phases[3].iteration.length",
        ("must lie between min_length (P2W) and max_length (P6W)", "got P8W"),
    ),
    Broken(
        "iteration-too-short",
        "model",
        changed(PF_MODEL, lambda d: d["phases"][3]["iteration"].update(length="P1W")),
        "phases[3].iteration.length",
        ("must lie between min_length (P2W) and max_length (P6W)", "got P1W"),
    ),
    Broken(
        "calendar-unknown-country",
        "model",
        changed(PF_MODEL, lambda d: d["calendar"].update(country="XX")),
        "calendar.country",
        ('"XX" is not a country the holidays library knows', "ISO 3166-1 alpha-2"),
    ),
    Broken(
        "rule-most",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 1).update(rule="most")),
        "phases[1].gate.rule",
        ('must be "all", "majority" or a mapping {at_least: N}', 'got "most"'),
    ),
    Broken(
        "rule-at-least-zero",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 1).update(rule={"at_least": 0})),
        "phases[1].gate.rule.at_least",
        ("greater than 0", "got 0"),
    ),
    Broken(
        "negative-percentage",
        "model",
        changed(PF_MODEL, lambda d: d["tolerances"]["project"].update(cost="-5%")),
        "tolerances.project.cost",
        ("must be a percentage from 0 to 100", 'got "-5%"'),
    ),
    Broken(
        "percentage-over-100",
        "model",
        changed(PF_MODEL, lambda d: d["tolerances"]["project"].update(cost=150)),
        "tolerances.project.cost",
        ("must be a percentage from 0 to 100", "got 150"),
    ),
    Broken(
        "stage-looser-than-project",
        "model",
        changed(PF_MODEL, lambda d: d["tolerances"]["stage"].update(cost="15%")),
        "tolerances.stage.cost",
        ("must not exceed the project tolerance it is delegated from",),
    ),
    Broken(
        "work-package-looser-than-stage",
        "model",
        changed(P2_MODEL, lambda d: d["tolerances"]["work_package"].update(time="P3W")),
        "tolerances.work_package.time",
        ("must not exceed the stage tolerance it is delegated from",),
    ),
    Broken(
        "reserved-phase-closed",
        "model",
        changed(PF_MODEL, lambda d: _rename_closure(d, "closed")),
        "phases[4].id",
        ('"closed" is reserved', "*_gate"),
    ),
    Broken(
        "reserved-phase-gate-suffix",
        "model",
        changed(PF_MODEL, lambda d: _rename_closure(d, "x_gate")),
        "phases[4].id",
        ('"x_gate" is reserved',),
    ),
    Broken(
        "duplicate-phase-id",
        "model",
        changed(PF_MODEL, lambda d: _rename_closure(d, "planning")),
        "phases[4].id",
        ('duplicate id "planning"',),
    ),
    Broken(
        "escalate-to-unknown-level",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 5).update(escalate_to="ceo")),
        "phases[5].gate.escalate_to",
        ('unknown escalation level "ceo"', "levels: team, project, board, portfolio"),
    ),
    Broken(
        "change-authority-unknown-level",
        "model",
        changed(P2_MODEL, lambda d: d["change_control"].update(authority="steering")),
        "change_control.authority",
        ('unknown escalation level "steering"', "levels: team, project, board, corporate"),
    ),
    Broken(
        "escalation-role-unknown",
        "model",
        changed(P2_MODEL, lambda d: d["escalation"][3].update(role="ceo")),
        "escalation[3].role",
        ('unknown role "ceo"',),
    ),
    Broken(
        "model-name-not-identifier",
        "model",
        changed(PF_MODEL, lambda d: d.update(name="Projekt Flödet")),
        "name",
        ("must be a lower-case identifier", 'got "Projekt Flödet"'),
    ),
    Broken(
        "invalid-yaml-syntax",
        "model",
        "name: broken\nroles: [a, b\nversion: 1\n",
        "line 3, column 8",
        ("not valid YAML", "expected ',' or ']'"),
    ),
    Broken(
        "document-is-a-list",
        "model",
        "- name: projektflodet\n- version: '1.0'\n",
        "(document)",
        ("must be a YAML mapping",),
    ),
    Broken(
        "oversized-document",
        "model",
        _BIG_TEXT,
        "(document)",
        (f"is {_BIG_SIZE} bytes", "the limit is 1000000"),
    ),
    Broken(
        "formal-change-required-not-approver",
        "model",
        changed(PF_MODEL, lambda d: d["change_control"]["formal"]["required"].append("pmo")),
        "change_control.formal.required[1]",
        ('"pmo" must also be one of the approvers',),
    ),
    Broken(
        "formal-change-unknown-approver",
        "model",
        changed(PF_MODEL, lambda d: d["change_control"]["formal"]["approvers"].append("ceo")),
        "change_control.formal.approvers[3]",
        ('unknown role "ceo"',),
    ),
    Broken(
        "formal-change-reminder-after-sla",
        "model",
        changed(PF_MODEL, lambda d: d["change_control"]["formal"].update(reminder="P10D")),
        "change_control.formal.reminder",
        ("must come before the SLA passes",),
    ),
    Broken(
        "formal-change-escalates-to-the-project-managers-level",
        "model",
        changed(PF_MODEL, lambda d: d["change_control"]["formal"].update(escalate_to="project")),
        "change_control.formal.escalate_to",
        ("is the project manager's own level", "would decide their own formal change"),
    ),
    Broken(
        "formal-change-escalates-to-an-unknown-level",
        "model",
        changed(PF_MODEL, lambda d: d["change_control"]["formal"].update(escalate_to="ceo")),
        "change_control.formal.escalate_to",
        ('unknown escalation level "ceo"', "levels: team, project, board, portfolio"),
    ),
    Broken(
        "closing-phase-unknown",
        "model",
        changed(PF_MODEL, lambda d: d.update(closing_phase="wrap_up")),
        "closing_phase",
        ('unknown phase "wrap_up"', "phases: idea, pre_study"),
    ),
    Broken(
        "amber-at-zero",
        "model",
        changed(PF_MODEL, lambda d: d["tolerances"].update(amber_at="0%")),
        "tolerances.amber_at",
        ("must be above 0%",),
    ),
    Broken(
        "amber-at-over-100",
        "model",
        changed(PF_MODEL, lambda d: d["tolerances"].update(amber_at="120%")),
        "tolerances.amber_at",
        ("must be a percentage from 0 to 100",),
    ),
]


def _at_least_four(d: dict[str, Any]) -> None:
    d["name"] = "strict_board"
    gate(d, 2)["rule"] = {"at_least": 4}


def _pf_version(d: dict[str, Any]) -> None:
    d["version"] = "1.1"


def _pv(day: str, amount: int) -> dict[str, Any]:
    return {"date": day, "amount": amount}


CHARTER_CASES = [
    Broken(
        "person-unknown-role",
        "charter",
        changed(PF_CHARTER, lambda d: person(d, "cecilia")["roles"].append("ceo")),
        "people[2].roles[1]",
        ('unknown role "ceo" in projektflodet@1.0', "roles: bestallare"),
    ),
    Broken(
        "board-role-unfilled",
        "charter",
        changed(PF_CHARTER, lambda d: d["people"].remove(person(d, "cecilia"))),
        "people",
        ('nobody holds the role "leverantor" (a board role)',),
        issues=2,  # and the task leverantor has at planning_gate
    ),
    Broken(
        "negative-budget",
        "charter",
        changed(PF_CHARTER, lambda d: d["baseline"].update(budget=-5)),
        "baseline.budget",
        ("must be a non-negative amount", "got -5"),
    ),
    Broken(
        "planned-value-before-start",
        "charter",
        changed(PF_CHARTER, lambda d: d["baseline"].update(planned_value=[_pv("2027-01-01", 1)])),
        "baseline.planned_value[0].date",
        ("must lie between baseline.start (2027-01-11)", "got 2027-01-01"),
    ),
    Broken(
        "planned-value-dates-not-increasing",
        "charter",
        changed(
            PF_CHARTER,
            lambda d: d["baseline"].update(
                planned_value=[_pv("2027-03-01", 100), _pv("2027-03-01", 200)]
            ),
        ),
        "baseline.planned_value[1].date",
        ("must come after the point before it (2027-03-01)",),
    ),
    Broken(
        "planned-value-falls",
        "charter",
        changed(
            PF_CHARTER,
            lambda d: d["baseline"].update(
                planned_value=[_pv("2027-03-01", 200), _pv("2027-04-01", 100)]
            ),
        ),
        "baseline.planned_value[1].amount",
        ("must not fall below the point before it (200)", "cumulative"),
    ),
    Broken(
        "planned-value-above-budget",
        "charter",
        changed(
            PF_CHARTER,
            lambda d: d["baseline"].update(planned_value=[_pv("2027-03-01", 10_000_000)]),
        ),
        "baseline.planned_value[0].amount",
        ("must not exceed baseline.budget",),
    ),
    Broken(
        "planned-end-before-start",
        "charter",
        changed(PF_CHARTER, lambda d: d["baseline"].update(planned_end="2026-12-01")),
        "baseline.planned_end",
        ("must be after baseline.start",),
    ),
    Broken(
        "model-ref-without-version",
        "charter",
        changed(PF_CHARTER, lambda d: d.update(model="projektflodet")),
        "model",
        ('must name a governance model as "name@version"', 'got "projektflodet"'),
    ),
    Broken(
        "model-ref-other-version",
        "charter",
        changed(PF_CHARTER, lambda d: d.update(model="projektflodet@2.0")),
        "model",
        ('built-in "projektflodet" is version 1.0, not 2.0',),
    ),
    Broken(
        "model-given-differs-from-ref",
        "charter",
        changed(PF_CHARTER, lambda d: None),
        "model",
        ('names "projektflodet@1.0" but the model given is "projektflodet@1.1"',),
        files={"pf11.yaml": changed(PF_MODEL, _pf_version)},
        model="pf11.yaml",
    ),
    Broken(
        "tolerance-looser-without-waiver",
        "charter",
        changed(PF_CHARTER, lambda d: d["tolerances"]["project"].update(cost="12%")),
        "tolerances.project.cost",
        ("may only be tighter than the model's (10%)", "unless a tolerances waiver is granted"),
    ),
    Broken(
        "stage-time-looser-without-waiver",
        "charter",
        changed(PF_CHARTER, lambda d: d["tolerances"].update(stage={"time": "P3W"})),
        "tolerances.stage.time",
        ("may only be tighter than the model's (P2W)",),
    ),
    Broken(
        "budget-over-human-scale",
        "charter",
        changed(PF_CHARTER, lambda d: d["baseline"].update(budget=1_000_001)),
        "baseline.budget",
        ("1000001 is over the human-scale limit of 1000000", "human_scale waiver"),
    ),
    Broken(
        "team-over-human-scale",
        "charter",
        changed(PF_CHARTER, lambda d: d["baseline"].update(team_size=26)),
        "baseline.team_size",
        ("26 people is over the human-scale limit of 25", "human_scale waiver"),
    ),
    Broken(
        "waiver-by-non-executive",
        "charter",
        changed(
            PF_CHARTER,
            lambda d: (
                d["baseline"].update(budget=2_000_000),
                d.update(waivers=[{"rule": "human_scale", **_WAIVER, "granted_by": "bo"}]),
            ),
        ),
        "waivers[0].granted_by",
        ('"bo" does not hold the executive role "bestallare"',),
    ),
    Broken(
        "waiver-by-stranger",
        "charter",
        changed(
            PF_CHARTER,
            lambda d: d.update(waivers=[{"rule": "tolerances", **_WAIVER, "granted_by": "zed"}]),
        ),
        "waivers[0].granted_by",
        ('"zed" is not in people',),
    ),
    Broken(
        "duplicate-person-id",
        "charter",
        changed(PF_CHARTER, lambda d: person(d, "bo").update(id="anna")),
        "people[1].id",
        ('duplicate person "anna"',),
    ),
    Broken(
        "at-least-more-than-eligible",
        "charter",
        changed(P2_CHARTER, lambda d: d.update(model="strict_board@2.0")),
        "people",
        ("gate delivery_1_gate needs 4 approvals but only 1 person can approve it",),
        files={"strict_board.yaml": changed(P2_MODEL, _at_least_four)},
        model="strict_board.yaml",
    ),
    Broken(
        "charter-typo-key",
        "charter",
        changed(PF_CHARTER, lambda d: d.update(peeple=d.pop("people"))),
        "peeple",
        ("unknown key", 'did you mean "people"?'),
        issues=2,  # and people: is required
    ),
    Broken(
        "charter-is-a-list",
        "charter",
        "- model: projektflodet@1.0\n",
        "(document)",
        ("must be a YAML mapping",),
    ),
]


# -- crafted: what a hostile user tried (issue 14), each with its exact issue --------------------


def crafted(
    id: str, kind: Literal["model", "charter"], text: str, issue: str, **more: Any
) -> Broken:
    """A case whose ``issue`` (``path: message``) must come out exactly."""
    path, _, message = issue.partition(": ")
    return Broken(id, kind, text, path, (message,), exact=True, **more)


def edit_text(old: str, new: str, base: str = PF_MODEL_TEXT) -> str:
    assert base.count(old) == 1, old
    return base.replace(old, new)


def where(text: str, needle: str, offset: int = 0) -> str:
    """``line L, column C`` of ``needle`` (plus ``offset`` characters) in ``text``."""
    i = text.index(needle) + offset
    return f"line {text.count(chr(10), 0, i) + 1}, column {i - text.rfind(chr(10), 0, i)}"


PF_CHARTER_TEXT = dump(PF_CHARTER)
_INT_TAG = edit_text("max_people: 25", "max_people: !!int abc")
_FLOAT_TAG = edit_text("max_budget: 1000000", "max_budget: !!float xyz")
_TIMESTAMP = edit_text("start: 2027-01-11", "start: !!timestamp nope", PF_CHARTER_TEXT)
_LIST_KEY = PF_MODEL_TEXT + "? [a, b]\n: 1\n"
_MAP_KEY = PF_MODEL_TEXT + "? {a: 1}\n: 1\n"
_ZERO = edit_text("max_people: 25", "max_people: 025")
_DEEP = PF_MODEL_TEXT + "x: " + "[" * 40 + "]" * 40 + "\n"
_CYCLE = PF_MODEL_TEXT + "x: &a [*a]\n"
_BOMB = (
    PF_MODEL_TEXT
    + "lol0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9))
)
_PERSON = "{id: x, name: X, roles: [teamledare]}"
_ALIASED_PEOPLE = edit_text(
    "people:\n", f"people:\n- &p {_PERSON}\n" + "- *p\n" * 60_000, PF_CHARTER_TEXT
)
_MANY = PF_MODEL_TEXT + "x: [" + "1, " * 30_000 + "]\n"
_CONTROL = "Beslut\x1b[2J"


def _escalation_level_between(d: dict[str, Any]) -> None:
    # A level for the PMO between the project manager's and the steering group's.
    d["escalation"].insert(2, {"id": "programme", "role": "pmo", "sla": "P3D"})
    gate(d, 0)["escalate_to"] = "programme"


def one_gate(**updates: Any) -> str:
    """Projektflödet cut to its idea gate, as the model "crafted@1.0", the gate changed."""

    def edit(d: dict[str, Any]) -> None:
        d["name"] = "crafted"
        d["phases"] = d["phases"][:1]
        d.pop("closing_phase")  # the closure phase is cut: the idea phase closes
        gate(d, 0).update(updates)

    return changed(PF_MODEL, edit)


def people_changed(
    *, drop: tuple[str, ...] = (), roles: dict[str, list[str]] | None = None, model: str = ""
) -> str:
    """The example charter without the people ``drop``, with some people's roles replaced."""

    def edit(d: dict[str, Any]) -> None:
        d["people"] = [p for p in d["people"] if p["id"] not in drop]
        for pid, new in (roles or {}).items():
            person(d, pid)["roles"] = new
        if model:
            d["model"] = model

    return changed(PF_CHARTER, edit)


def _with_crafted(model_text: str) -> dict[str, Any]:
    return {"files": {"crafted.yaml": model_text}, "model": "crafted.yaml"}


def ceremony(d: dict[str, Any], j: int) -> dict[str, Any]:
    ceremony_: dict[str, Any] = d["phases"][3]["iteration"]["ceremonies"][j]
    return ceremony_


def _waived_stage_over_project(d: dict[str, Any]) -> None:
    d["tolerances"] = {"project": {"cost": "8%"}, "stage": {"cost": "9%"}}
    d["waivers"] = [{"rule": "tolerances", **_WAIVER}]


def _work_package_override_of_crafted(d: dict[str, Any]) -> None:
    d["model"] = "crafted@1.0"
    d["tolerances"] = {"work_package": {"cost": "1%"}}


def _without_work_package(d: dict[str, Any]) -> None:
    d["name"] = "crafted"
    del d["tolerances"]["work_package"]


def _developers(n: int) -> list[dict[str, Any]]:
    return [{"id": f"dev{i}", "name": f"Dev {i}", "roles": ["teamledare"]} for i in range(n)]


_PM_PMO = {"david": ["projektledare", "pmo"]}
_PM_RECEIVER = {"david": ["projektledare", "mottagare"]}
_PM_OWNER = {"david": ["projektledare", "bestallare"]}

CRAFTED_MODEL_CASES = [
    # -- loading never crashes or stalls (item 6) and says what is wrong (item 7) --------------
    crafted(
        "yaml-int-tag", "model", _INT_TAG, f'{where(_INT_TAG, "!!int")}: "abc" is not a valid !!int'
    ),
    crafted(
        "yaml-float-tag",
        "model",
        _FLOAT_TAG,
        f'{where(_FLOAT_TAG, "!!float")}: "xyz" is not a valid !!float',
    ),
    crafted(
        "yaml-list-as-key",
        "model",
        _LIST_KEY,
        f"{where(_LIST_KEY, '[a, b]')}: a key must be text, not a list",
    ),
    crafted(
        "yaml-mapping-as-key",
        "model",
        _MAP_KEY,
        f"{where(_MAP_KEY, '{a: 1}')}: a key must be text, not a mapping",
    ),
    crafted(
        "yaml-1-1-version-1-10",
        "model",
        edit_text('version: "1.0"', "version: 1.10"),
        'version: must be a version in quotes, like "1", "1.2" or "1.10", '
        "got 1.1 (YAML read a number: quote it)",
    ),
    crafted(
        "yaml-1-1-leading-zero",
        "model",
        _ZERO,
        f"{where(_ZERO, '025')}: 025 is ambiguous (a leading zero): quote it if it is text, "
        "else write 25",
    ),
    crafted(
        "yaml-id-read-as-number",
        "model",
        edit_text("  - id: idea\n", "  - id: 2027\n"),
        "phases[0].id: must be a lower-case identifier (a letter, then letters, digits or _), "
        "got 2027 (YAML read a number: quote it)",
    ),
    crafted(
        "yaml-title-read-as-number",
        "model",
        edit_text("title: Projektflödet\n", "title: 2027\n"),
        "title: must be text, got 2027 (YAML read a number: quote it)",
    ),
    crafted(
        "yaml-nested-too-deep",
        "model",
        _DEEP,
        f"{where(_DEEP, 'x: [', 3 + 31)}: nests deeper than 32 levels (the limit)",
    ),
    crafted(
        "yaml-alias-to-itself",
        "model",
        _CYCLE,
        f"{where(_CYCLE, '&a')}: an alias refers to the value it is part of",
    ),
    crafted(
        "yaml-alias-bomb",
        "model",
        _BOMB,
        "(document): expands through aliases to more than 20000 values (the limit)",
    ),
    crafted(
        "yaml-too-many-values",
        "model",
        _MANY,
        "(document): holds more than 20000 values (the limit)",
    ),
    crafted(
        "money-huge-exponent",
        "model",
        edit_text("max_budget: 1000000", "max_budget: '1e999999999'"),
        "human_scale.max_budget: must be a non-negative amount of at most 15 digits before the "
        'decimal point and 4 after, got "1e999999999"',
    ),
    crafted(
        "unknown-key-hint-from-its-own-class",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 0).update(descripton="x")),
        # Gate has no "description": no hint (it used to suggest another class's key).
        "phases[0].gate.descripton: unknown key; unknown keys are errors so that a typo "
        "cannot drop a rule",
    ),
    crafted(
        "unknown-key-that-another-class-has",
        "model",
        changed(PF_MODEL, lambda d: d["board"].update(title="Styrgrupp")),
        "board.title: unknown key; unknown keys are errors so that a typo cannot drop a rule",
    ),
    crafted(
        "control-character-in-a-title",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 0).update(title=_CONTROL)),
        "phases[0].gate.title: must not contain control characters: found U+001B at position 6, "
        'got "Beslut\\u001b[2J"',
    ),
    crafted(
        "newline-in-a-one-line-role-title",
        "model",
        changed(PF_MODEL, lambda d: d["roles"][0].update(title="Beställare\nand more")),
        "roles[0].title: must not contain control characters: found U+000A at position 10, "
        'got "Beställare\\nand more"',
    ),
    crafted(
        "nul-in-a-deliverable",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 0).update(deliverables=["Idé\x00"])),
        "phases[0].gate.deliverables[0]: must not contain control characters: found U+0000 "
        'at position 3, got "Idé\\u0000"',
    ),
    crafted(
        "c1-control-character-echoed-escaped",
        "model",
        changed(PF_MODEL, lambda d: d["phases"][0].update(title="Idé\x9b2J")),
        # The value shown back is escaped too: a terminal acts on a raw U+009B (CSI).
        "phases[0].title: must not contain control characters: found U+009B at position 3, "
        'got "Idé\\u009b2J"',
    ),
    crafted(
        "control-character-in-a-description",
        "model",
        changed(PF_MODEL, lambda d: d["phases"][1].update(description="ok\n\tthen \x07")),
        "phases[1].description: must not contain control characters (other than newline and "
        'tab): found U+0007 at position 9, got "ok\\n\\tthen \\u0007"',
    ),
    # -- escalation goes up (item 2) -----------------------------------------------------------
    crafted(
        "escalate-to-the-project-managers-level",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 5).update(escalate_to="project")),
        "phases[5].gate.escalate_to: level project is the project manager's own level: the "
        "requester would decide their own gate; escalate to a level above it",
    ),
    crafted(
        "escalate-below-the-project-manager",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 4).update(escalate_to="team")),
        "phases[4].gate.escalate_to: level team is below the project manager's level project: "
        "the requester would decide their own gate; escalate to a level above it",
    ),
    crafted(
        "escalate-below-the-approvers",
        "model",
        changed(PF_MODEL, _escalation_level_between),
        "phases[0].gate.escalate_to: level programme is below the gate's approvers "
        "(bestallare decides at level board); escalate to that level or above it",
    ),
    crafted(
        "escalation-role-twice",
        "model",
        changed(PF_MODEL, lambda d: d["escalation"][3].update(role="bestallare")),
        'escalation[3].role: "bestallare" already decides at level board; each level of the '
        "chain has a role of its own",
    ),
    crafted(
        "board-role-below-the-project-manager",
        "model",
        changed(PF_MODEL, lambda d: d["escalation"][0].update(role="mottagare")),
        'escalation[0].role: "mottagare" is a board role and must decide above the project '
        "manager's level project (the chain is listed lowest first)",
    ),
    # -- sanity of the model language (item 9) -------------------------------------------------
    crafted(
        "ceremony-longer-than-its-cadence",
        "model",
        changed(PF_MODEL, lambda d: ceremony(d, 0).update(timebox="P2D")),
        "phases[3].iteration.ceremonies[0].timebox: must fit in its cadence (every P1D), got P2D",
    ),
    crafted(
        "ceremony-longer-than-an-iteration",
        "model",
        changed(PF_MODEL, lambda d: ceremony(d, 1).update(timebox="P3W")),
        "phases[3].iteration.ceremonies[1].timebox: must fit in the shortest iteration "
        "(min_length P2W), got P3W",
    ),
    crafted(
        "task-due-after-the-sla",
        "model",
        changed(PF_MODEL, lambda d: gate(d, 0)["tasks"][0].update(due="P12D")),
        "phases[0].gate.tasks[0].due: must fall within the gate's SLA (P10D), got P12D",
    ),
    crafted(
        "sla-under-a-minute",
        "model",
        changed(PF_MODEL, lambda d: d["escalation"][0].update(sla="PT30S")),
        'escalation[0].sla: must be at least PT1M, got "PT30S"',
    ),
    crafted(
        "minor-change-budget-over-the-project-tolerance",
        "model",
        changed(PF_MODEL, lambda d: d["change_control"]["minor"].update(budget="12%")),
        "change_control.minor.budget: must not exceed the project's cost tolerance (10%)",
    ),
    crafted(
        "minor-change-time-over-the-project-tolerance",
        "model",
        changed(PF_MODEL, lambda d: d["change_control"]["minor"].update(max_time="P5W")),
        "change_control.minor.max_time: must not exceed the project's time tolerance (P4W)",
    ),
    crafted(
        "minor-change-over-its-budget",
        "model",
        changed(PF_MODEL, lambda d: d["change_control"]["minor"].update(max_cost="6%")),
        "change_control.minor.max_cost: must not exceed the minor-change budget (5%)",
    ),
]

CRAFTED_CHARTER_CASES = [
    # -- loading (items 6 and 7) ---------------------------------------------------------------
    crafted(
        "impossible-date",
        "charter",
        changed(PF_CHARTER, lambda d: d["baseline"].update(planned_end="2027-02-30")),
        "baseline.planned_end: must be a calendar date as YYYY-MM-DD (day is out of range for "
        'month), got "2027-02-30"',
    ),
    crafted(
        "date-as-a-number",
        "charter",
        changed(PF_CHARTER, lambda d: d["baseline"].update(start=20270111)),
        "baseline.start: must be a calendar date as YYYY-MM-DD, got 20270111",
    ),
    crafted(
        "yaml-timestamp-tag",
        "charter",
        _TIMESTAMP,
        f"{where(_TIMESTAMP, '!!timestamp')}: the tag !!timestamp is not supported here; "
        "write the value plainly (in quotes if it is text)",
    ),
    crafted(
        "budget-huge-exponent",
        "charter",
        edit_text("budget: 800000", "budget: '1e999999999'", PF_CHARTER_TEXT),
        "baseline.budget: must be a non-negative amount of at most 15 digits before the "
        'decimal point and 4 after, got "1e999999999"',
    ),
    crafted(
        "budget-unquoted-huge-exponent",
        "charter",
        edit_text("budget: 800000", "budget: 1e999999999", PF_CHARTER_TEXT),
        # YAML 1.2 reads an unquoted 1e999999999 as a float: infinity.
        "baseline.budget: must be a non-negative amount of at most 15 digits before the "
        "decimal point and 4 after, got Infinity",
    ),
    crafted(
        "sixty-thousand-aliased-people",
        "charter",
        _ALIASED_PEOPLE,
        "(document): expands through aliases to more than 20000 values (the limit)",
    ),
    crafted(
        "person-id-read-as-number",
        "charter",
        changed(PF_CHARTER, lambda d: person(d, "bo").update(id=2027)),
        "people[1].id: must be a slug (lower-case letters, digits and inner hyphens, at most "
        "63), got 2027 (YAML read a number: quote it)",
    ),
    crafted(
        "terminal-escape-in-a-name",
        "charter",
        changed(PF_CHARTER, lambda d: person(d, "anna").update(name="Anna\x1b]0;pwned\x07")),
        "people[0].name: must not contain control characters: found U+001B at position 4, "
        'got "Anna\\u001b]0;pwned\\u0007"',
    ),
    crafted(
        "unknown-currency",
        "charter",
        changed(PF_CHARTER, lambda d: d["baseline"].update(currency="ABC")),
        "baseline.currency: must be an ISO 4217 currency code in capitals (e.g. EUR, SEK, USD), "
        'got "ABC"',
    ),
    crafted(
        "invalid-email",
        "charter",
        changed(PF_CHARTER, lambda d: person(d, "anna").update(email="anna@")),
        "people[0].email: must be an e-mail address (there must be something after the "
        '@-sign), got "anna@"',
    ),
    # -- one answer to "who can pass this gate" (item 1) ---------------------------------------
    crafted(
        "requester-the-only-approver",
        "charter",
        people_changed(drop=("anna",), roles=_PM_OWNER, model="crafted@1.0"),
        'people: nobody but "david", who requests it as projektledare, can approve gate '
        "idea_gate (four eyes)",
        **_with_crafted(one_gate(approvers=["bestallare"], required=[])),
    ),
    crafted(
        "at-least-two-of-two-one-the-requester",
        "charter",
        people_changed(drop=("bo",), roles=_PM_RECEIVER, model="crafted@1.0"),
        "people: gate idea_gate needs 2 approvals but only 1 person can approve it "
        '("david", who requests it as projektledare, does not count: four eyes)',
        **_with_crafted(one_gate(rule={"at_least": 2}, required=[])),
    ),
    crafted(
        "required-role-held-only-by-the-requester",
        "charter",
        people_changed(drop=("anna",), roles=_PM_OWNER, model="crafted@1.0"),
        'people: gate idea_gate requires an approval of role "bestallare", which only "david", '
        "who requests it as projektledare, holds (four eyes)",
        **_with_crafted(one_gate()),
    ),
    crafted(
        "rule-all-with-an-approver-role-nobody-holds",
        "charter",
        people_changed(drop=("fatima",), model="crafted@1.0"),
        'people: gate idea_gate needs all approvers but nobody holds the approver role "pmo"',
        **_with_crafted(one_gate(approvers=["bestallare", "pmo"])),
    ),
    crafted(
        "rule-all-with-an-approver-role-only-the-requester-holds",
        "charter",
        people_changed(drop=("fatima",), roles=_PM_PMO, model="crafted@1.0"),
        'people: gate idea_gate needs all approvers but only "david", who requests it as '
        'projektledare, holds the approver role "pmo" (four eyes)',
        **_with_crafted(one_gate(approvers=["bestallare", "pmo"])),
    ),
    crafted(
        "escalation-level-only-the-requester-holds",
        "charter",
        people_changed(drop=("gustav",), roles={"david": ["projektledare", "portfoljagare"]}),
        'people: only "david" holds "portfoljagare", the role deciding at escalation level '
        "portfolio, and requests as projektledare the gates that reach it (idea_gate, "
        "pre_study_gate, planning_gate, execution_gate, closure_gate, "
        "benefits_realisation_gate): four eyes leaves nobody to decide them there",
    ),
    # -- sanity of the model language (item 9) -------------------------------------------------
    crafted(
        "tolerance-aspect-the-model-lacks",
        "charter",
        changed(PF_CHARTER, lambda d: d["tolerances"].update(work_package={"quality": "1%"})),
        "tolerances.work_package.quality: projektflodet@1.0 sets no quality tolerance at "
        "work_package level",
    ),
    crafted(
        "tolerance-level-the-model-lacks",
        "charter",
        changed(PF_CHARTER, _work_package_override_of_crafted),
        "tolerances.work_package: crafted@1.0 has no work_package tolerances",
        **_with_crafted(changed(PF_MODEL, _without_work_package)),
    ),
    crafted(
        "project-tolerance-tighter-than-its-stage",
        "charter",
        changed(PF_CHARTER, lambda d: d["tolerances"]["project"].update(cost="4%")),
        "tolerances.project.cost: must not be tighter than the stage tolerance delegated from "
        "it (5%); tighten tolerances.stage.cost too",
    ),
    crafted(
        "waived-stage-tolerance-beyond-the-project",
        "charter",
        changed(PF_CHARTER, _waived_stage_over_project),
        "tolerances.stage.cost: must not exceed the project tolerance it is delegated from (8%)",
    ),
    crafted(
        "more-people-listed-than-human-scale",
        "charter",
        changed(PF_CHARTER, lambda d: d["people"].extend(_developers(19))),
        "people: 26 people are listed, over the human-scale limit of 25; split the project or "
        "grant a human_scale waiver",
    ),
]

CRAFTED = CRAFTED_MODEL_CASES + CRAFTED_CHARTER_CASES
CASES = MODEL_CASES + CHARTER_CASES + CRAFTED


def write(case: Broken, folder: Path) -> Path:
    """Write the case (and its companion files) into ``folder``; return the document's path."""
    for name, text in case.files.items():
        (folder / name).write_bytes(text.encode())
    target = folder / "case.yaml"
    target.write_bytes(case.text.encode())
    return target


def library_error(case: Broken, folder: Path) -> g.GovernanceError:
    """The error the library raises for the case, read from files as the CLI reads them."""
    target = write(case, folder)
    try:
        if case.kind == "model":
            g.load_model(target)
        else:
            g.load_project(target, folder / case.model if case.model else None)
    except g.GovernanceError as exc:
        return exc
    raise AssertionError(f"case {case.id} validated but must not")


def library_issues(case: Broken, folder: Path) -> list[g.Issue]:
    """The issues the library raises for the case, read from files as the CLI reads them."""
    return library_error(case, folder).issues
