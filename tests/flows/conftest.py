"""Flow fixtures: one Prefect test harness per session, and the demo corpus served live."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.server import CorpusServer
from evidence.settings import get_settings


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prefect's test harness (a temporary server on SQLite); yields its API URL."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    # the harness's 30 s start timeout is tight on 2 busy cores (PREFECT_NOTES.md)
    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


@pytest.fixture(scope="session")
def corpus() -> Iterator[CorpusServer]:
    with CorpusServer() as server:
        yield server


@pytest.fixture
def corpus_env(corpus: CorpusServer, monkeypatch: pytest.MonkeyPatch) -> CorpusServer:
    """Point the app at the live corpus: its sources, the loopback allowlist, no delays."""
    for key, value in corpus.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FACTCHECK_PER_HOST_DELAY_S", "0")
    get_settings.cache_clear()
    return corpus


def demo_claims_file(corpus: CorpusServer, tmp_path: Path) -> Path:
    return corpus.write_claims(tmp_path / "claims.jsonl")
