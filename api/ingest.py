"""Device ingest over HTTP: `POST /api/v1/events`, signed by the device itself, and its OpenAPI document.

One device, one account: a request is signed with the sending device's own secret (see
security.device_signature) and may only carry events of that device. Accepted events go to
the ingest stream exactly as the stream path takes them; the worker validates them again.
A device secret opens this endpoint and nothing else: the request gate never reads it.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from api.openapi import EVENTS_PATH, MAX_BODY_BYTES, MAX_EVENTS, OPENAPI_PATH, ItemResult, Refused, openapi_document
from domain.events import InvalidEvent, RejectReason, check_time, parse_event
from runtime.context import AppContext
from security.device_signature import DEVICE_ID_PATTERN, NONCE_PATTERN, verify
from security.web import client_ip
from settings import Settings
from storage.device_repository import DeviceRepository
from streams.ingest import append_events

__all__ = ["NONCE_PREFIX", "WRONG_DEVICE", "WRONG_DEVICE_TYPE", "register"]

NONCE_PREFIX = "gw:nonce:"
WRONG_DEVICE = "wrong_device"
WRONG_DEVICE_TYPE = "wrong_device_type"
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^[0-9a-fA-F]{64}$")


class _Refusal(Exception):
    """A whole request is refused: its HTTP status, reason and detail."""

    def __init__(self, status: int, reason: Refused, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the ingest endpoint and the OpenAPI document to the Flask server."""
    devices = DeviceRepository(ctx.engine)
    settings = ctx.settings
    document = json.dumps(openapi_document(), ensure_ascii=False).encode("utf-8")
    bp = Blueprint("gw_ingest", __name__)

    @bp.get(OPENAPI_PATH)
    def openapi() -> Response:
        """Serve the OpenAPI document of the device API (public: devices and their makers read it)."""
        return Response(document, mimetype="application/json")

    @bp.get(EVENTS_PATH)
    def ingest_get() -> tuple[Response, int]:
        """Answer 405 here, so the public path never falls through to Dash's catch-all page."""
        response = jsonify({"error": "method_not_allowed", "detail": "POST a signed batch"})
        response.headers["Allow"] = "POST"
        return response, 405

    @bp.post(EVENTS_PATH)
    def ingest() -> tuple[Response, int]:
        """Authenticate the device, then accept or reject each event of its batch."""
        device_id = ""
        try:
            device_id, timestamp, nonce, signature = _credentials()
            body = _body()
            device_type = _authenticate(devices, device_id, timestamp, nonce, signature, body, settings.ingest_skew_s)
            nonce_ttl = max(1, 2 * settings.ingest_skew_s)  # the nonce outlives every timestamp that could carry it
            if not ctx.redis.set(f"{NONCE_PREFIX}{device_id}:{nonce}", 1, nx=True, ex=nonce_ttl):
                raise _Refusal(401, Refused.REPLAYED_NONCE, "this nonce was used already")
            items = _events(body)
        except _Refusal as exc:
            return _refuse(ctx, device_id, exc)
        results: list[dict[str, Any]] = []
        accepted: list[str] = []
        now = datetime.now(UTC)
        for index, item in enumerate(items):
            result, wire = _judge(index, item, device_id, device_type, now, settings)
            results.append(result.model_dump())
            if wire is not None:
                accepted.append(wire)
        append_events(ctx.redis, settings.ingest_stream, accepted, maxlen=settings.stream_maxlen)
        return jsonify({"results": results}), 202

    server.register_blueprint(bp)


def _credentials() -> tuple[str, int, str, str]:
    """Read the four signature headers, refusing missing or malformed ones before any lookup."""
    h = request.headers
    device_id, ts, nonce, signature = (h.get(n, "") for n in ("X-Device-Id", "X-Timestamp", "X-Nonce", "X-Signature"))
    if not (device_id and ts and nonce and signature):
        raise _Refusal(
            401, Refused.MISSING_CREDENTIALS, "X-Device-Id, X-Timestamp, X-Nonce and X-Signature are required"
        )
    if not DEVICE_ID_PATTERN.match(device_id):
        raise _Refusal(401, Refused.MALFORMED_CREDENTIALS, "X-Device-Id is not a device id")
    if not _TIMESTAMP.match(ts):
        raise _Refusal(401, Refused.MALFORMED_CREDENTIALS, "X-Timestamp must be unix seconds")
    if not NONCE_PATTERN.match(nonce):
        raise _Refusal(401, Refused.MALFORMED_CREDENTIALS, "X-Nonce must be 16-64 characters of A-Z a-z 0-9 _ -")
    if not _SIGNATURE.match(signature):
        raise _Refusal(401, Refused.MALFORMED_CREDENTIALS, "X-Signature must be 64 hex digits")
    return device_id, int(ts), nonce, signature


