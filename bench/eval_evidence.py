"""Offline figures for evidence that decides the claim (issue 11), on the team's labelled set.

    python -m bench.eval_evidence [--path bench/data/evidence_set.jsonl] [--misses]

bench/data/evidence_set.jsonl: one claim per line with its pages and stance-labelled
passages (O origin, S supports, R refutes, C context, - not evidence). Each claim's passages
form its pool, as in the verify flow (rank_passages + CueStanceModel + select_evidence
with stances + the suggested verdict). Printed, per pipeline:

- stance accuracy, per-class precision/recall/F1 and macro-F1 (gold O/S -> supports,
  R -> refutes, C -> context; "-" passages are not scored);
- suggested-rating agreement with the gold rating;
- evidence recall@5: gold evidence (O, S, R, C) among the first 5 displayed evidence items
  (a syndicated group's copies count as shown), divided by min(5, gold evidence);
- MRR of the first gold evidence item, and refutation recall@3: among claims with a gold
  refuting passage, the share where one is among the first 3 displayed items.

The pipelines (columns):

- **cross-validated** — the honest figures. The learned stance and verdict layers
  (``bench/train_stance.py``) are trained ``FOLDS`` times, each time without one group of
  claims, and each claim is scored by the models that never saw any of its passages.
  Also shown for the claims added last (e051–e067), which nothing was tuned on by eye.
- **resubstitution** — the shipped ``stance_weights.json``, trained on every claim and
  scored on the same claims: optimistic, shown for the gap.
- **rules** — the hand-set cues alone (``CueStanceModel(weights=None)``,
  ``CueSuggester(model=None)``), tuned by eye on the first claims.
- **baseline** — plain BM25 and the old top-k selection with a hard per-site cap.

``offline_figures(path)`` returns the same figures as a dict, keyed by those names.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.train_stance import (
    DATA,
    FOLDS,
    GOLD_STANCE,
    MAX_PER_SITE,
    TOP_K,
    LabelledClaim,
    Prepared,
    compose,
    folds,
    load,
    prepare,
    stances_of,
    train,
)
from evidence.scoring.rank import BM25_ONLY, ScoredPassage, id_order, rank_passages
from evidence.scoring.select import group_syndicated, site_of
from evidence.scoring.stance import STANCES, Stance, StanceWeights, shipped_weights
from evidence.scoring.verdict import DEFAULT_SCALE, CueSuggester, VerdictModel

LATE = "e051"  # claims from this id on were added after the rules were tuned
COLUMNS = ("cross-validated", "cross-validated late", "resubstitution", "rules", "baseline")

__all__ = ["DATA", "LabelledClaim", "load", "offline_figures"]


# -- the pipelines ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    shown: list[set[str]]  # displayed evidence items in order, each with its copies
    stances: dict[str, Stance]
    rating: str | None


def run_models(
    item: Prepared, stance: StanceWeights | None, verdict: VerdictModel | None
) -> Outcome:
    """The verify flow's evidence and suggestion for one claim, with the given models."""
    stances = stances_of(item, stance)
    selection = compose(item, stances)
    suggestion = CueSuggester(model=verdict).suggest(
        item.claim.facts, selection, scale=DEFAULT_SCALE
    )
    shown = [
        {str(e.scored.passage_id), *(str(c.passage_id) for c in e.copies)}
        for e in selection.evidence
    ]
    return Outcome(shown, stances, suggestion.rating)


def run_shipped(item: Prepared) -> Outcome:
    stance, verdict = shipped_weights()
    return run_models(item, stance, VerdictModel.from_json(verdict) if verdict else None)


def run_rules(item: Prepared) -> Outcome:
    return run_models(item, None, None)


def cross_validated(items: Sequence[Prepared], k: int = FOLDS) -> list[Outcome]:
    """Every claim scored by models trained on the other folds only (grouped by claim)."""
    out: list[Outcome | None] = [None] * len(items)
    for test in folds(items, k):
        held = set(test)
        trained = train([items[i] for i in range(len(items)) if i not in held], k)
        for i in test:
            out[i] = run_models(items[i], trained.stance, trained.verdict)
    return [o for o in out if o is not None]


