"""The Open311 GeoReport v2 example payloads (../shared/data/standards/open311), loaded despite their quirks.

Two quirks are handled on purpose (docs/open311.md):
- the ``errors`` examples begin with an HTTP status line (``HTTP/1.1 403 Forbidden``) and a blank
  line before the body: it is split off and returned as the status;
- three JSON examples print codes with leading zeros (``"service_code":001``), which is not JSON.
  Such numbers are quoted, because the spec defines service_code and service_request_id as
  strings; likewise every identifier field is compared as a string (``IDENTIFIERS``), since the
  examples also print ``638344`` or ``94122`` as bare numbers.

``assert_same_json_shape`` and ``assert_same_xml_shape`` compare structure, never values.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection
from typing import Any

from tests.shared_data import shared_data

EXAMPLES = ("service-list", "service-definition", "service-request-post", "request-from-token")
EXAMPLES += ("service-requests", "service-request", "errors")
# Fields the spec's tables define as strings, whatever the examples print.
IDENTIFIERS = frozenset({"service_request_id", "token", "service_code", "address_id", "zipcode", "key", "account_id"})
_LEADING_ZERO = re.compile(r"(:\s*)(0\d+)(\s*[,}\]])")


def example_text(name: str, fmt: str) -> tuple[int, str]:
    """The HTTP status (200 unless the example starts with a status line) and the body of one example."""
    text = shared_data("standards", "open311", f"georeport_v2_{name}.{fmt}").read_text(encoding="utf-8")
    status = 200
    if text.startswith("HTTP/"):
        status_line, _, text = text.partition("\n")
        status = int(status_line.split()[1])
    return status, text.strip()


def quote_leading_zeros(text: str) -> str:
    """Quote numbers with leading zeros (``001`` → ``"001"``) so the text parses as JSON.

    >>> quote_leading_zeros('{"service_code":001, "lat":0.5, "n":0}')
    '{"service_code":"001", "lat":0.5, "n":0}'
    """
    return _LEADING_ZERO.sub(r'\1"\2"\3', text)


def _identifiers_as_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (str(v) if k in IDENTIFIERS and isinstance(v, int | float) else _identifiers_as_text(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_identifiers_as_text(v) for v in value]
    return value


def load_json(name: str) -> tuple[int, Any]:
    """One JSON example, parsed, with identifiers as strings."""
    status, text = example_text(name, "json")
    return status, _identifiers_as_text(json.loads(quote_leading_zeros(text)))


def load_xml(name: str) -> tuple[int, ET.Element]:
    """One XML example, parsed."""
    status, text = example_text(name, "xml")
    return status, ET.fromstring(text.encode("utf-8"))  # noqa: S314  # our own fixture files


def _kind(value: Any) -> str:
    return "number" if type(value) in (int, float) else type(value).__name__


def assert_same_json_shape(ours: Any, example: Any, *, extra: Collection[str] = (), path: str = "$") -> None:
    """Same keys at every level and the same JSON types; a null on either side matches any type.

    ``extra`` names keys we may add that the spec lists for that answer but the example omits.
    """
    if ours is None or example is None:
        return
    if isinstance(example, dict):
        assert isinstance(ours, dict), (path, ours)
        assert set(ours) - set(extra) == set(example), (path, sorted(set(ours) ^ set(example)))
        for key in example:
            assert_same_json_shape(ours[key], example[key], extra=extra, path=f"{path}.{key}")
    elif isinstance(example, list):
        assert isinstance(ours, list), (path, ours)
        assert ours, f"{path}: compare a non-empty list"
        for item in ours:
            assert_same_json_shape(item, example[0], extra=extra, path=f"{path}[]")
    else:
        assert _kind(ours) == _kind(example), (path, ours, example)


def xml_shape(element: ET.Element, extra: Collection[str] = ()) -> tuple[str, frozenset[Any]]:
    """An element's name and the set of its children's shapes (order and repetition ignored)."""
    return element.tag, frozenset(xml_shape(c, extra) for c in element if c.tag not in extra)


def assert_same_xml_shape(ours: ET.Element, example: ET.Element, *, extra: Collection[str] = ()) -> None:
    """Same element names at every level (values, order and count of repeated items aside)."""
    assert xml_shape(ours, extra) == xml_shape(example), (ET.tostring(ours, encoding="unicode")[:600],)
