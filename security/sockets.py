"""Socket.IO under the same rules: authenticated on connect, rooms assigned by the server.

There is no client-side "join": on connect the server puts the socket in the room of the
user's unit, and every push is cut down to the units inside that jurisdiction before it is
sent. Logging out or losing rights disconnects the sockets of that session or user.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import SocketIO, join_room

from domain.permissions import Action, allowed
from geo.hierarchy import Hierarchy, Level
from security.guards import Guard, current_principal

__all__ = ["SocketRooms", "install"]


@dataclass(frozen=True, slots=True)
class _Member:
    token: str
    user_id: int
    unit: str
    kpis: bool


def room_of(unit: str) -> str:
    """The room of everyone bound to a unit."""
    return f"unit:{unit}"


class SocketRooms:
    """Track which socket belongs to whom, and send each room only its own units."""

    def __init__(self, socketio: SocketIO, hierarchy: Hierarchy, guard: Guard) -> None:
        self._sio = socketio
        self._h = hierarchy
        self._guard = guard
        self._lock = threading.Lock()
        self._members: dict[str, _Member] = {}
        self._units: Counter[str] = Counter()
        self._kpi_units: Counter[str] = Counter()  # kept on connect/disconnect, not worked out per push

    def add(self, sid: str, token: str, user_id: int, unit: str, kpis: bool) -> None:
        """Record a connected socket."""
        with self._lock:
            self._members[sid] = _Member(token, user_id, unit, kpis)
            self._units[unit] += 1
            if kpis:
                self._kpi_units[unit] += 1

    def remove(self, sid: str) -> None:
        """Forget a disconnected socket."""
        with self._lock:
            member = self._members.pop(sid, None)
            if member:
                self._units[member.unit] -= 1
                if self._units[member.unit] <= 0:
                    del self._units[member.unit]
                if member.kpis:
                    self._kpi_units[member.unit] -= 1
                    if self._kpi_units[member.unit] <= 0:
                        del self._kpi_units[member.unit]

    def __len__(self) -> int:
        """Sockets connected to this process."""
        with self._lock:
            return len(self._members)

    def sids(self, *, token: str | None = None, user_id: int | None = None) -> list[str]:
        """Sockets of one session or of one user."""
        with self._lock:
            return [s for s, m in self._members.items() if m.token == token or m.user_id == user_id]

    def disconnect(self, *, token: str | None = None, user_id: int | None = None) -> int:
        """Close the sockets of a session or a user; return how many."""
        sids = self.sids(token=token, user_id=user_id)
        for sid in sids:
            self._sio.server.disconnect(sid, namespace="/")
        return len(sids)

    def sweep(self, still_valid: Callable[[str, int], bool]) -> int:
        """Disconnect sockets whose session ended (expired, or revoked while we missed the notice)."""
        with self._lock:
            members = list(self._members.items())
        # Many sockets share one session (tabs of one browser, screens of one wall): ask once per session.
        verdicts: dict[tuple[str, int], bool] = {}
        for _, m in members:
            if (m.token, m.user_id) not in verdicts:
                verdicts[(m.token, m.user_id)] = still_valid(m.token, m.user_id)
        gone = [sid for sid, m in members if not verdicts[(m.token, m.user_id)]]
        for sid in gone:
            self._sio.server.disconnect(sid, namespace="/")
        return len(gone)

    def route(self, event: str, data: Any) -> None:
        """Send a push to each room with only what lies in that room's jurisdiction."""
        if event == "revoke" and isinstance(data, Mapping):
            if "user_id" in data:
                self.disconnect(user_id=int(data["user_id"]))
            if "token" in data:
                self.disconnect(token=str(data["token"]))
            return
        with self._lock:
            units = list(self._units)
            kpi_units = list(self._kpi_units)
        if event == "levels" and isinstance(data, Mapping):
            levels: Mapping[str, int] = data.get("levels", {})
            for unit in units:
                mine = {c: v for c, v in levels.items() if self._guard.in_scope_code(unit, c)}
                # Every room gets every sequence number, so a gap still means a missed push.
                self._send(event, {**data, "levels": mine}, unit)
        elif event == "alerts" and isinstance(data, Mapping):
            items = [a for a in data.get("alerts", []) if isinstance(a, Mapping)]
            seq = data.get("seq")
            for unit in units:
                mine_alerts = [a for a in items if self._reaches(unit, a)]
                # Other keys ride along (``renotify`` after an escalation: screens sound again). Numbered
                # pushes go to every room (maybe with no alerts), so a gap in ``seq`` means a missed push.
                if seq is not None or mine_alerts:
                    self._send(event, {**data, "alerts": mine_alerts}, unit)
        elif event == "stats" and isinstance(data, Mapping):
            stats: Mapping[str, Any] = data.get("units", {})
            for unit in units:
                mine_stats = {c: v for c, v in stats.items() if self._guard.in_scope_code(unit, c)}
                self._send(event, {**data, "units": mine_stats}, unit)  # every seq, as levels
        elif event == "kpis":
            for unit in kpi_units:  # the KPIs are city-wide figures: city-level viewers only
                self._send(event, data, unit)

    def _send(self, event: str, data: Any, unit: str) -> None:
        # Local only, also with a message queue: every web process's bridge routes every push to its
        # own sockets, so sending through the queue would deliver it once per process.
        self._sio.emit(event, data, to=room_of(unit), ignore_queue=True)

    def _reaches(self, unit: str, alert: Mapping[str, Any]) -> bool:
        """Whether a room sees an alert: its grid or the level it escalated to lies in the room's subtree."""
        codes = {str(alert.get("unit", "")), str(alert.get("level_code") or alert.get("unit", ""))}
        return any(self._guard.in_scope_code(unit, code) for code in codes)


def install(socketio: SocketIO, rooms: SocketRooms, guard: Guard, hierarchy: Hierarchy) -> None:
    """Authenticate every connection and put it in its unit's room."""

    @socketio.on("connect")  # type: ignore[untyped-decorator]
    def connect(_auth: object = None) -> bool:
        principal = current_principal()
        if principal is None or not allowed(principal, Action.VIEW_MAP):
            guard.refuse(principal, "socket:connect", "login" if principal is None else "action", {})
            return False
        if current_user.record.must_change_password:  # the HTTP gate's rule holds for sockets too
            guard.refuse(principal, "socket:connect", "password_change_required", {})
            return False
        join_room(room_of(principal.unit_code))
        city_view = hierarchy.get(principal.unit_code).level is Level.CITY and allowed(principal, Action.VIEW_KPIS)
        rooms.add(request.sid, current_user.token, principal.user_id, principal.unit_code, city_view)  # type: ignore[attr-defined]
        return True

    @socketio.on("disconnect")  # type: ignore[untyped-decorator]
    def disconnect(*_args: object) -> None:
        rooms.remove(request.sid)  # type: ignore[attr-defined]
