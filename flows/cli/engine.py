"""The workflow engine (Prefect) as the command line runs it: quiet, local, no telemetry.

Prefect reads its settings and its logging config once, when it is imported, so this
module acts before that:

- ``configure`` (every command, from the root callback): Prefect's server analytics off,
  ``DO_NOT_TRACK=1`` and 90 s for its temporary server to start, unless the user set them;
- ``start_engine`` (the commands that run flows, before they import Prefect): unless ``-v``,
  Prefect's log lines go to ``<data_dir>/logs/prefect.log`` instead of the terminal (its
  own logging config, with the handlers that wrote to the terminal writing to that file,
  named by ``PREFECT_LOGGING_SETTINGS_PATH`` unless the user set one); then Prefect's
  temporary server is started under "starting the workflow engine…" when no
  ``PREFECT_API_URL`` is set, instead of silently inside the first flow call.

The temporary server is a child process: it inherits these variables, so its log lines
go to the same file.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from evidence.errors import FactcheckError
from evidence.settings import get_settings

ENGINE_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # Prefect's 20 s is short for its temporary server on two busy cores (as in the Makefile)
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}
LOG_DIR = "logs"
LOG_FILE = "prefect.log"
LOG_CONFIG_FILE = "prefect-logging.yml"
STARTING = "starting the workflow engine…"
# Prefect's handlers that write to the terminal
_TERMINAL_HANDLERS = ("console", "debug")
NOT_STARTED = (
    "The workflow engine (Prefect's temporary server) did not start in time; set "
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS higher, or PREFECT_API_URL to a running "
    "Prefect server."
)


class _State:
    verbose = False
    set_here: list[str] = []  # noqa: RUF012 - one process-wide record, reset by restore


def configure(verbose: bool = False) -> None:
    """Remember ``-v`` and switch Prefect's telemetry off, unless the user set it."""
    _State.verbose = verbose
    for key, value in ENGINE_DEFAULTS.items():
        _set_default(key, value)


def restore_environment() -> None:
    """Remove what this module put in the environment (for in-process callers: tests)."""
    for key in _State.set_here:
        os.environ.pop(key, None)
    _State.set_here = []
    _State.verbose = False


def _set_default(key: str, value: str) -> None:
    if key not in os.environ:
        os.environ[key] = value
        _State.set_here.append(key)


def log_file() -> Path:
    return get_settings().data_dir / LOG_DIR / LOG_FILE


def route_logs() -> Path | None:
    """Send Prefect's log lines to the log file, unless ``-v`` or the user's own logging
    config; the file, or None when they stay on the terminal."""
    if _State.verbose or "PREFECT_LOGGING_SETTINGS_PATH" in os.environ:
        return None
    target = log_file()
    config = target.parent / LOG_CONFIG_FILE
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(yaml.safe_dump(file_logging_config(target)), encoding="utf-8")
    except OSError:  # an unwritable data directory: better on the terminal than lost
        return None
    _set_default("PREFECT_LOGGING_SETTINGS_PATH", str(config))
    return target


def file_logging_config(target: Path) -> dict[str, Any]:
    """Prefect's own logging config, its terminal handlers writing to ``target`` instead."""
    spec = importlib.util.find_spec("prefect")  # finds the package without importing it
    assert spec is not None and spec.origin is not None
    default = Path(spec.origin).parent / "logging" / "logging.yml"
    config: dict[str, Any] = yaml.safe_load(default.read_text(encoding="utf-8"))
    for formatter in config["formatters"].values():
        if "datefmt" in formatter:
            formatter["datefmt"] = "%Y-%m-%d %H:%M:%S"  # a file outlives the day
    for name in _TERMINAL_HANDLERS:
        handler = config["handlers"][name]
        config["handlers"][name] = {
            "level": handler.get("level", 0),
            "class": "logging.FileHandler",
            "formatter": handler["formatter"],
            # Prefect substitutes $SETTING in the file: a "$" in the path must stay one
            "filename": str(target).replace("$", "$$"),
            "encoding": "utf-8",
            "delay": True,
        }
    return config


def start_engine(console: Console) -> None:
    """Prefect ready to run flows in this process: logs routed, temporary server up."""
    route_logs()
    from prefect.settings import PREFECT_API_URL  # noqa: PLC0415 - only after route_logs: Prefect reads its logging config at import

    if PREFECT_API_URL.value():
        return
    from prefect.server.api.server import SubprocessASGIServer  # noqa: PLC0415 - the server code is only needed here

    try:
        if console.is_terminal:
            with console.status(STARTING):
                SubprocessASGIServer().start()
        else:
            console.print(STARTING)
            SubprocessASGIServer().start()
    except RuntimeError as exc:  # Prefect's own: "Timed out while attempting to connect…"
        raise FactcheckError(NOT_STARTED) from exc
