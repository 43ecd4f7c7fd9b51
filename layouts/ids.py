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
LAYER_FOCUS = "gw-layer-focus"  # the outline of the selected unit
SELECTION = "gw-selection"
KPI_VALUE = "gw-kpi-value"  # pattern-matching type: {"type": KPI_VALUE, "key": <kpi key>}

# The page shell: which page the address asks for, what this user may open, and the page itself.
LANG_SWITCH = "gw-lang-switch"  # the header's link to the other language
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

# The leader's view (/leader): the side panel of the selected unit and its ten charts.
LEADER_PANEL = "gw-leader-panel"
UNIT_TITLE = "gw-unit-title"
UNIT_DETAIL = "gw-unit-detail"
LEADER_TICK = "gw-leader-tick"
LEADER_SELECTION = "gw-leader-selection"  # the map's selection, mirrored on this page only
CHART_PREFIX = "gw-chart-"  # + chart key, e.g. gw-chart-case_volume


def chart_id(key: str) -> str:
    """The id of one leader's chart."""
    return f"{CHART_PREFIX}{key}"


# The wall screen (/wall): rotation through districts and the stale banner.
WALL_ROTATE = "gw-wall-rotate"
WALL_ROTATION = "gw-wall-rotation"
STALE_BANNER = "gw-stale-banner"
WALL_CHARTS = "gw-wall-charts"
WALL_CHART_TICK = "gw-wall-chart-tick"


def wall_chart_id(key: str) -> str:
    """The id of one chart of the wall screen's strip."""
    return f"gw-wall-chart-{key}"


# Cases page (/cases): list, detail and workflow actions, supervision, the assessment scoreboard.
CASES_ROOT = "gw-cases"
CASES_TABS = "gw-cases-tabs"
CASES_BODY = "gw-cases-body"  # its class names the open tab (the panes are all in the page)
CASES_TICK = "gw-cases-tick"  # 1 s: countdowns are redrawn in the browser, no server round trip
CASES_REFRESH = "gw-cases-refresh"  # 5 s: the list and supervision are queried again (new cases appear)
CASES_TEXTS = "gw-cases-texts"  # catalog strings the browser code needs
CASES_SINK = "gw-cases-sink"
CASES_LIST = "gw-cases-list"
CASES_FILTER_STATE = "gw-cases-filter-state"
CASES_FILTER_CATEGORY = "gw-cases-filter-category"
CASES_FILTER_FLAGS = "gw-cases-filter-flags"  # overdue only, open only
CASES_PAGE_NO = "gw-cases-page-no"
CASES_PAGE_COUNT = "gw-cases-page-count"
CASES_PAGE_LABEL = "gw-cases-page-label"
CASES_PREV = "gw-cases-prev"
CASES_NEXT = "gw-cases-next"
CASES_OVERDUE = "gw-cases-overdue"
CASE_ROW = "gw-case-row"  # pattern-matching type: {"type": CASE_ROW, "id": <case id>}
CASE_SELECTED = "gw-case-selected"  # id of the case the detail shows
CASE_SHOWN = "gw-case-shown"  # {"id", "version"} of the case as the detail drew it
CASE_DETAIL = "gw-case-detail"
CASE_ACTIONBAR = "gw-case-actionbar"  # its class names the actions this user may take now
CASE_RESULT = "gw-case-result"  # the case as a step left it
CASE_MESSAGE = "gw-case-message"
CASE_NOTE = "gw-case-note"
CASE_GRID = "gw-case-grid"
CASE_DEPARTMENT = "gw-case-department"
CASE_ASSIGNEE = "gw-case-assignee"
CASE_SATISFACTION = "gw-case-satisfaction"
CASE_ACTION_PREFIX = "gw-case-action-"  # + the action: gw-case-action-accept …
SCOREBOARD = "gw-scoreboard"
SCOREBOARD_EXPORT = "gw-scoreboard-export"
SCOREBOARD_BY = "gw-scoreboard-by"
SCOREBOARD_UNIT = "gw-scoreboard-unit"
SCOREBOARD_PERIOD = "gw-scoreboard-period"
SCOREBOARD_SORT = "gw-scoreboard-sort"  # {"key", "order"}
SCOREBOARD_SORT_BY = "gw-scoreboard-sort-by"  # pattern-matching type: {"type": ..., "key": <column>}


def case_action(action: str) -> str:
    """The id of a workflow action's button."""
    return CASE_ACTION_PREFIX + action


# Verification tasks (/tasks): a grid worker's pending tasks and the progress table of staff and leaders.
TASKS_LIST = "gw-tasks-list"  # the pending tasks of the worker's grid: one radio item per task
TASKS_NOTE = "gw-tasks-note"
TASKS_PASS = "gw-tasks-pass"  # noqa: S105 - an id, not a secret
TASKS_FAIL = "gw-tasks-fail"
TASKS_UNREACHABLE = "gw-tasks-unreachable"
TASKS_MESSAGE = "gw-tasks-message"
TASKS_PROGRESS = "gw-tasks-progress"  # the per-batch, per-grid progress table
TASKS_REFRESH = "gw-tasks-refresh"  # the button that redraws the progress table
# The grid worker's phone page (/report): file a case with photos, patrol check-ins (报点打卡).
REPORT_ROOT = "gw-report-root"
REPORT_TEXTS = "gw-report-texts"  # catalog strings the browser code needs
REPORT_CATEGORY = "gw-report-category"
REPORT_DESCRIPTION = "gw-report-description"
REPORT_LOCATE = "gw-report-locate"  # "use my location" (navigator.geolocation)
REPORT_LOCATE_STATUS = "gw-report-locate-status"
REPORT_MAP = "gw-report-map"  # the user's own grid (or community); a click sets the location
REPORT_PIN = "gw-report-pin"  # the chosen location on the map
REPORT_LOCATION = "gw-report-location"  # {lon, lat, source: "gps" | "map"} or None
REPORT_LOCATION_TEXT = "gw-report-location-text"
REPORT_UPLOAD = "gw-report-upload"
REPORT_UPLOAD_LIST = "gw-report-upload-list"
REPORT_SUBMIT = "gw-report-submit"
REPORT_ERROR = "gw-report-error"  # pattern-matching type: {"type": REPORT_ERROR, "field": <form field>}
REPORT_RESULT = "gw-report-result"  # the new case's number and deadline, or "fix the fields"
REPORT_DONE = "gw-report-done"  # {case_id} of the last report filed (refreshes the list, resets the form)
REPORT_RECENT = "gw-report-recent"
REPORT_SINK = "gw-report-sink"  # output of clientside callbacks that only act on the page
REPORT_PATROL_STATE = "gw-report-patrol-state"  # pattern-matching type: {"type": …, "point": <point id>}
REPORT_CHECKIN = "gw-report-checkin"  # pattern-matching type: {"type": …, "point": <point id>}
REPORT_PATROL_MESSAGE = "gw-report-patrol-message"
