from __future__ import annotations

import itertools
import re

import pytest

from domain import catalog
from domain.kpis import KPIS, KpiSnapshot, render_kpis
from domain.levels import LEVEL_COLOURS, LEVEL_THRESHOLDS, classify, legend


@pytest.mark.parametrize(
    ("value", "level"), [(0, 0), (0.99, 0), (1, 1), (4.99, 1), (5, 2), (39.9, 3), (40, 4), (1e9, 4)]
)
def test_classify_boundaries(value: float, level: int) -> None:
    assert classify(value) == level


def test_legend_covers_every_level_once() -> None:
    entries = legend()
    assert [e.level for e in entries] == list(range(len(LEVEL_THRESHOLDS) + 1))
    assert [e.colour for e in entries] == list(LEVEL_COLOURS)
    assert entries[-1].upper is None
    assert all(a.upper == b.lower for a, b in itertools.pairwise(entries))


def test_map_colours_match_the_browser_palette() -> None:
    with open("assets/gw_map.js", encoding="utf-8") as fh:
        js = fh.read()
    palette = re.search(r"gw\.colours = \[([^\]]+)\]", js)
    assert palette is not None
    assert re.findall(r'"(#[0-9a-f]{6})"', palette.group(1)) == list(LEVEL_COLOURS)


def test_kpis_render_in_order_and_round_trip() -> None:
    snap = KpiSnapshot(
        events_in_window=12345,
        events_per_second=3.25,
        active_grids=7,
        total_grids=10,
        devices_online=5,
        devices_total=20,
        dead_letters=2,
    )
    values = render_kpis(snap)
    assert len(values) == len(KPIS)
    assert values[1] == "12,345" and values[2] == "7 / 10" and values[3] == "25.0%"
    assert KpiSnapshot.from_mapping(snap.as_dict()) == snap
    assert render_kpis(KpiSnapshot())[3] == "—"


def test_every_kpi_label_is_in_the_catalog() -> None:
    for k in KPIS:
        assert catalog.t(k.label_key) and catalog.t(k.label_key, "en")


def test_catalog_has_both_languages_and_matching_placeholders() -> None:
    for key in catalog.all_keys():
        zh, en = catalog.t(key), catalog.t(key, "en")
        assert zh and en
        ph = re.compile(r"\{(\w+)\}")
        assert set(ph.findall(zh)) == set(ph.findall(en)), key
