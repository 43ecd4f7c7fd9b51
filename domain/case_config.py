"""Case categories, departments and deadlines as data: the file a city tunes (domain/case_rules.toml).

A category is also an Open311 service (its ``service_code``). Each workflow state has a time
limit: the default from ``[deadlines]``, overridden per category. The deadline of a step is
measured from the moment the case entered the state.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from domain.cases import TERMINAL, CaseState

__all__ = [
    "ATTRIBUTE_TYPES",
    "DEFAULT_RULES",
    "AttributeValue",
    "CaseConfig",
    "CaseConfigError",
    "Category",
    "Department",
    "PatrolPolicy",
    "ServiceAttribute",
    "load_case_config",
    "parse_case_config",
]

DEFAULT_RULES = Path(__file__).with_name("case_rules.toml")
_TIMED = tuple(s for s in CaseState if s not in TERMINAL)
# Open311 GeoReport v2 attribute datatypes; the two list types need ``values``.
ATTRIBUTE_TYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
_LIST_TYPES = ("singlevaluelist", "multivaluelist")


class CaseConfigError(ValueError):
    """A case rule file that cannot be used; the message names the entry and the key."""


@dataclass(frozen=True, slots=True)
class Department:
    """A functional department cases are routed to by category."""

    code: str
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        """The department's name in a language."""
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True, slots=True)
class AttributeValue:
    """One choice of a list attribute: the key a client sends and its names."""

    key: str
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        """The choice's name in a language."""
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True, slots=True)
class ServiceAttribute:
    """An extra question a category asks when a case is filed (an Open311 service attribute)."""

    code: str
    datatype: str
    required: bool
    description_zh: str
    description_en: str
    values: tuple[AttributeValue, ...] = ()

    def description(self, lang: str) -> str:
        """The question in a language."""
        return self.description_en if lang == "en" else self.description_zh


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of case: its Open311 service, the department it goes to, and its step deadlines in hours."""

    service_code: str
    name_zh: str
    name_en: str
    group: str
    department: str
    keywords: tuple[str, ...]
    hours: Mapping[CaseState, float]
    attributes: tuple[ServiceAttribute, ...] = ()

    def name(self, lang: str) -> str:
        """The category's name in a language."""
        return self.name_en if lang == "en" else self.name_zh

    def limit(self, state: CaseState) -> timedelta | None:
        """How long a case of this category may stay in a state (None: no limit, a terminal state)."""
        hours = self.hours.get(state)
        return None if hours is None else timedelta(hours=hours)

    def due(self, state: CaseState, since: datetime) -> datetime | None:
        """When a case that entered ``state`` at ``since`` must have left it."""
        limit = self.limit(state)
        return None if limit is None else since + limit


@dataclass(frozen=True, slots=True)
class PatrolPolicy:
    """How often each patrol point must be visited, and how near a check-in must be."""

    per_day: int = 1
    radius_m: float = 150.0


@dataclass(frozen=True, slots=True)
class CaseConfig:
    """Categories (in file order), departments and the patrol policy."""

    categories: tuple[Category, ...]
    departments: Mapping[str, Department]
    patrol: PatrolPolicy = field(default_factory=PatrolPolicy)

    @property
    def categories_by_code(self) -> Mapping[str, Category]:
        """Categories by service code."""
        return {c.service_code: c for c in self.categories}

    def category(self, service_code: str) -> Category:
        """The category of a service code; KeyError if unknown."""
        for c in self.categories:
            if c.service_code == service_code:
                return c
        raise KeyError(service_code)

    def department_of(self, service_code: str) -> Department:
        """The department a category is routed to."""
        return self.departments[self.category(service_code).department]


