"""What each event counts towards: the named counters of the per-unit aggregates.

A worker adds one to a single *profile* per event (``gate_pass.in.visitor.red.u``): one
Redis increment per event whatever it counts towards. Reading expands a profile into its
counters: ``t.<kind>`` for every event, gate flows ``g.<direction>.<person>``, unregistered
visitors ``g.unregistered`` (the visitor-surge rule watches it), health-code colours
``hc.<colour>``, vehicle flows ``v.<direction>``. Names, not positions, so a new kind of
event adds names without a migration. Heartbeats are counted by type but are not map
*activity*: they keep a device online and do not colour the map.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

__all__ = ["ACTIVITY_MARK", "UNREGISTERED_VISITORS", "expand", "profile_name", "sum_counters"]

ACTIVITY_MARK = "*"  # leads a profile name the worker also counts as map activity
UNREGISTERED_VISITORS = "g.unregistered"


def profile_name(payload: Mapping[str, Any]) -> str:
    """Return the profile of an event's payload, marked with ``*`` when it is activity on the map.

    >>> profile_name({"kind": "gate_pass", "direction": "in", "person": "visitor", "health_code": "red"})
    '*gate_pass.in.visitor.red.u'
    >>> expand("gate_pass.in.visitor.red.u")
    ('t.gate_pass', 'g.in.visitor', 'hc.red', 'g.unregistered')
    """
    kind = payload["kind"]
    if kind == "heartbeat":
        return "heartbeat"
    if kind == "gate_pass":
        person = payload["person"]
        unregistered = person == "visitor" and not payload.get("visitor_registration")
        colour = payload.get("health_code", "none")
        return f"*gate_pass.{payload['direction']}.{person}.{colour}{'.u' if unregistered else ''}"
    if kind == "vehicle_pass":
        return f"*vehicle_pass.{payload['direction']}"
    return f"*{kind}"


@lru_cache(maxsize=1024)
def expand(profile: str) -> tuple[str, ...]:
    """Return the counters a profile (without its mark) adds one to."""
    kind, *attrs = profile.removeprefix(ACTIVITY_MARK).split(".")
    out = [f"t.{kind}"]
    if kind == "gate_pass" and len(attrs) >= 3:
        out += [f"g.{attrs[0]}.{attrs[1]}", f"hc.{attrs[2]}"]
        if attrs[3:] == ["u"]:
            out.append(UNREGISTERED_VISITORS)
    elif kind == "vehicle_pass" and attrs:
        out.append(f"v.{attrs[0]}")
    return tuple(out)


def sum_counters(profiles: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Add up (profile, count) pairs into counters.

    >>> sum_counters([("alarm", 2), ("gate_pass.out.resident.green", 1)])
    {'t.alarm': 2, 't.gate_pass': 1, 'g.out.resident': 1, 'hc.green': 1}
    """
    out: dict[str, int] = {}
    for profile, n in profiles:
        for counter in expand(profile):
            out[counter] = out.get(counter, 0) + n
    return out
