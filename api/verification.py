"""Verification endpoints: the data platform pushes batches with its key; people see and complete tasks.

``POST /api/v1/verification/batches`` takes ``X-Api-Key`` only. The batch listings take either
a key (the platform following its own batches) or a session (leaders and staff); a request that
carries a key is judged by the key alone. The task endpoints are for signed-in people. Every
rule (scope, unit, own grid, all-or-nothing) lives in ``ctx.verification``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, jsonify, request

from domain.permissions import Action, Principal
from domain.verification import TaskState
from runtime.context import AppContext
from runtime.verification_service import (
    BadPush,
    BatchView,
    DuplicateBatch,
    VerificationError,
)
from security.guards import GUARD_ATTR, GuardSpec, current_principal
from storage.api_client_repository import ApiClient, ApiClientRepository

__all__ = ["KEY_HEADER", "register"]

KEY_HEADER = "X-Api-Key"
_MAX_LIMIT = 2000
F = TypeVar("F", bound=Callable[..., Any])


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the verification endpoints."""
    service = ctx.verification
    guard = ctx.guard
    clients = ApiClientRepository(ctx.engine)
    bp = Blueprint("gw_verification", __name__)

    def ip() -> str:
        return request.remote_addr or "-"

    def error(exc: VerificationError) -> tuple[Response, int]:
        body: dict[str, Any] = {"error": str(exc)}
        if isinstance(exc, BadPush):
            body["problems"] = [p.to_wire() for p in exc.problems]
        if isinstance(exc, DuplicateBatch):
            body["batch_id"] = exc.batch_id
        return jsonify(body), exc.status

    def key_client() -> ApiClient | tuple[Response, int]:
        """The live client of the request's key, or the 401 answer (audited)."""
        client = clients.by_key(request.headers.get(KEY_HEADER, ""))
        if client is None:
            ctx.audit.append(
                "-", "access.denied", request.path[:256], outcome="denied", ip=ip(), detail={"reason": "api_key"}
            )
            return jsonify({"error": "unknown or revoked API key"}), 401
        return client

    def keyed(action: Action) -> Callable[[F], F]:
        """A view for a key's client (any key sent is judged alone) or a signed-in person with ``action``.

        The view gets the caller first: an ApiClient or a Principal.
        """
        spec = GuardSpec(action, None)

        def wrap(fn: F) -> F:
            @functools.wraps(fn)
            def view(*args: Any, **kwargs: Any) -> Any:
                if KEY_HEADER in request.headers:
                    client = key_client()
                    return client if isinstance(client, tuple) else fn(client, *args, **kwargs)
                principal = guard.check(spec, request.path, args, kwargs)
                if principal is None:
                    return jsonify({"error": "forbidden"}), 403
                return fn(principal, *args, **kwargs)

            setattr(view, GUARD_ATTR, spec)
            return view  # type: ignore[return-value]

        return wrap

    def batch_wire(view: BatchView, now: Any) -> dict[str, Any]:
        b = view.batch
        body: dict[str, Any] = {
            "id": b.id,
            "external_ref": b.external_ref,
            "title": b.title,
            "description": b.description,
            "created_at": b.created_at.isoformat(),
            "deadline": b.deadline.isoformat(),
            "created_by": b.created_by,
            "overdue": view.overdue(now),
            "progress": view.progress.to_wire(),
        }
        if view.grids:
            h = ctx.hierarchy
            body["grids"] = [
                {"grid_code": code, "grid_name": h.get(code).name if code in h else code, **p.to_wire()}
                for code, p in view.grids.items()
            ]
        return body

    @bp.post("/api/v1/verification/batches")
    @keyed(Action.VIEW_CASES)
    def push(client: ApiClient | Principal) -> Any:
        """Push a batch (X-Api-Key of a client with the verification scope): 201, or 400/403/409 saying why."""
        if not isinstance(client, ApiClient):
            return jsonify({"error": f"batches are pushed with an API key ({KEY_HEADER})", "problems": []}), 403
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return jsonify({"error": "send the batch as a JSON object", "problems": []}), 400
        try:
            result = service.push(client, data, ip())
        except VerificationError as exc:
            return error(exc)
        return jsonify({"batch_id": result.batch.id, "tasks": result.tasks, "grids": dict(result.grids)}), 201

    @bp.get("/api/v1/verification/batches")
    @keyed(Action.VIEW_CASES)
    def batches(who: ApiClient | Principal) -> Any:
        """Batches with tasks in the caller's jurisdiction, newest first, with their progress there."""
        now = service.now()
        try:
            views = service.batches(who, now=now)
        except VerificationError as exc:
            return error(exc)
        return jsonify({"batches": [batch_wire(v, now) for v in views]})

    @bp.get("/api/v1/verification/batches/<int:batch_id>")
    @keyed(Action.VIEW_CASES)
    def batch(who: ApiClient | Principal, batch_id: int) -> Any:
        """One batch's progress per grid inside the caller's jurisdiction."""
        now = service.now()
        try:
            view = service.batch(who, batch_id, now=now)
        except VerificationError as exc:
            return error(exc)
        return jsonify(batch_wire(view, now))

    @bp.get("/api/v1/verification/tasks")
    @guard.view(Action.VIEW_CASES, scope=lambda *_a, **_k: (request.args.get("grid") or None,))
    def tasks() -> Any:
        """Tasks in the caller's jurisdiction (grid=, state=pending|done, batch=, unmask=1, limit=)."""
        principal = current_principal()
        assert principal is not None  # the guard let us in
        state = request.args.get("state") or None
        batch_arg = request.args.get("batch") or None
        limit = request.args.get("limit", "500")
        if state is not None and state not in {s.value for s in TaskState}:
            return jsonify({"error": "state: pending or done"}), 400
        if not limit.isdigit() or (batch_arg is not None and not batch_arg.isdigit()):
            return jsonify({"error": "batch and limit are whole numbers"}), 400
        try:
            found = service.tasks(
                principal,
                grid=request.args.get("grid") or None,
                state=TaskState(state) if state else None,
                batch_id=int(batch_arg) if batch_arg else None,
                limit=min(int(limit), _MAX_LIMIT),
            )
        except VerificationError as exc:
            return error(exc)
        wired = service.wire_tasks(principal, found, unmask=request.args.get("unmask") == "1", ip=ip())
        return jsonify({"tasks": wired})

    @bp.post("/api/v1/verification/tasks/<int:task_id>/complete")
    @guard.view(Action.VIEW_CASES)
    def complete(task_id: int) -> Any:
        """Record a visit's result (JSON: result pass|fail|unreachable, note): the worker of the task's grid."""
        principal = current_principal()
        assert principal is not None  # the guard let us in
        data = request.get_json(silent=True)
        data = data if isinstance(data, dict) else {}
        result, note = data.get("result"), data.get("note", "")
        if not isinstance(result, str) or not isinstance(note, str):
            return jsonify({"error": "send JSON with result (pass, fail or unreachable) and note"}), 400
        try:
            task = service.complete(principal, task_id, result, note, ip())
        except VerificationError as exc:
            return error(exc)
        return jsonify({"task": service.wire_tasks(principal, [task])[0]})

    server.register_blueprint(bp)
