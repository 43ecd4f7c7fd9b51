"""Every user-facing string, Simplified Chinese first, English second."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LANGUAGES", "t"]

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")

_CATALOG: Mapping[str, tuple[str, str]] = {
    "app.title": ("网格化管理指挥中心", "Grid Governance Command Center"),
    "app.subtitle": ("Gridwatch 实时态势", "Gridwatch live situation"),
    "level.city": ("市", "City"),
    "level.district": ("区", "District"),
    "level.street": ("街道", "Street"),
    "level.community": ("社区", "Community"),
    "level.grid": ("网格", "Grid"),
    "kpi.events_per_second": ("事件/秒", "Events/s"),
    "kpi.events_in_window": ("窗口内事件", "Events in window"),
    "kpi.active_grids": ("活跃网格", "Active grids"),
    "kpi.devices_online": ("设备在线率", "Devices online"),
    "kpi.dead_letters": ("拒收事件", "Rejected events"),
    "alerts.title": ("告警", "Alerts"),
    "alerts.empty": ("暂无告警", "No open alerts"),
    "legend.title": ("近{minutes}分钟每网格事件数", "Events per grid, last {minutes} min"),
    "legend.range": ("{lower}–{upper}", "{lower}–{upper}"),
    "legend.open": ("≥{lower}", "≥{lower}"),
    "map.breadcrumb.city": ("全市", "Whole city"),
    "map.hint": ("点击区域查看网格", "Click an area to see its grids"),
    "status.live": ("实时", "Live"),
    "status.connecting": ("连接中…", "Connecting…"),
    "status.stale": ("数据已过期，自 {since}", "Data stale since {since}"),
}


def t(key: str, lang: str = "zh-CN", **params: object) -> str:
    """Return the string for key in lang (falling back to Chinese), formatted with params.

    >>> t("level.grid"), t("level.grid", "en")
    ('网格', 'Grid')
    """
    pair = _CATALOG[key]
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**params) if params else text


def all_keys() -> frozenset[str]:
    """All catalog keys, for tests that check every key is translated."""
    return frozenset(_CATALOG)
