"""Open311 GeoReport v2, pure: request fields into typed inputs (or errors), cases into spec records.

The HTTP door (``api/open311.py``) reads the fields, calls these functions and renders what
they return as JSON or XML (``api/open311_format.py``); nothing here knows Flask or storage.
Spec: http://wiki.open311.org/GeoReport_v2 . Field names and their order follow the spec's
example payloads. Identifiers (service_request_id, token, service_code) are strings, as the
spec defines them, even where its examples print bare numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from domain.case_config import Category, Department, ServiceAttribute
from domain.cases import CaseState
from domain.catalog import t

__all__ = [
    "CLOSED_STATES",
    "DEFAULT_SPAN",
    "MAX_REQUESTS",
    "CaseFacts",
    "Open311Error",
    "RequestQuery",
    "ServiceRequest",
    "case_description",
    "discovery_record",
    "error_records",
    "language_for",
    "parse_query",
    "parse_service_request",
    "post_record",
    "service_definition",
    "service_notice",
    "service_record",
    "service_request_record",
    "states_for",
    "status_of",
    "token_record",
    "w3c",
]

# Gridwatch states an Open311 client sees as "closed": handled (closed, evaluated) or refused.
CLOSED_STATES: frozenset[CaseState] = frozenset({CaseState.CLOSED, CaseState.EVALUATED, CaseState.REJECTED})
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
# When what this server offers last changed (the discovery document's sortable changeset).
CHANGESET = "2026-11-23T00:00:00+08:00"
DEFAULT_SPAN = timedelta(days=90)  # spec: "a span of 90 days or first 1000 requests, whichever is smallest"
MAX_REQUESTS = 1000
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# "…T08:00:00 08:00": an offset's "+" sent unescaped in a query string arrives as a space.
_SPACED_OFFSET = re.compile(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:\d\d)$")
_CONTACT = ("email", "device_id", "account_id", "first_name", "last_name", "phone")


@dataclass(frozen=True, slots=True)
class Open311Error:
    """One entry of the spec's error list: an HTTP status and what went wrong."""

    code: int
    description: str


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """A validated POST /requests: what to file, where, and who to call back (personal data)."""

    service_code: str
    description: str
    lat: float | None = None
    long: float | None = None
    address: str = ""
    address_id: str = ""
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    contact: Mapping[str, str] = field(default_factory=dict)
    media_url: str | None = None
    jurisdiction_id: str = ""


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """A validated GET /requests: by ids (the other filters then do not apply), or by filters in a window."""

    ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: frozenset[str] = frozenset()
    start: datetime | None = None
    end: datetime | None = None
    jurisdiction_id: str = ""
    limit: int = MAX_REQUESTS


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What an Open311 record shows of a case (never the reporter's personal data)."""

    id: int
    token: str
    state: CaseState
    service_code: str
    service_name: str
    description: str
    agency_responsible: str
    service_notice: str | None
    status_notes: str | None
    requested: datetime
    updated: datetime
    expected: datetime | None
    address: str
    lat: float | None
    lon: float | None
    media_url: str | None


class _PostForm(BaseModel):
    """The plain fields of POST /requests; pydantic checks types, ranges and lengths."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    service_code: str = Field(default="", max_length=64)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    long: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    address_string: str = Field(default="", max_length=500)
    address_id: str = Field(default="", max_length=100)
    email: str = Field(default="", max_length=254)
    device_id: str = Field(default="", max_length=200)
    account_id: str = Field(default="", max_length=200)
    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=40)
    description: str = Field(default="", max_length=4000)
    media_url: str = Field(default="", max_length=2000)
    jurisdiction_id: str = Field(default="", max_length=64)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        """Refuse NUL and other control characters: no database stores NUL, and none belongs in a request."""
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            raise PydanticCustomError("control_character", "contains a control character")
        return value


# C0 controls but tab, line feed and carriage return, and DEL: never part of a citizen's text.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_PYDANTIC_KEYS = {
    "control_character": "open311.error.control_character",
    "float_parsing": "open311.error.number",
    "float_type": "open311.error.number",
    "finite_number": "open311.error.number",
    "greater_than_equal": "open311.error.range",
    "less_than_equal": "open311.error.range",
    "string_too_long": "open311.error.too_long",
}


def parse_service_request(
    fields: Iterable[tuple[str, str]], categories: Mapping[str, Category], lang: str = "zh-CN"
) -> ServiceRequest | list[Open311Error]:
    """Validate the form fields of POST /requests; return the request, or every error found (400).

    >>> from domain.case_config import load_case_config
    >>> cats = load_case_config().categories_by_code
    >>> r = parse_service_request([("service_code", "noise"), ("lat", "32.05"), ("long", "118.78")], cats)
    >>> r.service_code, r.lat, r.long
    ('noise', 32.05, 118.78)
    >>> [e.description for e in parse_service_request([("service_code", "noise")], cats, "en")]
    ['A location is required: lat and long, or address_string, or address_id']
    """
    plain: dict[str, str] = {}
    answers: dict[str, list[str]] = {}
    for key, value in fields:
        match = _ATTRIBUTE.match(key)
        if match:
            if CONTROL_CHARACTERS.search(value):
                return [Open311Error(400, t("open311.error.control_character", lang, field=key))]
            if value.strip():
                answers.setdefault(match.group(1), []).append(value.strip())
        elif key not in plain:  # the first of repeated plain fields counts
            plain[key] = value
    try:
        form = _PostForm.model_validate({k: v for k, v in plain.items() if v.strip()})
    except ValidationError as exc:
        return [_pydantic_error(e, lang) for e in exc.errors()]
    errors: list[Open311Error] = []
    category = categories.get(form.service_code)
    if not form.service_code:
        errors.append(Open311Error(400, t("open311.error.service_code_missing", lang)))
    elif category is None:
        errors.append(Open311Error(400, t("open311.error.service_unknown", lang, code=form.service_code)))
    if (form.lat is None) != (form.long is None):
        errors.append(Open311Error(400, t("open311.error.lat_long_pair", lang)))
    elif form.lat is None and not form.address_string and not form.address_id:
        errors.append(Open311Error(400, t("open311.error.location", lang)))
    if form.email and not _EMAIL.match(form.email):
        errors.append(Open311Error(400, t("open311.error.email", lang)))
    if form.media_url and not form.media_url.lower().startswith(("http://", "https://")):
        errors.append(Open311Error(400, t("open311.error.media_url", lang)))
    if category is not None:
        errors.extend(_check_attributes(category, answers, lang))
    if errors:
        return errors
    assert category is not None
    return ServiceRequest(
        service_code=category.service_code,
        description=form.description,
        lat=form.lat,
        long=form.long,
        address=form.address_string,
        address_id=form.address_id,
        attributes={k: tuple(v) for k, v in answers.items()},
        contact={k: getattr(form, k) for k in _CONTACT if getattr(form, k)},
        media_url=form.media_url or None,
        jurisdiction_id=form.jurisdiction_id,
    )


def _pydantic_error(error: Any, lang: str) -> Open311Error:
    name = str(error["loc"][0]) if error.get("loc") else "?"
    key = _PYDANTIC_KEYS.get(str(error.get("type")), "open311.error.invalid")
    return Open311Error(400, t(key, lang, field=name))


def _check_attributes(category: Category, answers: Mapping[str, list[str]], lang: str) -> list[Open311Error]:
    known = {a.code: a for a in category.attributes}
    errors = [
        Open311Error(400, t("open311.error.attribute_unknown", lang, code=category.service_code, attribute=code))
        for code in answers
        if code not in known
    ]
    for attr in category.attributes:
        given = answers.get(attr.code, [])
        if not given:
            if attr.required:
                errors.append(Open311Error(400, t("open311.error.attribute_required", lang, attribute=attr.code)))
            continue
        if attr.datatype == "singlevaluelist" and len(given) > 1:
            errors.append(Open311Error(400, t("open311.error.attribute_single", lang, attribute=attr.code)))
        keys = {v.key for v in attr.values}
        for value in given if keys else ():
            if value not in keys:
                errors.append(
                    Open311Error(400, t("open311.error.attribute_value", lang, attribute=attr.code, value=value[:50]))
                )
    return errors


def case_description(request: ServiceRequest, category: Category, lang: str) -> str:
    """The case's description: the caller's text, then one line per attribute answer (by its name).

    Gridwatch keeps no separate attribute store; answers are part of what the handler reads.
    """
    lines = [request.description.strip()] if request.description.strip() else []
    for attr in category.attributes:
        given = request.attributes.get(attr.code)
        if given:
            answer = (", " if lang == "en" else "、").join(_answer_name(attr, v, lang) for v in given)
            lines.append(t("open311.attribute.line", lang, question=attr.description(lang), answer=answer))
    return "\n".join(lines) or category.name(lang)


def _answer_name(attr: ServiceAttribute, value: str, lang: str) -> str:
    for v in attr.values:
        if v.key == value:
            return v.name(lang)
    return value


def parse_query(
    args: Mapping[str, str], now: datetime, tz: timezone, lang: str = "zh-CN"
) -> RequestQuery | list[Open311Error]:
    """Validate the filters of GET /requests; ids win over every other filter, as the spec says.

    Without dates the window is the last 90 days; with one date, 90 days from or to it. A
    datetime without an offset is read in the city's time zone ``tz``.

    >>> from datetime import UTC
    >>> now = datetime(2026, 11, 23, tzinfo=UTC)
    >>> q = parse_query({"status": "open,closed", "service_code": "noise,other"}, now, UTC)
    >>> q.start, q.end, sorted(q.statuses), q.service_codes
    (datetime.datetime(2026, 8, 25, 0, 0, tzinfo=datetime.timezone.utc), None, ['closed', 'open'], ('noise', 'other'))
    >>> parse_query({"service_request_id": "12,13", "status": "bogus"}, now, UTC).ids
    (12, 13)
    """
    errors: list[Open311Error] = []
    jurisdiction = (args.get("jurisdiction_id") or "").strip()
    raw_ids = _csv(args.get("service_request_id"))
    if raw_ids:
        ids: list[int] = []
        for raw in raw_ids:
            if raw.isdigit() and len(raw) < 19:
                ids.append(int(raw))
            else:
                errors.append(Open311Error(400, t("open311.error.request_id", lang, id=raw[:40])))
        return errors or RequestQuery(ids=tuple(ids), jurisdiction_id=jurisdiction, limit=len(ids))
    statuses = frozenset(s.lower() for s in _csv(args.get("status")))
    if statuses - {"open", "closed"}:
        errors.append(Open311Error(400, t("open311.error.status", lang)))
    start = _date(args.get("start_date"), "start_date", tz, lang, errors)
    end = _date(args.get("end_date"), "end_date", tz, lang, errors)
    if start is not None and end is not None and end < start:
        errors.append(Open311Error(400, t("open311.error.date_order", lang)))
    if errors:
        return errors
    if start is None and end is None:
        start = now - DEFAULT_SPAN
    elif start is None:
        assert end is not None
        start = end - DEFAULT_SPAN
    elif end is None:
        end = start + DEFAULT_SPAN
    return RequestQuery(
        service_codes=tuple(_csv(args.get("service_code"))),
        statuses=statuses,
        start=start,
        end=end,
        jurisdiction_id=jurisdiction,
    )


def _csv(raw: str | None) -> list[str]:
    return [p.strip() for p in (raw or "").split(",") if p.strip()]


def _date(raw: str | None, name: str, tz: timezone, lang: str, errors: list[Open311Error]) -> datetime | None:
    if not raw or not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(_SPACED_OFFSET.sub(r"\1+\2", raw.strip()))
    except ValueError:
        errors.append(Open311Error(400, t("open311.error.date", lang, field=name)))
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def states_for(statuses: frozenset[str]) -> tuple[CaseState, ...]:
    """The Gridwatch states behind Open311 statuses; () when both or none are asked (no filter).

    >>> [s.value for s in states_for(frozenset({"closed"}))]
    ['closed', 'evaluated', 'rejected']
    """
    if statuses in (frozenset(), frozenset({"open", "closed"})):
        return ()
    wanted_closed = "closed" in statuses
    return tuple(s for s in CaseState if (s in CLOSED_STATES) == wanted_closed)


def status_of(state: CaseState) -> str:
    """The Open311 status of a Gridwatch state.

    >>> status_of(CaseState.HANDLING), status_of(CaseState.REJECTED)
    ('open', 'closed')
    """
    return "closed" if state in CLOSED_STATES else "open"


def w3c(value: datetime | None, tz: timezone) -> str | None:
    """A datetime in the W3C profile of ISO 8601, with the city's offset.

    >>> from datetime import UTC
    >>> w3c(datetime(2026, 11, 23, 0, 30, tzinfo=UTC), timezone(timedelta(hours=8)))
    '2026-11-23T08:30:00+08:00'
    """
    return None if value is None else value.astimezone(tz).isoformat(timespec="seconds")


def language_for(locale: str | None, accepted: Sequence[tuple[str, float]], default: str) -> str:
    """The language of a response: ``?locale=`` first, then Accept-Language, then the default.

    >>> language_for("en_US", [], "zh-CN"), language_for(None, [("en", 1.0), ("zh", 0.5)], "zh-CN")
    ('en', 'en')
    >>> language_for(None, [("fr", 1.0)], "zh-CN"), language_for("zh", [("en", 1.0)], "en")
    ('zh-CN', 'zh-CN')
    """
    for tag in [locale] if locale else [lang for lang, _ in sorted(accepted, key=lambda a: -a[1])]:
        base = tag.replace("_", "-").split("-")[0].lower()
        if base == "en":
            return "en"
        if base == "zh":
            return "zh-CN"
    return default


def _hours(category: Category, state: CaseState) -> str:
    limit = category.limit(state)
    hours = 0.0 if limit is None else limit.total_seconds() / 3600
    return f"{hours:g}"


def service_record(category: Category, department: Department, lang: str) -> dict[str, Any]:
    """One entry of GET /services."""
    name = category.name(lang)
    return {
        "service_code": category.service_code,
        "service_name": name,
        "description": t(
            "open311.service.description",
            lang,
            name=name,
            department=department.name(lang),
            hours=_hours(category, CaseState.HANDLING),
        ),
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": ", ".join(category.keywords),
        "group": category.group,
    }


def service_definition(category: Category, lang: str) -> dict[str, Any]:
    """GET /services/<code>: the category's attributes (an empty list when it asks nothing more)."""
    attributes: list[dict[str, Any]] = []
    for order, attr in enumerate(category.attributes, start=1):
        entry: dict[str, Any] = {
            "variable": True,
            "code": attr.code,
            "datatype": attr.datatype,
            "required": attr.required,
            "datatype_description": None,
            "order": order,
            "description": attr.description(lang),
        }
        if attr.values:
            entry["values"] = [{"key": v.key, "name": v.name(lang)} for v in attr.values]
        attributes.append(entry)
    return {"service_code": category.service_code, "attributes": attributes}


def service_notice(case_id: int, category: Category, department: Department, lang: str) -> str:
    """What the caller is told when the request is filed."""
    return t(
        "open311.notice",
        lang,
        id=case_id,
        department=department.name(lang),
        hours=_hours(category, CaseState.HANDLING),
    )


def service_request_record(facts: CaseFacts, tz: timezone) -> dict[str, Any]:
    """One entry of GET /requests (and GET /requests/<id>), in the spec's field order."""
    closed = facts.state in CLOSED_STATES
    return {
        "service_request_id": str(facts.id),
        "status": status_of(facts.state),
        "status_notes": facts.status_notes or None,
        "service_name": facts.service_name,
        "service_code": facts.service_code,
        "description": facts.description or None,
        "agency_responsible": facts.agency_responsible or None,
        "service_notice": facts.service_notice or None,
        "requested_datetime": w3c(facts.requested, tz),
        "updated_datetime": w3c(facts.updated, tz),
        "expected_datetime": None if closed else w3c(facts.expected, tz),
        "address": facts.address or None,
        "address_id": None,  # Gridwatch has no master address repository
        "zipcode": None,
        "lat": facts.lat,
        "long": facts.lon,
        "media_url": facts.media_url or None,
    }


def post_record(case_id: int, token: str, notice: str) -> dict[str, Any]:
    """The answer to POST /requests: the id at once (and the token, for clients that poll tokens)."""
    return {"service_request_id": str(case_id), "token": token, "service_notice": notice, "account_id": None}


def token_record(case_id: int, token: str) -> dict[str, Any]:
    """The answer to GET /tokens/<token>."""
    return {"service_request_id": str(case_id), "token": token}


def discovery_record(base_url: str, formats: Sequence[str], lang: str) -> dict[str, Any]:
    """The service discovery document: where the GeoReport v2 endpoint is and how to get a key."""
    return {
        "changeset": CHANGESET,
        "contact": t("open311.discovery.contact", lang),
        "key_service": t("open311.discovery.key_service", lang),
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(formats),
            }
        ],
    }


def error_records(errors: Iterable[Open311Error]) -> list[dict[str, Any]]:
    """The spec's error list."""
    return [{"code": e.code, "description": e.description} for e in errors]
