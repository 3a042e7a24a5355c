"""Train the learned layer of the offline stance model and verdict suggester (issue 11).

    python -m bench.train_stance [--path bench/data/evidence_set.jsonl] [--out FILE]

The hand-set cues of ``evidence.scoring.stance`` were tuned by looking at the first claims
of the team's labelled set and did much worse on the claims added later: the rules
overfit. This script keeps the cues (they are what a reviewer reads) and learns how much
each counts, on the labelled set, with numpy only:

- **stance**: a multinomial logistic regression with L2 over each passage's cue features
  (``CueStanceModel.cue_vectors``), four classes: supports (gold O and S), refutes (R),
  context (C) and none ("-", not evidence), the three stance classes weighted to equal
  total weight (the figure is macro-F1) and "none" at ``NONE_WEIGHT``;
- **verdict**: a multinomial logistic regression with strong L2 over the aggregated
  evidence of each claim (``verdict.verdict_features``: refuting/supporting weight per
  independent outlet, official sources, the refuting cues that fired, the claim's kind,
  the hand-set rules' answer). Its training evidence is composed from *cross-fitted*
  stances (each claim labelled by a stance model that never saw it), so it learns from
  stances as good as the ones it will get.

It writes ``evidence/scoring/stance_weights.json`` (a few KB). ``bench.eval_evidence``
reports these models cross-validated by claim (``folds``: a claim's passages are never in
both the training and the test part), beside the resubstitution figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evidence.scoring.rank import PassageInput, ScoredPassage, rank_passages
from evidence.scoring.ratings import CONCEPTS
from evidence.scoring.select import Selection, select_evidence
from evidence.scoring.stance import (
    LEARNED_FEATURES,
    WEIGHTS_FILE,
    ClaimFacts,
    CueStanceModel,
    PassageCues,
    Stance,
    StanceWeights,
)
from evidence.scoring.verdict import LEARNED_VERDICT_FEATURES, VerdictModel, verdict_features

DATA = Path(__file__).parent / "data" / "evidence_set.jsonl"
TOP_K = 8  # the settings' defaults (evidence_top_k, max_per_site, match_threshold)
MAX_PER_SITE = 2
MATCH_THRESHOLD = 0.65
GOLD_STANCE = {"O": "supports", "S": "supports", "R": "refutes", "C": "context"}
STANCE_LABELS = ("supports", "refutes", "context", "none")
FOLDS = 5
STANCE_L2 = 0.02  # per-sample L2 on standardised weights
NONE_WEIGHT = 0.35  # total weight of the "-" passages relative to one stance class
VERDICT_L2 = 0.5  # 67 claims: strong shrinkage towards the class frequencies
ITERATIONS = 3000


# -- the labelled set ---------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledClaim:
    id: str
    facts: ClaimFacts
    kind: tuple[str, ...]
    gold_rating: str
    passages: tuple[PassageInput, ...]
    labels: dict[str, str]  # passage id -> O S R C -

    @property
    def evidence(self) -> frozenset[str]:
        return frozenset(pid for pid, mark in self.labels.items() if mark in GOLD_STANCE)

    @property
    def refuting(self) -> frozenset[str]:
        return frozenset(pid for pid, mark in self.labels.items() if mark == "R")

    @property
    def split(self) -> str:
        return "dev" if zlib.crc32(self.id.encode()) % 2 == 0 else "held-out"


def load(path: Path = DATA) -> list[LabelledClaim]:
    return [_claim(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def _claim(raw: dict[str, Any]) -> LabelledClaim:
    passages, labels = [], {}
    for p_i, page in enumerate(raw["pages"]):
        published = page.get("published")
        for j, item in enumerate(page["passages"]):
            pid = f"{raw['id']}-{p_i}-{j}"
            text = item["text"]
            passages.append(
                PassageInput(
                    passage_id=pid,
                    text=text,
                    url=page["url"],
                    site=page.get("site"),
                    title=page.get("title"),
                    published=datetime.fromisoformat(published.replace("Z", "+00:00"))
                    if published
                    else None,
                    document_id=f"{raw['id']}-{p_i}",
                    key=hashlib.sha256(" ".join(text.split()).encode()).hexdigest(),
                )
            )
            labels[pid] = item["label"]
    claim_date = date.fromisoformat(raw["claim_date"]) if raw.get("claim_date") else None
    facts = ClaimFacts(raw["claim"], raw.get("claimant"), claim_date)
    return LabelledClaim(
        raw["id"], facts, tuple(raw.get("kind", ())), raw["gold_rating"], tuple(passages), labels
    )


@dataclass(frozen=True)
class Prepared:
    """A claim with what does not depend on the weights, computed once: the ranking and
    every passage's cues."""

    claim: LabelledClaim
    ranked: tuple[ScoredPassage, ...]
    cues: tuple[PassageCues, ...]


