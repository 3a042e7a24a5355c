"""The login throttle: growing waits, a temporary lock (429 + Retry-After), audited, shared
by every app process, and blind to other accounts.

Time is driven through the app's clock (``app.state.clock``) where a test needs hours to
pass; one test runs against the wall clock, as an attacker would.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from evidence.models import AuditEvent, LoginAttempt
from tests.conftest import DB
from tests.verdicts.web.conftest import BASE, csrf_of, data
from tests.verdicts.web.factories import make_user
from verdicts import throttle
from verdicts.throttle import ACCOUNT_POLICY, ADDRESS_POLICY, Policy, judge
from verdicts.web.app import create_app

T = TypeVar("T")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def run_from(app: FastAPI, address: str, fn: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """Like the conftest's ``run``, from a chosen client address."""

    async def main() -> T:
        transport = httpx.ASGITransport(app=app, client=(address, 40_000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return await fn(client)

    return asyncio.run(main())


async def try_login(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    token = csrf_of((await client.get("/login")).text)
    return await client.post(
        "/login", data={"name": name, "password": password, "csrf_token": token}
    )


def wrong(rng: random.Random) -> str:
    return "guess-" + "".join(rng.choices("abcdefghijklmnop", k=10))


# -- the rule, as a pure function -----------------------------------------------------------


def test_free_failures_then_doubling_waits_then_a_lock() -> None:
    policy = Policy(free=3, lock_after=6, base_delay_s=2, lock_s=600, window_s=3600)
    at = [T0 + timedelta(seconds=i) for i in range(6)]
    assert judge(at[:2], at[1], policy).allowed
    waits = [judge(at[:n], at[n - 1], policy) for n in (3, 4, 5)]
    assert [w.allowed for w in waits] == [False, False, False]
    assert [w.retry_after_s for w in waits] == [2, 4, 8] and not any(w.locked for w in waits)
    assert judge(at[:3], at[2] + timedelta(seconds=2), policy).allowed
    lock = judge(at, at[5] + timedelta(seconds=1), policy)
    assert lock.locked and lock.retry_after_s == 599
    assert judge(at, at[5] + timedelta(seconds=600), policy).allowed
    # failures older than the window are forgotten
    assert judge(at, at[5] + timedelta(seconds=3600), policy) == throttle.Judgement(True)


def test_the_defaults_allow_a_few_checks_per_minute_at_most() -> None:
    """The fastest an attacker obeying every Retry-After can go, worked out by the rule."""
    for policy in (ACCOUNT_POLICY, ADDRESS_POLICY):
        now, failures = T0, []
        for _ in range(100):
            verdict = judge(failures, now, policy)
            now += timedelta(seconds=verdict.retry_after_s)
            failures.append(now)
        minutes = (now - T0).total_seconds() / 60
        assert 100 / minutes < 1, (policy, minutes)
    assert ACCOUNT_POLICY.lock_after < ADDRESS_POLICY.lock_after  # an office shares an address


# -- through the web app --------------------------------------------------------------------


@dataclass
class Attack:
    checked: int = 0
    refused: int = 0
    retry_after: list[int] = field(default_factory=list)


@pytest.mark.slow
def test_a_hundred_wrong_passwords_take_hours_and_the_lock_refuses_the_right_one(
    sqlite_db: DB,
) -> None:
    """SQLite only: a hundred argon2 checks are the cost here, and the rule's queries are
    the same on PostgreSQL (whose locking the parallel test below covers)."""
    with data(sqlite_db) as s:
        victim = make_user(s, "editor")
    app = create_app()
    clock = Clock()
    app.state.clock = clock
    rng = random.Random(14)

    async def attack(client: httpx.AsyncClient) -> Attack:
        seen = Attack()
        for _ in range(100):  # each password is tried until the throttle lets it be checked
            while True:
                answer = await try_login(client, victim.name, wrong(rng))
                if answer.status_code == 401:
                    seen.checked += 1
                    break
                assert answer.status_code == 429, answer.text
                assert "Too many failed sign-ins" in answer.text
                seen.refused += 1
                seen.retry_after.append(int(answer.headers["retry-after"]))
                clock.advance(int(answer.headers["retry-after"]))
        return seen

    seen = run_from(app, "203.0.113.7", attack)
    minutes = (clock.now - T0).total_seconds() / 60
    assert seen.checked == 100
    assert seen.checked / minutes < 3, f"{seen.checked} checks in {minutes:.0f} min"
    assert minutes > 12 * 60  # a hundred guesses cost the attacker more than half a day
    assert max(seen.retry_after) == ACCOUNT_POLICY.lock_s  # it locked, it did not only wait

    async def right_password_now_and_later(client: httpx.AsyncClient) -> list[httpx.Response]:
        during = await try_login(client, victim.name, victim.password)
        clock.advance(int(during.headers["retry-after"]))
        after = await try_login(client, victim.name, victim.password)
        return [during, after]

    during, after = run_from(app, "198.51.100.1", right_password_now_and_later)
    assert during.status_code == 429 and int(during.headers["retry-after"]) > 0
    assert after.status_code == 303 and after.headers["location"] == "/queue"


def test_a_wall_clock_attack_gets_a_handful_of_checks_and_others_sign_in(
    app: FastAPI, db: DB
) -> None:
    """The issue's attack (wrong passwords as fast as they come from four clients), run for
    real: a hundred requests, and only the free failures plus the few waits that ran out
    get their password checked. Meanwhile another user signs in from the same addresses."""
    with data(db) as s:
        victim, bystander = make_user(s, "admin"), make_user(s, "reviewer")
    rng = random.Random(4)
    addresses = [f"192.0.2.{i}" for i in range(1, 5)]
    statuses: list[int] = []
    started = time.monotonic()
    for i in range(100):
        answer = run_from(app, addresses[i % 4], lambda c: try_login(c, victim.name, wrong(rng)))
        statuses.append(answer.status_code)
    elapsed = time.monotonic() - started
    checked = statuses.count(401)
    assert set(statuses) == {401, 429}
    # the free ones, then one per doubling wait that ran out during the attack
    allowed = ACCOUNT_POLICY.free + sum(
        1
        for k in range(ACCOUNT_POLICY.lock_after - ACCOUNT_POLICY.free)
        if (2 ** (k + 1) - 1) * ACCOUNT_POLICY.base_delay_s <= elapsed
    )
    assert checked <= allowed, (checked, elapsed)
    assert checked / max(elapsed / 60, 1) <= 6  # at most a few per minute
    for address in addresses:
        answer = run_from(app, address, lambda c: try_login(c, bystander.name, bystander.password))
        assert answer.status_code == 303, answer.text


def test_another_account_is_not_affected_by_a_locked_one(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        victim, other = make_user(s, "reviewer"), make_user(s, "reviewer")
    clock = Clock()
    app.state.clock = clock

    async def lock_then_others(client: httpx.AsyncClient) -> list[httpx.Response]:
        for i in range(ACCOUNT_POLICY.lock_after):
            clock.advance(ACCOUNT_POLICY.lock_s if i else 0)  # no waits: straight to the lock
            answer = await try_login(client, victim.name, "not the password")
            assert answer.status_code == 401
        locked = await try_login(client, victim.name, victim.password)
        return [locked, await try_login(client, other.name, other.password)]

    locked, other_in = run_from(app, "203.0.113.9", lock_then_others)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) == ACCOUNT_POLICY.lock_s
    assert other_in.status_code == 303  # same address, other account: signs in


def test_an_address_spraying_many_accounts_is_locked(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        real = make_user(s, "reviewer")
    clock = Clock()
    app.state.clock = clock

    async def spray(client: httpx.AsyncClient) -> list[int]:
        codes = []
        for i in range(ADDRESS_POLICY.lock_after + 1):
            codes.append((await try_login(client, f"someone-{i}", "password1")).status_code)
            clock.advance(1)
        codes.append((await try_login(client, real.name, real.password)).status_code)
        return codes

    codes = run_from(app, "198.51.100.66", spray)
    assert codes[: ADDRESS_POLICY.free] == [401] * ADDRESS_POLICY.free
    assert codes[-2:] == [429, 429]  # the address is locked, for a real account too
    elsewhere = run_from(app, "198.51.100.67", lambda c: try_login(c, real.name, real.password))
    assert elsewhere.status_code == 303


def test_failures_and_locks_are_audited(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        victim = make_user(s, "auditor")
    clock = Clock()
    app.state.clock = clock

    async def fail(client: httpx.AsyncClient) -> None:
        for i in range(ACCOUNT_POLICY.lock_after):
            clock.advance(ACCOUNT_POLICY.lock_s if i else 0)
            await try_login(client, victim.name, "wrong wrong")
        await try_login(client, "no-such-user", "wrong wrong")
        await try_login(client, victim.name, victim.password)  # refused: locked

    run_from(app, "203.0.113.44", fail)
    with data(db) as s:
        events = s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    failed = [e for e in events if e.action == "login.failed"]
    locked = [e for e in events if e.action == "login.locked"]
    assert len(failed) == ACCOUNT_POLICY.lock_after + 1
    assert failed[0].subject == f"login:{victim.name}"
    assert failed[0].payload["user_id"] == victim.user.id
    assert failed[0].payload["address"] == "203.0.113.44"
    assert failed[0].actor == "client:203.0.113.44"
    assert [e.payload["failures"] for e in failed[:3]] == [1, 2, 3]
    assert failed[-1].payload["account"] == "no-such-user"
    assert failed[-1].payload["user_id"] is None
    assert len(locked) == 1 and locked[0].payload["scope"] == "account"
    assert locked[0].payload["key"] == victim.name
    until = datetime.fromisoformat(locked[0].payload["until"])
    assert until == T0 + timedelta(seconds=ACCOUNT_POLICY.lock_after * ACCOUNT_POLICY.lock_s)
    assert not [e for e in events if e.action == "login.succeeded"]


def test_a_success_starts_the_account_count_again(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        person = make_user(s, "reviewer")
    clock = Clock()
    app.state.clock = clock

    async def typos(client: httpx.AsyncClient) -> list[int]:
        codes = []
        for _ in range(2):
            for _ in range(ACCOUNT_POLICY.free):
                codes.append((await try_login(client, person.name, "typo typo")).status_code)
            codes.append((await try_login(client, person.name, "typo again")).status_code)
            clock.advance(ACCOUNT_POLICY.base_delay_s)
            codes.append((await try_login(client, person.name, person.password)).status_code)
        return codes

    free = [401] * ACCOUNT_POLICY.free
    assert run_from(app, "192.0.2.200", typos) == [*free, 429, 303, *free, 429, 303]


def test_the_throttle_is_shared_by_app_processes_and_parallel_requests(
    app: FastAPI, db: DB
) -> None:
    """Two app instances on one database see the same attempts, and twenty parallel wrong
    passwords get no more checks than the free ones (pending attempts count)."""
    with data(db) as s:
        victim = make_user(s, "editor")
    other_app = create_app()
    clock = Clock()
    app.state.clock = other_app.state.clock = clock

    async def parallel(client: httpx.AsyncClient) -> list[int]:
        token = csrf_of((await client.get("/login")).text)
        form = {"name": victim.name, "password": "nope nope", "csrf_token": token}
        answers = await asyncio.gather(*(client.post("/login", data=form) for _ in range(20)))
        return [a.status_code for a in answers]

    codes = run_from(app, "203.0.113.80", parallel)
    assert codes.count(401) == ACCOUNT_POLICY.free and codes.count(429) == 20 - ACCOUNT_POLICY.free
    refused = run_from(other_app, "203.0.113.81", lambda c: try_login(c, victim.name, "x" * 9))
    assert refused.status_code == 429
    with data(db) as s:
        attempts = s.exec(select(LoginAttempt)).all()
    assert sorted(a.outcome for a in attempts) == ["failed"] * ACCOUNT_POLICY.free


@pytest.mark.parametrize("name", ["", "   ", "x" * 500, "<script>alert(1)</script>"])
def test_odd_names_are_throttled_and_audited_without_error(app: FastAPI, db: DB, name: str) -> None:
    answer = run_from(app, "192.0.2.9", lambda c: try_login(c, name, "whatever1"))
    assert answer.status_code == 401
    assert "<script>alert" not in answer.text
    with data(db) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "login.failed")).one()
    assert event.payload["account"] == name.strip()[: throttle.MAX_KEY_CHARS]
    assert len(event.subject) <= 120
