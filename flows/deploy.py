"""Deployments: the nightly schedule on one machine, and work-pool deployments for many.

One machine (`factcheck schedule`): Prefect's temporary server dies with its process and
cannot hold a schedule, so when ``PREFECT_API_URL`` is not set we start
``prefect server start`` on 127.0.0.1 ourselves, then ``serve()`` the nightly flow with its
cron and time zone from the settings. Nothing else to install.

Many machines (`factcheck deploy --pool NAME`): a Prefect server on PostgreSQL, a process
work pool, one worker per machine; see README "Beyond one machine" and prefect.yaml.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from evidence.errors import FactcheckError
from evidence.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT_S = 120
DEPLOYMENTS = (
    # (entrypoint, deployment name, scheduled?)
    ("flows/verify.py:verify_claim", "verify-claim", False),
    ("flows/verify.py:verify_batch", "verify-batch", False),
    ("flows/nightly.py:nightly_reverify", "nightly-reverify", True),
)


def wait_healthy(api_url: str, timeout_s: float = SERVER_START_TIMEOUT_S,
                 process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise FactcheckError(f"The Prefect server exited with code {process.returncode}.")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise FactcheckError(f"The Prefect server at {api_url} was not healthy in {timeout_s:g} s.")


def start_server(port: int = 4200, env: dict[str, str] | None = None,
                 log_path: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """`prefect server start` on 127.0.0.1 as a child process; returns it and its API URL."""
    api_url = f"http://127.0.0.1:{port}/api"
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **(env or {})},
        stdout=out, stderr=subprocess.STDOUT)
    wait_healthy(api_url, process=process)
    return process, api_url


def nightly_schedule():  # type: ignore[no-untyped-def]
    from prefect.schedules import Cron

    settings = get_settings()
    return Cron(settings.nightly_cron, timezone=settings.timezone)


def serve_nightly(*, start_server_if_needed: bool = True) -> None:
    """Serve `nightly-reverify` on its schedule until interrupted."""
    server = None
    if not os.environ.get("PREFECT_API_URL") and start_server_if_needed:
        data_dir = get_settings().data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        server, api_url = start_server(log_path=data_dir / "prefect-server.log")
        os.environ["PREFECT_API_URL"] = api_url
    try:
        from flows.nightly import nightly_reverify

        nightly_reverify.serve(name="nightly-reverify", schedules=[nightly_schedule()])
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def deploy_to_pool(pool: str, *, source: str | None = None) -> list[str]:
    """Register the three deployments with a process work pool; returns their names."""
    from prefect import flow

    names = []
    for entrypoint, name, scheduled in DEPLOYMENTS:
        remote = flow.from_source(source=source or str(ROOT), entrypoint=entrypoint)
        remote.deploy(name=name, work_pool_name=pool, print_next_steps=False,
                      schedules=[nightly_schedule()] if scheduled else None)
        names.append(f"{remote.name}/{name}")
    return names
