"""A grid worker's report from the phone page: every field checked, then the case and its photos stored.

Each bad field gets its own message (catalog key and parameters), all at once, and nothing is
stored unless every field, every photo included, is good: a bad photo refuses the report before
the case exists. The case goes through the same ``CaseService.collect`` as every other door.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field

import shapely  # type: ignore[import-untyped, unused-ignore]

from domain.cases import CaseSource
from domain.catalog import t
from domain.patrol import valid_lonlat
from domain.permissions import Action, Principal, allowed
from geo.hierarchy import Hierarchy
from runtime.case_service import BadCaseInput, CaseService, NewCaseInput
from runtime.photo_store import MAX_PHOTOS, CasePhotos, CheckedPhoto, PhotoRejected, clean_name
from storage.case_repository import CaseRecord, PhotoRecord

__all__ = [
    "DESCRIPTION_MAX",
    "DESCRIPTION_MIN",
    "FIELDS",
    "FieldReports",
    "ReportForm",
    "ReportRejected",
    "message_text",
]

DESCRIPTION_MIN = 4  # "垃圾满溢" says enough; fewer characters rarely does
DESCRIPTION_MAX = 1000
FIELDS = ("category", "description", "location", "photos")
Message = tuple[str, dict[str, object]]  # catalog key, parameters


@dataclass(frozen=True, slots=True)
class ReportForm:
    """What the phone page sends; ``photos`` are (file name, data URL) as dcc.Upload gives them."""

    service_code: str | None
    description: str | None
    lon: object = None
    lat: object = None
    photos: Sequence[tuple[str, str]] = field(default_factory=tuple)


class ReportRejected(ValueError):
    """A report with bad fields; ``errors`` maps a field (or ``form``) to its message."""

    def __init__(self, errors: dict[str, Message]) -> None:
        super().__init__(", ".join(f"{k}: {v[0]}" for k, v in errors.items()))
        self.errors = errors


class FieldReports:
    """File reports from the field for grid workers and community staff, inside their own unit."""

    def __init__(self, cases: CaseService, photos: CasePhotos, hierarchy: Hierarchy) -> None:
        self._cases = cases
        self._photos = photos
        self._h = hierarchy

    def submit(self, principal: Principal, form: ReportForm, ip: str) -> tuple[CaseRecord, list[PhotoRecord]]:
        """Check every field, then store the case and attach its photos; ReportRejected lists what is wrong."""
        if not allowed(principal, Action.REPORT):
            raise ReportRejected({"form": ("report.error.not_allowed", {})})
        errors: dict[str, Message] = {}
        code = (form.service_code or "").strip()
        if code not in self._cases.config.categories_by_code:
            errors["category"] = ("report.error.category", {})
        description = (form.description or "").strip()
        if not description:
            errors["description"] = ("report.error.description_empty", {})
        elif len(description) < DESCRIPTION_MIN:
            errors["description"] = ("report.error.description_short", {"min": DESCRIPTION_MIN})
        elif len(description) > DESCRIPTION_MAX:
            errors["description"] = ("report.error.description_long", {"max": DESCRIPTION_MAX})
        where = self._location(principal, form.lon, form.lat)
        if where is not None:
            errors["location"] = where
        photos, bad_photo = self._checked_photos(form.photos)
        if bad_photo is not None:
            errors["photos"] = bad_photo
        if errors:
            raise ReportRejected(errors)
        assert isinstance(form.lon, int | float) and isinstance(form.lat, int | float)
        try:
            case = self._cases.collect(
                NewCaseInput(CaseSource.GRID_REPORT, code, description, lon=float(form.lon), lat=float(form.lat)),
                principal.username,
                ip,
                home_unit=principal.unit_code,
            )
        except BadCaseInput as exc:  # a point on the edge that the grid index gives to the neighbour
            key = "location" if str(exc).startswith("location") else "form"
            raise ReportRejected({key: ("report.error.failed", {"reason": str(exc)})}) from None
        return case, self._photos.attach(case.id, photos, principal.username, ip)

    def _location(self, principal: Principal, lon: object, lat: object) -> Message | None:
        if lon is None or lat is None:
            return ("report.error.location_missing", {})
        if not valid_lonlat(lon, lat):
            return ("report.error.location_invalid", {})
        assert isinstance(lon, int | float) and isinstance(lat, int | float)
        unit = self._h.get(principal.unit_code)
        if not unit.geometry.covers(shapely.Point(float(lon), float(lat))):
            return ("report.error.location_outside", {"unit_key": unit.level.label_key})
        return None

    def _checked_photos(self, uploads: Sequence[tuple[str, str]]) -> tuple[list[CheckedPhoto], Message | None]:
        if len(uploads) > MAX_PHOTOS:
            return [], ("report.error.too_many_photos", {"count": MAX_PHOTOS})
        checked: list[CheckedPhoto] = []
        for name, url in uploads:
            try:
                checked.append(self._photos.store.check(_decode(url, name, self._photos.max_bytes), name))
            except PhotoRejected as exc:
                return [], (exc.key, exc.params)
        return checked, None


def message_text(message: Message, lang: str) -> str:
    """A field's message in a language; a ``<name>_key`` parameter is itself a catalog key, shown as ``<name>``."""
    key, params = message
    shown = {k.removesuffix("_key"): t(str(v), lang) if k.endswith("_key") else v for k, v in params.items()}
    return t(key, lang, **shown)


def _decode(data_url: str, name: str, max_bytes: int) -> bytes:
    """The bytes of a data URL (what dcc.Upload sends); PhotoRejected if it is not one, or far too big."""
    _, sep, payload = (data_url or "").partition(",")
    if not sep:
        raise PhotoRejected("photo.unreadable", name=clean_name(name))
    if len(payload) > (max_bytes + 3) * 4 // 3 + 4:  # too big to be a photo we keep: not worth decoding
        raise PhotoRejected("photo.too_big", name=clean_name(name), mb=f"{max_bytes / 1_000_000:g}")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise PhotoRejected("photo.unreadable", name=clean_name(name)) from None
