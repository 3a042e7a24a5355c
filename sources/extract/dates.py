"""Publication dates that no metadata states: in the URL, or written out on the page.

Many blogs and small sites carry no JSON-LD, OpenGraph or ``<time>`` date, yet say when a
post was published twice over: in the URL (``/2014/05/18/slug``) and in a line such as
"18. Mai 2014", "May 18, 2014" or "18.05.2014" inside an element named ``date``,
``entry-meta`` or ``posted-on``. Both are read here; either gives a calendar day (midnight
UTC). Month names are understood in English, German, French, Spanish, Italian, Dutch and
Portuguese. Slashed dates (``05/06/2014``) are refused: the day and month order is unknown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bs4 import Tag

from sources.extract.tree import Tree

_MONTHS = {
    1: "january jan januar jänner janvier enero gennaio januari janeiro",
    2: "february feb februar feber février fevrier febrero febbraio februari fevereiro",
    3: "march mar märz maerz mrz mars marzo maart março",
    4: "april apr avril abril aprile",
    5: "may mai mayo maggio mei maio",
    6: "june jun juni juin junio giugno junho",
    7: "july jul juli juillet julio luglio julho",
    8: "august aug août aout agosto augustus",
    9: "september sep sept septembre septiembre setiembre settembre setembro",
    10: "october oct oktober okt octobre octubre ottobre oktober outubro",
    11: "november nov novembre noviembre novembro",
    12: "december dec dezember dez décembre decembre diciembre dicembre dezembro",
}
MONTHS = {name: number for number, names in _MONTHS.items() for name in names.split()}
_MONTH = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
_YEAR = r"((?:19|20)\d\d)"
_DAY = r"(0?[1-9]|[12]\d|3[01])"
_PATTERNS: tuple[tuple[re.Pattern[str], tuple[int, int, int]], ...] = (
    # (pattern, positions of year, month, day among its groups)
    (re.compile(rf"(?<!\d){_YEAR}-(0?[1-9]|1[0-2])-{_DAY}(?!\d)"), (1, 2, 3)),
    (re.compile(rf"(?<![\d.]){_DAY}\.\s?(0?[1-9]|1[0-2])\.\s?{_YEAR}(?!\d)"), (3, 2, 1)),
    (
        re.compile(
            rf"(?<!\d){_DAY}(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?({_MONTH})\.?,?\s+(?:de\s+)?{_YEAR}",
            re.I,
        ),
        (3, 2, 1),
    ),
    (
        re.compile(rf"\b({_MONTH})\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}(?!\d)", re.I),
        (3, 1, 2),
    ),
)
_URL_DATE = re.compile(rf"/{_YEAR}[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)")
_URL_SLASHED = re.compile(rf"/{_YEAR}/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?:/|$)")
# Class, id or itemprop names of elements that show the publication date.
_DATE_NAMES = re.compile(r"date|datum|fecha|time|publi|posted|entry-meta|post-meta|dateline", re.I)
# Longer than this, an element named "date…" is a container, not the date line.
MAX_DATE_LINE_CHARS = 160
MAX_DATE_LINE_ELEMENTS = 12


def day(year: int, month: int, date: int) -> datetime | None:
    try:
        return datetime(year, month, date, tzinfo=UTC)
    except ValueError:
        return None


def url_date(url: str | None) -> datetime | None:
    """The day in a URL path: ``/2014/05/18/``, ``/2014-05-18-slug``, ``/20140518/``."""
    if not url:
        return None
    path = urlsplit(url).path
    match = _URL_SLASHED.search(path) or _URL_DATE.search(path)
    return day(*map(int, match.groups())) if match else None


def text_date(text: str) -> datetime | None:
    """The first complete date written in ``text``, in any of the understood forms."""
    found: list[tuple[int, datetime]] = []
    for pattern, (y, m, d) in _PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        month = match.group(m)
        number = int(month) if month.isdigit() else MONTHS.get(month.lower().rstrip("."))
        when = day(int(match.group(y)), number, int(match.group(d))) if number else None
        if when:
            found.append((match.start(), when))
    return min(found, key=lambda pair: pair[0])[1] if found else None


def shown_date(tree: Tree) -> datetime | None:
    """The first date written in an element named as a date line (see the module doc)."""
    for index, tag in enumerate(tree.tags):
        attrs = tag.attrs
        if not attrs or tree.end[index] - index > MAX_DATE_LINE_ELEMENTS:
            continue
        if not _DATE_NAMES.search(_names(tag)):
            continue
        text = " ".join(tag.get_text(" ").split())
        if text and len(text) <= MAX_DATE_LINE_CHARS and (when := text_date(text)):
            return when
    return None


def _names(tag: Tag) -> str:
    return " ".join(
        value if isinstance(value, str) else " ".join(value)
        for key in ("class", "id", "itemprop")
        if (value := tag.attrs.get(key))
    )
