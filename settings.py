"""One frozen Settings object read from GRIDWATCH_* environment variables.

This is the only module that reads ``os.environ``. Precedence: explicit argument to
``Settings(...)`` > environment > default.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Settings", "SettingsError"]

PREFIX = "GRIDWATCH_"
WEB_WORKERS = ("gthread", "gevent")


class SettingsError(ValueError):
    """A GRIDWATCH_* variable has a value that cannot be used."""


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything Gridwatch can be configured with; see the README's configuration table."""

    data_dir: Path = field(
        default=Path("var"), metadata=_doc("Where the embedded Redis, the SQLite file and the session key live.")
    )
    redis_url: str | None = field(
        default=None,
        metadata=_doc("External Redis (>= 6.2). Unset: a private embedded Redis in the data dir."),
    )
    database_url: str | None = field(
        default=None,
        metadata=_doc("SQLAlchemy URL. Unset: SQLite file gridwatch.db in the data dir (WAL)."),
    )
    host: str = field(default="127.0.0.1", metadata=_doc("Address the web server binds."))
    port: int = field(default=8050, metadata=_doc("Port the web server listens on."))
    secret_key: str | None = field(
        default=None,
        metadata=_doc("Flask session key. Unset: a random key kept in the data dir."),
    )
    demo_seed: int = field(default=20261123, metadata=_doc("Seed of the generated demo city."))
    demo_grids: int = field(default=12410, metadata=_doc("Number of grids in the demo city."))
    demo_districts: int = field(default=11, metadata=_doc("Districts in the demo city."))
    demo_streets: int = field(default=100, metadata=_doc("Streets (街道) in the demo city."))
    demo_communities: int = field(default=1000, metadata=_doc("Communities (社区) in the demo city."))
    devices_per_grid: int = field(default=3, metadata=_doc("Demo devices placed in each grid."))
    sim_rate: float = field(default=200.0, metadata=_doc("Simulated events per second in `make run`."))
    ingest_stream: str = field(default="gw:ingest", metadata=_doc("Redis Stream devices write to."))
    dead_letter_stream: str = field(
        default="gw:dead", metadata=_doc("Redis Stream for events that were refused, with a reason.")
    )
    stream_maxlen: int = field(
        default=1_000_000, metadata=_doc("Approximate cap on the ingest stream length (MAXLEN ~).")
    )
    dead_letter_maxlen: int = field(
        default=100_000, metadata=_doc("Approximate cap on the dead-letter stream length (MAXLEN ~); the oldest go.")
    )
    ingest_skew_s: int = field(
        default=300,
        metadata=_doc(
            "HTTP ingest: a device's X-Timestamp may be this many seconds off; nonces are kept twice as long."
        ),
    )
    event_max_age_s: int = field(
        default=7 * 86_400,
        metadata=_doc("Events stamped longer ago than this are refused (`too_old`); devices may buffer offline."),
    )
    event_max_ahead_s: int = field(
        default=300, metadata=_doc("Events stamped more than this ahead of the server clock are refused (`in_future`).")
    )
    worker_batch: int = field(default=500, metadata=_doc("Entries a worker reads per XREADGROUP."))
    worker_claim_idle_ms: int = field(
        default=30_000, metadata=_doc("Pending entries idle this long are reclaimed from dead workers.")
    )
    max_deliveries: int = field(
        default=5, metadata=_doc("Deliveries after which a failing entry goes to the dead letters.")
    )
    dedup_window_s: int = field(
        default=900,
        metadata=_doc("A repeated event_id within this many seconds counts once (~60 B of Redis per event)."),
    )
    stats_interval_s: float = field(
        default=2.0, metadata=_doc("How often unit aggregates (windows, flows, devices online) are recomputed.")
    )
    device_online_s: int = field(
        default=600, metadata=_doc("A device that reported nothing for this long counts as offline.")
    )
    utc_offset_min: int = field(
        default=480, metadata=_doc("The city's offset from UTC in minutes; 'today' starts at its local midnight.")
    )
    delta_interval_s: float = field(default=0.5, metadata=_doc("How often changed map colours are published."))
    window_minutes: int = field(default=10, metadata=_doc("Sliding window of the live map metric (events per grid)."))
    alert_rules: Path | None = field(
        default=None, metadata=_doc("Alert rule file (TOML). Unset: the shipped domain/alert_rules.toml.")
    )
    escalation_interval_s: float = field(
        default=1.0, metadata=_doc("How often a worker escalates overdue unacknowledged alerts (one worker at a time).")
    )
    offline_interval_s: float = field(
        default=15.0,
        metadata=_doc("How often a worker checks devices against the device_offline rules (one at a time)."),
    )
    case_rules: Path | None = field(
        default=None,
        metadata=_doc("Case categories, departments and deadlines (TOML). Unset: the shipped domain/case_rules.toml."),
    )
    case_interval_s: float = field(
        default=30.0, metadata=_doc("How often a worker looks for overdue cases to raise (one worker at a time).")
    )
    photo_max_bytes: int = field(
        default=5_000_000, metadata=_doc("Largest photo a grid worker may attach (JPEG, PNG or WebP).")
    )
    language: str = field(default="zh-CN", metadata=_doc("Default UI language: zh-CN or en."))
    tile_url: str | None = field(default=None, metadata=_doc("Optional URL template of the city's own tile server."))
    log_level: str = field(default="INFO", metadata=_doc("Python logging level."))
    cookie_secure: bool = field(
        default=False,
        metadata=_doc("Send the session cookie over HTTPS only; turn on whenever TLS is in front (it should be)."),
    )
    session_hours: float = field(default=12.0, metadata=_doc("Absolute lifetime of a login session."))
    login_window_s: int = field(
        default=900, metadata=_doc("Window of the login throttle (5 failures per account and address in it).")
    )
    demo_cases_per_day: int = field(
        default=30,
        metadata=_doc(
            "`run` files two weeks of demo cases at this rate on first start, then keeps new ones "
            "coming (4× this per hour) and moving; 0 turns demo cases off."
        ),
    )
    socketio_queue: bool = field(
        default=False,
        metadata=_doc(
            "Join Flask-SocketIO's Redis message queue, so an emit from any web process reaches every "
            "process's sockets; `prod` turns it on (pushes from the bridge stay local either way)."
        ),
    )
    web_threads: int = field(
        default=100,
        metadata=_doc("Threads of a gunicorn web process (`web`, `prod`); each open Socket.IO connection holds one."),
    )
    web_worker: str = field(
        default="gthread",
        metadata=_doc(
            "gunicorn worker of `web` and `prod`: `gthread` (a thread per open socket) or `gevent` "
            "(a greenlet per socket, for more than ~500 screens on one process)."
        ),
    )
    metrics_allow: str = field(
        default="127.0.0.1,::1",
        metadata=_doc(
            "Client addresses or networks (comma-separated CIDRs) that may read /metrics; empty: nobody. "
            "The peer address is used, never X-Forwarded-For."
        ),
    )
    demo_users: bool = field(
        default=True,
        metadata=_doc("`run` creates demo accounts with random passwords in DATA_DIR/demo-logins.txt."),
    )

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise SettingsError(f"{PREFIX}PORT must be 1-65535, not {self.port}")
        if self.language not in ("zh-CN", "en"):
            raise SettingsError(f"{PREFIX}LANGUAGE must be zh-CN or en, not {self.language!r}")
        if self.escalation_interval_s <= 0 or self.offline_interval_s <= 0:
            raise SettingsError("the escalation and offline-check intervals must be positive")
        if self.sim_rate < 0 or self.delta_interval_s <= 0 or self.window_minutes < 1 or self.worker_batch < 1:
            raise SettingsError("rates, intervals, windows and batch sizes must be positive")
        if self.stream_maxlen < 1 or self.dead_letter_maxlen < 1:
            raise SettingsError(f"{PREFIX}STREAM_MAXLEN and {PREFIX}DEAD_LETTER_MAXLEN must be at least 1")
        if self.web_threads < 1:
            raise SettingsError(f"{PREFIX}WEB_THREADS must be at least 1")
        if self.web_worker not in WEB_WORKERS:
            raise SettingsError(f"{PREFIX}WEB_WORKER must be one of {', '.join(WEB_WORKERS)}, not {self.web_worker!r}")
        if self.metrics_allow:
            _check_networks(self.metrics_allow)
        if self.redis_url:
            _check_redis_url(self.redis_url)
        if self.data_dir is not None and not isinstance(self.data_dir, Path):
            object.__setattr__(self, "data_dir", Path(self.data_dir))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from GRIDWATCH_* variables, then apply explicit overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f.name, f.type, raw)
        values.update(overrides)
        return cls(**values)

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)

    @property
    def sqlite_path(self) -> Path:
        """The default database file, used when no database URL is set."""
        return self.data_dir / "gridwatch.db"

    @property
    def effective_database_url(self) -> str:
        """The database URL in force, defaulting to the SQLite file in the data dir."""
        return self.database_url or f"sqlite:///{self.sqlite_path.resolve()}"

    @classmethod
    def documented(cls) -> list[tuple[str, str, str]]:
        """List (variable, default, meaning) for the README's configuration table."""
        rows = []
        for f in fields(cls):
            default = f.default if f.default is not None else "(unset)"
            rows.append((PREFIX + f.name.upper(), str(default), f.metadata.get("doc", "")))
        return rows


def _check_redis_url(url: str) -> None:
    """A Redis reached over the network must ask for a password (the embedded one is a private socket)."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(f"{PREFIX}REDIS_URL must be redis://, rediss:// or unix://, not {parts.scheme}://")
    if parts.scheme != "unix" and parts.hostname not in ("127.0.0.1", "localhost", "::1") and not parts.password:
        raise SettingsError(f"{PREFIX}REDIS_URL: a Redis on {parts.hostname} must have a password (redis://:PASS@host)")


def _check_networks(value: str) -> None:
    """Every entry of an allow-list must be an address or a network (CIDR)."""
    for part in value.split(","):
        try:
            ipaddress.ip_network(part.strip(), strict=False)
        except ValueError as exc:
            raise SettingsError(f"{PREFIX}METRICS_ALLOW: {part.strip()!r} is not an address or network") from exc


def _coerce(name: str, type_name: Any, raw: str) -> Any:
    kind = str(type_name)
    try:
        if kind.startswith("bool"):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true/false")
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
        if kind.startswith("Path"):
            return Path(raw)
    except ValueError as exc:
        raise SettingsError(f"{PREFIX}{name.upper()}={raw!r}: {exc}") from exc
    return raw
