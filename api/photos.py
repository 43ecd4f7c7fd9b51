"""Case photos over HTTP: attach photos to a case (multipart), and serve a photo back.

Both answer 404 for a case outside the caller's jurisdiction, like a case that does not
exist. Uploads are checked by content (JPEG, PNG or WebP only, size and pixel limits) and all
of them before any is stored: one bad file refuses the request.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from domain.catalog import t
from domain.permissions import Action, Principal, allowed
from runtime.case_service import CaseError
from runtime.context import AppContext
from runtime.photo_store import MAX_PHOTOS, PhotoRejected
from security.guards import current_principal

__all__ = ["register"]

_FIELD = "photo"


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the photo endpoints."""
    cases = ctx.cases
    photos = ctx.photos
    bp = Blueprint("gw_photos", __name__)

    def me() -> Principal:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return principal

    @bp.post("/api/v1/cases/<int:case_id>/photos")
    @ctx.guard.view(Action.VIEW_CASES)
    def upload(case_id: int) -> Any:
        """Attach photos (multipart field ``photo``, repeated) to a case the caller may see and act on."""
        lang = ctx.lang()
        principal = me()
        try:
            case = cases.visible(principal, case_id)
        except CaseError:
            return jsonify({"error": f"no case {case_id}"}), 404
        if not (allowed(principal, Action.REPORT) or allowed(principal, Action.HANDLE_CASE)):
            ctx.guard.refuse(principal, request.path, "action", {"action": Action.REPORT.value})
            return jsonify({"error": "forbidden"}), 403
        limit = MAX_PHOTOS * (photos.max_bytes + 64 * 1024)
        if request.content_length is not None and request.content_length > limit:
            return jsonify({"error": t("report.error.too_many_photos", lang, count=MAX_PHOTOS)}), 413
        files = request.files.getlist(_FIELD)
        if not files:
            return jsonify({"error": f"send the photos as multipart field {_FIELD!r}"}), 400
        if len(files) > MAX_PHOTOS:
            return jsonify({"error": t("report.error.too_many_photos", lang, count=MAX_PHOTOS)}), 400
        uploads = [(f.filename or "", f.stream.read(photos.max_bytes + 1)) for f in files]
        try:
            checked = photos.check_all(uploads)
        except PhotoRejected as exc:
            return jsonify({"error": t(exc.key, lang, **exc.params), "code": exc.key}), 400
        stored = photos.attach(case.id, checked, principal.username, request.remote_addr or "-")
        return jsonify({"photos": [_wire(case.id, p.id, p.mime, p.size) for p in stored]}), 201

    @bp.get("/api/v1/cases/<int:case_id>/photos/<int:photo_id>")
    @ctx.guard.view(Action.VIEW_CASES)
    def serve(case_id: int, photo_id: int) -> Any:
        """The bytes of one photo of a case the caller may see, as the type its content was checked to be."""
        try:
            case = cases.visible(me(), case_id)
            record, data = photos.photo(case.id, photo_id)
        except (CaseError, KeyError):
            return jsonify({"error": "no such photo"}), 404
        resp = Response(data, mimetype=record.mime)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Content-Disposition"] = f'inline; filename="{record.filename}"'
        resp.headers["Cache-Control"] = "private, max-age=86400"  # the bytes never change (named by hash)
        resp.headers["ETag"] = f'"{record.sha256}"'
        return resp

    server.register_blueprint(bp)


def _wire(case_id: int, photo_id: int, mime: str, size: int) -> dict[str, object]:
    return {"id": photo_id, "mime": mime, "size": size, "url": f"/api/v1/cases/{case_id}/photos/{photo_id}"}
