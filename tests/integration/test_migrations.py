"""The migrations build exactly the schema the models describe, and go down again."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import storage.alert_models
import storage.case_models  # noqa: F401  # register every table on Base.metadata
from storage.database import make_engine
from storage.migrate import upgrade_to_head
from storage.models import Base
from tests import databases


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_an_empty_database_migrates_to_every_table(tmp_path: Path) -> None:
    eng = make_engine(databases.db_url(tmp_path / "fresh.db"))
    try:
        upgrade_to_head(eng)
        tables = set(inspect(eng).get_table_names())
    finally:
        eng.dispose()
    assert set(Base.metadata.tables) <= tables
    assert {"case_file", "case_step", "verification_task", "patrol_checkin", "api_client"} <= tables
