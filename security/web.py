"""The web side of security: login pages, the gate every request passes, and response headers.

- Sessions are server-side: the cookie carries a random token that Redis maps to a user
  (security.sessions), so logout and disabling take effect at once.
- Every route needs a login except the login page, health and static assets; a user whose
  password must change can do nothing else first.
- State-changing requests from a foreign origin are refused (Dash callback POSTs included,
  which must also be JSON), and every refusal is audited.
- Failed logins are throttled per account+address, per account and per address: an attacker
  at one address cannot lock a real user out from theirs, and every window ends by itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, jsonify, redirect, render_template, request, session
from flask_limiter import Limiter, RequestLimit
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from domain.catalog import t
from domain.permissions import Principal
from security.accounts import AccountError, AccountService, PasswordRejected
from security.admin import admin_pages
from security.guards import Guard
from storage.user_repository import UserRecord

__all__ = ["WebUser", "install"]

PUBLIC_PATHS = frozenset({"/login", "/healthz", "/api/v1/events", "/api/v1/openapi.json"})
PUBLIC_PREFIXES = ("/assets/", "/open311/")  # Open311 checks its callers itself (api.open311)
# Endpoints an external system calls with its key instead of a session; the endpoint checks the key.
API_KEY_HEADER = "X-Api-Key"
API_KEY_PREFIXES = ("/api/v1/verification/batches",)
PASSWORD_PATH = "/account/password"  # noqa: S105 - a URL path, not a secret
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WebUser(UserMixin):  # type: ignore[misc]
    """The logged-in user of one session; Flask-Login's id is the session token."""

    def __init__(self, record: UserRecord, token: str) -> None:
        self.record = record
        self.token = token

    def get_id(self) -> str:
        """Return the session token (what the cookie carries)."""
        return self.token

    @property
    def principal(self) -> Principal:
        """Who is asking, for permission checks."""
        return self.record.principal


def client_ip() -> str:
    """The caller's address (no proxy headers are trusted until a proxy is configured)."""
    return request.remote_addr or "-"


def install(
    server: Flask,
    accounts: AccountService,
    *,
    lang: str,
    redis_url: str,
    login_window_s: int,
    cookie_secure: bool,
    session_hours: float,
    csp_script_hashes: list[str],
    on_logout: Callable[[str], object],
    guard: Guard,
) -> Limiter:
    """Wire login, the request gate and the security headers into the Flask server."""
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cookie_secure,
        SESSION_COOKIE_NAME="__Host-gw_session" if cookie_secure else "gw_session",
        PERMANENT_SESSION_LIFETIME=int(session_hours * 3600),
        REMEMBER_COOKIE_DURATION=0,
    )
    server.template_folder = str(Path(__file__).resolve().parent / "templates")
    manager = LoginManager(server)
    manager.session_protection = "strong"

    @manager.user_loader  # type: ignore[untyped-decorator]
    def load_user(token: str) -> WebUser | None:
        user_id = accounts.sessions.user_of(token)
        record = accounts.users.by_id(user_id) if user_id is not None else None
        if record is None or record.disabled:
            return None
        return WebUser(record, token)

    limiter = Limiter(
        client_ip,
        app=server,
        storage_uri=redis_url.replace("unix://", "redis+unix://", 1) if redis_url.startswith("unix://") else redis_url,
        headers_enabled=True,
        strategy="fixed-window",
        key_prefix="gw-limit",
        on_breach=lambda limit: _throttled(accounts, limit, lang),
    )
    _install_gate(server, accounts)
    _install_headers(server, csp_script_hashes)
    server.register_blueprint(_pages(accounts, limiter, lang, login_window_s, on_logout))
    server.register_blueprint(admin_pages(accounts, guard, lang))
    return limiter


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _form_user() -> str:
    return (request.form.get("username") or "").strip()[:64]


