"""Patrol check-ins over HTTP: a day's status of the points in a unit, and checking in at a point."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.catalog import t
from domain.permissions import Action, Principal
from runtime.context import AppContext
from runtime.patrol_service import PatrolError
from security.guards import current_principal

__all__ = ["CheckinBody", "register"]


class CheckinBody(BaseModel):
    """What a phone sends to check in: where it is, and an optional note."""

    model_config = ConfigDict(extra="forbid")

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    note: str = Field(default="", max_length=500)


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the patrol endpoints."""
    patrols = ctx.patrols
    bp = Blueprint("gw_patrols", __name__)

    def me() -> Principal:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return principal

    def refused(exc: PatrolError) -> tuple[Any, int]:
        lang = ctx.lang()
        return jsonify({"error": t(exc.key, lang, **exc.params), "code": exc.key}), exc.status

    @bp.get("/api/v1/patrols")
    @ctx.guard.view(Action.VIEW_CASES, scope=lambda: (request.args.get("unit") or None,))
    def day_status() -> Any:
        """Every patrol point of ``unit`` (default: the caller's) on ``day`` (default: today), checked or not."""
        principal = me()
        unit = request.args.get("unit") or principal.unit_code
        raw_day = request.args.get("day")
        try:
            day = date.fromisoformat(raw_day) if raw_day else patrols.today()
        except ValueError:
            return jsonify({"error": "day is YYYY-MM-DD"}), 400
        try:
            days = patrols.day(principal, unit, day)
        except PatrolError as exc:
            return refused(exc)
        summary = {s: sum(1 for d in days if d.status.value == s) for s in ("checked", "due", "missed")}
        return jsonify(
            {
                "unit": unit,
                "day": day.isoformat(),
                "per_day": patrols.policy.per_day,
                "radius_m": patrols.policy.radius_m,
                "summary": summary,
                "points": [
                    {
                        "id": d.point.id,
                        "grid_code": d.point.grid_code,
                        "name": d.point.name,
                        "lon": d.point.lon,
                        "lat": d.point.lat,
                        "checkins": d.checkins,
                        "status": d.status.value,
                    }
                    for d in days
                ],
            }
        )

    @bp.post("/api/v1/patrols/<int:point_id>/checkins")
    @ctx.guard.view(Action.REPORT)
    def check_in(point_id: int) -> Any:
        """Check in at a point from where the phone is (JSON: lon, lat, note)."""
        try:
            body = CheckinBody.model_validate(request.get_json(silent=True) or {})
        except ValidationError as exc:
            fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
            return jsonify({"error": f"invalid fields: {', '.join(fields)}", "fields": fields}), 400
        try:
            done = patrols.check_in(
                me(), point_id, body.lon, body.lat, request.remote_addr or "-", body.note, source="api"
            )
        except PatrolError as exc:
            return refused(exc)
        c = done.checkin
        return jsonify(
            {
                "checkin": {
                    "id": c.id,
                    "point_id": c.point_id,
                    "ts": c.ts.isoformat(),
                    "distance_m": c.distance_m,
                    "counted": done.counted,
                }
            }
        ), 201

    server.register_blueprint(bp)