def load_case_config(path: Path | None = None) -> CaseConfig:
    """Read a case rule file (the shipped one by default)."""
    source = path or DEFAULT_RULES
    try:
        return parse_case_config(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CaseConfigError(f"cannot read case rules {source}: {exc}") from exc


def parse_case_config(text: str) -> CaseConfig:
    """Parse the TOML text of a case rule file.

    >>> cfg = parse_case_config('''
    ... [deadlines]
    ... collected = 2
    ... handling = 72
    ... [departments]
    ... urban = { zh = "城管", en = "Urban" }
    ... [[category]]
    ... service_code = "litter"
    ... zh = "垃圾"
    ... en = "Litter"
    ... department = "urban"
    ... deadlines = { handling = 24 }
    ... ''')
    >>> c = cfg.category("litter")
    >>> c.limit(CaseState.HANDLING), c.limit(CaseState.COLLECTED), c.limit(CaseState.ACCEPTED)
    (datetime.timedelta(days=1), datetime.timedelta(seconds=7200), None)
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseConfigError(f"case rule file is not valid TOML: {exc}") from exc
    defaults = _hours(data.get("deadlines", {}), "[deadlines]")
    departments = {
        code: Department(code, _text(d, "zh", f"department {code}"), _text(d, "en", f"department {code}"))
        for code, d in _table(data.get("departments", {}), "[departments]").items()
    }
    categories: list[Category] = []
    for i, raw in enumerate(data.get("category", [])):
        where = f"category #{i + 1}"
        entry = _table(raw, where)
        code = _text(entry, "service_code", where)
        where = f"category {code!r}"
        if any(c.service_code == code for c in categories):
            raise CaseConfigError(f"{where}: service_code appears twice")
        dept = _text(entry, "department", where)
        if dept not in departments:
            raise CaseConfigError(f"{where}: unknown department {dept!r} (declare it under [departments])")
        keywords = entry.get("keywords", [])
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise CaseConfigError(f"{where}: keywords is a list of strings")
        hours = {**defaults, **_hours(entry.get("deadlines", {}), f"{where} deadlines")}
        categories.append(
            Category(
                code,
                _text(entry, "zh", where),
                _text(entry, "en", where),
                str(entry.get("group", "other")),
                dept,
                tuple(keywords),
                hours,
                _attributes(entry.get("attribute", []), where),
            )
        )
    if not categories:
        raise CaseConfigError("the case rule file declares no [[category]]")
    patrol = _table(data.get("patrol", {}), "[patrol]")
    policy = PatrolPolicy(int(patrol.get("per_day", 1)), float(patrol.get("radius_m", 150.0)))
    if policy.per_day < 0 or policy.radius_m <= 0:
        raise CaseConfigError("[patrol]: per_day is 0 or more and radius_m is positive")
    return CaseConfig(tuple(categories), departments, policy)


def _attributes(raw: Any, where: str) -> tuple[ServiceAttribute, ...]:
    if not isinstance(raw, list):
        raise CaseConfigError(f"{where}: attribute is an array of tables ([[category.attribute]])")
    out: list[ServiceAttribute] = []
    for i, item in enumerate(raw):
        entry = _table(item, f"{where} attribute #{i + 1}")
        code = _text(entry, "code", f"{where} attribute #{i + 1}")
        at = f"{where} attribute {code!r}"
        if any(a.code == code for a in out):
            raise CaseConfigError(f"{at}: code appears twice")
        datatype = str(entry.get("datatype", "string"))
        if datatype not in ATTRIBUTE_TYPES:
            raise CaseConfigError(f"{at}: datatype is one of {', '.join(ATTRIBUTE_TYPES)}")
        values = tuple(
            AttributeValue(_text(v, "key", at), _text(v, "zh", at), _text(v, "en", at))
            for v in (_table(v, at) for v in entry.get("values", []))
        )
        if (datatype in _LIST_TYPES) != bool(values):
            raise CaseConfigError(f"{at}: values are given exactly for the list datatypes ({', '.join(_LIST_TYPES)})")
        required = entry.get("required", False)
        if not isinstance(required, bool):
            raise CaseConfigError(f"{at}: required is true or false")
        out.append(ServiceAttribute(code, datatype, required, _text(entry, "zh", at), _text(entry, "en", at), values))
    return tuple(out)


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CaseConfigError(f"{where} is a table")
    return value


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CaseConfigError(f"{where}: {key!r} is a non-empty string")
    return value


def _hours(raw: Any, where: str) -> dict[CaseState, float]:
    out: dict[CaseState, float] = {}
    for key, value in _table(raw, where).items():
        try:
            state = CaseState(key)
        except ValueError:
            names = ", ".join(s.value for s in _TIMED)
            raise CaseConfigError(f"{where}: {key!r} is not a timed state ({names})") from None
        if state in TERMINAL:
            raise CaseConfigError(f"{where}: {key!r} is a final state and has no deadline")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise CaseConfigError(f"{where}: {key} is a positive number of hours")
        out[state] = float(value)
    return out
