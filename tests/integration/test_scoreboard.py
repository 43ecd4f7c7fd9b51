"""The scoreboard on a real database and a real app: figures counted by hand, JSON and CSV, jurisdiction.

Cases are filed and walked through the CaseService with a frozen clock; verification results
and patrol check-ins are inserted as rows (their own doors are other features). The city's
local day is UTC+8, so a check-in at 16:30 UTC already belongs to the next local day.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from app import create_app
from domain.case_config import load_case_config
from domain.cases import CaseAction, CaseSource
from domain.permissions import Principal, Role
from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.case_service import CaseService, NewCaseInput
from storage.audit_repository import AuditRepository
from storage.case_models import PatrolCheckinRow, PatrolPointRow, VerificationBatchRow, VerificationTaskRow
from storage.case_repository import CaseRepository
from storage.models import AuditRow
from storage.user_repository import UserRepository
from tests.auth import login, make_user
from tests.conftest import small_city_settings

A = CaseAction
T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 local on 20 Nov
PERIOD = "from=2026-11-20&to=2026-11-25"  # five local days
Z = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def point(city: Hierarchy, grid: str) -> tuple[float, float]:
    p = city.get(grid).geometry.representative_point()
    return p.x, p.y


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[Any]:
    settings = small_city_settings(tmp_path_factory.mktemp("scoreboard") / "var", redis_server.url)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    engine.dispose()
    app = create_app(settings)
    d1, d2 = (d.code for d in city.at_level(Level.DISTRICT)[:2])
    s1, s2 = (s.code for s in city.children(d1)[:2])
    g1, g2 = city.grids_under(s1)[0], city.grids_under(s2)[0]
    far = city.grids_under(d2)[0]
    accounts = app.ctx.accounts
    for name, role, unit in (
        ("w1", Role.GRID_WORKER, g1),
        ("w2", Role.GRID_WORKER, g2),
        ("w3", Role.GRID_WORKER, g1),
        ("wfar", Role.GRID_WORKER, far),
        ("op", Role.CITY_OPERATOR, city.city.code),
        ("lead1", Role.DISTRICT_LEADER, d1),
        ("lead2", Role.DISTRICT_LEADER, d2),
    ):
        make_user(accounts, name, role, unit, display_name=f"姓名{name}")
    users = UserRepository(app.ctx.engine)
    p: dict[str, Principal] = {u: users.by_username(u).principal for u in ("w1", "w2", "wfar", "op")}  # type: ignore[union-attr]
    clock = Clock()
    svc = CaseService(
        CaseRepository(app.ctx.engine),
        AuditRepository(app.ctx.engine),
        city,
        GridLocator.for_hierarchy(city),
        load_case_config(),
        users,
        clock=clock,
    )

    def walk(grid: str, worker: str, *, late: bool = False, reopen: bool = False, satisfaction: int = 3) -> int:
        lon, lat = point(city, grid)
        case = svc.collect(NewCaseInput(CaseSource.HOTLINE, "road_damage", "路面破损", lon=lon, lat=lat), "12345", "-")
        op = p["op"]
        svc.act(op, case.id, A.ACCEPT, "-")
        svc.act(op, case.id, A.DISPATCH, "-", assignee=worker)
        svc.act(p[worker], case.id, A.START, "-")
        clock.now += timedelta(hours=60 if late else 1)  # road damage: 48 h to feed back
        svc.act(p[worker], case.id, A.FEEDBACK, "-", note="已修复")
        if reopen:
            svc.act(op, case.id, A.REOPEN, "-", note="未修好")
            svc.act(p[worker], case.id, A.FEEDBACK, "-", note="再次修复")
        svc.act(op, case.id, A.VERIFY, "-")
        svc.act(op, case.id, A.CLOSE, "-")
        svc.act(op, case.id, A.EVALUATE, "-", satisfaction=satisfaction)
        clock.now = T0
        return case.id

    walk(g1, "w1", reopen=True, satisfaction=3)  # on time, re-opened once
    walk(g1, "w1", late=True, satisfaction=5)  # late
    walk(g2, "w2", satisfaction=4)
    walk(far, "wfar", satisfaction=1)  # another district
    lon, lat = point(city, g2)
    svc.collect(NewCaseInput(CaseSource.HOTLINE, "noise", "夜间施工", lon=lon, lat=lat), "12345", "-")  # not handled

    with app.ctx.engine.begin() as conn:
        batch = conn.execute(
            insert(VerificationBatchRow.__table__).values(
                external_ref="B1", title="核查", created_at=T0, deadline=T0 + timedelta(days=3), created_by="platform"
            )
        ).inserted_primary_key[0]
        for grid, by, result, at in (
            (g1, "w1", "pass", T0),
            (g1, "w1", "fail", T0 + timedelta(days=1)),
            (g2, "w2", "pass", T0),
            (g2, "w2", "fail", T0 - timedelta(days=2)),  # before the period
            (g2, None, None, None),  # pending
        ):
            conn.execute(
                insert(VerificationTaskRow.__table__).values(
                    batch_id=batch,
                    grid_code=grid,
                    subject="某某",
                    state="done" if by else "pending",
                    result=result,
                    done_by=by,
                    done_at=at,
                )
            )
        conn.execute(delete(PatrolPointRow.__table__))  # the demo city's points: this test brings its own
        points = {}
        for name, grid in (("p1", g1), ("p2", g1), ("p3", g2), ("p4", far)):
            points[name] = conn.execute(
                insert(PatrolPointRow.__table__).values(grid_code=grid, name=name, lon=0.0, lat=0.0, active=True)
            ).inserted_primary_key[0]
        for who, name, grid, ts in (
            ("w1", "p1", g1, Z(2026, 11, 19, 15, 30)),  # 23:30 local on 19 Nov: before the period
            ("w1", "p1", g1, Z(2026, 11, 19, 16, 30)),  # 00:30 local on 20 Nov
            ("w1", "p1", g1, Z(2026, 11, 20, 15, 30)),  # 23:30 local on 20 Nov: a second visit, same day
            ("w1", "p1", g1, Z(2026, 11, 20, 16, 30)),  # 00:30 local on 21 Nov
            ("w1", "p2", g1, Z(2026, 11, 20, 2, 0)),
            ("w2", "p3", g2, Z(2026, 11, 21, 3, 0)),
            ("wfar", "p4", far, Z(2026, 11, 21, 3, 0)),
        ):
            conn.execute(
                insert(PatrolCheckinRow.__table__).values(
                    point_id=points[name], grid_code=grid, username=who, ts=ts, lon=0.0, lat=0.0, distance_m=3.0
                )
            )
    app.units = {"d1": d1, "d2": d2, "s1": s1, "s2": s2, "g1": g1, "g2": g2}
    try:
        yield app
    finally:
        app.close()


def get(app: Any, user: str, url: str) -> Any:
    c = app.server.test_client()
    login(c, user)
    return c.get(url)


def rows_of(app: Any, user: str, query: str) -> dict[str, dict[str, Any]]:
    resp = get(app, user, f"/api/v1/scoreboard?{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {r["key"]: r for r in resp.get_json()["rows"]}


def test_rows_per_grid_worker_match_the_counts_by_hand(sb: Any) -> None:
    u = sb.units
    rows = rows_of(sb, "lead1", f"by=worker&unit={u['d1']}&{PERIOD}")
    assert set(rows) == {"w1", "w2", "w3"}  # the district's grid workers; wfar works elsewhere
    w1, w2, w3 = rows["w1"], rows["w2"], rows["w3"]
    assert w1["name"] == "姓名w1"
    assert (w1["cases_handled"], w1["on_time_rate"], w1["reopen_rate"], w1["satisfaction"]) == (2, 0.5, 0.5, 4.0)
    assert w1["verification_rate"] == 0.5
    assert (w1["checkins_done"], w1["checkins_expected"], w1["checkin_rate"]) == (3, 10, 0.3)
    assert w1["score"] == pytest.approx(40 * 0.5 + 30 * 0.75 + 15 * 0.5 + 15 * 0.3)  # 54.5
    assert (w2["cases_handled"], w2["on_time_rate"], w2["reopen_rate"], w2["satisfaction"]) == (1, 1.0, 0.0, 4.0)
    assert w2["verification_rate"] == 1.0  # the failed one was done before the period
    assert (w2["checkins_done"], w2["checkins_expected"]) == (1, 5)
    assert w2["score"] == pytest.approx(40 + 22.5 + 15 + 15 * 0.2)  # 80.5
    # Nothing handled: no rate at all (not 0 %); only the missed check-ins score.
    assert (w3["cases_handled"], w3["on_time_rate"], w3["reopen_rate"], w3["satisfaction"]) == (0, None, None, None)
    assert w3["verification_rate"] is None and w3["checkin_rate"] == 0.0 and w3["score"] == 0.0
    ordered = get(sb, "lead1", f"/api/v1/scoreboard?by=worker&unit={u['d1']}&{PERIOD}&sort=score&order=desc")
    assert [r["key"] for r in ordered.get_json()["rows"]] == ["w2", "w1", "w3"]
    asc = get(sb, "lead1", f"/api/v1/scoreboard?by=worker&unit={u['d1']}&{PERIOD}&sort=cases_handled&order=asc")
    assert [r["key"] for r in asc.get_json()["rows"]] == ["w3", "w2", "w1"]
    # A shorter period: 20 Nov only (local). One visit to p1 and one to p2 that day; w1's late case fed back on 22 Nov.
    day = rows_of(sb, "lead1", f"by=worker&unit={u['d1']}&from=2026-11-20&to=2026-11-21")["w1"]
    assert (day["checkins_done"], day["checkins_expected"], day["cases_handled"]) == (2, 2, 1)


def test_rows_per_unit_roll_up_to_the_children_of_the_unit_asked_for(sb: Any) -> None:
    u = sb.units
    rows = rows_of(sb, "lead1", f"by=unit&unit={u['d1']}&{PERIOD}")
    assert set(rows) == {s.code for s in sb.ctx.hierarchy.children(u["d1"])}  # every street, with or without data
    s1, s2 = rows[u["s1"]], rows[u["s2"]]
    assert s1["name"] == sb.ctx.hierarchy.get(u["s1"]).name
    assert (s1["cases_handled"], s1["on_time_rate"], s1["reopen_rate"], s1["satisfaction"]) == (2, 0.5, 0.5, 4.0)
    assert (s1["checkins_done"], s1["checkins_expected"], s1["score"]) == (3, 10, pytest.approx(54.5))
    assert (s2["cases_handled"], s2["verification_rate"], s2["checkins_expected"]) == (1, 1.0, 5)
    quiet = [r for k, r in rows.items() if k not in (u["s1"], u["s2"])]
    assert quiet and all(r["score"] is None and r["cases_handled"] == 0 for r in quiet)
    city = rows_of(sb, "op", f"by=unit&{PERIOD}")  # the operator's own unit: the city, by district
    assert city[u["d1"]]["cases_handled"] == 3 and city[u["d2"]]["cases_handled"] == 1
    grid = rows_of(sb, "w1", f"by=unit&{PERIOD}")  # a grid stands for itself
    assert list(grid) == [u["g1"]] and grid[u["g1"]]["cases_handled"] == 2


def test_csv_export_with_bom_headers_in_the_language_and_the_same_figures(sb: Any) -> None:
    u = sb.units
    resp = get(sb, "lead1", f"/api/v1/scoreboard.csv?by=worker&unit={u['d1']}&{PERIOD}&lang=en")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    raw = resp.get_data()
    assert raw.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][:4] == ["User name", "Name", "Cases handled", "On time"]
    by_key = {r[0]: r for r in table[1:]}
    assert by_key["w1"][1:] == ["姓名w1", "2", "50.0%", "50.0%", "4.00", "50.0%", "3", "10", "30.0%", "54.5"]
    assert by_key["w3"][2:7] == ["0", "—", "—", "—", "—"]
    zh = get(sb, "lead1", f"/api/v1/scoreboard.csv?by=unit&unit={u['d1']}&{PERIOD}").get_data().decode("utf-8-sig")
    assert zh.startswith("单位代码,单位,处置案件数")
    with sb.ctx.engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(AuditRow).where(AuditRow.actor == "lead1"))]
    assert actions.count("scoreboard.export") == 2


def test_jurisdiction_permission_and_bad_requests(sb: Any) -> None:
    u = sb.units
    assert get(sb, "lead1", f"/api/v1/scoreboard?unit={u['d2']}&{PERIOD}").status_code == 403
    assert get(sb, "lead1", f"/api/v1/scoreboard.csv?unit={u['d2']}&{PERIOD}").status_code == 403
    assert get(sb, "lead1", f"/api/v1/scoreboard?unit=nope&{PERIOD}").status_code == 403
    assert get(sb, "lead2", f"/api/v1/scoreboard?unit={u['d2']}&{PERIOD}").status_code == 200
    assert get(sb, "w1", f"/api/v1/scoreboard?unit={u['s1']}").status_code == 403  # above their grid
    assert get(sb, "w1", f"/api/v1/scoreboard.csv?{PERIOD}").status_code == 403  # no EXPORT
    assert get(sb, "op", f"/api/v1/scoreboard.csv?{PERIOD}").status_code == 403  # no EXPORT either
    for bad in (
        "by=street",
        "sort=password",
        "from=2026-11-25&to=2026-11-20",
        "from=20261120",
        "from=2020-01-01&to=2026-01-01",
    ):
        assert get(sb, "lead1", f"/api/v1/scoreboard?{bad}").status_code == 400, bad
    anonymous = sb.server.test_client().get(f"/api/v1/scoreboard?{PERIOD}")
    assert anonymous.status_code in (302, 401, 403)
    with sb.ctx.engine.connect() as conn:
        denied = [r for r in conn.execute(select(AuditRow).where(AuditRow.action == "access.denied"))]
    assert any("/api/v1/scoreboard" in r.target for r in denied)
