"""evidence/scoring/matching.py: near-duplicate claims link; hard negatives do not."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from evidence import claims
from evidence.claims import find_near_duplicate
from evidence.models import AuditEvent, Claim
from evidence.scoring.matching import needles, similarity
from tests.factories import make_claim

BASE = "North Korea made its first direct offer of talks to the United States"
THRESHOLD = 0.65


@pytest.mark.parametrize(
    "other",
    [
        "For the first time, North Korea directly offered talks to the United States",  # paraphrase
        "To the United States, North Korea made its first direct offer of talks",  # reordered
        "North Korea made its first direct offer of talks to the United States!!",  # punctuation
        "North Korea made its frist direct offer of talks to the United States",  # typo
    ],
)
def test_near_duplicates_score_above_the_threshold(other: str) -> None:
    assert similarity(BASE, other) >= THRESHOLD


@pytest.mark.parametrize(
    "a,b",
    [
        (BASE, "North Korea has never offered direct talks to the United States"),  # negation
        (BASE, "North Korea fired a missile over Japan for the first time"),  # same topic
        (
            "Unemployment fell to 3.5 percent in September",
            "Unemployment fell to 4.5 percent in September",
        ),
        (
            "Unemployment fell to 3.5 percent in September",
            "Unemployment rose to 3.5 percent in September",
        ),
        (
            "India overtook China as the world's most populous country",
            "China overtook India as the world's most populous country",
        ),  # roles swapped
        (
            "The council approved a ban on plastic bags",
            "The council approved a ban on plastic straws",
        ),
        ("Tesla sold more cars than Toyota in 2023", "Tesla sold more cars than Toyota in 2022"),
    ],
)
def test_hard_negatives_score_below_the_threshold(a: str, b: str) -> None:
    assert similarity(a, b) < THRESHOLD


def test_similarity_is_symmetric_bounded_and_one_for_identical() -> None:
    other = "North Korea offered the US talks"
    assert similarity(BASE, other) == similarity(other, BASE)
    assert similarity(BASE, BASE) == 1.0
    assert 0.0 <= similarity(BASE, "cats") <= 1.0
    assert similarity("", "") == 0.0


def test_needles_prefer_long_words_and_numbers() -> None:
    found = needles("The minister said 12,000 offered refugees")
    assert found[0] == "12,000"
    assert "minist" in found and "refuge" in found
    assert "the" not in found


def test_find_near_duplicate_links_a_paraphrase_not_a_hard_negative(db) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        original = make_claim(s, text=BASE)
        for _ in range(5):
            make_claim(s)  # unrelated claims in the table
        s.commit()
        paraphrase = "For the first time, North Korea directly offered talks to the United States"
        found = find_near_duplicate(s, paraphrase, threshold=THRESHOLD)
        assert found is not None and found[0].id == original.id and found[1] >= THRESHOLD
        negation = "North Korea has never offered direct talks to the United States"
        assert find_near_duplicate(s, negation, threshold=THRESHOLD) is None


def test_add_claim_links_a_near_duplicate_with_an_audit_event(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from evidence.settings import get_settings

    monkeypatch.setenv("FACTCHECK_MATCH_THRESHOLD", str(THRESHOLD))
    get_settings.cache_clear()
    with Session(db.engine, expire_on_commit=False) as s:
        original = make_claim(s, text=BASE)
        typo = make_claim(s, text=BASE.replace("first", "frist"))
        other = make_claim(
            s, text="North Korea has never offered direct talks to the United States"
        )
        s.commit()
    with Session(db.engine) as s:
        linked = s.get(Claim, typo.id)
        assert linked is not None
        assert (linked.duplicate_of_id, linked.status) == (original.id, "duplicate")
        assert linked.similarity is not None and linked.similarity >= THRESHOLD
        unlinked = s.get(Claim, other.id)
        assert (
            unlinked is not None and unlinked.duplicate_of_id is None and unlinked.status == "new"
        )
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "claim.linked")).all()
        assert [(e.payload["claim_id"], e.payload["duplicate_of_id"]) for e in events] == [
            (typo.id, original.id)
        ]


def test_a_duplicate_of_a_duplicate_links_to_the_original(db) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        original = make_claim(s, text=BASE)
        first = make_claim(s, text=BASE + " in 2018")
        first.duplicate_of_id = original.id
        s.add(first)
        s.flush()
        found = find_near_duplicate(s, BASE + " in 2018!", threshold=THRESHOLD, exclude_id=None)
        assert found is not None and found[0].id == original.id


def test_cli_says_near_duplicate_on_stderr(db, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from evidence.settings import get_settings

    monkeypatch.setenv("FACTCHECK_MATCH_THRESHOLD", str(THRESHOLD))
    get_settings.cache_clear()
    first = cli("claim", "add", BASE)
    assert first.code == 0
    second = cli(
        "claim", "add", "To the United States, North Korea made its first direct offer of talks"
    )
    assert second.code == 0
    assert f"Near-duplicate of claim {first.out.strip()} (similarity 0." in second.err
    with Session(db.engine) as s:
        assert claims.get_claim(s, int(second.out.strip())).status == "duplicate"
