from __future__ import annotations

from sqlalchemy import Engine

from domain.permissions import Principal, Role
from domain.personal_data import PersonalField, mask
from geo.hierarchy import Hierarchy, Level
from security.guards import Guard
from security.unmasking import Unmasker
from storage.audit_repository import AuditQuery, AuditRepository

RECORD = {"name": "李小龙", "phone": "13912345678", "plate": "苏A88888", "note": "公开内容"}
FIELDS = {"name": PersonalField.NAME, "phone": PersonalField.PHONE, "plate": PersonalField.PLATE}


def test_masked_by_default_in_clear_only_for_cleared_roles_and_audited(engine: Engine, small_city: Hierarchy) -> None:
    audit = AuditRepository(engine)
    unmasker = Unmasker(Guard(small_city, audit), audit)
    d1, d2 = (d.code for d in small_city.at_level(Level.DISTRICT)[:2])
    admin = Principal(1, "admin", Role.CITY_ADMIN, small_city.city.code)
    leader = Principal(2, "leader", Role.DISTRICT_LEADER, d1)

    default = unmasker.view(leader, RECORD, FIELDS, unit=d1, record_ref="case:1")
    assert default == {"name": "李**", "phone": "139****5678", "plate": "苏A***88", "note": "公开内容"}
    assert audit.count() == 0  # looking at masked data leaves no trace to evidence

    refused = unmasker.view(leader, RECORD, FIELDS, unit=d1, record_ref="case:1", unmask=True)
    assert refused == default  # a district leader is not cleared to unmask
    clear = unmasker.view(admin, RECORD, FIELDS, unit=d2, record_ref="case:2", unmask=True, ip="10.1.1.1")
    assert clear == RECORD
    trail = audit.search(AuditQuery(action="unmask", limit=10))
    assert [(e.actor, e.target, e.outcome) for e in reversed(trail)] == [
        ("leader", "case:1", "denied"),
        ("admin", "case:2", "ok"),
    ]
    assert trail[0].detail == {"unit": d2, "fields": ["name", "phone", "plate"]}


def test_masks_never_reveal_short_values() -> None:
    assert mask(PersonalField.PHONE, "110") == "***"
    assert mask(PersonalField.NAME, "王") == "王*"
    assert mask(PersonalField.FACE_REF, "ab") == "face:…"
