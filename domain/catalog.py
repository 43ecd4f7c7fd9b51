"""Every user-facing string, Simplified Chinese first, English second."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

import domain.strings

__all__ = ["LANGUAGES", "t"]

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")

_CORE: Mapping[str, tuple[str, str]] = {
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
    "alerts.ticker": ("实时告警", "Live alerts"),
    "severity.critical": ("紧急", "Critical"),
    "severity.high": ("严重", "High"),
    "severity.warning": ("警告", "Warning"),
    "severity.info": ("提示", "Info"),
    "alert_state.new": ("新告警", "New"),
    "alert_state.acknowledged": ("已确认", "Acknowledged"),
    "alert_state.dispatched": ("已派发", "Dispatched"),
    "alert_state.resolved": ("已处置", "Resolved"),
    "alert_state.closed": ("已关闭", "Closed"),
    "alert.owner": ("负责人：{owner}", "Owner: {owner}"),
    "alert.dispatched_to": ("派发给：{to}", "Dispatched to: {to}"),
    "alert.count": ("×{count}", "×{count}"),
    "alert.escalates_in": ("{time} 后升级", "Escalates in {time}"),
    "alert.escalation_due": ("正在升级", "Escalating now"),
    "alert.cleared": ("已恢复", "Cleared"),
    "nav.wall": ("指挥中心", "Command center"),
    "nav.duty": ("值班台", "Duty desk"),
    "page.refused": ("您的角色（{role}）无权打开此页面。", "Your role ({role}) may not open this page."),
    "page.not_found": ("页面不存在", "There is no such page"),
    "page.back": ("返回指挥中心", "Back to the command center"),
    "duty.title": ("值班台", "Duty desk"),
    "duty.queue": ("告警队列", "Alert queue"),
    "duty.filter.severity": ("级别", "Severity"),
    "duty.filter.state": ("状态", "State"),
    "duty.filter.unit": ("区域", "Area"),
    "duty.filter.all_units": ("全部辖区", "My whole jurisdiction"),
    "duty.select_hint": ("点击队列中的告警以选择", "Click an alert in the queue to select it"),
    "duty.selected": ("已选告警 #{id}", "Selected alert #{id}"),
    "duty.comment": ("处置意见 / 备注", "Comment / note"),
    "duty.dispatch_to": ("派发给（人员或单位）", "Dispatch to (person or unit)"),
    "duty.ack": ("确认接警", "Acknowledge"),
    "duty.dispatch": ("派发", "Dispatch"),
    "duty.resolve": ("处置完成", "Resolve"),
    "duty.acked": ("已确认告警 #{id}，由您负责", "Alert #{id} acknowledged: you own it"),
    "duty.already_acked": ("告警 #{id} 已被 {owner} 确认", "Alert #{id} was already acknowledged by {owner}"),
    "duty.dispatched": ("告警 #{id} 已派发给 {to}", "Alert #{id} dispatched to {to}"),
    "duty.resolved": ("告警 #{id} 已记录处置结果", "Alert #{id} resolved"),
    "duty.wrong_state": (
        "告警 #{id} 当前为「{state}」，不能执行此操作",
        "Alert #{id} is {state} now; this step is not possible",
    ),
    "duty.need_selection": ("请先在队列中选择一条告警", "Select an alert in the queue first"),
    "duty.need_to": ("请填写派发对象", "Say to whom it is dispatched"),
    "duty.sound_on": ("开启声音", "Enable sound"),
    "duty.sound_off": ("关闭声音", "Mute"),
    "duty.sound_blocked": (
        "浏览器阻止了提示音，请点击「开启声音」",
        "The browser blocked the alarm sound: click Enable sound",
    ),
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
    # figures/: the leaders' trend charts
    "chart.no_data": ("暂无数据", "No data"),
    "chart.other": ("其他", "Other"),
    "chart.axis.day": ("日期", "Date"),
    "chart.axis.hour": ("时间", "Time"),
    "chart.case_volume.title": ("案件量（按类别）", "Cases by category"),
    "chart.case_volume.y": ("案件数", "Cases"),
    "chart.hotline.title": ("热线诉求热点", "Hotline topics"),
    "chart.hotline.x": ("来电数", "Calls"),
    "chart.on_time.title": ("按时办结率", "Cases closed on time"),
    "chart.on_time.y": ("按时办结率（%）", "On time (%)"),
    "chart.on_time.hover": ("按时办结 {done} / {total} 件", "{done} of {total} closed on time"),
    "chart.overdue.title": ("超期未办结案件", "Overdue open cases"),
    "chart.overdue.x": ("案件数", "Cases"),
    "chart.satisfaction.title": ("群众满意度", "Satisfaction"),
    "chart.satisfaction.y": ("评价数", "Ratings"),
    "chart.satisfaction.score": ("{score} 分", "Score {score}"),
    "chart.satisfaction.mean": ("平均分", "Mean score"),
    "chart.alerts.title": ("告警（按类型）", "Alerts by type"),
    "chart.alerts.y": ("告警数", "Alerts"),
    "chart.device_online.title": ("设备在线率", "Devices online"),
    "chart.device_online.x": ("在线率（%）", "Online (%)"),
    "chart.device_online.hover": ("在线 {online} / {total} 台", "{online} of {total} online"),
    "chart.visitor_flows.title": ("门禁通行人次", "Gate passes"),
    "chart.visitor_flows.y": ("人次", "People"),
    "chart.visitor_flows.in.resident": ("居民进入", "Residents in"),
    "chart.visitor_flows.out.resident": ("居民离开", "Residents out"),
    "chart.visitor_flows.in.visitor": ("访客进入", "Visitors in"),
    "chart.visitor_flows.out.visitor": ("访客离开", "Visitors out"),
    "chart.visitor_flows.in.unknown": ("未识别人员进入", "Unidentified in"),
    "chart.visitor_flows.out.unknown": ("未识别人员离开", "Unidentified out"),
    "chart.health_code.title": ("健康码分布", "Health-code colours"),
    "chart.health_code.x": ("人次", "People"),
    "chart.health_code.green": ("绿码", "Green"),
    "chart.health_code.yellow": ("黄码", "Yellow"),
    "chart.health_code.red": ("红码", "Red"),
    "chart.patrol.title": ("巡查打卡", "Patrol check-ins"),
    "chart.patrol.y": ("打卡次数", "Check-ins"),
    "chart.patrol.done": ("已打卡", "Checked in"),
    "chart.patrol.missed": ("漏打卡", "Missed"),
    "chart.patrol.expected": ("应打卡", "Expected"),
}


def _merged() -> dict[str, tuple[str, str]]:
    """The core strings plus every feature module under domain/strings, each key once."""
    merged = dict(_CORE)
    for info in sorted(pkgutil.iter_modules(domain.strings.__path__), key=lambda m: m.name):
        strings: Mapping[str, tuple[str, str]] = importlib.import_module(f"domain.strings.{info.name}").STRINGS
        repeated = merged.keys() & strings.keys()
        if repeated:
            raise ValueError(f"domain/strings/{info.name}.py repeats catalog keys: {sorted(repeated)}")
        merged.update(strings)
    return merged


_CATALOG: Mapping[str, tuple[str, str]] = _merged()


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
