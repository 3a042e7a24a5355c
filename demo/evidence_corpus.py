"""The team's labelled evidence set, and a multi-host news corpus served from it.

The set (``bench/data/evidence_set.jsonl``, described in ``bench/data/EVIDENCE_SET.md``) is
one claim per line: its text, claimant, date, kind and gold rating, and 4–9 pages from
different outlets whose passages are labelled O (origin), S (supports), R (refutes),
C (context) or ``-`` (not evidence). ``load_evidence_set`` reads and validates it.

``evidence_corpus`` turns it into a ``demo.corpus.model.Corpus``: every outlet its own host
on 127.0.2.x, each page rendered as a realistic article (headline, byline, og:site_name,
article:published_time, JSON-LD, navigation, cookie banner, related links and footer to
strip) with the labelled passages as its paragraphs; every outlet has an RSS feed and a
sitemap; the encyclopedia outlet answers the MediaWiki API; 127.0.2.1 answers a GDELT DOC
2.0 search over all the news pages. The gold stays reachable: ``EvidenceCorpus.page_at``
maps a served URL back to its claim and labelled page.

Example::

    evidence = evidence_corpus()
    with CorpusServer(evidence.corpus) as server:
        specs = server.source_specs(("gdelt", "mediawiki", "rss"))
        claim, page = evidence.page_at(server.url(key, path))

``python -m demo.evidence_corpus`` prints the set's counts (per label, kind and rating);
``--serve`` serves the corpus until Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dtime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from demo.corpus.gdeltapi import DOC_PATH
from demo.corpus.model import Corpus, DictPages, Entry, Page, Site
from demo.server import CorpusServer, describe

EVIDENCE_SET = Path(__file__).resolve().parents[1] / "bench" / "data" / "evidence_set.jsonl"
HOST_NETWORK = "127.0.2."  # the demo corpus is on 127.0.0.x, the synthetic one on 127.0.1.x
GDELT_KEY = "gdelt"
GDELT_ADDRESS = HOST_NETWORK + "1"
GDELT_DOMAIN = "api.gdeltproject.example"
WIKI_PREFIX = "/wiki/"
MAX_OUTLETS = 253  # 127.0.2.2 … 127.0.2.254

LABELS = ("O", "S", "R", "C", "-")
GOLD_LABELS = frozenset("OSRC")  # a passage a fact-checker would cite
KINDS = ("first", "only", "never", "number", "quote", "none")
RATINGS = ("true", "mostly-true", "mixed", "mostly-false", "false", "misleading", "unverifiable")
PAGES_PER_CLAIM = (4, 9)
PASSAGES_PER_PAGE = (3, 6)

_AUTHORS = (
    "Maria Lindqvist",
    "James Okonkwo",
    "Priya Raman",
    "Tomasz Nowak",
    "Hannah Becker",
    "Luis Moreno",
    "Aiko Tanaka",
    "Samuel Adeyemi",
    "Claire Dubois",
    "Omar Haddad",
)
_SECTIONS = ("World", "Politics", "Business", "Science", "Health", "Sport", "Culture")


class EvidenceSetError(ValueError):
    """The labelled set breaks its format; the message names the line and the problem."""


@dataclass(frozen=True)
class LabelledPassage:
    label: str
    text: str

    @property
    def gold(self) -> bool:
        return self.label in GOLD_LABELS


@dataclass(frozen=True)
class LabelledPage:
    url: str
    site: str
    title: str
    published: datetime | None
    passages: tuple[LabelledPassage, ...]

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def gold(self) -> bool:
        """A page worth finding: it holds an origin, supporting, refuting or context passage."""
        return any(p.gold for p in self.passages)


@dataclass(frozen=True)
class LabelledClaim:
    id: str
    claim: str
    claimant: str | None
    claim_date: date | None
    kind: tuple[str, ...]
    gold_rating: str
    pages: tuple[LabelledPage, ...]

    def passages(self, labels: Iterable[str] = GOLD_LABELS) -> list[LabelledPassage]:
        wanted = set(labels)
        return [p for page in self.pages for p in page.passages if p.label in wanted]


# -- the labelled set ----------------------------------------------------------------------


def _require(ok: bool, where: str, problem: str) -> None:
    if not ok:
        raise EvidenceSetError(f"{where}: {problem}")


def _moment(value: str | None, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise EvidenceSetError(f"{where}: {value!r} is not an ISO date-time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _page(raw: dict[str, Any], where: str) -> LabelledPage:
    url = raw.get("url", "")
    _require(urlsplit(url).scheme == "https" and bool(urlsplit(url).hostname), where, "bad url")
    passages = raw.get("passages") or []
    low, high = PASSAGES_PER_PAGE
    _require(low <= len(passages) <= high, where, f"{len(passages)} passages, not {low}-{high}")
    for p in passages:
        _require(p.get("label") in LABELS, where, f"label {p.get('label')!r}")
        _require(bool(str(p.get("text", "")).strip()), where, "an empty passage")
    _require(bool(raw.get("site")) and bool(raw.get("title")), where, "no site or title")
    return LabelledPage(
        url=url,
        site=raw["site"],
        title=raw["title"],
        published=_moment(raw.get("published"), where),
        passages=tuple(LabelledPassage(p["label"], " ".join(p["text"].split())) for p in passages),
    )


def parse_claim(raw: dict[str, Any], where: str = "claim") -> LabelledClaim:
    """One line of the set, checked against the format of EVIDENCE_SET.md."""
    _require(bool(raw.get("id")) and bool(raw.get("claim")), where, "no id or claim text")
    where = f"{where} ({raw['id']})"
    kinds = tuple(raw.get("kind") or ())
    _require(bool(kinds) and set(kinds) <= set(KINDS), where, f"kind {kinds!r}")
    _require(raw.get("gold_rating") in RATINGS, where, f"rating {raw.get('gold_rating')!r}")
    pages = tuple(_page(p, f"{where} page {n}") for n, p in enumerate(raw.get("pages") or [], 1))
    low, high = PAGES_PER_CLAIM
    _require(low <= len(pages) <= high, where, f"{len(pages)} pages, not {low}-{high}")
    hosts = [p.host for p in pages]
    _require(len(set(hosts)) == len(hosts), where, "two pages from one outlet")
    claim_date = raw.get("claim_date")
    return LabelledClaim(
        id=raw["id"],
        claim=raw["claim"],
        claimant=raw.get("claimant"),
        claim_date=date.fromisoformat(claim_date) if claim_date else None,
        kind=kinds,
        gold_rating=raw["gold_rating"],
        pages=pages,
    )


def load_evidence_set(path: Path = EVIDENCE_SET) -> list[LabelledClaim]:
    """Every claim of the set; raises EvidenceSetError naming the first broken line."""
    claims: list[LabelledClaim] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise EvidenceSetError(f"{path.name}:{n}: not JSON ({exc})") from exc
        claims.append(parse_claim(raw, f"{path.name}:{n}"))
    ids = Counter(c.id for c in claims)
    urls = Counter(p.url for c in claims for p in c.pages)
    _require(max(ids.values(), default=1) == 1, path.name, "a claim id is used twice")
    _require(max(urls.values(), default=1) == 1, path.name, "a page URL is used twice")
    sites: dict[str, str] = {}
    for page in (p for c in claims for p in c.pages):
        _require(sites.setdefault(page.host, page.site) == page.site, page.url, "two site names")
    return claims


def counts(claims: Sequence[LabelledClaim]) -> dict[str, Counter[str]]:
    """Passages per label, claims per kind and per rating, and the set's sizes."""
    labels = Counter(p.label for c in claims for page in c.pages for p in page.passages)
    kinds = Counter(k for c in claims for k in c.kind)
    ratings = Counter(c.gold_rating for c in claims)
    pages = [p for c in claims for p in c.pages]
    sizes = Counter(
        claims=len(claims),
        pages=len(pages),
        gold_pages=sum(p.gold for p in pages),
        outlets=len({p.host for p in pages}),
        passages=sum(labels.values()),
        claims_with_refutation=sum(bool(c.passages("R")) for c in claims),
        claims_with_origin=sum(bool(c.passages("O")) for c in claims),
    )
    return {"sizes": sizes, "labels": labels, "kinds": kinds, "ratings": ratings}


