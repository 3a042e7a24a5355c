"""Claims verified per minute by the `verify-batch` flow, against a bare asyncio loop.

    python -m bench.flows                       # make bench: 200 and 1,000 claims (~7 min)
    python -m bench.flows --sizes 200,2000      # memory at 200 and 2,000 claims (~15 min)

Set-up, each part in its own process so that none shares the GIL or the memory figure of
another: a synthetic corpus server (``demo.server --synthetic``: N claims × 10 pages
over ``--hosts`` loopback hosts 127.0.1.x, every response delayed by ``--latency``), one
standing ``prefect server start`` for the whole benchmark (its start-up is reported
separately; a flow process without ``PREFECT_API_URL`` would pay a temporary server's
12–20 s start-up on every run instead) and, per measured configuration, a fresh child
process with a fresh ``FACTCHECK_DATA_DIR`` (SQLite):

- ``flow``: the claims are imported (timed apart), then ``run_batch_with_progress`` runs the
  whole pipeline for each one (origin discovery, fetch with robots.txt, politeness and WARC
  archiving, extraction, ranking, SQLite writes, review queue) at the CLI's claim
  concurrency. Per-claim latency is each claim's ``Run.started_at`` → ``finished_at``.
- ``bare``: the same claims' ~10 page URLs, each claim's pages fetched concurrently by one
  ``httpx.AsyncClient``, parsed with ``lxml.html`` and reduced to their text, with the same
  number of claims in flight. Per-claim latency is its first request to its last parse.

Peak memory is the child's RSS high-water mark (``ru_maxrss`` from ``os.wait4``), so each
size is measured in a process that did nothing else. The per-host delay is 0 by default
(``--per-host-delay``) so that the ratio measures our overhead, not the politeness chosen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_SIZES = (200, 1000)
LATENCY_S = 0.05
HOSTS = 6
SEED = 1
CLAIM_CONCURRENCY = 4  # the `verify-batch --concurrency` default
PER_HOST_DELAY_S = 0.0
CORPUS_READY_TIMEOUT_S = 120.0
RESULT_PREFIX = "BENCH-RESULT "
BASE_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


class BenchError(RuntimeError):
    """A benchmark part did not start or a child failed (the benchmark, not the product)."""


# ---- the servers (own processes) ----------------------------------------------------------


@dataclass
class Corpus:
    process: subprocess.Popen[str]
    port: int
    claims_file: Path
    claims: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def corpus_server(
    claims: int, workdir: Path, *, latency_s: float, hosts: int, seed: int
) -> Iterator[Corpus]:
    """The synthetic corpus served by ``python -m demo.server`` in a child process."""
    claims_file = workdir / f"claims-{claims}.jsonl"
    command = [
        sys.executable, "-m", "demo.server", "--synthetic", str(claims),
        "--seed", str(seed), "--hosts", str(hosts), "--latency", str(latency_s),
        "--port", str(free_port()), "--claims-out", str(claims_file),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        yield Corpus(process, _wait_serving(process), claims_file, claims)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_serving(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + CORPUS_READY_TIMEOUT_S
    port = None
    for line in process.stdout:
        found = re.search(r"http://127\.[0-9.]+:(\d+)", line)
        if found and port is None:
            port = int(found.group(1))
        if line.startswith("Serving") and port is not None:
            return port
        if time.monotonic() > deadline:
            break
    raise BenchError("The corpus server did not report 'Serving'.")


@contextmanager
def prefect_server(home: Path) -> Iterator[tuple[str, float, int]]:
    """One standing Prefect server: (API URL, start-up seconds, pid)."""
    from flows.deploy import start_server

    started = time.perf_counter()
    process, api_url = start_server(
        free_port(), env={**BASE_ENV, "PREFECT_HOME": str(home)}, log_path=home / "server.log"
    )
    try:
        yield api_url, time.perf_counter() - started, process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


def vm_hwm_mb(pid: int) -> float | None:
    """A live process's RSS high-water mark in MB (Linux), None when unreadable."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else None


# ---- the measured children ----------------------------------------------------------------


