"""The Open311 GeoReport v2 door on a real app: a client written from the spec, keys, scopes and errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import Gridwatch, create_app, main
from domain.cases import CaseAction
from domain.permissions import Role
from geo.hierarchy import Hierarchy, Level
from runtime.bootstrap import ensure_demo_city, open_database
from settings import Settings
from storage.api_client_repository import ApiClientRepository
from storage.audit_repository import AuditQuery
from tests.auth import login, make_user
from tests.conftest import small_city_settings
from tests.integration.events import inside
from tests.open311_examples import assert_same_json_shape, assert_same_xml_shape, load_json, load_xml
from tests.processes import small_city_env

V2 = "/open311/v2"
CONTACT = {
    "first_name": "Xiaoming",
    "last_name": "Wang",
    "phone": "13912345678",
    "email": "wang.xiaoming@example.org",
    "device_id": "tt222111",
    "account_id": "acct-889",
}


@dataclass
class World:
    gw: Gridwatch
    city: Hierarchy
    d1: str
    d2: str
    keys: dict[str, str]
    settings: Settings


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[World]:
    settings = small_city_settings(tmp_path_factory.mktemp("open311") / "var", redis_server.url)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    engine.dispose()
    gw = create_app(settings)
    d1, d2 = (d.code for d in city.at_level(Level.DISTRICT)[:2])
    clients = ApiClientRepository(gw.ctx.engine)
    keys = {
        "hotline": clients.create("hotline", city.city.code, {"open311"})[1],
        "district": clients.create("district-hotline", d1, {"open311"})[1],
        "verifier": clients.create("verifier", city.city.code, {"verification"})[1],
        "revoked": clients.create("old-hotline", city.city.code, {"open311"})[1],
    }
    clients.revoke("old-hotline")
    make_user(gw.ctx.accounts, "op", Role.CITY_OPERATOR, city.city.code)
    make_user(gw.ctx.accounts, "lead2", Role.DISTRICT_LEADER, d2)
    make_user(gw.ctx.accounts, "auditor", Role.AUDITOR, city.city.code)
    try:
        yield World(gw, city, d1, d2, keys, settings)
    finally:
        gw.close()


def point_in(world: World, district: str, n: int = 0) -> tuple[float, float]:
    """(lon, lat) strictly inside a grid of a district."""
    grid = world.city.get(world.city.grids_under(district)[n])
    return inside(grid)


def client(world: World) -> FlaskClient:
    return world.gw.server.test_client()


def post(world: World, fmt: str = "json", **fields: str) -> TestResponse:
    return client(world).post(f"{V2}/requests.{fmt}", data=fields)


def road_damage(world: World, key: str, district: str, **more: str) -> dict[str, str]:
    lon, lat = point_in(world, district)
    return {
        "api_key": key,
        "service_code": "road_damage",
        "lat": str(lat),
        "long": str(lon),
        "attribute[damage_kind]": "pothole",
        "description": "人行道旁路面塌了一个大坑",
        "media_url": "https://photos.example.org/12345/1.jpg",
        **more,
    }


def xml_of(resp: TestResponse) -> ET.Element:
    assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
    body = resp.get_data(as_text=True)
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(resp.get_data())  # noqa: S314  # our own server's answer


def errors_of(resp: TestResponse, status: int) -> list[str]:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    body = resp.get_json()
    assert isinstance(body, list) and all(e["code"] == status for e in body), body
    return [e["description"] for e in body]


def denied_since(world: World, seq: int) -> list[Any]:
    return [
        e
        for e in world.gw.ctx.audit.search(AuditQuery(action="open311.denied", limit=100))
        if e.seq > seq and e.outcome == "denied"
    ]


def head(world: World) -> int:
    entries = world.gw.ctx.audit.search(AuditQuery(limit=1))
    return entries[0].seq if entries else 0


# -- (c) a client written from the spec walks the whole life of a request -----------------------------------
def test_a_spec_client_files_follows_and_sees_a_request_closed(world: World) -> None:
    c = client(world)
    key = world.keys["hotline"]
    # 1. Discover the services, then the one with a question to answer.
    services = c.get(f"{V2}/services.json").get_json()
    assert_same_json_shape(services, load_json("service-list")[1])
    road = next(s for s in services if s["service_code"] == "road_damage")
    assert road["service_name"] == "道路破损" and road["metadata"] is True and road["type"] == "realtime"
    definition = c.get(f"{V2}/services/road_damage.json").get_json()
    assert_same_json_shape(definition, load_json("service-definition")[1])
    attribute = definition["attributes"][0]
    assert attribute["code"] == "damage_kind" and attribute["required"] is True
    # 2. File it with a real key; the answer has the id at once (and a token).
    started = datetime.now(UTC)
    fields = road_damage(world, key, world.d1, **CONTACT, **{"attribute[damage_kind]": attribute["values"][0]["key"]})
    resp = c.post(f"{V2}/requests.json", data=fields)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    created = resp.get_json()
    assert_same_json_shape(created, load_json("service-request-post")[1], extra={"token"})
    request_id, token = created[0]["service_request_id"], created[0]["token"]
    assert created[0]["account_id"] is None
    assert created[0]["service_notice"] == f"已收到，编号 {request_id}。交通运输局将在48小时内处置。"
    # 3. Read it back by id and by token.
    one = c.get(f"{V2}/requests/{request_id}.json", query_string={"api_key": key}).get_json()
    assert_same_json_shape(one, load_json("service-request")[1])
    record = one[0]
    assert record["service_request_id"] == request_id and record["status"] == "open"
    assert record["service_code"] == "road_damage" and record["agency_responsible"] == "交通运输局"
    assert record["description"] == "人行道旁路面塌了一个大坑\n破损类型：坑洼"
    assert (record["long"], record["lat"]) == pytest.approx(point_in(world, world.d1))
    assert record["media_url"] == fields["media_url"] and record["zipcode"] is None
    assert record["requested_datetime"].endswith("+08:00") and record["expected_datetime"].endswith("+08:00")
    assert record["status_notes"] is None
    by_token = c.get(f"{V2}/tokens/{token}.json", query_string={"api_key": key}).get_json()
    assert_same_json_shape(by_token, load_json("request-from-token")[1])
    assert by_token == [{"service_request_id": request_id, "token": token}]
    # 4. Find it with the spec's filters.
    window = {"start_date": (started - timedelta(minutes=5)).isoformat(), "end_date": datetime.now(UTC).isoformat()}

    def listed(**args: str) -> list[str]:
        resp = c.get(f"{V2}/requests.json", query_string={"api_key": key, **args})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return [r["service_request_id"] for r in resp.get_json()]

    assert request_id in listed()
    assert request_id in listed(status="open", service_code="noise,road_damage", **window)
    assert request_id not in listed(status="closed")
    assert request_id not in listed(service_code="noise")
    assert request_id not in listed(start_date=(datetime.now(UTC) + timedelta(minutes=1)).isoformat())
    assert request_id not in listed(end_date=(started - timedelta(minutes=5)).isoformat())
    assert listed(service_request_id=f"{request_id},999999", status="closed") == [request_id]  # ids win
    # 5. The operator works the case through the same case service; the status follows.
    op = world.gw.ctx.accounts.users.by_username("op")
    assert op is not None
    for action in (CaseAction.ACCEPT, CaseAction.DISPATCH, CaseAction.START, CaseAction.FEEDBACK, CaseAction.VERIFY):
        world.gw.ctx.cases.act(op.principal, int(request_id), action, "127.0.0.1", note=f"{action.value} 完成")
    assert c.get(f"{V2}/requests/{request_id}.json", query_string={"api_key": key}).get_json()[0]["status"] == "open"
    world.gw.ctx.cases.act(op.principal, int(request_id), CaseAction.CLOSE, "127.0.0.1", note="坑已填平，结案")
    resp = c.get(f"{V2}/requests/{request_id}.xml", query_string={"api_key": key})
    root = xml_of(resp)
    assert_same_xml_shape(root, load_xml("service-request")[1])
    assert root.findtext("request/status") == "closed"
    assert root.findtext("request/status_notes") == "坑已填平，结案"
    assert root.findtext("request/expected_datetime") in (None, "")
    assert request_id in listed(status="closed", **window)
    # The caller's personal data went to the case, and nowhere into an answer.
    case = world.gw.ctx.cases.cases.get(int(request_id))
    assert case.contact == CONTACT and case.reporter == "open311:hotline"
    for path in (f"requests/{request_id}.json", f"requests/{request_id}.xml", "requests.json", "requests.xml"):
        body = c.get(f"{V2}/{path}", query_string={"api_key": key}).get_data(as_text=True)
        for value in CONTACT.values():
            assert value not in body, (path, value)
    collected = world.gw.ctx.audit.search(AuditQuery(action="case.collect", target=f"case:{request_id}"))
    assert [e.actor for e in collected] == ["open311:hotline"]


@pytest.mark.parametrize(
    ("path", "example", "root"),
    [
        ("services.xml", "service-list", "services"),
        ("services/road_damage.xml", "service-definition", "service_definition"),
    ],
)
def test_xml_services_have_the_examples_element_names(world: World, path: str, example: str, root: str) -> None:
    got = xml_of(client(world).get(f"{V2}/{path}"))
    assert got.tag == root
    assert_same_xml_shape(got, load_xml(example)[1])


def test_xml_post_list_and_token_have_the_examples_element_names(world: World) -> None:
    key = world.keys["hotline"]
    created = xml_of(post(world, "xml", **road_damage(world, key, world.d2)))
    assert_same_xml_shape(created, load_xml("service-request-post")[1], extra={"token"})
    request_id, token = created.findtext("request/service_request_id"), created.findtext("request/token")
    assert created.find("request/account_id") is not None and not created.findtext("request/account_id")
    listing = xml_of(client(world).get(f"{V2}/requests.xml", query_string={"api_key": key}))
    assert_same_xml_shape(listing, load_xml("service-requests")[1])
    assert request_id in [r.findtext("service_request_id") for r in listing]
    from_token = xml_of(client(world).get(f"{V2}/tokens/{token}.xml", query_string={"api_key": key}))
    assert_same_xml_shape(from_token, load_xml("request-from-token")[1])
    assert from_token.findtext("request/service_request_id") == request_id


def test_discovery_points_a_client_at_the_endpoint(world: World) -> None:
    c = client(world)
    doc = c.get("/open311/discovery.json").get_json()
    endpoint = doc["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert sorted(endpoint["formats"]) == ["application/json", "text/xml"]
    assert c.get(f"{endpoint['url']}/services.xml").status_code == 200  # the URL it gives works
    root = xml_of(c.get("/open311/discovery.xml"))
    assert root.tag == "discovery" and root.findtext("endpoints/endpoint/type") == "production"
    assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == endpoint["formats"]


def test_services_speak_english_when_asked(world: World) -> None:
    c = client(world)
    names = {s["service_code"]: s["service_name"] for s in c.get(f"{V2}/services.json?locale=en").get_json()}
    assert names["road_damage"] == "Road damage"
    by_header = c.get(f"{V2}/services.json", headers={"Accept-Language": "en-US,en;q=0.9"}).get_json()
    assert {s["service_code"]: s["service_name"] for s in by_header} == names
    assert c.get(f"{V2}/services.json").get_json()[0]["service_name"] == "环境卫生"  # Chinese by default
    definition = c.get(f"{V2}/services/road_damage.json?locale=en").get_json()
    assert definition["attributes"][0]["description"] == "Kind of damage"
    assert c.get(f"{V2}/services/noise.json").get_json() == {"service_code": "noise", "attributes": []}


# -- keys, scopes and jurisdiction ------------------------------------------------------------------------------
@pytest.mark.parametrize("who", [None, "wrong", "verifier", "revoked"])
def test_filing_needs_a_live_key_with_the_open311_scope(world: World, who: str | None) -> None:
    key = {None: "", "wrong": "not-a-key"}.get(who) if who in (None, "wrong") else world.keys[who]
    before = head(world)
    fields = road_damage(world, key or "", world.d1)
    if not key:
        del fields["api_key"]
    resp = post(world, **fields)
    assert len(errors_of(resp, 403)) == 1
    root = xml_of(post(world, "xml", **fields))
    assert root.tag == "errors" and root.findtext("error/code") == "403"
    assert_same_xml_shape(root, load_xml("errors")[1])
    assert len(denied_since(world, before)) == 2  # both attempts audited


def test_a_district_key_files_and_reads_only_in_its_district(world: World) -> None:
    district, city = world.keys["district"], world.keys["hotline"]
    outside = post(world, **road_damage(world, district, world.d2))
    assert errors_of(outside, 400) == ["无法受理：location: the point lies outside your jurisdiction"]
    inside_id = post(world, **road_damage(world, district, world.d1)).get_json()[0]["service_request_id"]
    other = post(world, **road_damage(world, city, world.d2)).get_json()[0]
    c = client(world)
    seen = [
        r["service_request_id"] for r in c.get(f"{V2}/requests.json", query_string={"api_key": district}).get_json()
    ]
    assert inside_id in seen and other["service_request_id"] not in seen
    for path in (f"requests/{other['service_request_id']}.json", f"tokens/{other['token']}.json"):
        assert len(errors_of(c.get(f"{V2}/{path}", query_string={"api_key": district}), 404)) == 1
    # jurisdiction_id narrows within the key's unit, and cannot leave it.
    grid = world.city.grids_under(world.d1)[0]
    narrowed = c.get(f"{V2}/requests.json", query_string={"api_key": district, "jurisdiction_id": grid}).get_json()
    assert {r["service_request_id"] for r in narrowed} <= set(seen)
    refused = c.get(f"{V2}/requests.json", query_string={"api_key": district, "jurisdiction_id": world.d2})
    assert len(errors_of(refused, 403)) == 1
    assert len(errors_of(post(world, **road_damage(world, district, world.d1, jurisdiction_id=world.d2)), 403)) == 1


def test_reading_needs_a_key_or_a_session_that_may_view_cases(world: World) -> None:
    key = world.keys["hotline"]
    in_d1 = post(world, **road_damage(world, key, world.d1)).get_json()[0]["service_request_id"]
    in_d2 = post(world, **road_damage(world, key, world.d2)).get_json()[0]["service_request_id"]
    anonymous = client(world)
    for path in ("requests.json", f"requests/{in_d1}.json", "tokens/x.json"):
        assert errors_of(anonymous.get(f"{V2}/{path}"), 403) == ["缺少 api_key：请向城市运行管理中心申请接入密钥"]
    leader = client(world)
    login(leader, "lead2")
    seen = [r["service_request_id"] for r in leader.get(f"{V2}/requests.json").get_json()]
    assert in_d2 in seen and in_d1 not in seen
    assert leader.get(f"{V2}/requests/{in_d1}.json").status_code == 404
    # A session never files: the spec's POST takes a key.
    assert len(errors_of(leader.post(f"{V2}/requests.json", data=road_damage(world, "", world.d2)), 403)) == 1
    auditor = client(world)
    login(auditor, "auditor")
    before = head(world)
    assert auditor.get(f"{V2}/requests.json").status_code == 403
    assert [(e.actor, e.detail["reason"]) for e in denied_since(world, before)] == [("auditor", "role")]


# -- errors: the spec's format, the right status, never a 500 --------------------------------------------------
def test_bad_input_is_400_with_every_reason(world: World) -> None:
    key = world.keys["hotline"]
    resp = post(world, api_key=key, service_code="road_damage", lat="32.1", email="nope", locale="en")
    assert errors_of(resp, 400) == [
        "lat and long go together",
        "email is not an e-mail address",
        "attribute damage_kind is required",
    ]
    root = xml_of(post(world, "xml", api_key=key, service_code="nope", address_string="x"))
    assert [e.findtext("code") for e in root] == ["400"]
    assert_same_xml_shape(root, load_xml("errors")[1])
    far = post(world, api_key=key, service_code="noise", lat="0.5", long="0.5", description="x")
    assert errors_of(far, 400) == ["无法受理：location: the point lies outside the city"]


@pytest.mark.parametrize(
    "fields",
    [
        {"lat": "1e999", "long": "1"},
        {"lat": "", "long": "", "address_string": ""},
        {"service_code": "x" * 5000, "address_string": "a"},
        {"attribute[]": "1", "address_string": "a"},
        {"attribute[damage_kind][]": "crack", "service_code": "road_damage", "address_string": "a"},
        {"address_string": "\x00", "description": "\x00"},
    ],
)
def test_odd_input_never_reaches_a_500(world: World, fields: dict[str, str]) -> None:
    data = {"api_key": world.keys["hotline"], "service_code": "noise", **fields}
    resp = post(world, **data)
    assert resp.status_code in (200, 400), resp.get_data(as_text=True)[:300]
    if resp.status_code == 200:  # what was stored still renders as well-formed XML
        request_id = resp.get_json()[0]["service_request_id"]
        got = client(world).get(f"{V2}/requests/{request_id}.xml", query_string={"api_key": data["api_key"]})
        assert xml_of(got).findtext("request/service_request_id") == request_id


def test_bytes_that_are_not_utf8_never_reach_a_500(world: World) -> None:
    body = f"api_key={world.keys['hotline']}&service_code=noise&address_string=%ED%A0%80%FF&description=%C3".encode()
    resp = client(world).post(f"{V2}/requests.json", data=body, content_type="application/x-www-form-urlencoded")
    assert resp.status_code in (200, 400), resp.get_data(as_text=True)[:300]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("services.html", 404),
        ("services.JSON", 404),
        ("services/nope.json", 404),
        ("requests/999999.json", 404),
        ("requests/abc.json", 404),
        ("tokens/nope.json", 404),
        ("requests.json?start_date=yesterday", 400),
        ("requests.json?status=pending", 400),
        ("requests.json?service_request_id=1,x", 400),
    ],
)
def test_unknown_things_and_bad_filters_answer_in_the_spec_format(world: World, path: str, status: int) -> None:
    sep = "&" if "?" in path else "?"
    resp = client(world).get(f"{V2}/{path}{sep}api_key={world.keys['hotline']}")
    assert len(errors_of(resp, status)) == 1


# -- the key is issued from the command line --------------------------------------------------------------------
def test_clients_command_issues_lists_and_revokes_a_key(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in small_city_env(world.settings.data_dir).items():
        if name.startswith("GRIDWATCH_"):
            monkeypatch.setenv(name, value)

    def cli(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    status, out, _ = cli("clients", "add", "hotline-cli", "--unit", world.d1, "--scopes", "open311", "verification")
    assert status == 0, out
    key = out.split("key (shown once, keep it secret): ")[1].strip()
    assert post(world, **road_damage(world, key, world.d1)).status_code == 200
    status, out, _ = cli("clients", "list")
    line = next(row for row in out.splitlines() if row.startswith("hotline-cli "))
    assert world.d1 in line and "open311,verification" in line and "active" in line and key not in out
    assert cli("clients", "add", "hotline-cli", "--unit", world.d1, "--scopes", "open311")[0] == 2
    assert cli("clients", "add", "other", "--unit", "nowhere", "--scopes", "open311")[0] == 2
    assert cli("clients", "revoke", "hotline-cli")[0] == 0
    assert len(errors_of(post(world, **road_damage(world, key, world.d1)), 403)) == 1
    assert cli("clients", "revoke", "hotline-cli")[0] == 2
    assert "revoked" in next(r for r in cli("clients", "list")[1].splitlines() if r.startswith("hotline-cli "))
    actions = [e.action for e in world.gw.ctx.audit.search(AuditQuery(target="client:hotline-cli"))]
    assert sorted(actions) == ["client.create", "client.revoke"]
