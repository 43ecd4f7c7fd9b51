"""Alert endpoints: list, act (ack, dispatch, resolve, close) and export as CAP, inside the caller's unit.

Every action is guarded by its permission and by the alert's own unit (an unknown alert is
treated as out of scope, so ids cannot be probed), audited, and pushed to the screens.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from domain.alerts import Severity
from domain.cap import CapAlert, CapArea, CapInfo, write_cap
from domain.permissions import Action
from runtime.alert_actions import MissingInput, Outcome
from runtime.context import AppContext
from security.guards import current_principal
from storage.alert_repository import AlertRecord

__all__ = ["register"]

_CAP_SEVERITY = {
    Severity.CRITICAL: "Extreme",
    Severity.HIGH: "Severe",
    Severity.WARNING: "Moderate",
    Severity.INFO: "Minor",
}


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the alert endpoints; the steps themselves are ``ctx.alerts`` (shared with the duty page)."""
    actions = ctx.alerts
    alerts = actions.alerts
    guard = ctx.guard
    h = ctx.hierarchy
    name_of = actions.name_of
    unit_of = actions.unit_of
    bp = Blueprint("gw_alerts", __name__)

    def actor() -> str:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return principal.username

    def ip() -> str:
        return request.remote_addr or "-"

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}

    def note() -> str:
        return str(body().get("note", ""))

    @bp.get("/api/v1/alerts")
    @guard.view(Action.VIEW_MAP)
    def list_alerts() -> Response:
        """Open alerts inside the caller's unit, most severe and newest first (filters: severity, unit).

        ``seq`` is the alert sequence number read before the alerts: a screen that resyncs from this
        answer applies later pushes on top of it.
        """
        principal = current_principal()
        assert principal is not None
        limit = request.args.get("limit", "500")
        listing = actions.open_for(
            principal,
            severity=request.args.get("severity"),
            unit=request.args.get("unit"),
            limit=min(int(limit), 2000) if limit.isdigit() else 500,
        )
        return jsonify({"alerts": listing.alerts, "seq": listing.seq})

    @bp.post("/api/v1/alerts/<int:alert_id>/ack")
    @guard.view(Action.ACK_ALERT, scope=lambda alert_id: (unit_of(alert_id),))
    def ack(alert_id: int) -> Any:
        """Take ownership; if someone was faster, say who (exactly one owner, ever)."""
        out = actions.acknowledge(alert_id, actor(), str(body().get("comment", "")), ip())
        if out.done:
            return jsonify({"won": True, "alert": actions.wire(out.alert)})
        return jsonify({"won": False, "owner": out.alert.acked_by, "alert": actions.wire(out.alert)}), 409

    def answer(out: Outcome) -> Any:
        if out.done:
            return jsonify({"alert": actions.wire(out.alert)})
        return jsonify({"error": out.reason, "alert": actions.wire(out.alert)}), 409

    @bp.post("/api/v1/alerts/<int:alert_id>/dispatch")
    @guard.view(Action.DISPATCH, scope=lambda alert_id: (unit_of(alert_id),))
    def dispatch(alert_id: int) -> Any:
        """Send an acknowledged alert to a grid worker or unit."""
        try:
            return answer(actions.dispatch(alert_id, actor(), str(body().get("to", "")), note(), ip()))
        except MissingInput as exc:
            return jsonify({"error": str(exc)}), 400

    @bp.post("/api/v1/alerts/<int:alert_id>/resolve")
    @guard.view(Action.ACK_ALERT, scope=lambda alert_id: (unit_of(alert_id),))
    def resolve(alert_id: int) -> Any:
        """Record how it was handled."""
        return answer(actions.resolve(alert_id, actor(), note(), ip()))

    @bp.post("/api/v1/alerts/<int:alert_id>/close")
    @guard.view(Action.ACK_ALERT, scope=lambda alert_id: (unit_of(alert_id),))
    def close(alert_id: int) -> Any:
        """Close a resolved alert whose condition has cleared."""
        return answer(actions.close(alert_id, actor(), note(), ip()))

    @bp.get("/api/v1/alerts/<int:alert_id>.cap.xml")
    @guard.view(Action.VIEW_MAP, scope=lambda alert_id: (unit_of(alert_id),))
    def cap(alert_id: int) -> Response:
        """Export one alert as OASIS CAP 1.2 (audited, like every export)."""
        a = alerts.get(alert_id)
        ctx.audit.append(actor(), "alert.export_cap", f"alert:{a.id}", ip=ip(), detail={"unit": a.unit_code})
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
