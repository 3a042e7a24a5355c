"""Who the audit chain names for an action: one spelling per channel, built here only.

An actor is ``CHANNEL:NAME``: ``user:alice`` (a named reviewer acting through the CLI or a
queue operation), ``web:alice`` (the same person through the web app), ``client:10.0.0.7``
(an unauthenticated web client, e.g. a failed sign-in), ``cli:root`` (an
unnamed command-line user, by OS account), ``flow-run:<uuid>`` (a Prefect flow run) and
``flow:local`` (a flow function called outside any run). Auditors filter on the channel,
so it must never be spelled two ways.
"""

from __future__ import annotations

import getpass
import os


def user_actor(name: str, *, channel: str = "user") -> str:
    """A named person: ``user:NAME``, or ``web:NAME`` for the web app."""
    return f"{channel}:{name}"


def cli_actor(name: str | None = None) -> str:
    """A CLI action: ``--as`` name, else FACTCHECK_ACTOR or the OS user (``cli:root``)."""
    if name:
        return user_actor(name)
    try:
        user = os.environ.get("FACTCHECK_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"


def os_user() -> str:
    """The name a CLI user goes by when they gave none (FACTCHECK_ACTOR or the OS account)."""
    return cli_actor().split(":", 1)[1]


def flow_actor(flow_run_id: object | None) -> str:
    """A Prefect flow run, or ``flow:local`` outside one."""
    return f"flow-run:{flow_run_id}" if flow_run_id else "flow:local"
