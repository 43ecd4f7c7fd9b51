from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from domain.audit import GENESIS, AuditEntry, entry_hash, first_break
from domain.password_policy import violations
from domain.permissions import ROLE_ACTIONS, ROLE_UNIT_LEVELS, Action, Principal, Role, allowed, in_scope

TREE = {"c": (), "d1": ("c",), "d2": ("c",), "s1": ("d1", "c"), "g1": ("s1", "d1", "c")}


def test_every_role_has_actions_and_unit_levels() -> None:
    assert set(ROLE_ACTIONS) == set(Role) == set(ROLE_UNIT_LEVELS)


@pytest.mark.parametrize(
    ("unit", "target", "expected"),
    [
        ("c", "g1", True),
        ("d1", "g1", True),
        ("d1", "d1", True),
        ("d1", "d2", False),
        ("s1", "d1", False),
        ("d1", "c", False),
        ("d1", "nope", False),
    ],
)
def test_scope_is_the_subtree(unit: str, target: str, expected: bool) -> None:
    assert in_scope(unit, target, TREE.__getitem__) is expected


def test_deny_by_default() -> None:
    auditor = Principal(1, "a", Role.AUDITOR, "c")
    assert allowed(auditor, Action.READ_AUDIT)
    assert not allowed(auditor, Action.VIEW_MAP)  # an auditor reads the trail, not the city
    assert not allowed(None, Action.VIEW_MAP)
    assert not any(
        allowed(Principal(2, "g", Role.GRID_WORKER, "g1"), a)
        for a in (Action.MANAGE_USERS, Action.UNMASK, Action.READ_AUDIT, Action.EXPORT)
    )


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "password.too_short"),
        ("x" * 200, "password.too_long"),
        ("qwerty123456", "password.too_common"),
        ("aaaaaaaaaaaaaaaa", "password.too_common"),
        ("zhangsan-is-great", "password.contains_username"),
    ],
)
def test_password_policy(password: str, problem: str) -> None:
    assert problem in violations(password, "zhangsan")


def test_a_good_password_passes() -> None:
    assert violations("时间 river 7 blue kettle", "zhangsan") == []


def chain(n: int) -> list[AuditEntry]:
    entries, prev = [], GENESIS
    t0 = datetime(2026, 11, 23, tzinfo=UTC)
    for seq in range(1, n + 1):
        ts = t0 + timedelta(seconds=seq)
        h = entry_hash(prev, seq, ts, "li", "login", "li", "ok", "1.2.3.4", {"n": seq})
        entries.append(AuditEntry(seq, ts, "li", "login", "li", "ok", "1.2.3.4", {"n": seq}, prev, h))
        prev = h
    return entries


def test_an_intact_chain_verifies() -> None:
    assert first_break(chain(10)) is None


def test_an_edited_entry_is_named() -> None:
    entries = chain(10)
    entries[4] = dataclasses.replace(entries[4], actor="wang")
    broken = first_break(entries)
    assert broken is not None and broken.seq == 5 and "edited" in broken.reason


def test_a_deleted_entry_is_named() -> None:
    entries = chain(10)
    del entries[6]
    broken = first_break(entries)
    assert broken is not None and broken.seq == 7 and "missing" in broken.reason


def test_a_rewritten_tail_is_caught_at_the_link() -> None:
    entries = chain(10)
    e = entries[3]
    forged = dataclasses.replace(e, actor="wang")
    forged = dataclasses.replace(
        forged,
        hash=entry_hash(
            forged.prev_hash,
            forged.seq,
            forged.ts,
            forged.actor,
            forged.action,
            forged.target,
            forged.outcome,
            forged.ip,
            forged.detail,
        ),
    )
    entries[3] = forged  # re-hashed itself, but entry 5 still points at the old hash
    broken = first_break(entries)
    assert broken is not None and broken.seq == 5 and "previous-hash" in broken.reason
