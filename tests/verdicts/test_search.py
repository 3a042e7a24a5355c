"""Full-text search and filters over every claim, and the editors' bulk actions, on SQLite
(FTS5 kept in sync by triggers) and PostgreSQL (tsvector over GIN indexes)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from evidence import audit, claims
from evidence.audit.check import verify_audit
from evidence.db import session_scope
from evidence.errors import BadInput
from evidence.models import Claim, ReviewTask, Verdict
from tests.factories import make_claim, make_evidence
from verdicts import queue, search
from verdicts.search import ClaimFilter


def _ids(session: Session, **kw: str) -> set[int]:
    return {row.id for row in search.search_claims(session, ClaimFilter(**kw)).rows}


def test_text_search_finds_claims_by_their_text_and_by_their_evidence(db) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.engine) as s:
        talks = make_claim(s, text="North Korea offered direct talks to the United States")
        harbour = make_claim(s, text="The harbour tunnel cost twice its budget")
        make_evidence(s, harbour, passage="Auditors found the tunnel overran by 300 million")
        other = make_claim(s, text="A lighthouse keeper union won a raise in 2019")
    with session_scope(db.engine) as s:
        assert _ids(s, q="korea talks") == {talks.id}
        assert _ids(s, q="talk") == {talks.id}  # stemmed: "talks" matches "talk"
        assert _ids(s, q="overran million") == {harbour.id}  # only the evidence says so
        assert _ids(s, q="tunnel") == {harbour.id}
        assert _ids(s, q="korea tunnel") == set()  # every word must match
        assert _ids(s, q="") == {talks.id, harbour.id, other.id}


@pytest.mark.parametrize(
    "q", ['"', "NEAR(a b", "tunnel*", "-tunnel", "a OR", "'; DROP TABLE claim"]
)
def test_what_a_user_types_is_never_query_syntax(db, q: str) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.engine) as s:
        make_claim(s, text="The harbour tunnel cost twice its budget")
    with session_scope(db.engine) as s:
        found = search.search_claims(s, ClaimFilter(q=q))
        assert found.total == len(found.rows)
        assert s.exec(select(Claim)).all()  # still there


def test_search_follows_edits_of_the_claim_text(db) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.engine) as s:
        claim = make_claim(s, text="The harbour tunnel cost twice its budget")
    with session_scope(db.engine) as s:
        row = s.get(Claim, claim.id)
        assert row is not None
        row.text = "The harbour bridge cost twice its budget"
        s.add(row)
    with session_scope(db.engine) as s:
        assert _ids(s, q="tunnel") == set()
        assert _ids(s, q="bridge") == {claim.id}


def test_filters_combine_and_pages_count_the_whole(db) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.engine) as s:
        made = [
            make_claim(s, text=f"Budget claim number {word}", claimant="Ann Lee")
            for word in ("alpha", "bravo", "charlie", "delta", "echo")
        ]
        loner = make_claim(s, text="Budget claim from someone else", claimant="Bo Ray")
        search.add_tag(s, [made[0].id, made[1].id, loner.id], "budget", actor="test")  # type: ignore[list-item]
        queue.enqueue(s, made[0].id, actor="test")  # type: ignore[arg-type]
        first = s.get(Claim, made[0].id)
        assert first is not None
        first.status = "queued"
        s.add(first)
    with session_scope(db.engine) as s:
        assert _ids(s, claimant="ann lee", tag="budget") == {made[0].id, made[1].id}
        assert _ids(s, claimant="Ann Lee", status="queued") == {made[0].id}
        assert _ids(s, q="budget", status="new", claimant="Bo Ray") == {loner.id}
        page = search.search_claims(s, ClaimFilter(q="budget"), limit=4, offset=4)
        assert page.total == 6 and len(page.rows) == 2
        everyone = search.search_claims(s, ClaimFilter(), limit=10)
        assert [r.id for r in everyone.rows] == sorted((c.id for c in [*made, loner]), reverse=True)  # type: ignore[type-var]
        with pytest.raises(BadInput):
            search.search_claims(s, ClaimFilter(status="nonsense"))


def test_rows_show_the_duplicates_original_and_the_published_rating(db) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.engine) as s:
        original = make_claim(s, text="The mayor doubled the parks budget in 2020")
        copy = make_claim(s, text="Mayor doubled parks budget, 2020, says blog")
        copy.status, copy.duplicate_of_id = "duplicate", original.id
        original.status = "published"
        s.add_all([copy, original])
        s.add(
            Verdict(
                claim_id=original.id,
                rating="false",
                rationale="r",
                reviewer="x",
                state="superseded",
            )
        )  # type: ignore[arg-type]
        s.add(Verdict(claim_id=original.id, rating="mostly-true", rationale="r", reviewer="x"))  # type: ignore[arg-type]
    with session_scope(db.engine) as s:
        rows = {r.id: r for r in search.search_claims(s, ClaimFilter()).rows}
    assert rows[copy.id].duplicate_of_id == original.id  # type: ignore[index]
    assert rows[copy.id].duplicate_of_text == original.text  # type: ignore[index]
    assert rows[original.id].rating == "mostly-true"  # type: ignore[index]
    assert rows[copy.id].rating is None  # type: ignore[index]


def test_bulk_actions_change_only_what_they_say(db) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.engine) as s:
        fresh = make_claim(s, text="Fresh claim about ferry fares rising")
        queued = make_claim(s, text="Queued claim about bus fares falling")
        queue.enqueue(s, queued.id, actor="test")  # type: ignore[arg-type]
        queued.status = "queued"
        s.add(queued)
    ids = [fresh.id, queued.id]
    with session_scope(db.engine) as s:
        assert search.set_priority(s, ids, 7, actor="test") == (1, 1)  # type: ignore[arg-type]
        assert search.add_tag(s, ids, "  transport ", actor="test") == 2  # type: ignore[arg-type]
        assert search.add_tag(s, ids, "transport", actor="test") == 0  # type: ignore[arg-type]
        assert search.request_verification(s, ids, actor="test") == (1, 1)  # type: ignore[arg-type]
        with pytest.raises(BadInput):
            search.set_priority(s, ids, 10**6, actor="test")  # type: ignore[arg-type]
        with pytest.raises(BadInput):
            search.add_tag(s, [], "x", actor="test")
    with session_scope(db.engine) as s:
        task = s.exec(select(ReviewTask).where(ReviewTask.claim_id == queued.id)).one()
        assert task.priority == 7
        tags = {c.id: c.tags for c in s.exec(select(Claim)).all()}
        assert tags[fresh.id] == ["transport", search.VERIFY_REQUESTED]
        assert tags[queued.id] == ["transport"]
        requested = search.claim_ids(s, ClaimFilter(tag=search.VERIFY_REQUESTED))
        assert requested == [fresh.id]
        rows = {r.id: r for r in search.search_claims(s, ClaimFilter()).rows}
        assert rows[fresh.id].verify_requested and not rows[queued.id].verify_requested  # type: ignore[index]
        assert rows[queued.id].priority == 7  # type: ignore[index]


def test_fts5_query_quotes_every_word() -> None:
    assert search.fts5_query('tunnel* "NEAR" -x') == '"tunnel" "NEAR" "x"'
    assert search.fts5_query("?!") == ""


def test_verify_batch_picks_stored_claims_and_refuses_a_muddle(db, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = f"dir={tmp_path}"
    both = cli("verify-batch", str(tmp_path / "x.jsonl"), "--status", "new", "--source", source)
    assert both.code == 2 and "not both" in both.err
    unknown = cli("verify-batch", "--claim-ids", "424242", "--source", source)
    assert unknown.code == 2 and "424242" in unknown.err
    nothing = cli("verify-batch", "--tag", search.VERIFY_REQUESTED, "--source", source)
    assert nothing.code == 0 and "nothing to verify" in nothing.out


def test_bulk_changes_are_audited_so_the_chain_still_vouches_for_the_rows(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.engine) as s:
        data = claims.make_create(text="The ferry fare doubled in a single year")
        claim_id = claims.add_claim(s, data, actor="test").claim.id
        assert claim_id is not None
        queue.enqueue(s, claim_id, actor="test")
    with session_scope(db.engine) as s:
        assert search.add_tag(s, [claim_id], "transport", actor="web:erin") == 1
        assert search.set_priority(s, [claim_id], 9, actor="web:erin") == (1, 0)
    report = verify_audit(db.engine, warc_dir=tmp_path)
    assert report.ok, report.reason
    with session_scope(db.engine) as s:
        actions = [e.action for e in audit.events_for(s, f"claim:{claim_id}")]
    assert "claim.tagged" in actions and "task.priority" in actions
