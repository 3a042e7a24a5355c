"""Evidence bundles: export a real trail, check it offline, and catch every kind of forgery.

Forgeries re-sign the manifest (recompute its digests) the way someone holding the bundle
could, so what catches them is the deeper check: event hashes, the chained page digests,
the replayed extraction, the chain segment.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from evidence import db as dbmod
from evidence.models import Fetch
from evidence.settings import get_settings
from flows.bundle import check_bundle, export_bundle
from tests.flows.audit_fixtures import (
    build_trail,
    page_server,  # noqa: F401 - fixture
    rewrite_record,
)


@pytest.fixture
def trail(db, page_server):  # type: ignore[no-untyped-def]  # noqa: F811
    return build_trail(db.engine, page_server, [21, 22], verdict=True)


@pytest.fixture
def bundle(db, cli, trail, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path / "bundle"
    r = cli("audit", "export", str(trail.claim_id), "--out", str(out))
    assert r.code == 0, r.err
    return out


def _read(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _write(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2), "utf-8")


def resign(bundle: Path) -> None:
    """Recompute the manifest's digests, as a forger holding the bundle would."""
    manifest = _read(bundle / "manifest.json")
    for name, entry in manifest["files"].items():
        entry["sha256"] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
        entry["bytes"] = (bundle / name).stat().st_size
    _write(bundle / "manifest.json", manifest)


def _first_problem(cli, bundle: Path) -> str:  # type: ignore[no-untyped-def]
    r = cli("audit", "check-bundle", str(bundle))
    assert r.code == 1, r.out
    assert r.err.startswith("Bundle check failed: ")
    return str(r.err)


