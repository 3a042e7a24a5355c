"""`factcheck verify`, `verify-batch`, `reverify` on the command line: what they refuse,
and what they keep out of the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from evidence import claims
from evidence.models import AuditEvent, Claim, Run
from evidence.settings import get_settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def no_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACTCHECK_SOURCES", raising=False)
    monkeypatch.delenv("FACTCHECK_CONFIG", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no factcheck.toml here either
    get_settings.cache_clear()


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with Session(db.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def _refused_for_no_source(result) -> None:  # type: ignore[no-untyped-def]
    assert result.code == 2, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert "FACTCHECK_SOURCES" in result.err and "--source KIND=URL" in result.err


def test_verify_without_a_source_is_refused_and_writes_nothing(db, cli, no_sources) -> None:  # type: ignore[no-untyped-def]
    _refused_for_no_source(cli("verify", "The tax was raised by 3 percent"))
    assert _count(db, Claim) == 0
    with Session(db.engine) as s:
        claim_id = claims.add_claim(
            s, claims.make_create(text="The bridge opened in 1932"), actor="test"
        ).claim.id
        s.commit()
    events = _count(db, AuditEvent)
    _refused_for_no_source(cli("verify", "--claim-id", str(claim_id), "--force"))
    batch = Path(db.data_dir) / "claims.jsonl"
    batch.write_text(json.dumps({"text": "The dam holds 3 billion litres"}) + "\n")
    _refused_for_no_source(cli("verify-batch", str(batch)))
    _refused_for_no_source(cli("reverify"))
    _refused_for_no_source(cli("schedule"))
    assert (_count(db, Claim), _count(db, Run), _count(db, AuditEvent)) == (1, 0, events)
    with Session(db.engine) as s:
        assert s.get(Claim, claim_id).status == "new"  # type: ignore[union-attr]


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``python -m flows.cli ARGS`` in a fresh process, as a user runs it (no Prefect
    settings inherited from the test process)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREFECT_") and k not in ("DO_NOT_TRACK", "PYTEST_CURRENT_TEST")
    }
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


PREFECT_LINES = ("| INFO", "| WARNING", "Flow run", "Task run", "prefect.")


def test_cli_keeps_prefect_logs_out_of_the_terminal(sqlite_db, corpus_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No Prefect log line on the terminal without -v, the log file in the data directory
    has them, and no telemetry is attempted; with -v they are on stderr."""
    claim, other = corpus_env.claims()[2], corpus_env.claims()[3]
    done = _run(["verify", claim["text"], "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["status"] == "queued"
    terminal = done.stdout + done.stderr
    assert not [n for n in PREFECT_LINES if n in terminal], terminal
    assert "telemetry" not in terminal.lower()
    assert "starting the workflow engine" in done.stderr
    log = (sqlite_db.data_dir / "logs" / "prefect.log").read_text(encoding="utf-8")
    assert "Flow run" in log and "Finished in state Completed" in log
    assert "telemetry" not in log.lower()

    verbose = _run(["-v", "verify", other["text"]], tmp_path)
    assert verbose.returncode == 0, verbose.stderr
    assert "Flow run" in verbose.stderr and "Finished in state Completed" in verbose.stderr
