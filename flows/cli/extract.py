"""`factcheck extract FILE... [--url U] [--json]`: extraction of saved pages, offline.

A thin shell over `sources.extract.extract`: no database, no network. Every file is read
and checked before anything is printed, so a missing file, or one that is not a page
(binary, PDF, image, JSON), fails the command with one sentence and nothing written.
"""

from __future__ import annotations

import codecs
import mimetypes
from pathlib import Path
from typing import Annotated, Any

import typer

from evidence.errors import BadInput
from flows.cli.support import console, print_json
from sources.extract import extract, page_kind, page_text
from sources.extract.config import DEFAULT_CONFIG
from sources.results import Extraction
from sources.urls import normalize_url

# Passages shown per file in the human summary (--json has them all).
SUMMARY_PASSAGES = 3
SUMMARY_PASSAGE_CHARS = 160


def register(app: typer.Typer) -> None:
    """Add `extract` to ``app``."""
    app.command("extract")(extract_command)


def extract_command(
    files: Annotated[list[Path], typer.Argument(help="saved HTML (or text) files")],
    url: Annotated[
        str | None, typer.Option(help="the URL the page(s) came from; resolves relative links")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Extract title, byline, dates, main text, passages, links and ClaimReviews."""
    if url is not None:
        normalize_url(url)  # BadInput (exit 2) for anything but an absolute http(s) URL
    pages = [(path, read_page(path)) for path in files]
    for path, body in pages:
        if not is_page(body, guess_content_type(path)):
            raise BadInput(
                f"{path} is not a web page or text file (binary, PDF, image or JSON); "
                "nothing was extracted."
            )
    for path, body in pages:
        extraction = extract(body, url=url, content_type=guess_content_type(path))
        if json_out:
            print_json(as_json_line(path, extraction))
        else:
            console.print(summary(path, extraction), markup=False)


def read_page(path: Path) -> bytes:
    """The file's bytes; a missing or unreadable file is bad input (one plain sentence)."""
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise BadInput(f"No such file: {path}.") from exc
    except IsADirectoryError as exc:
        raise BadInput(f"{path} is a directory, not a saved page.") from exc
    except OSError as exc:
        raise BadInput(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def is_page(body: bytes, content_type: str | None) -> bool:
    """Whether extraction would read ``body`` as a page rather than as noise. A byte-order
    mark does not make noise a page: what follows it must decode in that encoding."""
    text = page_text(body, content_type, DEFAULT_CONFIG)
    if page_kind(body, text, content_type) == "none":
        return False
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            try:
                body[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                return False
    return True


def guess_content_type(path: Path) -> str | None:
    """text/plain for .txt files; None lets extraction sniff (decoding uses meta charset)."""
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed if guessed in ("text/plain", "text/markdown") else None


def as_json_line(path: Path, extraction: Extraction) -> dict[str, Any]:
    return {"file": str(path), **extraction.as_json()}


def summary(path: Path, extraction: Extraction) -> str:
    """A few lines a person can scan: what the page is, who wrote it, when, what it says."""
    lines = [f"{path}: {extraction.title or '(no title)'}"]
    facts = [
        f"site {extraction.site_name}" if extraction.site_name else None,
        f"by {', '.join(extraction.authors)}" if extraction.authors else None,
        f"published {extraction.published:%Y-%m-%d %H:%M} UTC ({extraction.date_source})"
        if extraction.published
        else None,
        f"language {extraction.language}" if extraction.language else None,
    ]
    lines.append("  " + " · ".join(f for f in facts if f) if any(facts) else "  (no metadata)")
    lines.append(
        f"  {len(extraction.passages)} passages, {len(extraction.text)} characters, "
        f"{len(extraction.links)} links"
    )
    for review in extraction.claim_reviews:
        lines.append(f"  claim review: {review.claim_reviewed!r} rated {review.rating!r}")
    for passage in extraction.passages[:SUMMARY_PASSAGES]:
        lines.append(f"  [{passage.id}] {_shorten(passage.text)}")
    return "\n".join(lines)


def _shorten(text: str) -> str:
    if len(text) <= SUMMARY_PASSAGE_CHARS:
        return text
    return text[: SUMMARY_PASSAGE_CHARS - 1].rstrip() + "…"
