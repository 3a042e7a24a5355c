"""Prefect's per-task overhead against a batched fetch: the measurement behind the flows'
task granularity (one task per claim step, never one per URL).

    python -m bench.prefect_granularity                  # 50 pages, 5 rounds
    python -m bench.prefect_granularity --pages 50 --rounds 5 --latency 0.05

The same 50 pages of a synthetic corpus (served by ``demo.server`` in its own
process, on 6 loopback hosts) are fetched three ways, each through one shared
``sources.fetch.AsyncFetcher`` (robots.txt, politeness slots, WARC archiving all on; the
per-host delay 0 so that politeness does not hide the overhead):

  (a) plain ``asyncio.gather`` in this process, no Prefect;
  (b) one Prefect task per URL, gathered inside a flow;
  (c) one Prefect task fetching all of them with ``asyncio.gather``, inside a flow.

Flows run against one standing ``prefect server start`` (what a deployment uses; its
start-up is reported apart). For (b) and (c) two times are kept: the fetching inside the
flow, and the whole flow call (flow-run creation and completion included). One warm-up
round is not counted; the order of the variants turns each round (a flow's run records are
sent in the background and slow what follows it) and the median is reported.
Per-task overhead = ((b) − (a)) / pages. Then the server's side: its CPU time
(``/proc/PID/stat``) over three calls of (b) and of (c), each measured from an idle server to
an idle server (the run records are written after the call returns); per task run =
((b) − (c)) / (pages − 1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench.flows import BASE_ENV, HOSTS, SEED, claim_urls, corpus_server, prefect_server

PAGES = 50
ROUNDS = 5
LATENCY_S = 0.0  # loopback as is: the overhead is what is measured
PAGES_PER_CLAIM = 10
SERVER_COST_CALLS = 3  # flow calls per variant when measuring the server's CPU
SETTLE_STEP_S = 1.0
SETTLE_IDLE_CPU_S = 0.02  # the server counts as idle below this much CPU per step
SETTLE_MAX_S = 60.0

_fetcher: contextvars.ContextVar[Any] = contextvars.ContextVar("granularity_fetcher")


def _configure(data_dir: Path, api_url: str) -> None:
    """This process's settings: before Prefect or our settings are first imported."""
    os.environ.update(BASE_ENV)
    os.environ.pop("FACTCHECK_DATABASE_URL", None)
    os.environ.update(
        {
            "FACTCHECK_DATA_DIR": str(data_dir),
            "FACTCHECK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "FACTCHECK_PER_HOST_DELAY_S": "0",
            "FACTCHECK_CONFIG": str(data_dir / "absent.toml"),
            "PREFECT_HOME": str(data_dir / "prefect"),
            "PREFECT_API_URL": api_url,
        }
    )


def _variants() -> dict[str, Callable[[list[str]], Coroutine[Any, Any, tuple[float, int]]]]:
    """The three ways, each returning (seconds spent fetching, pages fetched ok)."""
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    from sources.fetch import AsyncFetcher

    @task(name="fetch-one-url", cache_policy=NO_CACHE)
    async def fetch_one(url: str) -> bool:
        return bool((await _fetcher.get().get(url)).ok)

    @task(name="fetch-all-urls", cache_policy=NO_CACHE)
    async def fetch_all(urls: list[str]) -> list[bool]:
        results = await asyncio.gather(*(_fetcher.get().get(u) for u in urls))
        return [r.ok for r in results]

    async def plain(urls: list[str]) -> tuple[float, int]:
        async with AsyncFetcher() as fetcher:
            started = time.perf_counter()
            results = await asyncio.gather(*(fetcher.get(u) for u in urls))
            return time.perf_counter() - started, sum(r.ok for r in results)

    @flow(name="granularity-task-per-url")
    async def per_url(urls: list[str]) -> tuple[float, int]:
        async with AsyncFetcher() as fetcher:
            _fetcher.set(fetcher)
            started = time.perf_counter()
            oks = await asyncio.gather(*(fetch_one(u) for u in urls))
            return time.perf_counter() - started, sum(oks)

    @flow(name="granularity-one-task")
    async def one_task(urls: list[str]) -> tuple[float, int]:
        async with AsyncFetcher() as fetcher:
            _fetcher.set(fetcher)
            started = time.perf_counter()
            oks = await fetch_all(urls)
            return time.perf_counter() - started, sum(oks)

    return {"a": plain, "b": per_url, "c": one_task}


LABELS = {
    "a": "(a) asyncio.gather, one shared AsyncFetcher, no Prefect",
    "b": "(b) one Prefect task per URL, inside a flow",
    "c": "(c) one Prefect task fetching all, one shared fetcher",
}


