"""evidence/scoring/search_window.py: dated evidence earliest first, the auditable search window."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from evidence.scoring.rank import PassageInput, rank_passages
from evidence.scoring.search_window import passage_date, search_window

CLAIM = "North Korea made its first direct offer of talks to the United States"


def p(pid: int, text: str, published: datetime | None) -> PassageInput:
    return PassageInput(
        pid, text, f"https://s{pid}.example/a", f"s{pid}.example", published=published
    )


PUB = datetime(2018, 3, 8, tzinfo=UTC)
POOL = [
    p(1, "North Korea offered talks with the United States on Tuesday.", PUB),
    p(2, "Direct talks with the United States were held in Geneva in 1994.", PUB),
    p(3, "Pyongyang proposed talks to Washington on 12 June 1993, officials recall.", PUB),
    p(4, "North Korea and the United States have no diplomatic relations.", None),
]


def test_how_each_passage_is_dated() -> None:
    assert passage_date(POOL[0]) == (date(2018, 3, 8), "day", "published")
    assert passage_date(POOL[1]) == (date(1994, 1, 1), "year", "text-year")
    assert passage_date(POOL[2]) == (date(1993, 6, 12), "day", "text-date")
    assert passage_date(POOL[3]) is None


def test_a_year_not_before_publication_is_the_news_of_the_day() -> None:
    current = p(5, "In 2018 the talks began.", datetime(2018, 5, 1, tzinfo=UTC))
    assert passage_date(current) == (date(2018, 5, 1), "day", "published")


def test_superlative_claim_gets_a_timeline_earliest_first_and_a_window() -> None:
    ranked = rank_passages(CLAIM, POOL)
    window = search_window(
        CLAIM,
        ranked,
        sources=[
            "mediawiki=https://en.wikipedia.org/w/api.php",
            {"kind": "rss", "url": "https://x/rss"},
        ],
        queries=["North Korea direct talks", "first offer"],
        claim_date=date(2018, 3, 9),
        adapter_errors=[{"adapter": "gdelt", "error": "timeout"}],
    )
    assert window["superlative"] is True
    assert [e["passage_id"] for e in window["timeline"]] == [3, 2, 1]
    assert [e["dated_by"] for e in window["timeline"]] == ["text-date", "text-year", "published"]
    assert window["undated"] == [4]
    assert window["date_range"] == {"earliest": "1993-06-12", "latest": "2018-03-08"}
    assert window["before_claim_date"] == 3
    assert window["queries"] == ["North Korea direct talks", "first offer"]
    assert window["sources"][1] == {"kind": "rss", "url": "https://x/rss"}
    assert window["adapter_errors"][0]["adapter"] == "gdelt"
    assert "2 sources for 2 queries" in window["note"]


def test_the_window_is_the_same_for_shuffled_input() -> None:
    expected = search_window(CLAIM, rank_passages(CLAIM, POOL), sources=[], queries=[])
    shuffled = POOL[:]
    random.Random(3).shuffle(shuffled)
    assert search_window(CLAIM, rank_passages(CLAIM, shuffled), sources=[], queries=[]) == expected


def test_an_ordinary_claim_has_a_window_but_no_timeline() -> None:
    claim = "Unemployment fell to 3.5 percent in September"
    window = search_window(claim, rank_passages(claim, POOL), sources=["a=b"], queries=["q"])
    assert window["superlative"] is False
    assert "timeline" not in window
    assert window["date_range"]["earliest"] == "1993-06-12"
    assert window["claim_date"] is None


def test_nothing_dated() -> None:
    window = search_window(CLAIM, rank_passages(CLAIM, [POOL[3]]), sources=[], queries=[])
    assert window["timeline"] == [] and window["undated"] == [4]
    assert window["date_range"] == {"earliest": None, "latest": None}
    assert "no passage could be dated" in window["note"]
