"""SQLAlchemy 2 models; the schema itself is owned by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["AppMeta", "Base", "DeviceRow", "GeoUnitRow"]


class Base(DeclarativeBase):
    """Declarative base of every Gridwatch table."""


class AppMeta(Base):
    """Small key/value facts about this installation (e.g. which demo city was generated)."""

    __tablename__ = "app_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class GeoUnitRow(Base):
    """One unit of the grid tree: city, district, street, community or grid."""

    __tablename__ = "geo_unit"
    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[int] = mapped_column(Integer, index=True)
    parent_code: Mapped[str | None] = mapped_column(String(24), ForeignKey("geo_unit.code"), index=True, nullable=True)
    households: Mapped[int] = mapped_column(Integer, default=0)
    geometry_wkb: Mapped[bytes] = mapped_column(LargeBinary)


class DeviceRow(Base):
    """A registered device with its own placement on a grid."""

    __tablename__ = "device"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_type: Mapped[str] = mapped_column(String(32), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str] = mapped_column(String(24), ForeignKey("geo_unit.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    installed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
