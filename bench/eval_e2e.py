"""End to end on the labelled evidence set: does the pipeline put the deciding passages first?

    python -m bench.eval_e2e [--limit N] [--profile issue|all|search] [--json]

Serves the evidence corpus (`demo.evidence_corpus`: one host per outlet on 127.0.2.x, a
GDELT DOC 2.0 search on 127.0.2.1, a MediaWiki API, feeds and sitemaps), points a fresh
SQLite database in a temporary data directory at it, adds every claim of
``bench/data/evidence_set.jsonl`` with its claimant and date, and runs the plain step
sequence of ``flows.verify.verify_one`` per claim without Prefect (start_run, discover_for,
fetch_candidates, rank, route). Then it reads back what a reviewer would see and scores it
against the gold:

- discovery recall: share of the claim's gold pages (any O/S/R/C passage) among its
  candidates;
- evidence recall@5: gold passages (distinct texts, so syndicated copies count once) among
  the first 5 evidence items, over min(5, number of gold passages);
- MRR: 1 / rank of the first evidence item that is a gold passage;
- refutation recall@3: over claims with a refuting (R) gold passage, the share with one in
  the first 3 evidence items;
- seconds per claim (wall clock of the step sequence, the corpus on loopback).

A recorded passage matches a gold one when, casefolded with whitespace collapsed, one
contains the other (as whole words, four or more) or their word overlap (shared words over
the larger word set) is at least 0.8. Each figure is the mean over claims.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from demo.evidence_corpus import LabelledClaim, LabelledPage, evidence_corpus, load_evidence_set
from demo.server import CorpusServer
from evidence import claims as claims_mod
from evidence.db import get_engine, session_scope, upgrade
from evidence.models import Candidate as CandidateRow
from evidence.settings import get_settings
from flows.steps import VerifyConfig
from flows.verify import fetcher_scope, verify_one

ACTOR = "flow:eval-e2e"
# which sources a run configures: "issue" as in issue 11 (the news search, the wiki, one
# feed and one sitemap: what a newsroom points the tool at), "all" (every outlet's feed and
# sitemap too: discovery then rests on listings), "search" (the news search and the wiki)
PROFILES = ("issue", "all", "search")
FEED_SITES = ("wirenews-example",)  # the wire service's feed
SITEMAP_SITES = ("dailyglobe-example",)
TOP_K = 5
REFUTATION_K = 3
MIN_OVERLAP = 0.8
MIN_CONTAINED_WORDS = 4
_WORD = re.compile(r"\w+")

PageAt = Callable[[str], tuple[LabelledClaim, LabelledPage] | None]


@dataclass
class ClaimResult:
    """What the pipeline recorded for one claim, and how it scores against the gold."""

    id: str
    seconds: float
    candidates: list[str] = field(default_factory=list)
    evidence: list[tuple[str, str]] = field(default_factory=list)  # (url, passage) in rank order
    stances: list[str | None] = field(default_factory=list)  # the recorded stance of each
    suggested: str | None = None  # the run's suggested rating
    error: str | None = None
    scores: dict[str, float] = field(default_factory=dict)


GOLD_STANCE = {"O": "supports", "S": "supports", "R": "refutes", "C": "context"}


# -- scoring (pure) --------------------------------------------------------------------------


def normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def same_passage(recorded: str, gold: str) -> bool:
    """Containment either way (whole words, at least MIN_CONTAINED_WORDS of them: "Our
    rating: False." is inside too many texts), or a word overlap of at least MIN_OVERLAP."""
    a, b = _WORD.findall(normalise(recorded)), _WORD.findall(normalise(gold))
    if not a or not b:
        return False
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= MIN_CONTAINED_WORDS and f" {' '.join(shorter)} " in f" {' '.join(longer)} ":
        return True
    wa, wb = set(a), set(b)
    return len(wa & wb) / max(len(wa), len(wb)) >= MIN_OVERLAP


def _gold_texts(claim: LabelledClaim, labels: str) -> list[str]:
    """The claim's distinct passage texts with one of ``labels`` (copies counted once)."""
    return list(dict.fromkeys(normalise(p.text) for p in claim.passages(labels)))


def score_claim(
    claim: LabelledClaim,
    candidates: Sequence[str],
    evidence: Sequence[tuple[str, str]],
    page_at: PageAt,
    stances: Sequence[str | None] = (),
    suggested: str | None = None,
) -> dict[str, float]:
    """The per-claim figures; ``refutation@3`` only when the claim has a refuting passage."""
    gold_pages = {p.url for p in claim.pages if p.gold}
    found = set()
    for url in candidates:
        hit = page_at(url)
        if hit is not None and hit[0].id == claim.id and hit[1].gold:
            found.add(hit[1].url)
    texts = [text for _, text in evidence]
    gold = _gold_texts(claim, "OSRC")
    matched_top = {g for g in gold for t in texts[:TOP_K] if same_passage(t, g)}
    first = next(
        (rank for rank, t in enumerate(texts, 1) if any(same_passage(t, g) for g in gold)), None
    )
    scores = {
        "discovery_recall": len(found) / len(gold_pages) if gold_pages else 1.0,
        f"evidence_recall@{TOP_K}": len(matched_top) / min(TOP_K, len(gold)) if gold else 1.0,
        "mrr": 1 / first if first else 0.0,
    }
    if stances:
        judged = [
            (stance, GOLD_STANCE[g.label])
            for t, stance in zip(texts, stances, strict=False)
            for g in claim.passages("OSRC")
            if same_passage(t, normalise(g.text))
        ]
        if judged:
            scores["stance_accuracy"] = sum(s == gold for s, gold in judged) / len(judged)
    if suggested is not None:
        scores["rating_agreement"] = float(suggested == claim.gold_rating)
    refuting = _gold_texts(claim, "R")
    if refuting:
        top = texts[:REFUTATION_K]
        scores[f"refutation_recall@{REFUTATION_K}"] = float(
            any(same_passage(t, r) for t in top for r in refuting)
        )
    return scores


def summarise(results: Sequence[ClaimResult]) -> dict[str, Any]:
    """Means over claims (refutation recall over the claims that have a refutation)."""
    names = (
        "discovery_recall",
        f"evidence_recall@{TOP_K}",
        "mrr",
        f"refutation_recall@{REFUTATION_K}",
        "stance_accuracy",
        "rating_agreement",
    )
    figures: dict[str, Any] = {"claims": len(results)}
    for name in names:
        values = [r.scores[name] for r in results if name in r.scores]
        figures[name] = round(sum(values) / len(values), 3) if values else None
    figures["claims_with_refutation"] = sum(
        f"refutation_recall@{REFUTATION_K}" in r.scores for r in results
    )
    n = max(len(results), 1)
    figures["seconds_per_claim"] = round(sum(r.seconds for r in results) / n, 3)
    figures["candidates_per_claim"] = round(sum(len(r.candidates) for r in results) / n, 1)
    figures["evidence_per_claim"] = round(sum(len(r.evidence) for r in results) / n, 1)
    figures["failed"] = sum(r.error is not None for r in results)
    return figures


# -- running ---------------------------------------------------------------------------------


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """The FACTCHECK_ settings for this run; the previous ones come back afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def source_specs(server: CorpusServer, profile: str) -> list[str]:
    """The ``KIND=URL`` sources of a profile (see PROFILES)."""
    if profile == "all":
        return server.source_specs(("gdelt", "mediawiki", "rss", "sitemap"))
    specs = server.source_specs(("gdelt", "mediawiki"))
    if profile == "issue":
        specs += [f"rss={server.url(k, server.site(k).feed_path)}" for k in FEED_SITES]
        specs += [f"sitemap={server.url(k, '/sitemap.xml')}" for k in SITEMAP_SITES]
    return specs


def settings_for(server: CorpusServer, data_dir: Path, profile: str) -> dict[str, str]:
    return {
        "FACTCHECK_DATA_DIR": str(data_dir),
        "FACTCHECK_DATABASE_URL": f"sqlite:///{data_dir / 'factcheck.db'}",
        "FACTCHECK_CONFIG": str(data_dir / "no-such-factcheck.toml"),
        "FACTCHECK_ALLOWED_NETWORKS": server.allowed_networks,
        "FACTCHECK_PER_HOST_DELAY_S": "0",
        "FACTCHECK_SOURCES": json.dumps(source_specs(server, profile)),
    }


def _add(claim: LabelledClaim) -> int:
    data = claims_mod.make_create(
        text=claim.claim, claimant=claim.claimant, claim_date=claim.claim_date
    )
    with session_scope(get_engine()) as session:
        added = claims_mod.add_claim(session, data, actor=ACTOR)
        assert added.claim.id is not None
        return added.claim.id


async def _verify(claim_id: int) -> list[str]:
    """The flow's one step sequence (``flows.verify.verify_one``, both discovery rounds),
    run as plain code without a Prefect server; the candidate URLs it proposed."""
    await verify_one(claim_id, VerifyConfig())
    with Session(get_engine()) as session:
        rows = session.exec(select(CandidateRow).where(CandidateRow.claim_id == claim_id)).all()
        return list(dict.fromkeys(row.url for row in sorted(rows, key=lambda r: r.id or 0)))


def _recorded(claim_id: int) -> tuple[list[tuple[str, str]], list[str | None], str | None]:
    """The recorded evidence (url, passage) in display order, each one's stance, and the
    run's suggested rating."""
    with Session(get_engine()) as session:
        evidence = claims_mod.claim_evidence(session, claim_id)
        suggestion = claims_mod.latest_suggestion(session, claim_id) or {}
    pairs = [(e["url"], e["passage"]) for e in evidence]
    return pairs, [e.get("stance") for e in evidence], suggestion.get("rating")


async def _run_all(labelled: Sequence[LabelledClaim], page_at: PageAt) -> list[ClaimResult]:
    results = []
    async with fetcher_scope():  # one fetcher for the run: politeness holds across claims
        for claim in labelled:
            start = time.perf_counter()
            result = ClaimResult(claim.id, 0.0)
            claim_id = await asyncio.to_thread(_add, claim)
            try:
                result.candidates = await _verify(claim_id)
            except Exception as exc:  # noqa: BLE001 - a failed claim is a figure, not a stop
                result.error = f"{type(exc).__name__}: {exc}"
            result.seconds = time.perf_counter() - start
            recorded = await asyncio.to_thread(_recorded, claim_id)
            result.evidence, result.stances, result.suggested = recorded
            result.scores = score_claim(
                claim,
                result.candidates,
                result.evidence,
                page_at,
                stances=result.stances,
                suggested=result.suggested,
            )
            results.append(result)
    return results


def e2e_run(limit: int | None = None, profile: str = "issue") -> list[ClaimResult]:
    """Every claim (the first ``limit``) through the pipeline against the whole served corpus."""
    everything = load_evidence_set()
    labelled = everything[:limit]
    corpus = evidence_corpus(everything)  # every claim's pages, whichever claims are run
    with (
        CorpusServer(corpus.corpus) as server,
        tempfile.TemporaryDirectory(prefix="factcheck-e2e-") as tmp,
        _environment(settings_for(server, Path(tmp), profile)),
    ):
        upgrade(get_engine())
        return asyncio.run(_run_all(labelled, corpus.page_at))


def e2e_figures(limit: int | None = None, profile: str = "issue") -> dict[str, Any]:
    """The summary figures (see the module docstring) of a run over the first ``limit``
    claims, or all of them."""
    return summarise(e2e_run(limit, profile))


def _table(figures: dict[str, Any]) -> str:
    rows = [f"{name:<28}{value}" for name, value in figures.items()]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N claims")
    parser.add_argument(
        "--profile", choices=PROFILES, default="issue", help="which sources to configure"
    )
    parser.add_argument("--json", action="store_true", help="per-claim results as JSON too")
    args = parser.parse_args(argv)
    results = e2e_run(args.limit, args.profile)
    figures = summarise(results)
    print(f"End to end on the evidence set, sources: {args.profile}")
    print(_table(figures))
    failed = [r for r in results if r.error]
    for r in failed:
        print(f"  {r.id} failed: {r.error}")
    if args.json:
        print(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
