"""Bytes to text for web pages: HTTP charset, then BOM and meta charset, then detection.

Never raises on bad bytes: the last resort decodes with replacement characters.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.I)
    return _known(match.group(1)) if match else None


def _known(name: str) -> str | None:
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, encoding used). Tries each declared charset strictly before detecting."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace"), encoding
    candidates = [charset_from_content_type(content_type)]
    meta = _META_CHARSET.search(body[:4096])
    if meta:
        candidates.append(_known(meta.group(1).decode("ascii", "ignore")))
    for declared in candidates:
        if declared and (text := _strict(body, declared)) is not None:
            return text, declared
    if (text := _strict(body, "utf-8")) is not None:
        return text, "utf-8"
    best = from_bytes(body[:200_000]).best()
    if best is not None and best.encoding:
        return body.decode(best.encoding, errors="replace"), best.encoding
    return body.decode("utf-8", errors="replace"), "utf-8"