def describe_counts(claims: Sequence[LabelledClaim]) -> str:
    table = counts(claims)
    lines = []
    for name, counter in table.items():
        lines.append(f"{name}:")
        order = {"labels": LABELS, "kinds": KINDS, "ratings": RATINGS}.get(name, tuple(counter))
        lines += [f"  {key:<24}{counter[key]:>5}" for key in order]
    return "\n".join(lines)


# -- rendering -------------------------------------------------------------------------------


def site_key(host: str) -> str:
    """``www.wirenews.example`` -> ``wirenews-example`` (a placeholder-safe site key)."""
    return host.removeprefix("www.").replace(".", "-").lower()


def _pick(options: Sequence[str], seed: str) -> str:
    return options[int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) % len(options)]


def _published(page: LabelledPage, claim: LabelledClaim) -> datetime:
    if page.published is not None:
        return page.published
    day = claim.claim_date or date(2020, 1, 1)
    return datetime.combine(day, dtime(9), tzinfo=UTC)


def _placeholder(key: str, path: str) -> str:
    return "{{url:" + key + ":" + path + "}}"


def render_article(
    page: LabelledPage, key: str, published: datetime, related: Sequence[LabelledPage]
) -> str:
    """A news article as an outlet serves it: metadata, chrome and the passages."""
    site, title = escape(page.site), escape(page.title)
    author = _pick(_AUTHORS, page.url)
    section = _pick(_SECTIONS, page.title)
    stamp = published.isoformat()
    url = _placeholder(key, page.path)
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": page.title,
        "datePublished": stamp,
        "author": {"@type": "Person", "name": author},
        "publisher": {"@type": "Organization", "name": page.site},
    }
    body = "".join(f"<p>{escape(p.text)}</p>" for p in page.passages)
    links = "".join(
        f'<li><a href="{_placeholder(key, other.path)}">{escape(other.title)}</a></li>'
        for other in related
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} | {site}</title>"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="canonical" href="{url}">'
        f'<meta property="og:site_name" content="{site}">'
        f'<meta property="og:type" content="article">'
        f'<meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="{stamp}">'
        f'<meta property="article:section" content="{section}">'
        f'<meta name="author" content="{escape(author)}">'
        f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>'
        "</head><body>"
        '<div class="cookie-banner" role="dialog"><p>We use cookies to improve your '
        "experience.</p><button>Accept all</button></div>"
        f'<header class="site-header"><a class="logo" href="/">{site}</a><nav><ul>'
        '<li><a href="/">Home</a></li><li><a href="/world/">World</a></li>'
        '<li><a href="/politics/">Politics</a></li><li><a href="/business/">Business</a></li>'
        '<li><a href="/science/">Science</a></li></ul></nav></header>'
        f'<main><article class="story"><h1>{title}</h1>'
        f'<div class="byline">By <span class="author">{escape(author)}</span> '
        f'<time datetime="{stamp}">{published:%d %B %Y, %H:%M} UTC</time></div>'
        f'<div class="story-body">{body}</div></article>'
        f'<aside class="related"><h2>More from {site}</h2><ul>{links}</ul></aside></main>'
        f'<footer class="site-footer"><p>&copy; {published.year} {site}. All rights '
        'reserved.</p><a href="/privacy">Privacy</a> <a href="/terms">Terms</a></footer>'
        "</body></html>"
    )


