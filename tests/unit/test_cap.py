from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import xmlschema

from domain.cap import CapAlert, CapArea, CapInfo, read_cap, write_cap
from tests.shared_data import shared_data


def cap_file(name: str) -> Path:
    """One file of the official CAP 1.2 material in the shared data."""
    return shared_data("standards", "cap", name)


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(cap_file("CAP-v1.2.xsd")))


def gridwatch_alert(sent: datetime) -> CapAlert:
    ring = [(118.70, 32.00), (118.71, 32.00), (118.71, 32.01), (118.70, 32.01)]
    return CapAlert(
        identifier="gridwatch-9901-42",
        sender="gridwatch@9901",
        sent=sent,
        restriction="网格化管理值班人员",
        note="网格 990101001001001",
        infos=[
            CapInfo(
                event="烟感报警",
                category="Fire",
                urgency="Immediate",
                severity="Extreme",
                certainty="Observed",
                headline="烟感报警 · 第1网格",
                description="设备 D1 报警 3 次 <&> 需处置",
                sender_name="示范市指挥中心",
                parameters=[("rule", "smoke_alarm"), ("count", "3")],
                areas=[CapArea("示范市 › 河城区 › 第1网格", [ring], [("GB/T 2260", "990101001001001")])],
            )
        ],
    )


@pytest.mark.parametrize(
    "sent",
    [
        datetime(2026, 11, 23, 8, 0, 1, 123456, tzinfo=UTC),
        datetime(2026, 11, 23, 16, 0, tzinfo=timezone(timedelta(hours=8))),
    ],
)
def test_our_cap_validates_against_the_official_schema(schema: xmlschema.XMLSchema, sent: datetime) -> None:
    xml = write_cap(gridwatch_alert(sent))
    schema.validate(xml.decode("utf-8"))
    back = read_cap(xml)
    assert back.identifier == "gridwatch-9901-42" and back.sent == sent.replace(microsecond=0)
    info = back.infos[0]
    assert info.description == "设备 D1 报警 3 次 <&> 需处置"  # escaped on the way out, intact on the way in
    assert info.areas[0].geocodes == [("GB/T 2260", "990101001001001")]
    assert info.areas[0].polygons[0][0] == (118.70, 32.00) and len(info.areas[0].polygons[0]) == 5  # closed ring


@pytest.mark.parametrize(
    "name",
    [
        "v1dot2_appendix_adot1.xml",
        "v1dot2_appendix_adot2.xml",
        "v1dot2_appendix_adot3.xml",
        "v1dot2_appendix_adot4.xml",
    ],
)
def test_the_specs_own_examples_validate_and_read(schema: xmlschema.XMLSchema, name: str) -> None:
    text = cap_file(name).read_bytes()
    schema.validate(text.decode("utf-8"))
    alert = read_cap(text)
    assert alert.identifier and alert.sender and alert.sent.tzinfo is not None
    assert alert.infos and all(i.event and i.severity for i in alert.infos)


def test_a_thunderstorm_polygon_reads_as_lon_lat() -> None:
    alert = read_cap(cap_file("v1dot2_appendix_adot2.xml").read_bytes())
    ring = alert.infos[0].areas[0].polygons[0]
    assert ring[0] == ring[-1] and all(-125 < lon < -115 and 35 < lat < 45 for lon, lat in ring)


def test_not_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="not a CAP"):
        read_cap(b"<alert xmlns='urn:example'/>")
    with pytest.raises(ValueError, match="timezone"):
        write_cap(CapAlert("x", "y", datetime(2026, 1, 1)))
