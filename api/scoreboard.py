"""The assessment scoreboard over HTTP: rows as JSON, or a CSV a spreadsheet opens (Chinese intact).

``GET /api/v1/scoreboard?by=worker|unit&unit=CODE&from=YYYY-MM-DD&to=YYYY-MM-DD&sort=KEY&order=desc``
and the same under ``/api/v1/scoreboard.csv`` (needs EXPORT; audited). A unit outside the
caller's jurisdiction is refused (403, audited) before anything is counted.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from domain.permissions import Action, Principal
from runtime.context import AppContext
from runtime.scoreboard_service import BadScoreQuery, ScoreDenied, ScoreQuery
from security.guards import current_principal

__all__ = ["register"]


def _asked_unit(*_args: Any, **_kwargs: Any) -> tuple[str | None, ...]:
    return (request.args.get("unit") or None,)


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the scoreboard endpoints."""
    guard = ctx.guard
    service = ctx.scoreboard
    bp = Blueprint("gw_scoreboard", __name__)

    def me() -> Principal:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return principal

    def lang() -> str:
        wanted = request.args.get("lang")
        return wanted if wanted in ("zh-CN", "en") else ctx.lang()

    @bp.get("/api/v1/scoreboard")
    @guard.view(Action.VIEW_CASES, scope=_asked_unit)
    def scoreboard() -> Any:
        """Rows per grid worker or per child unit, sorted."""
        try:
            board = service.board(me(), ScoreQuery.parse(request.args))
        except BadScoreQuery as exc:
            return jsonify({"error": str(exc)}), 400
        except ScoreDenied:
            return jsonify({"error": "forbidden"}), 403
        return jsonify(board.as_dict())

    @bp.get("/api/v1/scoreboard.csv")
    @guard.view(Action.EXPORT, scope=_asked_unit)
    def scoreboard_csv() -> Any:
        """The same rows as CSV (UTF-8 with BOM, headers in the caller's language, formula-safe cells)."""
        try:
            board, text = service.export(me(), ScoreQuery.parse(request.args), lang(), request.remote_addr or "-")
        except BadScoreQuery as exc:
            return jsonify({"error": str(exc)}), 400
        except ScoreDenied:
            return jsonify({"error": "forbidden"}), 403
        name = f"scoreboard-{board.by}-{board.unit}-{board.start.isoformat()}-{board.end.isoformat()}.csv"
        return Response(
            text.encode("utf-8"),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    server.register_blueprint(bp)
