from __future__ import annotations

from pathlib import Path

import pytest

from domain.alerts import AlertState, RuleError, Severity, can_transition, evaluate, parse_rules

RULES = parse_rules((Path(__file__).resolve().parents[2] / "domain" / "alert_rules.toml").read_text("utf-8"))


def event(device_type: str, payload: dict[str, object], device: str = "D1") -> dict[str, object]:
    return {"device_id": device, "device_type": device_type, "payload": payload}


def fired(ev: dict[str, object]) -> list[tuple[str, bool]]:
    return [(f.rule.key, f.clears) for f in evaluate(RULES, ev)]


def test_the_shipped_rules_cover_the_critical_and_high_cases() -> None:
    by_key = {r.key: r.severity for r in RULES}
    assert by_key["smoke_alarm"] is by_key["gas_leak"] is by_key["alarm_button"] is Severity.CRITICAL
    assert by_key["red_health_code"] is Severity.HIGH and by_key["high_temperature"] is Severity.WARNING


@pytest.mark.parametrize(
    ("ev", "expected"),
    [
        (event("smoke", {"kind": "alarm", "alarm": "smoke"}), [("smoke_alarm", False)]),
        (event("smoke", {"kind": "sensor_reading", "value": 0.2, "unit": "%"}), [("smoke_alarm", True)]),
        (
            event("gate", {"kind": "gate_pass", "direction": "in", "person": "visitor", "health_code": "red"}),
            [("red_health_code", False)],
        ),
        (event("gate", {"kind": "gate_pass", "direction": "in", "person": "visitor", "health_code": "green"}), []),
        (
            event("temperature", {"kind": "sensor_reading", "value": 75.0, "unit": "celsius"}),
            [("high_temperature", False)],
        ),
        (event("temperature", {"kind": "sensor_reading", "value": 55.0, "unit": "celsius"}), []),  # between: no change
        (
            event("temperature", {"kind": "sensor_reading", "value": 20.0, "unit": "celsius"}),
            [("high_temperature", True)],
        ),
        (
            event("temperature", {"kind": "sensor_reading", "value": "hot", "unit": "celsius"}),
            [],
        ),  # wrong type: no match
        (event("gas", {"kind": "heartbeat"}), []),
    ],
)
def test_events_fire_and_clear_the_right_rules(ev: dict[str, object], expected: list[tuple[str, bool]]) -> None:
    assert fired(ev) == expected


def test_occurrences_of_one_source_share_a_dedup_key() -> None:
    a = evaluate(RULES, event("smoke", {"kind": "alarm", "alarm": "smoke"}, "D1"))[0]
    b = evaluate(RULES, event("smoke", {"kind": "alarm", "alarm": "smoke"}, "D1"))[0]
    c = evaluate(RULES, event("smoke", {"kind": "alarm", "alarm": "smoke"}, "D2"))[0]
    assert a.dedup_key == b.dedup_key != c.dedup_key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rule]]\nseverity = 'critical'\nwhen = []", "without a key"),
        ("[[rule]]\nkey = 'x'\nseverity = 'loud'\nwhen = []", "severity"),
        ("[[rule]]\nkey = 'x'\nseverity = 'info'\nwhen = [['a', '~', 1]]", "'x'"),
        (
            "[[rule]]\nkey = 'x'\nseverity = 'info'\nwhen = []\n[[rule]]\nkey = 'x'\nseverity = 'info'\nwhen = []",
            "twice",
        ),
        ("not toml [", "TOML"),
    ],
)
def test_bad_rule_files_are_refused_naming_the_rule(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rules(text)


def test_the_lifecycle_only_moves_forward() -> None:
    order = list(AlertState)
    assert can_transition(AlertState.ACKNOWLEDGED, AlertState.RESOLVED)  # handled without dispatch
    assert not any(can_transition(order[i], order[j]) for i in range(len(order)) for j in range(i + 1))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('level = "planet"\ncounter = "activity"\nthreshold = 3', "level must be one of"),
        ('level = "grid"\ncounter = "activity"\nwindow = "week"\nthreshold = 3', "window must be"),
        ('level = "grid"\nthreshold = 3', "counter names"),
        ('level = "grid"\ncounter = "activity"', "either threshold"),
        ('level = "grid"\ncounter = "activity"\nthreshold = 3\nfactor = 2', "either threshold"),
        ('level = "grid"\ncounter = "activity"\nthreshold = -1', "positive number"),
    ],
)
def test_unit_window_rules_need_sound_parameters(body: str, message: str) -> None:
    text = f'[[rule]]\nkey = "w"\nkind = "unit_window"\nseverity = "info"\n{body}\n'
    with pytest.raises(RuleError, match=message):
        parse_rules(text)


def test_the_shipped_rules_hold_a_visitor_surge_and_a_hotspot_rule() -> None:
    shipped = Path(__file__).resolve().parents[2] / "domain" / "alert_rules.toml"
    rules = {r.key: r for r in parse_rules(shipped.read_text(encoding="utf-8"))}
    assert rules["visitor_surge"].extra == {
        "level": "community",
        "window": "hour",
        "counter": "g.unregistered",
        "threshold": 30.0,
    }
    assert rules["hotspot"].extra["factor"] == 5.0 and rules["hotspot"].extra["level"] == "grid"
