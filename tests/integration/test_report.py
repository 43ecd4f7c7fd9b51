"""The report feature on a real app: photos attached and served inside a jurisdiction, patrol check-ins,
reports from the phone page checked field by field, and demo patrol points placed once."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import shapely
from PIL import Image

from app import create_app
from domain.cases import CaseSource, CaseState
from domain.patrol import distance_m
from domain.permissions import Role
from geo.hierarchy import Level
from layouts import ids
from runtime.bootstrap import PATROL_POINTS_PER_GRID, ensure_demo_city, open_database
from runtime.case_service import NewCaseInput
from runtime.field_report import FieldReports, ReportForm, ReportRejected, message_text
from storage.audit_repository import AuditQuery
from storage.case_repository import CaseFilter
from storage.patrol_repository import PatrolRepository
from tests.auth import login, make_user
from tests.conftest import small_city_settings

MAX_BYTES = 300_000


def png(size: tuple[int, int] = (40, 30), colour: str = "green") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def noisy_png(side: int) -> bytes:
    """A real PNG that does not compress (random pixels), so its size follows its side."""
    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[Any]:
    settings = small_city_settings(
        tmp_path_factory.mktemp("report") / "var", redis_server.url, photo_max_bytes=MAX_BYTES
    )
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    engine.dispose()
    app = create_app(settings)
    d1, d2 = (d.code for d in city.at_level(Level.DISTRICT)[:2])
    g1, g1b = city.grids_under(d1)[:2]
    g2 = city.grids_under(d2)[0]
    community = city.get(g1).parent_code
    assert community is not None
    accounts = app.ctx.accounts
    make_user(accounts, "worker1", Role.GRID_WORKER, g1)
    make_user(accounts, "worker1b", Role.GRID_WORKER, g1b)
    make_user(accounts, "worker2", Role.GRID_WORKER, g2)
    make_user(accounts, "lead1", Role.DISTRICT_LEADER, d1)
    make_user(accounts, "lead2", Role.DISTRICT_LEADER, d2)
    make_user(accounts, "comm1", Role.COMMUNITY_STAFF, community)
    app.city, app.d1, app.d2, app.g1, app.g1b, app.g2, app.community = city, d1, d2, g1, g1b, g2, community
    try:
        yield app
    finally:
        app.close()


def inside(gw: Any, grid: str) -> tuple[float, float]:
    p = gw.city.get(grid).geometry.representative_point()
    return p.x, p.y


def new_case(gw: Any, grid: str, reporter: str = "worker1") -> int:
    lon, lat = inside(gw, grid)
    case = gw.ctx.cases.collect(
        NewCaseInput(CaseSource.GRID_REPORT, "sanitation", "垃圾堆放在路口", lon=lon, lat=lat),
        reporter,
        "-",
        home_unit=grid,
    )
    return int(case.id)


def client(gw: Any, username: str) -> Any:
    c = gw.server.test_client()
    login(c, username)
    return c


def upload(c: Any, case_id: int, *files: tuple[bytes, str]) -> Any:
    data = {"photo": [(io.BytesIO(b), name) for b, name in files]}
    return c.post(f"/api/v1/cases/{case_id}/photos", data=data, content_type="multipart/form-data")


# -- photos --------------------------------------------------------------------------------------------


def test_a_photo_is_attached_served_back_by_its_content_type_and_audited(gw: Any) -> None:
    case_id = new_case(gw, gw.g1)
    c = client(gw, "worker1")
    image, photo = png(), jpeg()
    resp = upload(c, case_id, (image, "现场.png"), (photo, "renamed.png"))
    assert resp.status_code == 201, resp.get_json()
    stored = resp.get_json()["photos"]
    assert [p["mime"] for p in stored] == ["image/png", "image/jpeg"]  # the JPEG named .png is a JPEG
    for p, data in zip(stored, (image, photo), strict=True):
        got = c.get(p["url"])
        assert got.status_code == 200 and got.data == data
        assert got.headers["Content-Type"] == p["mime"]
        assert got.headers["X-Content-Type-Options"] == "nosniff"
    listed = c.get(f"/api/v1/cases/{case_id}").get_json()["photos"]
    assert [p["id"] for p in listed] == [p["id"] for p in stored]
    on_disk = gw.ctx.settings.data_dir / "photos"
    assert {
        f"{p.sha256}.{p.mime.split('/')[1].replace('jpeg', 'jpg')}" for p in gw.ctx.cases.cases.photos(case_id)
    } <= {f.name for f in on_disk.rglob("*.*")}
    entries = gw.ctx.audit.search(AuditQuery(actor="worker1", action="case.photo", limit=10))
    assert sum(1 for e in entries if e.target == f"case:{case_id}") == 2
    # A leader of the district sees the photo but may not add one; the worker of another grid sees nothing.
    lead = client(gw, "lead1")
    assert lead.get(stored[0]["url"]).status_code == 200
    assert upload(lead, case_id, (png(), "x.png")).status_code == 403
    for other in ("worker1b", "lead2"):
        oc = client(gw, other)
        assert oc.get(stored[0]["url"]).status_code == 404
        assert upload(oc, case_id, (png(), "x.png")).status_code == 404
    assert c.get(f"/api/v1/cases/{case_id}/photos/999999").status_code == 404


def test_bad_uploads_are_refused_and_nothing_is_stored(gw: Any) -> None:
    case_id = new_case(gw, gw.g1)
    c = client(gw, "worker1")
    text = upload(c, case_id, ("这只是一段文字，不是照片".encode() * 10, "photo.jpg"))
    assert text.status_code == 400 and text.get_json()["code"] == "photo.not_image"
    assert "photo.jpg" in text.get_json()["error"] and "不是" in text.get_json()["error"]
    big = noisy_png(400)
    assert len(big) > MAX_BYTES
    too_big = upload(c, case_id, (big, "big.png"))
    assert too_big.status_code == 400 and too_big.get_json()["code"] == "photo.too_big"
    mixed = upload(c, case_id, (png(), "good.png"), (b"GIF89a not really", "bad.gif"))
    assert mixed.status_code == 400
    assert gw.ctx.cases.cases.photos(case_id) == []  # the good one of a refused request is not kept
    assert upload(c, case_id).status_code == 400  # no file at all
    anonymous = gw.server.test_client()
    assert upload(anonymous, case_id, (png(), "a.png")).status_code == 401


# -- reports from the phone page ---------------------------------------------------------------------


def test_every_bad_field_is_said_and_nothing_is_stored(gw: Any) -> None:
    reports = FieldReports(gw.ctx.cases, gw.ctx.photos, gw.city)
    worker = gw.ctx.accounts.users.by_username("worker1").principal
    before = gw.ctx.cases.cases.count(CaseFilter())
    with pytest.raises(ReportRejected) as exc:
        reports.submit(worker, ReportForm(None, "  ", None, None), "-")
    assert set(exc.value.errors) == {"category", "description", "location"}
    far = inside(gw, gw.g2)
    not_photo = "data:image/jpeg;base64,aGVsbG8gd29ybGQ="  # "hello world" sent as a JPEG
    with pytest.raises(ReportRejected) as exc:
        reports.submit(worker, ReportForm("nope", "短", far[0], far[1], [("a.jpg", not_photo)]), "-")
    errors = {k: message_text(v, "zh-CN") for k, v in exc.value.errors.items()}
    assert errors == {
        "category": "请选择类别",
        "description": "描述至少 4 个字",
        "location": "所选位置不在您负责的网格内",
        "photos": "「a.jpg」不是 JPEG、PNG 或 WebP 图片",
    }
    # Everything good but one photo: refused before the case exists.
    here = inside(gw, gw.g1)
    good = "data:image/png;base64," + base64.b64encode(png()).decode()
    with pytest.raises(ReportRejected) as exc:
        reports.submit(
            worker,
            ReportForm("sanitation", "垃圾桶满溢无人清运", here[0], here[1], [("ok.png", good), ("x.png", not_photo)]),
            "-",
        )
    assert set(exc.value.errors) == {"photos"}
    assert gw.ctx.cases.cases.count(CaseFilter()) == before
    case, photos = reports.submit(
        worker, ReportForm("sanitation", "垃圾桶满溢无人清运", here[0], here[1], [("ok.png", good)]), "10.0.0.9"
    )
    assert case.state is CaseState.COLLECTED and case.source is CaseSource.GRID_REPORT
    assert case.unit_code == gw.g1 and case.reporter == "worker1" and case.due_at is not None
    assert [p.mime for p in photos] == ["image/png"]
    # Community staff report anywhere in their community; a district leader may not report at all.
    comm = gw.ctx.accounts.users.by_username("comm1").principal
    other_grid = next(g for g in gw.city.grids_under(gw.community) if g != gw.g1)
    there = inside(gw, other_grid)
    assert (
        reports.submit(comm, ReportForm("noise", "夜间施工噪声扰民", there[0], there[1]), "-")[0].unit_code
        == other_grid
    )
    lead = gw.ctx.accounts.users.by_username("lead1").principal
    with pytest.raises(ReportRejected) as exc:
        reports.submit(lead, ReportForm("noise", "夜间施工噪声扰民", there[0], there[1]), "-")
    assert set(exc.value.errors) == {"form"}


def test_the_report_page_is_for_those_who_report(gw: Any) -> None:
    from callbacks.page import PAGES

    page = next(p for p in PAGES if p.path == "/report")
    worker = gw.ctx.accounts.users.by_username("worker1").principal
    built = page.build(gw.ctx, worker, home_name="g", user_label="u", may_open=["/report"])
    text = str(built.to_plotly_json())
    assert "gw-report-submit" in text and "gw-report-checkin" in text and gw.g1 in text
    comm = gw.ctx.accounts.users.by_username("comm1").principal
    text = str(page.build(gw.ctx, comm, home_name="c", user_label="u", may_open=["/report"]).to_plotly_json())
    assert "gw-report-submit" in text and "gw-report-checkin" not in text  # only grid workers check in
    assert patrol_section(page.build(gw.ctx, comm, home_name="c", user_label="u", may_open=[])).hidden is True
    assert not patrol_section(built).hidden


def patrol_section(root: Any) -> Any:
    """The page's patrol card: the component that holds the check-in message."""
    todo = [root]
    while todo:
        node = todo.pop()
        kids = getattr(node, "children", None)
        kids = kids if isinstance(kids, list) else [kids] if kids is not None else []
        if any(getattr(k, "id", None) == ids.REPORT_PATROL_MESSAGE for k in kids):
            return node
        todo += [k for k in kids if hasattr(k, "children")]
    raise AssertionError("no patrol section")


