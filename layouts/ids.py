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
