"""Strings of the Open311 GeoReport v2 door (the 12345 hotline): service texts, notices and errors."""

from __future__ import annotations

from collections.abc import Mapping

STRINGS: Mapping[str, tuple[str, str]] = {
    "open311.service.description": (
        "{name}：由{department}处置，处置时限{hours}小时。",
        "{name}: handled by the {department} within {hours} hours.",
    ),
    "open311.notice": (
        "已收到，编号 {id}。{department}将在{hours}小时内处置。",
        "Received as request {id}. The {department} will handle it within {hours} hours.",
    ),
    "open311.discovery.contact": ("城市运行管理指挥中心值班室", "The duty office of the city's command center"),
    "open311.discovery.key_service": (
        "接入密钥由指挥中心签发（python app.py clients add），每个系统一个密钥、绑定一个辖区",
        "Keys are issued by the command center (python app.py clients add): one per system, bound to one unit",
    ),
    "open311.attribute.line": ("{question}：{answer}", "{question}: {answer}"),
    "open311.address_id": ("地址编号 {id}", "Address ID {id}"),
    "open311.error.api_key_missing": (
        "缺少 api_key：请向城市运行管理中心申请接入密钥",
        "api_key is required: ask the city's command center for a key",
    ),
    "open311.error.api_key_invalid": (
        "api_key 无效或已吊销，无法继续",
        "Invalid api_key received -- can't proceed",
    ),
    "open311.error.format": ("不支持的格式 {fmt}：请使用 .json 或 .xml", "Unknown format {fmt}: use .json or .xml"),
    "open311.error.service_code_missing": ("缺少 service_code", "service_code is required"),
    "open311.error.service_unknown": ("服务 {code} 不存在", "service_code {code} was not found"),
    "open311.error.request_unknown": ("服务请求 {id} 不存在", "service request {id} was not found"),
    "open311.error.token_unknown": ("令牌 {token} 不存在", "token {token} was not found"),
    "open311.error.jurisdiction": ("jurisdiction_id {code} 不在您的辖区内", "jurisdiction_id {code} is not yours"),
    "open311.error.location": (
        "请提供位置：lat 与 long，或 address_string，或 address_id",
        "A location is required: lat and long, or address_string, or address_id",
    ),
    "open311.error.lat_long_pair": ("lat 与 long 须同时提供", "lat and long go together"),
    "open311.error.number": ("{field} 应为数字", "{field} must be a number"),
    "open311.error.range": ("{field} 超出范围", "{field} is out of range"),
    "open311.error.too_long": ("{field} 过长", "{field} is too long"),
    "open311.error.control_character": ("{field} 含有控制字符", "{field} contains a control character"),
    "open311.error.invalid": ("{field} 无效", "{field} is not valid"),
    "open311.error.email": ("email 不是有效的邮箱地址", "email is not an e-mail address"),
    "open311.error.media_url": ("media_url 应为 http(s) 地址", "media_url must be an http(s) URL"),
    "open311.error.attribute_unknown": (
        "服务 {code} 没有属性 {attribute}",
        "service {code} has no attribute {attribute}",
    ),
    "open311.error.attribute_required": ("缺少必填属性 {attribute}", "attribute {attribute} is required"),
    "open311.error.attribute_value": (
        "属性 {attribute} 的取值 {value} 无效",
        "{value} is not a value of attribute {attribute}",
    ),
    "open311.error.attribute_single": ("属性 {attribute} 只能取一个值", "attribute {attribute} takes one value"),
    "open311.error.date": (
        "{field} 应为带时区的 ISO 8601 时间，如 2026-11-23T08:00:00+08:00",
        "{field} must be an ISO 8601 datetime such as 2026-11-23T08:00:00+08:00",
    ),
    "open311.error.date_order": ("end_date 早于 start_date", "end_date is before start_date"),
    "open311.error.status": ("status 只能为 open 或 closed", "status is open or closed"),
    "open311.error.request_id": ("service_request_id {id} 不是请求编号", "service_request_id {id} is not a request id"),
    "open311.error.rejected": ("无法受理：{reason}", "Cannot accept the request: {reason}"),
}
