"""Open311 payloads as JSON or XML, with the element names of the spec's examples.

XML is built with the standard library's ElementTree: a list becomes one child per item, named
by ``ITEM_TAGS``; ``None`` becomes an empty element; booleans are ``true``/``false``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from flask import Response

__all__ = ["FORMATS", "ITEM_TAGS", "render", "to_xml"]

FORMATS: Mapping[str, str] = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}

# The element of each item of a list, by the list's own element name.
ITEM_TAGS: Mapping[str, str] = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


# Characters XML 1.0 cannot carry at all (NUL and most C0 controls, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))  # any door may have stored them; the document must stay well-formed


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _fill(ET.SubElement(element, key), inner)
    elif isinstance(value, list):
        item = ITEM_TAGS[element.tag]
        for inner in value:
            _fill(ET.SubElement(element, item), inner)
    else:
        element.text = _text(value)


def to_xml(root: str, payload: Any) -> str:
    """The XML document of a payload under a root element, with the UTF-8 declaration the spec asks for.

    >>> to_xml("errors", [{"code": 403, "description": None}]).splitlines()[1]
    '<errors><error><code>403</code><description /></error></errors>'
    """
    element = ET.Element(root)
    _fill(element, payload)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")


def render(payload: Any, root: str, fmt: str, status: int = 200) -> Response:
    """A response in the asked format (``json`` for anything else, e.g. when the format itself was wrong)."""
    if fmt == "xml":
        body = to_xml(root, payload)
    else:
        fmt = "json"
        body = json.dumps(payload, ensure_ascii=False)
    return Response(body, status=status, content_type=FORMATS[fmt])
