"""`python app.py verification …`: register the data platform's key, push a batch from a file, show progress.

``push`` goes through the same service as ``POST /api/v1/verification/batches`` on behalf of a
registered client (its scope and unit apply, the push is audited under its name): it is for an
operator loading a batch the platform sent by other means.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from runtime.bootstrap import ensure_demo_city, open_database
from runtime.verification_service import SCOPE, BadPush, DuplicateBatch, VerificationError, verification_service_for
from settings import Settings
from storage.api_client_repository import ApiClientExists, ApiClientRepository
from storage.audit_repository import AuditRepository

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare the `verification` command."""
    v = sub.add_parser("verification", help="verification tasks: the platform's key, push a batch, progress")
    vs = v.add_subparsers(dest="verification_command", metavar="ACTION", required=True)
    client = vs.add_parser("client", help="register an API client with the verification scope; prints its key once")
    client.add_argument("name")
    client.add_argument("--unit", required=True, help="code of the unit it may push tasks into")
    push = vs.add_parser("push", help="push a batch from a JSON file on behalf of a registered client")
    push.add_argument("file", type=Path)
    push.add_argument("--client", required=True, help="name of the API client the batch comes from")
    vs.add_parser("progress", help="list every batch with its progress")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run a `verification` command; return the exit status."""
    engine = open_database(settings)
    try:
        hierarchy = ensure_demo_city(engine, settings)
        clients = ApiClientRepository(engine)
        service = verification_service_for(engine, hierarchy, None, None)
        cmd = args.verification_command
        if cmd == "client":
            if args.unit not in hierarchy:
                print(f"error: no unit {args.unit!r}", file=sys.stderr)
                return 2
            try:
                created, key = clients.create(args.name, args.unit, {SCOPE})
            except ApiClientExists:
                print(f"error: a client named {args.name!r} exists", file=sys.stderr)
                return 2
            AuditRepository(engine).append(
                f"cli:{getpass.getuser()}",
                "api_client.create",
                f"api_client:{created.name}",
                detail={"unit": created.unit_code, "scopes": sorted(created.scopes)},
            )
            print(f"client {created.name} (unit {created.unit_code}); key, shown once:\n{key}")
            return 0
        if cmd == "push":
            found = clients.by_name(args.client)
            if found is None or found.revoked_at is not None:
                print(f"error: no live client {args.client!r}", file=sys.stderr)
                return 2
            try:
                data = json.loads(args.file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
                return 2
            try:
                result = service.push(found, data, "cli")
            except DuplicateBatch as exc:
                print(f"error: {exc} (batch #{exc.batch_id})", file=sys.stderr)
                return 1
            except BadPush as exc:
                for problem in exc.problems:
                    where = "batch" if problem.task is None else f"task {problem.task}"
                    print(f"error: {where}: {problem.field}: {problem.message}", file=sys.stderr)
                return 1
            except VerificationError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(f"batch #{result.batch.id}: {result.tasks} tasks on {len(result.grids)} grids")
            return 0
        now = service.now()
        city = hierarchy.city.code
        for view in service.views_for_unit(city, now=now):
            p = view.progress
            late = " OVERDUE" if view.overdue(now) else ""
            print(
                f"#{view.batch.id:<5} {view.batch.external_ref:24} {p.done}/{p.total} done, "
                f"{p.failed} failed, {p.unreachable} unreachable, due {view.batch.deadline.isoformat()}{late}"
            )
        return 0
    finally:
        engine.dispose()
