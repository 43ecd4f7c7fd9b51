"""Serialised GeoJSON of each level of detail, built once per process on first request."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading

from geo.hierarchy import Hierarchy, Level
from geo.lod import level_feature_collection

__all__ = ["LEVEL_NAMES", "GeoJsonCache"]

LEVEL_NAMES: dict[str, Level] = {
    "district": Level.DISTRICT,
    "street": Level.STREET,
    "community": Level.COMMUNITY,
    "grid": Level.GRID,
}


class GeoJsonCache:
    """Bytes and ETags of level feature collections, so geometry is simplified only once."""

    def __init__(self, hierarchy: Hierarchy) -> None:
        self._h = hierarchy
        self._lock = threading.Lock()
        self._cache: dict[tuple[Level, str | None], tuple[bytes, bytes, str]] = {}

    def warm(self) -> threading.Thread:
        """Build the city-zoom levels in the background, so the first screen does not wait."""
        thread = threading.Thread(
            target=lambda: [self.get(level) for level in (Level.DISTRICT, Level.STREET)],
            name="geojson-warm",
            daemon=True,
        )
        thread.start()
        return thread

    def get(self, level: Level, within: str | None = None) -> tuple[bytes, bytes, str]:
        """Return (body, gzipped body, etag) for all units of a level, or those under one unit."""
        key = (level, within)
        with self._lock:
            hit = self._cache.get(key)
        if hit:
            return hit
        if within is None:
            units = self._h.at_level(level)
        elif level is Level.GRID:
            units = tuple(self._h.get(code) for code in self._h.grids_under(within))
        else:
            units = tuple(u for u in self._h.at_level(level) if u.code == within or within in self._h.ancestors(u.code))
        # A subset keeps its outer boundary unsimplified so it still meets its neighbours exactly.
        collection = level_feature_collection(units, simplify_boundary=within is None)
        body = json.dumps(collection, separators=(",", ":"), ensure_ascii=False).encode()
        entry = (body, gzip.compress(body, compresslevel=6), hashlib.sha256(body).hexdigest()[:32])
        with self._lock:
            self._cache[key] = entry
        return entry
