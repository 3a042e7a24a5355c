from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from evidence import claims
from evidence.errors import BadInput, ImportRowError
from evidence.models import AuditEvent, Claim
from tests.factories import make_claim, random_claim_text

EXAMPLE = "North Korea directly contacted the US seeking talks, its first such direct offer"


def count(engine, model=Claim) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


# -- pure -----------------------------------------------------------------------------------


def test_normalize_quotes_whitespace_and_nfc() -> None:
    raw = "  \u201cFirst\u201d   offer\u2014ever,\n it\u2019s   Cafe\u0301 "
    assert claims.normalize(raw) == '"First" offer-ever, it\'s Caf\u00e9'


def test_fingerprint_ignores_case_punctuation_and_spacing() -> None:
    a = claims.fingerprint(claims.normalize("North Korea offered talks."))
    b = claims.fingerprint(claims.normalize("north  korea offered TALKS"))
    c = claims.fingerprint(claims.normalize("South Korea offered talks"))
    assert a == b
    assert a != c


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2018-03-03", date(2018, 3, 3)),
        ("3 March 2018", date(2018, 3, 3)),
        ("March 3, 2018", date(2018, 3, 3)),
        (None, None),
        ("", None),
    ],
)
def test_parse_date_accepts_unambiguous_forms(value: str | None, expected: date | None) -> None:
    assert claims.parse_date(value) == expected


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"text": "   "}, "empty"),
        ({"text": "x" * 2001}, "limit is 2000"),
        ({"text": "ok", "url": "ftp://example.org/a"}, "not an http"),
        ({"text": "ok", "url": "javascript:alert(1)"}, "not an http"),
        ({"text": "ok", "claim_date": "03/04/2018"}, "not a date"),
    ],
)
def test_bad_input_is_refused_with_a_reason(kwargs: dict[str, str], needle: str) -> None:
    with pytest.raises(BadInput, match=needle):
        claims.make_create(**kwargs)  # type: ignore[arg-type]


def test_a_claim_date_in_the_future_is_refused() -> None:
    today = datetime.now(UTC).date()
    # "today" somewhere east of UTC is tomorrow in UTC: accepted
    assert claims.make_create(text="ok", claim_date=today + timedelta(days=1)).claim_date
    assert claims.make_create(text="ok", claim_date=today.isoformat()).claim_date == today
    later = (today + timedelta(days=2)).isoformat()
    with pytest.raises(BadInput, match=f"The date '{later}' is in the future") as refused:
        claims.make_create(text="ok", claim_date=later)
    assert str(refused.value).count(".") == 1  # one sentence
    with pytest.raises(BadInput, match="in the future"):
        claims.validate(claims.ClaimCreate(text="ok", claim_date=today + timedelta(days=30)))


# -- database -------------------------------------------------------------------------------


def test_add_claim_records_it_and_an_audit_event(db) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        claim = make_claim(s, text=EXAMPLE, claimant="Donald Trump", claim_date="2018-03-03")
        s.commit()
    with Session(db.engine, expire_on_commit=False) as s:
        stored = s.get(Claim, claim.id)
        assert stored is not None
        assert stored.text == EXAMPLE
        assert stored.claim_date == date(2018, 3, 3)
        assert stored.created_at.tzinfo is not None
        events = s.exec(select(AuditEvent)).all()
        assert [e.action for e in events] == ["claim.added"]
        assert events[0].subject == f"claim:{claim.id}"


def test_exact_duplicate_returns_existing_id(db) -> None:  # type: ignore[no-untyped-def]
    text = random_claim_text()
    with Session(db.engine, expire_on_commit=False) as s:
        first = claims.add_claim(s, claims.make_create(text=text), actor="t")
        again = claims.add_claim(s, claims.make_create(text=f"  {text.upper()}. "), actor="t")
        s.commit()
    assert first.created and not again.created
    assert again.claim.id == first.claim.id
    assert count(db.engine) == 1
    assert count(db.engine, AuditEvent) == 1


# -- CLI ------------------------------------------------------------------------------------


