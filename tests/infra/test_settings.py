from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from phasegate.devserver import DevServerState, NoDevServer, state_path
from phasegate.settings import Settings, get_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATA_DIR", "ADDRESS", "NAMESPACE", "TASK_QUEUE", "LEDGER_URL", "LOG_FORMAT"):
        monkeypatch.delenv(f"PHASEGATE_{name}", raising=False)
    monkeypatch.delenv("PHASEGATE_LOG_LEVEL", raising=False)
    for name in ("PMO", "OIDC_ISSUER", "OIDC_AUDIENCE", "OIDC_JWKS_URL", "OIDC_PERSON_CLAIM"):
        monkeypatch.delenv(f"PHASEGATE_{name}", raising=False)
    monkeypatch.delenv("PHASEGATE_OIDC_ALGORITHMS", raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_without_env_or_flags() -> None:
    settings = get_settings()
    assert settings.data_dir == Path(".phasegate")
    assert settings.address is None
    assert settings.namespace == "default"
    assert settings.task_queue == "phasegate"
    assert settings.ledger_url is None
    assert settings.log_format == "auto"
    assert settings.log_level == "INFO"


def test_env_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHASEGATE_DATA_DIR", "/srv/pg")
    monkeypatch.setenv("PHASEGATE_ADDRESS", "temporal:7233")
    monkeypatch.setenv("PHASEGATE_NAMESPACE", "gov")
    monkeypatch.setenv("PHASEGATE_TASK_QUEUE", "q")
    monkeypatch.setenv("PHASEGATE_LOG_FORMAT", "json")
    monkeypatch.setenv("PHASEGATE_LOG_LEVEL", "debug")
    settings = get_settings()
    assert settings.data_dir == Path("/srv/pg")
    assert settings.effective_address() == "temporal:7233"
    assert (settings.namespace, settings.task_queue) == ("gov", "q")
    assert (settings.log_format, settings.log_level) == ("json", "DEBUG")


def test_flags_override_env_and_unset_flags_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHASEGATE_ADDRESS", "from-env:7233")
    monkeypatch.setenv("PHASEGATE_NAMESPACE", "env-ns")
    settings = get_settings(address="from-flag:7233", namespace=None)
    assert settings.address == "from-flag:7233"
    assert settings.namespace == "env-ns"


@pytest.mark.parametrize("blank", ["", "  "])
def test_blank_settings_in_the_environment_mean_unset(
    monkeypatch: pytest.MonkeyPatch, blank: str
) -> None:
    for name in ("DATA_DIR", "ADDRESS", "NAMESPACE", "TASK_QUEUE", "LEDGER_URL", "LOG_LEVEL"):
        monkeypatch.setenv(f"PHASEGATE_{name}", blank)
    settings = get_settings()
    assert (settings.data_dir, settings.address, settings.ledger_url) == (
        Path(".phasegate"),
        None,
        None,
    )
    assert (settings.namespace, settings.task_queue, settings.log_level) == (
        "default",
        "phasegate",
        "INFO",
    )
    assert get_settings(namespace=blank).namespace == "default"


@pytest.mark.parametrize(
    "address", ["127.0.0.1:99999", "127.0.0.1:0", "localhost:abc", "localhost", ":7233", "a b:1"]
)
def test_an_address_without_a_valid_port_is_refused(address: str) -> None:
    with pytest.raises(ValidationError, match="must be host:port with a port from 1 to 65535"):
        get_settings(address=address)


@pytest.mark.parametrize("address", ["127.0.0.1:7233", "temporal:7233", "[::1]:7233"])
def test_host_and_port_addresses_are_accepted(address: str) -> None:
    assert get_settings(address=address).effective_address() == address


def test_unknown_flag_and_bad_values_are_rejected() -> None:
    with pytest.raises(ValidationError):
        get_settings(adress="typo:7233")
    with pytest.raises(ValidationError):
        get_settings(log_format="xml")
    with pytest.raises(ValidationError):
        get_settings(log_level="LOUD")


def test_ledger_url_defaults_to_absolute_sqlite_file_in_data_dir(tmp_path: Path) -> None:
    settings = get_settings(data_dir="rel/dir")
    assert settings.effective_ledger_url() == f"sqlite:///{tmp_path}/rel/dir/ledger.db"


@pytest.mark.parametrize("name", ["a?b", "a%20b", "a#b", "50%"])
def test_ledger_url_of_a_data_dir_with_url_characters_names_that_dir(
    tmp_path: Path, name: str
) -> None:
    url = get_settings(data_dir=tmp_path / name).effective_ledger_url()
    assert sa.make_url(url).database == str(tmp_path / name / "ledger.db")
    explicit = get_settings(ledger_url="postgresql+psycopg://u@h/db")
    assert explicit.effective_ledger_url() == "postgresql+psycopg://u@h/db"


def test_data_dir_expands_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_settings(data_dir="~/pg").data_dir == tmp_path / "pg"


def test_no_address_and_no_dev_server_is_an_error_not_a_guess(tmp_path: Path) -> None:
    with pytest.raises(NoDevServer) as info:
        Settings(data_dir=tmp_path).effective_address()
    assert f"no phasegate dev server runs for data dir {tmp_path}" in str(info.value)
    assert "--address" in str(info.value)


def test_stale_dev_server_state_file_is_ignored_and_removed(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    path = state_path(tmp_path)
    path.write_text(
        DevServerState(
            address="127.0.0.1:9999",
            ui_url=None,
            pid=gone.pid,
            namespaces=("default",),
            db_file=tmp_path / "temporal.db",
            log_file=tmp_path / "temporal.log",
            started_at=datetime.now(UTC),
        ).model_dump_json()
    )
    with pytest.raises(NoDevServer):
        Settings(data_dir=tmp_path).effective_address()
    assert not path.exists()


def test_corrupt_state_file_is_ignored_and_removed(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    path.write_text("{not json")
    with pytest.raises(NoDevServer):
        Settings(data_dir=tmp_path).effective_address()
    assert not path.exists()


# -- the REST API's settings ----------------------------------------------------------------

OIDC = {
    "PHASEGATE_OIDC_ISSUER": "https://id.example.org/",
    "PHASEGATE_OIDC_AUDIENCE": "phasegate",
    "PHASEGATE_OIDC_JWKS_URL": "https://id.example.org/keys",
}


def test_the_pmo_is_a_comma_separated_list_of_person_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_settings().pmo == ()
    monkeypatch.setenv("PHASEGATE_PMO", " fatima, gustav ,")
    assert get_settings().pmo == ("fatima", "gustav")
    monkeypatch.setenv("PHASEGATE_PMO", "")
    assert get_settings().pmo == ()
    monkeypatch.setenv("PHASEGATE_PMO", "fatima;gustav")
    with pytest.raises(ValidationError, match="'fatima;gustav' is not a person id"):
        get_settings()


def test_oidc_is_off_by_default_and_on_with_its_three_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not get_settings().oidc_enabled
    for name, value in OIDC.items():
        monkeypatch.setenv(name, value)
    s = get_settings()
    assert s.oidc_enabled and s.oidc_person_claim == "sub" and s.oidc_algorithms == ("RS256",)
    monkeypatch.setenv("PHASEGATE_OIDC_ALGORITHMS", "RS256,ES256")
    assert get_settings().oidc_algorithms == ("RS256", "ES256")


@pytest.mark.parametrize("missing", sorted(OIDC))
def test_oidc_needs_all_three_settings(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    for name, value in OIDC.items():
        if name != missing:
            monkeypatch.setenv(name, value)
    field = missing.removeprefix("PHASEGATE_").lower()
    with pytest.raises(ValidationError, match=f"missing: {field}"):
        get_settings()


@pytest.mark.parametrize("url", ["localhost:8080", "127.0.0.1:8080", "//localhost:8080"])
def test_an_api_url_without_its_scheme_is_refused_saying_so(url: str) -> None:
    # Not "must be https": the URL is loopback, only its scheme is missing.
    with pytest.raises(ValidationError, match="must be a URL with its scheme") as refused:
        get_settings(api_url=url)
    assert "unprotected" not in str(refused.value)
    ok = get_settings(api_url="http://localhost:8080/", token="pg_0123456789ab_x")
    assert ok.api_url == "http://localhost:8080"


@pytest.mark.parametrize(
    ("update", "problem"),
    [
        ({"oidc_jwks_url": "http://id.example.org/keys"}, "must be an https URL"),
        ({"oidc_jwks_url": "ftp://127.0.0.1/keys"}, "must be an https URL"),
        ({"oidc_algorithms": "HS256"}, "'HS256' is not a public-key signature algorithm"),
        ({"oidc_algorithms": "none"}, "'none' is not a public-key"),
        ({"oidc_algorithms": ","}, "name at least one algorithm"),
    ],
)
def test_oidc_settings_that_would_not_protect_are_refused(
    update: dict[str, str], problem: str
) -> None:
    given = {name.removeprefix("PHASEGATE_").lower(): value for name, value in OIDC.items()}
    with pytest.raises(ValidationError, match=problem):
        get_settings(**{**given, **update})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_a_jwks_on_a_loopback_host_may_be_plain_http(host: str) -> None:
    given = {name.removeprefix("PHASEGATE_").lower(): value for name, value in OIDC.items()}
    url = f"http://{host}:8000/keys"
    assert get_settings(**{**given, "oidc_jwks_url": url}).oidc_jwks_url == url
