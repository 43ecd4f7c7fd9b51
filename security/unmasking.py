"""Unmasking personal data: only roles granted UNMASK, only inside their jurisdiction, always audited."""

from __future__ import annotations

from collections.abc import Mapping

from domain.permissions import Action, Principal, allowed
from domain.personal_data import PersonalField, mask_record
from security.guards import Guard
from storage.audit_repository import AuditRepository

__all__ = ["Unmasker"]


class Unmasker:
    """Give a record to a caller: masked by default, in clear only when allowed (and then audited)."""

    def __init__(self, guard: Guard, audit: AuditRepository) -> None:
        self._guard = guard
        self._audit = audit

    def view(
        self,
        principal: Principal,
        record: Mapping[str, object],
        fields: Mapping[str, PersonalField],
        *,
        unit: str,
        record_ref: str,
        unmask: bool = False,
        ip: str = "",
    ) -> dict[str, object]:
        """Return the record masked, or in clear for a cleared caller who asked (and audit that)."""
        if not unmask:
            return mask_record(record, fields)
        if not allowed(principal, Action.UNMASK) or not self._guard.in_scope(principal, unit):
            self._audit.append(principal.username, "unmask", record_ref, outcome="denied", ip=ip, detail={"unit": unit})
            return mask_record(record, fields)
        self._audit.append(
            principal.username, "unmask", record_ref, ip=ip, detail={"unit": unit, "fields": sorted(fields)}
        )
        return dict(record)
