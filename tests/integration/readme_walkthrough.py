"""The README's console walk-throughs, run for real: parsed, run against a real ``phasegate dev``,
compared with what the README shows, and (``--update``) rewritten from the real output.

The README is the one source of the expected output; nothing here repeats it. A walk-through is
the first ``sh`` or ``console`` block of a README section named in ``WALKTHROUGHS``, read by these
rules:

- ``$ `` starts a command, run by ``bash`` in a fresh working directory holding
  ``.venv/bin/phasegate`` (also on ``PATH``, for the blocks that leave ``.venv/bin/`` out),
  ``examples/`` of the repository and the walk-through's ``files``, with a ``phasegate dev`` of
  its own running there (the commands find it through ``./.phasegate``, as the README says). A
  command line ending in `` \\`` goes on on the next line.
- The lines after a command, up to the next ``$ ``, are its output: stdout and stderr interleaved
  in the order written, as a terminal shows them. No line means no output.
- Two or more spaces, ``#`` and a space after a line's text start a comment: documentation, not
  output; stripped before comparing (and before running a command), kept by ``--update``. (So an
  output line of the CLI must not itself hold ``"  # "`` after its text.)
- ``exit N`` or ``exit code N`` in a comment of a step (on the command or an output line) is the
  exit code it must end with; a step that says none must exit 0.
- An output line ``...`` stands for any number of lines (none too) that the README leaves out.
- What legitimately differs from run to run is normalised on both sides before comparing: a UTC
  timestamp (``2026-11-27T19:28+00:00``, with seconds or microseconds too) compares as its
  distance, to the hour, from when the walk-through ran (for the README: its first timestamp), and
  its precision, e.g. ``<T+5d>``, ``<T+10d :ss.f>``; a date followed by ``(in N days)``,
  ``(today)`` or ``(overdue N days)`` compares as ``<date>``, the words in parentheses checked.
  Other dates (a charter's baseline, a report's as-of date) are fixed and compared as they are.
  Trailing whitespace is ignored.
- A command reading Temporal's visibility (``project list``), which lags a moment behind, is run
  again until its output matches, for up to ``EVENTUAL_SECONDS``.

Run ``python -m tests.integration.readme_walkthrough --update`` from the repository root after a
change to the CLI's output: it runs every walk-through and rewrites the output of each step that
no longer matches from the real output, keeping the comments (on the line they were on, as far as
the old and new output align), the ``...`` lines (as many lines shown before and after them as
before) and correcting the ``exit N`` comments; steps that still match are left as they are.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PHASEGATE = Path(sys.executable).parent / "phasegate"
ELIDED = "..."
EVENTUAL = re.compile(r"\bproject list\b")
EVENTUAL_SECONDS = 30.0
COMMAND_SECONDS = 120.0

_COMMENT = re.compile(r"(?<=\S)(\s{2,}#\s.*)$")
_EXIT = re.compile(r"\bexit(?: code)? (\d+)\b")
_FENCE = re.compile(r"^```(sh|console)\s*$")
_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d)(:\d\d)?(\.\d+)?(?:\+00:00|Z)(?!\d)")
_DUE_DATE = re.compile(r"\d{4}-\d\d-\d\d(?= \((?:in \d+ days?|today|overdue \d+ days?)\))")


# -- the walk-throughs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Walkthrough:
    """A README section whose first console block is run; ``files`` are what its commands read
    beside ``examples/`` (path relative to the working directory: content); ``setup`` a ``bash``
    script that brings the project to where the block's text says it is (its output is not
    compared; it must exit 0); ``needs`` the programs the commands call besides ``phasegate``
    and the shell's own."""

    heading: str
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    setup: str = ""
    needs: tuple[str, ...] = ()


