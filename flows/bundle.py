"""Evidence bundles: one claim's record, exported to a directory that proves itself offline.

``export_bundle(engine, claim_id, out)`` writes::

    manifest.json     format, claim id, who and when, SHA-256 and size of every other file,
                      the chain head at export time
    claim.json        the claim
    evidence.json     its evidence rows, the passages of every cited fetch (all of them, in
                      order), those fetches and their documents
    verdicts.json     every verdict on the claim, in order
    events.json       the claim's audit trail: its events and the events of the fetches
                      behind it, each with seq, time, actor, action, subject, payload,
                      previous hash and hash
    chain.jsonl       (unless ``segment=False``) the contiguous piece of the chain from the
                      trail's first event to its last: the trail's events in full, every
                      other event reduced to seq, subject, previous hash, content digest and
                      hash (hash rule 2), or to seq and hashes alone for an older rule-1
                      event, so one claim's bundle discloses nothing of another's work
    pages.warc.gz     the WARC response record of every cited fetch, copied byte for byte
                      from the archive (each record is its own gzip member)
    claimreview.json  the ClaimReview JSON-LD, when a verdict is published

``check_bundle(dir)`` needs nothing but the directory: no database, no network. It checks,
in this order, and lists every problem (the CLI names the first):

1. every event's hash recomputed from its content and previous hash; events with
   consecutive numbers linked; the segment contiguous, linked, holding every trail event
   unchanged and no trail event that events.json left out;
2. every bundled fetch has a ``fetch.recorded`` event carrying the same SHA-256, and the
   archived record's payload (content coding undone) has that SHA-256;
3. replay: the passages re-extracted (``sources.extract``) from the archived bytes equal
   the recorded ones: ids, texts, offsets, count;
4. evidence, verdicts and events agree (each evidence row's passage is bundled, each
   verdict's evidence is bundled, each decided verdict's rating is the one recorded);
5. every file's SHA-256 equals the manifest's, and no file is missing or unlisted;
6. re-derivation: the claim, evidence, passage and verdict rows equal what the latest event
   in events.json recorded of each (``evidence.audit.rows``), every row those events
   recorded is bundled, and claimreview.json equals the document rebuilt from claim.json
   and verdicts.json with the manifest's publisher and rating values.

``check_bundle(dir, expect=DIGEST)`` also compares the manifest's own SHA-256 with the one
``export_bundle`` printed, which is what ties every file to the export.

What it cannot prove: that the bundle came from our database (anyone with the code can build
a consistent bundle); tie it to the live system by checking an event's hash there
(``factcheck audit verify --anchor SEQ:HASH``) or by comparing the manifest's SHA-256, printed
at export, with a copy kept elsewhere. See docs/audit.md.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from evidence import audit, claims
from evidence.archive import ArchiveError, read_record, record_length, resolve_file
from evidence.audit import rows as vouch
from evidence.errors import BadInput, NotFound
from evidence.models import (
    AuditEvent,
    Claim,
    Document,
    Evidence,
    Fetch,
    Passage,
    Verdict,
)
from evidence.settings import get_settings
from evidence.types import utcnow
from sources.extract import extract
from verdicts.claimreview import (
    NoPublishedVerdict,
    ReviewOptions,
    build,
    claimreview_jsonld,
    current_of,
)

BUNDLE_FORMAT = "factcheck-bundle/2"
READABLE_FORMATS = ("factcheck-bundle/1", BUNDLE_FORMAT)
MANIFEST = "manifest.json"
CLAIM_FILE = "claim.json"
EVIDENCE_FILE = "evidence.json"
VERDICTS_FILE = "verdicts.json"
EVENTS_FILE = "events.json"
SEGMENT_FILE = "chain.jsonl"
WARC_FILE = "pages.warc.gz"
CLAIMREVIEW_FILE = "claimreview.json"
_COPY_BLOCK = 1 << 20


class BundleError(BadInput):
    """The bundle cannot be written (target not empty) or read at all (no manifest)."""


# -- reading bundled events -----------------------------------------------------------------


def reduced_json(ev: Any) -> dict[str, Any]:
    """Another subject's event as a bundle carries it: what linking needs, no content."""
    if audit.hash_rule(ev.payload) == 2:
        return {
            "seq": ev.seq,
            "v": 2,
            "subject": ev.subject,
            "prev_hash": ev.prev_hash,
            "digest": audit.event_digest(ev),
            "hash": ev.hash,
        }
    return {"seq": ev.seq, "v": 1, "withheld": True, "prev_hash": ev.prev_hash, "hash": ev.hash}


