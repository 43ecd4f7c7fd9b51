"""The Open311 GeoReport v2 door of the 12345 hotline: /open311/v2/… in .json and .xml.

Who may do what (docs/open311.md):
- the discovery document, services and service definitions are public: the city's category
  list, no case data;
- filing a request needs an ``api_key`` with the ``open311`` scope; the key's unit bounds where;
- reading requests needs such a key, or a signed-in person whose role may view cases; either
  sees only its unit's subtree, and never the reporter's personal data.
Errors use the spec's error list with the matching HTTP status (400, 403, 404), never 500 for
bad input. The login gate lets /open311/ through (security.web); this module checks callers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, request
from flask_login import current_user

from api.open311_format import FORMATS, render
from domain.catalog import t
from domain.open311 import (
    Open311Error,
    ServiceRequest,
    discovery_record,
    error_records,
    language_for,
    parse_query,
    parse_service_request,
    post_record,
    service_definition,
    service_record,
    token_record,
)
from domain.permissions import Action, allowed
from runtime.case_service import CaseError
from runtime.context import AppContext
from runtime.open311_service import Open311Service, Reader
from security.guards import current_principal
from storage.api_client_repository import ApiClient, ApiClientRepository

__all__ = ["DISCOVERY", "PREFIX", "register"]

PREFIX = "/open311/v2"
DISCOVERY = "/open311/discovery"


class _Refused(Exception):
    """Answer with the spec's error list instead of the payload."""

    def __init__(self, errors: list[Open311Error]) -> None:
        super().__init__("; ".join(e.description for e in errors))
        self.errors = errors

    @classmethod
    def one(cls, status: int, description: str) -> _Refused:
        """A refusal with one error."""
        return cls([Open311Error(status, description)])


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the Open311 endpoints."""
    door = Open311Service(
        ctx.cases,
        ApiClientRepository(ctx.engine),
        ctx.audit,
        ctx.hierarchy,
        utc_offset_min=ctx.settings.utc_offset_min,
    )
    config = ctx.cases.config
    default_lang = ctx.settings.language
    bp = Blueprint("gw_open311", __name__)

    def lang() -> str:
        return language_for(request.values.get("locale"), list(request.accept_languages), default_lang)

    def ip() -> str:
        return request.remote_addr or "-"

    def errors(errs: list[Open311Error], fmt: str) -> Response:
        status = max(e.code for e in errs)
        return render(error_records(errs), "errors", fmt, status)

    def answer(fmt: str, build: Callable[[], tuple[Any, str]]) -> Response:
        """Check the format, run the endpoint, and render its payload or its refusal."""
        if fmt not in FORMATS:
            return errors([Open311Error(404, t("open311.error.format", lang(), fmt=fmt[:20]))], "json")
        try:
            payload, root = build()
        except _Refused as exc:
            return errors(exc.errors, fmt)
        return render(payload, root, fmt)

    def client_of(key: str) -> ApiClient:
        """The client of an api_key; refused (403, audited) when missing, unknown, revoked or without the scope."""
        if not key:
            door.refuse("-", request.path, "api_key missing", ip())
            raise _Refused.one(403, t("open311.error.api_key_missing", lang()))
        client = door.client(key)
        if client is None:
            door.refuse("-", request.path, "api_key invalid", ip())
            raise _Refused.one(403, t("open311.error.api_key_invalid", lang()))
        return client

    def reader() -> Reader:
        """A client by its key, else a signed-in person who may view cases."""
        key = request.args.get("api_key", "")
        if key:
            client = client_of(key)
            return Reader(f"open311:{client.name}", client.unit_code)
        principal = current_principal()
        if principal is None:
            door.refuse("-", request.path, "api_key missing", ip())
            raise _Refused.one(403, t("open311.error.api_key_missing", lang()))
        if not allowed(principal, Action.VIEW_CASES) or current_user.record.must_change_password:
            door.refuse(principal.username, request.path, "role", ip())
            raise _Refused.one(403, t("open311.error.api_key_missing", lang()))
        return Reader(principal.username, principal.unit_code)

    def jurisdiction(who: Reader, code: str) -> str | None:
        """The unit a jurisdiction_id names, inside the caller's unit (refused otherwise)."""
        if not code:
            return None
        if not door.within(who.unit_code, code):
            door.refuse(who.name, request.path, "jurisdiction", ip())
            raise _Refused.one(403, t("open311.error.jurisdiction", lang(), code=code[:40]))
        return code

    @bp.get(f"{DISCOVERY}.<fmt>")
    def discovery(fmt: str) -> Response:
        """The spec's service discovery document (public)."""
        base = request.host_url.rstrip("/") + PREFIX
        media = [m.split(";")[0] for m in FORMATS.values()]
        return answer(fmt, lambda: (discovery_record(base, media, lang()), "discovery"))

    @bp.get(f"{PREFIX}/services.<fmt>")
    def services(fmt: str) -> Response:
        """Every category as an Open311 service."""
        return answer(
            fmt,
            lambda: (
                [service_record(c, config.departments[c.department], lang()) for c in config.categories],
                "services",
            ),
        )

    @bp.get(f"{PREFIX}/services/<code>.<fmt>")
    def definition(code: str, fmt: str) -> Response:
        """One category's attributes (an empty list when it asks nothing more)."""

        def build() -> tuple[Any, str]:
            category = config.categories_by_code.get(code)
            if category is None:
                raise _Refused.one(404, t("open311.error.service_unknown", lang(), code=code[:64]))
            return service_definition(category, lang()), "service_definition"

        return answer(fmt, build)

    @bp.post(f"{PREFIX}/requests.<fmt>")
    def create(fmt: str) -> Response:
        """File a request from a hotline system (form-encoded, as the spec says)."""

        def build() -> tuple[Any, str]:
            client = client_of(request.values.get("api_key", ""))
            parsed = parse_service_request(request.form.items(multi=True), config.categories_by_code, lang())
            if not isinstance(parsed, ServiceRequest):
                raise _Refused(parsed)
            if parsed.jurisdiction_id:
                jurisdiction(Reader(f"open311:{client.name}", client.unit_code), parsed.jurisdiction_id)
            try:
                case, notice = door.file(client, parsed, lang(), ip())
            except CaseError as exc:
                raise _Refused.one(400, t("open311.error.rejected", lang(), reason=str(exc))) from None
            return [post_record(case.id, case.token, notice)], "service_requests"

        return answer(fmt, build)

    @bp.get(f"{PREFIX}/requests.<fmt>")
    def find(fmt: str) -> Response:
        """Requests in the caller's unit: by ids, or filtered by code, status and dates (90 days, 1000 at most)."""

        def build() -> tuple[Any, str]:
            who = reader()
            query = parse_query(request.args, door.cases.now(), door.tz, lang())
            if isinstance(query, list):
                raise _Refused(query)
            within = jurisdiction(who, query.jurisdiction_id)
            return door.records(door.find(who, query, within), lang()), "service_requests"

        return answer(fmt, build)

    @bp.get(f"{PREFIX}/requests/<request_id>.<fmt>")
    def one(request_id: str, fmt: str) -> Response:
        """One request, as a list of one (the spec's shape)."""

        def build() -> tuple[Any, str]:
            who = reader()
            case = door.one(who, int(request_id)) if request_id.isdigit() and len(request_id) < 19 else None
            if case is None:
                raise _Refused.one(404, t("open311.error.request_unknown", lang(), id=request_id[:40]))
            return door.records([case], lang()), "service_requests"

        return answer(fmt, build)

    @bp.get(f"{PREFIX}/tokens/<token>.<fmt>")
    def token(token: str, fmt: str) -> Response:
        """The request id behind a token."""

        def build() -> tuple[Any, str]:
            who = reader()
            case = door.by_token(who, token[:64])
            if case is None:
                raise _Refused.one(404, t("open311.error.token_unknown", lang(), token=token[:64]))
            return [token_record(case.id, case.token)], "service_requests"

        return answer(fmt, build)

    server.register_blueprint(bp)
