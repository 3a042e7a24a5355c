from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources.discovery.config import MAX_QUERY_CHARS, MAX_QUERY_WORDS
from sources.discovery.match import best_match
from sources.discovery.plan import core_words, plan_queries, salient_entities
from sources.discovery.words import content_words, match_key, strip_particle

NK = "North Korea made its first direct offer of talks to the US"


def test_short_claim_core_entities_and_phrases():
    queries = plan_queries(NK)
    assert queries[0] == "North Korea made first direct offer talks US"
    assert "North Korea US" in queries
    assert "first direct offer" in queries
    assert len(queries) == len(set(queries))


def test_claim_date_year_joins_the_entities_when_the_text_has_no_year():
    assert "North Korea US 2018" in plan_queries(NK, claim_date=date(2018, 3, 6))
    with_year = "North Korea made its first direct offer of talks to the US in 2018"
    assert not any("2019" in q for q in plan_queries(with_year, claim_date=date(2019, 1, 1)))


def test_numbers_and_percentages_are_kept_whole():
    claim = "Unemployment fell to 3.5% in March 2019, the lowest since 1969, Donald Trump said."
    queries = plan_queries(claim)
    assert queries[0] == "Unemployment fell 3.5% March 2019 lowest Donald Trump"
    assert "Donald Trump 3.5% 2019 1969" in queries
    assert "lowest since 1969" in queries


def test_quoted_strings_become_exact_phrases_and_the_claimant_joins():
    claim = 'The minister said "we will never raise taxes" on 3 March 2018 in London.'
    queries = plan_queries(claim, claimant="Boris Johnson")
    assert queries[:3] == [
        "minister never raise taxes 3 March 2018 London",
        '"we will never raise taxes"',
        "London 3 March 2018",
    ]
    assert queries[3].startswith("Boris Johnson minister")


def test_a_claimant_named_in_the_text_adds_no_query():
    claim = "Donald Trump said unemployment is at a record low"
    assert plan_queries(claim, claimant="Donald Trump") == plan_queries(claim)


def test_long_claim_keeps_who_and_how_much_in_the_core():
    claim = (
        "In a speech to the United Nations General Assembly in New York on September 19, 2017, "
        "the President of the United States said that the country had spent 700 billion "
        "dollars on its military that year, more than any other nation in history, and that "
        "NATO allies had agreed to pay 2% of GDP."
    )
    queries = plan_queries(claim)
    core = queries[0].split()
    assert len(core) == MAX_QUERY_WORDS
    assert {"United", "Nations", "700", "2%"} <= set(core)
    assert "19" not in core  # a day of a date gives way to an amount
    assert "spent 700 billion dollars" in queries
    assert all(len(q.split()) <= MAX_QUERY_WORDS and len(q) <= MAX_QUERY_CHARS for q in queries)


def test_spanish_claim_drops_spanish_function_words():
    claim = "El presidente Pedro Sánchez anunció que el desempleo bajó un 12% en 2023."
    assert salient_entities(claim) == ["Pedro Sánchez"]
    queries = plan_queries(claim)
    assert queries[0] == "presidente Pedro Sánchez anunció desempleo bajó 12% 2023"
    assert "Pedro Sánchez 12% 2023" in queries
    assert not any(w in {"el", "que", "un", "en"} for q in queries for w in q.split())


def test_korean_claim_gets_a_query_without_particles():
    claim = "북한이 미국에 처음으로 직접 대화를 제안했다"
    assert plan_queries(claim) == [
        "북한이 미국에 처음으로 직접 대화를 제안했다",
        "북한 미국 처음 직접 대화 제안했다",
    ]
    assert strip_particle("북한이") == "북한"
    assert strip_particle("아이") == "아이"  # a word that only looks like noun + particle
    # a headline with other particles still matches
    assert best_match(plan_queries(claim), "북한은 미국과 직접 대화 제안") is not None


def test_sentence_initial_common_words_are_not_entities():
    assert salient_entities("Vaccines cause autism") == []
    assert plan_queries("Vaccines cause autism") == ["Vaccines cause autism"]
    assert salient_entities("The WHO said the United Nations agreed.") == ["WHO", "United Nations"]


@pytest.mark.parametrize("text", ["", "   ", "the of and", "!!!"])
def test_nothing_to_search_for_is_no_query(text):
    assert plan_queries(text) == []


def test_max_queries_is_respected():
    claim = 'The minister said "we will never raise taxes" on 3 March 2018 in London.'
    assert len(plan_queries(claim, max_queries=2)) == 2
    assert plan_queries(claim, max_queries=0) == []


def test_content_words_keep_surface_forms():
    assert content_words("The GDP grew 3.5% in São Paulo") == [
        "GDP",
        "grew",
        "3.5%",
        "São",
        "Paulo",
    ]
    assert match_key("Offers") == match_key("offered") == "offer"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_planning_is_deterministic_and_bounded_on_any_text(text):
    first = plan_queries(text)
    assert first == plan_queries(text)
    assert len(first) <= 5
    assert all(q and len(q) <= MAX_QUERY_CHARS + 2 for q in first)
    assert len(core_words(text)) <= MAX_QUERY_WORDS
