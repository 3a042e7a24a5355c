"""Discovery on a single large wiki: does the search find the article that decides a claim?

    python -m bench.wiki_discovery [--articles 3000] [--claims 80] [--seed 11]

A synthetic scientific wiki (a few thousand articles about fictional compounds, enzymes,
microbes and minerals that share institutes, regions, researchers, targets and years) is
served through the MediaWiki-shaped API of `demo.corpus.wikiapi` on 127.0.0.1. Each claim
paraphrases one fact of one article (its gold article) in other words — "blocks" for
"inhibits", "researchers at" for "described at" — the way claims restate sources; some do
not name the article's subject at all. Printed, for the same budget of pages:

- discovery recall@N: share of claims whose gold article is among the N candidates the
  discovery run keeps (the pages it would fetch), and recall@5 / MRR of the fused order;
- the same for the earlier planner (a few long keyword strings, ``plan_queries``);
- plain BM25 over the whole corpus (every article's text, the claim as the query): the
  ceiling a search that sees everything reaches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import bm25s
import numpy as np

from demo.corpus import wikiapi
from evidence.scoring.text import stems
from evidence.settings import Settings
from sources.discovery import parse_source
from sources.discovery.base import DiscoveryRequest
from sources.discovery.mediawiki import page_url
from sources.discovery.plan import plan_queries
from sources.discovery.run import discover, make_request
from sources.fetch import AsyncFetcher

_SYL = "ka lo ma ri ven tal bro sen dor mi el har wick nor bel pen ast cor dun fal gre hol".split()
_KINDS = {  # kind: name suffix
    "alkaloid": "amine",
    "enzyme": "ase",
    "protein": "in",
    "bacterium": "ella",
    "mineral": "ite",
}
_VERBS = {  # as the wiki says it: as a claim says it
    "inhibits": "blocks",
    "reduces": "lowers",
    "activates": "switches on",
    "binds": "attaches to",
    "degrades": "breaks down",
    "stabilises": "protects",
}
_EFFECTS = ("activity", "expression", "uptake", "toxicity", "growth", "secretion")
_HABITATS = ("soil", "river sediment", "cave walls", "alpine meadows", "coastal marshes")
_FILLER = (
    "Its structure was determined by crystallography and later confirmed by spectroscopy.",
    "Several laboratories have studied its role in cellular metabolism.",
    "The compound is stable at room temperature and soluble in water.",
    "Early reports were disputed until larger studies were published.",
    "It has been proposed as a model for related molecules in the same family.",
    "Field samples are stored in the national collection for further research.",
    "Its synthesis in the laboratory was first achieved decades after its discovery.",
    "The name refers to the region where the first samples were collected.",
)


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYL) for _ in range(parts)).capitalize()


@dataclass(frozen=True)
class WikiClaim:
    text: str
    gold: str  # the title of the article that decides it


def synthetic_wiki(
    articles: int = 3000, claims: int = 80, seed: int = 11
) -> tuple[list[wikiapi.WikiDoc], list[WikiClaim]]:
    """Deterministic articles and claims (same seed, same corpus)."""
    rng = random.Random(seed)
    institutes = [f"{_name(rng, 2)} Institute" for _ in range(40)]
    regions = [_name(rng, 3) for _ in range(30)]
    people = [f"{_name(rng, 2)} {_name(rng, 2)}" for _ in range(60)]
    titles: list[str] = []
    taken: set[str] = set()
    while len(titles) < articles:
        kind = list(_KINDS)[len(titles) % len(_KINDS)]
        title = _name(rng, 3) + _KINDS[kind]
        if title not in taken:
            taken.add(title)
            titles.append(title)
    docs, facts = [], []
    for i, title in enumerate(titles):
        kind = list(_KINDS)[i % len(_KINDS)]
        fact = {
            "title": title,
            "kind": kind,
            "person": rng.choice(people),
            "institute": rng.choice(institutes),
            "region": rng.choice(regions),
            "year": rng.randint(1950, 2015),
            "verb": rng.choice(list(_VERBS)),
            "target": rng.choice(titles[:i] or [title]) if i else title,
            "effect": rng.choice(_EFFECTS),
            "percent": rng.randint(10, 95),
            "habitat": rng.choice(_HABITATS),
        }
        text = " ".join(
            [
                f"{title} is a {kind} first described by {fact['person']} at the "
                f"{fact['institute']} in {fact['year']}.",
                f"It is found in {fact['region']}, where it occurs in {fact['habitat']}.",
                f"{title} {fact['verb']} {fact['target']} and changes its {fact['effect']} by "
                f"{fact['percent']} percent in laboratory studies.",
                *rng.sample(_FILLER, 3),
            ]
        )
        stamp = datetime(2020, 1, 1, tzinfo=UTC)
        docs.append(wikiapi.WikiDoc(i + 1, title, f"/wiki/{title}", text, stamp))
        facts.append(fact)
    chosen = rng.sample(facts[50:], claims)  # targets of the first articles repeat too often
    return docs, [_claim(rng, f) for f in chosen]


def _claim(rng: random.Random, f: dict[str, Any]) -> WikiClaim:
    verb = _VERBS[f["verb"]]
    forms = (
        f"{f['title']} {verb} {f['target']}, cutting its {f['effect']} by {f['percent']} "
        f"percent, {f['person']} found",
        f"Researchers at the {f['institute']} showed in {f['year']} that a {f['kind']} "
        f"from {f['region']} {verb} {f['target']}",
        f"{f['title']}, found in the {f['habitat']} of {f['region']}, was first identified "
        f"in {f['year']}",
        f"New study: a {f['kind']} described by scientists at the {f['institute']} {verb} the "
        f"{f['effect']} of its target by {f['percent']} percent",
        f"{f['person']} says a {f['kind']} from the {f['habitat']} of {f['region']} {verb} "
        f"{f['effect']}",
    )
    return WikiClaim(rng.choice(forms), f["title"])


class StrictIndex(wikiapi.WikiIndex):
    """CirrusSearch's default: every query word must be in the page (``intitle:`` words in
    its title); no looser fallback when nothing matches them all."""

    def search(self, query: str, *, what: str = "text") -> list[wikiapi.Hit]:
        in_title = wikiapi.terms(" ".join(a or b for a, b in _INTITLE.findall(query)))
        rest = wikiapi.terms(_INTITLE.sub(" ", query).replace("intitle:", " "))
        hits = super().search(" ".join(in_title + rest), what=what)
        return [
            h
            for h in hits
            if set(in_title) <= set(wikiapi.terms(h.doc.title))
            and set(rest) <= set(wikiapi.terms(f"{h.doc.title} {h.doc.text}"))
        ]


_INTITLE = re.compile(r'intitle:(?:"([^"]+)"|(\S+))')


@contextmanager
def serve_wiki(docs: list[wikiapi.WikiDoc], *, strict: bool = False) -> Iterator[str]:
    """The wiki's ``api.php`` on 127.0.0.1 (a free port); yields its URL. ``strict``: AND
    semantics without the demo wiki's fallback (see ``StrictIndex``)."""
    index = (StrictIndex if strict else wikiapi.WikiIndex)(docs)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base name
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            base = f"http://{self.headers.get('Host', '127.0.0.1')}"
            body, _ = wikiapi.answer(params, index, lambda path: base + path)
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/w/api.php"
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Figures:
    recall_n: float  # gold among the N kept candidates
    recall_5: float
    mrr: float