def run_child(kind: str, args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``python -m bench.flows --child KIND`` and return its result plus peak RSS."""
    command = [sys.executable, "-m", "bench.flows", "--child", kind, *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, not all children's
    process.returncode = os.waitstatus_to_exitcode(status)
    lines = [ln for ln in output.splitlines() if ln.startswith(RESULT_PREFIX)]
    if process.returncode or not lines:
        raise BenchError(f"The {kind} child failed with exit code {process.returncode}.")
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_PREFIX))
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # kB on Linux
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    return result


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()


def percentiles(values: Sequence[float]) -> tuple[float, float]:
    """(p50, p95), nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan"), float("nan")
    return statistics.median(ordered), ordered[round(0.95 * (len(ordered) - 1))]


def _read_claims(path: Path, n: int) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if len(rows) < n:
        raise BenchError(f"{path} holds {len(rows)} claims, fewer than {n}.")
    return rows[:n]


def child_flow(claims_file: Path, n: int, concurrency: int) -> dict[str, Any]:
    """Import ``n`` claims into a fresh database, then verify them with `verify-batch`."""
    from evidence import claims
    from evidence.db import get_engine, session_scope, upgrade
    from flows.steps import VerifyConfig
    from flows.verify import run_batch_with_progress

    engine = get_engine()
    upgrade(engine)
    started = time.perf_counter()
    ids = []
    with session_scope(engine) as session:
        for row in _read_claims(claims_file, n):
            data = claims.make_create(
                text=row["text"], url=row["url"], claimant=row["claimant"], claim_date=row["date"]
            )
            claim_id = claims.add_claim(session, data, actor="bench").claim.id
            assert claim_id is not None
            ids.append(claim_id)
    import_s = time.perf_counter() - started
    ends: list[float] = []
    started = time.perf_counter()
    summary = run_batch_with_progress(
        ids, VerifyConfig(), on_result=lambda _: ends.append(time.perf_counter()),
        concurrency=concurrency,
    )  # fmt: skip
    wall_s = time.perf_counter() - started
    return {
        "claims": n,
        "import_s": import_s,
        "wall_s": wall_s,
        "first_result_s": (min(ends) - started) if ends else None,
        "queued": summary["queued"],
        "failed": summary["failed"],
        "failures": summary["failures"][:3],
        "latencies_s": _run_latencies(ids),
        **_row_counts(),
    }


def _run_latencies(claim_ids: list[int]) -> list[float]:
    from sqlmodel import Session, col, select

    from evidence.db import get_engine
    from evidence.models import Run

    with Session(get_engine()) as session:
        runs = session.exec(select(Run).where(col(Run.claim_id).in_(claim_ids))).all()
    return [
        (run.finished_at - run.started_at).total_seconds()
        for run in runs
        if run.finished_at is not None and run.status == "done"
    ]


def _row_counts() -> dict[str, int]:
    """What the flow recorded: a check that it did the same work as the bare loop."""
    from sqlalchemy import func
    from sqlmodel import Session, select

    from evidence.db import get_engine
    from evidence.models import Evidence, Fetch, Passage

    counts = {}
    with Session(get_engine()) as session:
        for name, table in (("fetches", Fetch), ("passages", Passage), ("evidence", Evidence)):
            counts[name] = int(session.exec(select(func.count()).select_from(table)).one())
        ok = select(func.count()).select_from(Fetch).where(Fetch.status_code == 200)
        counts["fetches_ok"] = int(session.exec(ok).one())
    return counts


def claim_urls(n: int, *, port: int, seed: int, hosts: int) -> list[list[str]]:
    """Each claim's page URLs as the synthetic corpus lays them out (origin page first)."""
    from demo.synthetic import (
        HOST_NETWORK,
        PAGES_PER_CLAIM,
        SyntheticSpec,
        claim_facts,
    )

    spec = SyntheticSpec(seed, n, hosts, PAGES_PER_CLAIM)
    urls = []
    for index in range(n):
        claim = claim_facts(seed, index)
        urls.append(
            [
                f"http://{HOST_NETWORK}{spec.host_of(index, page) + 1}:{port}"
                f"{spec.path(claim, page)}"
                for page in range(PAGES_PER_CLAIM)
            ]
        )
    return urls


def page_text(body: bytes) -> str:
    """The bare loop's extraction: lxml.html, scripts and styles dropped, text joined."""
    import lxml.html
    from lxml import etree

    root = lxml.html.document_fromstring(body)
    etree.strip_elements(root, "script", "style", with_tail=False)
    return " ".join(root.text_content().split())


async def bare_loop(
    claims: list[list[str]], concurrency: int
) -> tuple[float, list[float], int, int]:
    """(wall s, per-claim latencies, pages parsed, characters of text)."""
    import httpx

    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        trust_env=False, limits=httpx.Limits(max_connections=100)
    ) as client:

        async def one(urls: list[str]) -> tuple[float, int, int]:
            async with gate:
                t0 = time.perf_counter()
                responses = await asyncio.gather(*(client.get(u) for u in urls))
                texts = [page_text(r.content) for r in responses if r.status_code == 200]
                return time.perf_counter() - t0, len(texts), sum(map(len, texts))

        started = time.perf_counter()
        outcomes = await asyncio.gather(*(one(urls) for urls in claims))
        wall = time.perf_counter() - started
    return wall, [o[0] for o in outcomes], sum(o[1] for o in outcomes), sum(o[2] for o in outcomes)


