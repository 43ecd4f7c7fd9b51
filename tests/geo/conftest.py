"""Share one small generated city across the geo tests so they stay fast."""

from __future__ import annotations

import pytest

from geo import DemoCitySpec, Hierarchy, Unit, generate_demo_city

SMALL_SPEC = DemoCitySpec(districts=3, streets=8, communities=30, grids=300)


@pytest.fixture(scope="session")
def geo_spec() -> DemoCitySpec:
    """Return the spec of the small demo city used by most tests."""
    return SMALL_SPEC


@pytest.fixture(scope="session")
def geo_units(geo_spec: DemoCitySpec) -> list[Unit]:
    """Generate the small demo city once per test session."""
    return generate_demo_city(geo_spec)


@pytest.fixture(scope="session")
def geo_city(geo_units: list[Unit]) -> Hierarchy:
    """Wrap the small demo city in a Hierarchy."""
    return Hierarchy(geo_units)
