"""Photos of cases on disk, named by their SHA-256: checked by content, written atomically, read back.

A photo is accepted only if Pillow recognises it as JPEG, PNG or WebP from its bytes (its name
and the browser's type are ignored), it is not larger than ``max_bytes`` and its pixel count
stays under ``max_pixels`` (a small file that decodes to gigapixels is a decompression bomb).
The same bytes uploaded twice are stored once. Attaching a photo to a case is audited.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from storage.audit_repository import AuditRepository
from storage.case_repository import CaseRepository, PhotoRecord

__all__ = [
    "MAX_PHOTOS",
    "MAX_PIXELS",
    "CasePhotos",
    "CheckedPhoto",
    "PhotoRejected",
    "PhotoStore",
    "clean_name",
]

MAX_PHOTOS = 6  # per upload request, and per report on the phone page
MAX_PIXELS = 50_000_000  # a 50-megapixel phone camera's full frame; decoding more is a bomb, not a photo
_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
_HEX64 = re.compile(r"[0-9a-f]{64}")
_NAME_CHARS = re.compile(r"[^\w.\- ]+", re.UNICODE)


class PhotoRejected(ValueError):
    """An upload that is not an acceptable photo; ``key`` and ``params`` give the catalog message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(f"{key}: {params}")
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class CheckedPhoto:
    """An upload that passed the checks, with what its content says it is."""

    data: bytes
    sha256: str
    mime: str
    ext: str
    name: str  # the uploader's file name, cleaned, for showing only
    width: int
    height: int

    @property
    def filename(self) -> str:
        """The name it is stored under: its hash and the extension of its real type."""
        return f"{self.sha256}.{self.ext}"


def clean_name(name: str) -> str:
    """A file name safe to show and log: no path, no odd characters, at most 80 characters.

    >>> clean_name("../../etc/passwd"), clean_name("C:\\\\x\\\\现场照片 1.JPG"), clean_name("")
    ('passwd', '现场照片 1.JPG', 'photo')
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = _NAME_CHARS.sub("_", base).strip(" .")
    return base[:80] or "photo"


class PhotoStore:
    """Photos under one directory, two levels deep by hash (``ab/abcd….jpg``)."""

    def __init__(self, root: Path, max_bytes: int, max_pixels: int = MAX_PIXELS) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels

    def check(self, data: bytes, name: str) -> CheckedPhoto:
        """Accept an upload as a photo, or raise PhotoRejected saying why."""
        shown = clean_name(name)
        if not data:
            raise PhotoRejected("photo.empty", name=shown)
        if len(data) > self.max_bytes:
            raise PhotoRejected("photo.too_big", name=shown, mb=_mb(self.max_bytes))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as image:
                    fmt = image.format or ""
                    width, height = image.size
                    if width * height > self.max_pixels:
                        raise PhotoRejected(
                            "photo.too_many_pixels",
                            name=shown,
                            pixels=width * height // 10_000,
                            max=self.max_pixels // 10_000,
                        )
                    image.verify()  # walks the file's structure (chunks and their checksums for PNG)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRejected(
                "photo.too_many_pixels", name=shown, pixels="?", max=self.max_pixels // 10_000
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            if isinstance(exc, PhotoRejected):
                raise
            raise PhotoRejected("photo.not_image", name=shown) from None
        if fmt not in _FORMATS or width <= 0 or height <= 0:
            raise PhotoRejected("photo.not_image", name=shown)
        mime, ext = _FORMATS[fmt]
        return CheckedPhoto(data, sha256(data).hexdigest(), mime, ext, shown, width, height)

    def path_of(self, filename: str) -> Path:
        """Where a stored photo lives; ValueError for a name that is not ``<sha256>.<ext>``."""
        digest, _, ext = filename.partition(".")
        if not _HEX64.fullmatch(digest) or ext not in {e for _, e in _FORMATS.values()}:
            raise ValueError(f"not a stored photo name: {filename!r}")
        return self.root / digest[:2] / filename

    def save(self, photo: CheckedPhoto) -> Path:
        """Write a checked photo (once: the same bytes are the same file), atomically."""
        path = self.path_of(photo.filename)
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(photo.data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)  # readers see the whole file or none
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def read(self, filename: str) -> bytes:
        """The bytes of a stored photo; FileNotFoundError if it is not on disk."""
        return self.path_of(filename).read_bytes()


class CasePhotos:
    """Check, store and attach photos to cases; the one place every door goes through."""

    def __init__(self, store: PhotoStore, cases: CaseRepository, audit: AuditRepository) -> None:
        self.store = store
        self._cases = cases
        self._audit = audit

    @property
    def max_bytes(self) -> int:
        """The largest photo accepted."""
        return self.store.max_bytes

    def check_all(self, uploads: Sequence[tuple[str, bytes]]) -> list[CheckedPhoto]:
        """Check every upload before anything is stored; PhotoRejected for the first bad one."""
        return [self.store.check(data, name) for name, data in uploads]

    def attach(self, case_id: int, photos: Sequence[CheckedPhoto], by: str, ip: str) -> list[PhotoRecord]:
        """Store checked photos and attach them to a case (audited)."""
        now = datetime.now(UTC)
        ids: list[int] = []
        for photo in photos:
            self.store.save(photo)
            ids.append(
                self._cases.add_photo(case_id, photo.filename, photo.mime, len(photo.data), photo.sha256, by, now)
            )
            self._audit.append(
                by,
                "case.photo",
                f"case:{case_id}",
                ip=ip,
                detail={"sha256": photo.sha256, "mime": photo.mime, "size": len(photo.data), "name": photo.name},
            )
        wanted = set(ids)
        return [p for p in self._cases.photos(case_id) if p.id in wanted]

    def photo(self, case_id: int, photo_id: int) -> tuple[PhotoRecord, bytes]:
        """A photo of a case and its bytes; KeyError if the case has no such photo."""
        for p in self._cases.photos(case_id):
            if p.id == photo_id:
                try:
                    return p, self.store.read(p.filename)
                except (FileNotFoundError, ValueError):
                    raise KeyError(photo_id) from None
        raise KeyError(photo_id)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:g}"