def _pdf(title: str, size: int) -> bytes:
    """A made-up PDF of ``size`` bytes (only its hash and size are shown)."""
    body = f"%PDF-1.4\n% {title}, Nytt CRM-system\n".encode()
    return (body * (size // len(body) + 1))[:size]


PLANNING = """set -e
phasegate project start examples/projektflodet-charter.yaml
wiki=https://wiki.example.se/crm
phasegate deliverable submit new-crm Idébeskrivning --as david --url $wiki/ide
phasegate gate request new-crm --as david
phasegate gate decide new-crm --as bo --decision approve
phasegate gate decide new-crm --as anna --decision approve
phasegate deliverable submit new-crm Förstudierapport --as david --url $wiki/forstudie
phasegate deliverable submit new-crm "Preliminär business case" --as david --url $wiki/pbc
phasegate gate request new-crm --as david
phasegate gate decide new-crm --as bo --decision approve
phasegate gate decide new-crm --as anna --decision approve
"""
"""Brings new-crm to its planning phase: "Deliverables at the gates" starts there."""

IDEA = """# Nytt CRM-system

Säljteamet behöver ett CRM-system i stället för kalkylarken.
"""

WALKTHROUGHS = (
    Walkthrough("Take a project through its first gate", {"ide.md": IDEA}),
    Walkthrough(
        "Deliverables at the gates",
        {
            "projektplan.pdf": _pdf("Projektplan", 21_000),
            "projektplan-v2.pdf": _pdf("Projektplan, efter riskworkshopen", 36_557),
            "slutrapport.pdf": _pdf("Slutrapport", 9_000),
        },
        setup=PLANNING,
    ),
    Walkthrough(
        "A project under way (with `phasegate dev` running)",
        {"plan.yaml": "budget: 1100000\n"},
        needs=("jq",),
    ),
)
"""Covered: the blocks that tell a story from a fresh ``phasegate dev`` (the deliverables' from
the planning phase, which ``setup`` reaches). Not covered: "Running the execution phase": its
stand-ups depend on the weekday and the Swedish calendar of the day it runs, and it shows
placeholders (``...``, ``<date>``) for what it explains in words."""


# -- parsing ----------------------------------------------------------------------------------


class WalkthroughError(Exception):
    """The README does not hold a walk-through as these rules read it."""


@dataclass(frozen=True)
class Line:
    """A line of a block: its text and its comment (with the whitespace before it, or "")."""

    text: str
    comment: str = ""

    @classmethod
    def parse(cls, raw: str) -> Line:
        raw = raw.rstrip()
        m = _COMMENT.search(raw)
        if m is None:
            return cls(raw)
        return cls(raw[: m.start()].rstrip(), m.group(1))

    def render(self) -> str:
        return self.text + self.comment


@dataclass
class Step:
    """A command (one or more lines, the first starting with ``$ ``) and the output shown."""

    command: list[Line]
    output: list[Line] = field(default_factory=list)

    @property
    def shell(self) -> str:
        """The command as ``bash`` runs it (continuation lines kept, comments left out)."""
        return "\n".join(line.text for line in self.command).removeprefix("$ ")

    @property
    def title(self) -> str:
        return self.command[0].text

    @property
    def exit_code(self) -> int:
        """The exit code a comment of the step names, else 0."""
        for line in (*self.command, *self.output):
            m = _EXIT.search(line.comment)
            if m:
                return int(m.group(1))
        return 0

    def lines(self) -> list[Line]:
        return [*self.command, *self.output]


@dataclass
class Block:
    """A walk-through block: README lines ``first`` to ``end`` (exclusive; the fences left out)."""

    heading: str
    first: int
    end: int
    steps: list[Step]


def find_block(readme: str, heading: str) -> Block:
    """The first ``sh``/``console`` block after the heading ``heading`` (any level), within its
    section, parsed into steps."""
    lines = readme.splitlines()
    title = re.compile(r"^(#+) " + re.escape(heading) + r"\s*$")
    found = next(((i, m) for i, line in enumerate(lines) if (m := title.match(line))), None)
    if found is None:
        raise WalkthroughError(f"README has no section {heading!r}")
    start, level = found[0], len(found[1].group(1))
    i = start + 1
    while i < len(lines):
        other = re.match(r"^(#+) ", lines[i])
        if other and len(other.group(1)) <= level:
            break
        if _FENCE.match(lines[i]):
            end = next((j for j in range(i + 1, len(lines)) if lines[j] == "```"), None)
            if end is None:
                raise WalkthroughError(f"{heading!r}: the block at line {i + 1} never closes")
            return Block(heading, i + 1, end, parse_steps(lines[i + 1 : end], heading, i + 2))
        if lines[i].startswith("```"):  # another kind of block: skip it whole
            i = next((j for j in range(i + 1, len(lines)) if lines[j] == "```"), len(lines))
        i += 1
    raise WalkthroughError(f"section {heading!r} has no sh or console block")


def parse_steps(raw: Sequence[str], heading: str, lineno: int) -> list[Step]:
    """Steps of a block's lines (``lineno``: the README line number of the first, for errors)."""
    steps: list[Step] = []
    continued = False
    for n, text in enumerate(raw, lineno):
        line = Line.parse(text)
        if continued:
            steps[-1].command.append(line)
        elif line.text.startswith("$ "):
            steps.append(Step([line]))
        elif not steps:
            raise WalkthroughError(f"{heading!r}: line {n} is output before any `$ ` command")
        else:
            steps[-1].output.append(line)
        continued = bool(steps[-1].command[-1] is line and line.text.endswith(" \\"))
        if continued and line.comment:
            raise WalkthroughError(f"{heading!r}: line {n}: a comment ends the command's `\\`")
    if continued:
        raise WalkthroughError(f"{heading!r}: the last command goes on after the block")
    return steps


# -- normalising and comparing ----------------------------------------------------------------


def first_timestamp(lines: Sequence[str]) -> datetime | None:
    for line in lines:
        m = _TIMESTAMP.search(line)
        if m:
            return _parse_time(m)
    return None


def _parse_time(m: re.Match[str]) -> datetime:
    return datetime.fromisoformat(m.group(1) + (m.group(2) or "") + (m.group(3) or "")).replace(
        tzinfo=UTC
    )


def _offset(delta: timedelta) -> str:
    hours = round(delta.total_seconds() / 3600)
    if hours == 0:
        return "T"
    sign, hours = ("+" if hours > 0 else "-"), abs(hours)
    days, rest = divmod(hours, 24)
    return f"T{sign}" + (f"{days}d" if days else "") + (f"{rest}h" if rest else "")


def normalise(line: str, t0: datetime | None) -> str:
    """``line`` with what varies between runs replaced (see the module's docstring)."""

    def stamp(m: re.Match[str]) -> str:
        precision = ":ss.f" if m.group(3) else ":ss" if m.group(2) else ""
        where = _offset(_parse_time(m) - t0) if t0 is not None else "T?"
        return f"<{where}{' ' + precision if precision else ''}>"

    return _DUE_DATE.sub("<date>", _TIMESTAMP.sub(stamp, line.rstrip()))


def matches(expected: Sequence[str], actual: Sequence[str]) -> bool:
    """Whether the normalised ``actual`` lines are the ``expected`` ones, ``...`` standing for
    any number of lines."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line == ELIDED else re.escape(line) + r"\n" for line in expected
    )
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


@dataclass
class Outcome:
    """What a step did: its output lines (as written, trailing whitespace dropped), exit code."""

    step: Step
    output: list[str]
    code: int


@dataclass
class Comparison:
    """The README's steps and the real outcomes, each side normalised against its own start."""

    outcomes: list[Outcome]
    readme_t0: datetime | None
    run_t0: datetime

    @classmethod
    def start(cls, block: Block, run_t0: datetime) -> Comparison:
        """No outcome yet; the README's start is the first timestamp its block shows."""
        shown = [line.text for step in block.steps for line in step.output]
        return cls([], first_timestamp(shown), run_t0)

    def expected(self, step: Step) -> list[str]:
        return [normalise(line.text, self.readme_t0) for line in step.output]

    def actual(self, outcome: Outcome) -> list[str]:
        return [normalise(line, self.run_t0) for line in outcome.output]

    def agrees(self, outcome: Outcome) -> bool:
        step = outcome.step
        return outcome.code == step.exit_code and matches(self.expected(step), self.actual(outcome))

    def failures(self) -> list[str]:
        """A message per step whose output or exit code is not what the README shows."""
        found = []
        for o in self.outcomes:
            if self.agrees(o):
                continue
            msg = [f"{o.step.title}"]
            if o.code != o.step.exit_code:
                msg.append(f"exit code {o.code}, the README says {o.step.exit_code}")
            diff = difflib.unified_diff(
                self.expected(o.step), self.actual(o), "README", "actual", lineterm="", n=2
            )
            msg.extend(diff)
            msg.append("actual output, as written:")
            msg.extend(f"  | {line}" for line in o.output)
            found.append("\n".join(msg))
        return found


# -- running ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command_env(workdir: Path) -> dict[str, str]:
    """The environment of the commands: this one's without ``PHASEGATE_*`` settings (the
    commands find everything through ``./.phasegate``), with a fixed width and no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    env.update(
        PATH=f"{workdir / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",  # stdout and stderr reach the pipe in the order written
        PYTHONIOENCODING="utf-8",
        COLUMNS="80",
        NO_COLOR="1",
    )
    return env


def prepare(workdir: Path, walk: Walkthrough) -> None:
    """The working directory as the README's reader has it."""
    (workdir / ".venv" / "bin").mkdir(parents=True)
    (workdir / ".venv" / "bin" / "phasegate").symlink_to(PHASEGATE)
    (workdir / "examples").symlink_to(ROOT / "examples")
    for name, content in walk.files.items():
        data = content.encode() if isinstance(content, str) else content
        (workdir / name).write_bytes(data)


@contextmanager
def dev_running(workdir: Path, log: Path) -> Iterator[None]:
    """``phasegate dev --no-ui`` in ``workdir`` (data dir ``./.phasegate``) on a free port,
    stopped (SIGTERM, then ``dev --stop`` for a server left) afterwards."""
    env = {**command_env(workdir), "PHASEGATE_LOG_FORMAT": "json"}
    args = [str(PHASEGATE), "dev", "--no-ui", "--port", str(_free_port())]
    with log.open("wb") as fh:
        proc = subprocess.Popen(args, cwd=workdir, env=env, stdout=fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while b"worker.started" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise WalkthroughError(f"phasegate dev did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            subprocess.run([str(PHASEGATE), "dev", "--stop"], cwd=workdir, env=env, timeout=60)


def run_step(step: Step, workdir: Path, env: Mapping[str, str]) -> Outcome:
    done = subprocess.run(
        ["bash", "-c", step.shell],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=COMMAND_SECONDS,
    )
    text = done.stdout.decode("utf-8", errors="replace")
    return Outcome(step, [line.rstrip() for line in text.splitlines()], done.returncode)


def missing_programs(walk: Walkthrough) -> list[str]:
    return [p for p in walk.needs if shutil.which(p) is None]


def run_walkthrough(walk: Walkthrough, block: Block) -> Comparison:
    """Every step of ``block``, in order, in a fresh directory with its own ``phasegate dev``."""
    with tempfile.TemporaryDirectory(prefix="walkthrough-") as tmp:
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        prepare(workdir, walk)
        env = command_env(workdir)
        with dev_running(workdir, Path(tmp) / "dev.log"):
            if walk.setup:
                setup = run_step(Step([Line("$ " + walk.setup)]), workdir, env)
                if setup.code != 0:
                    raise WalkthroughError(
                        f"{walk.heading!r}: its setup exited {setup.code}:\n"
                        + "\n".join(setup.output)
                    )
            comparison = Comparison.start(block, datetime.now(UTC))
            for step in block.steps:
                outcome = run_step(step, workdir, env)
                deadline = time.monotonic() + EVENTUAL_SECONDS
                while (
                    EVENTUAL.search(step.shell)
                    and not comparison.agrees(outcome)
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.5)
                    outcome = run_step(step, workdir, env)
                comparison.outcomes.append(outcome)
        return comparison


# -- updating the README ----------------------------------------------------------------------


def updated_lines(comparison: Comparison, outcome: Outcome) -> list[Line]:
    """The step's lines with its output replaced by the real one: each comment on the line the
    old one aligns with (else on the step's last line), ``...`` kept with as many lines before
    and after it as the README showed, and the ``exit N`` comment made true."""
    step = outcome.step
    old, new = comparison.expected(step), comparison.actual(outcome)
    lines = [Line(text) for text in outcome.output]
    placed: dict[int, str] = {}
    homeless: list[str] = []
    if old.count(ELIDED) == 1 and len(new) >= len(old) - 1:
        cut = old.index(ELIDED)
        tail = len(old) - cut - 1
        lines = [*lines[:cut], Line(ELIDED), *lines[len(lines) - tail :]]
        placed = {i: line.comment for i, line in enumerate(step.output) if line.comment}
    else:
        if ELIDED in old:
            raise WalkthroughError(f"{step.title}: update one `...` per step by hand")
        ops = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
        for _, i1, i2, j1, j2 in ops:
            for i in range(i1, i2):
                comment = step.output[i].comment
                if not comment:
                    continue
                if j2 > j1 and min(j1 + i - i1, j2 - 1) not in placed:
                    placed[min(j1 + i - i1, j2 - 1)] = comment
                else:
                    homeless.append(comment)
    lines = [Line(line.text, placed.get(i, "")) for i, line in enumerate(lines)]
    result = [*step.command, *lines]
    for comment in homeless:
        last = result[-1]
        result[-1] = Line(last.text, last.comment + comment if last.comment else comment)
    if any(_EXIT.search(line.comment) for line in result):
        code = str(outcome.code)
        result = [Line(x.text, _EXIT.sub(lambda m: _said(m, code), x.comment)) for x in result]
    elif outcome.code != 0:  # said on the command's line, else on the step's last line
        at = len(step.command) - 1 if not step.command[-1].comment else len(result) - 1
        result[at] = Line(result[at].text, result[at].comment + f"  # exit {outcome.code}")
    return result


def _said(m: re.Match[str], code: str) -> str:
    """``exit N`` / ``exit code N`` with N replaced by ``code``."""
    return m.group(0)[: m.start(1) - m.start(0)] + code


def update(readme: Path = README, walks: Sequence[Walkthrough] = WALKTHROUGHS) -> list[str]:
    """Rewrite ``readme``'s walk-throughs from real runs; the titles of the steps rewritten."""
    changed: list[str] = []
    for walk in walks:
        text = readme.read_text(encoding="utf-8")
        block = find_block(text, walk.heading)
        if missing := missing_programs(walk):
            raise WalkthroughError(f"{walk.heading!r} needs {', '.join(missing)}")
        comparison = run_walkthrough(walk, block)
        # One step out of date rewrites every step of its block from this run, so that the
        # times shown agree with each other (a block is one session at one time).
        stale = not all(comparison.agrees(outcome) for outcome in comparison.outcomes)
        body: list[str] = []
        for outcome in comparison.outcomes:
            if not stale:
                body.extend(line.render() for line in outcome.step.lines())
                continue
            if not comparison.agrees(outcome):
                changed.append(outcome.step.title)
            body.extend(line.render() for line in updated_lines(comparison, outcome))
        lines = text.splitlines()
        lines[block.first : block.end] = body
        readme.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--update", action="store_true", help="rewrite the README's output")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    if args.update:
        for title in update(args.readme):
            print(f"rewrote: {title}")
        return 0
    failed = 0
    for walk in WALKTHROUGHS:
        block = find_block(args.readme.read_text(encoding="utf-8"), walk.heading)
        for failure in run_walkthrough(walk, block).failures():
            failed += 1
            print(failure, end="\n\n")
    print(f"{failed} step(s) differ from the README" if failed else "the README is true")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
