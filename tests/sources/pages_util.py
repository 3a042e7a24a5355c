"""The saved article pages under ``pages/`` and small helpers for tests that use them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sources.extract import extract
from sources.results import Extraction

PAGES_DIR = Path(__file__).parent / "pages"
PAGE_NAMES = tuple(sorted(p.name for p in PAGES_DIR.glob("*.html")))


def page_bytes(name: str) -> bytes:
    return (PAGES_DIR / name).read_bytes()


@cache
def extracted(name: str) -> Extraction:
    """``extract`` of a saved page (cached: extraction is pure and the pages never change)."""
    return extract(page_bytes(name))


def assert_offsets(extraction: Extraction) -> None:
    """The citation contract: every passage is exactly the main text between its offsets."""
    previous_end = 0
    for ordinal, passage in enumerate(extraction.passages):
        assert extraction.text[passage.start : passage.end] == passage.text
        assert passage.ordinal == ordinal
        assert passage.start >= previous_end
        assert passage.text == passage.text.strip() and passage.text
        previous_end = passage.end
    ids = [p.id for p in extraction.passages]
    assert len(ids) == len(set(ids))