def run_baseline(item: Prepared) -> Outcome:
    """Plain BM25 and the selection as it was: top-k by score, a hard per-site cap."""
    claim = item.claim
    ranked = rank_passages(claim.facts.text, claim.passages, weights=BM25_ONLY)
    ordered = sorted(ranked, key=lambda s: (-s.score, id_order(s.passage_id)))
    groups = group_syndicated([s for s in ordered if s.score > 0 and s.matched_terms])
    per_site: dict[str, int] = {}
    shown: list[set[str]] = []
    for lead, copies in groups:
        if len(shown) >= TOP_K:
            break
        site = site_of(lead)
        if per_site.get(site, 0) >= MAX_PER_SITE:
            continue
        per_site[site] = per_site.get(site, 0) + 1
        shown.append(_ids(lead, copies))
    return Outcome(shown, {}, None)


def _ids(lead: ScoredPassage, copies: Sequence[ScoredPassage]) -> set[str]:
    return {str(lead.passage_id), *(str(c.passage_id) for c in copies)}


# -- figures ----------------------------------------------------------------------------------


def ranking_figures(
    claims: Sequence[LabelledClaim], outcomes: Sequence[Outcome]
) -> dict[str, float]:
    recall = mrr = 0.0
    refuted = hits = 0
    for claim, out in zip(claims, outcomes, strict=True):
        gold = claim.evidence
        if gold:
            top5 = set().union(*out.shown[:5]) if out.shown else set()
            recall += len(top5 & gold) / min(5, len(gold))
            first = next((i for i, ids in enumerate(out.shown, 1) if ids & gold), None)
            mrr += 1 / first if first else 0.0
        if claim.refuting:
            refuted += 1
            top3 = set().union(*out.shown[:3]) if out.shown else set()
            hits += bool(top3 & claim.refuting)
    n = sum(1 for c in claims if c.evidence) or 1
    return {
        "evidence_recall@5": recall / n,
        "mrr": mrr / n,
        "refutation_recall@3": hits / refuted if refuted else 0.0,
        "claims_with_refutation": float(refuted),
    }


