"""The language of the current request: the user's choice (a cookie), else the installation's.

Simplified Chinese is the default; anyone may switch to English for their own browser
(``/lang/en``), which sets the ``gw_lang`` cookie that every page, callback and API read.
"""

from __future__ import annotations

from flask import has_request_context, request

from domain.catalog import LANGUAGES

__all__ = ["LANG_COOKIE", "request_lang"]

LANG_COOKIE = "gw_lang"


def request_lang(default: str) -> str:
    """``?lang=`` of this request, else the ``gw_lang`` cookie, else ``default`` (outside a request too)."""
    if has_request_context():
        for wanted in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
            if wanted in LANGUAGES:
                return str(wanted)
    return default
