"""The leaders' charts: rows counted from a known set of cases, alerts, patrols and unit figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, insert

from app import create_app
from domain.case_config import load_case_config
from domain.cases import CaseAction, CaseSource
from domain.permissions import Principal, Role
from figures.series import DailyCount, DailyRate, DailyScore, UnitCount, UnitRate
from geo.hierarchy import Hierarchy, Level, Unit
from geo.lookup import GridLocator
from runtime.alert_sink import AlertRaiser, load_rules
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.case_service import CaseService, NewCaseInput
from runtime.leader_charts import CHART_KEYS, LeaderCharts
from storage.alert_repository import AlertRepository
from storage.audit_repository import AuditRepository
from storage.case_models import PatrolCheckinRow, PatrolPointRow
from storage.case_repository import CaseRepository
from storage.chart_queries import ChartQueries
from storage.repositories import GeoRepository
from storage.user_repository import UserRepository
from streams.keys import RedisKeys
from tests.auth import login, make_user
from tests.conftest import small_city_settings

# 09:00 local (UTC+8) on 23 Nov: local days are 23 Nov (today) and 22 Nov (yesterday).
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
TODAY, YESTERDAY = date(2026, 11, 23), date(2026, 11, 22)


class Clock:
    def __init__(self) -> None:
        self.now = NOW - timedelta(days=1)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(
    engine: Engine, small_units: list[Unit], small_city: Hierarchy, redis_client: redis.Redis, keys: RedisKeys
) -> dict[str, Any]:
    GeoRepository(engine).replace_all(small_units)
    clock = Clock()
    rules = load_rules()
    raiser = AlertRaiser(AlertRepository(engine), rules, small_city)
    service = CaseService(
        CaseRepository(engine),
        AuditRepository(engine),
        small_city,
        GridLocator.for_hierarchy(small_city),
        load_case_config(),
        UserRepository(engine),
        overdue=raiser,
        clock=clock,
    )
    district = small_city.at_level(Level.DISTRICT)[0].code
    streets = [s.code for s in small_city.children(district)][:2]
    grids = [small_city.grids_under(s)[0] for s in streets]
    charts = LeaderCharts(
        ChartQueries(engine), small_city, redis_client, keys, service.config, rules, subtree=service.scope, clock=clock
    )
    op = UserRepository(engine).create("op", "op", "x", Role.CITY_OPERATOR, small_city.city.code).principal
    return {
        "service": service,
        "charts": charts,
        "clock": clock,
        "district": district,
        "streets": streets,
        "grids": grids,
        "op": op,
        "raiser": raiser,
        "engine": engine,
        "city": small_city,
    }


def file_case(w: dict[str, Any], grid: str, code: str, source: CaseSource = CaseSource.HOTLINE) -> int:
    p = w["city"].get(grid).geometry.representative_point()
    return int(w["service"].collect(NewCaseInput(source, code, "问题描述", lon=p.x, lat=p.y), "t", "-").id)


def test_case_charts_count_what_happened_by_local_day_and_child_unit(world: dict[str, Any]) -> None:
    w, clock = world, world["clock"]
    s1, _s2 = w["streets"]
    g1, g2 = w["grids"]
    op: Principal = w["op"]
    svc: CaseService = w["service"]
    # Yesterday (local): two road cases in street 1, one noise case reported by a grid worker in street 2.
    a = file_case(w, g1, "road_damage")
    b = file_case(w, g1, "road_damage")
    c = file_case(w, g2, "noise", CaseSource.GRID_REPORT)
    svc.act(op, a, CaseAction.ACCEPT, "-")  # on time (within 2 h)
    clock.now += timedelta(hours=3)
    svc.act(op, b, CaseAction.ACCEPT, "-")  # late
    svc.act(op, c, CaseAction.REJECT, "-", note="重复")  # late
    # Today: one case in street 2; a walked through to evaluation with satisfaction 4.
    clock.now = NOW
    file_case(w, g2, "sanitation")
    svc.act(op, a, CaseAction.DISPATCH, "-")  # late: the accepted state allows 2 h
    for step in (CaseAction.START, CaseAction.FEEDBACK, CaseAction.VERIFY, CaseAction.CLOSE):
        svc.act(op, a, step, "-")
    svc.act(op, a, CaseAction.EVALUATE, "-", satisfaction=4)
    charts: LeaderCharts = w["charts"]
    d = w["district"]
    road, noise, sanitation = (svc.config.category(k).name_zh for k in ("road_damage", "noise", "sanitation"))

    assert sorted(charts.rows("case_volume", d, days=2), key=str) == sorted(
        [DailyCount(YESTERDAY, road, 2), DailyCount(YESTERDAY, noise, 1), DailyCount(TODAY, sanitation, 1)], key=str
    )
    assert sorted(charts.rows("hotline_topics", d, days=2), key=str) == sorted(
        [DailyCount(YESTERDAY, road, 2), DailyCount(TODAY, sanitation, 1)], key=str
    )
    assert charts.rows("case_volume", d, days=1) == [DailyCount(TODAY, sanitation, 1)]
    assert charts.rows("case_volume", w["city"].at_level(Level.DISTRICT)[1].code, days=2) == []  # another district
    on_time = {r.day: (r.done, r.total) for r in charts.rows("on_time_rate", d, days=2)}
    assert on_time[YESTERDAY] == (1, 3)
    assert on_time[TODAY] == (5, 6)  # six timed steps of a; only the dispatch was late
    assert charts.rows("satisfaction", d, days=2) == [DailyScore(TODAY, 4, 1)]
    # Overdue now: b (accepted yesterday, 2 h to dispatch) in street 1; the sanitation case is fresh.
    assert charts.rows("overdue_cases", d) == [UnitCount(s1, w["city"].get(s1).name, road, 1)]
    assert charts.rows("overdue_cases", w["city"].city.code)[0].code == d  # the city sees it under the district
    en = charts.rows("case_volume", d, days=1, lang="en")
    assert en == [DailyCount(TODAY, "Sanitation", 1)]


def test_alert_patrol_and_unit_charts(world: dict[str, Any], redis_client: redis.Redis, keys: RedisKeys) -> None:
    w = world
    s1, s2 = w["streets"]
    g1, g2 = w["grids"]
    w["clock"].now = NOW
    raiser: AlertRaiser = w["raiser"]
    raiser.raise_external("case_overdue", "case:1", g1, "x", NOW)
    raiser.raise_external("case_overdue", "case:2", g2, "x", NOW)
    charts: LeaderCharts = w["charts"]
    d = w["district"]
    assert charts.rows("alerts_by_type", d, days=1) == [DailyCount(TODAY, "案件超期未办结", 2)]
    assert charts.rows("alerts_by_type", d, days=1, lang="en") == [DailyCount(TODAY, "Case overdue", 2)]

    with w["engine"].begin() as conn:
        ids = [
            conn.execute(
                insert(PatrolPointRow.__table__).values(grid_code=g, name="p", lon=0.0, lat=0.0, active=True)
            ).inserted_primary_key[0]
            for g in (g1, g1, g2)
        ]
        for point, ts in ((ids[0], NOW), (ids[0], NOW + timedelta(minutes=5)), (ids[2], NOW)):
            conn.execute(
                insert(PatrolCheckinRow.__table__).values(
                    point_id=point, grid_code=g1, username="w", ts=ts, lon=0.0, lat=0.0, distance_m=1.0, note=""
                )
            )
    rows = charts.rows("patrol_checkins", d, days=2)
    assert rows == [DailyRate(TODAY, 2, 3), DailyRate(YESTERDAY, 0, 3)]  # a second visit to one point is not two

    docs = {
        s1: {"today": {"hc.green": 10, "hc.red": 2}, "devices": {"online": 9, "total": 10}},
        s2: {"today": {"hc.yellow": 1}, "devices": {"online": 0, "total": 4}},
    }
    redis_client.hset(keys.unit_stats, mapping={k: json.dumps(v) for k, v in docs.items()})
    n1, n2 = w["city"].get(s1).name, w["city"].get(s2).name
    health = charts.rows("health_code_colours", d)
    assert sorted(health, key=str) == sorted(
        [UnitCount(s1, n1, "green", 10), UnitCount(s1, n1, "red", 2), UnitCount(s2, n2, "yellow", 1)], key=str
    )
    devices = {r.code: r for r in charts.rows("device_online_rate", d)}
    assert devices[s1] == UnitRate(s1, n1, 9, 10) and devices[s2] == UnitRate(s2, n2, 0, 4)
    assert len(devices) == len(w["city"].children(d))  # every street, with or without figures


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[Any]:
    settings = small_city_settings(tmp_path_factory.mktemp("charts") / "var", redis_server.url)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    engine.dispose()
    app = create_app(settings)
    d1, d2 = (d.code for d in city.at_level(Level.DISTRICT)[:2])
    make_user(app.ctx.accounts, "lead1", Role.DISTRICT_LEADER, d1)
    make_user(app.ctx.accounts, "worker1", Role.GRID_WORKER, city.grids_under(d1)[0])
    app.d1, app.d2 = d1, d2
    try:
        yield app
    finally:
        app.close()


@pytest.mark.parametrize("key", CHART_KEYS)
def test_every_chart_is_served_to_a_leader_for_their_own_district_only(gw: Any, key: str) -> None:
    c = gw.server.test_client()
    login(c, "lead1")
    resp = c.get(f"/api/v1/units/{gw.d1}/charts/{key}.json?days=7&theme=dark&lang=en")
    assert resp.status_code == 200
    fig = resp.get_json()
    assert "layout" in fig and fig["layout"]["title"]["text"]
    assert c.get(f"/api/v1/units/{gw.d2}/charts/{key}.json").status_code == 403


def test_chart_requests_are_checked(gw: Any) -> None:
    c = gw.server.test_client()
    login(c, "lead1")
    assert c.get(f"/api/v1/units/{gw.d1}/charts/nope.json").status_code == 404
    assert c.get(f"/api/v1/units/{gw.d1}/charts/case_volume.json?theme=pink").status_code == 400
    listing = c.get("/api/v1/charts?lang=en").get_json()["charts"]
    assert [x["key"] for x in listing] == list(CHART_KEYS) and all(x["title"] for x in listing)
    w = gw.server.test_client()
    login(w, "worker1")
    assert w.get(f"/api/v1/units/{gw.d1}/charts/case_volume.json").status_code == 403  # no VIEW_KPIS
