"""WARC archiving: warcio's own check and index pass; records read back byte for byte."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from evidence.archive import ArchiveError, read_record
from evidence.errors import NotFound
from evidence.settings import Settings
from sources.archive import Exchange, WarcArchive

from .conftest import Servers, fetch_all

SettingsMaker = Callable[..., Settings]
WARCIO = Path(sys.executable).parent / "warcio"


def _warcio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WARCIO), *args], capture_output=True, text=True, timeout=60, check=False
    )


def _exchange(n: int, payload: bytes, **kw: object) -> Exchange:
    return Exchange(
        url=f"http://example.org/page/{n}?q=1",
        request_headers=[("Host", "example.org"), ("User-Agent", "factcheck-test")],
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")],
        payload=payload,
        **kw,  # type: ignore[arg-type]
    )


def test_fetched_pages_pass_warcio_check_and_index(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    settings = make_settings(max_body_bytes=200_000)
    paths = ["/page/warc", "/gzip-page", "/deflate-page", "/status/404", "/chain/1", "/endless"]
    results = fetch_all(settings, *(servers.url(2, p) for p in paths))
    files = sorted(settings.warc_dir.glob("*.warc.gz"))
    assert files
    for file in files:
        checked = _warcio("check", "-v", str(file))
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "digest pass" in checked.stdout
        index = [json.loads(line) for line in _warcio("index", str(file)).stdout.splitlines()]
        offsets = {int(e["offset"]) for e in index if e["warc-type"] == "response"}
        for result in results:
            if result.warc_file == file.name:
                assert result.warc_offset in offsets
    # requests and responses both archived: robots.txt, 6 pages, two more redirect hops
    index = [
        json.loads(line) for f in files for line in _warcio("index", str(f)).stdout.splitlines()
    ]
    kinds = [e["warc-type"] for e in index]
    assert kinds.count("request") == kinds.count("response") == 1 + len(paths) + 2


def test_the_archived_payload_is_what_the_fetch_digested(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    settings = make_settings()
    results = fetch_all(settings, servers.url(2, "/page/digest"), servers.url(2, "/gzip-page"))
    for result in results:
        assert result.warc_file and result.warc_offset is not None
        response, payload = read_record(
            result.warc_file, result.warc_offset, directory=settings.warc_dir
        )
        assert hashlib.sha256(payload).hexdigest() == result.sha256
        assert response.status_line == "HTTP/1.1 200 OK"
        assert response.header("content-type") == result.content_type
    gz = results[1]
    response, _ = read_record(gz.warc_file or "", gz.warc_offset or 0, directory=settings.warc_dir)
    assert response.header("content-encoding") == "gzip"  # stored as it came off the wire


def test_a_truncated_response_is_archived_and_marked(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    settings = make_settings(max_body_bytes=100_000)
    (result,) = fetch_all(settings, servers.url(2, "/endless"))
    assert result.error_kind == "too_large" and result.warc_file
    response, payload = read_record(
        result.warc_file, result.warc_offset or 0, directory=settings.warc_dir
    )
    assert response.warc_headers["WARC-Truncated"] == "length"
    assert len(payload) == 100_000


def test_files_rotate_past_the_size_limit(tmp_path: Path) -> None:
    archive = WarcArchive(tmp_path, max_bytes=4_000)
    bodies = [random.Random(n).randbytes(1500) for n in range(12)]  # incompressible
    records = [archive.write(_exchange(n, body)) for n, body in enumerate(bodies)]
    archive.close()
    files = sorted(tmp_path.iterdir())
    assert len(files) > 2
    assert all(f.stat().st_size < 4_000 + 3_000 for f in files)
    for file in files:
        assert _warcio("check", str(file)).returncode == 0
    for body, record in zip(bodies, records, strict=True):
        _, payload = read_record(record.file, record.offset, directory=tmp_path)
        assert payload == body


def test_threads_writing_at_once_leave_every_record_readable(tmp_path: Path) -> None:
    archive = WarcArchive(tmp_path, max_bytes=50_000)
    found: dict[int, object] = {}

    def write(n: int) -> None:
        found[n] = archive.write(_exchange(n, f"body {n} ".encode() * 300))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    archive.close()
    for n, record in found.items():
        _, payload = read_record(record.file, record.offset, directory=tmp_path)  # type: ignore[attr-defined]
        assert payload == f"body {n} ".encode() * 300


def test_reading_back_a_bomb_is_bounded(tmp_path: Path) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    archive = WarcArchive(tmp_path, max_bytes=10_000_000)
    exchange = Exchange(
        url="http://example.org/bomb",
        request_headers=[],
        status=200,
        reason="OK",
        response_headers=[("Content-Encoding", "gzip")],
        payload=bomb,
    )
    record = archive.write(exchange)
    archive.close()
    _, payload = read_record(record.file, record.offset, directory=tmp_path, max_bytes=1000)
    assert payload == b"\0" * 1000


def test_bad_locations_are_plain_errors(tmp_path: Path) -> None:
    archive = WarcArchive(tmp_path, max_bytes=10_000)
    record = archive.write(_exchange(1, b"x"))
    archive.close()
    with pytest.raises(NotFound):
        read_record("missing.warc.gz", 0, directory=tmp_path)
    with pytest.raises(ArchiveError):
        read_record(record.file, record.offset + 7, directory=tmp_path)