async def measure(urls: list[str], rounds: int) -> dict[str, dict[str, list[float]]]:
    """Per variant: 'inner' (fetching) and 'call' (whole call) seconds, one per round."""
    variants = _variants()
    times: dict[str, dict[str, list[float]]] = {k: {"inner": [], "call": []} for k in variants}
    keys = list(variants)
    for round_no in range(rounds + 1):  # round 0 warms up imports, clients and flow names
        # the order turns each round: a flow's run records are sent in the background and
        # can slow whatever runs right after it
        for key in keys[round_no % 3 :] + keys[: round_no % 3]:
            variant = variants[key]
            started = time.perf_counter()
            inner, ok = await variant(urls)
            call = time.perf_counter() - started
            if ok != len(urls):
                raise RuntimeError(f"variant {key}: only {ok} of {len(urls)} pages fetched")
            if round_no:
                times[key]["inner"].append(inner)
                times[key]["call"].append(call)
    return times


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux ``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def settle(pid: int) -> float:
    """Wait until the server is idle (its run records written); its CPU seconds then."""
    before = cpu_seconds(pid)
    for _ in range(int(SETTLE_MAX_S / SETTLE_STEP_S)):
        await asyncio.sleep(SETTLE_STEP_S)
        now = cpu_seconds(pid)
        if now - before < SETTLE_IDLE_CPU_S:
            return now
        before = now
    return before


async def server_cost(urls: list[str], server_pid: int, calls: int) -> dict[str, float]:
    """Server CPU seconds per flow call of (b) and (c), measured from its idle state."""
    variants = _variants()
    cost = {}
    for key in ("b", "c"):
        start = await settle(server_pid)
        for _ in range(calls):
            await variants[key](urls)
        cost[key] = (await settle(server_pid) - start) / calls
    return cost


def report(times: dict[str, dict[str, list[float]]], pages: int) -> list[str]:
    med = {k: {m: 1000 * statistics.median(v) for m, v in t.items()} for k, t in times.items()}
    lines = []
    for key, label in LABELS.items():
        extra = "" if key == "a" else f"   (whole flow call {med[key]['call']:.0f} ms)"
        lines.append(f"{label:<58} {med[key]['inner']:>6.0f} ms{extra}")
    a, b, c = med["a"]["inner"], med["b"]["inner"], med["c"]["inner"]
    lines += [
        f"(b)/(a) = {b / a:.1f}x, (c)/(a) = {c / a:.1f}x",
        f"per-task overhead: ((b) - (a)) / {pages} = {(b - a) / pages:.1f} ms per task run; "
        f"(c) - (a) = {c - a:.0f} ms for its one task",
        f"flow-run overhead (call - inside), median of (b) and (c): "
        f"{statistics.median([med[k]['call'] - med[k]['inner'] for k in 'bc']):.0f} ms",
    ]
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.prefect_granularity",
        description="Prefect per-task overhead against a batched fetch.",
    )
    parser.add_argument("--pages", type=int, default=PAGES, help="pages fetched per variant")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="measured rounds (median)")
    parser.add_argument("--latency", type=float, default=LATENCY_S, help="seconds per response")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    claims = -(-args.pages // PAGES_PER_CLAIM)
    with tempfile.TemporaryDirectory(prefix="factcheck-granularity-") as tmp:
        workdir = Path(tmp)
        home = workdir / "prefect-server"
        home.mkdir()
        with (
            corpus_server(
                claims, workdir, latency_s=args.latency, hosts=HOSTS, seed=SEED
            ) as corpus,
            prefect_server(home) as (api_url, startup_s, server_pid),
        ):
            (workdir / "data").mkdir()
            _configure(workdir / "data", api_url)
            urls = [
                u
                for per_claim in claim_urls(claims, port=corpus.port, seed=SEED, hosts=HOSTS)
                for u in per_claim
            ]
            urls = urls[: args.pages]
            print(
                f"{len(urls)} pages on {HOSTS} hosts, latency {args.latency * 1000:.0f} ms, "
                f"{args.rounds} rounds (median); Prefect server healthy after {startup_s:.1f} s"
            )
            times = asyncio.run(measure(urls, args.rounds))
            cost = asyncio.run(server_cost(urls, server_pid, SERVER_COST_CALLS))
    for line in report(times, len(urls)):
        print(line)
    per_task = (cost["b"] - cost["c"]) / max(1, len(urls) - 1)
    print(
        f"Prefect server CPU per flow call: (b) {cost['b'] * 1000:.0f} ms, (c) "
        f"{cost['c'] * 1000:.0f} ms; per extra task run {per_task * 1000:.1f} ms "
        f"(a ceiling of ~{1 / per_task if per_task > 0 else float('inf'):.0f} task runs/s "
        "per server core)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