def prepare(claims: Sequence[LabelledClaim]) -> list[Prepared]:
    model = CueStanceModel(weights=None)
    return [
        Prepared(
            c,
            tuple(rank_passages(c.facts.text, c.passages, claim_date=c.facts.claim_date)),
            tuple(model.cue_vectors(c.facts, c.passages)),
        )
        for c in claims
    ]


def stances_of(item: Prepared, weights: StanceWeights | None) -> dict[str, Stance]:
    model = CueStanceModel(weights=weights)
    return {
        str(p.passage_id): model.decide(c)
        for p, c in zip(item.claim.passages, item.cues, strict=True)
    }


def compose(item: Prepared, stances: Mapping[str, Stance]) -> Selection:
    """The claim's evidence as the verify flow composes it."""
    return select_evidence(
        item.claim.facts.text,
        item.ranked,
        top_k=TOP_K,
        max_per_site=MAX_PER_SITE,
        match_threshold=MATCH_THRESHOLD,
        stances={pid: s for pid, s in stances.items()},
    )


def folds(items: Sequence[Prepared], k: int = FOLDS) -> list[list[int]]:
    """Indices of ``items`` in ``k`` groups by claim (a stable hash of the claim id)."""
    order = sorted(range(len(items)), key=lambda i: (zlib.crc32(items[i].claim.id.encode()), i))
    return [order[f::k] for f in range(k)]


# -- multinomial logistic regression with L2, in numpy ---------------------------------------


@dataclass(frozen=True)
class Fitted:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]


def fit_logistic(
    x: NDArray[np.float64],
    y: NDArray[np.int64],
    n_classes: int,
    *,
    l2: float,
    sample_weight: NDArray[np.float64],
    iterations: int = ITERATIONS,
) -> Fitted:
    """Weighted softmax regression on standardised features, by full-batch gradient descent
    with Nesterov momentum (deterministic: same data, same weights)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    n, d = z.shape
    w_total = sample_weight.sum()
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), y] = 1.0
    coef = np.zeros((d, n_classes))
    bias = np.log((onehot * sample_weight[:, None]).sum(axis=0) / w_total + 1e-6)
    v_coef = np.zeros_like(coef)
    v_bias = np.zeros_like(bias)
    rate, momentum = 0.5, 0.9
    for _ in range(iterations):
        ahead_c = coef + momentum * v_coef
        ahead_b = bias + momentum * v_bias
        scores = z @ ahead_c + ahead_b
        scores -= scores.max(axis=1, keepdims=True)
        prob = np.exp(scores)
        prob /= prob.sum(axis=1, keepdims=True)
        diff = (prob - onehot) * sample_weight[:, None] / w_total
        grad_c = z.T @ diff + l2 * ahead_c
        grad_b = diff.sum(axis=0)
        v_coef = momentum * v_coef - rate * grad_c
        v_bias = momentum * v_bias - rate * grad_b
        coef += v_coef
        bias += v_bias
    return Fitted(
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(tuple(float(v) for v in coef[:, k]) for k in range(n_classes)),
        tuple(float(v) for v in bias),
    )


def _balanced(y: NDArray[np.int64], n_classes: int, extra: Mapping[int, float]) -> NDArray[Any]:
    """Each class the same total weight (times ``extra`` for the classes it names)."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    per_class = np.array(
        [extra.get(k, 1.0) / counts[k] if counts[k] else 0.0 for k in range(n_classes)]
    )
    weights: NDArray[np.float64] = per_class[y] * len(y) / n_classes
    return weights


