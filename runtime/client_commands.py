"""`python app.py clients …`: give an external system (the 12345 hotline, the data platform) its key.

One system, one key, one unit: the key is printed once when it is issued and stored only as
its SHA-256 (storage.api_client_repository). Issuing and revoking are audited.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from geo.hierarchy import Hierarchy
from runtime.bootstrap import open_database
from settings import Settings
from storage.api_client_repository import ApiClientExists, ApiClientRepository
from storage.audit_repository import AuditRepository
from storage.repositories import GeoRepository

__all__ = ["SCOPES", "add_parser", "run"]

# What a key may be used for: the Open311 door, and the verification tasks pushed by the platform.
SCOPES = ("open311", "verification")
_NAME_MAX = 64


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare the `clients` command."""
    clients = sub.add_parser("clients", help="issue, list and revoke the keys of external systems (Open311 …)")
    cs = clients.add_subparsers(dest="clients_command", metavar="ACTION", required=True)
    add = cs.add_parser("add", help="register a system bound to a unit and print its key once")
    add.add_argument("name", help="the system's name, e.g. hotline-12345")
    add.add_argument("--unit", required=True, help="code of the unit it may file and read cases in")
    add.add_argument("--scopes", nargs="+", required=True, choices=SCOPES, help="what the key may be used for")
    cs.add_parser("list", help="list systems, their unit, scopes and state (never their keys)")
    cs.add_parser("revoke", help="revoke a system's key at once").add_argument("name")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run a `clients` command; return the exit status."""
    engine = open_database(settings)
    try:
        clients = ApiClientRepository(engine)
        audit = AuditRepository(engine)
        cmd = args.clients_command
        if cmd == "list":
            for c in clients.all():
                state = f"revoked {c.revoked_at.isoformat(timespec='seconds')}" if c.revoked_at else "active"
                print(f"{c.name:24} {c.unit_code:16} {','.join(sorted(c.scopes)):22} {state}")
            return 0
        if cmd == "revoke":
            if not clients.revoke(args.name):
                print(f"error: no active client {args.name!r}", file=sys.stderr)
                return 2
            audit.append(_actor(), "client.revoke", f"client:{args.name}")
            print(f"{args.name}: revoked; its key no longer works")
            return 0
        units = GeoRepository(engine).load_units()
        if not units:
            print("error: the database holds no city yet: run `python app.py init` first", file=sys.stderr)
            return 2
        name = args.name.strip()
        if not name or len(name) > _NAME_MAX or any(ch.isspace() for ch in name):
            print(f"error: a client name is 1-{_NAME_MAX} characters without spaces", file=sys.stderr)
            return 2
        if args.unit not in Hierarchy(units):
            print(f"error: no unit {args.unit!r} in this city", file=sys.stderr)
            return 2
        try:
            client, key = clients.create(name, args.unit, frozenset(args.scopes))
        except ApiClientExists:
            print(f"error: client {name!r} exists (revoke it, or choose another name)", file=sys.stderr)
            return 2
        audit.append(
            _actor(), "client.create", f"client:{name}", detail={"unit": args.unit, "scopes": sorted(client.scopes)}
        )
        print(f"created {name} at {args.unit} with {', '.join(sorted(client.scopes))}")
        print(f"key (shown once, keep it secret): {key}")
        return 0
    finally:
        engine.dispose()


def _actor() -> str:
    return f"cli:{getpass.getuser()}"
