"""Open311 GeoReport v2 mapping without Flask: parsing, status mapping, records shaped like the spec's examples."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from api.open311_format import to_xml
from domain.case_config import CaseConfig, CaseConfigError, load_case_config, parse_case_config
from domain.cases import CaseState
from domain.open311 import (
    DEFAULT_SPAN,
    CaseFacts,
    RequestQuery,
    ServiceRequest,
    case_description,
    error_records,
    language_for,
    parse_query,
    parse_service_request,
    post_record,
    service_definition,
    service_record,
    service_request_record,
    states_for,
    status_of,
    token_record,
)
from tests.open311_examples import (
    EXAMPLES,
    assert_same_json_shape,
    assert_same_xml_shape,
    example_text,
    load_json,
    load_xml,
)

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CONFIG = load_case_config()
CATS = CONFIG.categories_by_code


def example_config() -> CaseConfig:
    """The services of the spec's examples as a Gridwatch rule file (codes kept as the strings they are)."""
    _, services = load_json("service-list")
    _, definition = load_json("service-definition")
    lines = ['[departments]\nx = { zh = "部门", en = "Dept" }']
    for s in [*services, {"service_code": definition["service_code"], "service_name": "DMV"}]:
        lines.append(
            f"[[category]]\nservice_code = {json.dumps(s['service_code'])}\nzh = {json.dumps(s['service_name'])}\n"
            f'en = {json.dumps(s["service_name"])}\ndepartment = "x"'
        )
    for a in definition["attributes"]:
        values = ", ".join(
            f"{{ key = {json.dumps(v['key'])}, zh = {json.dumps(v['name'])}, en = {json.dumps(v['name'])} }}"
            for v in a["values"]
        )
        lines.append(
            f"[[category.attribute]]\ncode = {json.dumps(a['code'])}\ndatatype = {json.dumps(a['datatype'])}\n"
            f"required = {str(a['required']).lower()}\nzh = {json.dumps(a['description'])}\n"
            f"en = {json.dumps(a['description'])}\nvalues = [{values}]"
        )
    return parse_case_config("\n".join(lines))


def facts(state: CaseState = CaseState.HANDLING, **changes: Any) -> CaseFacts:
    values: dict[str, Any] = {
        "id": 7,
        "token": "tok-7",
        "state": state,
        "service_code": "road_damage",
        "service_name": "道路破损",
        "description": "路面坑洼",
        "agency_responsible": "交通运输局",
        "service_notice": "已收到",
        "status_notes": "已派遣",
        "requested": NOW,
        "updated": NOW + timedelta(hours=1),
        "expected": NOW + timedelta(hours=49),
        "address": "中山路 1 号",
        "lat": 32.05,
        "lon": 118.78,
        "media_url": "https://example.org/p.jpg",
    }
    values.update(changes)
    return CaseFacts(**values)


# -- the example files and their quirks -----------------------------------------------------------------
@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_loads_in_both_formats(name: str) -> None:
    status, data = load_json(name)
    xml_status, root = load_xml(name)
    assert status == xml_status == (403 if name == "errors" else 200)
    assert data and len(root)


def test_the_quirks_are_real_and_handled_deliberately() -> None:
    # Three JSON examples are not JSON as published; the error examples start with a status line.
    for name in ("service-list", "service-requests", "service-request"):
        with pytest.raises(json.JSONDecodeError):
            json.loads(example_text(name, "json")[1])
    assert example_text("errors", "json")[0] == 403
    # Leading zeros survive as the strings the spec says codes are; bare-number ids become strings.
    _, services = load_json("service-list")
    assert [s["service_code"] for s in services] == ["001", "002", "003"]
    _, requests = load_json("service-requests")
    assert {r["service_request_id"] for r in requests} == {"638344", "638349"}
    assert requests[0]["lat"] == pytest.approx(37.762221815)  # real numbers stay numbers


