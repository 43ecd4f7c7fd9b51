"""Admin pages: user management for admins, the audit trail for auditors.

Server-rendered forms (no Dash): each view is guarded by its action, an admin manages only
users bound inside their own jurisdiction, and every change and every audit search is
itself audited. Cross-site form posts are refused by the request gate (Origin check).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, request

from domain.catalog import t
from domain.permissions import Action, Role
from security.accounts import AccountError, AccountService
from security.guards import Guard, current_principal
from storage.audit_repository import AuditQuery
from storage.user_repository import UserExists, UserRecord

__all__ = ["admin_pages"]


def admin_pages(accounts: AccountService, guard: Guard, lang: str) -> Blueprint:
    """Return the blueprint of /admin/users and /audit."""
    bp = Blueprint("gw_admin", __name__)

    def actor() -> str:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return principal.username

    def visible_users() -> list[UserRecord]:
        principal = current_principal()
        assert principal is not None
        return [u for u in accounts.users.all() if guard.in_scope(principal, u.unit_code)]

    def target_unit(username: str) -> str | None:
        user = accounts.users.by_username(username)
        return user.unit_code if user else "?"  # unknown users are out of scope: no oracle

    def render_users(messages: list[str], status: int = 200, secret: str = "") -> tuple[str, int]:
        return render_template(
            "admin_users.html",
            lang=lang,
            t=lambda k, **p: t(k, lang, **p),
            users=visible_users(),
            roles=[r.value for r in Role],
            messages=messages,
            secret=secret,
        ), status

    @bp.get("/admin/users")
    @guard.view(Action.MANAGE_USERS)
    def users_page() -> Any:
        """List the users inside the admin's jurisdiction."""
        return render_users([])

    @bp.post("/admin/users")
    @guard.view(Action.MANAGE_USERS, scope=lambda: (request.form.get("unit", "?"),))
    def create_user() -> Any:
        """Create a user inside the admin's jurisdiction; show the one-time password once."""
        form = request.form
        try:
            user, initial = accounts.create(
                actor(),
                form.get("username", "").strip(),
                Role(form.get("role", "")),
                form.get("unit", "").strip(),
                display_name=form.get("name", "").strip(),
            )
        except (AccountError, UserExists, ValueError) as exc:
            return render_users([str(exc) or "invalid"], 400)
        return render_users([t("admin.created", lang, username=user.username)], secret=initial)

    @bp.post("/admin/users/<username>/<change>")
    @guard.view(Action.MANAGE_USERS, scope=lambda username, change: (target_unit(username), request.form.get("unit")))
    def change_user(username: str, change: str) -> Any:
        """Reset a password, change role and unit, or disable/enable an account."""
        try:
            if change == "reset":
                secret = accounts.reset_password(actor(), username)
                return render_users([t("admin.reset", lang, username=username)], secret=secret)
            if change == "role":
                accounts.set_role(actor(), username, Role(request.form.get("role", "")), request.form.get("unit", ""))
            elif change in ("disable", "enable"):
                accounts.set_disabled(actor(), username, change == "disable")
            else:
                return render_users(["?"], 404)
        except (AccountError, ValueError) as exc:
            return render_users([str(exc) or "invalid"], 400)
        return render_users([t("admin.changed", lang, username=username)])

    @bp.get("/audit")
    @guard.view(Action.READ_AUDIT)
    def audit_page() -> Any:
        """Search the trail; the search itself is recorded, so reading leaves a trace too."""
        args = request.args
        try:
            since = datetime.fromisoformat(args["since"]) if args.get("since") else None
            limit = max(1, min(int(args.get("limit", 100)), 1000))
        except ValueError:
            since, limit = None, 100
        query = AuditQuery(
            args.get("actor") or None, args.get("action") or None, args.get("target") or None, since, None, limit
        )
        entries = accounts.audit.search(query)
        accounts.audit.append(
            actor(), "audit.search", "audit", ip=request.remote_addr or "-", detail={k: v for k, v in args.items() if v}
        )
        broken = accounts.audit.verify()
        return render_template(
            "audit.html",
            lang=lang,
            t=lambda k, **p: t(k, lang, **p),
            entries=entries,
            args=args,
            broken=broken,
        )

    return bp