def _figures(ranks: list[int | None], n: int) -> Figures:
    total = len(ranks) or 1
    return Figures(
        recall_n=sum(r is not None and r <= n for r in ranks) / total,
        recall_5=sum(r is not None and r <= 5 for r in ranks) / total,
        mrr=sum(1 / r for r in ranks if r is not None and r <= n) / total,
    )


def bm25_ranks(docs: list[wikiapi.WikiDoc], claims: list[WikiClaim]) -> list[int | None]:
    """The gold article's rank under plain BM25 over every article (title and text)."""
    retriever = bm25s.BM25()
    retriever.index([stems(f"{d.title} {d.text}") or [""] for d in docs], show_progress=False)
    position = {d.title: i for i, d in enumerate(docs)}
    ranks: list[int | None] = []
    for claim in claims:
        scores = np.asarray(retriever.get_scores(stems(claim.text)), dtype=np.float64)
        gold = scores[position[claim.gold]]
        ranks.append(int((scores > gold).sum()) + 1 if gold > 0 else None)
    return ranks


def discovery_ranks(
    api_url: str, claims: list[WikiClaim], settings: Settings, *, planned: bool = True
) -> list[int | None]:
    """The gold article's place among the candidates the discovery run keeps; with
    ``planned=False`` the earlier planner's plain query strings are sent instead."""
    spec = parse_source(f"mediawiki={api_url}")

    async def run() -> list[int | None]:
        ranks: list[int | None] = []
        async with AsyncFetcher(settings) as fetcher:
            for claim in claims:
                if planned:
                    request = make_request(claim.text, settings=settings)
                else:
                    queries = tuple(plan_queries(claim.text))
                    request = DiscoveryRequest(claim.text, queries, max_results=30)
                result = await discover(request, [spec], fetcher, settings)
                urls = [c.url for c in result.candidates]
                gold = page_url(api_url, claim.gold)
                ranks.append(urls.index(gold) + 1 if gold in urls else None)
        return ranks

    return asyncio.run(run())


def bench_settings(**update: Any) -> Settings:
    return Settings(
        allowed_networks=["127.0.0.0/8"],
        per_host_delay_s=0,
        respect_robots=False,
        max_retries=0,
        adapter_timeout_s=60.0,
        sources=[],
        **update,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--claims", type=int, default=80)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    docs, claims = synthetic_wiki(args.articles, args.claims, args.seed)
    settings = bench_settings()
    n = settings.max_candidates
    rows = [("plain BM25, whole corpus", _figures(bm25_ranks(docs, claims), n))]
    for strict, wiki in ((False, "demo wiki"), (True, "strict AND wiki")):
        with serve_wiki(docs, strict=strict) as api_url:
            new = discovery_ranks(api_url, claims, settings)
            old = discovery_ranks(api_url, claims, settings, planned=False)
        rows.append((f"{wiki}: query families", _figures(new, n)))
        rows.append((f"{wiki}: long keyword strings", _figures(old, n)))
    print(f"{len(docs)} articles, {len(claims)} claims, N = {n} pages kept")  # noqa: T201
    for label, f in rows:
        print(  # noqa: T201
            f"{label:34} recall@{n} {f.recall_n:.2f}  recall@5 {f.recall_5:.2f}  MRR {f.mrr:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