def child_bare(n: int, port: int, seed: int, hosts: int, concurrency: int) -> dict[str, Any]:
    urls = claim_urls(n, port=port, seed=seed, hosts=hosts)
    wall, latencies, pages, chars = asyncio.run(bare_loop(urls, concurrency))
    return {
        "claims": n,
        "wall_s": wall,
        "latencies_s": latencies,
        "pages": pages,
        "urls": sum(map(len, urls)),
        "chars": chars,
    }


# ---- the parent ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...]
    latency_s: float
    hosts: int
    seed: int
    concurrency: int
    per_host_delay_s: float
    keep: bool


def child_env(base: dict[str, str], data_dir: Path, options: Options) -> dict[str, str]:
    """A child's environment: a fresh data directory, loopback allowed, origin discovery only."""
    env = {**base, **BASE_ENV}
    env.pop("FACTCHECK_DATABASE_URL", None)
    env.update(
        {
            "FACTCHECK_DATA_DIR": str(data_dir),
            "FACTCHECK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "FACTCHECK_SOURCES": "[]",  # the claim's origin page and its links: ~10 pages
            "FACTCHECK_PER_HOST_DELAY_S": str(options.per_host_delay_s),
            "FACTCHECK_CONFIG": str(data_dir / "absent.toml"),
            "PREFECT_HOME": str(data_dir / "prefect"),
        }
    )
    return env


def measure_size(
    n: int, corpus: Corpus, api_url: str, workdir: Path, options: Options
) -> dict[str, dict[str, Any]]:
    """The bare loop, then the flow, over the first ``n`` claims, each in a fresh child."""
    results = {}
    for kind in ("bare", "flow"):
        data_dir = workdir / f"{kind}-{n}"
        data_dir.mkdir()
        env = child_env({**os.environ, "PREFECT_API_URL": api_url}, data_dir, options)
        args = [
            "--n", str(n), "--port", str(corpus.port), "--seed", str(options.seed),
            "--hosts", str(options.hosts), "--concurrency", str(options.concurrency),
            "--claims-file", str(corpus.claims_file),
        ]  # fmt: skip
        print(f"  {kind:<4} {n:>5} claims ...", end=" ", flush=True)
        results[kind] = run_child(kind, args, env)
        print(f"{results[kind]['wall_s']:.1f} s", flush=True)
        if not options.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return results


