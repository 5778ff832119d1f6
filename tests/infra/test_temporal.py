from __future__ import annotations

import socket
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from phasegate.devserver import DevServer
from phasegate.settings import Settings
from phasegate.temporal import (
    SEARCH_ATTRIBUTE_NAMES,
    SEARCH_ATTRIBUTES,
    TemporalUnavailable,
    connect,
)


def test_search_attributes_are_the_five_phasegate_keywords() -> None:
    assert SEARCH_ATTRIBUTE_NAMES == (
        "PhasegatePhase",
        "PhasegateModel",
        "PhasegateAwaiting",
        "PhasegateProject",
        "PhasegateRag",
    )
    assert {key.indexed_value_type.name for key in SEARCH_ATTRIBUTES} == {"KEYWORD"}


def test_docker_compose_registers_every_search_attribute() -> None:
    compose = (Path(__file__).parents[2] / "docker-compose.yml").read_text(encoding="utf-8")
    [loop] = [line for line in compose.splitlines() if "for name in Phasegate" in line]
    names = loop.split(" in ", 1)[1].removesuffix("; do").split()
    assert tuple(names) == SEARCH_ATTRIBUTE_NAMES


async def test_unreachable_server_raises_temporal_unavailable_naming_address(
    tmp_path: Path,
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(TemporalUnavailable) as info:
        await connect(Settings(data_dir=tmp_path, address=address))
    assert info.value.address == address
    assert address in str(info.value)
    assert "phasegate dev" in str(info.value)


@pytest.mark.devserver
async def test_connect_uses_pydantic_converter_and_namespace(devserver: DevServer) -> None:
    client = await connect(Settings(data_dir=devserver.data_dir))
    assert client.namespace == "default"
    assert client.data_converter is pydantic_data_converter
