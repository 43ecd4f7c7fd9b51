"""Escalation policy and rule kinds: parsed from the rule file, the next step decided with a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.alert_config import parse_alert_config
from domain.alerts import RuleError, RuleKind, Severity, evaluate, parse_rules
from domain.escalation import LEVELS, EscalationPolicy, next_step, parse_escalation

SHIPPED = parse_alert_config((Path(__file__).resolve().parents[2] / "domain" / "alert_rules.toml").read_text("utf-8"))
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CHAIN = [("G", "grid"), ("C", "community"), ("S", "street"), ("D", "district"), ("X", "city")]


def test_the_shipped_file_escalates_every_severity_but_info_up_the_whole_tree() -> None:
    policy = SHIPPED.escalation
    assert policy.levels == LEVELS
    assert set(policy.ack_s) == {Severity.CRITICAL, Severity.HIGH, Severity.WARNING}
    assert policy.ack_s[Severity.CRITICAL] < policy.ack_s[Severity.HIGH] < policy.ack_s[Severity.WARNING]
    assert [r.key for r in SHIPPED.of_kind(RuleKind.DEVICE_OFFLINE)] == ["device_offline"]
    assert SHIPPED.rule("device_offline").minutes == 30 and SHIPPED.rule("device_offline").severity is Severity.WARNING
    assert SHIPPED.rule("case_overdue").kind is RuleKind.EXTERNAL
    assert SHIPPED.rule("case_overdue").severity is Severity.WARNING


def test_an_alert_climbs_every_level_on_time_and_stops_at_the_top() -> None:
    policy = EscalationPolicy(ack_s={Severity.CRITICAL: 120}, step_s={Severity.CRITICAL: 60})
    deadline = policy.first_deadline(Severity.CRITICAL, T0)
    assert deadline == T0 + timedelta(seconds=120)
    level, step, now = "G", 0, T0
    visited = []
    while deadline is not None:
        early = deadline - timedelta(microseconds=1)
        args = {"severity": Severity.CRITICAL, "step": step, "level_code": level, "chain": CHAIN}
        assert next_step(policy, escalates_at=deadline, now=early, **args) is None  # not a moment before
        now = deadline
        nxt = next_step(policy, escalates_at=deadline, now=now, **args)
        assert nxt is not None and nxt.step == step + 1
        visited.append((nxt.level_code, nxt.level, (now - T0).total_seconds()))
        level, step, deadline = nxt.level_code, nxt.step, nxt.escalates_at
        if deadline is not None:
            assert deadline == now + timedelta(seconds=60)
    assert visited == [
        ("C", "community", 120.0),
        ("S", "street", 180.0),
        ("D", "district", 240.0),
        ("X", "city", 300.0),
    ]
    at_top = {"severity": Severity.CRITICAL, "step": step, "level_code": "X", "chain": CHAIN}
    assert next_step(policy, escalates_at=now, now=now + timedelta(hours=1), **at_top) is None


def test_a_shorter_ladder_skips_levels_and_a_late_tick_gives_the_next_level_its_full_time() -> None:
    policy = EscalationPolicy(levels=("grid", "street", "city"), ack_s={Severity.HIGH: 300})
    late = T0 + timedelta(seconds=900)
    nxt = next_step(policy, severity=Severity.HIGH, step=0, level_code="G", escalates_at=T0, chain=CHAIN, now=late)
    assert nxt is not None and (nxt.level_code, nxt.level) == ("S", "street")
    assert nxt.escalates_at == late + timedelta(seconds=300)  # step_s defaults to ack_s
    last = next_step(policy, severity=Severity.HIGH, step=1, level_code="S", escalates_at=late, chain=CHAIN, now=late)
    assert last is not None and (last.level_code, last.escalates_at) == ("X", None)


def test_an_alert_raised_above_the_grid_starts_from_its_own_level() -> None:
    policy = EscalationPolicy(ack_s={Severity.WARNING: 60})
    nxt = next_step(policy, severity=Severity.WARNING, step=0, level_code="C", escalates_at=T0, chain=CHAIN[1:], now=T0)
    assert nxt is not None and nxt.level_code == "S"
    assert (
        next_step(policy, severity=Severity.WARNING, step=0, level_code="?", escalates_at=T0, chain=[], now=T0) is None
    )


def test_severities_without_a_deadline_never_escalate() -> None:
    assert SHIPPED.escalation.first_deadline(Severity.INFO, T0) is None
    assert parse_escalation({}).first_deadline(Severity.CRITICAL, T0) is None  # no [escalation] table


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"levels": ["grid", "planet"]}, "unknown level"),
        ({"levels": ["grid", "city", "street"]}, "climb the tree in order"),
        ({"levels": ["grid", "grid"]}, "climb the tree in order"),
        ({"levels": ["grid"]}, "climb the tree in order"),
        ({"levels": "grid"}, "list of level names"),
        ({"ack_s": {"loud": 10}}, "ack_s.loud is not a severity"),
        ({"ack_s": {"critical": 0}}, "at least 1"),
        ({"ack_s": {"critical": "2m"}}, "whole number"),
        ({"ack_s": {"critical": 60}, "step_s": {"high": 60}}, "without an ack_s"),
        ({"ack_s": 60}, "table of severity"),
        ({"deadline": 60}, "unknown key"),
    ],
)
def test_bad_escalation_tables_are_refused_with_a_clear_message(table: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_escalation({"escalation": table})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rule]]\nkey = 'x'\nseverity = 'warning'\nkind = 'device_offline'", "minutes"),
        ("[[rule]]\nkey = 'x'\nseverity = 'warning'\nkind = 'device_offline'\nminutes = 0", "minutes"),
        ("[[rule]]\nkey = 'x'\nseverity = 'warning'\nkind = 'external'\nwhen = [['a', '==', 1]]", "no when"),
        ("[[rule]]\nkey = 'x'\nseverity = 'warning'\nkind = 'hourly'", "kind must be one of"),
        ("[[rule]]\nkey = 'x'\nseverity = 'warning'\nkind = 'event'", "when must be a list"),
    ],
)
def test_bad_rule_kinds_are_refused_naming_the_rule(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rules(text)


def test_events_never_fire_offline_or_external_rules() -> None:
    every_event = {"device_id": "D1", "device_type": "smoke", "payload": {"kind": "heartbeat"}}
    assert evaluate(SHIPPED.rules, every_event) == []
    assert all(r.clears_itself for r in SHIPPED.rules if r.kind is not RuleKind.EVENT)
