"""Row vouching: the audit events carry the content of the rows they change.

The chain proves the events; people read the tables. So an event that changes a row of one
of the tables below carries that row's new content, column by column, under the payload's
``rows`` key::

    record(session, VerdictPublished(...), actor="user:ed", rows=[verdict, superseded])

    "rows": {"verdict:7": {"v": {"rating": "false", "state": "published", ...},
                           "d": {"rationale": "5f1c…"}}}

A short value is recorded as it is (``v``), so a later mismatch names the column and both
values; a long one (over ``LITERAL_MAX`` characters of canonical JSON) and every secret
column is recorded as the SHA-256 of its canonical JSON (``d``), which keeps events small
and secrets out of the chain. ``factcheck audit verify`` compares the current rows of these
tables with the latest event that recorded each one (``evidence.audit.check``), and bundle
checks re-derive their files from the same records (``flows.bundle``).

Each table lists its audited columns and the columns it leaves out, with the reason; a test
fails when a model gains a column that is in neither list, so a new column is a decision.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import SQLModel

from evidence.models import Claim, Evidence, Passage, ReviewTask, User, Verdict

LITERAL_MAX = 80  # longer canonical JSON is recorded as its SHA-256
ROWS_KEY = "rows"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def value_digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


@dataclass(frozen=True)
class TableSpec:
    """What of one table the chain vouches for."""

    model: type[SQLModel]
    kind: str  # the row key's prefix: "verdict" in "verdict:7"
    label: str  # how a message names a row: "review task 3"
    columns: tuple[str, ...]  # audited, in the order a mismatch is looked for
    excluded: Mapping[str, str]  # column -> why it is not audited
    secret: frozenset[str] = frozenset()  # always recorded as a digest
    owner: str = "claim"  # the subject of the events that write it: claim, fetch or user
    types: dict[str, type] = field(default_factory=dict, compare=False)

    @property
    def table(self) -> Any:
        return self.model.__table__  # type: ignore[attr-defined]

    def python_type(self, column: str) -> type:
        if column not in self.types:
            kind = self.table.c[column].type
            kind = getattr(kind, "impl_instance", kind)  # a TypeDecorator: what it stores
            try:
                self.types[column] = kind.python_type
            except NotImplementedError:
                self.types[column] = object
        return self.types[column]

    def owner_subject(self, values: Mapping[str, Any]) -> str:
        """The subject whose events write this row (adoption events use it)."""
        if self.owner == "self":
            return f"{self.kind}:{values['id']}"
        return f"{self.owner}:{values[f'{self.owner}_id']}"


_NOT_DATA = "when the row was last touched, written by changes that need no event"

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        Claim,
        "claim",
        "claim",
        columns=(
            "text",
            "normalized_text",
            "fingerprint",
            "claimant",
            "claim_date",
            "origin_url",
            "status",
            "duplicate_of_id",
            "similarity",
            "tags",
            "created_at",
        ),
        excluded={"id": "the row key", "updated_at": _NOT_DATA},
        owner="self",
    ),
    TableSpec(
        Verdict,
        "verdict",
        "verdict",
        columns=(
            "claim_id",
            "task_id",
            "rating",
            "state",
            "rationale",
            "reviewer",
            "evidence_ids",
            "suggested_rating",
            "agreed_with_suggestion",
            "approver",
            "approved_at",
            "published_at",
            "created_at",
        ),
        excluded={"id": "the row key"},
    ),
    TableSpec(
        Evidence,
        "evidence",
        "evidence",
        columns=(
            "claim_id",
            "passage_id",
            "run_id",
            "score",
            "rank",
            "active",
            "stance",
            "stance_confidence",
            "stance_reasons",
            "role",
            "components",
            "matched_terms",
            "copies",
            "created_at",
        ),
        excluded={"id": "the row key"},
    ),
    TableSpec(
        Passage,
        "passage",
        "passage",
        columns=(
            "document_id",
            "fetch_id",
            "ordinal",
            "key",
            "text",
            "start",
            "end",
            "sha256",
            "published_at",
        ),
        excluded={"id": "the row key"},
        owner="fetch",
    ),
    TableSpec(
        ReviewTask,
        "review_task",
        "review task",
        columns=(
            "claim_id",
            "queue",
            "priority",
            "state",
            "lease_holder",
            "lease_expires_at",
            "version",
            "reopen_count",
            "reason",
            "assigned_to",
            "created_at",
        ),
        excluded={"id": "the row key", "updated_at": _NOT_DATA},
    ),
    TableSpec(
        User,
        "user",
        "user",
        columns=("name", "role", "active", "password_hash", "token_hash", "created_at"),
        excluded={"id": "the row key"},
        secret=frozenset({"password_hash", "token_hash"}),
        owner="self",
    ),
)
BY_KIND = {spec.kind: spec for spec in TABLES}
BY_MODEL: dict[type[SQLModel], TableSpec] = {spec.model: spec for spec in TABLES}
NOT_VOUCHED = {
    "fetch_record": "its page digest is checked against the fetch.recorded event instead",
    "document": "page metadata refreshed by every extraction; the passages carry the content",
    "run": "working state of a verification run; its outcome is in run.* events",
    "candidate": "listed in full by candidates.proposed events",
    "fact_check": "listed by factcheck.found events",
    "user_session": "sessions come and go; session.ended and login.* events record them",
    "login_attempt": "the throttle's working state; login.* events record failures",
    "audit_event": "the chain itself",
    "claim_comment": "team notes, never exported; comment.added events carry each note's SHA-256",
}
"""Tables the chain does not vouch for, and why (docs/audit.md repeats this)."""


# -- canonical values -----------------------------------------------------------------------


def canonical_value(kind: type, value: Any) -> Any:
    """One value in the form both sides compare: the ORM's, the database's or a bundle's JSON.

    Times become UTC ISO strings with microseconds, dates ISO strings, numbers the column's
    number type, JSON a canonical round trip.
    """
    if value is None:
        return None
    if kind is datetime:
        at = datetime.fromisoformat(value) if isinstance(value, str) else value
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if kind is date:
        return (date.fromisoformat(value) if isinstance(value, str) else value).isoformat()
    if kind is float:
        return float(value)
    if kind is bool:
        return bool(value)
    if kind is int:
        return int(value)
    if kind is str:
        return str(value)
    return json.loads(canonical_json(value))


def row_values(spec: TableSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The audited columns of a row (a mapping or an ORM object's dict), canonical."""
    return {c: canonical_value(spec.python_type(c), values.get(c)) for c in spec.columns}


