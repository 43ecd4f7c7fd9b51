"""Strings of the leader's view (/leader) and the wall screen (/wall)."""

from __future__ import annotations

from collections.abc import Mapping

STRINGS: Mapping[str, tuple[str, str]] = {
    "nav.leader": ("领导视图", "Leader's view"),
    "nav.lang_switch": ("English", "中文"),  # the other language, in its own script
    "nav.wall_screen": ("大屏", "Wall screen"),
    "leader.hint": (
        "点击地图逐级下钻：区 → 街道 → 社区 → 网格；点击上方路径返回上级。",
        "Click the map to drill down: district → street → community → grid; click the path above to go back up.",
    ),
    "leader.charts": ("趋势图（近 14 天）", "Trends (last 14 days)"),
    "leader.kpis": ("关键指标", "Key figures"),
    "leader.detail": ("网格详情", "Grid details"),
    "leader.workers": ("网格员", "Grid workers"),
    "leader.no_workers": ("未配置网格员", "No grid worker assigned"),
    "leader.devices": ("设备（在线 {online} / {total}）", "Devices ({online} of {total} online)"),
    "leader.device_online": ("在线", "online"),
    "leader.device_offline": ("离线", "offline"),
    "leader.open_cases": ("在办案件", "Open cases"),
    "leader.no_cases": ("暂无在办案件", "No open cases"),
    "leader.open_alerts": ("未关闭告警", "Open alerts"),
    "leader.no_alerts": ("暂无告警", "No open alerts"),
    "leader.overdue": ("已超期", "overdue"),
    "leader.more": ("另有 {n} 条", "and {n} more"),
    "unit.events_hour": ("近 1 小时事件", "Events, last hour"),
    "unit.gate_today": ("今日门禁通行", "Gate passes today"),
    "unit.alarms_today": ("今日报警", "Alarms today"),
    "unit.devices_online": ("设备在线率", "Devices online"),
    "unit.open_alerts": ("未关闭告警", "Open alerts"),
    "unit.open_cases": ("在办案件", "Open cases"),
    "unit.overdue_cases": ("超期案件", "Overdue cases"),
    "wall.stale_banner": ("数据已过期，自 {since} 起未更新 — 正在自动重连", "Data stale since {since} — reconnecting"),
    "wall.rotating": ("轮播：{name}", "Rotating: {name}"),
}
