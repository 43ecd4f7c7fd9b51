"""The OpenAPI 3.1 document of the device ingest endpoint, built from the pydantic models themselves.

Generating it from `domain.events.Event` means the published schema cannot drift from the
validation the server actually runs.
"""

from __future__ import annotations

import enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from domain.events import Event

__all__ = [
    "EVENTS_PATH",
    "MAX_BODY_BYTES",
    "MAX_EVENTS",
    "OPENAPI_PATH",
    "IngestBatch",
    "IngestResult",
    "ItemResult",
    "Refusal",
    "Refused",
    "openapi_document",
]

EVENTS_PATH = "/api/v1/events"
OPENAPI_PATH = "/api/v1/openapi.json"
MAX_EVENTS = 1_000
MAX_BODY_BYTES = 1 << 20


class Refused(enum.StrEnum):
    """Closed set of reasons a whole request is refused, for devices to act on."""

    MISSING_CREDENTIALS = "missing_credentials"
    MALFORMED_CREDENTIALS = "malformed_credentials"
    UNKNOWN_DEVICE = "unknown_device"
    NO_CREDENTIAL = "no_credential"
    REVOKED_DEVICE = "revoked_device"
    BAD_SIGNATURE = "bad_signature"
    TIMESTAMP_OUT_OF_WINDOW = "timestamp_out_of_window"
    REPLAYED_NONCE = "replayed_nonce"
    NOT_JSON = "not_json"
    BAD_BODY = "bad_body"
    TOO_LARGE = "too_large"
    TOO_MANY_EVENTS = "too_many_events"


class IngestBatch(BaseModel):
    """The request body: a batch of events, all from the signing device."""

    model_config = ConfigDict(extra="forbid")
    events: list[Event] = Field(max_length=MAX_EVENTS)


class ItemResult(BaseModel):
    """What happened to one event of a batch."""

    index: int
    event_id: str | None
    status: Literal["accepted", "rejected"]
    reason: str | None = Field(
        default=None,
        description=(
            "not_json, schema, too_old, in_future, wrong_device or wrong_device_type when rejected; see docs/events.md"
        ),
    )
    detail: str | None = None


class IngestResult(BaseModel):
    """The 202 answer: one result per event, in order."""

    results: list[ItemResult]


class Refusal(BaseModel):
    """A whole request refused (401, 400, 413): a machine-readable reason and a human-readable detail."""

    error: Refused
    detail: str = ""


def _header(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": True, "description": description, "schema": schema}


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def openapi_document() -> dict[str, Any]:
    """Build the document: the ingest operation, its signature headers and every schema it names."""
    _, defs = models_json_schema(
        [(m, "validation") for m in (IngestBatch, IngestResult, ItemResult, Refusal, Event)],
        ref_template="#/components/schemas/{model}",
    )
    refusal = {"content": _json("Refusal")}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gridwatch device ingest",
            "version": "1",
            "description": "Devices send signed batches of events. See docs/events.md for the signature scheme.",
        },
        "paths": {
            EVENTS_PATH: {
                "post": {
                    "operationId": "ingestEvents",
                    "summary": "Send a signed batch of events for the signing device",
                    "security": [{"deviceHmac": []}],
                    "parameters": [
                        _header("X-Device-Id", "The registered device id.", {"type": "string", "maxLength": 64}),
                        _header("X-Timestamp", "Unix seconds; within the server's skew window.", {"type": "integer"}),
                        _header(
                            "X-Nonce",
                            "16-64 characters of A-Z a-z 0-9 _ -, never reused.",
                            {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"},
                        ),
                        _header(
                            "X-Signature",
                            'hex HMAC-SHA256(secret, f"{timestamp}\\n{nonce}\\n" + raw body bytes).',
                            {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        ),
                    ],
                    "requestBody": {
                        "required": True,
                        "description": f"At most {MAX_EVENTS} events and {MAX_BODY_BYTES} bytes.",
                        "content": _json("IngestBatch"),
                    },
                    "responses": {
                        "202": {
                            "description": "Each event accepted or rejected with a reason.",
                            "content": _json("IngestResult"),
                        },
                        "400": {"description": "The body is not a JSON object with an events list.", **refusal},
                        "401": {"description": "The device could not be authenticated.", **refusal},
                        "413": {"description": "Too many bytes or too many events.", **refusal},
                    },
                }
            }
        },
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {
                "deviceHmac": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Signature",
                    "description": "Per-device HMAC-SHA256 with X-Device-Id, X-Timestamp and X-Nonce.",
                }
            },
        },
    }
