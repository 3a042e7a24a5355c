from __future__ import annotations

from sources.discovery import parse_source
from tests.sources.discovery.support import request_for


def test_the_given_url_is_the_one_candidate(settings, run_adapter):
    adapter = parse_source("url=https://gov.example/statement?id=7").build(settings)
    out = run_adapter(adapter, request_for("anything"))
    assert [(c.url, c.adapter, c.query, c.rank) for c in out.candidates] == [
        ("https://gov.example/statement?id=7", "url", None, 1)
    ]
    assert out.fact_checks == ()
