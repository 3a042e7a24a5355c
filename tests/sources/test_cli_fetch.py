"""`factcheck fetch` and `factcheck archive show`, in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, func, select

from evidence.models import Fetch, Passage
from evidence.settings import get_settings
from tests.conftest import DB

from .conftest import Servers

LINE_KEYS = {
    "url",
    "ok",
    "status",
    "final_url",
    "sha256",
    "title",
    "passages",
    "error_kind",
    "error",
    "elapsed_ms",
    "fetch_id",
}


@pytest.fixture
def fetch_env(db: DB, monkeypatch: pytest.MonkeyPatch) -> Iterator[DB]:
    monkeypatch.setenv("FACTCHECK_ALLOWED_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("FACTCHECK_PER_HOST_DELAY_S", "0")
    monkeypatch.setenv("FACTCHECK_MAX_RETRIES", "0")
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _count(db: DB, model: type) -> int:
    with Session(db.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_fetch_prints_one_json_line_and_records_fetch_and_passages(
    fetch_env: DB, servers: Servers, cli: Any
) -> None:
    url = servers.url(2, "/page/cli")
    result = cli("fetch", url, "--json")
    assert result.code == 0, result.err
    (line,) = _lines(result.out)
    assert LINE_KEYS <= set(line)
    assert line["ok"] is True and line["status"] == 200 and line["final_url"] == url
    assert line["title"] == "Harbour reopens after storm repairs"
    assert line["passages"] >= 2 and line["error_kind"] is None
    with Session(fetch_env.engine) as session:
        row = session.get(Fetch, line["fetch_id"])
        assert row is not None and row.sha256 == line["sha256"] and row.warc_file
        stored = session.exec(select(Passage).where(Passage.fetch_id == row.id)).all()
        assert len(stored) == line["passages"]


def test_fetch_reports_each_url_in_order_and_exits_1_when_one_failed(
    fetch_env: DB, servers: Servers, cli: Any
) -> None:
    urls = [servers.url(2, "/page/one"), servers.url(1, "/private/no"), servers.url(2, "/binary")]
    result = cli("fetch", *urls, "--json")
    assert result.code == 1
    lines = _lines(result.out)
    assert [line["url"] for line in lines] == urls
    assert [line["error_kind"] for line in lines] == [None, "robots", "not_html"]
    assert all(line["fetch_id"] for line in lines)
    assert _count(fetch_env, Fetch) == 3


def test_a_bad_url_is_refused_before_anything_is_written(
    fetch_env: DB, servers: Servers, cli: Any
) -> None:
    result = cli("fetch", servers.url(2, "/page/fine"), "ftp://example.org/x")
    assert result.code == 2
    assert "ftp://example.org/x" in result.err and len(result.err.strip().splitlines()) == 1
    assert result.out == "" and _count(fetch_env, Fetch) == 0


def test_fetching_again_is_conditional_and_unchanged(
    fetch_env: DB, servers: Servers, cli: Any
) -> None:
    url = servers.url(2, "/etag")
    (first,) = _lines(cli("fetch", url, "--json").out)
    (second,) = _lines(cli("fetch", url, "--json").out)
    assert second["status"] == 304 and second["not_modified"] is True and second["ok"] is True
    assert second["sha256"] == first["sha256"]
    assert second["passages"] == first["passages"] and second["title"] == first["title"]
    (hit,) = [h for h in servers.tracker.hits_for("/etag") if "If-None-Match" in h.headers][-1:]
    assert hit.headers["If-None-Match"] == '"v1"'


def test_human_output(fetch_env: DB, servers: Servers, cli: Any) -> None:
    result = cli("fetch", servers.url(2, "/page/human"), servers.url(2, "/status/404"))
    assert result.code == 1
    ok_line, failed_line = result.out.splitlines()
    assert ok_line.startswith("ok 200 ") and "Harbour reopens" in ok_line
    assert failed_line.startswith("failed http_status ")


def test_archive_show_prints_the_archived_response(
    fetch_env: DB, servers: Servers, cli: Any
) -> None:
    (page,) = _lines(cli("fetch", servers.url(2, "/gzip-page"), "--json").out)
    shown = cli("archive", "show", str(page["fetch_id"]))
    assert shown.code == 0, shown.err
    status, *rest = shown.out.splitlines()
    assert status == "HTTP/1.1 200 OK"
    assert "Content-Encoding: gzip" in rest
    assert "The northern harbour reopened on Tuesday" in shown.out  # decompressed to text


def test_archive_show_of_binary_prints_a_byte_count(
    fetch_env: DB, servers: Servers, cli: Any
) -> None:
    (line,) = _lines(cli("fetch", servers.url(2, "/binary"), "--json").out)
    shown = cli("archive", "show", str(line["fetch_id"]))
    assert shown.code == 0
    assert "[binary body: 2056 bytes]" in shown.out and "\x89PNG" not in shown.out


def test_archive_show_errors_are_one_sentence(fetch_env: DB, servers: Servers, cli: Any) -> None:
    missing = cli("archive", "show", "999999")
    assert missing.code == 2 and "No fetch with id 999999." in missing.err
    (line,) = _lines(cli("fetch", servers.url(1, "/private/x"), "--json").out)
    unarchived = cli("archive", "show", str(line["fetch_id"]))
    assert unarchived.code == 2 and "no archived response" in unarchived.err
    assert len(unarchived.err.strip().splitlines()) == 1
