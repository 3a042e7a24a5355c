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


def test_a_chunk_reports_its_failing_claim_and_finishes_the_others(
    db,
    prefect_api,
    corpus_env,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 15 item 3: claims run in chunks of FACTCHECK_BATCH_CHUNK per task. One claim of
    a chunk fails once (the chunk's retry finishes it), one fails every time (reported with
    its own error); the retry redoes neither the finished claims nor their reports."""
    from evidence import claims
    from evidence.settings import get_settings
    from flows import steps
    from flows.steps import VerifyConfig
    from flows.verify import run_batch_with_progress

    monkeypatch.setenv("FACTCHECK_BATCH_CHUNK", "3")
    get_settings.cache_clear()
    ids: list[int] = []
    with Session(db.engine, expire_on_commit=False) as s:
        for c in corpus_env.claims()[:4]:
            data = claims.make_create(text=c["text"], url=c.get("url"), claim_date=c.get("date"))
            ids.append(claims.add_claim(s, data, actor="test").claim.id)  # type: ignore[arg-type]
        s.commit()
    flaky, broken = ids[1], ids[2]  # both in the first chunk, with ids[0]
    attempts: dict[int, int] = {}
    real_rank = steps.rank

    def rank(claim_id: int, *args, **kwargs):  # type: ignore[no-untyped-def]
        attempts[claim_id] = attempts.get(claim_id, 0) + 1
        if claim_id == broken or (claim_id == flaky and attempts[claim_id] == 1):
            raise RuntimeError(f"ranker crashed on claim {claim_id}")
        return real_rank(claim_id, *args, **kwargs)

    monkeypatch.setattr(steps, "rank", rank)
    reported: list[tuple[int, str]] = []
    summary = run_batch_with_progress(
        ids, VerifyConfig(), on_result=lambda o: reported.append((o.claim_id, o.status))
    )
    assert summary["total"] == 4
    assert summary["queued"] == 3 and summary["failed"] == 1
    assert summary["failures"] == [
        {"claim_id": broken, "error": f"RuntimeError: ranker crashed on claim {broken}"}
    ]
    # each claim reported once, as it ended; the retry did not redo the finished claims
    assert sorted(reported) == sorted(
        [(ids[0], "queued"), (flaky, "queued"), (broken, "failed"), (ids[3], "queued")]
    )
    assert attempts == {ids[0]: 1, flaky: 2, broken: 2, ids[3]: 1}
    with Session(db.engine) as s:
        runs = s.exec(select(Run.claim_id, Run.status)).all()
        statuses = {c: s.get(Claim, c).status for c in ids}  # type: ignore[union-attr]
    assert sorted(r for r in runs if r[0] in (ids[0], ids[3])) == [
        (ids[0], "done"),
        (ids[3], "done"),
    ]
    assert sorted(st for c, st in runs if c == flaky) == ["done", "failed"]
    assert statuses == {ids[0]: "queued", flaky: "queued", broken: "failed", ids[3]: "queued"}
    assert audit.verify_chain(audit.iter_events(db.engine)).ok
