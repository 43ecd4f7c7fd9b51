"""The language switch: ``/lang/<code>?next=/path`` remembers the choice in a cookie and goes back."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, request
from werkzeug.wrappers import Response

from domain.catalog import LANGUAGES
from runtime.context import AppContext
from runtime.locale import LANG_COOKIE

__all__ = ["register"]

_YEAR_S = 365 * 86400


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the switch (behind the login gate, like every page)."""
    bp = Blueprint("gw_locale", __name__)

    @bp.get("/lang/<code>")
    def switch(code: str) -> Response:
        """Set this browser's language and return to the page it came from (a local path only)."""
        if code not in LANGUAGES:
            abort(404)
        target = request.args.get("next") or "/"
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            target = "/"  # never an open redirect
        resp = redirect(target)
        resp.set_cookie(
            LANG_COOKIE, code, max_age=_YEAR_S, samesite="Lax", httponly=True, secure=ctx.settings.cookie_secure
        )
        return resp

    server.register_blueprint(bp)