# -- (a) our parser accepts every request shape the examples imply ---------------------------------------
def test_a_post_built_from_the_examples_parses_for_every_example_service() -> None:
    config = example_config()
    _, services = load_json("service-list")
    _, requests = load_json("service-request")
    example = requests[0]
    for s in services:
        fields = [
            ("api_key", "xyz"),
            ("jurisdiction_id", "city.gov"),
            ("service_code", s["service_code"]),
            ("lat", str(example["lat"])),
            ("long", str(example["long"])),
            ("address_string", example["address"]),
            ("email", "smit222@sfgov.edu"),
            ("device_id", "tt222111"),
            ("account_id", "123456"),
            ("first_name", "john"),
            ("last_name", "smith"),
            ("phone", "111111111"),
            ("description", "A large sinkhole is destroying the street"),
            ("media_url", example["media_url"].strip()),
        ]
        parsed = parse_service_request(fields, config.categories_by_code, "en")
        assert isinstance(parsed, ServiceRequest), parsed
        assert parsed.service_code == s["service_code"]  # "001", not 1
        assert (parsed.lat, parsed.long) == (example["lat"], example["long"])
        assert parsed.contact == {
            "email": "smit222@sfgov.edu",
            "device_id": "tt222111",
            "account_id": "123456",
            "first_name": "john",
            "last_name": "smith",
            "phone": "111111111",
        }


def test_the_example_definitions_attribute_is_asked_and_checked() -> None:
    config = example_config()
    _, definition = load_json("service-definition")
    code, attr = definition["service_code"], definition["attributes"][0]
    where = [("service_code", code), ("address_id", "545483")]
    ok = parse_service_request([*where, (f"attribute[{attr['code']}]", "123")], config.categories_by_code, "en")
    assert isinstance(ok, ServiceRequest) and ok.attributes == {attr["code"]: ("123",)}
    missing = parse_service_request(where, config.categories_by_code, "en")
    assert [e.description for e in missing] == [f"attribute {attr['code']} is required"]  # type: ignore[union-attr]
    wrong = parse_service_request([*where, (f"attribute[{attr['code']}]", "999")], config.categories_by_code, "en")
    assert [e.code for e in wrong] == [400]  # type: ignore[union-attr]
    # Our definition of the example's service has the example's shape.
    assert_same_json_shape(service_definition(config.category(code), "en"), definition)


def test_the_example_query_values_parse() -> None:
    _, requests = load_json("service-requests")
    ids = ",".join(r["service_request_id"] for r in requests)
    assert parse_query({"service_request_id": ids}, NOW, CST) == RequestQuery(ids=(638344, 638349), limit=2)
    start, end = requests[0]["requested_datetime"], requests[1]["requested_datetime"]
    q = parse_query({"start_date": start, "end_date": end, "status": "open,closed", "service_code": "006"}, NOW, CST)
    assert isinstance(q, RequestQuery)
    assert q.start == datetime(2010, 4, 14, 14, 37, 38, tzinfo=UTC)
    assert q.end == datetime(2010, 4, 19, 14, 37, 38, tzinfo=UTC)
    assert q.service_codes == ("006",) and q.statuses == {"open", "closed"}


# -- parsing errors: all at once, each named -----------------------------------------------------------------
def errors_of(fields: list[tuple[str, str]]) -> list[str]:
    result = parse_service_request(fields, CATS, "en")
    assert isinstance(result, list), result
    assert {e.code for e in result} == {400}
    return [e.description for e in result]


def test_every_problem_of_a_post_is_reported_together() -> None:
    assert errors_of([("service_code", "nope"), ("lat", "32"), ("email", "not-mail"), ("media_url", "ftp://x")]) == [
        "service_code nope was not found",
        "lat and long go together",
        "email is not an e-mail address",
        "media_url must be an http(s) URL",
    ]
    assert errors_of([("description", "x")]) == [
        "service_code is required",
        "A location is required: lat and long, or address_string, or address_id",
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lat", "abc", "lat must be a number"),
        ("lat", "91", "lat is out of range"),
        ("long", "-181", "long is out of range"),
        ("lat", "nan", "lat must be a number"),
        ("description", "x" * 4001, "description is too long"),
    ],
)
def test_bad_plain_fields_are_named(field: str, value: str, message: str) -> None:
    fields = [("service_code", "noise"), ("lat", "32"), ("long", "118")]
    fields = [(k, v) for k, v in fields if k != field] + [(field, value)]
    assert message in errors_of(fields)


