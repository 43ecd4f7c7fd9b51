"""Case endpoints for signed-in people: list, read, and take workflow steps, inside the caller's unit.

The steps themselves, with their permission and jurisdiction checks, are ``ctx.cases`` (shared
with the pages and the Open311 door); a case outside the caller's unit answers 404 like a case
that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from domain.cases import CaseAction, CaseState, actions_from
from domain.permissions import Action, Principal
from runtime.case_service import BadCaseInput, CaseDenied, CaseError, UnknownCase
from runtime.context import AppContext
from security.guards import current_principal
from storage.case_repository import CaseFilter

__all__ = ["filter_from_args", "register"]

_MAX_LIMIT = 1000


def filter_from_args(args: Any, now: datetime) -> CaseFilter:
    """A case filter from query arguments (state, service_code, overdue=1, open=1, assignee, limit, offset)."""
    states = []
    for raw in args.getlist("state"):
        for part in raw.split(","):
            if part:
                try:
                    states.append(CaseState(part))
                except ValueError:
                    raise BadCaseInput(f"state: unknown state {part!r}") from None
    codes = [c for raw in args.getlist("service_code") for c in raw.split(",") if c]
    limit = args.get("limit", "200")
    offset = args.get("offset", "0")
    if not limit.isdigit() or not offset.isdigit():
        raise BadCaseInput("limit and offset are whole numbers")
    return CaseFilter(
        states=states,
        service_codes=codes,
        assignee=args.get("assignee") or None,
        overdue_at=now if args.get("overdue") == "1" else None,
        open_only=args.get("open") == "1",
        limit=min(int(limit), _MAX_LIMIT),
        offset=int(offset),
    )


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the case endpoints."""
    cases = ctx.cases
    guard = ctx.guard
    bp = Blueprint("gw_cases", __name__)

    def me() -> Principal:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return principal

    def error(exc: CaseError) -> tuple[Response, int]:
        status = 409  # the case's state does not allow it (or it moved meanwhile)
        if isinstance(exc, UnknownCase):
            status = 404
        elif isinstance(exc, CaseDenied):
            status = 403
        elif isinstance(exc, BadCaseInput):
            status = 400
        return jsonify({"error": str(exc)}), status

    @bp.get("/api/v1/cases")
    @guard.view(Action.VIEW_CASES)
    def list_cases() -> Any:
        """Cases inside the caller's unit (or ``unit`` inside it), newest first, with the total."""
        lang = ctx.lang()
        try:
            f = filter_from_args(request.args, cases.now())
        except CaseError as exc:
            return error(exc)
        within = request.args.get("unit") or None
        found = cases.find(me(), f, within=within)
        now = cases.now()
        return jsonify(
            {"cases": [cases.wire(c, lang, now=now) for c in found], "total": cases.count(me(), f, within=within)}
        )

    @bp.get("/api/v1/cases/<int:case_id>")
    @guard.view(Action.VIEW_CASES)
    def get_case(case_id: int) -> Any:
        """One case with its steps, photos and the steps allowed next."""
        lang = ctx.lang()
        try:
            case = cases.visible(me(), case_id)
        except CaseError as exc:
            return error(exc)
        body = cases.wire(case, lang)
        body["steps"] = [
            {
                "ts": s.ts.isoformat(),
                "actor": s.actor,
                "action": s.action,
                "from": s.from_state,
                "to": s.to_state,
                "note": s.note,
                "unit_code": s.unit_code,
                "department": s.department,
                "assignee": s.assignee,
                "on_time": s.on_time,
            }
            for s in cases.cases.steps([case.id])[case.id]
        ]
        body["photos"] = [
            {"id": p.id, "mime": p.mime, "size": p.size, "url": f"/api/v1/cases/{case.id}/photos/{p.id}"}
            for p in cases.cases.photos(case.id)
        ]
        body["next"] = [a.value for a in actions_from(case.state)]
        return jsonify(body)

    @bp.post("/api/v1/cases/<int:case_id>/<action>")
    @guard.view(Action.VIEW_CASES)
    def act(case_id: int, action: str) -> Any:
        """Take one workflow step (JSON: note, grid, department, assignee, satisfaction, version)."""
        lang = ctx.lang()
        try:
            step = CaseAction(action)
        except ValueError:
            return jsonify({"error": f"unknown action {action!r}"}), 404
        data = request.get_json(silent=True)
        data = data if isinstance(data, dict) else {}
        satisfaction = data.get("satisfaction")
        version = data.get("version")
        if satisfaction is not None and (isinstance(satisfaction, bool) or not isinstance(satisfaction, int)):
            return jsonify({"error": "satisfaction is a whole number from 1 to 5"}), 400
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            return jsonify({"error": "version is a whole number"}), 400
        try:
            case = cases.act(
                me(),
                case_id,
                step,
                request.remote_addr or "-",
                note=str(data.get("note", "")),
                grid_code=_opt(data.get("grid")),
                department=_opt(data.get("department")),
                assignee=_opt(data.get("assignee")),
                satisfaction=satisfaction,
                expected_version=version,
            )
        except CaseError as exc:
            return error(exc)
        return jsonify({"case": cases.wire(case, lang)})

    @bp.get("/api/v1/case-categories")
    @guard.view(Action.VIEW_CASES)
    def categories() -> Response:
        """Categories and departments, for forms."""
        lang = ctx.lang()
        cfg = cases.config
        return jsonify(
            {
                "categories": [
                    {"service_code": c.service_code, "name": c.name(lang), "department": c.department, "group": c.group}
                    for c in cfg.categories
                ],
                "departments": [{"code": d.code, "name": d.name(lang)} for d in cfg.departments.values()],
            }
        )

    server.register_blueprint(bp)


def _opt(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
