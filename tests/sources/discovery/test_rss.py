from __future__ import annotations

import pytest

from sources.discovery.base import BadAnswer, SourceUnreachable
from sources.discovery.rss import RssAdapter
from tests.sources.discovery.conftest import Answer
from tests.sources.discovery.support import request_for

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>World desk</title>
  <link>https://news.example/</link>
  <description>Latest</description>
  <item>
    <title>Weather: a sunny weekend ahead</title>
    <link>https://news.example/weather</link>
    <description>Nothing about Korea here.</description>
    <pubDate>Mon, 05 Mar 2018 08:00:00 GMT</pubDate>
  </item>
  <item>
    <title>North Korea offers direct talks with US</title>
    <link>https://news.example/nk-talks?utm_source=rss</link>
    <description>&lt;p&gt;Pyongyang made its &lt;b&gt;first direct offer&lt;/b&gt;.&lt;/p&gt;
    </description>
    <pubDate>Tue, 06 Mar 2018 09:30:00 GMT</pubDate>
  </item>
  <item>
    <title>Talks with the US: analysis</title>
    <link>https://news.example/analysis</link>
    <description>What North Korea wants.</description>
  </item>
  <item><title>An item without a link is skipped: North Korea talks US</title></item>
</channel>
</rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Fact desk</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2018-03-06T18:30:02Z</updated>
  <entry>
    <title>Korea talks offer was not the first, records show</title>
    <link href="/2018/03/korea-talks"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2018-03-06T18:30:02Z</updated>
    <summary>North Korea has offered talks before.</summary>
  </entry>
  <entry>
    <title>Budget passes</title>
    <link href="https://fact.example/budget"/>
    <id>urn:uuid:2</id>
    <updated>2018-03-06T10:00:00Z</updated>
    <summary>Parliament votes.</summary>
  </entry>
</feed>"""

EMPTY_RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title>
<link>https://q.example/</link><description>none</description></channel></rss>"""


def test_rss_entries_matching_a_query_come_best_first(api, settings, run_adapter):
    feed = api.route("/rss.xml", RSS, content_type="application/rss+xml")
    out = run_adapter(
        RssAdapter(feed, settings=settings), request_for("North Korea direct talks US")
    )
    assert [c.url for c in out.candidates] == [
        "https://news.example/nk-talks?utm_source=rss",
        "https://news.example/analysis",
    ]
    best = out.candidates[0]
    assert (best.adapter, best.query, best.rank) == ("rss", "North Korea direct talks US", 1)
    assert best.title == "North Korea offers direct talks with US"
    assert best.meta["published"] == "Tue, 06 Mar 2018 09:30:00 GMT"
    assert best.meta["score"] > out.candidates[1].meta["score"] > 0  # BM25 of the entry
    assert out.candidates[1].rank == 2
    assert best.meta["hits"] == [
        {"family": "given", "query": "North Korea direct talks US", "rank": 1}
    ]


def test_atom_entries_match_and_relative_links_resolve(api, settings, run_adapter):
    feed = api.route("/atom.xml", ATOM, content_type="application/atom+xml")
    out = run_adapter(RssAdapter(feed, settings=settings), request_for("Korea talks first offer"))
    assert [c.url for c in out.candidates] == [f"{api.base}/2018/03/korea-talks"]
    assert out.candidates[0].meta["published"] == "2018-03-06T18:30:02Z"


def test_the_best_covered_query_is_recorded(api, settings, run_adapter):
    feed = api.route("/rss.xml", RSS, content_type="text/xml")
    out = run_adapter(
        RssAdapter(feed, settings=settings),
        request_for("sunny weekend weather", "unrelated words only"),
    )
    assert [(c.url, c.query) for c in out.candidates] == [
        ("https://news.example/weather", "sunny weekend weather")
    ]


def test_a_feed_with_no_items_or_no_match_gives_nothing(api, settings, run_adapter):
    empty = api.route("/empty.xml", EMPTY_RSS, content_type="application/rss+xml")
    assert run_adapter(RssAdapter(empty, settings=settings), request_for("a b")).candidates == ()
    full = api.route("/rss.xml", RSS, content_type="application/rss+xml")
    out = run_adapter(RssAdapter(full, settings=settings), request_for("volcano eruption Iceland"))
    assert out.candidates == ()


def test_results_are_capped(api, settings, run_adapter):
    feed = api.route("/rss.xml", RSS, content_type="application/rss+xml")
    out = run_adapter(
        RssAdapter(feed, settings=settings), request_for("North Korea talks US", max_results=1)
    )
    assert len(out.candidates) == 1


@pytest.mark.parametrize(
    "answer,error,fragment",
    [
        (Answer(b"down", status=500, content_type="text/plain"), SourceUnreachable, "500"),
        (Answer(b"gone", status=404, content_type="text/plain"), SourceUnreachable, "404"),
        (
            Answer(b"<html><body><p>Not a feed</p></body></html>", content_type="text/html"),
            BadAnswer,
            "not an RSS or Atom feed",
        ),
        (Answer(b'{"items": []}', content_type="application/json"), BadAnswer, "not an RSS"),
    ],
    ids=["500", "404", "html", "json"],
)
def test_error_answers(api, settings, run_adapter, answer, error, fragment):
    feed = api.route("/bad.xml", answer)
    with pytest.raises(error, match=fragment):
        run_adapter(RssAdapter(feed, settings=settings), request_for("North Korea talks"))