def report(all_results: dict[int, dict[str, dict[str, Any]]], options: Options) -> list[str]:
    lines = [
        "",
        f"{'claims':>6} {'run':<5} {'claims/min':>10} {'p50 s':>7} {'p95 s':>7} "
        f"{'peak RSS MB':>11} {'CPU s':>6}  notes",
    ]
    for n, results in all_results.items():
        for kind in ("bare", "flow"):
            r = results[kind]
            p50, p95 = percentiles(r["latencies_s"])
            rate = 60 * n / r["wall_s"]
            note = (
                f"{r['pages']}/{r['urls']} pages parsed"
                if kind == "bare"
                else f"{r['queued']} queued, {r['failed']} failed; {r['fetches_ok']}/"
                f"{r['fetches']} fetches ok, {r['passages']} passages, {r['evidence']} "
                f"evidence; import {r['import_s']:.1f} s, first result at "
                f"{r['first_result_s'] or 0:.1f} s"
            )
            lines.append(
                f"{n:>6} {kind:<5} {rate:>10.0f} {p50:>7.2f} {p95:>7.2f} "
                f"{r['peak_rss_mb']:>11.0f} {r['cpu_s']:>6.0f}  {note}"
            )
        ratio = results["bare"]["wall_s"] / results["flow"]["wall_s"]
        lines.append(f"{n:>6} flow/bare throughput ratio: {ratio:.3f} (bare is {1 / ratio:.1f}x)")
    sizes = sorted(all_results)
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        for kind in ("flow", "bare"):
            a = all_results[lo][kind]["peak_rss_mb"]
            b = all_results[hi][kind]["peak_rss_mb"]
            lines.append(
                f"peak RSS {kind} {lo} -> {hi} claims: {a:.0f} -> {b:.0f} MB "
                f"({b - a:+.0f} MB, {100 * (b - a) / a:+.0f}%)"
            )
    return lines


def run(options: Options) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="factcheck-bench-"))
    home = workdir / "prefect-server"
    home.mkdir()
    all_results: dict[int, dict[str, dict[str, Any]]] = {}
    print(
        f"bench.flows: sizes {','.join(map(str, options.sizes))}, latency "
        f"{options.latency_s * 1000:.0f} ms, {options.hosts} hosts, claim concurrency "
        f"{options.concurrency}, per-host delay {options.per_host_delay_s:g} s; work in {workdir}",
        flush=True,
    )
    try:
        with (
            corpus_server(
                max(options.sizes), workdir, latency_s=options.latency_s,
                hosts=options.hosts, seed=options.seed,
            ) as corpus,
            prefect_server(home) as (api_url, startup_s, server_pid),
        ):  # fmt: skip
            print(
                f"  corpus server on port {corpus.port}; Prefect server {api_url} "
                f"healthy after {startup_s:.1f} s",
                flush=True,
            )
            for n in options.sizes:
                all_results[n] = measure_size(n, corpus, api_url, workdir, options)
            server_hwm = vm_hwm_mb(server_pid)
    finally:
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    for line in report(all_results, options):
        print(line)
    print(
        f"Prefect server: start-up {startup_s:.1f} s (not in the figures above), "
        f"peak RSS {server_hwm or 0:.0f} MB after all runs"
    )
    return 0


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--sizes takes numbers like 200,2000, not {text!r}"
        ) from exc
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("--sizes needs at least one positive number")
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.flows", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=DEFAULT_SIZES,
        help=f"batch sizes, comma-separated (default: {','.join(map(str, DEFAULT_SIZES))})",
    )
    parser.add_argument("--latency", type=float, default=LATENCY_S, help="seconds per response")
    parser.add_argument("--hosts", type=int, default=HOSTS, help="synthetic hosts")
    parser.add_argument("--seed", type=int, default=SEED, help="corpus seed")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=CLAIM_CONCURRENCY,
        help="claims in flight, flow and bare loop alike",
    )
    parser.add_argument(
        "--per-host-delay",
        type=float,
        default=PER_HOST_DELAY_S,
        help="the fetcher's per_host_delay_s for the flow",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    # the measured children
    parser.add_argument("--child", choices=("flow", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--claims-file", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child == "flow":
        _emit(child_flow(args.claims_file, args.n, args.concurrency))
        return 0
    if args.child == "bare":
        _emit(child_bare(args.n, args.port, args.seed, args.hosts, args.concurrency))
        return 0
    options = Options(
        sizes=args.sizes,
        latency_s=args.latency,
        hosts=args.hosts,
        seed=args.seed,
        concurrency=args.concurrency,
        per_host_delay_s=args.per_host_delay,
        keep=args.keep,
    )
    return run(options)


if __name__ == "__main__":
    raise SystemExit(main())
