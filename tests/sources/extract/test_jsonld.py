"""JSON-LD: tolerant parsing, flattening, and ClaimReview records."""

from __future__ import annotations

import json

from sources.extract import parse
from sources.extract.jsonld import (
    article_node,
    claim_review,
    claim_reviews,
    flatten,
    jsonld_nodes,
    parse_documents,
    text_of,
    types_of,
)
from tests.sources.pages_util import extracted


def _page(*scripts: str, script_type: str = "application/ld+json") -> str:
    body = "".join(f'<script type="{script_type}">{s}</script>' for s in scripts)
    return f"<html><head>{body}</head><body><p>x</p></body></html>"


def test_trailing_commas_comment_wrappers_and_cdata_are_repaired() -> None:
    assert parse_documents('{"@type": "NewsArticle", "headline": "A",}') == [
        {"@type": "NewsArticle", "headline": "A"}
    ]
    assert parse_documents('<!-- {"a": 1} -->') == [{"a": 1}]
    assert parse_documents('//<![CDATA[\n{"a": [1, 2,]}\n//]]>') == [{"a": [1, 2]}]


def test_objects_pasted_one_after_another_are_all_read() -> None:
    assert parse_documents('{"a": 1}\n{"b": 2};[{"c": 3}]') == [{"a": 1}, {"b": 2}, [{"c": 3}]]


def test_raw_newlines_inside_strings_are_accepted() -> None:
    assert parse_documents('{"headline": "two\nlines"}') == [{"headline": "two\nlines"}]


def test_broken_json_yields_nothing_instead_of_raising() -> None:
    assert parse_documents('{"headline": "unterminated') == []
    assert parse_documents("not json at all") == []
    assert parse_documents("") == []


def test_json_nested_beyond_the_recursion_limit_yields_nothing() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    assert parse_documents(deep) == []


def test_flatten_walks_graphs_lists_and_nested_objects_top_level_first() -> None:
    doc = {
        "@graph": [
            {"@type": "WebPage", "mainEntity": {"@type": "ClaimReview", "claimReviewed": "X"}},
            {"@type": "Organization", "name": "VeriCheck"},
        ]
    }
    types = [sorted(types_of(n)) for n in flatten([doc])]
    assert types == [[], ["webpage"], ["organization"], ["claimreview"]]


def test_types_are_compared_by_local_name() -> None:
    assert types_of({"@type": "http://schema.org/NewsArticle"}) == {"newsarticle"}
    assert types_of({"@type": ["schema:ClaimReview", "Thing"]}) == {"claimreview", "thing"}
    assert types_of({"@type": 7}) == set()


def test_only_ld_json_scripts_are_read_and_a_bad_one_does_not_hide_a_good_one() -> None:
    soup = parse(
        _page('{"@type": "Article", "headline": "ok"}', "{broken")
        + _page('{"@type": "Article", "headline": "js"}', script_type="text/javascript")
        + _page('{"@type": "NewsArticle"}', script_type="Application/LD+JSON; charset=utf-8")
    )
    assert [sorted(types_of(n)) for n in jsonld_nodes(soup)] == [["article"], ["newsarticle"]]


def test_the_article_node_prefers_articles_over_claim_reviews() -> None:
    nodes = [{"@type": "ClaimReview", "datePublished": "2018-03-12"}, {"@type": "NewsArticle"}]
    assert article_node(nodes) == {"@type": "NewsArticle"}
    assert article_node(nodes[:1]) == nodes[0]
    assert article_node([{"headline": "untyped"}]) == {"headline": "untyped"}
    assert article_node([{"@type": "Organization"}]) is None


def test_text_of_reads_strings_numbers_names_and_lists() -> None:
    assert text_of("  Kim &amp; Moon\n meet ") == "Kim & Moon meet"
    assert text_of(2) == "2"
    assert text_of(2.5) == "2.5"
    assert text_of({"@type": "Person", "name": "Priya Raman"}) == "Priya Raman"
    assert text_of([None, "", {"name": "First"}]) == "First"
    assert text_of(True) is None


def test_claim_review_with_alternate_name() -> None:
    info = claim_review(
        {
            "@type": "ClaimReview",
            "claimReviewed": "Kim offered talks",
            "reviewRating": {"ratingValue": "1", "bestRating": "5", "alternateName": "False"},
            "author": [{"@type": "Organization", "name": "Checkers"}],
            "url": "https://checkers.example/1",
            "datePublished": "2018-03-10",
            "itemReviewed": {"@type": "Claim", "author": {"name": "A Senator"}},
        }
    )
    assert (info.claim_reviewed, info.rating, info.rating_value) == (
        "Kim offered talks",
        "False",
        "1",
    )
    assert (info.author, info.url, info.date_published) == (
        "Checkers",
        "https://checkers.example/1",
        "2018-03-10",
    )
    assert info.item_reviewed_author == "A Senator"


def test_a_numeric_rating_is_shown_against_its_best_value() -> None:
    info = claim_review({"reviewRating": [{"ratingValue": 4, "bestRating": 5}]})
    assert info.rating == "4/5"
    assert info.rating_value == "4"
    assert claim_review({"reviewRating": {"ratingValue": 3}}).rating == "3"
    empty = claim_review({})
    assert (empty.rating, empty.author, empty.item_reviewed_author) == (None, None, None)


def test_every_claim_review_on_a_page_is_returned() -> None:
    doc = [
        {"@type": "ClaimReview", "claimReviewed": "one"},
        {"@type": "WebPage", "mainEntity": {"@type": "ClaimReview", "claimReviewed": "two"}},
    ]
    soup = parse(_page(json.dumps(doc)))
    assert [c.claim_reviewed for c in claim_reviews(jsonld_nodes(soup))] == ["one", "two"]


def test_the_fact_check_page_rating_is_what_the_page_says() -> None:
    (review,) = extracted("factcheck_claimreview.html").claim_reviews
    assert review.claim_reviewed == "North Korea made its first direct offer of talks to the US"
    assert review.rating == "Mostly False"
    assert review.rating_value == "2"
    assert review.author == "VeriCheck"
    assert review.date_published == "2018-03-12"
    assert review.url == (
        "https://vericheck.example/fact-checks/2018/mar/12/north-korea-first-direct-offer-talks/"
    )
    assert review.item_reviewed_author == "Viral social media posts"


def test_pages_without_claim_reviews_have_none() -> None:
    assert extracted("news_article.html").claim_reviews == ()
    assert extracted("live_blog.html").claim_reviews == ()
