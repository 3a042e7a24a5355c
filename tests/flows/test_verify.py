"""The verify flow end to end: the live demo corpus, the Prefect harness, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from sqlmodel import Session, col, func, select

from evidence import audit, claims
from evidence.models import Candidate, Claim, Evidence, Fetch, Passage, ReviewTask, Run

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def _add(db, text: str, **kw) -> int:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        claim = claims.add_claim(s, claims.make_create(text=text, **kw), actor="test").claim
        s.commit()
        assert claim.id is not None
        return claim.id


def _counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with Session(db.engine) as s:
        return {
            m.__name__: int(s.exec(select(func.count()).select_from(m)).one())
            for m in (Candidate, Fetch, Passage, Evidence, ReviewTask)
        }


def test_verify_claim_records_evidence_and_queues_it(db, prefect_api, corpus_env) -> None:  # type: ignore[no-untyped-def]
    from flows.steps import VerifyConfig
    from flows.verify import verify_claim

    first = corpus_env.claims()[0]
    claim_id = _add(
        db, first["text"], url=first["url"], claimant=first["claimant"], claim_date=first["date"]
    )
    outcome = asyncio.run(verify_claim(claim_id, VerifyConfig()))
    assert outcome.status == "queued"
    assert outcome.fetched >= 5
    # the fact-check site's ClaimReview is surfaced first, with its rating
    assert outcome.fact_checks and outcome.fact_checks[0]["rating"].lower() == "false"
    with Session(db.engine) as s:
        claim = s.get(Claim, claim_id)
        assert claim is not None and claim.status == "queued"
        task = s.exec(select(ReviewTask).where(ReviewTask.claim_id == claim_id)).one()
        assert task.state == "queued"
        evidence = claims.claim_evidence(s, claim_id)
        run = s.exec(select(Run).where(Run.claim_id == claim_id)).one()
    assert run.status == "done" and run.queries
    # a "first ever" claim gets a timeline and an auditable search window
    assert run.search_window["superlative"] is True
    assert run.search_window["timeline"][0]["date"] < "2018-03-01"
    with Session(db.engine) as s:
        recorded = [
            e for e in audit.events_for(s, f"claim:{claim_id}") if e.action == "search.window"
        ]
    assert recorded and recorded[-1].payload["window"]["queries"] == run.queries
    sites = Counter(e["site"] for e in evidence)
    assert len(sites) >= 3 and max(sites.values()) <= 2
    # a passage shares claim terms, or it is a confident refutation with its reasons
    assert all(e["matched_terms"] or (e["stance"] == "refutes" and e["reasons"]) for e in evidence)
    # the "first" claim is refuted by the corpus: refuting evidence comes first, with reasons,
    # and the suggested verdict (never published by itself) follows the false fact-check
    assert evidence[0]["stance"] == "refutes" and evidence[0]["reasons"]
    assert {e["role"] for e in evidence} <= {"origin", "refutes", "supports", "context"}
    assert run.suggestion["rating"] == "false" and run.suggestion["explanation"]
    assert outcome.suggestion == run.suggestion
    # the private page robots.txt forbids is never fetched
    assert corpus_env.total_hits() > 0
    assert not any("/private/" in e["url"] for e in evidence)
    # every step left audit events, and the chain holds
    actions = {e.action for e in audit.iter_events(db.engine)}
    assert {
        "run.started",
        "candidates.proposed",
        "fetch.recorded",
        "passages.extracted",
        "evidence.selected",
        "task.queued",
        "run.finished",
        "verdict.suggested",
    } <= actions
    assert audit.verify_chain(audit.iter_events(db.engine)).ok


def test_rerunning_a_claim_duplicates_nothing(db, prefect_api, corpus_env) -> None:  # type: ignore[no-untyped-def]
    from flows.steps import VerifyConfig
    from flows.verify import verify_claim

    second = corpus_env.claims()[1]
    claim_id = _add(db, second["text"], url=second["url"])
    asyncio.run(verify_claim(claim_id, VerifyConfig()))
    before = _counts(db)
    skipped = asyncio.run(verify_claim(claim_id, VerifyConfig()))
    assert skipped.status == "skipped" and "already queued" in (skipped.error or "")
    again = asyncio.run(verify_claim(claim_id, VerifyConfig(force=True)))
    assert again.status == "queued"
    after = _counts(db)
    assert after == before
    with Session(db.engine) as s:
        urls = s.exec(select(Fetch.requested_url).where(Fetch.status_code == 200)).all()
        assert len(urls) == len(set(urls))


def test_a_failing_source_does_not_fail_the_claim(db, prefect_api, corpus_env) -> None:  # type: ignore[no-untyped-def]
    from flows.steps import VerifyConfig
    from flows.verify import verify_claim

    third = corpus_env.claims()[2]
    claim_id = _add(db, third["text"])
    dead = "rss=http://127.0.0.1:9/feed.xml"  # nothing listens on the discard port
    outcome = asyncio.run(verify_claim(claim_id, VerifyConfig(sources=[dead])))
    assert outcome.status == "queued"
    assert outcome.evidence
    with Session(db.engine) as s:
        failed = [
            e
            for e in audit.events_for(s, f"claim:{claim_id}")
            if e.action == "discovery.adapter_failed"
        ]
    assert failed and failed[0].payload["source"] == dead
    # the single-claim flow reports it too (it runs the batch's step sequence)
    assert [f["source"] for f in outcome.adapter_failures] == [dead]


def test_cli_verify_reports_a_failing_source(db, prefect_api, corpus_env, cli) -> None:  # type: ignore[no-untyped-def]
    dead = "rss=http://127.0.0.1:9/feed.xml"  # nothing listens on the discard port
    claim = corpus_env.claims()[3]
    r = cli("verify", claim["text"], "--source", dead, "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out.strip().splitlines()[-1])
    assert [f["source"] for f in out["adapter_failures"]] == [dead]
    assert out["adapter_failures"][0]["message"]
    other = corpus_env.claims()[4]
    human = cli("verify", other["text"], "--source", dead)
    assert human.code == 0, human.err
    assert f"Source {dead} failed" in human.err


def test_cli_verify_prints_top_evidence_as_json(db, prefect_api, corpus_env, cli) -> None:  # type: ignore[no-untyped-def]
    claim = [c for c in corpus_env.claims() if c.get("url")][-1]
    r = cli("verify", claim["text"], "--url", claim["url"], "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out.strip().splitlines()[-1])
    assert out["status"] == "queued" and out["evidence"]
    assert out["evidence"][0]["rank"] == 1 and out["evidence"][0]["url"].startswith("http://127.")
    contract = {"url", "site", "title", "published", "text", "stance", "reasons", "score"}
    assert all(contract <= set(item) for item in out["evidence"])
    assert all(item["stance"] in {"supports", "refutes", "context"} for item in out["evidence"])
    assert out["suggested"]["rating"] and 0 <= out["suggested"]["confidence"] <= 1
    assert out["suggested"]["explanation"]
    if out["origin"] is not None:
        assert out["origin"]["role"] == "origin" and out["origin"] in out["evidence"]
    refuting = [i for i, item in enumerate(out["evidence"]) if item["stance"] == "refutes"]
    assert refuting == list(range(len(refuting)))  # refuting evidence first, when any
    human = cli("claim", "show", str(out["claim_id"])).out
    assert "Suggested verdict: " + out["suggested"]["rating"] in human
    shown = json.loads(cli("claim", "show", str(out["claim_id"]), "--json").out)
    assert shown["search_window"]["queries"] and shown["search_window"]["sources"]
    assert "searched:" in cli("claim", "show", str(out["claim_id"])).out


def test_cli_verify_bad_source_is_refused_before_writing(db, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("verify", "Some claim about tariffs", "--source", "carrier-pigeon=http://x")
    assert r.code == 2 and "Unknown source kind" in r.err
    with Session(db.engine) as s:
        assert s.exec(select(func.count()).select_from(Claim)).one() == 0
    r = cli("verify", "--claim-id", "99999")
    assert r.code == 2 and "No claim with id 99999" in r.err


def test_passages_of_a_claim_are_unique_per_fetch(db, prefect_api, corpus_env) -> None:  # type: ignore[no-untyped-def]
    from flows.steps import VerifyConfig
    from flows.verify import verify_claim

    claim = corpus_env.claims()[4]
    claim_id = _add(db, claim["text"], url=claim.get("url"))
    asyncio.run(verify_claim(claim_id, VerifyConfig()))
    with Session(db.engine) as s:
        pairs = s.exec(select(Passage.fetch_id, Passage.ordinal)).all()
        assert len(pairs) == len(set(pairs))
        ranks = s.exec(
            select(Evidence.rank).where(
                Evidence.claim_id == claim_id, col(Evidence.active).is_(True)
            )
        ).all()
    assert sorted(ranks) == list(range(min(ranks), min(ranks) + len(ranks)))


def test_semantic_rerank_setting_adds_a_semantic_component(
    db,
    prefect_api,
    corpus_env,  # type: ignore[no-untyped-def]
    monkeypatch,
) -> None:
    from evidence.settings import get_settings
    from flows.steps import VerifyConfig
    from flows.verify import verify_claim

    monkeypatch.setenv("FACTCHECK_SEMANTIC_RERANK", "true")
    get_settings.cache_clear()
    claim = corpus_env.claims()[5]
    claim_id = _add(db, claim["text"], url=claim.get("url"))
    asyncio.run(verify_claim(claim_id, VerifyConfig()))
    with Session(db.engine) as s:
        evidence = claims.claim_evidence(s, claim_id)
    assert evidence and all("semantic" in e["components"] for e in evidence)


def test_verification_leaves_a_markdown_artifact_with_the_top_evidence(
    db,
    prefect_api,  # type: ignore[no-untyped-def]
    corpus_env,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.steps import VerifyConfig
    from flows.verify import verify_claim

    claim = corpus_env.claims()[6]
    claim_id = _add(db, claim["text"], url=claim.get("url"))
    outcome = asyncio.run(verify_claim(claim_id, VerifyConfig()))

    async def artifacts() -> list:  # type: ignore[type-arg]
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"claim-{claim_id}"]))
            )

    found = asyncio.run(artifacts())
    assert any(a.type == "markdown" and outcome.evidence[0]["url"] in str(a.data) for a in found)


def test_the_origin_page_is_requested_once_per_verification(db, prefect_api, corpus_env) -> None:  # type: ignore[no-untyped-def]
    from urllib.parse import urlsplit

    from flows.steps import VerifyConfig
    from flows.verify import verify_claim

    claim = [c for c in corpus_env.claims() if c.get("url")][1]
    parts = urlsplit(claim["url"])
    site = next(
        s.key
        for s in corpus_env.corpus.sites
        if corpus_env.base_url(s.key) == f"{parts.scheme}://{parts.netloc}"
    )
    before = corpus_env.hits(site, parts.path)
    claim_id = _add(db, claim["text"], url=claim["url"])
    asyncio.run(verify_claim(claim_id, VerifyConfig()))
    assert corpus_env.hits(site, parts.path) - before == 1


def _status(db, claim_id: int) -> str:  # type: ignore[no-untyped-def]
    with Session(db.engine) as s:
        claim = s.get(Claim, claim_id)
        assert claim is not None
        return claim.status


def test_forced_verification_gives_the_claim_back_to_review(db, prefect_api, corpus_env) -> None:  # type: ignore[no-untyped-def]
    from flows.reverify import claims_to_reverify
    from flows.steps import VerifyConfig
    from flows.verify import verify_claim
    from verdicts import queue, users

    first, second = corpus_env.claims()[0], corpus_env.claims()[1]
    queued = _add(db, first["text"], url=first.get("url"))
    leased = _add(db, second["text"], url=second.get("url"))
    for claim_id in (queued, leased):
        asyncio.run(verify_claim(claim_id, VerifyConfig()))
    with Session(db.engine) as s:
        users.add_user(s, "rita", role="reviewer", password=None, actor="test")
        task = queue.next_task(s, "rita")
        assert task is not None
        s.commit()
        leased, queued = task.claim_id, ({queued, leased} - {task.claim_id}).pop()
    for claim_id in (queued, leased):
        again = asyncio.run(verify_claim(claim_id, VerifyConfig(force=True)))
        assert again.status == "queued"
    assert (_status(db, queued), _status(db, leased)) == ("queued", "in_review")
    assert {queued, leased} <= set(claims_to_reverify())  # the nightly run sees both again


def test_a_claim_left_verifying_by_a_forced_run_is_given_back(db, prefect_api, corpus_env) -> None:  # type: ignore[no-untyped-def]
    from flows.steps import VerifyConfig
    from flows.verify import verify_claim

    claim = corpus_env.claims()[2]
    claim_id = _add(db, claim["text"], url=claim.get("url"))
    asyncio.run(verify_claim(claim_id, VerifyConfig()))
    with Session(db.engine) as s:  # what the old forced run left behind
        row = s.get(Claim, claim_id)
        assert row is not None
        claims.set_status(s, row, "verifying", actor="test")
        s.commit()
    again = asyncio.run(verify_claim(claim_id, VerifyConfig()))
    assert again.status == "queued" and _status(db, claim_id) == "queued"


def test_the_verify_flows_refuse_to_run_without_a_source(db, prefect_api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from evidence.errors import BadInput
    from evidence.settings import get_settings
    from flows.steps import VerifyConfig
    from flows.verify import verify_batch, verify_claim

    monkeypatch.delenv("FACTCHECK_SOURCES", raising=False)
    get_settings.cache_clear()
    claim_id = _add(db, "The bridge opened in 1932")
    with pytest.raises(BadInput, match="FACTCHECK_SOURCES"):
        asyncio.run(verify_claim(claim_id, VerifyConfig()))
    with pytest.raises(BadInput, match="--source KIND=URL"):
        asyncio.run(verify_batch([claim_id], VerifyConfig()))
    assert _status(db, claim_id) == "new"
    with Session(db.engine) as s:
        assert s.exec(select(func.count()).select_from(Run)).one() == 0


HOSTILE = "<img src=x onerror=alert(1)>**Bold** [x](javascript:alert(1))\n# Heading"


def test_the_markdown_artifact_shows_fetched_text_inert() -> None:
    from markdown_it import MarkdownIt

    from flows.steps import VerifyOutcome
    from flows.verify import evidence_markdown

    outcome = VerifyOutcome(
        7,
        1,
        "queued",
        evidence=[
            {
                "rank": 1,
                "site": HOSTILE,
                "url": "javascript:alert(2)",
                "score": 0.5,
                "matched_terms": ["<b>x</b>"],
            },
            {
                "rank": 2,
                "site": "news.example",
                "url": "https://news.example/a (b)<c>",
                "score": 0.4,
                "matched_terms": ["talks"],
            },
        ],
        fact_checks=[
            {"publisher": HOSTILE, "rating": HOSTILE, "url": "javascript:alert(3)"},
            {"publisher": "Checker", "rating": "False", "url": "https://check.example/1"},
        ],
        adapter_failures=[{"source": HOSTILE, "kind": "<i>bad</i>", "message": "x"}],
    )
    md = MarkdownIt("commonmark")
    md.validateLink = lambda url: True  # judge our escaping, not the renderer's defences
    html = md.render(evidence_markdown(outcome))
    hrefs = [h for h in html.split('href="')[1:]]
    assert [h.split('"')[0] for h in hrefs] == [
        "https://check.example/1",
        "https://news.example/a%20%28b%29%3Cc%3E",
    ]
    assert "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "<strong>Bold" not in html and "<h1>Heading" not in html
    assert "javascript:alert(2)" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_claim_writes_in_few_transactions_and_bulk_statements(db, corpus_env) -> None:  # type: ignore[no-untyped-def]
    """Issue 15 item 1: reads take no write lock, a fetch round is one transaction with one
    passage INSERT per page, and everything after fetching is one transaction."""
    from bench.sqlcount import SqlCounter
    from flows.steps import VerifyConfig
    from flows.verify import fetcher_scope, verify_one

    first = corpus_env.claims()[0]
    claim_id = _add(db, first["text"], url=first["url"], claim_date=first["date"])

    async def run() -> None:
        async with fetcher_scope():
            await verify_one(claim_id, VerifyConfig())

    with SqlCounter(db.engine) as counter:
        asyncio.run(run())
    counts = counter.counts
    with Session(db.engine) as s:
        pages = s.exec(select(func.count(func.distinct(Passage.fetch_id)))).one()
        fetches = s.exec(select(func.count()).select_from(Fetch)).one()
    assert pages >= 5 and counts.inserts["passage"] == pages
    assert counts.inserts["evidence"] == 1 and counts.inserts["review_task"] == 1
    # start, origin page, two discovery rounds, two fetch rounds, rank+route: at most 7,
    # however many pages (one transaction per page and per step before)
    assert counts.write_transactions <= 7 < fetches
    assert counts.read_transactions >= 5  # the read-only steps (no write lock on SQLite)
