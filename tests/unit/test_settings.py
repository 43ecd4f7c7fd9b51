from __future__ import annotations

from pathlib import Path

import pytest

from settings import Settings, SettingsError


def test_defaults_are_safe() -> None:
    s = Settings.from_env({})
    assert s.host == "127.0.0.1"
    assert s.port == 8050
    assert s.redis_url is None
    assert s.data_dir == Path("var")
    assert s.effective_database_url.startswith("sqlite:///")
    assert s.effective_database_url.endswith("var/gridwatch.db")


def test_environment_is_read_and_typed() -> None:
    s = Settings.from_env(
        {
            "GRIDWATCH_PORT": "9001",
            "GRIDWATCH_SIM_RATE": "12.5",
            "GRIDWATCH_DATA_DIR": "/tmp/gw",
            "GRIDWATCH_REDIS_URL": "redis://:s3cret@10.0.0.1:6379/0",
            "OTHER": "x",
        }
    )
    assert (s.port, s.sim_rate, s.data_dir, s.redis_url) == (
        9001,
        12.5,
        Path("/tmp/gw"),
        "redis://:s3cret@10.0.0.1:6379/0",
    )


def test_explicit_argument_beats_environment() -> None:
    assert Settings.from_env({"GRIDWATCH_PORT": "9001"}, port=9100).port == 9100


def test_bad_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="GRIDWATCH_PORT"):
        Settings.from_env({"GRIDWATCH_PORT": "eighty"})


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]


def test_every_field_is_documented() -> None:
    rows = Settings.documented()
    assert all(name.startswith("GRIDWATCH_") and doc for name, _, doc in rows)
    assert len(rows) == len(Settings.__dataclass_fields__)


@pytest.mark.parametrize(
    "env",
    [
        {"GRIDWATCH_PORT": "0"},
        {"GRIDWATCH_LANGUAGE": "fr"},
        {"GRIDWATCH_WINDOW_MINUTES": "0"},
        {"GRIDWATCH_DEAD_LETTER_MAXLEN": "0"},
        {"GRIDWATCH_WEB_WORKER": "eventlet"},
    ],
)
def test_out_of_range_values_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_the_readme_documents_every_variable() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name, default, _ in Settings.documented():
        assert f"| `{name}` | `{default}` |" in readme, name


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("redis://10.0.0.1:6379/0", False),
        ("redis://:pw@10.0.0.1:6379/0", True),
        ("redis://127.0.0.1:6379", True),
        ("unix:///run/redis.sock", True),
        ("http://x", False),
    ],
)
def test_a_networked_redis_needs_a_password(url: str, ok: bool) -> None:
    if ok:
        assert Settings.from_env({"GRIDWATCH_REDIS_URL": url}).redis_url == url
    else:
        with pytest.raises(SettingsError, match="REDIS_URL"):
            Settings.from_env({"GRIDWATCH_REDIS_URL": url})
