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
    "login.title": ("登录", "Sign in"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.failed": ("用户名或密码错误", "Wrong user name or password"),
    "login.throttled": ("尝试次数过多，请 {seconds} 秒后再试", "Too many attempts; try again in {seconds} s"),
    "login.cross_site": ("请求来源无效", "Request from a foreign origin"),
    "nav.logout": ("退出", "Sign out"),
    "nav.user": ("{name}（{role}）", "{name} ({role})"),
    "password.title": ("修改密码", "Change password"),
    "password.forced": ("首次登录或密码已重置，请先设置新密码", "Set a new password before you continue"),
    "password.current": ("当前密码", "Current password"),
    "password.new": ("新密码", "New password"),
    "password.repeat": ("再次输入新密码", "Repeat the new password"),
    "password.submit": ("保存", "Save"),
    "password.changed": ("密码已修改", "Password changed"),
    "password.too_short": ("密码至少 12 个字符", "At least 12 characters"),
    "password.too_long": ("密码至多 128 个字符", "At most 128 characters"),
    "password.too_common": ("密码过于常见", "This password is too common"),
    "password.contains_username": ("密码不能包含用户名", "The password must not contain the user name"),
    "password.mismatch": ("两次输入的新密码不一致", "The new passwords differ"),
    "password.wrong_current": ("当前密码错误", "The current password is wrong"),
    "password.unchanged": ("新密码不能与当前密码相同", "The new password must differ from the current one"),
    "admin.title": ("用户管理", "Users"),
    "admin.created": ("已创建用户 {username}", "Created {username}"),
    "admin.reset": ("已重置 {username} 的密码", "Reset the password of {username}"),
    "admin.changed": ("已修改 {username}", "Changed {username}"),
    "admin.one_time": (
        "一次性密码（仅显示一次，首次登录须修改）：",
        "One-time password (shown once; must be changed at first login):",
    ),
    "admin.username": ("用户名", "User name"),
    "admin.name": ("姓名", "Name"),
    "admin.role": ("角色", "Role"),
    "admin.unit": ("所属单元代码", "Unit code"),
    "admin.state": ("状态", "State"),
    "admin.actions": ("操作", "Actions"),
    "admin.create": ("新建用户", "Create user"),
    "admin.reset_button": ("重置密码", "Reset password"),
    "admin.disable": ("停用", "Disable"),
    "admin.enable": ("启用", "Enable"),
    "admin.disabled": ("已停用", "disabled"),
    "admin.must_change": ("须修改密码", "must change password"),
    "admin.set_role": ("修改角色", "Set role"),
    "audit.title": ("审计日志", "Audit trail"),
    "audit.intact": ("哈希链完整", "Hash chain intact"),
    "audit.broken": ("哈希链在第 {seq} 条断裂", "Hash chain broken at entry {seq}"),
    "audit.search": ("查询", "Search"),
    "audit.time": ("时间（UTC）", "Time (UTC)"),
    "audit.actor": ("操作人", "Actor"),
    "audit.action": ("动作", "Action"),
    "audit.target": ("对象", "Target"),
    "audit.since": ("起始时间", "Since"),
    "audit.outcome": ("结果", "Outcome"),
    "audit.detail": ("详情", "Detail"),
    "role.city_admin": ("市级管理员", "City admin"),
    "role.city_operator": ("市级值守员", "City operator"),
    "role.district_leader": ("区领导", "District leader"),
    "role.street_staff": ("街道工作人员", "Street staff"),
    "role.community_staff": ("社区工作人员", "Community staff"),
    "role.grid_worker": ("网格员", "Grid worker"),
    "role.duty_staff": ("值班人员", "On-duty staff"),
    "role.auditor": ("审计员", "Auditor"),
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
