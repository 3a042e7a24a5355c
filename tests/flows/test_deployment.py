"""Deployments, for real: a Prefect server and a worker as separate processes.

Many machines, brought up on this one: Prefect's server on its own PostgreSQL database, a
process work pool, the three deployments (by ``factcheck deploy`` and by ``prefect deploy
--all`` from prefect.yaml — both must agree), a worker whose app tables are on PostgreSQL
too, and one verification run through it. One machine: ``factcheck schedule`` starts its
own Prefect server and serves the nightly deployment with the configured cron and time zone.

Nothing here leans on the session's Prefect test harness: every process gets an explicit
environment, and in-process client calls pin PREFECT_API_URL with ``temporary_settings``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from demo.server import CorpusServer
from evidence import claims
from evidence.archive import resolve_file
from evidence.errors import FactcheckError
from evidence.models import Claim, Evidence, Fetch, ReviewTask, Run
from evidence.settings import Settings
from flows.deploy import (
    DEPLOYMENTS,
    ROOT,
    module_entrypoint,
    start_server,
    stop_process,
    wait_healthy,
)
from tests.conftest import DB, PG_ADMIN_URL, _admin_engine

POOL = "factcheck"
RUN_TIMEOUT_S = 240
SCHEDULE_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any PREFECT_ or FACTCHECK_ setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FACTCHECK_"))}
    return {**env, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **extra}


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path.name} missing)"
    last = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- {path.name} ---\n" + "\n".join(last)


@contextmanager
def _prefect_database() -> Iterator[str]:
    """A PostgreSQL database for Prefect's own tables; dropped afterwards, whatever happened."""
    name = f"prefect_test_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        base = make_url(PG_ADMIN_URL)
        yield (f"postgresql+asyncpg://{base.username}@{base.host}:{base.port}/{name}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _process(
    args: list[str], env: dict[str, str], log: Path, cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        process = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop_process(process)


@contextmanager
def _pinned(api_url: str) -> Iterator[None]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        yield


@dataclass
class Cluster:
    api_url: str
    env: dict[str, str]  # what every Prefect process of the cluster gets
    logs: Path
    figures: dict[str, float]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """Prefect's server on PostgreSQL in its own process, and a process work pool."""
    logs = tmp_path / "logs"
    logs.mkdir()
    home = tmp_path / "prefect-home"
    home.mkdir()
    port = _free_port()
    with ExitStack() as stack:
        database = stack.enter_context(_prefect_database())
        env = _clean_env(PREFECT_HOME=str(home), PREFECT_API_URL=f"http://127.0.0.1:{port}/api")
        started = time.monotonic()
        server, api_url = start_server(
            port,
            env={**env, "PREFECT_API_DATABASE_CONNECTION_URL": database},
            log_path=logs / "server.log",
        )
        stack.callback(stop_process, server)
        figures = {"server_healthy_s": time.monotonic() - started}
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.actions import WorkPoolCreate

        with _pinned(api_url), get_client(sync_client=True) as client:
            client.create_work_pool(WorkPoolCreate(name=POOL, type="process"))
        yield Cluster(api_url, env, logs, figures)


def _deployments(api_url: str) -> dict[str, dict[str, Any]]:
    """What the server holds for our three deployments, in comparable form."""
    from prefect.client.orchestration import get_client

    found = {}
    with _pinned(api_url), get_client(sync_client=True) as client:
        for module, function, name, _ in DEPLOYMENTS:
            flow_name = name  # flow names and deployment names coincide (kebab-case)
            d = client.read_deployment_by_name(f"{flow_name}/{name}")
            found[name] = {
                "entrypoint": d.entrypoint,
                "pool": d.work_pool_name,
                "schedules": [
                    (s.schedule.cron, s.schedule.timezone)  # type: ignore[union-attr]
                    for s in d.schedules
                ],
                "pull_steps": d.pull_steps or [],
                "id": d.id,
            }
            assert d.entrypoint == module_entrypoint(module, function)
    return found


def test_prefect_yaml_lists_the_deployments_factcheck_deploy_registers() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    listed = {d["name"]: d for d in spec["deployments"]}
    assert set(listed) == {name for _, _, name, _ in DEPLOYMENTS}
    defaults = Settings.model_fields
    for module, function, name, scheduled in DEPLOYMENTS:
        entry = listed[name]
        assert entry["entrypoint"] == module_entrypoint(module, function)
        assert entry["work_pool"]["name"] == POOL
        expected = (
            [{"cron": defaults["nightly_cron"].default, "timezone": defaults["timezone"].default}]
            if scheduled
            else []
        )
        assert entry.get("schedules", []) == expected
    assert spec["pull"] == []  # workers import the installed package: nothing to pull


def test_start_server_refuses_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(FactcheckError, match="in use"):
            start_server(busy.getsockname()[1])


def _add_claim(db: DB, corpus: CorpusServer) -> int:
    first = corpus.claims()[0]
    with Session(db.engine, expire_on_commit=False) as s:
        claim = claims.add_claim(
            s,
            claims.make_create(
                text=first["text"],
                url=first["url"],
                claimant=first["claimant"],
                claim_date=first["date"],
            ),
            actor="test",
        ).claim
        s.commit()
    assert claim.id is not None
    return claim.id


@pytest.mark.slow
@pytest.mark.postgres
def test_a_verification_runs_through_a_prefect_server_and_a_worker(  # type: ignore[no-untyped-def]
    cluster: Cluster, pg_db: DB, corpus: CorpusServer, tmp_path: Path, cli
) -> None:
    from prefect.deployments import run_deployment

    figures = cluster.figures
    started = time.monotonic()
    with _pinned(cluster.api_url):
        result = cli("deploy", "--pool", POOL)
    assert result.code == 0, result.err
    assert result.out.count(f"to work pool {POOL}") == len(DEPLOYMENTS)
    by_command = _deployments(cluster.api_url)
    figures["factcheck_deploy_s"] = time.monotonic() - started

    started = time.monotonic()
    deployed = subprocess.run(
        [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all"],
        cwd=ROOT,
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert deployed.returncode == 0, deployed.stdout[-2000:] + deployed.stderr[-2000:]
    figures["prefect_deploy_all_s"] = time.monotonic() - started
    # prefect.yaml updates the very deployments `factcheck deploy` made, to the same spec
    assert _deployments(cluster.api_url) == by_command
    nightly = by_command["nightly-reverify"]["schedules"]
    assert nightly == [("0 2 * * *", "UTC")]

    # the worker: another machine, with only settings and the shared stores in common
    shared = tmp_path / "shared-data"
    shared.mkdir()
    worker_env = {
        **cluster.env,
        **corpus.environment(),
        "FACTCHECK_DATABASE_URL": pg_db.url,
        "FACTCHECK_DATA_DIR": str(shared),
        "FACTCHECK_PER_HOST_DELAY_S": "0",
    }
    elsewhere = tmp_path / "worker-cwd"  # no checkout needed: flows come from the package
    elsewhere.mkdir()
    claim_id = _add_claim(pg_db, corpus)
    started = time.monotonic()
    with _process(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL],
        worker_env,
        cluster.logs / "worker.log",
        elsewhere,
    ):
        with _pinned(cluster.api_url):
            flow_run = run_deployment(
                "verify-claim/verify-claim",
                parameters={"claim_id": claim_id},
                timeout=RUN_TIMEOUT_S,
                poll_interval=1,
            )
    figures["run_through_worker_s"] = time.monotonic() - started
    logs = _tail(cluster.logs / "worker.log")
    assert flow_run.state is not None and flow_run.state.is_completed(), f"{flow_run.state}\n{logs}"

    with Session(pg_db.engine) as s:
        claim = s.get(Claim, claim_id)
        assert claim is not None and claim.status == "queued", logs
        assert s.exec(select(ReviewTask).where(ReviewTask.claim_id == claim_id)).one()
        assert s.exec(select(Evidence).where(Evidence.claim_id == claim_id)).all()
        run = s.exec(select(Run).where(Run.claim_id == claim_id)).one()
        assert run.status == "done"
        assert run.flow_run_id == str(flow_run.id)
        warcs = {
            f.warc_file for f in s.exec(select(Fetch).where(Fetch.run_id == run.id)) if f.warc_file
        }
    # the worker archived what it fetched on the storage it was given
    assert warcs and all(resolve_file(w, shared / "warc").is_file() for w in warcs)
    print(f"\ndeployment figures: {', '.join(f'{k}={v:.1f}' for k, v in figures.items())}")


def _deployment(api_url: str, name: str) -> dict[str, Any] | None:
    try:
        answer = httpx.get(f"{api_url}/deployments/name/{name}", timeout=5)
    except httpx.HTTPError:
        return None
    return answer.json() if answer.status_code == 200 else None


@pytest.mark.slow
def test_factcheck_schedule_serves_the_nightly_deployment_on_its_own_server(  # type: ignore[no-untyped-def]
    sqlite_db: DB, tmp_path: Path
) -> None:
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = _clean_env(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        FACTCHECK_DATABASE_URL=sqlite_db.url,
        FACTCHECK_DATA_DIR=str(sqlite_db.data_dir),
        FACTCHECK_PREFECT_PORT=str(port),
        FACTCHECK_NIGHTLY_CRON="30 3 * * 1-5",
        FACTCHECK_TIMEZONE="Europe/Paris",
        FACTCHECK_SOURCES="rss=http://127.0.0.1:9/feed.xml",  # without one it is refused
    )
    log = tmp_path / "schedule.log"
    started = time.monotonic()
    factcheck = str(Path(sys.executable).with_name("factcheck"))
    with _process([factcheck, "schedule"], env, log, tmp_path) as schedule:
        wait_healthy(api_url, timeout_s=SCHEDULE_TIMEOUT_S, process=schedule)
        deadline = time.monotonic() + SCHEDULE_TIMEOUT_S
        deployment = None
        while deployment is None and time.monotonic() < deadline and schedule.poll() is None:
            deployment = _deployment(api_url, "nightly-reverify/nightly-reverify")
            time.sleep(0.5)
        served_s = time.monotonic() - started
        assert deployment is not None, _tail(log)
        schedules = [
            (s["schedule"]["cron"], s["schedule"]["timezone"])
            for s in deployment["schedules"]
            if s["active"]
        ]
        assert schedules == [("30 3 * * 1-5", "Europe/Paris")]
        assert (sqlite_db.data_dir / "prefect-server.log").is_file()
        schedule.send_signal(signal.SIGTERM)
        assert schedule.wait(timeout=60) == 0, _tail(log)
    # stopping `factcheck schedule` stops the server it started
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api_url}/health", timeout=2)
    print(f"\nfactcheck schedule served nightly-reverify in {served_s:.1f} s")
