"""Repositories: the only code that turns rows into domain/geo values and back (one module each)."""

from __future__ import annotations

from storage.device_repository import DeviceRepository
from storage.geo_repository import GeoRepository
from storage.meta_repository import MetaRepository

__all__ = ["DeviceRepository", "GeoRepository", "MetaRepository"]