def test_attributes_are_checked_against_the_category() -> None:
    where = [("service_code", "road_damage"), ("address_string", "中山路")]
    assert errors_of(where) == ["attribute damage_kind is required"]
    assert errors_of([*where, ("attribute[damage_kind]", "lava")]) == ["lava is not a value of attribute damage_kind"]
    assert errors_of([*where, ("attribute[damage_kind]", "crack"), ("attribute[colour]", "red")]) == [
        "service road_damage has no attribute colour"
    ]
    assert errors_of([*where, ("attribute[damage_kind]", "crack"), ("attribute[damage_kind]", "pothole")]) == [
        "attribute damage_kind takes one value"
    ]
    ok = parse_service_request([*where, ("attribute[damage_kind]", "crack")], CATS)
    assert isinstance(ok, ServiceRequest)
    assert case_description(ok, CONFIG.category("road_damage"), "zh-CN") == "破损类型：裂缝"
    described = ServiceRequest("road_damage", "路面开裂", attributes={"damage_kind": ("crack",)})
    assert case_description(described, CONFIG.category("road_damage"), "en") == "路面开裂\nKind of damage: Crack"
    bare = ServiceRequest("noise", "  ")
    assert case_description(bare, CONFIG.category("noise"), "zh-CN") == "噪声扰民"  # the spec lets description out


def test_attribute_definitions_in_the_rule_file_are_validated() -> None:
    base = '[departments]\nx = { zh = "部", en = "D" }\n[[category]]\nservice_code = "a"\nzh = "甲"\nen = "A"\n'
    base += 'department = "x"\n[[category.attribute]]\ncode = "q"\nzh = "问"\nen = "Q"\n'
    assert parse_case_config(base).category("a").attributes[0].datatype == "string"
    with pytest.raises(CaseConfigError, match="datatype"):
        parse_case_config(base + 'datatype = "colour"\n')
    with pytest.raises(CaseConfigError, match="values are given exactly"):
        parse_case_config(base + 'datatype = "singlevaluelist"\n')
    with pytest.raises(CaseConfigError, match="required is true or false"):
        parse_case_config(base + 'required = "yes"\n')


# -- queries ---------------------------------------------------------------------------------------------------
def test_query_defaults_follow_the_spec() -> None:
    q = parse_query({}, NOW, CST)
    assert q == RequestQuery(start=NOW - DEFAULT_SPAN, end=None, limit=1000)
    end = datetime(2026, 10, 1, tzinfo=UTC)
    q = parse_query({"end_date": end.isoformat()}, NOW, CST)
    assert isinstance(q, RequestQuery) and (q.start, q.end) == (end - DEFAULT_SPAN, end)
    q = parse_query({"start_date": "2026-10-01T00:00:00Z"}, NOW, CST)
    assert isinstance(q, RequestQuery) and q.end == end + DEFAULT_SPAN
    # A "+" sent unescaped arrives as a space; it is read as the offset it was.
    q = parse_query({"start_date": "2026-10-01T08:00:00 08:00"}, NOW, CST)
    assert isinstance(q, RequestQuery) and q.start == end
    # No offset given: read in the city's time zone.
    q = parse_query({"start_date": "2026-10-01T08:00:00"}, NOW, CST)
    assert isinstance(q, RequestQuery) and q.start == end


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"start_date": "yesterday"}, "start_date must be an ISO 8601 datetime such as 2026-11-23T08:00:00+08:00"),
        ({"start_date": "2026-10-02T00:00:00Z", "end_date": "2026-10-01T00:00:00Z"}, "end_date is before start_date"),
        ({"status": "open,pending"}, "status is open or closed"),
        ({"service_request_id": "12,abc"}, "service_request_id abc is not a request id"),
    ],
)
def test_bad_queries_are_400_with_a_reason(args: dict[str, str], message: str) -> None:
    result = parse_query(args, NOW, CST, "en")
    assert isinstance(result, list)
    assert [(e.code, e.description) for e in result] == [(400, message)]


def test_states_map_to_open_and_closed() -> None:
    closed = {CaseState.CLOSED, CaseState.EVALUATED, CaseState.REJECTED}
    for state in CaseState:
        assert status_of(state) == ("closed" if state in closed else "open")
    assert set(states_for(frozenset({"closed"}))) == closed
    assert set(states_for(frozenset({"open"}))) == set(CaseState) - closed
    assert states_for(frozenset({"open", "closed"})) == states_for(frozenset()) == ()


def test_language_from_locale_then_accept_language_then_default() -> None:
    assert language_for("en", [("zh-CN", 1.0)], "zh-CN") == "en"
    assert language_for(None, [("zh-CN", 0.9), ("en-GB", 0.5)], "en") == "zh-CN"
    assert language_for(None, [], "zh-CN") == "zh-CN"