def render_wiki(page: LabelledPage, key: str, published: datetime) -> str:
    """An encyclopedia article in MediaWiki's markup, so the wiki API can index it."""
    title = escape(page.title)
    body = "".join(f"<p>{escape(p.text)}</p>" for p in page.passages)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} - {escape(page.site)}</title>"
        f'<link rel="canonical" href="{_placeholder(key, page.path)}">'
        f'<meta property="og:site_name" content="{escape(page.site)}">'
        f'<meta property="article:modified_time" content="{published.isoformat()}">'
        '</head><body><div id="mw-navigation"><div id="mw-panel"><a href="/wiki/Main_Page">'
        'Main page</a> <a href="/wiki/Special:Random">Random article</a></div></div>'
        f'<div id="content"><h1 id="firstHeading">{title}</h1><div id="bodyContent">'
        '<div id="siteSub">From Fictipedia, the free encyclopedia</div>'
        f'<div class="mw-parser-output">{body}</div></div></div>'
        f'<div id="footer"><ul><li>This page was last edited on {published:%d %B %Y}.</li>'
        "<li>Text is available under a Creative Commons licence.</li></ul></div></body></html>"
    )


@dataclass
class EvidenceCorpus:
    """The served corpus and the way back from a served URL to the labelled page."""

    corpus: Corpus
    claims: list[LabelledClaim]
    _pages: dict[tuple[str, str], tuple[LabelledClaim, LabelledPage]]

    def page_at(self, url: str) -> tuple[LabelledClaim, LabelledPage] | None:
        """The claim and labelled page a served URL (any port) shows, or None."""
        parts = urlsplit(url)
        return self._pages.get((parts.hostname or "", parts.path or "/"))

    def address(self, host: str) -> str:
        """The loopback address an outlet (``www.wirenews.example``) is served on."""
        return self.corpus.site(site_key(host)).address

    def served_path(self, page: LabelledPage) -> tuple[str, str]:
        """(site key, path) of a labelled page, for ``CorpusServer.url``."""
        return site_key(page.host), page.path


