"""sources/discovery/followup.py: the second round follows the names and dates of the story."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.scoring.rank import PassageInput, rank_passages
from sources.discovery.followup import FOLLOWUP_ROUND, followup_plan, followup_queries
from sources.discovery.plan import plan

NK = "North Korea made its first direct offer of talks to the US"


def p(i: int, text: str) -> PassageInput:
    return PassageInput(i, text, f"https://news{i}.example/a")


STORY = [
    p(
        1,
        "South Korea's national security adviser Chung Eui-yong delivered the offer of "
        "talks from North Korea at the White House on 8 March 2018.",
    ),
    p(
        2,
        "Chung Eui-yong told reporters that Kim Jong Un wanted talks; North Korea did not "
        "call Washington directly.",
    ),
    p(
        3,
        "The offer came through Seoul, officials said on 8 March 2018. Chung Eui-yong "
        "briefed Donald Trump.",
    ),
    p(4, "In 1994 North Korea offered talks after Jimmy Carter visited Pyongyang."),
]


def test_names_and_dates_the_story_adds_become_queries_beside_the_claims_entity():
    queries = followup_queries(NK, STORY, claimant="Donald Trump")
    assert [q.terms for q in queries] == [
        ("North Korea", "Chung Eui-yong"),  # named in three passages
        ("North Korea", "8 March 2018"),  # the event they point to, in two
    ]
    assert {q.family for q in queries} == {"followup"}


def test_one_passages_aside_and_the_claims_own_names_are_not_followed():
    terms = {t for q in followup_queries(NK, STORY, claimant="Donald Trump") for t in q.terms}
    assert "Jimmy Carter" not in terms  # named once
    assert "Donald Trump" not in terms  # the claimant
    assert not any("Korea" in t for t in terms - {"North Korea"})  # "North Korean" is no news


def test_the_number_of_queries_is_bounded():
    assert len(followup_queries(NK, STORY, max_queries=1)) == 1
    assert followup_queries(NK, STORY, max_queries=0) == ()
    assert followup_queries(NK, []) == ()


def test_scored_passages_are_accepted_and_the_order_is_deterministic():
    ranked = rank_passages(NK, STORY)
    assert followup_queries(NK, ranked) == followup_queries(NK, [s.passage for s in ranked])
    assert followup_queries(NK, STORY) == followup_queries(NK, list(STORY))


def test_the_followup_plan_is_round_two_with_the_claims_dates():
    first = plan(NK, claim_date=date(2018, 3, 9))
    second = followup_plan(first, STORY)
    assert second.round == FOLLOWUP_ROUND and second.claim_date == first.claim_date
    assert second.as_json()["round"] == 2
    assert [r.query for r in second.for_adapter("gdelt")][0] == '"North Korea" "Chung Eui-yong"'


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=6), st.integers(0, 5))
def test_followup_is_bounded_on_any_text(texts, limit):
    passages = [p(i, t) for i, t in enumerate(texts)]
    queries = followup_queries(NK, passages, max_queries=limit)
    assert len(queries) <= limit
    assert queries == followup_queries(NK, passages, max_queries=limit)
