"""`make eval`: how well evidence ranking and claim matching do on the team's labelled sets.

    python -m bench.eval_ranking [--no-semantic] [--repeat N]

Ranking set: bench/data/ranking_*.json — claims, each with pages (several passages per
page, several sites, same-topic distractors, wire copies) and which passages are evidence.
Each claim's passages form its pool, as in the verify flow. Prints recall@1/5/10 and MRR of
evidence passages per ranking variant, passages ranked per second, and how much evidence
the final selection (top-k, site diversity, syndication grouping) keeps.

Matching set: bench/data/claim_pairs.jsonl — labelled pairs with hard negatives. Prints
precision and recall at settings.match_threshold and a short threshold curve.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from evidence.scoring import semantic
from evidence.scoring.matching import similarity
from evidence.scoring.rank import (
    BM25_ONLY,
    DEFAULT_WEIGHTS,
    PassageInput,
    ScoredPassage,
    rank_passages,
)
from evidence.scoring.select import select_evidence
from evidence.settings import get_settings

DATA = Path(__file__).parent / "data"
KS = (1, 5, 10)
CURVE = (0.5, 0.55, 0.6, 0.65, 0.7, 0.72, 0.75, 0.8, 0.85)


@dataclass(frozen=True)
class EvalClaim:
    id: str
    text: str
    claim_date: date | None
    passages: tuple[PassageInput, ...]
    relevant: frozenset[str]


def load_ranking_set(data: Path = DATA) -> list[EvalClaim]:
    claims = []
    for path in sorted(data.glob("ranking_*.json")):
        for raw in json.loads(path.read_text()):
            passages, relevant = [], set()
            for p_i, (url, site, title, published, items) in enumerate(raw["pages"]):
                for j, (mark, text) in enumerate(items):
                    pid = f"{raw['id']}-{p_i}-{j}"
                    passages.append(
                        PassageInput(
                            passage_id=pid,
                            text=text,
                            url=url,
                            site=site,
                            title=title,
                            published=datetime.fromisoformat(published.replace("Z", "+00:00")),
                            document_id=f"{raw['id']}-{p_i}",
                            key=hashlib.sha256(" ".join(text.split()).encode()).hexdigest(),
                        )
                    )
                    if mark == "E":
                        relevant.add(pid)
            claim_date = date.fromisoformat(raw["claim_date"]) if raw.get("claim_date") else None
            claims.append(
                EvalClaim(raw["id"], raw["claim"], claim_date, tuple(passages), frozenset(relevant))
            )
    return claims


def metrics(ranked_ids: Sequence[str], relevant: frozenset[str]) -> dict[str, float]:
    out = {f"recall@{k}": len(set(ranked_ids[:k]) & relevant) / len(relevant) for k in KS}
    first = next((i for i, pid in enumerate(ranked_ids, 1) if pid in relevant), None)
    out["mrr"] = 1 / first if first else 0.0
    out["hit@1"] = 1.0 if first == 1 else 0.0
    return out


Ranker = Callable[[EvalClaim], list[ScoredPassage]]


def shared_pool(claims: Sequence[EvalClaim]) -> list[EvalClaim]:
    """Each claim against every passage of the set: the other claims' pages (some on the
    same topic: two economies, two Amazons, two Norways) become distractors."""
    everything = tuple(p for c in claims for p in c.passages)
    return [EvalClaim(c.id, c.text, c.claim_date, everything, c.relevant) for c in claims]


def evaluate(claims: Sequence[EvalClaim], ranker: Ranker) -> dict[str, float]:
    totals: dict[str, float] = {}
    for claim in claims:
        ids = [str(s.passage_id) for s in ranker(claim)]
        for name, value in metrics(ids, claim.relevant).items():
            totals[name] = totals.get(name, 0.0) + value
    return {name: value / len(claims) for name, value in totals.items()}


def selection_recall(claims: Sequence[EvalClaim]) -> tuple[float, float]:
    """(share of evidence covered by the selection, copies included; mean origins kept)."""
    covered = origins = 0.0
    settings = get_settings()
    for claim in claims:
        ranked = rank_passages(claim.text, claim.passages, claim_date=claim.claim_date)
        sel = select_evidence(
            claim.text,
            ranked,
            top_k=settings.evidence_top_k,
            max_per_site=settings.max_per_site,
            match_threshold=settings.match_threshold,
        )
        shown = {str(e.scored.passage_id) for e in sel.evidence}
        shown |= {str(c.passage_id) for e in sel.evidence for c in e.copies}
        covered += len(shown & claim.relevant) / len(claim.relevant)
        origins += sel.corroboration
    return covered / len(claims), origins / len(claims)


def throughput(claims: Sequence[EvalClaim], repeat: int) -> float:
    passages = sum(len(c.passages) for c in claims) * repeat
    start = time.perf_counter()
    for _ in range(repeat):
        for claim in claims:
            rank_passages(claim.text, claim.passages, claim_date=claim.claim_date)
    return passages / (time.perf_counter() - start)


def load_pairs(data: Path = DATA) -> list[tuple[str, str, bool, str]]:
    rows = [json.loads(line) for line in (data / "claim_pairs.jsonl").read_text().splitlines()]
    return [(r["a"], r["b"], bool(r["duplicate"]), r["kind"]) for r in rows if r]


def precision_recall(scored: Sequence[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    tp = sum(1 for s, dup in scored if dup and s >= threshold)
    fp = sum(1 for s, dup in scored if not dup and s >= threshold)
    positives = sum(1 for _, dup in scored if dup)
    precision = tp / (tp + fp) if tp + fp else 1.0
    return precision, tp / positives if positives else 0.0


def _row(name: str, m: dict[str, float]) -> str:
    cells = "  ".join(f"{m[k]:.3f}" for k in ("recall@1", "recall@5", "recall@10", "mrr", "hit@1"))
    return f"{name:<28}{cells}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-semantic", action="store_true", help="skip the semantic variant")
    parser.add_argument("--repeat", type=int, default=5, help="rounds for the speed figure")
    args = parser.parse_args(argv)

    claims = load_ranking_set()
    n_pass = sum(len(c.passages) for c in claims)
    n_rel = sum(len(c.relevant) for c in claims)
    print(f"Ranking set: {len(claims)} claims, {n_pass} passages, {n_rel} labelled evidence")
    print(f"{'variant':<28}recall@1  recall@5  recall@10  MRR    hit@1")
    variants: dict[str, Ranker] = {
        "bm25": lambda c: rank_passages(c.text, c.passages, weights=BM25_ONLY),
        "bm25+features": lambda c: rank_passages(
            c.text, c.passages, claim_date=c.claim_date, weights=DEFAULT_WEIGHTS
        ),
    }
    if not args.no_semantic and semantic.available():
        reranker = semantic.SemanticReranker()
        variants["semantic only"] = lambda c: reranker.rerank(
            c.text, rank_passages(c.text, c.passages, weights=_ZERO)
        )
        variants["bm25+semantic"] = lambda c: reranker.rerank(
            c.text, rank_passages(c.text, c.passages, weights=BM25_ONLY)
        )
        variants["bm25+features+semantic"] = lambda c: reranker.rerank(
            c.text, rank_passages(c.text, c.passages, claim_date=c.claim_date)
        )
    elif not args.no_semantic:
        print("(semantic variants skipped: the 'semantic' extra is not installed)")
    for pool_name, pool in (("own pool", claims), ("shared pool", shared_pool(claims))):
        size = sum(len(c.passages) for c in pool) / len(pool)
        print(f"-- {pool_name}: {size:.0f} passages per claim")
        for name, ranker in variants.items():
            print(_row(name, evaluate(pool, ranker)))
        rate = throughput(pool, args.repeat if pool is claims else 1)
        print(f"Passages ranked per second (bm25+features, {pool_name}): {rate:,.0f}")
    covered, origins = selection_recall(claims)
    settings = get_settings()
    print(
        f"Selection (top_k={settings.evidence_top_k}, max_per_site={settings.max_per_site}): "
        f"{covered:.3f} of evidence shown (copies included), {origins:.1f} origins per claim"
    )

    pairs = load_pairs()
    scored = [(similarity(a, b), dup) for a, b, dup, _ in pairs]
    positives = sum(dup for _, dup in scored)
    print(
        f"\nClaim matching: {len(pairs)} pairs ({positives} duplicates, "
        f"{len(pairs) - positives} hard or easy negatives)"
    )
    p, r = precision_recall(scored, settings.match_threshold)
    print(f"At match_threshold={settings.match_threshold}: precision {p:.3f}, recall {r:.3f}")
    curve = "  ".join(
        f"{t:.2f}:P{pr[0]:.2f}/R{pr[1]:.2f}" for t in CURVE for pr in [precision_recall(scored, t)]
    )
    print(f"Curve: {curve}")
    return 0


_ZERO = DEFAULT_WEIGHTS.__class__(**{k: 0.0 for k in DEFAULT_WEIGHTS.__dataclass_fields__})


if __name__ == "__main__":
    raise SystemExit(main())
