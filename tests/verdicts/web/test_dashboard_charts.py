"""The dashboard's charts: the pure SVG/CSV builders, the numbers behind them on both
databases, and the page and its CSV downloads in-process."""

from __future__ import annotations

import csv
import io
import random
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI

from evidence.models import Claim, Verdict
from tests.conftest import DB
from tests.verdicts.web.conftest import data, login, run
from tests.verdicts.web.factories import decide_as, make_reviewable_claim, make_user
from verdicts import queue
from verdicts.web import charts

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script>&"'


# -- pure -----------------------------------------------------------------------------------


def test_percentile_is_nearest_rank_and_bucket_counts_every_value() -> None:
    rng = random.Random(13)
    values = [rng.uniform(0, 500) for _ in range(rng.randint(20, 60))]
    ordered = sorted(values)
    median = queue.percentile(values, 0.5)
    p90 = queue.percentile(values, 0.9)
    assert median is not None and p90 is not None and median <= p90
    assert sum(v <= median for v in values) >= len(values) / 2
    assert sum(v <= p90 for v in values) >= 0.9 * len(values)
    assert median in ordered and ordered.index(p90) >= ordered.index(median)
    assert queue.percentile([], 0.5) is None
    counts = charts.bucket(values, charts.HOUR_BUCKETS)
    assert sum(counts) == len(values)
    assert counts[0] == sum(v < 6 for v in values)
    assert counts[-1] == sum(v >= 168 for v in values)


def test_svg_is_well_formed_escaped_and_scaled() -> None:
    labels = ["short", HOSTILE, "x" * 40]
    values = [3.0, 7.0, 0.0]
    svg = charts.bar_chart("k", f"title {HOSTILE}", labels, values)
    root = ET.fromstring(str(svg))  # well-formed: nothing broke out of an attribute or text
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert not list(root.iter(f"{SVG}script"))
    assert "<script>" not in svg
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert f"title {HOSTILE}" in titles and f"{HOSTILE}: 7" in titles
    bars = [r for r in root.iter(f"{SVG}rect")]
    widths = [float(r.get("width", "0")) for r in bars]
    assert widths[2] == 0 and widths[1] > widths[0] > 0
    assert widths[1] / widths[0] == pytest.approx(7 / 3, rel=0.01)

    column = charts.column_chart("c", "flow", ["a", "b"], [("in <b>", [1, 4]), ("out", [2, 0])])
    root = ET.fromstring(str(column))
    heights = [
        float(r.get("height", "0"))
        for r in root.iter(f"{SVG}rect")
        if r.find(f"{SVG}title") is not None
    ]
    assert heights[2] == 4 * heights[0] and heights[3] == 0
    assert "in <b>" in "".join(root.itertext())


def test_csv_quotes_formulas_and_round_trips() -> None:
    rows = [("=HYPERLINK(1)", 3), ("plain, with comma", 4), ("-2", 0), ('say "hi"', 1)]
    text = charts.csv_text(("name", "n"), rows)
    back = list(csv.reader(io.StringIO(text)))
    assert back[0] == ["name", "n"]
    assert back[1] == ["'=HYPERLINK(1)", "3"] and back[3][0] == "'-2"
    assert back[2] == ["plain, with comma", "4"] and back[4] == ['say "hi"', "1"]


# -- the numbers on both databases ----------------------------------------------------------


def _day(n: int) -> datetime:
    return datetime(2026, 11, 1, 12, tzinfo=UTC) + timedelta(days=n)