# -- (b) our records have the examples' keys, types and element names ----------------------------------------
def test_service_list_has_the_example_shape_in_both_languages() -> None:
    _, example = load_json("service-list")
    _, xml_example = load_xml("service-list")
    for lang in ("zh-CN", "en"):
        ours = [service_record(c, CONFIG.departments[c.department], lang) for c in CONFIG.categories]
        assert_same_json_shape(ours, example)
        assert_same_xml_shape(ET.fromstring(to_xml("services", ours).encode()), xml_example)  # noqa: S314
    road = service_record(CONFIG.category("road_damage"), CONFIG.departments["transport"], "en")
    assert road == {
        "service_code": "road_damage",
        "service_name": "Road damage",
        "description": "Road damage: handled by the Transport Bureau within 48 hours.",
        "metadata": True,
        "type": "realtime",
        "keywords": "pothole, road, 坑洼",
        "group": "infrastructure",
    }
    assert service_record(CONFIG.category("noise"), CONFIG.departments["ecology"], "zh-CN")["metadata"] is False


def test_service_definition_has_the_example_shape_and_may_be_empty() -> None:
    _, example = load_json("service-definition")
    _, xml_example = load_xml("service-definition")
    ours = service_definition(CONFIG.category("road_damage"), "zh-CN")
    assert_same_json_shape(ours, example)
    assert_same_xml_shape(ET.fromstring(to_xml("service_definition", ours).encode()), xml_example)  # noqa: S314
    assert ours["attributes"][0]["values"][2] == {"key": "subsidence", "name": "塌陷"}
    empty = service_definition(CONFIG.category("noise"), "zh-CN")
    assert empty == {"service_code": "noise", "attributes": []}
    assert "<attributes />" in to_xml("service_definition", empty)


@pytest.mark.parametrize("name", ["service-request", "service-requests"])
def test_service_request_records_have_the_example_shape(name: str) -> None:
    _, example = load_json(name)
    _, xml_example = load_xml(name)
    ours = [service_request_record(facts(), CST), service_request_record(facts(CaseState.REJECTED), CST)]
    assert_same_json_shape(ours, example)
    assert_same_xml_shape(ET.fromstring(to_xml("service_requests", ours).encode()), xml_example)  # noqa: S314


def test_a_service_request_record_maps_every_field() -> None:
    record = service_request_record(facts(), CST)
    assert record == {
        "service_request_id": "7",
        "status": "open",
        "status_notes": "已派遣",
        "service_name": "道路破损",
        "service_code": "road_damage",
        "description": "路面坑洼",
        "agency_responsible": "交通运输局",
        "service_notice": "已收到",
        "requested_datetime": "2026-11-23T16:00:00+08:00",
        "updated_datetime": "2026-11-23T17:00:00+08:00",
        "expected_datetime": "2026-11-25T17:00:00+08:00",
        "address": "中山路 1 号",
        "address_id": None,
        "zipcode": None,
        "lat": 32.05,
        "long": 118.78,
        "media_url": "https://example.org/p.jpg",
    }
    closed = service_request_record(facts(CaseState.EVALUATED, status_notes="", address="", lat=None), CST)
    assert closed["status"] == "closed" and closed["expected_datetime"] is None
    assert closed["status_notes"] is None and closed["address"] is None and closed["lat"] is None


def test_post_token_and_error_answers_have_the_example_shape() -> None:
    cases = [
        ("service-request-post", [post_record(7, "tok", "已收到")], {"token"}),  # the spec lists token; its example not
        ("request-from-token", [token_record(7, "tok")], set()),
        ("errors", error_records(parse_service_request([], CATS)), set()),  # type: ignore[arg-type]
    ]
    for name, ours, extra in cases:
        _, example = load_json(name)
        _, xml_example = load_xml(name)
        assert_same_json_shape(ours, example, extra=extra)
        root = "errors" if name == "errors" else "service_requests"
        doc = to_xml(root, ours)
        assert doc.startswith('<?xml version="1.0" encoding="utf-8"?>')
        assert_same_xml_shape(ET.fromstring(doc.encode()), xml_example, extra=extra)  # noqa: S314


def test_shape_comparison_can_fail() -> None:
    _, example = load_json("service-request")
    record = service_request_record(facts(), CST)
    with pytest.raises(AssertionError):
        assert_same_json_shape([{k: v for k, v in record.items() if k != "zipcode"}], example)
    with pytest.raises(AssertionError):
        assert_same_json_shape([{**record, "lat": "32.05"}], example)
    _, xml_example = load_xml("service-request")
    renamed = to_xml("service_requests", [{("long_" if k == "long" else k): v for k, v in record.items()}])
    with pytest.raises(AssertionError):
        assert_same_xml_shape(ET.fromstring(renamed.encode()), xml_example)  # noqa: S314