def test_cli_add_list_show(db, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli(
        "claim",
        "add",
        EXAMPLE,
        "--url",
        "https://example.org/article",
        "--claimant",
        "Donald Trump",
        "--date",
        "2018-03-03",
    )
    assert r.code == 0, r.err
    claim_id = int(r.out.strip())
    again = cli("claim", "add", EXAMPLE)
    assert again.code == 0 and int(again.out.strip()) == claim_id
    assert "Already known" in again.err
    listed = [json.loads(line) for line in cli("claim", "list", "--json").out.splitlines()]
    assert [c["id"] for c in listed] == [claim_id]
    shown = json.loads(cli("claim", "show", str(claim_id), "--json").out)
    assert shown["claimant"] == "Donald Trump" and shown["status"] == "new"
    assert shown["evidence"] == []
    human = cli("claim", "show", str(claim_id))
    assert "Donald Trump" in human.out and "no evidence yet" in human.out


@pytest.mark.parametrize(
    "args,needle",
    [
        (["claim", "add", "  "], "empty"),
        (["claim", "add", "x" * 2001], "limit"),
        (["claim", "add", "ok", "--url", "file:///etc/passwd"], "http(s)"),
        (["claim", "add", "ok", "--date", "yesterday-ish"], "not a date"),
        (["claim", "add", "ok", "--frobnicate", "1"], "No such option"),
        (["claim", "show", "424242"], "No claim with id 424242"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(db, cli, args, needle) -> None:  # type: ignore[no-untyped-def]
    r = cli(*args)
    assert r.code == 2
    assert needle in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert count(db.engine) == 0
    assert count(db.engine, AuditEvent) == 0


def test_cli_import_jsonl_and_csv(db, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    jsonl = tmp_path / "claims.jsonl"
    texts = [random_claim_text() for _ in range(3)]
    jsonl.write_text("\n".join(json.dumps({"text": t, "claimant": "A"}) for t in texts) + "\n")
    r = cli("claim", "import", str(jsonl), "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["added"] == 3
    csv_file = tmp_path / "claims.csv"
    csv_file.write_text(
        f'text,url,date\n"{texts[0]}",,\n"{random_claim_text()}",https://a.example/x,2020-01-02\n'
    )
    r = cli("claim", "import", str(csv_file), "--json")
    assert json.loads(r.out) | {"ids": None} == {"ids": None, "added": 1, "known": 1}
    assert count(db.engine) == 4


@pytest.mark.parametrize(
    "suffix,body,line",
    [
        (".jsonl", '{"text": "fine claim one"}\n{"text": ""}\n', 2),
        (".jsonl", '{"text": "fine claim one"}\n\n{"text": "ok", "date": "bad"}\n', 3),
        (".jsonl", '{"text": "fine claim one"}\nnot json\n', 2),
        (".jsonl", '{"text": "fine claim one", "colour": "red"}\n', 1),
        (".csv", "text,url\nfine claim one,\nsecond,ftp://x\n", 3),
    ],
)
def test_import_is_all_or_nothing_and_names_the_line(db, cli, tmp_path, suffix, body, line) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"bad{suffix}"
    path.write_text(body)
    r = cli("claim", "import", str(path))
    assert r.code == 2
    assert f"line {line}:" in r.err
    assert count(db.engine) == 0


def test_import_parse_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "a"}\n[1, 2]\n')
    with pytest.raises(ImportRowError) as info:
        claims.parse_import(path)
    assert info.value.line == 2


def test_cli_prints_rich_markup_in_claims_as_text(db, cli) -> None:  # type: ignore[no-untyped-def]
    hostile = "Tariffs rose [bold red]40%[/] under [/link] the treaty"
    claim_id = int(cli("claim", "add", hostile).out.strip())
    shown = cli("claim", "show", str(claim_id))
    assert shown.code == 0 and hostile in shown.out


def test_near_duplicate_shows_the_original_and_its_verdict(db, cli) -> None:  # type: ignore[no-untyped-def]
    from evidence.models import Verdict
    from evidence.types import utcnow

    first = int(
        cli("claim", "add", "North Korea offered direct talks to the United States in 2018").out
    )
    with Session(db.engine) as s:
        s.add(
            Verdict(
                claim_id=first,
                rating="false",
                rationale="r",
                reviewer="rita",
                state="published",
                published_at=utcnow(),
            )
        )
        s.commit()
    r = cli("claim", "add", "In 2018 North Korea offered the United States direct talks")
    second = int(r.out)
    assert second != first and f"Near-duplicate of claim {first}" in r.err
    shown = json.loads(cli("claim", "show", str(second), "--json").out)
    assert shown["status"] == "duplicate"
    assert shown["duplicate_of"]["id"] == first and shown["duplicate_of"]["verdict"] == "false"
    human = cli("claim", "show", str(second)).out
    assert f"near-duplicate of claim {first}" in human and "verdict false" in human
