"""The long-lived objects one web process shares between its callbacks and endpoints."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from sqlalchemy import Engine

from geo.hierarchy import Hierarchy
from settings import Settings
from streams.keys import RedisKeys

__all__ = ["AppContext"]


@dataclass(frozen=True, slots=True)
class AppContext:
    """Settings plus the clients and the in-memory grid tree, built once per process."""

    settings: Settings
    engine: Engine
    hierarchy: Hierarchy
    redis: redis.Redis
    keys: RedisKeys
