"""The database every test talks to: a SQLite file, or a private PostgreSQL server.

``GW_TEST_DATABASE=postgresql`` runs the suite on PostgreSQL; the default is SQLite. On
PostgreSQL one private server (runtime.embedded_postgres) serves the whole session, and each
test's database file becomes its own database on it, named after the file's path, so tests
stay as isolated as with files. Databases a test creates are dropped when it ends.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from runtime.embedded_postgres import EmbeddedPostgres
from storage.database import make_engine
from storage.migrate import upgrade_to_head

__all__ = ["BACKEND", "app_db_url", "created", "db_url", "drop", "on_postgresql", "shutdown"]

BACKEND = os.environ.get("GW_TEST_DATABASE", "sqlite")
if BACKEND not in {"sqlite", "postgresql"}:
    raise RuntimeError(f"GW_TEST_DATABASE must be sqlite or postgresql, not {BACKEND!r}")

_TEMPLATE = "gw_migrated"
_server: EmbeddedPostgres | None = None
_databases: dict[Path, str] = {}  # file path → database name, for this session


def on_postgresql() -> bool:
    """Whether this run's tests use PostgreSQL."""
    return BACKEND == "postgresql"


def server() -> EmbeddedPostgres:
    """The session's PostgreSQL server, started on first use, with a migrated template database."""
    global _server
    if _server is None:
        base = Path(tempfile.mkdtemp(prefix="gw-test-pg-"))
        base.chmod(0o711)  # as root the cluster belongs to the postgres user, who must reach it
        started = EmbeddedPostgres(base / "cluster")
        started.start()
        engine = make_engine(started.create_database(_TEMPLATE))
        upgrade_to_head(engine)
        engine.dispose()  # a template must have no open connections when it is copied
        _server = started
    return _server


def db_url(file: Path, *, migrated: bool = False) -> str:
    """The URL of the database the test would keep in ``file``.

    On SQLite that is the file. On PostgreSQL it is a database created for that path on first
    use (a copy of the migrated template when ``migrated``, else empty) and the same one after.
    """
    if not on_postgresql():
        return f"sqlite:///{file}"
    path = Path(file).resolve()
    name = _databases.get(path)
    if name is None:
        name = "t_" + hashlib.sha256(str(path).encode()).hexdigest()[:24]
        server().create_database(name, template=_TEMPLATE if migrated else None)
        _databases[path] = name
    return server().url(name)


def app_db_url(data_dir: Path) -> str:
    """The URL of the database of an app whose data dir is ``data_dir``."""
    return db_url(Path(data_dir) / "gridwatch.db")


def created() -> set[Path]:
    """The paths whose databases exist now."""
    return set(_databases)


def drop(paths: set[Path]) -> None:
    """Drop the databases made for these paths (closing what still holds them)."""
    for path in paths:
        name = _databases.pop(path, None)
        if name is not None and _server is not None:
            _server.drop_database(name)


def shutdown() -> None:
    """Stop and delete the session's server, if one was started."""
    global _server
    if _server is not None:
        _server.remove()
        shutil.rmtree(_server.directory.parent, ignore_errors=True)
        _server = None
    _databases.clear()
