"""SQLAlchemy 2 models; the schema itself is owned by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["AppMeta", "AuditRow", "Base", "DeviceRow", "GeoUnitRow", "UserRow"]


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
    # The device's own HMAC key (HMAC needs the key itself, so it cannot be hashed); only
    # DeviceRepository.credential reads it back, for the ingest endpoint.
    secret: Mapped[str | None] = mapped_column(String(128), nullable=True, default=None)
    secret_version: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, default=None)


class UserRow(Base):
    """A person's account: one person, one password."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    unit_code: Mapped[str] = mapped_column(String(24), ForeignKey("geo_unit.code"))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditRow(Base):
    """One entry of the append-only, hash-chained audit trail."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(96), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(256))
    outcome: Mapped[str] = mapped_column(String(16))
    ip: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
