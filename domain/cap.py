"""OASIS Common Alerting Protocol 1.2: write an alert as CAP XML, and read CAP documents.

CAP is how alerting systems hand alerts to each other (sirens, SMS gateways, other
command centers). The writer keeps to the schema's element order; the reader takes the
fields Gridwatch uses from any CAP 1.2 document, including ones from other systems.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["CAP_NS", "CapAlert", "CapArea", "CapInfo", "read_cap", "write_cap"]

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
_Q = f"{{{CAP_NS}}}"


@dataclass(frozen=True, slots=True)
class CapArea:
    """Where: a description, polygons as closed (lon, lat) rings, and geocodes."""

    description: str
    polygons: Sequence[Sequence[tuple[float, float]]] = ()
    geocodes: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True, slots=True)
class CapInfo:
    """What, how bad, how urgent and how sure."""

    event: str
    category: str
    urgency: str
    severity: str
    certainty: str
    headline: str = ""
    description: str = ""
    language: str = "zh-CN"
    sender_name: str = ""
    areas: Sequence[CapArea] = ()
    parameters: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True, slots=True)
class CapAlert:
    """One CAP message."""

    identifier: str
    sender: str
    sent: datetime
    status: str = "Actual"
    msg_type: str = "Alert"
    scope: str = "Restricted"
    restriction: str = ""
    note: str = ""
    infos: Sequence[CapInfo] = field(default_factory=tuple)


def _cap_time(ts: datetime) -> str:
    # CAP forbids "Z": the offset is written out, -00:00 meaning UTC.
    if ts.tzinfo is None:
        raise ValueError("CAP times need a timezone")
    text = ts.replace(microsecond=0).isoformat()
    return text.replace("+00:00", "-00:00")


def _ring(points: Sequence[tuple[float, float]]) -> str:
    pts = list(points)
    if pts and pts[0] != pts[-1]:
        pts.append(pts[0])
    if len(pts) < 4:
        raise ValueError("a CAP polygon needs at least four points, the first repeated last")
    return " ".join(f"{lat:.6f},{lon:.6f}" for lon, lat in pts)


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, _Q + tag)
    if text is not None:
        el.text = text
    return el


def write_cap(alert: CapAlert) -> bytes:
    """Serialise one alert as CAP 1.2 XML (UTF-8), in the schema's element order.

    >>> from datetime import UTC, datetime
    >>> xml = write_cap(CapAlert("gw-1", "gridwatch@example", datetime(2026, 11, 23, tzinfo=UTC),
    ...                          infos=[CapInfo("烟感报警", "Fire", "Immediate", "Extreme", "Observed")]))
    >>> read_cap(xml).infos[0].event, read_cap(xml).sent.isoformat()
    ('烟感报警', '2026-11-23T00:00:00+00:00')
    """
    root = ET.Element(_Q + "alert")
    _sub(root, "identifier", alert.identifier)
    _sub(root, "sender", alert.sender)
    _sub(root, "sent", _cap_time(alert.sent))
    _sub(root, "status", alert.status)
    _sub(root, "msgType", alert.msg_type)
    _sub(root, "scope", alert.scope)
    if alert.restriction:
        _sub(root, "restriction", alert.restriction)
    if alert.note:
        _sub(root, "note", alert.note)
    for info in alert.infos:
        el = _sub(root, "info")
        _sub(el, "language", info.language)
        _sub(el, "category", info.category)
        _sub(el, "event", info.event)
        _sub(el, "urgency", info.urgency)
        _sub(el, "severity", info.severity)
        _sub(el, "certainty", info.certainty)
        if info.sender_name:
            _sub(el, "senderName", info.sender_name)
        if info.headline:
            _sub(el, "headline", info.headline)
        if info.description:
            _sub(el, "description", info.description)
        for name, value in info.parameters:
            p = _sub(el, "parameter")
            _sub(p, "valueName", name)
            _sub(p, "value", value)
        for area in info.areas:
            a = _sub(el, "area")
            _sub(a, "areaDesc", area.description)
            for ring in area.polygons:
                _sub(a, "polygon", _ring(ring))
            for name, value in area.geocodes:
                g = _sub(a, "geocode")
                _sub(g, "valueName", name)
                _sub(g, "value", value)
    ET.register_namespace("", CAP_NS)
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml


def _text(el: ET.Element, tag: str, default: str = "") -> str:
    found = el.find(_Q + tag)
    return (found.text or "").strip() if found is not None else default


def read_cap(document: bytes | str) -> CapAlert:
    """Read the fields Gridwatch uses from a CAP 1.2 document; ValueError if it is not one."""
    root = ET.fromstring(document)  # noqa: S314 - stdlib parser; CAP documents carry no DTDs we honour
    if root.tag != _Q + "alert":
        raise ValueError(f"not a CAP 1.2 alert: root element {root.tag}")
    infos = []
    for info in root.findall(_Q + "info"):
        areas = [
            CapArea(
                _text(a, "areaDesc"),
                [
                    [(float(lon), float(lat)) for lat, lon in (pair.split(",") for pair in (p.text or "").split())]
                    for p in a.findall(_Q + "polygon")
                ],
                [(_text(g, "valueName"), _text(g, "value")) for g in a.findall(_Q + "geocode")],
            )
            for a in info.findall(_Q + "area")
        ]
        infos.append(
            CapInfo(
                _text(info, "event"),
                _text(info, "category"),
                _text(info, "urgency"),
                _text(info, "severity"),
                _text(info, "certainty"),
                _text(info, "headline"),
                _text(info, "description"),
                _text(info, "language", "en-US"),
                _text(info, "senderName"),
                areas,
                [(_text(p, "valueName"), _text(p, "value")) for p in info.findall(_Q + "parameter")],
            )
        )
    return CapAlert(
        _text(root, "identifier"),
        _text(root, "sender"),
        datetime.fromisoformat(_text(root, "sent")),
        _text(root, "status"),
        _text(root, "msgType"),
        _text(root, "scope"),
        _text(root, "restriction"),
        _text(root, "note"),
        infos,
    )
