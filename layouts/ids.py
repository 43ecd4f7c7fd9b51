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

# The page shell: which page the address asks for, what this user may open, and the page itself.
PAGE_LOCATION = "gw-page-location"
PAGE = "gw-page"
PAGE_ACCESS = "gw-page-access"  # {path: True|False} for the pages this app has
PAGE_REFUSED = "gw-page-refused"  # shown instead of a page this user's role may not open
PAGE_MISSING = "gw-page-missing"  # shown for an address that is no page
STATUS_FRESH_MS = "gw-status-fresh-ms"  # live needs data younger than this (None: connected is enough)
NAV = "gw-nav"

# Alerts, on the duty desk and the command-center ticker.
ALERT_QUEUE = "gw-alert-queue"  # the list the browser fills: one <li data-alert-id> per alert
ALERT_TEXTS = "gw-alert-texts"  # catalog strings the browser code needs (it carries none itself)
ALERT_SINK = "gw-alert-sink"  # output of clientside callbacks that only act on the page
ALERT_SELECTED = "gw-alert-selected"  # id of the alert the action bar acts on
ALERT_SELECTED_LABEL = "gw-alert-selected-label"
ALERT_RESULT = "gw-alert-result"  # the alert as an action left it, applied at once (the push follows)
ALERT_MESSAGE = "gw-alert-message"
ALERT_ACK = "gw-alert-ack"
ALERT_DISPATCH = "gw-alert-dispatch"
ALERT_RESOLVE = "gw-alert-resolve"
ALERT_COMMENT = "gw-alert-comment"
ALERT_DISPATCH_TO = "gw-alert-dispatch-to"
ALERT_FILTER_SEVERITY = "gw-alert-filter-severity"
ALERT_FILTER_STATE = "gw-alert-filter-state"
ALERT_FILTER_UNIT = "gw-alert-filter-unit"
ALERT_FILTER_GRIDS = "gw-alert-filter-grids"  # grid codes under the chosen unit (None: all of the user's)
SOUND_TOGGLE = "gw-sound-toggle"
SOUNDS = {  # one looping tone per severity, served from assets/sounds/
    "critical": "gw-sound-critical",
    "high": "gw-sound-high",
    "warning": "gw-sound-warning",
    "info": "gw-sound-info",
}

# Verification tasks (/tasks): a grid worker's pending tasks and the progress table of staff and leaders.
TASKS_LIST = "gw-tasks-list"  # the pending tasks of the worker's grid: one radio item per task
TASKS_NOTE = "gw-tasks-note"
TASKS_PASS = "gw-tasks-pass"  # noqa: S105 - an id, not a secret
TASKS_FAIL = "gw-tasks-fail"
TASKS_UNREACHABLE = "gw-tasks-unreachable"
TASKS_MESSAGE = "gw-tasks-message"
TASKS_PROGRESS = "gw-tasks-progress"  # the per-batch, per-grid progress table
TASKS_REFRESH = "gw-tasks-refresh"  # the button that redraws the progress table