def segment_event(data: dict[str, Any]) -> Any:
    """A chain.jsonl line as an event: full, reduced (rule 2) or withheld (rule 1)."""
    if "digest" in data and "payload" not in data:
        return audit.ReducedEvent(
            int(data["seq"]), data["subject"], data["prev_hash"], data["digest"], data["hash"]
        )
    if data.get("withheld"):
        return audit.WithheldEvent(int(data["seq"]), data["prev_hash"], data["hash"])
    return event_from_json(data)


def event_from_json(data: dict[str, Any]) -> audit.EventRow:
    return audit.EventRow(
        seq=data["seq"],
        at=datetime.fromisoformat(data["at"]),
        actor=data["actor"],
        action=data["action"],
        subject=data["subject"],
        payload=data["payload"],
        prev_hash=data["prev_hash"],
        hash=data["hash"],
    )


# -- exporting ------------------------------------------------------------------------------


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n", "utf-8")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_COPY_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _row(obj: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in obj.model_dump(mode="json").items() if k not in exclude}


@dataclass(frozen=True)
class ExportResult:
    out: Path
    files: list[str]
    manifest_sha256: str
    events: int
    fetches: int


def _cited_rows(session: Session, claim_id: int) -> dict[str, list[Any]]:
    evidence = session.exec(
        select(Evidence)
        .where(Evidence.claim_id == claim_id)
        .order_by(col(Evidence.rank), col(Evidence.id))
    ).all()
    passage_ids = {e.passage_id for e in evidence}
    fetch_ids = set(
        session.exec(select(Passage.fetch_id).where(col(Passage.id).in_(passage_ids))).all()
    )
    fetches = session.exec(
        select(Fetch).where(col(Fetch.id).in_(fetch_ids)).order_by(col(Fetch.id))
    ).all()
    passages = session.exec(
        select(Passage)
        .where(col(Passage.fetch_id).in_(fetch_ids))
        .order_by(col(Passage.fetch_id), col(Passage.ordinal))
    ).all()
    doc_ids = {f.document_id for f in fetches if f.document_id is not None}
    documents = session.exec(select(Document).where(col(Document.id).in_(doc_ids))).all()
    return {
        "evidence": list(evidence),
        "fetches": list(fetches),
        "passages": list(passages),
        "documents": list(documents),
    }


def _copy_records(fetches: list[Fetch], warc_dir: Path, out: Path) -> dict[int, dict[str, Any]]:
    """Copy each fetch's response record into one WARC; where each landed, by fetch id."""
    placed: dict[int, dict[str, Any]] = {}
    with out.open("wb") as sink:
        for fetch in fetches:
            if fetch.id is None or not fetch.warc_file or fetch.warc_offset is None:
                continue
            source = resolve_file(fetch.warc_file, warc_dir)
            if not source.is_file():
                raise ArchiveError(f"The WARC file {fetch.warc_file} of fetch {fetch.id} is gone.")
            length = fetch.warc_length or record_length(source, fetch.warc_offset)
            offset = sink.tell()
            with source.open("rb") as fh:
                fh.seek(fetch.warc_offset)
                remaining = length
                while remaining > 0 and (block := fh.read(min(_COPY_BLOCK, remaining))):
                    sink.write(block)
                    remaining -= len(block)
            placed[fetch.id] = {"file": WARC_FILE, "offset": offset, "length": sink.tell() - offset}
    return placed