def _is_literal(spec: TableSpec, column: str, value: Any) -> bool:
    return column not in spec.secret and len(canonical_json(value)) <= LITERAL_MAX


def row_record(spec: TableSpec, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What an event records of a row: short values as they are, the rest as digests."""
    canon = row_values(spec, values)
    literal = {c: v for c, v in canon.items() if _is_literal(spec, c, v)}
    digested = {c: value_digest(v) for c, v in canon.items() if c not in literal}
    return {"v": literal, "d": digested}


def row_key(spec: TableSpec, row_id: Any) -> str:
    return f"{spec.kind}:{row_id}"


def parse_key(key: str) -> tuple[TableSpec, int] | None:
    kind, _, ident = key.partition(":")
    spec = BY_KIND.get(kind)
    if spec is None or not ident.isdigit():
        return None
    return spec, int(ident)


def records_of(rows: Iterable[SQLModel | None]) -> dict[str, dict[str, dict[str, Any]]]:
    """The ``rows`` payload entry for ORM rows (flushed, so they have ids); None skipped."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        if row is None:
            continue
        spec = BY_MODEL.get(type(row))
        if spec is None:
            raise TypeError(f"{type(row).__name__} rows are not vouched for by the chain")
        values = row.model_dump()
        if values.get("id") is None:
            raise ValueError(f"a {spec.label} row must be flushed before an event records it")
        found[row_key(spec, values["id"])] = row_record(spec, values)
    return found


# -- comparing ------------------------------------------------------------------------------


Layout = tuple[tuple[str, bool], ...]  # (column, recorded as a digest), sorted


def restrict(spec: TableSpec, record: Any) -> tuple[Layout, dict[str, dict[str, Any]]]:
    """A recorded row cut to the columns audited today, and which of them were digests."""
    literal = record.get("v") if isinstance(record, dict) else None
    digested = record.get("d") if isinstance(record, dict) else None
    literal = {c: v for c, v in (literal or {}).items() if c in spec.columns}
    digested = {c: v for c, v in (digested or {}).items() if c in spec.columns}
    layout = tuple(sorted([(c, False) for c in literal] + [(c, True) for c in digested]))
    return layout, {
        "d": {c: digested[c] for c in sorted(digested)},
        "v": {c: literal[c] for c in sorted(literal)},
    }


def record_digest(record: Mapping[str, Any]) -> bytes:
    """A quick fingerprint of a recorded row as parsed (``repr`` in C, then BLAKE2b): what
    ``audit verify`` keeps per row. It depends on key order, which is the canonical (sorted)
    order the chain stores; a row whose fingerprint differs is compared column by column
    before anything is reported, so a store that reorders keys costs time, never truth."""
    return hashlib.blake2b(repr(record).encode(), digest_size=16).digest()


def shaped(layout: Layout, canon: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Current canonical values in a recorded row's shape (same columns, same digests), keys
    in canonical order."""
    return {
        "d": {c: value_digest(canon[c]) for c, digest in layout if digest},
        "v": {c: canon[c] for c, digest in layout if not digest},
    }


def _defaults(spec: TableSpec, column: str) -> list[Any] | None:
    """Values a column may hold on a row recorded before the column existed (None: any)."""
    info = spec.model.model_fields.get(column)
    allowed: list[Any] = [None]
    if info is None:
        return allowed
    factory = info.default_factory
    if factory in (list, dict):
        allowed.append(factory())
    elif factory is not None:
        return None  # a time or other computed default: nothing to hold it to
    elif info.default is not None and repr(info.default) != "PydanticUndefined":
        allowed.append(info.default)
    kind = spec.python_type(column)
    return [canonical_value(kind, v) for v in allowed]


def unrecorded_problem(spec: TableSpec, layout: Layout, canon: Mapping[str, Any]) -> str | None:
    """A column added after the row was recorded must still hold its default."""
    recorded = {c for c, _ in layout}
    for column in spec.columns:
        if column in recorded:
            continue
        allowed = _defaults(spec, column)
        if allowed is not None and canon[column] not in allowed:
            return f"{column} is {show(canon[column])}, but no event recorded that column"
    return None


def show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else canonical_json(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_mismatch(spec: TableSpec, canon: Mapping[str, Any], record: Any, seq: int) -> str:
    """Why a row's current values differ from what event ``seq`` recorded, naming the first
    column that differs (in the table's column order)."""
    layout, cut = restrict(spec, record)
    for column in spec.columns:
        if column in cut["v"] and cut["v"][column] != canon[column]:
            return (
                f"{column} is {show(canon[column])} in the table, "
                f"event {seq} recorded {show(cut['v'][column])}"
            )
        if column in cut["d"] and cut["d"][column] != value_digest(canon[column]):
            return f"its {column} does not match event {seq}'s digest"
    extra = unrecorded_problem(spec, layout, canon)
    if extra is not None:
        return f"{extra} (event {seq} is the latest to record the row)"
    return f"its content does not match event {seq}'s digest"


def row_problem(spec: TableSpec, values: Mapping[str, Any], record: Any, seq: int) -> str | None:
    """None when ``values`` (a row, a mapping of column -> value) match what event ``seq``
    recorded of it, else the reason naming the column."""
    canon = row_values(spec, values)
    layout, cut = restrict(spec, record)
    if shaped(layout, canon) == cut and unrecorded_problem(spec, layout, canon) is None:
        return None
    return describe_mismatch(spec, canon, record, seq)


def latest_records(events: Iterable[Any]) -> dict[str, tuple[int, Any]]:
    """Row key -> (seq, record) of the latest event recording each row, from ``events`` in
    sequence order (a bundle's events; the database check streams instead)."""
    latest: dict[str, tuple[int, Any]] = {}
    for ev in events:
        rows = ev.payload.get(ROWS_KEY) if isinstance(ev.payload, dict) else None
        if isinstance(rows, dict):
            for key, record in rows.items():
                latest[key] = (ev.seq, record)
    return latest
