"""The suggested verdict: a rating of the configured scale, how sure, and why, in words.

A reviewer gets a starting point they can accept or override, never a published verdict:
the suggestion is stored on the run and the verdict records whether the reviewer agreed.
It reads the stance-labelled evidence, the matching existing fact-checks and the claim's
kind (first/only/never, numbers, quotes), and says "unverifiable" when the evidence is thin.
Pure: no network, no database, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from evidence.scoring.select import MatchedFactCheck, Selection
from evidence.scoring.stance import ClaimFacts


@dataclass(frozen=True)
class Suggestion:
    rating: str  # a name of the configured scale
    confidence: float  # 0..1
    explanation: str  # one paragraph naming the passages (outlet, date) it rests on
    passage_ids: tuple[int | str, ...] = ()  # the passages the explanation names
    model: str = "cues"

    def as_json(self) -> dict[str, Any]:
        return {
            "rating": self.rating,
            "confidence": round(self.confidence, 3),
            "explanation": self.explanation,
            "passage_ids": list(self.passage_ids),
            "model": self.model,
        }


class VerdictSuggester(Protocol):
    """Suggests a verdict from a claim's composed evidence."""

    name: str

    def suggest(
        self,
        claim: ClaimFacts,
        selection: Selection,
        *,
        fact_checks: Sequence[MatchedFactCheck] = (),
        scale: Sequence[str],
    ) -> Suggestion: ...