def _outlet(host: str, name: str, address: str, pages: list[Page], wiki: bool) -> Site:
    key = site_key(host)
    return Site(
        key=key,
        name=name,
        address=address,
        pages=DictPages(pages),
        kind="encyclopedia" if wiki else "news",
        description=f"{name}: news and analysis." if not wiki else f"{name}, an encyclopedia.",
        feed_path="/feeds/recentchanges.atom" if wiki else "/rss.xml",
        feed_format="atom" if wiki else "rss",
        sitemap_style="plain",
        wiki_api=wiki,
        domain=host.removeprefix("www."),
        country="United States",
    )


def evidence_corpus(claims: Sequence[LabelledClaim] | None = None) -> EvidenceCorpus:
    """The corpus of ``claims`` (default: the whole labelled set), one host per outlet."""
    claims = list(load_evidence_set() if claims is None else claims)
    by_host: dict[str, list[tuple[LabelledClaim, LabelledPage]]] = {}
    for claim in claims:
        for page in claim.pages:
            by_host.setdefault(page.host, []).append((claim, page))
    if len(by_host) > MAX_OUTLETS:
        raise ValueError(f"{len(by_host)} outlets; 127.0.2.x holds at most {MAX_OUTLETS}")
    sites = [
        Site(
            key=GDELT_KEY,
            name="GDELT Project",
            address=GDELT_ADDRESS,
            pages=DictPages(()),
            kind="search",
            gdelt_api=True,
            domain=GDELT_DOMAIN,
        )
    ]
    gold: dict[tuple[str, str], tuple[LabelledClaim, LabelledPage]] = {}
    for n, host in enumerate(sorted(by_host), start=2):
        address, key = f"{HOST_NETWORK}{n}", site_key(host)
        items = by_host[host]
        wiki = all(page.path.startswith(WIKI_PREFIX) for _, page in items)
        pages = []
        for claim, page in items:
            published = _published(page, claim)
            related = [other for _, other in items if other is not page][:4]
            html = (
                render_wiki(page, key, published)
                if wiki
                else render_article(page, key, published, related)
            )
            entry = Entry(
                path=page.path,
                title=page.title,
                summary=page.passages[0].text,
                published=published,
                author=None if wiki else _pick(_AUTHORS, page.url),
            )
            pages.append(Page(entry, html))
            gold[(address, page.path)] = (claim, page)
        sites.append(_outlet(host, items[0][1].site, address, pages, wiki))
    corpus = Corpus(sites=sites, claims=[_claim_row(c) for c in claims])
    return EvidenceCorpus(corpus, claims, gold)


def _claim_row(claim: LabelledClaim) -> dict[str, str]:
    row = {"id": claim.id, "text": claim.claim}
    if claim.claimant:
        row["claimant"] = claim.claimant
    if claim.claim_date:
        row["date"] = claim.claim_date.isoformat()
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.evidence_corpus", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--serve", action="store_true", help="serve the corpus until Ctrl-C")
    parser.add_argument("--port", type=int, default=0, help="one port for every host")
    args = parser.parse_args(argv)
    try:
        evidence = evidence_corpus()
    except EvidenceSetError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    sys.stdout.write(describe_counts(evidence.claims) + "\n")
    if not args.serve:
        return 0
    with CorpusServer(evidence.corpus, port=args.port) as server:
        sys.stdout.write(describe(server) + f"\n  --source gdelt={server.url('gdelt', DOC_PATH)}\n")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
