"""Personal data is masked by default; only cleared roles unmask, one record at a time.

The masks keep just enough to recognise a record (a surname, the last digits), never enough
to identify a person: 张** · 3201**********123X · 138****5678 · 苏A***45 · face:…9f2c.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

__all__ = ["PersonalField", "mask", "mask_record"]


class PersonalField(enum.StrEnum):
    """Kinds of personal data Gridwatch handles."""

    NAME = "name"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    PLATE = "plate"
    FACE_REF = "face_ref"


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


_MASKS: Mapping[PersonalField, Callable[[str], str]] = {
    PersonalField.NAME: lambda v: v[:1] + "*" * max(1, len(v) - 1) if v else v,
    PersonalField.ID_NUMBER: lambda v: _keep(v, 4, 4),
    PersonalField.PHONE: lambda v: _keep(v, 3, 4),
    PersonalField.PLATE: lambda v: _keep(v, 2, 2),
    PersonalField.FACE_REF: lambda v: "face:…" + v[-4:] if len(v) > 4 else "face:…",
}


def mask(kind: PersonalField, value: str | None) -> str | None:
    """Return the masked form of one value.

    >>> mask(PersonalField.NAME, "张三丰"), mask(PersonalField.PHONE, "13812345678")
    ('张**', '138****5678')
    >>> mask(PersonalField.ID_NUMBER, "32010219800101123X"), mask(PersonalField.PLATE, "苏A12345")
    ('3201**********123X', '苏A***45')
    """
    if value is None:
        return None
    return _MASKS[kind](value)


def mask_record(record: Mapping[str, object], fields: Mapping[str, PersonalField]) -> dict[str, object]:
    """Return a copy of a record with its personal fields masked (the default view everywhere)."""
    out = dict(record)
    for name, kind in fields.items():
        value = out.get(name)
        if isinstance(value, str):
            out[name] = mask(kind, value)
    return out