def _body() -> bytes:
    """Read the raw body, at most MAX_BODY_BYTES, without buffering more than that."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _Refusal(413, Refused.TOO_LARGE, f"the body may hold at most {MAX_BODY_BYTES} bytes")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise _Refusal(413, Refused.TOO_LARGE, f"the body may hold at most {MAX_BODY_BYTES} bytes")
    return raw


def _authenticate(
    devices: DeviceRepository, device_id: str, timestamp: int, nonce: str, signature: str, body: bytes, skew_s: int
) -> str:
    """Check the time window, the device and its signature, cheap checks first; return the device's type."""
    if abs(time.time() - timestamp) > skew_s:
        raise _Refusal(401, Refused.TIMESTAMP_OUT_OF_WINDOW, f"X-Timestamp must be within {skew_s} s of the server")
    credential = devices.credential(device_id)
    if credential is None:
        raise _Refusal(401, Refused.UNKNOWN_DEVICE, "no such device")
    if credential.revoked:
        raise _Refusal(401, Refused.REVOKED_DEVICE, "this device was revoked")
    if credential.secret is None:
        raise _Refusal(401, Refused.NO_CREDENTIAL, "this device has no secret yet: `app.py devices rotate` issues one")
    if not verify(credential.secret, timestamp, nonce, body, signature):
        raise _Refusal(401, Refused.BAD_SIGNATURE, "the signature does not match")
    return credential.device_type


def _events(body: bytes) -> list[Any]:
    """Parse the batch envelope: a JSON object whose only field is a list of at most MAX_EVENTS."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise _Refusal(400, Refused.NOT_JSON, "the body is not JSON (UTF-8)") from None
    if not isinstance(doc, dict) or set(doc) != {"events"} or not isinstance(doc["events"], list):
        raise _Refusal(400, Refused.BAD_BODY, 'the body must be {"events": [...]}')
    events: list[Any] = doc["events"]
    if len(events) > MAX_EVENTS:
        raise _Refusal(413, Refused.TOO_MANY_EVENTS, f"a batch may hold at most {MAX_EVENTS} events")
    return events


def _judge(
    index: int, item: Any, device_id: str, device_type: str | None, now: datetime, settings: Settings
) -> tuple[ItemResult, str | None]:
    """Accept one event as its wire JSON, or reject it with a reason; never raise."""
    raw_id = item.get("event_id") if isinstance(item, dict) else None
    event_id = raw_id[:64] if isinstance(raw_id, str) else None

    def rejected(reason: str, detail: str) -> tuple[ItemResult, None]:
        return ItemResult(index=index, event_id=event_id, status="rejected", reason=reason, detail=detail[:200]), None

    if not isinstance(item, dict):
        return rejected(RejectReason.SCHEMA.value, "event must be a JSON object")
    if item.get("device_id") != device_id:
        return rejected(WRONG_DEVICE, "a device may only send its own events")
    if item.get("device_type") != device_type:
        return rejected(WRONG_DEVICE_TYPE, f"the device is registered as {device_type!r}")
    try:
        event = parse_event(json.dumps(item))
        check_time(event.ts, now, settings.event_max_age_s, settings.event_max_ahead_s)
    except InvalidEvent as exc:
        return rejected(exc.reason.value, exc.detail)
    except (ValueError, RecursionError) as exc:
        return rejected(RejectReason.SCHEMA.value, type(exc).__name__)
    return ItemResult(index=index, event_id=str(event.event_id), status="accepted"), event.to_json()


def _refuse(ctx: AppContext, device_id: str, exc: _Refusal) -> tuple[Response, int]:
    """Answer a refused request and leave an audit entry naming the reason."""
    ctx.audit.append(
        f"device:{device_id}" if device_id else "-",
        "ingest.refused",
        EVENTS_PATH,
        outcome="denied",
        ip=client_ip(),
        detail={"reason": exc.reason.value, "detail": exc.detail},
    )
    response = jsonify({"error": exc.reason.value, "detail": exc.detail})
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'GW-HMAC-SHA256 realm="gridwatch-devices"'
    return response, exc.status
