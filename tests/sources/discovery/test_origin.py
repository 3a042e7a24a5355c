from __future__ import annotations

from sources.discovery.origin import OriginAdapter
from tests.sources.discovery.conftest import Answer
from tests.sources.discovery.support import request_for


def article(links: str) -> str:
    return f"""<!doctype html><html lang="en"><head><title>Claim seen here</title></head>
<body>
<nav><a href="/home">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article>
<h1>North Korea offers talks</h1>
<p>North Korea made its first direct offer of talks to the United States on Tuesday,
according to a statement reported by <a href="https://wire.example/statement">the news
agency</a>. Officials in Seoul said the offer was unprecedented and would be studied closely
by the government in the coming days, while analysts urged caution.</p>
<p>Earlier contacts went through intermediaries, {links}. The ministry did not comment on
the details of the proposal or its timing, which surprised many diplomats in the region.</p>
</article>
<footer><a href="/privacy">Privacy</a></footer>
</body></html>"""


def test_the_origin_page_comes_first_then_its_outbound_links(api, settings, run_adapter):
    page = api.route(
        "/news/nk",
        Answer(
            article(
                'as <a href="/archive/2017-talks">our 2017 report</a> and '
                '<a href="https://un.example/doc#p4">a UN document</a> show'
            ).encode(),
            content_type="text/html; charset=utf-8",
        ),
    )
    out = run_adapter(OriginAdapter(settings=settings), request_for("q", origin_url=page))
    assert out.candidates[0].url == page
    assert (out.candidates[0].rank, out.candidates[0].adapter) == (0, "origin")
    links = [(c.url, c.rank) for c in out.candidates[1:]]
    urls = [u for u, _ in links]
    assert "https://wire.example/statement" in urls
    assert f"{api.base}/archive/2017-talks" in urls
    assert any(u.startswith("https://un.example/doc") for u in urls)
    assert [r for _, r in links] == list(range(1, len(links) + 1))
    assert all(c.meta["linked_from"] == page for c in out.candidates[1:])
    assert f"{api.base}/privacy" not in urls  # boilerplate links are not the page's sources


def test_an_explicit_origin_url_wins_and_links_are_capped(api, settings, run_adapter):
    many = ", ".join(f'<a href="https://ref{i}.example/">ref {i}</a>' for i in range(10))
    page = api.route("/p", Answer(article(many).encode(), content_type="text/html"))
    out = run_adapter(
        OriginAdapter(page, settings=settings),
        request_for("q", origin_url="https://other.example/", max_results=4),
    )
    assert out.candidates[0].url == page
    assert len(out.candidates) == 4


def test_an_unreachable_origin_is_still_proposed_with_the_reason(api, settings, run_adapter):
    gone = api.route("/gone", Answer(b"gone", status=410, content_type="text/plain"))
    out = run_adapter(OriginAdapter(settings=settings), request_for("q", origin_url=gone))
    assert [c.url for c in out.candidates] == [gone]
    assert "410" in out.candidates[0].meta["links_error"]


def test_no_origin_url_no_candidates(settings, run_adapter):
    assert run_adapter(OriginAdapter(settings=settings), request_for("q")).candidates == ()
