"""The login throttle: growing waits, then a temporary lock, per account and per address.

Two keys are watched for every sign-in: the account (the name typed, known user or not) and
the client address. For each, the rule is a pure function of that key's recent failures and
the time ``now`` (``judge``): the first few failures cost nothing, each further one doubles
the wait before the next check is allowed, and enough of them lock the key for a while. A
refused sign-in is answered 429 with Retry-After and its password is never checked, so the
right password during a lock is refused too and an attacker learns nothing from it.

An account's count starts again at its last successful sign-in; an address's does not (an
attacker with an account of their own could otherwise reset it). The attempts are rows of
``login_attempt``, so every app process applies the same history. ``admit`` records an
attempt as *pending* before the password is checked and pending attempts count as failures,
so twenty parallel requests cannot all slip through on the same count; checks of one key are
serialised (SQLite's write lock, a transaction-scoped advisory lock on PostgreSQL).

Figures for an account with the defaults below: 3 free failures, then waits of 5, 10, 20 …
320 s (at most 6 checks in the first minute, 10 in the first 11), a 15-minute lock after the
10th, and one check per lock period after that until a success or a day without failures:
100 wrong passwords take about 23 hours.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, text
from sqlmodel import Session, col, select

from evidence import audit
from evidence.actors import user_actor
from evidence.audit.events import LoginFailed, LoginLocked
from evidence.models import LoginAttempt, User

logger = logging.getLogger(__name__)

ACCOUNT, ADDRESS = "account", "address"
MAX_KEY_CHARS = 100  # the audit subject is "login:<key>", at most 120 characters
KEEP_ATTEMPTS = timedelta(days=2)  # older rows are deleted; longer than any window
_PG_LOCK_SPACE = 7_311_338  # advisory-lock namespace of the throttle (audit uses another)


@dataclass(frozen=True)
class Policy:
    """How one kind of key is throttled."""

    free: int  # failures with no wait
    lock_after: int  # this many failures lock the key
    base_delay_s: float  # wait after the first non-free failure; doubled by each further one
    lock_s: float  # length of a lock
    window_s: float  # failures older than this are forgotten


ACCOUNT_POLICY = Policy(free=3, lock_after=10, base_delay_s=5.0, lock_s=15 * 60, window_s=86_400)
# an office behind one NAT shares an address: more room, still far from brute force
ADDRESS_POLICY = Policy(free=10, lock_after=30, base_delay_s=5.0, lock_s=15 * 60, window_s=3_600)


@dataclass(frozen=True)
class Judgement:
    allowed: bool
    retry_after_s: float = 0.0
    locked: bool = False


def judge(failures: Sequence[datetime], now: datetime, policy: Policy) -> Judgement:
    """Whether one more password check may happen at ``now`` after these failures of a key."""
    window = timedelta(seconds=policy.window_s)
    recent = [at for at in failures if now - at < window]
    if len(recent) < policy.free:
        return Judgement(True)
    locked = len(recent) >= policy.lock_after
    exponent = len(recent) - policy.free
    wait = policy.lock_s if locked else min(policy.base_delay_s * 2**exponent, policy.lock_s)
    ready = max(recent) + timedelta(seconds=wait)
    if now >= ready:
        return Judgement(True)
    return Judgement(False, (ready - now).total_seconds(), locked)


@dataclass(frozen=True)
class Admission:
    """The throttle's answer to one sign-in: an attempt to settle, or a refusal."""

    account: str
    address: str
    attempt_id: int | None = None
    retry_after_s: int = 0
    locked: bool = False

    @property
    def allowed(self) -> bool:
        return self.attempt_id is not None


def account_key(name: str) -> str:
    return (name or "").strip()[:MAX_KEY_CHARS]


def _serialise(session: Session, *keys: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        for key in keys:  # always account then address: no two requests wait on each other
            session.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
                {"space": _PG_LOCK_SPACE, "key": key},
            )


def _failures(session: Session, scope: str, key: str, since: datetime) -> list[datetime]:
    column = col(LoginAttempt.account) if scope == ACCOUNT else col(LoginAttempt.address)
    query = select(LoginAttempt.at).where(
        column == key,
        col(LoginAttempt.outcome).in_(("failed", "pending")),
        col(LoginAttempt.at) > since,
    )
    if scope == ACCOUNT:  # an account counts from its last success (ids order the attempts)
        last_ok = session.exec(
            select(func.max(LoginAttempt.id)).where(
                column == key, LoginAttempt.outcome == "succeeded"
            )
        ).one()
        if last_ok is not None:
            query = query.where(col(LoginAttempt.id) > last_ok)
    return list(session.exec(query).all())


def _judgements(
    session: Session, account: str, address: str, now: datetime
) -> list[tuple[str, str, Policy, list[datetime]]]:
    out = []
    for scope, key, policy in (
        (ACCOUNT, account, ACCOUNT_POLICY),
        (ADDRESS, address, ADDRESS_POLICY),
    ):
        since = now - timedelta(seconds=policy.window_s)
        out.append((scope, key, policy, _failures(session, scope, key, since)))
    return out


def admit(session: Session, *, name: str, address: str, now: datetime) -> Admission:
    """Record a pending attempt if both keys allow a check at ``now``; else refuse."""
    account = account_key(name)
    _serialise(session, f"{ACCOUNT}:{account}", f"{ADDRESS}:{address}")
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) < now - KEEP_ATTEMPTS))
    for scope, key, policy, failures in _judgements(session, account, address, now):
        verdict = judge(failures, now, policy)
        if not verdict.allowed:
            logger.warning("sign-in refused by the throttle: %s %s", scope, key)
            wait = max(1, math.ceil(verdict.retry_after_s))
            return Admission(account, address, retry_after_s=wait, locked=verdict.locked)
    row = LoginAttempt(account=account, address=address, at=now)
    session.add(row)
    session.flush()
    return Admission(account, address, attempt_id=row.id)


def settle(session: Session, admission: Admission, *, user: User | None, now: datetime) -> None:
    """Record how an admitted attempt ended; a failure is audited, and so is a lock it starts."""
    row = session.get(LoginAttempt, admission.attempt_id)
    if row is None:  # pruned meanwhile (a clock jump): nothing to settle
        return
    row.outcome = "failed" if user is None else "succeeded"
    session.add(row)
    session.flush()
    if user is not None:
        return
    actor = user_actor(admission.address, channel="client")
    judged = _judgements(session, admission.account, admission.address, now)
    known = session.exec(select(User.id).where(User.name == admission.account)).first()
    failures = len(judged[0][3])
    audit.record(
        session,
        LoginFailed(
            account=admission.account, address=admission.address, user_id=known, failures=failures
        ),
        actor=actor,
    )
    for scope, key, policy, attempts in judged:
        # every admitted failure is the key's latest, so a lock found now starts now
        verdict = judge(attempts, now, policy)
        if verdict.locked:
            until = now + timedelta(seconds=verdict.retry_after_s)
            event = LoginLocked(
                scope=scope, key=key, until=until.isoformat(), failures=len(attempts)
            )
            audit.record(session, event, actor=actor)
