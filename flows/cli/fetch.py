"""`factcheck fetch URL... [--json]` and `factcheck archive show FETCH_ID`.

Thin shells over ``fetch_and_record`` and ``show_archived``, which the tests call too.
(`factcheck extract` lives in ``flows.cli.extract``.)
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from typing import Annotated, Any

import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from evidence.archive import read_record
from evidence.db import session_scope
from evidence.errors import BadInput, NotFound
from evidence.models import Document, Fetch
from evidence.settings import Settings, get_settings
from flows.cli.support import cli_actor, open_db, print_json
from sources.decode import decode_html
from sources.fetch import AsyncFetcher, is_textual, looks_binary
from sources.results import FetchResult
from sources.store import (
    conditional_headers,
    extract_result,
    passages_of,
    previous_fetch,
    store_page,
)
from sources.urls import normalize_url

archive_app = typer.Typer(help="Read the WARC archive of fetched pages.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `fetch` and `archive show` to ``app``."""
    app.command("fetch")(fetch_command)
    app.add_typer(archive_app, name="archive")
    archive_app.command("show")(archive_show_command)


# ---- fetch --------------------------------------------------------------------------------


async def _fetch(
    urls: list[str], settings: Settings, validators: Mapping[str, Mapping[str, str]]
) -> list[FetchResult]:
    async with AsyncFetcher(settings) as fetcher:
        return await fetcher.fetch_many(urls, conditional=validators)


def _record_one(session: Session, result: FetchResult, actor: str) -> dict[str, Any]:
    stored = store_page(session, result, extract_result(result), actor=actor)
    row = stored.fetch
    title: str | None = None
    count = 0
    if stored.extraction is not None and row.document_id is not None:
        count = len(stored.passages)
        title = stored.extraction.title
    elif result.not_modified and row.document_id is not None:
        document = session.get(Document, row.document_id)
        title = document.title if document else None
        previous = previous_fetch(session, result.url)
        count = len(passages_of(session, previous.id)) if previous and previous.id else 0
    return fetch_line(result, row, title, count)


def fetch_line(result: FetchResult, row: Fetch, title: str | None, passages: int) -> dict[str, Any]:
    """The JSON line `factcheck fetch --json` prints for one URL."""
    return {
        "url": result.url,
        "ok": result.ok,
        "status": result.status,
        "final_url": result.final_url,
        "sha256": row.sha256,
        "title": title,
        "passages": passages,
        "not_modified": result.not_modified,
        "error_kind": result.error_kind,
        "error": result.error,
        "elapsed_ms": result.elapsed_ms,
        "fetch_id": row.id,
    }


def fetch_and_record(
    urls: list[str], *, engine: Engine, settings: Settings, actor: str
) -> list[dict[str, Any]]:
    """Fetch URLs (conditionally, if fetched before), record and extract each; one dict per URL.

    Raises BadInput, before anything is fetched or written, if a URL is not http(s).
    """
    for url in urls:
        normalize_url(url)
    with session_scope(engine) as session:
        validators = {url: conditional_headers(session, url) for url in urls}
    results = asyncio.run(_fetch(urls, settings, validators))
    lines = []
    for result in results:
        with session_scope(engine) as session:
            lines.append(_record_one(session, result, actor))
    return lines


def _human_line(line: dict[str, Any]) -> str:
    if line["ok"]:
        state = "unchanged" if line["not_modified"] else f"{line['passages']} passages"
        return (
            f"ok {line['status']} {line['final_url']}  {line['title'] or '(no title)'}  ({state})"
        )
    return f"failed {line['error_kind']} {line['url']}: {line['error']}"


def fetch_command(
    urls: Annotated[list[str], typer.Argument(help="http(s) URLs to fetch")],
    json_out: Annotated[bool, typer.Option("--json", help="one JSON line per URL")] = False,
) -> None:
    """Fetch pages safely and politely, archive them, record them and their passages."""
    lines = fetch_and_record(urls, engine=open_db(), settings=get_settings(), actor=cli_actor())
    for line in lines:
        if json_out:
            print_json(line)
        else:
            sys.stdout.write(_human_line(line) + "\n")
    if not all(line["ok"] for line in lines):
        raise typer.Exit(1)


# ---- archive show -------------------------------------------------------------------------


def show_archived(engine: Engine, fetch_id: int) -> str:
    """The archived response of a fetch as text: status line, headers, blank line, body."""
    with session_scope(engine) as session:
        row = session.get(Fetch, fetch_id)
    if row is None:
        raise NotFound("fetch", fetch_id)
    if not row.warc_file or row.warc_offset is None:
        kind = f" (it failed: {row.error_kind})" if row.error_kind else ""
        raise BadInput(f"Fetch {fetch_id} has no archived response{kind}.")
    response, payload = read_record(row.warc_file, row.warc_offset)
    content_type = response.header("content-type")
    media = (content_type or "").split(";", 1)[0].strip().lower() or None
    if is_textual(media) and not looks_binary(payload):
        body = decode_html(payload, content_type)[0]
    else:
        body = f"[binary body: {len(payload)} bytes]"
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers)
    return f"{response.status_line}\n{headers}\n\n{body}"


def archive_show_command(
    fetch_id: Annotated[int, typer.Argument(help="the fetch id (`factcheck fetch` prints it)")],
) -> None:
    """Print the archived response of a fetch: status, headers and body."""
    text = show_archived(open_db(), fetch_id)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
