"""The one-line answer a page gives to an action: done (green) or refused (red)."""

from __future__ import annotations

from dash import html

__all__ = ["message"]


def message(text: str, ok: bool) -> html.Span:
    """A message saying the outcome of an action, styled by whether it went through."""
    return html.Span(text, className="gw-msg-ok" if ok else "gw-msg-error")
