"""Deterministic benchmark corpora: N claims × ~10 pages spread over K hosts, from a seed.

Each claim is about a fictional town ("Kalomarford's water board approved 214 new meters in
March 2017"). Its pages: page 0 is the origin post that makes the claim and links to the
others; about half of the rest restate the claim (with the same figure), a few contradict
it (another figure), the remainder are about the same town but another subject. Pages sit
on host ``(claim + page) % K``, so every claim spans several hosts. Every host has a feed,
a sitemap index with paged sitemaps and a robots.txt; an extra wiki host answers the
MediaWiki search API over one article per claim.

Nothing is stored: a page is recomputed from ``(seed, claim, page)`` when requested, so a
2,000-claim corpus costs the serving process no memory and two runs with one seed serve
byte-identical pages.

Example::

    corpus = synthetic_corpus(200, seed=7, hosts=6)
    with CorpusServer(corpus, latency_s=0.05) as server:
        server.write_claims(Path("claims.jsonl"))   # then `factcheck verify-batch claims.jsonl`
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from html import escape

from demo.corpus.model import CORPUS_SCHEME, Corpus, Entry, Page, Site

PAGES_PER_CLAIM = 10
HOSTS = 6
HOST_NETWORK = "127.0.1."  # synthetic hosts: 127.0.1.1 …; the demo corpus is on 127.0.0.x
MAX_HOSTS = 250
PARAGRAPHS = (4, 7)  # filler paragraphs per page, low and high
WIKI_KEY = "wiki"

_SYLLABLES = (
    "ka lo ma ri ven tal bro sen dor mi ela har wick nor bel pen ast cor dun fal gre hol "
    "ith jun kel lun mor nes orr pil"
).split()
_SUFFIXES = ("ford", "ton", "ville", "port", "bury", "mouth", "field", "haven")
_BODIES = (
    "water board",
    "transit authority",
    "school district",
    "city council",
    "port authority",
    "health trust",
    "housing agency",
    "parks department",
    "library service",
    "fire service",
)
_ACTIONS = (
    ("approved", "new water meters"),
    ("opened", "bus routes"),
    ("hired", "teachers"),
    ("built", "affordable homes"),
    ("planted", "street trees"),
    ("closed", "branch offices"),
    ("repaired", "bridges"),
    ("installed", "charging points"),
    ("recruited", "nurses"),
    ("cut", "parking spaces"),
    ("added", "hospital beds"),
    ("bought", "electric buses"),
    ("renovated", "playgrounds"),
    ("digitised", "archive volumes"),
    ("trained", "firefighters"),
)
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_FILLER = (
    "Residents had asked for the change for several years, according to minutes of public "
    "meetings.",
    "The budget for the programme was set at the start of the financial year.",
    "Officials said the figures would be audited before the end of the year.",
    "Local businesses gave the plan a cautious welcome.",
    "A spokesperson declined to comment on the timetable for the next phase.",
    "The regional government contributed part of the funding through a grant scheme.",
    "Opposition councillors questioned whether the money could have been spent elsewhere.",
    "Similar schemes in neighbouring towns have had mixed results.",
    "The announcement came at a meeting attended by about forty people.",
    "Critics said consultation with residents had been too short.",
    "The contract was awarded after a competitive tender.",
    "Work is expected to continue into the following spring.",
)
_PATH = re.compile(r"^/news/(\d{4})/(\d{2})/([a-z0-9-]+)-c(\d+)-p(\d+)\.html$")


@dataclass(frozen=True)
class SyntheticClaim:
    """The facts of one synthetic claim, derived from (seed, index) alone."""

    index: int
    town: str
    body: str
    verb: str
    thing: str
    number: int
    other_number: int
    month: int
    year: int

    @property
    def text(self) -> str:
        return (
            f"{self.town}'s {self.body} {self.verb} {self.number} {self.thing} in "
            f"{_MONTHS[self.month - 1]} {self.year}."
        )

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", f"{self.town} {self.body} {self.thing}".lower())

    @property
    def date(self) -> datetime:
        return datetime(self.year, self.month, 1 + self.index % 27, 9, tzinfo=UTC)


def town_name(index: int) -> str:
    """A town name unique per claim index (so no two claims are near-duplicates)."""
    n = len(_SYLLABLES)
    name = _SYLLABLES[index % n] + _SYLLABLES[(index // n) % n]
    name += _SUFFIXES[(index // (n * n)) % len(_SUFFIXES)]
    cycle = index // (n * n * len(_SUFFIXES))
    return name.capitalize() + (f" {cycle + 1}" if cycle else "")


@lru_cache(maxsize=4096)
def claim_facts(seed: int, index: int) -> SyntheticClaim:
    rng = random.Random(f"claim:{seed}:{index}")
    verb, thing = rng.choice(_ACTIONS)
    number = rng.randint(12, 900)
    return SyntheticClaim(
        index=index,
        town=town_name(index),
        body=rng.choice(_BODIES),
        verb=verb,
        thing=thing,
        number=number,
        other_number=number + rng.choice((-1, 1)) * rng.randint(5, max(6, number // 2)),
        month=rng.randint(1, 12),
        year=rng.randint(2012, 2023),
    )


@dataclass(frozen=True)
class SyntheticSpec:
    seed: int
    claims: int
    hosts: int
    pages_per_claim: int

    def host_of(self, index: int, page: int) -> int:
        return (index + page) % self.hosts

    def path(self, claim: SyntheticClaim, page: int) -> str:
        return f"/news/{claim.year}/{claim.month:02d}/{claim.slug}-c{claim.index}-p{page}.html"


def _stance(page: int) -> str:
    """Page 0 makes the claim; then supporting, contradicting and off-topic pages."""
    if page == 0:
        return "origin"
    if page % 4 == 3:
        return "contradicts"
    if page % 4 == 2:
        return "related"
    return "supports"


def _headline(claim: SyntheticClaim, page: int) -> str:
    stance = _stance(page)
    if stance == "contradicts":
        return f"{claim.town} {claim.body} figures questioned: {claim.other_number} {claim.thing}"
    if stance == "related":
        return f"{claim.town} residents debate plans for the {claim.body}"
    return f"{claim.town} {claim.body} {claim.verb} {claim.number} {claim.thing}"


def _claim_sentence(claim: SyntheticClaim, page: int) -> str:
    stance = _stance(page)
    when = f"{_MONTHS[claim.month - 1]} {claim.year}"
    if stance == "contradicts":
        return (
            f"Records obtained by this site show the {claim.body} of {claim.town} "
            f"{claim.verb} {claim.other_number} {claim.thing} in {when}, not {claim.number} "
            "as has been widely reported."
        )
    if stance == "related":
        return (
            f"The {claim.body} of {claim.town} is also reviewing its opening hours and its "
            "complaints procedure, officials said."
        )
    return f"The {claim.body} of {claim.town} {claim.verb} {claim.number} {claim.thing} in {when}."


def _entry(spec: SyntheticSpec, claim: SyntheticClaim, page: int) -> Entry:
    published = claim.date + timedelta(hours=page)
    return Entry(
        path=spec.path(claim, page),
        title=_headline(claim, page),
        summary=_claim_sentence(claim, page),
        published=published,
        author=f"Reporter {1 + (claim.index + page) % 40}",
    )


def _links(spec: SyntheticSpec, claim: SyntheticClaim) -> str:
    items = []
    for page in range(1, spec.pages_per_claim):
        host = spec.host_of(claim.index, page)
        url = "{{url:host%d:%s}}" % (host + 1, spec.path(claim, page))  # noqa: UP031
        items.append(f'<li><a href="{url}">{escape(_headline(claim, page))}</a></li>')
    return f'<h2>Sources</h2><ul class="sources">{"".join(items)}</ul>'


def render(spec: SyntheticSpec, claim: SyntheticClaim, page: int, site_name: str) -> str:
    """The HTML of one synthetic page: metadata, chrome and a few paragraphs."""
    rng = random.Random(f"page:{spec.seed}:{claim.index}:{page}")
    entry = _entry(spec, claim, page)
    host = spec.host_of(claim.index, page) + 1
    url = "{{url:host%d:%s}}" % (host, entry.path)  # noqa: UP031
    paragraphs = [" ".join(rng.sample(_FILLER, 3)) for _ in range(rng.randint(*PARAGRAPHS))]
    paragraphs.insert(rng.randint(0, 2), _claim_sentence(claim, page))
    if _stance(page) == "origin":
        paragraphs.insert(0, f"It is official: {claim.text}")
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    links = _links(spec, claim) if page == 0 else ""
    title = escape(entry.title)
    published = entry.published.isoformat()
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | '
        f'{escape(site_name)}</title><link rel="canonical" href="{url}">'
        f'<meta property="og:site_name" content="{escape(site_name)}">'
        f'<meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="{published}">'
        f'<meta name="author" content="{escape(entry.author or "")}"></head><body>'
        '<div class="cookie-banner">We use cookies. <button>Accept</button></div>'
        f'<header><nav><a href="/">{escape(site_name)}</a> <a href="/news/">News</a> '
        '<a href="/sport/">Sport</a></nav></header>'
        f'<main><article><h1>{title}</h1><p class="byline">By {escape(entry.author or "")} '
        f'<time datetime="{published}">{entry.published:%d %B %Y}</time></p>'
        f"{body}{links}</article></main>"
        '<aside class="related"><h2>Most read</h2><ul><li><a href="/news/">Latest news</a>'
        "</li></ul></aside><footer><p>A synthetic site generated for the factcheck benchmark."
        "</p></footer></body></html>"
    )


class SyntheticPages:
    """The pages of one synthetic host, computed on request."""

    def __init__(self, spec: SyntheticSpec, host: int, site_name: str) -> None:
        self.spec, self.host, self.site_name = spec, host, site_name

    def _claim_pages(self) -> Iterator[tuple[SyntheticClaim, int]]:
        for index in range(self.spec.claims):
            for page in range(self.spec.pages_per_claim):
                if self.spec.host_of(index, page) == self.host:
                    yield claim_facts(self.spec.seed, index), page

    def get(self, path: str) -> Page | None:
        found = _PATH.match(path)
        if not found:
            return None
        index, page = int(found.group(4)), int(found.group(5))
        if not (0 <= index < self.spec.claims and 0 <= page < self.spec.pages_per_claim):
            return None
        claim = claim_facts(self.spec.seed, index)
        if self.spec.host_of(index, page) != self.host or self.spec.path(claim, page) != path:
            return None
        html = render(self.spec, claim, page, self.site_name)
        return Page(_entry(self.spec, claim, page), html)

    def entries(self) -> Iterator[Entry]:
        return (_entry(self.spec, claim, page) for claim, page in self._claim_pages())


class SyntheticWiki:
    """One encyclopedia article per claim, under /wiki/Town_body, for the search API."""

    def __init__(self, spec: SyntheticSpec) -> None:
        self.spec = spec
        self._by_path: dict[str, int] | None = None  # built on first lookup: path -> claim

    def _title(self, claim: SyntheticClaim) -> str:
        return f"{claim.town} {claim.body}"

    def _path(self, claim: SyntheticClaim) -> str:
        return "/wiki/" + self._title(claim).replace(" ", "_")

    def _entry(self, claim: SyntheticClaim) -> Entry:
        return Entry(
            path=self._path(claim),
            title=self._title(claim),
            summary=f"The {claim.body} of {claim.town}.",
            published=claim.date - timedelta(days=400),
            modified=claim.date + timedelta(days=30),
        )

    def get(self, path: str) -> Page | None:
        if self._by_path is None:
            self._by_path = {
                self._path(claim_facts(self.spec.seed, i)): i for i in range(self.spec.claims)
            }
        index = self._by_path.get(path)
        if index is None:
            return None
        claim = claim_facts(self.spec.seed, index)
        return Page(self._entry(claim), self._render(claim))

    def _render(self, claim: SyntheticClaim) -> str:
        title = escape(self._title(claim))
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} - '
            'SynthPedia</title></head><body><div id="content"><h1>'
            f'{title}</h1><div class="mw-parser-output"><p>The <b>{title}</b> serves the '
            f"town of {escape(claim.town)}.</p><p>{escape(_claim_sentence(claim, 1))}</p>"
            "</div></div><footer>SynthPedia is synthetic benchmark data.</footer></body></html>"
        )

    def entries(self) -> Iterator[Entry]:
        return (self._entry(claim_facts(self.spec.seed, i)) for i in range(self.spec.claims))


def synthetic_corpus(
    n_claims: int,
    *,
    seed: int = 0,
    hosts: int = HOSTS,
    pages_per_claim: int = PAGES_PER_CLAIM,
    wiki: bool = True,
) -> Corpus:
    """A corpus of ``n_claims`` claims × ``pages_per_claim`` pages over ``hosts`` hosts."""
    if not 1 <= hosts <= MAX_HOSTS or n_claims < 0 or pages_per_claim < 1:
        raise ValueError("hosts must be 1-250, n_claims >= 0 and pages_per_claim >= 1")
    spec = SyntheticSpec(seed, n_claims, hosts, pages_per_claim)
    sites = []
    for host in range(hosts):
        name = f"Synthetic Gazette {host + 1}"
        sites.append(
            Site(
                key=f"host{host + 1}",
                name=name,
                address=f"{HOST_NETWORK}{host + 1}",
                pages=SyntheticPages(spec, host, name),
                description=f"Synthetic benchmark host {host + 1}.",
                feed_path="/feed.xml" if host % 2 == 0 else "/atom.xml",
                feed_format="rss" if host % 2 == 0 else "atom",
                sitemap_style="index",
                disallow=("/private/",),
            )
        )
    if wiki:
        sites.append(
            Site(
                key=WIKI_KEY,
                name="SynthPedia",
                address=f"{HOST_NETWORK}{hosts + 1}",
                pages=SyntheticWiki(spec),
                kind="encyclopedia",
                feed_path="/feeds/newpages.atom",
                feed_format="atom",
                wiki_api=True,
            )
        )
    return Corpus(sites=sites, claims=[_claim_row(spec, i) for i in range(n_claims)])


def _claim_row(spec: SyntheticSpec, index: int) -> dict[str, str]:
    claim = claim_facts(spec.seed, index)
    host = spec.host_of(index, 0) + 1
    return {
        "text": claim.text,
        "claimant": f"{claim.town} residents' newsletter",
        "date": claim.date.date().isoformat(),
        "url": f"{CORPUS_SCHEME}host{host}{spec.path(claim, 0)}",
    }
