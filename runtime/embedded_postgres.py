"""A private PostgreSQL server started as a supervised child process.

Tests (and a local trial of the production layout) need a real PostgreSQL without touching
the machine's own clusters: we ``initdb`` a cluster in a directory of ours and run
``postgres`` listening only on a unix socket there — no TCP port, trust authentication for
the socket's owner only (mode 0700). PostgreSQL refuses to run as root, so as root the
cluster belongs to the ``postgres`` system user that Debian's package creates.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import hashlib
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["EmbeddedPostgres", "EmbeddedPostgresError", "postgres_bin_dir"]

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_MAX_SOCKET_DIR = 80  # the socket file is "<dir>/.s.PGSQL.5432" and sun_path holds 107 bytes
SUPERUSER = "gridwatch"


class EmbeddedPostgresError(RuntimeError):
    """The private PostgreSQL server could not be started."""


def postgres_bin_dir() -> Path:
    """Return the directory of the newest installed PostgreSQL server binaries."""
    found = shutil.which("postgres") or shutil.which("initdb")
    if found and (Path(found).resolve().parent / "postgres").exists():
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version_key)
    if not candidates:
        raise EmbeddedPostgresError("no PostgreSQL server binaries: apt-get install postgresql")
    return Path(candidates[-1]).parent


def _version_key(path: str) -> tuple[int, ...]:
    part = Path(path).parent.parent.name
    return tuple(int(x) for x in part.split(".") if x.isdigit())


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Fast-shut the postmaster (SIGINT) if the process that started it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


class EmbeddedPostgres:
    """Run a throw-away PostgreSQL cluster in ``directory``, reachable on a unix socket only.

    ``durable=False`` (the default, for tests) turns fsync off: a crash of the machine may lose
    the cluster, which a test cluster does not mind, and every commit is much cheaper.
    """

    def __init__(self, directory: Path, *, durable: bool = False, max_connections: int = 300) -> None:
        self.directory = Path(directory).resolve()
        self.durable = durable
        self.max_connections = max_connections
        self.bin_dir = postgres_bin_dir()
        self._process: subprocess.Popen[bytes] | None = None
        self._run_as = _system_user() if os.geteuid() == 0 else None
        self.socket_dir = self._choose_socket_dir()

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.directory / "pgdata"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        return self._process.pid if self._process else None

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of a database on this server (psycopg 3 driver)."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def _choose_socket_dir(self) -> Path:
        if len(str(self.directory)) <= _MAX_SOCKET_DIR:
            return self.directory
        digest = hashlib.sha256(str(self.directory).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"gw-pg-{digest}"

    def _own(self, path: Path) -> None:
        """Hand a directory to the server's user (as root: the postgres system user)."""
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._run_as is not None:
            os.chown(path, self._run_as.pw_uid, self._run_as.pw_gid)

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(  # noqa: S603 - fixed argv, the system's own binaries
            argv, capture_output=True, check=False, **self._user_kwargs()
        )
        if done.returncode != 0:
            raise EmbeddedPostgresError(f"{argv[0]} failed: {done.stderr.decode(errors='replace').strip()}")

    def _user_kwargs(self) -> dict[str, object]:
        if self._run_as is None:
            return {}
        return {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": [], "cwd": "/"}

    def initdb(self) -> None:
        """Create the cluster, once."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        self._own(self.directory)
        self._own(self.data_dir)
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",  # only the socket's owner can reach the 0700 socket directory
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )

    def start(self, timeout: float = 30.0) -> str:
        """Start the server (creating the cluster if needed) and wait until it accepts connections."""
        if self._process and self._process.poll() is None:
            return self.url()
        self.initdb()
        self._own(self.socket_dir)
        options = {
            "listen_addresses": "",
            "unix_socket_directories": str(self.socket_dir),
            "unix_socket_permissions": "0700",
            "max_connections": str(self.max_connections),
            "shared_buffers": "128MB",
            "fsync": "on" if self.durable else "off",
            "synchronous_commit": "on" if self.durable else "off",
            "full_page_writes": "on" if self.durable else "off",
            "logging_collector": "off",
        }
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
        for key, value in options.items():
            argv += ["-c", f"{key}={value}"]
        log_file = (self.directory / "postgres.log").open("ab")
        try:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, the system's own binary
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # only prctl; runs after the uid change
                **self._user_kwargs(),  # type: ignore[arg-type]
            )
        finally:
            log_file.close()
        self._wait_ready(timeout)
        log.info("embedded postgresql ready in %s (pid %s)", self.socket_dir, self._process.pid)
        return self.url()

    def _wait_ready(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise EmbeddedPostgresError(
                    f"postgres exited with {self._process.returncode}; see {self.directory / 'postgres.log'}"
                )
            try:
                psycopg.connect(self._dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.05)
        self.stop()
        raise EmbeddedPostgresError(f"postgres did not accept connections within {timeout} s")

    def _dsn(self, database: str) -> str:
        return f"host={self.socket_dir} user={SUPERUSER} dbname={database}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create a database (optionally a copy of ``template``) and return its URL."""
        clause = f' TEMPLATE "{template}"' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever still holds connections to it."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self, timeout: float = 20.0) -> None:
        """Shut down fast (roll back open transactions, disconnect clients); kill it if it hangs."""
        proc, self._process = self._process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would (for fault tests); its backends exit after it."""
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None

    def remove(self) -> None:
        """Stop and delete the cluster and its socket directory."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
        if self.socket_dir != self.directory:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise EmbeddedPostgresError(
            "running as root needs the postgres system user (apt-get install postgresql)"
        ) from None
