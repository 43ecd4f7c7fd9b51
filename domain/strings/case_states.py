"""The names of the case workflow's states (shared by every page that shows a case)."""

from __future__ import annotations

from collections.abc import Mapping

STRINGS: Mapping[str, tuple[str, str]] = {
    "case_state.collected": ("待受理", "Collected"),
    "case_state.accepted": ("已立案", "Accepted"),
    "case_state.dispatched": ("已派遣", "Dispatched"),
    "case_state.handling": ("处置中", "Handling"),
    "case_state.feedback": ("已反馈", "Fed back"),
    "case_state.verified": ("已核查", "Verified"),
    "case_state.closed": ("已结案", "Closed"),
    "case_state.evaluated": ("已评价", "Evaluated"),
    "case_state.rejected": ("不予受理", "Rejected"),
}