def _pages(
    accounts: AccountService, limiter: Limiter, lang: str, window_s: int, on_logout: Callable[[str], object]
) -> Blueprint:
    bp = Blueprint("gw_security", __name__)
    window = f"{{}} per {window_s} seconds"

    def login_form(errors: list[str], status: int = 200, username: str = "") -> tuple[str, int]:
        fields = [
            {
                "name": "username",
                "type": "text",
                "label": t("login.username", lang),
                "value": username,
                "autofocus": not username,
            },
            {
                "name": "password",
                "type": "password",
                "label": t("login.password", lang),
                "value": "",
                "autofocus": bool(username),
            },
        ]
        html = render_template(
            "login.html",
            lang=lang,
            app_title=t("app.title", lang),
            title=t("login.title", lang),
            notice="",
            errors=errors,
            action="/login",
            fields=fields,
            next=_safe_next(request.values.get("next")),
            submit=t("login.submit", lang),
        )
        return html, status

    @bp.get("/login")
    def login_page() -> Any:
        """Show the login form."""
        if current_user.is_authenticated:
            return redirect("/")
        return login_form([])

    @bp.post("/login")
    @limiter.limit(
        lambda: window.format(5), key_func=lambda: f"login:ip-user:{client_ip()}:{_form_user()}", deduct_when=_failed
    )
    @limiter.limit(lambda: window.format(20), key_func=lambda: f"login:user:{_form_user()}", deduct_when=_failed)
    @limiter.limit(lambda: window.format(50), key_func=lambda: f"login:ip:{client_ip()}", deduct_when=_failed)
    def login_submit() -> Any:
        """Check credentials; the same answer whether the user exists or not."""
        username = _form_user()
        record = accounts.authenticate(username, request.form.get("password") or "", client_ip())
        if record is None:
            return login_form([t("login.failed", lang)], 401, username)
        session.clear()  # a fresh session on login (no fixation)
        token = accounts.sessions.issue(record.id)
        session.permanent = True
        login_user(WebUser(record, token))
        return redirect(PASSWORD_PATH if record.must_change_password else _safe_next(request.form.get("next")))

    @bp.post("/logout")
    def logout() -> Any:
        """End this session everywhere: the token, the cookie, and this session's sockets."""
        if current_user.is_authenticated:
            token = current_user.token
            accounts.sessions.revoke(token)
            accounts.audit.append(current_user.record.username, "logout", current_user.record.username, ip=client_ip())
            on_logout(token)
        logout_user()
        session.clear()
        return redirect("/login")

    def password_form(errors: list[str], status: int = 200, notice: str = "") -> tuple[str, int]:
        fields = [
            {
                "name": "current",
                "type": "password",
                "label": t("password.current", lang),
                "value": "",
                "autofocus": True,
            },
            {"name": "new", "type": "password", "label": t("password.new", lang), "value": "", "autofocus": False},
            {
                "name": "repeat",
                "type": "password",
                "label": t("password.repeat", lang),
                "value": "",
                "autofocus": False,
            },
        ]
        forced = current_user.record.must_change_password
        html = render_template(
            "login.html",
            lang=lang,
            app_title=t("app.title", lang),
            title=t("password.title", lang),
            notice=notice or (t("password.forced", lang) if forced else ""),
            errors=errors,
            action=PASSWORD_PATH,
            fields=fields,
            next="/",
            submit=t("password.submit", lang),
        )
        return html, status

    @bp.get(PASSWORD_PATH)
    def password_page() -> Any:
        """Show the change-password form."""
        return password_form([])

    @bp.post(PASSWORD_PATH)
    @limiter.limit(lambda: window.format(10), key_func=lambda: f"password:{client_ip()}", deduct_when=_failed)
    def password_submit() -> Any:
        """Change the password: current one right, new one twice and within the policy."""
        new, repeat = request.form.get("new") or "", request.form.get("repeat") or ""
        if new != repeat:
            return password_form([t("password.mismatch", lang)], 400)
        try:
            accounts.change_password(current_user.record, request.form.get("current") or "", new, client_ip())
        except PasswordRejected as exc:
            return password_form([t(r, lang) for r in exc.reasons], 400)
        except AccountError as exc:
            return password_form([t(str(exc), lang)], 401)
        return redirect("/")

    return bp


def _throttled(accounts: AccountService, limit: RequestLimit, lang: str) -> Response:
    accounts.audit.append(
        _form_user() or "-",
        "login.throttled",
        request.path,
        outcome="denied",
        ip=client_ip(),
        detail={"limit": str(limit.limit)},
    )
    retry = max(1, int(limit.reset_at - time.time()))
    body = render_template(
        "login.html",
        lang=lang,
        app_title=t("app.title", lang),
        title=t("login.title", lang),
        notice="",
        errors=[t("login.throttled", lang, seconds=retry)],
        action="/login",
        fields=[],
        next="/",
        submit=t("login.submit", lang),
    )
    return Response(body, status=429, headers={"Retry-After": str(retry)})


_LOCAL_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")


def _safe_next(target: str | None) -> str:
    """Only plain local paths: never an open redirect (no //host, no backslash, no control characters)."""
    if not target or not _LOCAL_PATH.fullmatch(target):
        return "/"
    return target


def _same_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def _install_gate(server: Flask, accounts: AccountService) -> None:
    @server.before_request
    def gate() -> Any:
        path = request.path
        if request.method not in SAFE_METHODS:
            origin = request.headers.get("Origin") or request.headers.get("Referer")
            if origin and not _same_origin(origin):
                return _deny(accounts, 403, "cross_site", {"origin": origin[:200]})
            if path.startswith("/_dash-") and not request.is_json:
                return _deny(accounts, 415, "not_json", {})
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return None
        if API_KEY_HEADER in request.headers and path.startswith(API_KEY_PREFIXES):
            return None
        if not current_user.is_authenticated:
            if request.method == "GET" and not path.startswith(("/api/", "/_dash-")):
                return redirect(f"/login?next={path}")
            return jsonify({"error": "login required"}), 401
        if current_user.record.must_change_password and path not in (PASSWORD_PATH, "/logout"):
            if request.method == "GET" and not path.startswith(("/api/", "/_dash-")):
                return redirect(PASSWORD_PATH)
            return jsonify({"error": "password change required"}), 403
        return None


def _deny(accounts: AccountService, status: int, reason: str, detail: dict[str, object]) -> tuple[Response, int]:
    actor = current_user.record.username if current_user.is_authenticated else "-"
    accounts.audit.append(
        actor,
        "request.refused",
        request.path[:256],
        outcome="denied",
        ip=client_ip(),
        detail={"reason": reason, "method": request.method, **detail},
    )
    return jsonify({"error": reason}), status


def _install_headers(server: Flask, script_hashes: list[str]) -> None:
    scripts = " ".join(["'self'", *script_hashes])  # Dash's hashes come quoted
    policy = (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )

    @server.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith(("/api/", "/open311/", "/_dash-update-component", "/login", PASSWORD_PATH)):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
