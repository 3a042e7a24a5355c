"""The claim workspace's words: stance groups, "why this passage", the suggestion, and the
search window folded into one sentence (``verdicts/web/workspace.py``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from verdicts.decisions import EvidenceItem
from verdicts.web.workspace import evidence_groups, excerpt, why_line, window_view


def _item(evidence_id: int, rank: int, **kw: Any) -> EvidenceItem:
    base: dict[str, Any] = {
        "evidence_id": evidence_id,
        "rank": rank,
        "score": 1.0,
        "components": {},
        "matched_terms": [],
        "copies": [],
        "passage_id": evidence_id,
        "passage": f"passage {evidence_id}",
        "passage_key": "k",
        "url": "https://a.example/x",
        "title": None,
        "site": "a.example",
        "published": None,
        "fetch_id": 1,
        "fetched_at": "2018-03-10T00:00:00",
        "sha256": None,
        "active": True,
    }
    return EvidenceItem(**{**base, **kw})


def test_refuting_evidence_comes_first_then_supporting_then_context() -> None:
    items = [
        _item(1, 1, stance="supports", role="origin"),
        _item(2, 2, stance="context"),
        _item(3, 3, stance="refutes"),
        _item(4, 4),
        _item(5, 5, stance="refutes"),
    ]
    groups = evidence_groups(items, None)
    assert [(g.key, [c.item.evidence_id for c in g.cards]) for g in groups] == [
        ("refutes", [3, 5]),
        ("supports", [1]),
        ("context", [2]),
        ("unlabelled", [4]),
    ]
    assert groups[1].cards[0].origin and groups[0].cards[0].stance_words == "Refutes"


def test_without_any_stance_the_evidence_stays_in_rank_order() -> None:
    groups = evidence_groups([_item(7, 2), _item(9, 1)], None)
    assert [(g.key, [c.item.evidence_id for c in g.cards]) for g in groups] == [("ranked", [9, 7])]
    assert evidence_groups([], None) == []


def test_why_line_names_distinctive_terms_timing_and_copies_without_jargon() -> None:
    item = _item(
        1,
        1,
        matched_terms=["North", "US", "2018", "North Korea", "direct offer"],
        published="2018-03-11T08:00:00+00:00",
        copies=[{"url": "https://b.example"}, {"url": "https://c.example"}],
        score=2.612,
    )
    line = why_line(item, date(2018, 3, 9))
    assert line == (
        "Uses the claim's “North Korea”, “direct offer”; published 2 days after the claim; "
        "2 other outlets ran the same text."
    )
    assert why_line(_item(2, 1), None) == "Among the passages closest to the claim."
    old = _item(3, 1, published="2000-10-24T08:00:00+00:00")
    assert why_line(old, date(2018, 3, 9)) == "Published 17 years before the claim."


def test_window_summary_folds_the_search_into_one_line_and_shows_years_as_years() -> None:
    window = {
        "sources": ["gdelt=http://127.0.0.5/api", {"kind": "wiki", "url": "http://w.example/"}],
        "queries": ["a", "b", "c"],
        "before_claim_date": 1,
        "timeline": [
            {"passage_id": 4, "date": "1994-01-01", "precision": "year", "site": "10.0.0.1"},
            {"passage_id": 5, "date": "2018-03-11", "precision": "day", "site": "10.0.0.2"},
        ],
    }
    view = window_view(window, {4: "Wire Archive"})
    assert view is not None
    assert view.summary == (
        "Searched 2 sources, 3 queries, 1994 to 2018-03-11; 1 dated passage before the claim"
    )
    assert [(r.date, r.year_only, r.site) for r in view.timeline] == [
        ("1994", True, "Wire Archive"),
        ("2018-03-11", False, "10.0.0.2"),
    ]
    assert view.sources == ["gdelt (127.0.0.5)", "wiki (w.example)"]


def test_a_window_without_timeline_or_dates_still_summarises() -> None:
    view = window_view({"sources": ["feed=http://f.example/rss"], "adapter_errors": [{}]})
    assert view is not None
    assert view.summary == "Searched 1 source, 0 queries; 1 source failed"
    assert view.timeline == [] and window_view(None) is None and window_view({}) is None


@given(
    st.lists(st.text(alphabet="abcdé,.-", min_size=1, max_size=12), max_size=60),
    st.integers(min_value=12, max_value=300),
)
def test_excerpts_end_at_a_word_boundary(words: list[str], limit: int) -> None:
    text = " ".join(words)
    cut = excerpt(text, limit)
    if len(text) <= limit:
        assert cut == text
        return
    assert cut.endswith("…") and len(cut) <= limit + 1
    kept = cut[:-1].split()
    # every word kept is whole; the last may only lose trailing punctuation
    assert kept[:-1] == words[: len(kept) - 1]
    if kept:
        assert words[len(kept) - 1].rstrip(",.-") == kept[-1].rstrip(",.-")
