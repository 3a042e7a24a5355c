"""Fetch throughput against a bare httpx loop, and extraction speed and memory.

    python -m bench.sources                 # make bench-sources
    python -m bench.sources --urls 400 --latency 0.05 --pages 400

Fetching: a server in a child process listens on several loopback addresses
(127.0.0.21 …) and answers every page after an injected latency. The same URLs are fetched
twice in this run: by ``AsyncFetcher`` (address check, robots.txt, politeness slots,
streamed caps, WARC archiving: everything on, per-host delay 0 so that the ratio measures
overhead rather than the politeness we chose) and by a bare ``asyncio.gather`` over one
``httpx.AsyncClient`` with the same global concurrency. Reported: pages/s of each, their
ratio, and p50/p95 latency per URL.

Extraction: ``sources.extract.extract`` over the fixture pages of tests/sources/pages/
(cycled to at least ``--pages``), pages/s, then the peak traced memory of a second pass
(tracemalloc) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import httpx

from evidence.settings import Settings
from sources.fetch import AsyncFetcher

HOSTS = ("127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24")
PAGES_DIR = Path(__file__).resolve().parent.parent / "tests" / "sources" / "pages"
FALLBACK_PAGE = (
    "<html><head><title>Bench page</title></head><body><article>"
    + "".join(f"<p>Paragraph {i} of a bench page, with some words in it.</p>" for i in range(60))
    + "</article></body></html>"
)


# ---- the server (child process) -----------------------------------------------------------


def _serve(latency: float) -> None:
    body = FALLBACK_PAGE.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/robots.txt":
                payload, status = b"User-agent: *\nDisallow: /private\n", 200
            else:
                time.sleep(latency)
                payload, status = body, 200
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    servers = [Server((host, 0), Handler) for host in HOSTS]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps([s.server_address[1] for s in servers]), flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin


# ---- fetching -----------------------------------------------------------------------------


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


async def _ours(
    urls: list[str], settings: Settings, *, archive: bool = True
) -> tuple[float, list[float], int]:
    async with AsyncFetcher(settings) as fetcher:
        started = time.perf_counter()
        results = await asyncio.gather(*(fetcher.get(u, archive=archive) for u in urls))
        elapsed = time.perf_counter() - started
    return elapsed, [r.elapsed_ms for r in results], sum(r.ok for r in results)


async def _bare(urls: list[str], concurrency: int) -> tuple[float, list[float], int]:
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def one(url: str) -> tuple[float, bool]:
            t0 = time.perf_counter()  # like FetchResult.elapsed_ms: queueing included
            async with gate:
                response = await client.get(url)
                return (time.perf_counter() - t0) * 1000, response.status_code == 200

        started = time.perf_counter()
        outcomes = await asyncio.gather(*(one(u) for u in urls))
        elapsed = time.perf_counter() - started
    return elapsed, [ms for ms, _ in outcomes], sum(ok for _, ok in outcomes)


def bench_fetch(n_urls: int, latency: float, concurrency: int) -> dict[str, float]:
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.sources", "--serve", "--latency", str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ports = json.loads(child.stdout.readline())
        urls = [
            f"http://{HOSTS[i % len(HOSTS)]}:{ports[i % len(HOSTS)]}/page/{i}"
            for i in range(n_urls)
        ]
        with tempfile.TemporaryDirectory() as data_dir:
            settings = Settings(
                data_dir=Path(data_dir),
                allowed_networks=["127.0.0.0/8"],
                fetch_concurrency=concurrency,
                per_host_concurrency=max(1, concurrency // len(HOSTS)),
                per_host_delay_s=0.0,
            )
            bare_s, bare_ms, bare_ok = asyncio.run(_bare(urls, concurrency))
            ours_s, ours_ms, ours_ok = asyncio.run(_ours(urls, settings))
            plain_s, _, _ = asyncio.run(_ours(urls, settings, archive=False))
            warc_bytes = sum(f.stat().st_size for f in settings.warc_dir.glob("*.warc.gz"))
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=10)
    if bare_ok != n_urls or ours_ok != n_urls:
        raise SystemExit(f"not every fetch succeeded: bare {bare_ok}, ours {ours_ok}")
    ours_p50, ours_p95 = _percentiles(ours_ms)
    bare_p50, bare_p95 = _percentiles(bare_ms)
    return {
        "urls": n_urls,
        "hosts": len(HOSTS),
        "latency_ms": latency * 1000,
        "concurrency": concurrency,
        "ours_pages_per_s": n_urls / ours_s,
        "bare_pages_per_s": n_urls / bare_s,
        "ratio": (n_urls / ours_s) / (n_urls / bare_s),
        "unarchived_pages_per_s": n_urls / plain_s,
        "ours_p50_ms": ours_p50,
        "ours_p95_ms": ours_p95,
        "bare_p50_ms": bare_p50,
        "bare_p95_ms": bare_p95,
        "warc_bytes": warc_bytes,
    }


# ---- extraction ---------------------------------------------------------------------------


def _fixture_pages() -> list[tuple[str, bytes]]:
    pages = sorted(PAGES_DIR.glob("*.htm*")) if PAGES_DIR.is_dir() else []
    if not pages:
        return [("fallback.html", FALLBACK_PAGE.encode())]
    return [(p.name, p.read_bytes()) for p in pages]


def bench_extract(n_pages: int) -> dict[str, float]:
    from sources.extract import extract

    fixtures = _fixture_pages()
    batch = [fixtures[i % len(fixtures)] for i in range(max(n_pages, len(fixtures)))]
    started = time.perf_counter()
    passages = 0
    for name, body in batch:
        passages += len(extract(body, url=f"https://example.org/{name}").passages)
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    for name, body in batch:
        extract(body, url=f"https://example.org/{name}")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "pages": len(batch),
        "distinct_pages": len(fixtures),
        "pages_per_s": len(batch) / elapsed,
        "passages": passages,
        "peak_traced_mb": peak / 1e6,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--urls", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per page")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pages", type=int, default=240, help="pages to extract (>= 200)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.latency)
        return
    fetch = bench_fetch(args.urls, args.latency, args.concurrency)
    print(
        f"fetch: {fetch['urls']} URLs on {fetch['hosts']} hosts, {fetch['latency_ms']:.0f} ms "
        f"injected latency, concurrency {fetch['concurrency']}"
    )
    print(
        f"  AsyncFetcher {fetch['ours_pages_per_s']:.1f} pages/s "
        f"(p50 {fetch['ours_p50_ms']:.0f} ms, p95 {fetch['ours_p95_ms']:.0f} ms, "
        f"{fetch['warc_bytes'] / 1e6:.1f} MB of WARC)"
    )
    print(
        f"  bare httpx   {fetch['bare_pages_per_s']:.1f} pages/s "
        f"(p50 {fetch['bare_p50_ms']:.0f} ms, p95 {fetch['bare_p95_ms']:.0f} ms)"
    )
    print(f"  ratio (ours / bare): {fetch['ratio']:.2f}")
    print(f"  (AsyncFetcher without archiving: {fetch['unarchived_pages_per_s']:.1f} pages/s)")
    ext = bench_extract(args.pages)
    print(
        f"extract: {ext['pages']} pages ({ext['distinct_pages']} distinct fixtures), "
        f"{ext['pages_per_s']:.1f} pages/s, {ext['passages']} passages; "
        f"peak traced memory {ext['peak_traced_mb']:.1f} MB, max RSS {ext['max_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
