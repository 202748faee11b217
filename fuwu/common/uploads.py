"""One way in for uploaded files: known by content, limited in size, images re-encoded, stored under made-up names.

* **By content, not by name.** The first bytes decide what a file is (JPEG, PNG or PDF). A file whose name
  claims one of those types but whose content is something else is refused as *renamed*; a PNG called
  ``.jpg`` is fine and is stored as ``.png``.
* **Images are decoded and written again** with Pillow: the photo is turned upright from its EXIF
  orientation, then saved without EXIF (no GPS position, no camera serial), ICC profile or text chunks.
  A picture that does not decode is refused as *broken*; one whose header claims more pixels than
  ``max_pixels`` is refused *before* it is decoded (a decompression bomb: a few kilobytes that would
  unpack to gigabytes).
* **PDFs are kept as they are**, after checking the header and the end-of-file marker, and refused when
  they carry scripts or launch actions (best effort: names inside compressed object streams are not read).
* **Location is never taken from the file.** Where a position matters (a photo taken on site), the
  browser sends it as explicit fields; :func:`location_from_fields` checks them.
* **Names are generated** (``<folder>/<yyyy>/<mm>/<random hex>.<sniffed extension>``); the name the
  person gave is returned for display and never used as a path.

Every refusal is an :class:`UploadRefused` with a stable ``code`` (for the API and tests) and a message
for the person, in the page's language, saying what is wrong and what to do.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# 40 megapixels: above any phone camera's photo, far below what would exhaust the server's memory.
DEFAULT_MAX_PIXELS = 40_000_000
# Photos are scaled down to this longest edge: enough to read a notice board, a quarter of a phone's size.
DEFAULT_MAX_EDGE = 2560
JPEG_QUALITY = 85
PDF_TAIL = 2048  # the end-of-file marker sits in the last bytes (allowing for trailing whitespace)
MAX_ACCURACY_M = 100_000  # a browser reporting worse than 100 km has no position worth keeping
PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia")


class FileKind(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    PDF = "pdf"


IMAGES = frozenset({FileKind.JPEG, FileKind.PNG})
ALL_KINDS = frozenset(FileKind)
CONTENT_TYPES = {FileKind.JPEG: "image/jpeg", FileKind.PNG: "image/png", FileKind.PDF: "application/pdf"}
EXTENSIONS = {FileKind.JPEG: "jpg", FileKind.PNG: "png", FileKind.PDF: "pdf"}
NAME_KINDS = {".jpg": FileKind.JPEG, ".jpeg": FileKind.JPEG, ".png": FileKind.PNG, ".pdf": FileKind.PDF}
MAGIC = ((FileKind.JPEG, b"\xff\xd8\xff"), (FileKind.PNG, b"\x89PNG\r\n\x1a\n"), (FileKind.PDF, b"%PDF-"))


class UploadRefused(Exception):
    """An upload that is not stored. ``code`` is stable; the message is for the person who sent it."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class StoredFile:
    name: str  # the storage name (generated)
    kind: FileKind
    size: int  # bytes stored (after re-encoding)
    sha256: str  # of the bytes stored
    original_name: str  # as the person named it, for display only
    width: int | None = None
    height: int | None = None

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


@dataclass(frozen=True)
class Location:
    """Where the browser said it was, with the accuracy it reported (metres), if any."""

    latitude: Decimal
    longitude: Decimal
    accuracy_m: Decimal | None = None


def sniff(head: bytes) -> FileKind | None:
    for kind, magic in MAGIC:
        if head.startswith(magic):
            return kind
    return None


def _names(kinds: Collection[FileKind]) -> str:
    order = [FileKind.JPEG, FileKind.PNG, FileKind.PDF]
    return _("、").join(
        {FileKind.JPEG: "JPEG", FileKind.PNG: "PNG", FileKind.PDF: "PDF"}[k] for k in order if k in kinds
    )


