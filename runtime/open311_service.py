"""The Open311 door's service: who is calling, filing a hotline case, and reading cases inside a unit.

An external system holds one key (storage.api_client_repository) with the ``open311`` scope and
one unit: it files cases only inside that unit and reads only that unit's subtree. Cases are
filed through the same ``CaseService.collect`` as every other door (routing, deadlines, audit);
the caller's name, phone and e-mail go to the case's contact (personal data, never shown here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any

from domain.case_config import Category
from domain.cases import CaseSource
from domain.catalog import t
from domain.open311 import (
    CaseFacts,
    RequestQuery,
    ServiceRequest,
    case_description,
    service_notice,
    service_request_record,
    states_for,
)
from domain.permissions import in_scope
from geo.hierarchy import Hierarchy
from runtime.case_service import CaseService, NewCaseInput
from storage.api_client_repository import ApiClient, ApiClientRepository
from storage.audit_repository import AuditRepository
from storage.case_repository import CaseFilter, CaseRecord

__all__ = ["OPEN311_SCOPE", "Open311Service", "Reader"]

OPEN311_SCOPE = "open311"


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads requests (a client or a signed-in person) and the unit whose subtree they see."""

    name: str
    unit_code: str


class Open311Service:
    """Authenticate external systems, file their requests as cases, and read cases as Open311 records."""

    def __init__(
        self,
        cases: CaseService,
        clients: ApiClientRepository,
        audit: AuditRepository,
        hierarchy: Hierarchy,
        *,
        utc_offset_min: int,
    ) -> None:
        self.cases = cases
        self._clients = clients
        self._audit = audit
        self._h = hierarchy
        self.tz = timezone(timedelta(minutes=utc_offset_min))

    # -- who ----------------------------------------------------------------------------------------
    def client(self, key: str) -> ApiClient | None:
        """The live client holding a key with the open311 scope, or None."""
        client = self._clients.by_key(key)
        return client if client is not None and client.may(OPEN311_SCOPE) else None

    def refuse(self, actor: str, what: str, reason: str, ip: str) -> None:
        """Audit a refused call (a missing or wrong key, a foreign jurisdiction)."""
        self._audit.append(actor[:96], "open311.denied", what[:256], outcome="denied", ip=ip, detail={"reason": reason})

    def within(self, unit_code: str, code: str) -> bool:
        """Whether a unit code lies in the subtree of ``unit_code`` (unknown codes do not)."""
        try:
            return in_scope(unit_code, code, self._h.ancestors)
        except KeyError:
            return False

    # -- filing -------------------------------------------------------------------------------------
    def file(self, client: ApiClient, request: ServiceRequest, lang: str, ip: str) -> tuple[CaseRecord, str]:
        """File a request as a hotline case inside the client's unit; CaseError if it cannot be routed.

        Return the case and the notice to read back to the caller.
        """
        category = self.cases.category(request.service_code)
        address = request.address
        if not address and request.address_id:  # no master address repository: keep the id as text
            address = t("open311.address_id", lang, id=request.address_id)
        home = request.jurisdiction_id or client.unit_code
        case = self.cases.collect(
            NewCaseInput(
                source=CaseSource.HOTLINE,
                service_code=category.service_code,
                description=case_description(request, category, lang),
                lon=request.long,
                lat=request.lat,
                address=address,
                contact=dict(request.contact),
                media_url=request.media_url,
            ),
            f"open311:{client.name}",
            ip,
            home_unit=home,
        )
        return case, self._notice(case, category, lang)

    def _notice(self, case: CaseRecord, category: Category, lang: str) -> str:
        return service_notice(case.id, category, self.cases.config.departments[category.department], lang)

    # -- reading ------------------------------------------------------------------------------------
    def find(self, reader: Reader, query: RequestQuery, within: str | None = None) -> list[CaseRecord]:
        """Cases in the reader's unit (or ``within`` it) matching a query, newest first."""
        unit = within or reader.unit_code
        if not self.within(reader.unit_code, unit):
            return []
        f = CaseFilter(
            units=self.cases.scope(unit),
            ids=query.ids,
            service_codes=query.service_codes,
            states=states_for(query.statuses),
            since=query.start,
            until=None if query.end is None else query.end + timedelta(microseconds=1),  # end_date is inclusive
            limit=query.limit,
        )
        return self.cases.cases.find(f)

    def one(self, reader: Reader, case_id: int) -> CaseRecord | None:
        """One case in the reader's unit, or None (a case elsewhere looks like no case)."""
        try:
            case = self.cases.cases.get(case_id)
        except KeyError:
            return None
        return case if self.within(reader.unit_code, case.unit_code) else None

    def by_token(self, reader: Reader, token: str) -> CaseRecord | None:
        """The case filed with a token, in the reader's unit, or None."""
        try:
            case = self.cases.cases.by_token(token)
        except KeyError:
            return None
        return case if self.within(reader.unit_code, case.unit_code) else None

    def records(self, cases: Sequence[CaseRecord], lang: str) -> list[dict[str, Any]]:
        """Cases as Open311 service request records (the last step's note as status_notes)."""
        steps = self.cases.cases.steps([c.id for c in cases])
        config = self.cases.config
        out = []
        for case in cases:
            category = config.categories_by_code.get(case.service_code)
            dept = config.departments.get(case.department)
            last = steps.get(case.id) or []
            facts = CaseFacts(
                id=case.id,
                token=case.token,
                state=case.state,
                service_code=case.service_code,
                service_name=category.name(lang) if category else case.service_code,
                description=case.description,
                agency_responsible=dept.name(lang) if dept else case.department,
                service_notice=self._notice(case, category, lang) if category else None,
                status_notes=last[-1].note if last and last[-1].action != "collect" else None,
                requested=case.created_at,
                updated=case.updated_at,
                expected=case.due_at,
                address=case.address,
                lat=case.lat,
                lon=case.lon,
                media_url=case.media_url,
            )
            out.append(service_request_record(facts, self.tz))
        return out