# -- patrol check-ins ----------------------------------------------------------------------------------


def test_demo_points_lie_in_every_grid_and_are_placed_once(gw: Any) -> None:
    repo = PatrolRepository(gw.ctx.engine)
    points = repo.points(None)
    grids = gw.city.at_level(Level.GRID)
    assert len(points) == PATROL_POINTS_PER_GRID * len(grids)
    for p in points[:: max(1, len(points) // 200)]:
        assert gw.city.get(p.grid_code).geometry.contains(shapely.Point(p.lon, p.lat))
    assert ensure_demo_city(gw.ctx.engine, gw.ctx.settings) is not None
    assert repo.count_points() == len(points)  # idempotent on the next start


def test_checking_in_within_the_radius_of_ones_own_points(gw: Any) -> None:
    repo = PatrolRepository(gw.ctx.engine)
    first, second = repo.points([gw.g1])[:2]
    c = client(gw, "worker1")
    # ~55 m north of the point: within the 150 m radius.
    near = {"lon": first.lon, "lat": first.lat + 0.0005, "note": "巡查正常"}
    resp = c.post(f"/api/v1/patrols/{first.id}/checkins", json=near)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()["checkin"]
    assert body["counted"] is True and body["distance_m"] == pytest.approx(
        distance_m(first.lon, first.lat, near["lon"], near["lat"]), abs=0.1
    )
    again = c.post(f"/api/v1/patrols/{first.id}/checkins", json=near)
    assert again.status_code == 201 and again.get_json()["checkin"]["counted"] is False  # kept, not counted twice
    # ~330 m away: refused, with the distance said.
    far = c.post(f"/api/v1/patrols/{first.id}/checkins", json={"lon": first.lon, "lat": first.lat + 0.003})
    assert far.status_code == 422 and far.get_json()["code"] == "patrol.error.too_far"
    assert "150" in far.get_json()["error"]
    bad = c.post(f"/api/v1/patrols/{first.id}/checkins", json={"lon": "x", "lat": 95})
    assert bad.status_code == 400 and bad.get_json()["fields"] == ["lat", "lon"]
    assert c.post("/api/v1/patrols/99999999/checkins", json=near).status_code == 404
    # Someone else's grid, even standing on the point; a leader may not check in at all.
    at_point = {"lon": first.lon, "lat": first.lat}
    other = client(gw, "worker1b").post(f"/api/v1/patrols/{first.id}/checkins", json=at_point)
    assert other.status_code == 403 and other.get_json()["code"] == "patrol.error.not_yours"
    assert client(gw, "lead1").post(f"/api/v1/patrols/{first.id}/checkins", json=at_point).status_code == 403
    refused = gw.ctx.audit.search(AuditQuery(actor="worker1b", action="patrol.checkin", limit=5))
    assert refused and refused[0].outcome == "refused"

    # The leader's view of today: the first point checked (2 check-ins), the second still due.
    lead = client(gw, "lead1")
    day = lead.get(f"/api/v1/patrols?unit={gw.g1}").get_json()
    status = {p["id"]: (p["status"], p["checkins"]) for p in day["points"]}
    assert status[first.id] == ("checked", 2) and status[second.id] == ("due", 0)
    assert day["summary"]["checked"] == 1 and day["summary"]["due"] == PATROL_POINTS_PER_GRID - 1
    whole = lead.get(f"/api/v1/patrols?unit={gw.d1}").get_json()
    assert len(whole["points"]) == PATROL_POINTS_PER_GRID * len(gw.city.grids_under(gw.d1))
    assert whole["summary"]["checked"] == 1
    # Yesterday nobody checked in anywhere: every point missed; the service lists them.
    yesterday = (gw.ctx.patrols.today() - timedelta(days=1)).isoformat()
    past = lead.get(f"/api/v1/patrols?unit={gw.g1}&day={yesterday}").get_json()
    assert {p["status"] for p in past["points"]} == {"missed"}
    missed_today = gw.ctx.patrols.missed(gw.g1, gw.ctx.patrols.today())
    assert [p.id for p in missed_today] == [p.id for p in repo.points([gw.g1]) if p.id != first.id]
    # Other districts, bad days and people without case rights are refused.
    assert lead.get(f"/api/v1/patrols?unit={gw.d2}").status_code == 403
    assert lead.get(f"/api/v1/patrols?unit={gw.g1}&day=yesterday").status_code == 400
    assert client(gw, "worker1").get(f"/api/v1/patrols?unit={gw.g1}").status_code == 200
    assert client(gw, "worker1").get(f"/api/v1/patrols?unit={gw.g1b}").status_code == 403
