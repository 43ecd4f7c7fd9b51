"""Every component id, declared once; tests and callbacks import these."""

from __future__ import annotations

ROOT = "gw-root"
MAP = "gw-map"
KPIS = "gw-kpis"
ALERTS = "gw-alerts"
SOCKET = "gw-socket"
STATUS = "gw-status"
STATUS_TICK = "gw-status-tick"
STATUS_TEXT_LIVE = "gw-status-text-live"
STATUS_TEXT_STALE = "gw-status-text-stale"
BREADCRUMB = "gw-breadcrumb"
BREADCRUMB_CITY = "gw-breadcrumb-city"
LEGEND = "gw-legend"
LOCATION = "gw-location"
LAYER_DISTRICT = "gw-layer-district"
LAYER_STREET = "gw-layer-street"
LAYER_GRID = "gw-layer-grid"
SELECTION = "gw-selection"
LEVELS_SINK = "gw-levels-sink"
KPI_VALUE = "gw-kpi-value"  # pattern-matching type: {"type": KPI_VALUE, "key": <kpi key>}
