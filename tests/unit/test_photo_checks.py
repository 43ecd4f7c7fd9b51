"""Photo checks: real JPEG, PNG and WebP bytes (made by Pillow) pass; anything else is refused by content."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from runtime.photo_store import PhotoRejected, PhotoStore


def image_bytes(fmt: str, size: tuple[int, int] = (32, 24), colour: str = "red") -> bytes:
    """A real image file of a format, made by Pillow."""
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format=fmt)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas (a decompression bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\x00" * 64)
    idat_chunk = b"IDAT" + idat
    body += struct.pack(">I", len(idat)) + idat_chunk + struct.pack(">I", zlib.crc32(idat_chunk))
    end = b"IEND"
    body += struct.pack(">I", 0) + end + struct.pack(">I", zlib.crc32(end))
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.fixture
def store(tmp_path: Path) -> PhotoStore:
    return PhotoStore(tmp_path / "photos", max_bytes=200_000, max_pixels=4_000_000)


@pytest.mark.parametrize(
    ("fmt", "mime", "ext"), [("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png"), ("WEBP", "image/webp", "webp")]
)
def test_real_images_are_accepted_by_their_content_whatever_their_name(
    store: PhotoStore, fmt: str, mime: str, ext: str
) -> None:
    data = image_bytes(fmt)
    photo = store.check(data, "IMG_0001.txt")  # the name says text; the bytes say image
    assert (photo.mime, photo.ext, photo.width, photo.height) == (mime, ext, 32, 24)
    assert photo.filename.endswith(f".{ext}") and len(photo.sha256) == 64


def test_a_text_file_named_jpg_is_refused(store: PhotoStore) -> None:
    with pytest.raises(PhotoRejected) as exc:
        store.check("这不是照片，只是文字。\n".encode() * 20, "现场.jpg")
    assert exc.value.key == "photo.not_image" and exc.value.params["name"] == "现场.jpg"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused(store: PhotoStore, fmt: str) -> None:
    with pytest.raises(PhotoRejected) as exc:
        store.check(image_bytes(fmt), f"x.{fmt.lower()}")
    assert exc.value.key == "photo.not_image"


def test_a_truncated_png_is_refused(store: PhotoStore) -> None:
    data = image_bytes("PNG", (64, 64))
    with pytest.raises(PhotoRejected) as exc:
        store.check(data[: len(data) // 2], "half.png")
    assert exc.value.key == "photo.not_image"


def test_too_big_and_empty_are_refused(store: PhotoStore) -> None:
    big = image_bytes("PNG", (400, 400)) + os.urandom(250_000)  # a real image padded past the limit
    with pytest.raises(PhotoRejected) as exc:
        store.check(big, "big.png")
    assert exc.value.key == "photo.too_big" and exc.value.params["mb"] == "0.2"
    with pytest.raises(PhotoRejected) as exc:
        store.check(b"", "empty.png")
    assert exc.value.key == "photo.empty"


@pytest.mark.parametrize("side", [2_001, 100_000])  # over our limit; over Pillow's own bomb limit
def test_a_small_file_claiming_a_huge_canvas_is_refused(store: PhotoStore, side: int) -> None:
    bomb = png_header_only(side, side)
    assert len(bomb) < 200
    with pytest.raises(PhotoRejected) as exc:
        store.check(bomb, "bomb.png")
    assert exc.value.key == "photo.too_many_pixels"


def test_saved_once_under_the_hash_and_read_back(store: PhotoStore) -> None:
    photo = store.check(image_bytes("JPEG"), "a.jpg")
    path = store.save(photo)
    assert path == store.root / photo.sha256[:2] / f"{photo.sha256}.jpg"
    assert store.read(photo.filename) == photo.data
    assert store.save(store.check(photo.data, "again.jpg")) == path
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    for bad in ("../../etc/passwd", f"{photo.sha256}.exe", "abc.jpg"):
        with pytest.raises(ValueError, match="not a stored photo name"):
            store.path_of(bad)
