"""The KPI strip: one card per KPI description."""

from __future__ import annotations

from dash import html

from domain.catalog import t
from domain.kpis import KPIS, KpiSnapshot
from layouts import ids

__all__ = ["kpi_strip"]


def kpi_strip(lang: str, snapshot: KpiSnapshot | None = None) -> html.Div:
    """Build the strip; values start from the snapshot and are then pushed live."""
    snap = snapshot or KpiSnapshot()
    cards = [
        html.Div(
            [
                html.Div(k.value_fn(snap), id={"type": ids.KPI_VALUE, "key": k.key}, className="gw-kpi-value"),
                html.Div(t(k.label_key, lang), className="gw-kpi-label"),
            ],
            className="gw-kpi",
        )
        for k in KPIS
    ]
    return html.Div(cards, id=ids.KPIS, className="gw-kpis")
