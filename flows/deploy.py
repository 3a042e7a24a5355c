"""Deployments: the nightly schedule on one machine, and work-pool deployments for many.

One machine (`factcheck schedule`): Prefect's temporary server dies with its process and
cannot hold a schedule, so when ``PREFECT_API_URL`` is not set we start
``prefect server start`` on 127.0.0.1 ourselves, then ``serve()`` the nightly flow with its
cron and time zone from the settings. Nothing else to install.

Many machines (`factcheck deploy --pool NAME`, or ``prefect deploy --all`` with the repo's
prefect.yaml): a Prefect server on PostgreSQL, a process work pool, one worker per machine
with this project installed; see docs/deployment.md.
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

import httpx

from evidence.errors import FactcheckError
from evidence.settings import get_settings

if TYPE_CHECKING:
    from prefect.schedules import Schedule

ROOT = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30
DEFAULT_POOL = "factcheck"
DEPLOYMENTS = (
    # (module, flow function, deployment name, on the nightly schedule?) — prefect.yaml
    # lists the same three (a test compares them).
    ("flows.verify", "verify_claim", "verify-claim", False),
    ("flows.verify", "verify_batch", "verify-batch", False),
    ("flows.nightly", "nightly_reverify", "nightly-reverify", True),
)


def module_entrypoint(module: str, function: str) -> str:
    """``flows.verify.verify_claim``: a worker imports it from the installed package."""
    return f"{module}.{function}"


def file_entrypoint(module: str, function: str) -> str:
    """``flows/verify.py:verify_claim``: relative to a checkout pulled from ``source``."""
    return f"{module.replace('.', '/')}.py:{function}"


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def wait_healthy(
    api_url: str,
    timeout_s: float = SERVER_START_TIMEOUT_S,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Block until ``api_url``/health answers 200 (or the server process dies)."""
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


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Terminate, and kill what does not stop in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout_s)


def start_server(
    port: int = 4200, env: dict[str, str] | None = None, log_path: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`prefect server start` on 127.0.0.1 as a child process; returns it and its API URL.

    ``env`` is laid over this process's environment (e.g. PREFECT_HOME, or
    PREFECT_API_DATABASE_CONNECTION_URL for PostgreSQL).
    """
    # a server already listening there would answer our health check in our server's place
    if port_in_use(port):
        raise FactcheckError(
            f"Port {port} on 127.0.0.1 is in use; set PREFECT_API_URL to the Prefect server "
            "there, or choose another port (FACTCHECK_PREFECT_PORT)."
        )
    api_url = f"http://127.0.0.1:{port}/api"
    out = open(log_path, "ab") if log_path else None  # noqa: SIM115 - closed below
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **(env or {})},
            stdout=out or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
    finally:
        if out is not None:
            out.close()  # the child holds its own descriptor
    try:
        wait_healthy(api_url, process=process)
    except BaseException:
        stop_process(process)
        raise
    return process, api_url


def nightly_schedule() -> Schedule:
    """The nightly cron in the configured time zone (FACTCHECK_NIGHTLY_CRON, _TIMEZONE)."""
    from prefect.schedules import Cron  # noqa: PLC0415 - Prefect costs ~2 s to import: only the commands that run flows pay it

    settings = get_settings()
    return Cron(settings.nightly_cron, timezone=settings.timezone)


def serve_nightly(*, start_server_if_needed: bool = True) -> None:
    """Serve `nightly-reverify` on its schedule until interrupted (SIGINT or SIGTERM)."""
    server = None
    api_url = os.environ.get("PREFECT_API_URL", "")
    if not api_url and start_server_if_needed:
        settings = get_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        server, api_url = start_server(
            settings.prefect_port, log_path=settings.data_dir / "prefect-server.log"
        )
        # the flow runs serve() starts are child processes: they read the environment
        os.environ["PREFECT_API_URL"] = api_url
    try:
        from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415 - Prefect costs ~2 s to import: only the commands that run flows pay it

        from flows.nightly import nightly_reverify  # noqa: PLC0415 - Prefect costs ~2 s to import: only the commands that run flows pay it

        # Prefect reads its settings once at import; make sure this process sees the URL
        with temporary_settings(updates={PREFECT_API_URL: api_url} if api_url else {}):
            nightly_reverify.serve(name="nightly-reverify", schedules=[nightly_schedule()])
    finally:
        if server is not None:
            stop_process(server)


def deploy_to_pool(pool: str = DEFAULT_POOL, *, source: str | None = None) -> list[str]:
    """Register verify-claim, verify-batch and nightly-reverify with a process work pool.

    Without ``source`` the workers import the flows from the installed ``factcheck``
    package (no code to pull, any working directory); with ``source`` (a git URL or a
    directory every worker can read) each run pulls the code from there first. Returns
    the deployments' full names (``flow/deployment``).
    """

    from prefect import Flow  # noqa: PLC0415 - Prefect costs ~2 s to import: only the commands that run flows pay it
    from prefect.types.entrypoint import EntrypointType  # noqa: PLC0415 - Prefect costs ~2 s to import: only the commands that run flows pay it

    names = []
    for module, function, name, scheduled in DEPLOYMENTS:
        schedules = [nightly_schedule()] if scheduled else None
        if source is None:
            local = getattr(importlib.import_module(module), function)
            deployment = local.to_deployment(
                name,
                work_pool_name=pool,
                schedules=schedules,
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        else:
            # from_source is sync here (we are not in an event loop)
            remote = cast(
                "Flow[..., object]",
                Flow.from_source(source=source, entrypoint=file_entrypoint(module, function)),
            )
            deployment = remote.to_deployment(name, work_pool_name=pool, schedules=schedules)
        deployment.apply()
        names.append(f"{deployment.flow_name}/{name}")
    return names