def test_bundle_holds_everything_and_checks(db, cli, trail, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    names = {p.name for p in bundle.iterdir()}
    assert names == {
        "manifest.json",
        "claim.json",
        "evidence.json",
        "verdicts.json",
        "events.json",
        "chain.jsonl",
        "pages.warc.gz",
        "claimreview.json",
    }
    manifest = _read(bundle / "manifest.json")
    assert manifest["claim_id"] == trail.claim_id and set(manifest["files"]) == names - {
        "manifest.json"
    }
    assert _read(bundle / "claim.json")["id"] == trail.claim_id
    evidence = _read(bundle / "evidence.json")
    assert [e["id"] for e in evidence["evidence"]] == trail.evidence_ids
    assert {f["id"] for f in evidence["fetches"]} == set(trail.fetch_ids)
    verdicts = _read(bundle / "verdicts.json")
    assert [v["id"] for v in verdicts] == [trail.verdict_id]
    assert _read(bundle / "claimreview.json")["@type"] == "ClaimReview"
    actions = [e["action"] for e in _read(bundle / "events.json")["events"]]
    assert "verdict.decided" in actions and actions.count("fetch.recorded") == 2
    r = cli("audit", "check-bundle", str(bundle), "--json")
    report = json.loads(r.out)
    assert r.code == 0 and report["ok"], report["problems"]
    assert report["pages"] == 2 and report["passages"] == len(evidence["passages"]) > 2
    assert report["segment_events"] >= report["events"] == len(actions)
    assert "Bundle intact" in cli("audit", "check-bundle", str(bundle)).out


def test_warc_records_are_byte_copies(db, trail, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    copied = (bundle / "pages.warc.gz").read_bytes()
    placed = {f["id"]: f["bundle"] for f in _read(bundle / "evidence.json")["fetches"]}
    with Session(db.engine) as session:
        for fetch_id in trail.fetch_ids:
            row = session.get(Fetch, fetch_id)
            assert row and row.warc_file and row.warc_offset is not None and row.warc_length
            original = (db.data_dir / "warc" / row.warc_file).read_bytes()
            source = original[row.warc_offset : row.warc_offset + row.warc_length]
            where = placed[fetch_id]
            assert copied[where["offset"] : where["offset"] + where["length"]] == source
    assert sum(p["length"] for p in placed.values()) == len(copied)


def test_check_bundle_never_opens_a_database(
    db, cli, bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    moved = tmp_path / "elsewhere" / "bundle"
    shutil.copytree(bundle, moved)
    shutil.rmtree(db.data_dir / "warc")  # the archive is gone: the bundle must suffice
    nowhere = tmp_path / "no-such-dir"
    monkeypatch.setenv("FACTCHECK_DATABASE_URL", f"sqlite:///{nowhere / 'factcheck.db'}")
    monkeypatch.setenv("FACTCHECK_DATA_DIR", str(nowhere))
    get_settings.cache_clear()
    dbmod._cached_engine.cache_clear()
    r = cli("audit", "check-bundle", str(moved))
    assert r.code == 0, r.err
    # opening the database would have created its directory (make_engine) and file
    assert not nowhere.exists()
    assert dbmod._cached_engine.cache_info().currsize == 0


def test_altered_file_is_named(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    claim = _read(bundle / "claim.json")
    claim["text"] = "Something nobody ever claimed"
    _write(bundle / "claim.json", claim)
    err = _first_problem(cli, bundle)
    assert "claim.json: its SHA-256 is " in err and "the manifest says" in err


def test_altered_event_is_named(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    doc = _read(bundle / "events.json")
    decided = next(e for e in doc["events"] if e["action"] == "verdict.decided")
    decided["payload"]["rating"] = "true"
    _write(bundle / "events.json", doc)
    resign(bundle)
    err = _first_problem(cli, bundle)
    expected = f"events.json: event {decided['seq']} (verdict.decided): its content does not"
    assert expected in err


def test_rehashed_forged_event_breaks_the_links(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    from evidence.audit import compute_hash
    from flows.bundle import event_from_json

    doc = _read(bundle / "events.json")
    decided = next(e for e in doc["events"] if e["action"] == "verdict.decided")
    decided["actor"] = "user:mallory"
    ev = event_from_json(decided)
    decided["hash"] = compute_hash(**{k: getattr(ev, k) for k in ev._fields if k != "hash"})
    _write(bundle / "events.json", doc)
    resign(bundle)
    seq = decided["seq"]
    r = cli("audit", "check-bundle", str(bundle), "--json")
    problems = json.loads(r.out)["problems"]
    assert r.code == 1
    # the event after it (also the claim's) no longer links to it, and the chain disagrees
    assert (
        problems[0] == f"events.json: event {seq + 1}: its previous-hash does not match event {seq}"
    )
    assert f"chain.jsonl: event {seq} differs from the same event in events.json" in problems


def test_left_out_event_is_named(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    doc = _read(bundle / "events.json")
    dropped = next(e for e in doc["events"] if e["action"] == "task.leased")
    doc["events"].remove(dropped)
    _write(bundle / "events.json", doc)
    resign(bundle)
    err = _first_problem(cli, bundle)
    assert f"events.json: event {dropped['seq']} about {dropped['subject']} is in the chain" in err


def test_forged_warc_record_is_named(cli, trail, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    fetches = _read(bundle / "evidence.json")["fetches"]
    last = max(fetches, key=lambda f: f["bundle"]["offset"])  # re-gzip keeps others in place
    place = last["bundle"]
    rewrite_record(
        bundle / "pages.warc.gz", place["offset"], place["length"], b"council", b"mayors!"
    )
    resign(bundle)
    err = _first_problem(cli, bundle)
    assert f"pages.warc.gz: the page of fetch {last['id']} (" in err
    assert f"recorded {last['sha256']}" in err


def test_corrupted_warc_bytes_are_named(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    fetches = _read(bundle / "evidence.json")["fetches"]
    first = min(fetches, key=lambda f: f["bundle"]["offset"])
    data = bytearray((bundle / "pages.warc.gz").read_bytes())
    data[first["bundle"]["offset"] + first["bundle"]["length"] // 2] ^= 0xFF
    (bundle / "pages.warc.gz").write_bytes(bytes(data))
    resign(bundle)
    err = _first_problem(cli, bundle)
    assert f"pages.warc.gz: the record of fetch {first['id']} is unreadable" in err or (
        f"pages.warc.gz: the page of fetch {first['id']} (" in err
    )


def test_altered_passage_text_fails_replay(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    doc = _read(bundle / "evidence.json")
    passage = doc["passages"][1]
    passage["text"] = passage["text"].replace("the", "no", 1)
    passage["sha256"] = hashlib.sha256(passage["text"].encode()).hexdigest()
    _write(bundle / "evidence.json", doc)
    resign(bundle)
    err = _first_problem(cli, bundle)
    expected = (
        f"evidence.json: passage {passage['id']} (fetch {passage['fetch_id']}, "
        f"#{passage['ordinal']}): its text differs from the replay"
    )
    assert expected in err


def test_shifted_passage_offsets_fail_replay(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    doc = _read(bundle / "evidence.json")
    passage = doc["passages"][0]
    passage["start"] += 1
    _write(bundle / "evidence.json", doc)
    resign(bundle)
    assert "its offsets differ from the replay" in _first_problem(cli, bundle)


def test_unlisted_file_is_named(cli, bundle: Path) -> None:  # type: ignore[no-untyped-def]
    (bundle / "note.txt").write_text("trust me")
    assert "note.txt: the file is not listed in the manifest" in _first_problem(cli, bundle)


def test_export_without_segment_or_verdict(db, cli, page_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    trail = build_trail(db.engine, page_server, [23], verdict=False)
    out = tmp_path / "plain"
    r = cli("audit", "export", str(trail.claim_id), "--out", str(out), "--no-segment", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["pages"] == 1
    assert not (out / "chain.jsonl").exists() and not (out / "claimreview.json").exists()
    report = check_bundle(out)
    assert report.ok and report.segment_events == 0 and report.pages == 1


def test_export_refuses_a_non_empty_directory(db, cli, trail, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    r = cli("audit", "export", str(trail.claim_id), "--out", str(tmp_path / "busy"))
    assert r.code == 2 and "is not empty" in r.err
    with pytest.raises(Exception, match="No claim with id 999"):
        export_bundle(db.engine, 999, tmp_path / "none", warc_dir=db.data_dir / "warc", actor="t")
    assert not (tmp_path / "none").exists()


def test_check_bundle_of_a_non_bundle(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("audit", "check-bundle", str(tmp_path / "missing")).code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "manifest.json: the file is missing" in _first_problem(cli, empty)


def test_gzip_members_concatenate(bundle: Path) -> None:  # type: ignore[no-untyped-def]
    # every copied record is a whole gzip member, so the file is one valid .warc.gz
    text = gzip.decompress((bundle / "pages.warc.gz").read_bytes())
    assert text.count(b"WARC-Type: response") == 2


def test_export_with_archive_gone_leaves_nothing(db, cli, trail, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.rmtree(db.data_dir / "warc")
    out = tmp_path / "half"
    r = cli("audit", "export", str(trail.claim_id), "--out", str(out))
    assert r.code == 1 and "is gone" in r.err
    assert not out.exists()
