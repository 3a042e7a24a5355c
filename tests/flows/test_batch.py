"""verify-batch: progress, per-claim failures, and a kill -9 half-way that a re-run repairs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from evidence import audit
from evidence.models import Candidate, Claim, Evidence, Fetch, Passage, ReviewTask, Run

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def _batch_file(corpus, tmp_path: Path, extra: list[str] = ()) -> Path:  # type: ignore[no-untyped-def]
    path = corpus.write_claims(tmp_path / "claims.jsonl")
    with path.open("a") as fh:
        for line in extra:
            fh.write(line + "\n")
    return path


def test_batch_reports_each_failure_and_finishes_the_rest(
    db,
    prefect_api,
    corpus_env,
    cli,  # type: ignore[no-untyped-def]
    tmp_path,
) -> None:
    path = _batch_file(
        corpus_env,
        tmp_path,
        [
            '{"text": ""}',
            "this line is not json",
            json.dumps(
                {
                    "text": "The lighthouse keepers' union won a 40 percent raise in 2019",
                    "url": "http://127.0.0.1:9/gone",
                }
            ),
        ],
    )
    r = cli("verify-batch", str(path), "--json")
    summary = json.loads(r.out.strip().splitlines()[-1])
    assert r.code == 1  # something failed, and the user is told so
    assert {row["line"] for row in summary["bad_rows"]} == {8, 9}
    assert "line 8: The claim text is empty" in summary["bad_rows"][0]["error"]
    # the dead origin is a failed fetch, not a failed claim: it is still verified
    assert summary["queued"] == summary["total"] == len(corpus_env.claims()) + 1
    with Session(db.engine) as s:
        queued = s.exec(select(func.count()).select_from(ReviewTask)).one()
        dead = s.exec(select(Fetch).where(Fetch.requested_url == "http://127.0.0.1:9/gone")).one()
        ok_urls = s.exec(select(Fetch.requested_url).where(Fetch.status_code == 200)).all()
    assert queued == summary["queued"]
    assert dead.error_kind in {"connect", "robots"}
    # claims verified side by side share pages: each is fetched once, not once per claim
    assert len(ok_urls) == len(set(ok_urls))
    again = cli("verify-batch", str(path), "--json")
    assert json.loads(again.out.strip().splitlines()[-1])["skipped"] == summary["total"]


def _counts(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return {
            "claims": s.exec(select(func.count()).select_from(Claim)).one(),
            "queued": s.exec(
                select(func.count()).select_from(Claim).where(Claim.status == "queued")
            ).one(),
        }


def test_kill_9_mid_batch_then_rerun_finishes_without_duplicates(
    db,
    prefect_api,
    corpus_env,  # type: ignore[no-untyped-def]
    tmp_path,
) -> None:
    path = _batch_file(corpus_env, tmp_path)
    total = len(corpus_env.claims())
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    corpus_env.latency_s = 0.05  # slow enough to kill it half-way
    command = [sys.executable, "-m", "flows.cli", "verify-batch", str(path), "--concurrency", "1"]
    try:
        proc = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if 1 <= _counts(db.engine)["queued"] < total:
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        corpus_env.latency_s = 0.0
    partial = _counts(db.engine)
    assert partial["claims"] == total and partial["queued"] < total
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _counts(db.engine)["queued"] == total
    with Session(db.engine) as s:
        ok_urls = s.exec(select(Fetch.requested_url).where(Fetch.status_code == 200)).all()
        assert len(ok_urls) == len(set(ok_urls)), "a page fetched in full twice"
        pairs = s.exec(select(Passage.fetch_id, Passage.ordinal)).all()
        assert len(pairs) == len(set(pairs))
        triples = s.exec(select(Candidate.claim_id, Candidate.url, Candidate.adapter)).all()
        assert len(triples) == len(set(triples))
        per_claim = s.exec(
            select(Evidence.claim_id, func.count())
            .where(col(Evidence.active).is_(True))
            .group_by(col(Evidence.claim_id))
        ).all()
        assert len(per_claim) == total, "a claim lost its evidence"
        runs = s.exec(select(Run.status, func.count()).group_by(col(Run.status))).all()
        assert dict(runs).get("running", 0) == 0
        tasks = s.exec(select(func.count()).select_from(ReviewTask)).one()
    assert tasks == total
    assert audit.verify_chain(audit.iter_events(db.engine)).ok