# -- the two models -----------------------------------------------------------------------


def fit_stance(
    items: Sequence[Prepared], *, l2: float = STANCE_L2, none_weight: float = NONE_WEIGHT
) -> StanceWeights:
    rows, targets = [], []
    for item in items:
        for passage, cues in zip(item.claim.passages, item.cues, strict=True):
            mark = item.claim.labels[str(passage.passage_id)]
            rows.append([cues.features[name] for name in LEARNED_FEATURES])
            targets.append(STANCE_LABELS.index(GOLD_STANCE.get(mark, "none")))
    x = np.array(rows, dtype=float)
    y = np.array(targets, dtype=np.int64)
    none = STANCE_LABELS.index("none")
    weights = _balanced(y, len(STANCE_LABELS), {none: none_weight})
    fitted = fit_logistic(x, y, len(STANCE_LABELS), l2=l2, sample_weight=weights)
    return StanceWeights(
        STANCE_LABELS, LEARNED_FEATURES, fitted.mean, fitted.scale, fitted.coef, fitted.intercept
    )


def cross_fitted_stances(items: Sequence[Prepared], k: int = FOLDS) -> list[dict[str, Stance]]:
    """Each claim's stances from a stance model trained without that claim."""
    out: list[dict[str, Stance]] = [{} for _ in items]
    for test in folds(items, k):
        train = [items[i] for i in range(len(items)) if i not in set(test)]
        weights = fit_stance(train)
        for i in test:
            out[i] = stances_of(items[i], weights)
    return out


def fit_verdict(
    items: Sequence[Prepared], stances: Sequence[Mapping[str, Stance]], *, l2: float = VERDICT_L2
) -> VerdictModel:
    rows = []
    for item, by_id in zip(items, stances, strict=True):
        found = verdict_features(item.claim.facts, compose(item, by_id))
        rows.append([found[name] for name in LEARNED_VERDICT_FEATURES])
    present = [c for c in CONCEPTS if any(i.claim.gold_rating == c for i in items)]
    y = np.array([present.index(i.claim.gold_rating) for i in items], dtype=np.int64)
    x = np.array(rows, dtype=float)
    # plain frequencies: a rare rating is suggested only when the evidence clearly says so
    fitted = fit_logistic(x, y, len(present), l2=l2, sample_weight=np.ones(len(y)))
    return VerdictModel(
        tuple(present),
        LEARNED_VERDICT_FEATURES,
        fitted.mean,
        fitted.scale,
        fitted.coef,
        fitted.intercept,
    )


@dataclass(frozen=True)
class Trained:
    stance: StanceWeights
    verdict: VerdictModel


def train(items: Sequence[Prepared], k: int = FOLDS) -> Trained:
    """Both models on ``items``; the verdict model on cross-fitted stances."""
    return Trained(fit_stance(items), fit_verdict(items, cross_fitted_stances(items, k)))


def weights_json(trained: Trained, items: Sequence[Prepared], source: str) -> dict[str, Any]:
    return {
        "about": (
            "Learned layer of evidence.scoring.stance.CueStanceModel and "
            "evidence.scoring.verdict.CueSuggester; written by bench/train_stance.py, do not "
            "edit by hand."
        ),
        "trained_on": {
            "data": source,
            "claims": len(items),
            "passages": sum(len(i.claim.passages) for i in items),
            "stance_l2": STANCE_L2,
            "none_weight": NONE_WEIGHT,
            "verdict_l2": VERDICT_L2,
            "folds": FOLDS,
        },
        "stance": trained.stance.as_json(),
        "verdict": trained.verdict.as_json(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DATA, help="the labelled set (JSON lines)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE, help="the weights file")
    args = parser.parse_args(argv)
    items = prepare(load(args.path))
    trained = train(items)
    try:
        source = str(args.path.resolve().relative_to(Path.cwd()))
    except ValueError:
        source = args.path.name
    text = json.dumps(weights_json(trained, items, source), indent=1) + "\n"
    args.out.write_text(text)
    print(f"Wrote {args.out} ({len(text.encode()) / 1024:.1f} KB) from {len(items)} claims.")
    print("Cross-validated figures: python -m bench.eval_evidence")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
