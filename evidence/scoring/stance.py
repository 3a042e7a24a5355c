"""Stance: does a passage support the claim, refute it, or only give context?

A fact-checker wants the evidence sorted by what it does to the claim, not by how much it
resembles it: a passage repeating the claim ranks high on similarity and settles nothing,
while the correction that settles it is often worded differently ("he was referring to the
South Korean envoys"). Every evidence passage therefore carries a stance with the reasons
behind it, in words a reviewer can check::

    model = CueStanceModel()
    stances = model.classify(claim, passages, fact_checks=matched)
    stances[0].label, stances[0].confidence, stances[0].reasons
    # "refutes", 0.82, ("correction language: 'was referring to'", "names South Korea where
    #  the claim names North Korea")

``StanceModel`` is the protocol every stance model implements: the default
``CueStanceModel`` (pure, offline, CPU, no download) and the optional model-backed one in
``sources.llm`` (an OpenAI-compatible chat endpoint), which falls back to the default when
it fails. Pure: no network, no database, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol

from evidence.scoring.rank import PassageInput
from evidence.scoring.select import MatchedFactCheck

StanceLabel = Literal["supports", "refutes", "context"]
STANCES: tuple[StanceLabel, ...] = ("supports", "refutes", "context")


@dataclass(frozen=True)
class ClaimFacts:
    """What stance and verdict need to know of a claim."""

    text: str
    claimant: str | None = None
    claim_date: date | None = None


@dataclass(frozen=True)
class Stance:
    """A passage's stance towards the claim, how sure, and the cues behind it."""

    label: StanceLabel
    confidence: float  # 0..1
    reasons: tuple[str, ...] = ()  # human-readable, e.g. "denial language: 'denied'"
    model: str = "cues"  # which model labelled it ("cues", "llm:<model name>")
    makes_claim: bool = False  # the passage states the claim itself (origin candidate)
    cues: dict[str, float] = field(default_factory=dict, compare=False)  # feature values

    def as_json(self) -> dict[str, Any]:
        return {
            "stance": self.label,
            "confidence": round(self.confidence, 3),
            "reasons": list(self.reasons),
            "model": self.model,
            "makes_claim": self.makes_claim,
        }


class StanceModel(Protocol):
    """Labels each passage's stance towards the claim; one call per claim (batch)."""

    name: str

    def classify(
        self,
        claim: ClaimFacts,
        passages: Sequence[PassageInput],
        *,
        fact_checks: Sequence[MatchedFactCheck] = (),
    ) -> list[Stance]:
        """One ``Stance`` per passage, in the order given."""
        ...
