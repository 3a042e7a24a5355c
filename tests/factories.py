"""Small factories with random values (no shared giant fixture)."""

from __future__ import annotations

import random
import string

from sqlmodel import Session

from evidence import claims
from evidence.models import Claim

_WORDS = (
    "minister",
    "budget",
    "tariff",
    "election",
    "summit",
    "vaccine",
    "border",
    "treaty",
    "river",
    "harvest",
    "inflation",
    "museum",
    "pipeline",
    "satellite",
    "union",
    "court",
)


def random_claim_text(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    words = rng.sample(_WORDS, 5)
    number = rng.randint(2, 99_999)
    tail = "".join(rng.choices(string.ascii_lowercase, k=6))
    return f"The {words[0]} {words[1]} rose {number} percent after the {words[2]} {words[3]} {tail}"


def make_claim(
    session: Session, *, text: str | None = None, actor: str = "test:factory", **kw: str
) -> Claim:
    data = claims.make_create(text=text or random_claim_text(), **kw)  # type: ignore[arg-type]
    return claims.add_claim(session, data, actor=actor).claim