def _display(name: str) -> str:
    # Only the last component, and short: it goes into messages and onto pages.
    return PurePath(name.replace("\\", "/")).name[:120] or _("文件")


def _read(upload: IO[bytes], max_bytes: int) -> bytes:
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    upload.seek(0)
    return data


def generated_name(extension: str) -> str:
    """A stored file's name: random, with the extension its sniffed content gives, never the sender's name
    (``poly.html`` holding a PNG is stored as ``<hex>.png`` and served as an image)."""
    return f"{uuid.uuid4().hex}.{extension}"


def store_upload(
    upload: Any,
    *,
    folder: str,
    allowed: Collection[FileKind] = ALL_KINDS,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    max_edge: int | None = None,
    storage: Storage | None = None,
    transform: Callable[[Image.Image], Image.Image] | None = None,
) -> StoredFile:
    """Check ``upload`` (a Django ``UploadedFile`` or any file with a ``name``), store it, and say what was stored.

    ``transform`` may draw on an image after it is turned upright and scaled, before it is written
    (e.g. a caption with the time and place). Raises :class:`UploadRefused`.
    """
    max_bytes = max_bytes or int(getattr(settings, "FUWU_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))
    max_pixels = max_pixels or int(getattr(settings, "FUWU_UPLOAD_MAX_PIXELS", DEFAULT_MAX_PIXELS))
    max_edge = max_edge or int(getattr(settings, "FUWU_UPLOAD_MAX_EDGE", DEFAULT_MAX_EDGE))
    name = _display(str(getattr(upload, "name", "") or ""))
    declared_size = getattr(upload, "size", None)
    limit_mb = f"{max_bytes / 1024 / 1024:.0f}"
    if declared_size is not None and declared_size > max_bytes:
        raise UploadRefused(_too_large(name, declared_size, limit_mb), code="too_large")
    data = _read(upload, max_bytes)
    if not data:
        raise UploadRefused(_("%(name)s 是空文件，请重新选择或重新拍摄。") % {"name": name}, code="empty")
    if len(data) > max_bytes:
        raise UploadRefused(_too_large(name, len(data), limit_mb), code="too_large")
    kind = sniff(data[:16])
    claimed = NAME_KINDS.get(PurePath(name).suffix.lower())
    if kind is None or kind not in allowed:
        if claimed is not None and claimed != kind:
            raise UploadRefused(
                _("%(name)s 名为 %(suffix)s，内容却不是这种格式（可能改过扩展名）；请上传 %(allowed)s 原文件。")
                % {"name": name, "suffix": PurePath(name).suffix, "allowed": _names(allowed)},
                code="renamed",
            )
        raise UploadRefused(
            _("%(name)s 不是可以接受的文件；只接受 %(allowed)s。") % {"name": name, "allowed": _names(allowed)},
            code="wrong_type",
        )
    width = height = None
    if kind in IMAGES:
        data, width, height = _reencode(data, kind, name, max_pixels, max_edge, transform)
    else:
        _check_pdf(data, name)
    stored_name = (storage or default_storage).save(
        f"{folder.strip('/')}/{timezone.localdate():%Y/%m}/{generated_name(EXTENSIONS[kind])}", ContentFile(data)
    )
    return StoredFile(
        name=stored_name,
        kind=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=name,
        width=width,
        height=height,
    )


def _too_large(name: str, size: int, limit_mb: str) -> str:
    return _("%(name)s 为 %(size)s MB，超过 %(limit)s MB 的上限；请压缩或分开上传。") % {
        "name": name,
        "size": f"{size / 1024 / 1024:.1f}",
        "limit": limit_mb,
    }


def _reencode(
    data: bytes,
    kind: FileKind,
    name: str,
    max_pixels: int,
    max_edge: int,
    transform: Callable[[Image.Image], Image.Image] | None,
) -> tuple[bytes, int, int]:
    broken = UploadRefused(
        _("%(name)s 看起来是图片，但无法读取（文件可能已损坏或没有传完整）；请重新拍摄或重新上传。") % {"name": name},
        code="broken_image",
    )
    with warnings.catch_warnings():
        # Pillow only warns between its own limit and twice it; anything above ours is refused below.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            # The header is read; nothing is decoded yet, so a bomb is caught before it can unpack.
            if image.width * image.height > max_pixels:
                raise UploadRefused(
                    _("%(name)s 有 %(width)s×%(height)s 像素，超过 %(limit)s 万像素上限；请上传普通照片。")
                    % {"name": name, "width": image.width, "height": image.height, "limit": max_pixels // 10_000},
                    code="too_many_pixels",
                )
            image.load()
        except UploadRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UploadRefused(
                _("%(name)s 的像素数量超出上限（可能是恶意构造的文件）；请上传普通照片。") % {"name": name},
                code="too_many_pixels",
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise broken from exc
    upright = ImageOps.exif_transpose(image)
    if max(upright.size) > max_edge:
        upright.thumbnail((max_edge, max_edge))
    if transform is not None:
        upright = transform(upright)
    # Pillow writes a JPEG's comment and ICC profile, and a PNG's profile, from ``info`` unless told otherwise.
    upright.info = {}
    out = io.BytesIO()
    if kind == FileKind.JPEG:
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        # No exif=, icc_profile= or comment: the new file carries the pixels only.
        upright.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        upright.save(out, format="PNG", optimize=True)
    return out.getvalue(), upright.width, upright.height


def reencode_image(
    data: bytes, *, name: str, as_png: bool, max_pixels: int | None = None, max_edge: int | None = None
) -> tuple[bytes, int, int]:
    """An image (any format Pillow reads, already sniffed by the caller) decoded and written again as PNG or
    JPEG, with the same checks as :func:`store_upload`: refused as broken or as a pixel bomb before decoding.
    For callers that keep their own formats and storage (home care's photos, which may be WebP)."""
    max_pixels = max_pixels or int(getattr(settings, "FUWU_UPLOAD_MAX_PIXELS", DEFAULT_MAX_PIXELS))
    max_edge = max_edge or int(getattr(settings, "FUWU_UPLOAD_MAX_EDGE", DEFAULT_MAX_EDGE))
    return _reencode(data, FileKind.PNG if as_png else FileKind.JPEG, _display(name), max_pixels, max_edge, None)


def _check_pdf(data: bytes, name: str) -> None:
    if b"%%EOF" not in data[-PDF_TAIL:]:
        raise UploadRefused(
            _("%(name)s 不是完整的 PDF 文件（可能没有传完整）；请重新导出或重新上传。") % {"name": name},
            code="broken_pdf",
        )
    if any(marker in data for marker in PDF_ACTIVE):
        raise UploadRefused(
            _("%(name)s 含有脚本、附件或启动动作，出于安全原因不能接受；请“打印为 PDF”后再上传。") % {"name": name},
            code="pdf_active_content",
        )


def location_from_fields(latitude: str, longitude: str, accuracy: str = "") -> Location | None:
    """A position the browser sent as form fields; ``None`` when both are empty. Raises UploadRefused."""
    latitude, longitude, accuracy = latitude.strip(), longitude.strip(), accuracy.strip()
    if not latitude and not longitude:
        return None
    bad = UploadRefused(
        _("位置数据无效：纬度应在 -90～90、经度应在 -180～180 之间；请重新定位，或清空位置后上传。"),
        code="bad_location",
    )
    try:
        lat, lon = Decimal(latitude), Decimal(longitude)
        acc = Decimal(accuracy) if accuracy else None
    except InvalidOperation as exc:
        raise bad from exc
    if not (lat.is_finite() and lon.is_finite() and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad
    if acc is not None and not (acc.is_finite() and 0 <= acc <= MAX_ACCURACY_M):
        raise bad
    quantum = Decimal("0.000001")
    return Location(lat.quantize(quantum), lon.quantize(quantum), acc.quantize(Decimal(1)) if acc is not None else None)