def stance_figures(
    claims: Sequence[LabelledClaim], outcomes: Sequence[Outcome]
) -> dict[str, float]:
    pairs = [
        (GOLD_STANCE[mark], out.stances[pid].label)
        for claim, out in zip(claims, outcomes, strict=True)
        for pid, mark in claim.labels.items()
        if mark in GOLD_STANCE
    ]
    figures: dict[str, float] = {
        "stance_passages": float(len(pairs)),
        "stance_accuracy": sum(g == p for g, p in pairs) / len(pairs) if pairs else 0.0,
    }
    f1s = []
    for label in STANCES:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        predicted = sum(1 for _, p in pairs if p == label)
        actual = sum(1 for g, _ in pairs if g == label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        figures |= {f"{label}_precision": precision, f"{label}_recall": recall, f"{label}_f1": f1}
        f1s.append(f1)
    figures["stance_macro_f1"] = sum(f1s) / len(f1s)
    return figures


def rating_agreement(claims: Sequence[LabelledClaim], outcomes: Sequence[Outcome]) -> float:
    agreed = sum(o.rating == c.gold_rating for c, o in zip(claims, outcomes, strict=True))
    return agreed / len(claims) if claims else 0.0


def figures_for(claims: Sequence[LabelledClaim], outcomes: Sequence[Outcome]) -> dict[str, float]:
    out = {**ranking_figures(claims, outcomes), "claims": float(len(claims))}
    if any(o.stances for o in outcomes):
        out |= stance_figures(claims, outcomes)
        out["rating_agreement"] = rating_agreement(claims, outcomes)
    return out


def offline_figures(path: Path | str = DATA) -> dict[str, dict[str, float]]:
    """Every figure per pipeline; ``"cross-validated"`` holds the honest ones::

    {"cross-validated": {...}, "cross-validated late": {...}, "resubstitution": {...},
     "rules": {...}, "baseline": {...}}
    """
    items = prepare(load(Path(path)))
    claims = [i.claim for i in items]
    runs: dict[str, Callable[[Sequence[Prepared]], list[Outcome]]] = {
        "cross-validated": cross_validated,
        "resubstitution": lambda xs: [run_shipped(x) for x in xs],
        "rules": lambda xs: [run_rules(x) for x in xs],
        "baseline": lambda xs: [run_baseline(x) for x in xs],
    }
    outcomes = {name: run(items) for name, run in runs.items()}
    out = {name: figures_for(claims, found) for name, found in outcomes.items()}
    late = [i for i, c in enumerate(claims) if c.id >= LATE]
    out["cross-validated late"] = figures_for(
        [claims[i] for i in late], [outcomes["cross-validated"][i] for i in late]
    )
    return {name: out[name] for name in COLUMNS}


ROWS = (
    ("evidence recall@5", "evidence_recall@5"),
    ("MRR", "mrr"),
    ("refutation recall@3", "refutation_recall@3"),
    ("stance accuracy", "stance_accuracy"),
    ("stance macro-F1", "stance_macro_f1"),
    *((f"  {s} P / R / F1", s) for s in STANCES),
    ("suggested-rating agreement", "rating_agreement"),
)


def table(figures: dict[str, dict[str, float]]) -> str:
    head = f"{'figure':<30}" + "".join(f"{name:>22}" for name in COLUMNS)
    lines = [head]
    for name, key in ROWS:
        cells = [_cell(figures[column], key) for column in COLUMNS]
        lines.append(f"{name:<30}" + "".join(f"{c:>22}" for c in cells))
    every, late = figures["cross-validated"], figures["cross-validated late"]
    lines.append(
        f"{every['claims']:.0f} claims ({late['claims']:.0f} from {LATE} on), "
        f"{every['stance_passages']:.0f} stance-labelled passages, "
        f"{every['claims_with_refutation']:.0f} claims with a refutation. "
        f"cross-validated: {FOLDS} folds by claim, each claim scored by models that never "
        "saw it (the honest figures); resubstitution: the shipped weights on the data they "
        "were trained on."
    )
    return "\n".join(lines)


def _cell(figures: dict[str, float], key: str) -> str:
    if key in STANCES:
        if f"{key}_f1" not in figures:
            return "-"
        return "/".join(f"{figures[f'{key}_{m}']:.2f}" for m in ("precision", "recall", "f1"))
    return f"{figures[key]:.3f}" if key in figures else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DATA, help="the labelled set (JSON lines)")
    parser.add_argument(
        "--misses", action="store_true", help="list wrong stances and ratings (cross-validated)"
    )
    args = parser.parse_args(argv)
    print(f"Evidence set: {args.path}")
    print(table(offline_figures(args.path)))
    if args.misses:
        items = prepare(load(args.path))
        for item, out in zip(items, cross_validated(items), strict=True):
            _print_misses(item.claim, out)
    return 0


def _print_misses(claim: LabelledClaim, out: Outcome) -> None:
    late = "late" if claim.id >= LATE else "early"
    print(f"\n{claim.id} [{late}] {claim.facts.text!r} gold {claim.gold_rating}, got {out.rating}")
    for passage in claim.passages:
        pid = str(passage.passage_id)
        mark = claim.labels[pid]
        got = out.stances[pid]
        if mark in GOLD_STANCE and GOLD_STANCE[mark] != got.label:
            print(f"  {mark} -> {got.label} {got.reasons[:2]} :: {passage.text[:110]}")
    order = [sorted(ids, key=id_order)[0] for ids in out.shown[:5]]
    print("  shown:", " ".join(f"{claim.labels[i]}" for i in order))


if __name__ == "__main__":
    raise SystemExit(main())