def _evidence_document(
    rows: dict[str, list[Any]], placed: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    fetches = []
    for fetch in rows["fetches"]:
        item = _row(fetch)
        item["archive"] = {
            "file": fetch.warc_file,
            "offset": fetch.warc_offset,
            "length": fetch.warc_length,
        }
        item["bundle"] = placed.get(fetch.id)
        fetches.append(item)
    return {
        "evidence": [_row(e) for e in rows["evidence"]],
        "passages": [_row(p) for p in rows["passages"]],
        "fetches": fetches,
        "documents": [_row(d) for d in rows["documents"]],
    }


def _claimreview(session: Session, claim_id: int) -> dict[str, Any] | None:
    try:
        return claimreview_jsonld(session, claim_id)
    except NoPublishedVerdict:
        return None


def _write_segment(engine: Engine, first: int, last: int, path: Path, trail: set[int]) -> int:
    """The chain from ``first`` to ``last``: the trail's events in full, the rest reduced."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for ev in audit.iter_event_range(engine, first, last):
            item = audit.event_json(ev) if ev.seq in trail else reduced_json(ev)
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
            count += 1
    return count


def _chain_head(session: Session) -> dict[str, Any] | None:
    last = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)).first()
    return {"seq": last.seq, "hash": last.hash} if last else None


@dataclass(frozen=True)
class _Gathered:
    """Everything a bundle holds that comes from the database, read in one session."""

    claim: dict[str, Any]
    events: list[AuditEvent]
    rows: dict[str, list[Any]]
    verdicts: list[dict[str, Any]]
    claimreview: dict[str, Any] | None
    head: dict[str, Any] | None


def _gather(engine: Engine, claim_id: int) -> _Gathered:
    with Session(engine) as session:
        claim = claims.get_claim(session, claim_id)
        verdicts = session.exec(
            select(Verdict).where(Verdict.claim_id == claim_id).order_by(col(Verdict.id))
        ).all()
        return _Gathered(
            claim=_row(claim),
            events=[entry.event for entry in audit.claim_timeline(session, claim_id)],
            rows=_cited_rows(session, claim_id),
            verdicts=[_row(v) for v in verdicts],
            claimreview=_claimreview(session, claim_id),
            head=_chain_head(session),
        )


def _write_manifest(
    out: Path, claim_id: int, actor: str, chain: dict[str, Any], options: dict[str, Any]
) -> list[str]:
    files = sorted(p.name for p in out.iterdir() if p.is_file())
    manifest = {
        "format": BUNDLE_FORMAT,
        "claim_id": claim_id,
        "created_at": audit.hashed_time(utcnow()),
        "created_by": actor,
        "chain": chain,
        "claimreview": options,
        "files": {
            name: {"sha256": file_sha256(out / name), "bytes": (out / name).stat().st_size}
            for name in files
        },
    }
    _write_json(out / MANIFEST, manifest)
    return [*files, MANIFEST]


def export_bundle(
    engine: Engine,
    claim_id: int,
    out: Path,
    *,
    warc_dir: Path,
    actor: str,
    segment: bool = True,
) -> ExportResult:
    """Write the evidence bundle of ``claim_id`` into ``out`` (created; must be empty).
    A failed export removes what it wrote, so no half bundle is left to be trusted."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BundleError(f"The bundle directory {out} is not empty.")
    data = _gather(engine, claim_id)
    out.mkdir(parents=True, exist_ok=True)
    try:
        placed = _copy_records(data.rows["fetches"], warc_dir, out / WARC_FILE)
        _write_json(out / CLAIM_FILE, data.claim)
        _write_json(out / EVIDENCE_FILE, _evidence_document(data.rows, placed))
        _write_json(out / VERDICTS_FILE, data.verdicts)
        trail = [audit.event_json(e) for e in data.events]
        _write_json(out / EVENTS_FILE, {"claim_id": claim_id, "events": trail})
        segment_range = None
        if segment and data.events:
            first, last = data.events[0].seq, data.events[-1].seq
            _write_segment(engine, first, last, out / SEGMENT_FILE, {e.seq for e in data.events})
            segment_range = {"first_seq": first, "last_seq": last}
        if data.claimreview is not None:
            _write_json(out / CLAIMREVIEW_FILE, data.claimreview)
        subjects = sorted({e.subject for e in data.events} | {f"claim:{claim_id}"})
        chain = {"head_at_export": data.head, "segment": segment_range, "subjects": subjects}
        options = ReviewOptions.from_settings(get_settings()).as_json()
        files = _write_manifest(out, claim_id, actor, chain, options)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    digest = file_sha256(out / MANIFEST)
    return ExportResult(out, files, digest, len(data.events), len(placed))


# -- checking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One mismatch, named by the file and the item in it."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class BundleReport:
    problems: list[Problem] = field(default_factory=list)
    manifest_sha256: str | None = None
    events: int = 0
    segment_events: int = 0
    reduced_events: int = 0  # other subjects' events, reduced to their digests
    withheld_events: int = 0  # older (hash rule 1) events, linked but not recomputable
    rederived: int = 0  # rows compared with what the events recorded of them
    pages: int = 0
    passages: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _load_json(directory: Path, name: str, report: BundleReport) -> Any:
    path = directory / name
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        report.problems.append(Problem(name, "the file is missing"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.problems.append(Problem(name, f"the file is not readable JSON ({exc})"))
    return None


def _event_problem(data: Any) -> tuple[audit.EventRow | None, str | None]:
    try:
        ev = event_from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"an event is malformed ({exc})"
    if audit.rehash(ev) != ev.hash:
        return ev, f"event {ev.seq} ({ev.action}): its content does not match its hash"
    return ev, None


def check_events(items: list[Any], report: BundleReport) -> list[audit.EventRow]:
    """Each event's hash recomputed; neighbours in sequence linked."""
    events: list[audit.EventRow] = []
    for data in items:
        ev, problem = _event_problem(data)
        if problem is not None:
            report.problems.append(Problem(EVENTS_FILE, problem))
        if ev is None:
            continue
        before = events[-1] if events else None
        if before is not None and ev.seq <= before.seq:
            what = f"event {ev.seq} comes after event {before.seq}"
            report.problems.append(Problem(EVENTS_FILE, what))
        elif before is not None and ev.seq == before.seq + 1 and ev.prev_hash != before.hash:
            what = f"event {ev.seq}: its previous-hash does not match event {before.seq}"
            report.problems.append(Problem(EVENTS_FILE, what))
        events.append(ev)
    report.events = len(events)
    return events


def _segment_rows(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError:
                yield number, None


def _segment_line(number: int, data: Any) -> tuple[Any, Problem | None]:
    try:
        return segment_event(data), None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return None, Problem(SEGMENT_FILE, f"line {number}: an event is malformed ({exc})")


def _segment_event_problem(
    ev: Any, listed: audit.EventRow | None, subjects: set[str], strict: bool
) -> Problem | None:
    """What is wrong with one linked segment event given the same event in events.json."""
    if listed is not None:
        if listed.hash != ev.hash:
            return Problem(
                SEGMENT_FILE, f"event {ev.seq} differs from the same event in events.json"
            )
        return None
    if isinstance(ev, audit.WithheldEvent):
        return None
    if ev.subject in subjects:
        what = f"event {ev.seq} about {ev.subject} is in the chain but not in events.json"
        return Problem(EVENTS_FILE, what)
    if strict and not isinstance(ev, audit.ReducedEvent):
        what = (
            f"event {ev.seq} about {ev.subject} is held in full; another subject's event "
            "must be reduced to its digest (it leaks unrelated work)"
        )
        return Problem(SEGMENT_FILE, what)
    return None


def check_segment(
    path: Path,
    trail: list[audit.EventRow],
    subjects: set[str],
    report: BundleReport,
    *,
    strict: bool = True,
) -> None:
    """The segment is a valid piece of chain holding the trail's events, and only those of
    the trail's subjects that events.json also holds (nothing about the claim left out);
    other subjects' events are reduced (``strict``: held in full is a leak)."""
    by_seq = {ev.seq: ev for ev in trail}
    verifier: audit.ChainVerifier | None = None
    for number, data in _segment_rows(path):
        ev, bad = _segment_line(number, data)
        if ev is None:
            report.problems.append(bad or Problem(SEGMENT_FILE, f"line {number}: not JSON"))
            return
        if verifier is None:
            verifier = audit.ChainVerifier(start_seq=ev.seq, prev_hash=ev.prev_hash)
        broken = verifier.check(ev)
        if broken is not None:
            what = f"event {broken.first_bad_seq}: {broken.reason}"
            report.problems.append(Problem(SEGMENT_FILE, what))
            return
        report.reduced_events += isinstance(ev, audit.ReducedEvent)
        report.withheld_events += isinstance(ev, audit.WithheldEvent)
        problem = _segment_event_problem(ev, by_seq.pop(ev.seq, None), subjects, strict)
        if problem is not None:
            report.problems.append(problem)
    report.segment_events = verifier.checked if verifier else 0
    for seq in sorted(by_seq):
        report.problems.append(Problem(SEGMENT_FILE, f"event {seq} of events.json is not in it"))


def replay_passages(payload: bytes, content_type: str | None, url: str | None) -> list[Any]:
    """The passages extraction finds in archived bytes. The pipeline extracts the fetcher's
    text, which is these bytes decoded by ``sources.decode`` with the same content type, so
    extracting the bytes gives the same passages (``sources.extract`` decodes alike)."""

    return list(extract(payload, url=url, content_type=content_type).passages)


def _compare_passages(
    fetch_id: Any, recorded: list[dict[str, Any]], replayed: list[Any]
) -> Problem | None:
    for mine, again in zip(recorded, replayed, strict=False):
        name = f"passage {mine.get('id')} (fetch {fetch_id}, #{mine.get('ordinal')})"
        for ours, theirs, what in (
            (mine.get("key"), again.id, "its id differs"),
            (mine.get("text"), again.text, "its text differs"),
            ((mine.get("start"), mine.get("end")), (again.start, again.end), "its offsets differ"),
        ):
            if ours != theirs:
                return Problem(EVIDENCE_FILE, f"{name}: {what} from the replay")
        if mine.get("sha256") not in (None, hashlib.sha256(again.text.encode()).hexdigest()):
            return Problem(EVIDENCE_FILE, f"{name}: its SHA-256 does not match its text")
    if len(recorded) != len(replayed):
        what = f"fetch {fetch_id}: {len(recorded)} passages recorded, {len(replayed)} replayed"
        return Problem(EVIDENCE_FILE, what)
    return None


def _fetch_events(trail: list[audit.EventRow]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for ev in trail:
        if ev.action in (audit.FetchRecorded.action, audit.PassagesExtracted.action):
            fid = ev.payload.get("fetch_id")
            if isinstance(fid, int):
                found.setdefault(fid, {}).update({ev.action: ev.payload})
    return found


def check_page(
    directory: Path,
    fetch: dict[str, Any],
    passages: list[dict[str, Any]],
    events: dict[str, Any],
    report: BundleReport,
) -> None:
    """One cited fetch: its digest is the chained one, its archived bytes have that digest,
    and extraction replayed on them gives back the recorded passages."""
    fid, recorded = fetch.get("id"), fetch.get("sha256")
    chained = events.get(audit.FetchRecorded.action)
    if chained is None:
        what = f"fetch {fid} has no fetch.recorded event in events.json"
        report.problems.append(Problem(EVIDENCE_FILE, what))
        return
    if chained.get("sha256") != recorded:
        what = f"fetch {fid} records SHA-256 {recorded}, its audit event {chained.get('sha256')}"
        report.problems.append(Problem(EVIDENCE_FILE, what))
        return
    place = fetch.get("bundle") or {}
    if place.get("file") != WARC_FILE:  # never follow a bundle's paths out of the bundle
        what = f"fetch {fid} is not placed in {WARC_FILE}"
        report.problems.append(Problem(EVIDENCE_FILE, what))
        return
    try:
        response, payload = read_record(WARC_FILE, int(place["offset"]), directory=directory)
    except (ArchiveError, NotFound, KeyError, ValueError) as exc:
        what = f"the record of fetch {fid} is unreadable ({str(exc).rstrip('.')})"
        report.problems.append(Problem(WARC_FILE, what))
        return
    actual = hashlib.sha256(payload).hexdigest()
    if actual != recorded:
        url = fetch.get("final_url") or fetch.get("requested_url")
        what = f"the page of fetch {fid} ({url}) has SHA-256 {actual}, recorded {recorded}"
        report.problems.append(Problem(WARC_FILE, what))
        return
    report.pages += 1
    content_type = fetch.get("content_type") or response.header("content-type")
    url = fetch.get("final_url") or fetch.get("requested_url")
    problem = _compare_passages(fid, passages, replay_passages(payload, content_type, url))
    if problem is not None:
        report.problems.append(problem)
        return
    extracted = events.get(audit.PassagesExtracted.action)
    if extracted is not None and extracted.get("passages") != len(passages):
        what = (
            f"fetch {fid}: {len(passages)} passages, its audit event says {extracted['passages']}"
        )
        report.problems.append(Problem(EVIDENCE_FILE, what))
    report.passages += len(passages)


def check_references(
    claim_id: Any, claim: Any, evidence: dict[str, Any], verdicts: Any, trail: list[Any]
) -> list[Problem]:
    """The files agree with one another and with the chained events."""
    problems = []
    if not isinstance(claim, dict) or claim.get("id") != claim_id:
        problems.append(Problem(CLAIM_FILE, f"it is not claim {claim_id} of the manifest"))
    passage_ids = {p.get("id") for p in evidence.get("passages", [])}
    evidence_ids = set()
    for row in evidence.get("evidence", []):
        evidence_ids.add(row.get("id"))
        if row.get("passage_id") not in passage_ids:
            what = f"evidence {row.get('id')} cites passage {row.get('passage_id')}, not bundled"
            problems.append(Problem(EVIDENCE_FILE, what))
    ratings = {}
    for verdict in verdicts if isinstance(verdicts, list) else []:
        ratings[verdict.get("id")] = verdict.get("rating")
        for eid in verdict.get("evidence_ids") or []:
            if eid not in evidence_ids:
                what = f"verdict {verdict.get('id')} cites evidence {eid}, not bundled"
                problems.append(Problem(VERDICTS_FILE, what))
    for ev in trail:
        if ev.action == audit.VerdictDecided.action:
            vid, rating = ev.payload.get("verdict_id"), ev.payload.get("rating")
            if ratings.get(vid) != rating:
                what = (
                    f"verdict {vid} is rated {ratings.get(vid)!r}, event {ev.seq} says {rating!r}"
                )
                problems.append(Problem(VERDICTS_FILE, what))
    return problems


def _first_difference(ours: Any, rebuilt: Any, path: str = "") -> str:
    """Where two JSON documents first differ: ``reviewRating.alternateName``."""
    if isinstance(ours, dict) and isinstance(rebuilt, dict):
        for key in sorted(set(ours) | set(rebuilt)):
            if ours.get(key) != rebuilt.get(key):
                return _first_difference(ours.get(key), rebuilt.get(key), f"{path}.{key}")
    if ours != rebuilt:
        where = path.lstrip(".") or "the document"
        return f"{where} is {vouch.show(ours)}, rebuilt {vouch.show(rebuilt)}"
    return "the documents differ"


class _Rederiver:
    """Holds bundled rows to the latest event in events.json that recorded each."""

    def __init__(self, trail: list[audit.EventRow]) -> None:
        self.latest = vouch.latest_records(trail)
        self.compared = 0
        self.problems: list[Problem] = []

    def row(self, where: str, kind: str, values: Any) -> None:
        spec = vouch.BY_KIND[kind]
        ident = values.get("id") if isinstance(values, dict) else None
        found = self.latest.pop(vouch.row_key(spec, ident), None)
        name = f"{spec.label} {ident}"
        if found is None:
            what = f"{name} is recorded by no event in {EVENTS_FILE}, so it cannot be re-derived"
            self.problems.append(Problem(where, what))
            return
        self.compared += 1
        seq, record = found
        reason = vouch.row_problem(spec, values, record, seq)
        if reason is not None:
            self.problems.append(Problem(where, f"{name}: {reason}"))

    def left_out(self, where: str, kind: str, belongs: Any) -> None:
        """Rows of ``kind`` the events recorded (and ``belongs`` accepts) but not bundled."""
        for key, (seq, _) in sorted(self.latest.items(), key=lambda item: item[1][0]):
            parsed = vouch.parse_key(key)
            if parsed is not None and parsed[0].kind == kind and belongs(parsed[1], key):
                what = f"{parsed[0].label} {parsed[1]} is recorded by event {seq} but not bundled"
                self.problems.append(Problem(where, what))


def _rebuilt_claimreview(
    claim: dict[str, Any], verdicts: list[Any], options: Any
) -> tuple[dict[str, Any] | None, str | None]:
    try:
        review = ReviewOptions.from_json(options)
        rows = [Verdict.model_validate(v) for v in verdicts if isinstance(v, dict)]
        current = current_of(rows)
        if current is None:
            return None, None
        return build(Claim.model_validate(claim), current, review), None
    except (BadInput, KeyError, TypeError, ValueError) as exc:
        return None, f"it cannot be rebuilt ({str(exc).rstrip('.')})"


def check_derived(
    directory: Path,
    manifest: dict[str, Any],
    docs: dict[str, Any],
    trail: list[audit.EventRow],
    report: BundleReport,
) -> list[Problem]:
    """Every derived file against the chain events in the bundle (module docstring, 6)."""
    claim = docs[CLAIM_FILE] if isinstance(docs[CLAIM_FILE], dict) else {}
    evidence = docs[EVIDENCE_FILE] if isinstance(docs[EVIDENCE_FILE], dict) else {}
    verdicts = docs[VERDICTS_FILE] if isinstance(docs[VERDICTS_FILE], list) else []
    check = _Rederiver(trail)
    check.row(CLAIM_FILE, "claim", claim)
    for row in evidence.get("evidence", []):
        check.row(EVIDENCE_FILE, "evidence", row)
    for row in evidence.get("passages", []):
        check.row(EVIDENCE_FILE, "passage", row)
    for row in verdicts:
        check.row(VERDICTS_FILE, "verdict", row)
    check.left_out(EVIDENCE_FILE, "evidence", lambda _i, _k: True)
    check.left_out(VERDICTS_FILE, "verdict", lambda _i, _k: True)
    bundled_fetches = {f.get("id") for f in evidence.get("fetches", [])}
    passage_fetch = _recorded_passage_fetches(trail)
    check.left_out(EVIDENCE_FILE, "passage", lambda i, _k: passage_fetch.get(i) in bundled_fetches)
    report.rederived = check.compared
    rebuilt, why = _rebuilt_claimreview(claim, verdicts, manifest.get("claimreview"))
    path = directory / CLAIMREVIEW_FILE
    ours = docs.get(CLAIMREVIEW_FILE)
    if why is not None:
        check.problems.append(Problem(CLAIMREVIEW_FILE, why))
    elif rebuilt is None and path.exists():
        what = "there is no published verdict in verdicts.json to review the claim"
        check.problems.append(Problem(CLAIMREVIEW_FILE, what))
    elif rebuilt is not None and ours != rebuilt:
        what = (
            "the file is missing"
            if not path.exists()
            else f"it differs from the one rebuilt from claim.json and verdicts.json: "
            f"{_first_difference(ours, rebuilt)}"
        )
        check.problems.append(Problem(CLAIMREVIEW_FILE, what))
    return check.problems


def _recorded_passage_fetches(trail: list[audit.EventRow]) -> dict[int, Any]:
    """Passage id -> fetch id, from what the events recorded of each passage."""
    found: dict[int, Any] = {}
    for key, (_, record) in vouch.latest_records(trail).items():
        parsed = vouch.parse_key(key)
        if parsed is not None and parsed[0].kind == "passage" and isinstance(record, dict):
            found[parsed[1]] = (record.get("v") or {}).get("fetch_id")
    return found


def check_manifest(directory: Path, manifest: dict[str, Any]) -> list[Problem]:
    problems = []
    files = manifest.get("files") or {}
    for name, entry in sorted(files.items()):
        path = directory / name
        if Path(name).name != name or not path.is_file():
            problems.append(Problem(name, "the file is missing"))
        elif (actual := file_sha256(path)) != entry.get("sha256"):
            what = f"its SHA-256 is {actual}, the manifest says {entry.get('sha256')}"
            problems.append(Problem(name, what))
    for path in sorted(directory.iterdir()):
        if path.name != MANIFEST and path.name not in files:
            problems.append(Problem(path.name, "the file is not listed in the manifest"))
    return problems


def _expected_digest(directory: Path, expect: str | None, report: BundleReport) -> None:
    if (directory / MANIFEST).is_file():
        report.manifest_sha256 = file_sha256(directory / MANIFEST)
    if expect is not None and report.manifest_sha256 != expect.strip().lower():
        what = (
            f"its SHA-256 is {report.manifest_sha256}, expected {expect.strip().lower()} "
            "(the digest printed at export): the bundle is not the one exported"
        )
        report.problems.append(Problem(MANIFEST, what))


def _trail_subjects(claim_id: Any, manifest: dict[str, Any], evidence: dict[str, Any]) -> set[str]:
    """The subjects whose events the bundle holds in full: the claim and its fetches."""
    listed = (manifest.get("chain") or {}).get("subjects")
    if manifest.get("format") == BUNDLE_FORMAT and isinstance(listed, list):
        own = f"claim:{claim_id}"
        return {s for s in listed if s == own or (isinstance(s, str) and s.startswith("fetch:"))}
    fetch_ids = [f.get("id") for f in evidence.get("fetches", [])]
    return {f"claim:{claim_id}", *(f"fetch:{i}" for i in fetch_ids)}


def _foreign_events(trail: list[audit.EventRow], subjects: set[str]) -> list[Problem]:
    return [
        Problem(EVENTS_FILE, f"event {ev.seq} is about {ev.subject}, not this claim or its fetches")
        for ev in trail
        if ev.subject not in subjects
    ]


def check_bundle(directory: Path, *, expect: str | None = None) -> BundleReport:
    """Verify a bundle from its files alone (no database, no network); every problem found,
    in the order of the module docstring. ``expect`` is the manifest SHA-256 printed at
    export: a different manifest is the first problem named."""
    if not directory.is_dir():
        raise BundleError(f"{directory} is not a directory.")
    report = BundleReport()
    _expected_digest(directory, expect, report)
    manifest = _load_json(directory, MANIFEST, report)
    if not isinstance(manifest, dict) or manifest.get("format") not in READABLE_FORMATS:
        if manifest is not None:
            report.problems.append(Problem(MANIFEST, f"the format is not {BUNDLE_FORMAT}"))
        return report
    claim_id = manifest.get("claim_id")
    docs = {
        n: _load_json(directory, n, report)
        for n in (CLAIM_FILE, EVIDENCE_FILE, VERDICTS_FILE, EVENTS_FILE)
    }
    if (directory / CLAIMREVIEW_FILE).exists():
        docs[CLAIMREVIEW_FILE] = _load_json(directory, CLAIMREVIEW_FILE, report)
    events_doc = docs[EVENTS_FILE] if isinstance(docs[EVENTS_FILE], dict) else {}
    evidence = docs[EVIDENCE_FILE] if isinstance(docs[EVIDENCE_FILE], dict) else {}
    trail = check_events(list(events_doc.get("events", [])), report)
    subjects = _trail_subjects(claim_id, manifest, evidence)
    report.problems += _foreign_events(trail, subjects)
    strict = manifest.get("format") == BUNDLE_FORMAT
    if (manifest.get("chain") or {}).get("segment") or (directory / SEGMENT_FILE).exists():
        check_segment(directory / SEGMENT_FILE, trail, subjects, report, strict=strict)
    by_fetch = _fetch_events(trail)
    passages: dict[Any, list[dict[str, Any]]] = {}
    for passage in evidence.get("passages", []):
        passages.setdefault(passage.get("fetch_id"), []).append(passage)
    for fetch in evidence.get("fetches", []):
        ordered = sorted(passages.get(fetch.get("id"), []), key=lambda p: p.get("ordinal", 0))
        check_page(directory, fetch, ordered, by_fetch.get(fetch.get("id"), {}), report)
    report.problems += check_references(
        claim_id, docs[CLAIM_FILE], evidence, docs[VERDICTS_FILE], trail
    )
    report.problems += check_manifest(directory, manifest)
    report.problems += check_derived(directory, manifest, docs, trail, report)
    return report
