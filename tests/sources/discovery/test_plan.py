from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources.discovery.config import (
    MAX_FAMILY_TERMS,
    MAX_QUERY_CHARS,
    MAX_QUERY_WORDS,
    NEWS_WINDOW_AFTER_DAYS,
    NEWS_WINDOW_BEFORE_DAYS,
)
from sources.discovery.match import best_match
from sources.discovery.plan import (
    FAMILIES,
    PlannedQuery,
    QueryPlan,
    core_words,
    plan,
    plan_queries,
    salient_entities,
    search_dates,
)
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


# -- query families (QueryPlan) --------------------------------------------------------------


def families(p: QueryPlan) -> list[tuple[str, str]]:
    return [(q.family, q.text) for q in p.queries]


def test_the_plan_has_origin_topic_and_refutation_families():
    p = plan(NK, claimant="Donald Trump", claim_date=date(2018, 3, 9))
    assert families(p) == [
        ("origin", '"Donald Trump" "first direct offer"'),
        # short ones first (AND-semantics news search): the subjects, then the subject alone,
        # then the subject with its key word
        ("topic", '"North Korea" US'),
        ("topic", '"North Korea"'),
        ("topic", '"North Korea" direct'),
        (
            "refutation",
            '"North Korea" US (denied OR clarified OR correction OR false OR "not the first" '
            "OR misleading)",
        ),
        ("topic", '"North Korea" US direct offer'),
        ("topic", '"North Korea" US talks'),
    ]
    assert all(1 <= len(q.terms) <= MAX_FAMILY_TERMS for q in p.queries)
    assert p.texts == tuple(q.text for q in p.queries)


def test_numbers_and_dates_make_the_second_topic_query():
    claim = "Unemployment fell to 3.5% in March 2019, the lowest since 1969, Donald Trump said."
    p = plan(claim)
    topics = [q.terms for q in p.queries if q.family == "topic"]
    assert ("Donald Trump", "3.5%", "2019") in topics
    origin = next(q for q in p.queries if q.family == "origin")
    assert origin.terms == ("Donald Trump", "lowest since 1969")


def test_a_quote_is_the_origins_key_phrase_and_the_claimant_leads():
    claim = 'The minister said "we will never raise taxes" on 3 March 2018 in London.'
    origin = plan(claim, claimant="Boris Johnson").queries[0]
    assert origin == PlannedQuery("origin", ("Boris Johnson", "we will never raise taxes"))


def test_gdelt_rendering_is_short_and_follows_its_syntax():
    rendered = plan(NK, claimant="Donald Trump").for_adapter("gdelt")
    assert [r.query for r in rendered] == [
        '"Donald Trump" "first direct offer"',
        '"North Korea"',  # "US" is shorter than GDELT's 3 characters (and then a duplicate)
        '"North Korea" direct',
        '"North Korea" (denied OR clarified OR correction OR false OR "not the first" '
        "OR misleading)",
        '"North Korea" direct offer',
        '"North Korea" talks',
    ]
    for r in rendered:
        outside = re.sub(r"\([^)]*\)", "", re.sub(r'"[^"]*"', "", r.query)).split()
        assert all(len(w) >= 3 for w in outside)
        assert len(re.findall(r'"[^"]*"|\([^)]*\)|\S+', r.query)) <= MAX_FAMILY_TERMS + 1


def test_mediawiki_rendering_uses_cirrussearch_syntax_without_or():
    rendered = plan(NK, claimant="Donald Trump").for_adapter("mediawiki")
    queries = [r.query for r in rendered]
    assert '"North Korea" US talks' in queries
    assert 'intitle:"North Korea" direct' in queries  # the record, not denials
    assert not any(" OR " in q or "(" in q for q in queries)
    assert [r.family for r in rendered] == [
        "origin",
        "topic",
        "topic",
        "topic",
        "refutation",
        "topic",
        "topic",
    ]


def test_factcheck_search_gets_plain_origin_and_topic_queries():
    rendered = plan(NK, claimant="Donald Trump").for_adapter("factcheck-api")
    assert {r.family for r in rendered} == {"origin", "topic"}
    assert not any('"' in r.query for r in rendered)


def test_listing_adapters_get_match_keys_including_the_correction_words():
    rendered = plan(NK).for_adapter("rss")
    refutation = next(r for r in rendered if r.family == "refutation")
    assert {"north", "korea", match_key("denied"), match_key("clarified")} <= set(refutation.terms)


def test_the_news_window_reaches_past_the_claim_date():
    assert search_dates(None) is None
    start, end = search_dates(date(2018, 3, 9))
    assert (date(2018, 3, 9) - start).days == NEWS_WINDOW_BEFORE_DAYS
    assert (end - date(2018, 3, 9)).days == NEWS_WINDOW_AFTER_DAYS > 0
    recorded = plan(NK, claim_date=date(2018, 3, 9)).as_json()
    assert recorded["dates"] == {"from": start.isoformat(), "to": end.isoformat()}
    assert recorded["queries"][0]["family"] == "origin"


def test_a_claim_without_names_still_plans_topic_and_refutation():
    p = plan("Vaccines cause autism")
    # no name to anchor on: pairs of the specific words, then the refutation
    assert [q.terms for q in p.queries if q.family == "topic"][:3] == [
        ("Vaccines", "autism"),
        ("Vaccines", "cause"),
        ("autism", "cause"),
    ]
    assert "refutation" in [q.family for q in p.queries]
    assert p.for_adapter("mediawiki")[-1].family == "topic"  # no name to look up


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["gdelt", "mediawiki", "rss", "factcheck-api"]))
def test_family_plans_are_deterministic_and_bounded_on_any_text(text, kind):
    first = plan(text).for_adapter(kind)
    assert first == plan(text).for_adapter(kind)
    assert len(first) <= 10
    assert all(r.query and r.family in FAMILIES for r in first)
    assert all(len(q.terms) <= MAX_FAMILY_TERMS for q in plan(text).queries)


def test_names_are_also_searched_the_way_follow_up_reports_write_them():
    p = plan("Athletic Corran has sacked manager Pete Lowell")
    topics = [q.terms for q in p.queries if q.family == "topic"]
    assert ("Corran", "Lowell") in topics and ("Lowell",) in topics
    # a place qualifier is part of the name: "Korea" alone would find South Korea too
    assert ("Korea",) not in [q.terms for q in plan(NK).queries]
    assert ("Great Wall",) in [q.terms for q in plan("The Great Wall of China is visible").queries]