def test_desk_stats_numbers(db: DB) -> None:
    now = _day(20)
    spans = [2.0, 5.0, 30.0, 100.0]  # hours from intake to verdict
    with data(db) as s:
        alice = make_user(s, "reviewer")
        bob = make_user(s, "reviewer")
        made = []
        for i, hours in enumerate(spans):
            claim, rows = make_reviewable_claim(s)
            verdict = decide_as(
                s, claim, alice if i < 3 else bob, rows[:1], rating=["false", "true"][i % 2]
            )
            made.append((claim, verdict, hours))
        old_open, _ = make_reviewable_claim(s)
        young_open, _ = make_reviewable_claim(s)
    with data(db) as s:
        for i, (claim, verdict, hours) in enumerate(made):
            row = s.get(Claim, claim.id)
            v = s.get(Verdict, verdict.id)
            assert row is not None and v is not None
            row.created_at = _day(10 + i)
            v.published_at = v.created_at = row.created_at + timedelta(hours=hours)
        for claim, age in ((old_open, 10), (young_open, 0.5)):
            row = s.get(Claim, claim.id)
            task = queue.task_for_claim(s, claim.id)  # type: ignore[arg-type]
            assert row is not None and task is not None
            row.created_at = task.created_at = now - timedelta(days=age)
    with data(db) as s:
        stats = queue.desk_stats(s, now=now)
    assert len(stats.days) == queue.STATS_DAYS and stats.days[-1] == now.date()
    # claims on days 10..13 and one 10 days back (day 10 too), one today
    assert sum(stats.claims_in) == 6
    assert stats.claims_in[stats.days.index(_day(10).date())] == 2
    assert stats.claims_in[-1] == 1
    published_days = [(c.created_at + timedelta(hours=h)) for c, _, h in made]
    assert sum(stats.verdicts_out) == len(published_days)
    assert stats.intake_hours == pytest.approx(sorted(spans))
    assert stats.median_hours == pytest.approx(5.0) and stats.p90_hours == pytest.approx(100.0)
    assert stats.by_rating == {"false": 2, "true": 2}
    numbers = {r.reviewer: r.verdicts for r in stats.reviewers}
    assert numbers == {alice.name: 3, bob.name: 1}
    assert sorted(round(a / 86400, 3) for a in stats.open_age_seconds) == [0.5, 10.0]
    ages = charts.bucket([a / 86400 for a in stats.open_age_seconds], charts.AGE_BUCKETS)
    assert ages == [1, 0, 0, 1, 0]


# -- the page and its downloads -------------------------------------------------------------


def test_dashboard_page_charts_tables_and_csv(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        editor = make_user(s, "editor")
        reviewer = make_user(s, "reviewer")
        claim, rows = make_reviewable_claim(s)
        decide_as(s, claim, reviewer, rows[:1], rating="false")
        make_reviewable_claim(s)

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        await login(client, editor.name, editor.password)
        pages = [await client.get("/dashboard")]
        for key in ("flow", "time-to-verdict", "ratings", "reviewers", "queue-age", "nope"):
            pages.append(await client.get("/dashboard.csv", params={"chart": key}))
        return pages

    page, flow, speed, ratings, people, ages, unknown = run(app, go)
    assert page.status_code == 200
    tree = BeautifulSoup(page.text, "lxml")
    boxes = tree.select("section.chart-box")
    assert [b["id"] for b in boxes] == [
        "chart-flow",
        "chart-time-to-verdict",
        "chart-ratings",
        "chart-reviewers",
        "chart-queue-age",
    ]
    for box in boxes:
        assert box.find("svg") is not None and box.find("table") is not None
        assert box.select_one(f'a[href="/dashboard.csv?chart={box["id"][6:]}"]') is not None
    assert not tree.select("script[src^=http]")
    for response in (flow, speed, ratings, people, ages):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
    assert unknown.status_code == 400
    today = datetime.now(UTC).date().isoformat()
    flow_rows = {r[0]: r[1:] for r in csv.reader(io.StringIO(flow.text))}
    assert flow_rows[today] == ["2", "1"]  # two claims added, one verdict published today
    assert list(csv.reader(io.StringIO(ratings.text)))[1:] == [["false", "1"]]
    people_rows = list(csv.reader(io.StringIO(people.text)))
    assert people_rows[1][:2] == [reviewer.name, "1"]
    age_rows = list(csv.reader(io.StringIO(ages.text)))
    assert age_rows[1] == ["under 1 day", "1"]  # the undecided claim
    # the table on the page shows the same numbers as the CSV
    table = tree.select_one("#chart-ratings table tbody")
    assert table is not None and [td.get_text() for td in table.select("td")] == ["false", "1"]
