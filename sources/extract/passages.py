"""Main text into citable passages with stable ids and exact character offsets.

A passage is a paragraph (paragraphs are separated by a blank line in the main text); a
paragraph longer than ``max_chars`` is cut at sentence boundaries into pieces of at most
``max_chars`` where the sentences allow it. For every passage
``main_text[start:end] == text``, so a reviewer's citation points at exact characters.

The id is ``"p-"`` plus the first 16 hex digits of the SHA-256 of the passage's text,
normalised (Unicode NFKC, case-folded, typographic quotes and dashes folded, whitespace
collapsed). The same paragraph on two sites, or on one site on two nights, has the same id:
ranking groups syndicated copies by it and drift detection compares by it. A text repeated
within one page gets ``-2``, ``-3``… in order.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator

from sources.extract.config import DEFAULT_CONFIG
from sources.results import PassageSpan

ID_PREFIX = "p-"
ID_HEX_DIGITS = 16
_PARAGRAPH_GAP = re.compile(r"[^\S\n]*\n\s*\n\s*")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)|[。！？]+[\"'”’」』)]*")
_NEXT_CHAR = re.compile(r"\s*(\S)")
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sen rep gov gen lt col sgt capt cmdr adm st jr sr inc corp co ltd no nos
    vs jan feb mar apr jun jul aug sep sept oct nov dec mt ft vol pp fig approx dept est
    """.split()
)
_FOLDS = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"',
        "«": '"', "»": '"', "–": "-", "—": "-", "‒": "-", "―": "-", "−": "-",
        "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
    }
)  # fmt: skip


def normalize_for_id(text: str) -> str:
    """The form of a passage that its id hashes: typography and case do not matter."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLDS).casefold()
    return " ".join(folded.split())


def passage_id(text: str) -> str:
    digest = hashlib.sha256(normalize_for_id(text).encode("utf-8")).hexdigest()
    return ID_PREFIX + digest[:ID_HEX_DIGITS]


def split_passages(
    text: str, max_chars: int = DEFAULT_CONFIG.max_passage_chars
) -> tuple[PassageSpan, ...]:
    """The passages of ``text`` in order; see the module docstring for the guarantees."""
    spans = [
        piece
        for start, end in paragraph_spans(text)
        for piece in sentence_chunks(text, start, end, max_chars)
    ]
    return _identify(text, spans)


def paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each paragraph, without the whitespace around it."""
    start = 0
    for gap in _PARAGRAPH_GAP.finditer(text):
        yield from _trimmed(text, start, gap.start())
        start = gap.end()
    yield from _trimmed(text, start, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def sentence_chunks(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    """Greedy runs of whole sentences no longer than ``max_chars`` (a longer sentence is
    cut at the last space before the limit, or at the limit when it has no spaces)."""
    if end - start <= max_chars:
        yield start, end
        return
    chunk_start = start
    chunk_end = start
    for sentence_end in [*sentence_ends(text, start, end), end]:
        if sentence_end - chunk_start <= max_chars:
            chunk_end = sentence_end
            continue
        if chunk_end > chunk_start:
            yield from _trimmed(text, chunk_start, chunk_end)
            chunk_start = _skip_space(text, chunk_end, end)
        while sentence_end - chunk_start > max_chars:
            cut = _hard_cut(text, chunk_start, chunk_start + max_chars)
            yield from _trimmed(text, chunk_start, cut)
            chunk_start = _skip_space(text, cut, end)
        chunk_end = sentence_end
    yield from _trimmed(text, chunk_start, end)


def _skip_space(text: str, position: int, end: int) -> int:
    while position < end and text[position].isspace():
        position += 1
    return position


def _hard_cut(text: str, start: int, limit: int) -> int:
    space = text.rfind(" ", start + 1, limit)
    return space if space > start else limit


def sentence_ends(text: str, start: int, end: int) -> Iterator[int]:
    """Offsets just after each sentence-final punctuation mark in ``text[start:end]``."""
    for match in _SENTENCE_END.finditer(text, start, end):
        stop = match.end()
        if stop >= end:
            break
        if _is_boundary(text, match.start(), stop, end):
            yield stop


def _is_boundary(text: str, mark: int, stop: int, end: int) -> bool:
    """Not after 'Mr.', 'U.S.', an initial, or before a lower-case word."""
    following = _NEXT_CHAR.match(text, stop, end)
    if following and following.group(1).islower():
        return False
    if text[mark] != ".":
        return True
    word_start = mark
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:mark].lstrip("\"'“‘(")
    if "." in word or (len(word) == 1 and word.isalpha()):
        return False
    return word.casefold() not in ABBREVIATIONS


def _identify(text: str, spans: list[tuple[int, int]]) -> tuple[PassageSpan, ...]:
    seen: dict[str, int] = {}
    passages = []
    for ordinal, (start, end) in enumerate(spans):
        piece = text[start:end]
        base = passage_id(piece)
        seen[base] = seen.get(base, 0) + 1
        ident = base if seen[base] == 1 else f"{base}-{seen[base]}"
        passages.append(PassageSpan(ident, ordinal, piece, start, end))
    return tuple(passages)
