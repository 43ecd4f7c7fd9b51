"""Alert endpoints: list, act (ack, dispatch, resolve, close) and export as CAP, inside the caller's unit.

Every action is guarded by its permission and by the alert's own unit (an unknown alert is
treated as out of scope, so ids cannot be probed), audited, and pushed to the screens.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from domain.alerts import AlertState, InvalidTransition, Rule, Severity
from domain.cap import CapAlert, CapArea, CapInfo, write_cap
from domain.permissions import Action
from runtime.context import AppContext
from security.guards import current_principal
from storage.alert_repository import AlertRecord, AlertRepository
from streams.aggregates import encode_push

__all__ = ["register"]

_CAP_SEVERITY = {
    Severity.CRITICAL: "Extreme",
    Severity.HIGH: "Severe",
    Severity.WARNING: "Moderate",
    Severity.INFO: "Minor",
}


def register(server: Flask, ctx: AppContext, rules: Sequence[Rule]) -> None:
    """Attach the alert endpoints."""
    alerts = AlertRepository(ctx.engine)
    self_clearing = {r.key for r in rules if r.clears_itself}
    guard = ctx.guard
    h = ctx.hierarchy
    bp = Blueprint("gw_alerts", __name__)

    def name_of(code: str) -> str:
        return h.get(code).name if code in h else code

    def unit_of(alert_id: int) -> str:
        try:
            return alerts.get(alert_id).unit_code
        except KeyError:
            return "?"  # unknown ids look exactly like out-of-scope ones

    def actor() -> str:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return principal.username

    def announce(a: AlertRecord) -> None:
        ctx.redis.publish(ctx.keys.push_channel, encode_push("alerts", {"alerts": [a.to_wire(name_of)]}))

    def audit(action: str, a: AlertRecord, outcome: str = "ok", **detail: object) -> None:
        ctx.audit.append(
            actor(),
            action,
            f"alert:{a.id}",
            outcome=outcome,
            ip=request.remote_addr or "-",
            detail={"unit": a.unit_code, **detail},
        )

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}

    @bp.get("/api/v1/alerts")
    @guard.view(Action.VIEW_MAP)
    def list_alerts() -> Response:
        """Open alerts inside the caller's unit, most severe and newest first (filters: severity, unit)."""
        principal = current_principal()
        assert principal is not None
        wanted_unit = request.args.get("unit")
        severity = request.args.get("severity")
        out = []
        for a in alerts.open_alerts(limit=2000):
            if not guard.in_scope(principal, a.unit_code):
                continue
            if wanted_unit and not guard.in_scope_code(wanted_unit, a.unit_code):
                continue
            if severity and a.severity.name.lower() != severity:
                continue
            out.append(a.to_wire(name_of))
        limit = request.args.get("limit", "500")
        return jsonify({"alerts": out[: int(limit) if limit.isdigit() else 500]})

    @bp.post("/api/v1/alerts/<int:alert_id>/ack")
    @guard.view(Action.ACK_ALERT, scope=lambda alert_id: (unit_of(alert_id),))
    def ack(alert_id: int) -> Any:
        """Take ownership; if someone was faster, say who (exactly one owner, ever)."""
        result = alerts.acknowledge(alert_id, actor(), str(body().get("comment", ""))[:500])
        a = result.alert
        audit("alert.ack", a, "ok" if result.won else "lost", owner=a.acked_by)
        if result.won:
            announce(a)
            return jsonify({"won": True, "alert": a.to_wire(name_of)})
        return jsonify({"won": False, "owner": a.acked_by, "alert": a.to_wire(name_of)}), 409

    def step(alert_id: int, target: AlertState, **kwargs: Any) -> Any:
        note = str(body().get("note", ""))[:2000]
        try:
            a = alerts.transition(alert_id, target, actor(), note, **kwargs)
        except InvalidTransition as exc:
            current = alerts.get(alert_id)
            audit(f"alert.{target.value}", current, "refused", reason=str(exc))
            return jsonify({"error": str(exc), "alert": current.to_wire(name_of)}), 409
        audit(f"alert.{target.value}", a, note=note)
        announce(a)
        return jsonify({"alert": a.to_wire(name_of)})

    @bp.post("/api/v1/alerts/<int:alert_id>/dispatch")
    @guard.view(Action.DISPATCH, scope=lambda alert_id: (unit_of(alert_id),))
    def dispatch(alert_id: int) -> Any:
        """Send an acknowledged alert to a grid worker or unit."""
        to = str(body().get("to", "")).strip()[:128]
        if not to:
            return jsonify({"error": "'to' names who handles it"}), 400
        return step(alert_id, AlertState.DISPATCHED, dispatched_to=to)

    @bp.post("/api/v1/alerts/<int:alert_id>/resolve")
    @guard.view(Action.ACK_ALERT, scope=lambda alert_id: (unit_of(alert_id),))
    def resolve(alert_id: int) -> Any:
        """Record how it was handled."""
        return step(alert_id, AlertState.RESOLVED)

    @bp.post("/api/v1/alerts/<int:alert_id>/close")
    @guard.view(Action.ACK_ALERT, scope=lambda alert_id: (unit_of(alert_id),))
    def close(alert_id: int) -> Any:
        """Close a resolved alert whose condition has cleared."""
        a = alerts.get(alert_id)
        if a.cleared_at is None and a.rule_key not in self_clearing:
            alerts.mark_cleared(alert_id)  # a one-off event (button, red code) is over once resolved
        return step(alert_id, AlertState.CLOSED)

    @bp.get("/api/v1/alerts/<int:alert_id>.cap.xml")
    @guard.view(Action.VIEW_MAP, scope=lambda alert_id: (unit_of(alert_id),))
    def cap(alert_id: int) -> Response:
        """Export one alert as OASIS CAP 1.2 (audited, like every export)."""
        a = alerts.get(alert_id)
        audit("alert.export_cap", a)
        return Response(write_cap(cap_of(a)), mimetype="application/cap+xml")

    def cap_of(a: AlertRecord) -> CapAlert:
        unit = h.get(a.unit_code)
        path = [name_of(c) for c in reversed(h.ancestors(a.unit_code))] + [unit.name]
        geom = unit.geometry
        rings = [list(p.exterior.coords) for p in getattr(geom, "geoms", [geom])]
        info = CapInfo(
            event=a.text,
            category="Safety",
            urgency="Immediate" if a.severity >= Severity.HIGH else "Expected",
            severity=_CAP_SEVERITY[a.severity],
            certainty="Observed",
            headline=f"{a.text} · {unit.name}",
            description=json.dumps({"count": a.count, "state": a.state.value, "owner": a.acked_by}, ensure_ascii=False),
            sender_name=h.city.name,
            parameters=[("rule", a.rule_key), ("count", str(a.count))],
            areas=[
                CapArea(" › ".join(path), [[(x, y) for x, y, *_ in r] for r in rings], [("GB/T 2260", a.unit_code)])
            ],
        )
        return CapAlert(
            f"gridwatch-{h.city.code}-{a.id}",
            f"gridwatch@{h.city.code}",
            a.first_seen,
            restriction="Gridwatch duty staff",
            infos=[info],
        )

    server.register_blueprint(bp)
