"""The exception families of the geo package, each naming what it is about."""

from __future__ import annotations

from pathlib import Path

__all__ = ["GenerationError", "GeoImportError", "GeoRepairError"]


class GeoImportError(ValueError):
    """Refuse an input file, naming the file, and the field and feature when they are known.

    Examples
    --------
    >>> str(GeoImportError("is empty", file="d.geojson", field="adcode", feature=3))
    "d.geojson: feature 3: field 'adcode': is empty"
    """

    def __init__(
        self, message: str, *, file: str | Path | None = None, field: str | None = None, feature: int | None = None
    ) -> None:
        """Keep the parts so callers and tests can read them, and build one readable message."""
        self.file = None if file is None else str(file)
        self.field = field
        self.feature = feature
        self.reason = message
        parts = [p for p in (self.file, None if feature is None else f"feature {feature}") if p]
        if field is not None:
            parts.append(f"field {field!r}")
        super().__init__(": ".join([*parts, message]))


class GeoRepairError(ValueError):
    """Signal a unit tree that cannot be made seamless, naming the unit."""


class GenerationError(ValueError):
    """Signal a generation request that cannot be met, naming the parent or option."""
