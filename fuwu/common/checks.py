"""Start-up checks: printable guides need a Chinese font, or they print boxes instead of characters."""

from __future__ import annotations

from typing import Any

from django.core import checks

from fuwu.common import fonts

CJK_PACKAGE_HINT = (
    "Install a Simplified Chinese font for the PDF renderer, e.g. on Debian/Ubuntu: "
    "apt-get install fonts-noto-cjk (then restart fuwu)."
)


@checks.register()
def cjk_font_for_pdfs(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        families = fonts.families_for("zh-cn")
    except (fonts.FontconfigMissing, OSError, AttributeError) as exc:
        return [
            checks.Warning(f"cannot ask fontconfig for Chinese fonts: {exc}", hint=CJK_PACKAGE_HINT, id="common.W001")
        ]
    if not families:
        return [
            checks.Warning(
                "No Chinese (zh-cn) font is available to the PDF renderer: printable guides and statements "
                "would show empty boxes instead of Chinese characters.",
                hint=CJK_PACKAGE_HINT,
                id="common.W002",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def spreadsheets_parsed_safely(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Uploaded workbooks are parsed by openpyxl, which refuses entities only when it uses defusedxml."""
    from fuwu.common.sheet_guard import defused

    if defused():
        return []
    return [
        checks.Error(
            "openpyxl is not using defusedxml: an uploaded .xlsx could expand entities (billion laughs, XXE).",
            hint="Install defusedxml (it is in requirements) and do not set OPENPYXL_DEFUSEDXML=False.",
            id="common.E002",
        )
    ]
