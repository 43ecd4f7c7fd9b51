"""`python app.py users …` and `python app.py audit …`, and the demo accounts of `run`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import redis
from sqlalchemy import Engine

from domain.permissions import Role
from geo.hierarchy import Hierarchy, Level
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.embedded_redis import EmbeddedRedis
from security.accounts import AccountError, AccountService
from security.passwords import PasswordHashing
from security.sessions import SessionStore
from settings import Settings
from storage.audit_repository import AuditQuery, AuditRepository
from storage.user_repository import UserExists, UserRepository
from streams.connection import connect
from streams.keys import RedisKeys

__all__ = ["add_parsers", "ensure_demo_users", "make_accounts", "run"]

DEMO_LOGINS = "demo-logins.txt"
_DEMO = (
    ("admin", "市级管理员", Role.CITY_ADMIN, Level.CITY),
    ("duty", "值班员", Role.DUTY_STAFF, Level.CITY),
    ("leader", "区领导", Role.DISTRICT_LEADER, Level.DISTRICT),
    ("auditor", "审计员", Role.AUDITOR, Level.CITY),
    ("operator", "受理调度员", Role.CITY_OPERATOR, Level.CITY),  # accepts and dispatches cases
    ("grid", "网格员", Role.GRID_WORKER, Level.GRID),  # the first grid's worker: /report on a phone
)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare the `users` and `audit` commands."""
    users = sub.add_parser("users", help="create users, reset passwords, assign role and unit")
    us = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    create = us.add_parser("create", help="create a user (prints a one-time password to change at first login)")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--unit", required=True, help="code of the unit the user is bound to")
    create.add_argument("--name", default="", help="display name")
    create.add_argument("--password-stdin", action="store_true", help="read the initial password from stdin")
    us.add_parser("list", help="list users")
    reset = us.add_parser("reset-password", help="issue a new one-time password and end the user's sessions")
    reset.add_argument("username")
    role = us.add_parser("set-role", help="change role and unit (ends the user's sessions)")
    role.add_argument("username")
    role.add_argument("--role", required=True, choices=[r.value for r in Role])
    role.add_argument("--unit", required=True)
    for verb in ("disable", "enable"):
        us.add_parser(verb, help=f"{verb} an account").add_argument("username")

    audit = sub.add_parser("audit", help="verify or search the audit trail")
    au = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    au.add_parser("verify", help="check the hash chain; exit 1 naming the first edited or missing entry")
    search = au.add_parser("search", help="list entries, newest first")
    search.add_argument("--actor")
    search.add_argument("--action")
    search.add_argument("--target")
    search.add_argument("--since", type=datetime.fromisoformat)
    search.add_argument("--until", type=datetime.fromisoformat)
    search.add_argument("--limit", type=int, default=50)


def make_accounts(engine: Engine, client: redis.Redis, hierarchy: Hierarchy, settings: Settings) -> AccountService:
    """Build the account service on a database and a Redis."""
    channel = RedisKeys(settings.ingest_stream, settings.dead_letter_stream).push_channel
    sessions = SessionStore(client, ttl_s=int(settings.session_hours * 3600), notify_channel=channel)
    return AccountService(UserRepository(engine), AuditRepository(engine), sessions, hierarchy, PasswordHashing())


@contextmanager
def _redis(settings: Settings) -> Iterator[redis.Redis]:
    """The configured Redis, the running embedded one, or a briefly started embedded one (sessions live there)."""
    if settings.redis_url:
        client = connect(settings.redis_url)
        yield client
        client.close()
        return
    server = EmbeddedRedis(settings.data_dir / "redis")
    probe = redis.Redis(unix_socket_path=server.socket_path)
    try:
        running = bool(probe.ping())
    except (redis.ConnectionError, FileNotFoundError):
        running = False
    if running:
        yield probe
        probe.close()
        return
    with server:
        client = redis.Redis.from_url(server.url)
        yield client
        client.close()


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run a `users` or `audit` command; return the exit status."""
    engine = open_database(settings)
    try:
        if args.command == "audit":
            return _audit(args, AuditRepository(engine))
        hierarchy = ensure_demo_city(engine, settings)
        with _redis(settings) as client:
            return _users(args, make_accounts(engine, client, hierarchy, settings))
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _users(args: argparse.Namespace, accounts: AccountService) -> int:
    cmd = args.users_command
    if cmd == "list":
        for u in accounts.users.all():
            flags = ("disabled " if u.disabled else "") + ("must-change-password" if u.must_change_password else "")
            print(f"{u.username:20} {u.role.value:16} {u.unit_code:16} {u.display_name} {flags}".rstrip())
        return 0
    if cmd == "create":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
        try:
            user, initial = accounts.create(
                _actor(), args.username, Role(args.role), args.unit, display_name=args.name, password=password
            )
        except UserExists:
            print(f"error: user {args.username!r} exists", file=sys.stderr)
            return 2
        if password is None:
            print(f"created {user.username}; one-time password (must be changed at first login): {initial}")
        else:
            print(f"created {user.username}")
        return 0
    if cmd == "reset-password":
        print(f"one-time password for {args.username}: {accounts.reset_password(_actor(), args.username)}")
        return 0
    if cmd == "set-role":
        accounts.set_role(_actor(), args.username, Role(args.role), args.unit)
        print(f"{args.username}: {args.role} at {args.unit}")
        return 0
    accounts.set_disabled(_actor(), args.username, cmd == "disable")
    print(f"{args.username}: {cmd}d")
    return 0


def _audit(args: argparse.Namespace, audit: AuditRepository) -> int:
    if args.audit_command == "verify":
        broken = audit.verify()
        if broken:
            print(f"audit trail BROKEN at entry {broken.seq}: {broken.reason}")
            return 1
        print(f"audit trail intact: {audit.count()} entries")
        return 0
    query = AuditQuery(args.actor, args.action, args.target, args.since, args.until, args.limit)
    for e in audit.search(query):
        print(
            f"{e.seq:>7} {e.ts.isoformat(timespec='seconds')} {e.outcome:6} {e.actor:20} {e.action:18} "
            f"{e.target} {e.ip} {e.detail if e.detail else ''}".rstrip()
        )
    return 0


def ensure_demo_users(accounts: AccountService, hierarchy: Hierarchy, data_dir: Path) -> Path | None:
    """Create the demo accounts once, with random passwords written to DATA_DIR/demo-logins.txt (0600)."""
    if accounts.users.count():
        return None
    lines = []
    for username, name, role, level in _DEMO:
        unit = hierarchy.city if level is Level.CITY else hierarchy.at_level(level)[0]
        _, password = accounts.create("system:demo", username, role, unit.code, display_name=name, must_change=False)
        lines.append(f"{username:10} {password}   {role.value} @ {unit.code} {unit.name}")
    path = data_dir / DEMO_LOGINS
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# Demo accounts of this installation (generated; not for production)\n" + "\n".join(lines) + "\n")
    return path
