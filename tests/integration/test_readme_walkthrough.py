"""The README's walk-throughs show the real output: each is run, command by command, against a
real ``phasegate dev`` and compared with what the README shows.

How a block is read (comments ``  # ...`` are documentation, ``# exit N`` is the exit code, a
line ``...`` leaves lines out, timestamps and due dates are compared by their distance from the
run) is in ``readme_walkthrough.py``, which also rewrites the README from the real output:
``python -m tests.integration.readme_walkthrough --update``. The first tests here check that
reading on made-up blocks, without a server; the last runs the README's.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.integration.readme_walkthrough import (
    README,
    WALKTHROUGHS,
    Comparison,
    Outcome,
    Walkthrough,
    WalkthroughError,
    find_block,
    missing_programs,
    run_walkthrough,
    updated_lines,
)

DOC = """# Tool

## Try it

Some words.

```yaml
not: this one
```

```sh
$ tool start x.yaml             # starts it
x
$ tool ask x --as bo \\
    --comment "fine"
error: not now                  # exit code 1, nothing changed
$ tool list
x  due 2026-12-02 (in 5 days)  opened 2026-11-27T19:28+00:00, deadline 2026-12-07T19:28:40.5+00:00
$ tool quiet
$ tool dump
head
...
```

## Next
"""
RUN = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
"""When the made-up walk-through runs: months after the block was written."""


def outcomes(*runs: tuple[list[str], int]) -> Comparison:
    """The made-up block's steps with the given (output, exit code), run at ``RUN``."""
    block = find_block(DOC, "Try it")
    comparison = Comparison.start(block, RUN)
    comparison.outcomes.extend(
        Outcome(s, out, code) for s, (out, code) in zip(block.steps, runs, strict=True)
    )
    return comparison


AS_SHOWN: tuple[tuple[list[str], int], ...] = (
    (["x"], 0),
    (["error: not now"], 1),
    (
        [
            "x  due 2027-03-06 (in 5 days)  opened 2027-03-01T08:00+00:00, "
            "deadline 2027-03-11T08:00:12.25+00:00"
        ],
        0,
    ),
    ([], 0),
    (["head", "row 1", "row 2"], 0),
)


def test_a_block_is_read_into_commands_outputs_and_exit_codes() -> None:
    block = find_block(DOC, "Try it")
    assert [s.shell for s in block.steps] == [
        "tool start x.yaml",
        'tool ask x --as bo \\\n    --comment "fine"',
        "tool list",
        "tool quiet",
        "tool dump",
    ]
    assert [[line.text for line in s.output] for s in block.steps][:2] == [
        ["x"],
        ["error: not now"],
    ]
    assert [s.exit_code for s in block.steps] == [0, 1, 0, 0, 0]
    assert block.steps[0].command[0].comment == "             # starts it"


def test_output_as_shown_agrees_though_its_times_and_dates_are_another_run() -> None:
    assert outcomes(*AS_SHOWN).failures() == []


@pytest.mark.parametrize(
    ("step", "output", "code", "says"),
    [
        (0, ["x", "y"], 0, "+y"),  # a line more (a new column would be a changed line)
        (1, ["error: not now"], 0, "exit code 0, the README says 1"),
        (3, ["something"], 0, "+something"),  # no output shown: none expected
        (4, ["row 1"], 0, "-head"),  # `...` leaves lines out, not the ones shown
        (2, [AS_SHOWN[2][0][0].replace("(in 5", "(in 6")], 0, "(in 6 days)"),
        (2, [AS_SHOWN[2][0][0].replace("03-11T08", "03-12T08")], 0, "<T+11d :ss.f>"),
        (2, [AS_SHOWN[2][0][0].replace("T08:00+", "T08:00:01+")], 0, "opened <T :ss>"),
    ],
)
def test_output_that_differs_fails_with_a_diff(
    step: int, output: list[str], code: int, says: str
) -> None:
    runs = list(AS_SHOWN)
    runs[step] = (output, code)
    (failure,) = outcomes(*runs).failures()
    assert failure.startswith(find_block(DOC, "Try it").steps[step].title)
    assert "--- README\n+++ actual" in failure or "exit code" in failure
    assert says in failure


def test_an_update_keeps_comments_elisions_and_makes_the_exit_code_true() -> None:
    runs = list(AS_SHOWN)
    runs[0] = (["x", "started"], 0)
    runs[1] = (["warning: late", "error: not now"], 2)
    runs[4] = (["head2", "row 1"], 0)
    comparison = outcomes(*runs)
    rendered = [
        [line.render() for line in updated_lines(comparison, o)] for o in comparison.outcomes
    ]
    assert rendered[0] == ["$ tool start x.yaml             # starts it", "x", "started"]
    assert rendered[1] == [
        "$ tool ask x --as bo \\",
        '    --comment "fine"',
        "warning: late",
        "error: not now                  # exit code 2, nothing changed",
    ]
    assert rendered[4] == ["$ tool dump", "head2", "..."]
    runs[3] = (["oops"], 3)
    comparison = outcomes(*runs)
    assert [x.render() for x in updated_lines(comparison, comparison.outcomes[3])] == [
        "$ tool quiet  # exit 3",
        "oops",
    ]


def test_a_block_that_cannot_be_read_is_refused_saying_why() -> None:
    with pytest.raises(WalkthroughError, match="no section 'Missing'"):
        find_block(DOC, "Missing")
    with pytest.raises(WalkthroughError, match="output before any"):
        find_block("## A\n\n```sh\nhello\n```\n", "A")
    with pytest.raises(WalkthroughError, match="has no sh or console block"):
        find_block("## A\n\n```yaml\na: 1\n```\n## B\n```sh\n$ x\n```\n", "A")


def test_every_walkthrough_is_a_block_of_the_readme_with_commands() -> None:
    readme = README.read_text(encoding="utf-8")
    for walk in WALKTHROUGHS:
        assert find_block(readme, walk.heading).steps, walk.heading


@pytest.mark.devserver
@pytest.mark.parametrize("walk", WALKTHROUGHS, ids=lambda w: w.heading.split(" (")[0])
def test_the_readme_walkthrough_shows_the_real_output(walk: Walkthrough) -> None:
    block = find_block(README.read_text(encoding="utf-8"), walk.heading)
    if missing := missing_programs(walk):
        pytest.skip(f"{walk.heading!r} calls {', '.join(missing)}, which is not installed")
    if failures := run_walkthrough(walk, block).failures():
        pytest.fail(
            f"README section {walk.heading!r} does not show the real output "
            "(`python -m tests.integration.readme_walkthrough --update` rewrites it):\n\n"
            + "\n\n".join(failures),
            pytrace=False,
        )
