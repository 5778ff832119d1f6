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
        changed(PF_MODEL, lambda d: d["phases"][4].update(id="closed")),
        "phases[4].id",
        ('"closed" is reserved', "*_gate"),
    ),
    Broken(
        "reserved-phase-gate-suffix",
        "model",
        changed(PF_MODEL, lambda d: d["phases"][4].update(id="x_gate")),
        "phases[4].id",
        ('"x_gate" is reserved',),
    ),
    Broken(
        "duplicate-phase-id",
        "model",
        changed(PF_MODEL, lambda d: d["phases"][4].update(id="planning")),
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
]


def _at_least_four(d: dict[str, Any]) -> None:
    d["name"] = "strict_board"
    gate(d, 2)["rule"] = {"at_least": 4}


def _pf_version(d: dict[str, Any]) -> None:
    d["version"] = "1.1"


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
        changed(P2_CHARTER, lambda d: d.update(model="strict_board@1.0")),
        "people",
        ("gate delivery_1_gate needs 4 approvals but only 3 people can approve it",),
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

CASES = MODEL_CASES + CHARTER_CASES


def write(case: Broken, folder: Path) -> Path:
    """Write the case (and its companion files) into ``folder``; return the document's path."""
    for name, text in case.files.items():
        (folder / name).write_bytes(text.encode())
    target = folder / "case.yaml"
    target.write_bytes(case.text.encode())
    return target


def library_issues(case: Broken, folder: Path) -> list[g.Issue]:
    """The issues the library raises for the case, read from files as the CLI reads them."""
    target = write(case, folder)
    try:
        if case.kind == "model":
            g.load_model(target)
        else:
            g.load_project(target, folder / case.model if case.model else None)
    except g.GovernanceError as exc:
        return exc.issues
    raise AssertionError(f"case {case.id} validated but must not")
