"""Exporting the audit trail over the API (`GET /api/audit/export`): the ledger's own export,
streamed, of a project the person may see (404 for any other; every project for the PMO only,
by the setting or by an OpenID Connect group); and the stream itself: chunks in order, an
error before the first chunk raised, a client going away stopping the writer."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from typing import TextIO

import pytest
from api_support import OUTSIDER, PMO, PMO_GROUP, Api, IdentityProvider, error, new_project
from fastapi.testclient import TestClient

from ledger import Ledger, LedgerError
from phasegate.api._stream import CHUNK_CHARS, QUEUED_CHUNKS, stream
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture(scope="module")
def pid(setup_cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> str:
    return new_project(setup_cli, tmp_path_factory.mktemp("export"))


def ledger_export(ledger: Ledger, fmt: str, project: str | None) -> str:
    out = io.StringIO(newline="")
    ledger.export(out, fmt, project, iterations=True)  # type: ignore[arg-type]
    return out.getvalue()


def exported(api: Api, ledger: Ledger, **params: str) -> tuple[str, str, str]:
    """The export's body, content type and disposition, once the ledger holds every event of
    the project (its worker records them a moment after each step)."""
    for _ in range(50):
        response = api.get("/api/audit/export", params=params)
        assert response.status_code == 200, response.text
        body = response.text
        if body == ledger_export(ledger, params.get("format", "jsonl"), params.get("project")):
            break
        time.sleep(0.2)
    return body, response.headers["content-type"], response.headers["content-disposition"]


def test_a_member_exports_their_project_as_jsonl_and_csv(
    as_: dict[str, Api], pid: str, ledger: Ledger
) -> None:
    body, media, disposition = exported(as_["anna"], ledger, project=pid)
    assert body == ledger_export(ledger, "jsonl", pid)
    events = [json.loads(line) for line in body.splitlines()]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert {e["project_id"] for e in events} == {pid} and events[0]["kind"] == "project_started"
    assert media == "application/x-ndjson"
    assert disposition == f'attachment; filename="audit-{pid}.jsonl"'

    body, media, disposition = exported(as_["anna"], ledger, project=pid, format="csv")
    assert body == ledger_export(ledger, "csv", pid)
    assert body.startswith("project_id,seq,") and len(body.splitlines()) == len(events) + 1
    assert media == "text/csv; charset=utf-8"
    assert disposition == f'attachment; filename="audit-{pid}.csv"'


def test_a_project_outside_ones_charters_is_404(as_: dict[str, Api], pid: str) -> None:
    hidden = error(as_[OUTSIDER].get("/api/audit/export", params={"project": pid}))
    assert hidden == (404, "UnknownProject", f"no project {pid}")
    none = error(as_[PMO].get("/api/audit/export", params={"project": "no-such-project"}))
    assert none == (404, "UnknownProject", "no events for project no-such-project in the ledger")


def test_every_project_is_the_pmos_by_setting_or_by_oidc_group(
    as_: dict[str, Api], http: TestClient, idp: IdentityProvider, pid: str
) -> None:
    status, kind, message = error(as_["anna"].get("/api/audit/export"))
    assert (status, kind) == (403, "NotAuthorised") and "only the PMO" in message
    everything = as_[PMO].get("/api/audit/export", params={"format": "csv"})
    assert everything.status_code == 200
    assert f"\n{pid},1," in everything.text
    assert everything.headers["content-disposition"] == 'attachment; filename="audit-all.csv"'
    # an outsider whose token names a PMO group sees the project; the same person without not
    for groups, expected in (([PMO_GROUP], 200), (["staff"], 404)):
        token = idp.token(OUTSIDER, groups=groups)
        response = http.get(
            "/api/audit/export",
            params={"project": pid},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == expected, (groups, response.text)


def test_bad_parameters_are_422(as_: dict[str, Api]) -> None:
    for params in ({"format": "xml"}, {"project": "Not/AProject"}):
        response = as_["anna"].get("/api/audit/export", params=params)
        assert error(response)[:2] == (422, "InvalidInput")


def test_exporting_without_a_token_is_401(http: TestClient) -> None:
    assert error(http.get("/api/audit/export"))[:2] == (401, "NotAuthenticated")


# -- the stream ------------------------------------------------------------------------------


def _collect(write: object) -> list[bytes]:
    async def run() -> list[bytes]:
        return [chunk async for chunk in stream(write)]  # type: ignore[arg-type]

    return asyncio.run(run())


def test_a_stream_hands_over_what_is_written_in_chunks_in_order() -> None:
    lines = [f"{n:06d} {'ä' * 50}\n" for n in range(20_000)]  # ~1.1 MB of UTF-8

    def write(out: TextIO) -> None:
        for line in lines:
            out.write(line)

    chunks = _collect(write)
    assert b"".join(chunks).decode() == "".join(lines)
    assert len(chunks) > 5 and all(len(c.decode()) >= CHUNK_CHARS for c in chunks[:-1])


def test_an_error_before_the_first_chunk_is_raised_and_a_later_one_ends_the_stream() -> None:
    def at_once(out: TextIO) -> None:
        raise LedgerError("the database is gone")

    with pytest.raises(LedgerError, match="the database is gone"):
        _collect(at_once)

    def later(out: TextIO) -> None:
        out.write("x" * CHUNK_CHARS)
        raise LedgerError("lost on the way")

    assert _collect(later) == [b"x" * CHUNK_CHARS]


def test_a_client_that_goes_away_stops_the_writer() -> None:
    stopped = threading.Event()

    def endless(out: TextIO) -> None:
        try:
            while True:
                out.write("y" * 1024)
        finally:
            stopped.set()

    async def read_one() -> None:
        chunks = stream(endless)
        assert len(await anext(chunks)) >= CHUNK_CHARS
        await chunks.aclose()

    asyncio.run(read_one())
    assert stopped.wait(5)


def test_a_slow_reader_holds_the_writer_back() -> None:
    written: list[int] = []

    def endless(out: TextIO) -> None:
        while True:
            out.write("z" * CHUNK_CHARS)  # one chunk each
            written.append(1)

    async def read_slowly() -> int:
        chunks = stream(endless)
        await anext(chunks)
        await asyncio.sleep(1.0)  # the writer fills the room it has, then waits
        held = len(written)
        await chunks.aclose()
        return held

    held = asyncio.run(read_slowly())
    assert QUEUED_CHUNKS <= held <= QUEUED_CHUNKS + 2, held
