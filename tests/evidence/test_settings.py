from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from evidence.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text()
    documented = set(re.findall(r"`(FACTCHECK_[A-Z0-9_]+)`", text))
    expected = {f"FACTCHECK_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set()


def test_lists_accept_commas_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_ALLOWED_NETWORKS", "127.0.0.0/8, 10.1.0.0/16")
    assert Settings().allowed_networks == ["127.0.0.0/8", "10.1.0.0/16"]
    monkeypatch.setenv("FACTCHECK_ALLOWED_NETWORKS", '["::1/128"]')
    assert Settings().allowed_networks == ["::1/128"]


def test_bad_cidr_and_placeholder_secret_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_ALLOWED_NETWORKS", "not-a-network")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.delenv("FACTCHECK_ALLOWED_NETWORKS")
    monkeypatch.setenv("FACTCHECK_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings()


def test_toml_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "factcheck.toml"
    config.write_text(
        'lease_minutes = 5\nsources = ["rss=https://feeds.example/a.xml"]\nport = 9000\n'
    )
    monkeypatch.setenv("FACTCHECK_CONFIG", str(config))
    monkeypatch.setenv("FACTCHECK_PORT", "9100")
    s = Settings()
    assert (s.lease_minutes, s.sources, s.port) == (5, ["rss=https://feeds.example/a.xml"], 9100)


def test_default_database_is_sqlite_in_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FACTCHECK_DATABASE_URL", raising=False)
    monkeypatch.setenv("FACTCHECK_DATA_DIR", str(tmp_path))
    assert Settings().resolved_database_url == f"sqlite:///{tmp_path}/factcheck.db"
