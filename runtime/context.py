"""The long-lived objects one web process shares between its callbacks and endpoints."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from sqlalchemy import Engine

from geo.hierarchy import Hierarchy
from runtime.alert_actions import AlertActions
from runtime.case_service import CaseService
from runtime.leader_charts import LeaderCharts
from runtime.locale import request_lang
from runtime.patrol_service import PatrolService
from runtime.photo_store import CasePhotos
from runtime.scoreboard_service import ScoreboardService
from runtime.unit_detail import UnitDetail
from runtime.verification_service import VerificationService
from security.accounts import AccountService
from security.guards import Guard
from settings import Settings
from storage.audit_repository import AuditRepository
from streams.keys import RedisKeys

__all__ = ["AppContext"]


@dataclass(frozen=True, slots=True)
class AppContext:
    """Settings plus the clients, the in-memory grid tree and the security services, built once per process."""

    settings: Settings
    engine: Engine
    hierarchy: Hierarchy
    redis: redis.Redis
    keys: RedisKeys
    audit: AuditRepository
    accounts: AccountService
    guard: Guard
    alerts: AlertActions
    cases: CaseService
    charts: LeaderCharts
    units: UnitDetail
    scoreboard: ScoreboardService
    verification: VerificationService
    photos: CasePhotos  # the report feature: case photos on disk
    patrols: PatrolService  # the report feature: patrol check-ins

    def lang(self) -> str:
        """The language of the current request (the user's switch), else the installation's."""
        return request_lang(self.settings.language)
