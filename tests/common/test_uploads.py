"""The upload kernel: every bad file is refused with its own code; good files are stored clean under new names."""

from __future__ import annotations

import io
import struct
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from fuwu.common.uploads import (
    IMAGES,
    FileKind,
    UploadRefused,
    location_from_fields,
    sniff,
    store_upload,
)

GPS_IFD = 0x8825
ORIENTATION = 0x0112


@pytest.fixture
def storage(tmp_path: Path) -> FileSystemStorage:
    return FileSystemStorage(location=tmp_path)


def jpeg(width: int = 40, height: int = 20, *, gps: bool = True, orientation: int = 1) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # camera make
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (28.0, 39.0, 0.0), 3: "E", 4: (121.0, 25.0, 0.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"secret note")
    return out.getvalue()


def png(*, text: str = "") -> bytes:
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text)
    out = io.BytesIO()
    Image.new("RGBA", (30, 30), (0, 0, 255, 128)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def refused(data: bytes, name: str, storage: FileSystemStorage, **options: object) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        store_upload(upload(data, name), folder="test", storage=storage, **options)  # type: ignore[arg-type]
    assert not any(storage.listdir("")[0] + storage.listdir("")[1]), "nothing is stored for a refused upload"
    return caught.value


def test_a_photo_is_stored_upright_without_exif_under_a_new_name(storage: FileSystemStorage) -> None:
    original = jpeg(orientation=6)  # the phone was held sideways: 40×20 pixels that show 20×40
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(GPS_IFD), "the test photo carries a GPS position"
    stored = store_upload(upload(original, "../../etc/IMG_0001.JPG"), folder="inspections/photos", storage=storage)
    assert stored.kind == FileKind.JPEG
    assert stored.content_type == "image/jpeg"
    assert stored.original_name == "IMG_0001.JPG"
    assert stored.name.startswith("inspections/photos/")
    assert stored.name.endswith(".jpg")
    assert "IMG_0001" not in stored.name
    with storage.open(stored.name) as handle:
        data = handle.read()
    assert len(data) == stored.size
    with Image.open(io.BytesIO(data)) as after:
        assert dict(after.getexif()) == {}
        assert "comment" not in after.info
        assert after.size == (20, 40) == (stored.width, stored.height)
    assert b"PhoneMaker" not in data
    assert b"secret note" not in data


def test_png_text_chunks_are_dropped_and_the_sniffed_extension_wins(storage: FileSystemStorage) -> None:
    stored = store_upload(upload(png(text="home address"), "photo.jpg"), folder="x", storage=storage)
    assert stored.kind == FileKind.PNG
    assert stored.name.endswith(".png")
    with storage.open(stored.name) as handle:
        data = handle.read()
    assert b"home address" not in data
    with Image.open(io.BytesIO(data)) as after:
        assert after.mode == "RGBA"


def test_large_photos_are_scaled_down(storage: FileSystemStorage) -> None:
    stored = store_upload(upload(jpeg(300, 150, gps=False), "big.jpg"), folder="x", storage=storage, max_edge=100)
    assert (stored.width, stored.height) == (100, 50)


def test_a_transform_draws_on_the_upright_image(storage: FileSystemStorage) -> None:
    def stamp(image: Image.Image) -> Image.Image:
        image.putpixel((0, 0), (0, 255, 0))
        return image

    stored = store_upload(upload(png(), "p.png"), folder="x", storage=storage, transform=stamp)
    with storage.open(stored.name) as handle, Image.open(handle) as image:
        assert image.getpixel((0, 0))[:3] == (0, 255, 0)


def test_a_pdf_is_kept_byte_for_byte(storage: FileSystemStorage) -> None:
    stored = store_upload(upload(PDF, "整改报告.pdf"), folder="x", storage=storage)
    assert stored.kind == FileKind.PDF
    assert stored.name.endswith(".pdf")
    with storage.open(stored.name) as handle:
        assert handle.read() == PDF


@pytest.mark.parametrize(
    ("data", "name", "code", "words"),
    [
        (b"", "photo.jpg", "empty", "空文件"),
        (b"MZ\x90\x00 this is a program", "photo.jpg", "renamed", "名为 .jpg，内容却不是这种格式"),
        (b"PK\x03\x04 a word document", "report.pdf", "renamed", "名为 .pdf"),
        (b"plain text", "notes.txt", "wrong_type", "只接受 JPEG、PNG、PDF"),
        (jpeg()[:300], "cut.jpg", "broken_image", "无法读取"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "garbage.png", "broken_image", "无法读取"),
        (PDF.replace(b"%%EOF", b""), "cut.pdf", "broken_pdf", "不是完整的 PDF"),
        (
            PDF.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
            "script.pdf",
            "pdf_active_content",
            "含有脚本",
        ),
    ],
)
def test_bad_files_are_refused_with_a_code_and_a_reason(
    storage: FileSystemStorage, data: bytes, name: str, code: str, words: str
) -> None:
    error = refused(data, name, storage)
    assert error.code == code
    assert words in str(error)


def test_a_pdf_where_only_images_are_allowed_is_the_wrong_type(storage: FileSystemStorage) -> None:
    error = refused(PDF, "scan.pdf", storage, allowed=IMAGES)
    assert error.code == "renamed" or error.code == "wrong_type"
    assert "只接受 JPEG、PNG" in str(error)
    assert refused(PDF, "scan", storage, allowed=IMAGES).code == "wrong_type"


def test_oversize_files_are_refused_before_they_are_read(storage: FileSystemStorage) -> None:
    error = refused(jpeg(), "photo.jpg", storage, max_bytes=100)
    assert error.code == "too_large"
    assert "超过" in str(error)


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_before_it_is_decoded(storage: FileSystemStorage) -> None:
    # 100,000 × 100,000 pixels in a few dozen bytes: decoding it would need ten gigabytes.
    assert refused(_png_header(100_000, 100_000), "bomb.png", storage).code == "too_many_pixels"
    # Below Pillow's own alarm, above ours.
    error = refused(_png_header(9_000, 9_000), "bomb.png", storage)
    assert error.code == "too_many_pixels"
    assert "9000×9000" in str(error)


def test_sniffing_reads_content_only() -> None:
    assert sniff(jpeg()[:16]) == FileKind.JPEG
    assert sniff(png()[:16]) == FileKind.PNG
    assert sniff(PDF[:16]) == FileKind.PDF
    assert sniff(b"GIF89a") is None


def test_a_location_comes_only_from_explicit_fields() -> None:
    assert location_from_fields("", "") is None
    location = location_from_fields(" 28.6563 ", "121.4201", "12.4")
    assert location is not None
    assert (location.latitude, location.longitude, location.accuracy_m) == (
        Decimal("28.656300"),
        Decimal("121.420100"),
        Decimal(12),
    )
    for bad in (("91", "121"), ("28", "181"), ("NaN", "121"), ("north", "121"), ("28", "")):
        with pytest.raises(UploadRefused) as caught:
            location_from_fields(*bad)
        assert caught.value.code == "bad_location"
    with pytest.raises(UploadRefused):
        location_from_fields("28", "121", "-1")
