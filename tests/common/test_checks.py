"""Start-up checks: a machine without a Chinese font for the PDF renderer is told so, with what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fuwu.common.checks import cjk_font_for_pdfs
from fuwu.common.fonts import families_for
from tests.conftest import REPO

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def test_this_machine_has_a_chinese_font_so_no_warning() -> None:
    assert any("CJK SC" in f or "SC" in f for f in families_for("zh-cn")), families_for("zh-cn")
    assert cjk_font_for_pdfs() == []


def test_without_a_chinese_font_start_up_warns_with_the_package_to_install(tmp_path: Path) -> None:
    # Fontconfig as on a server with only the DejaVu fonts (Latin, no Chinese).
    fonts = DEJAVU if DEJAVU.is_dir() else tmp_path / "no-fonts"
    fonts.mkdir(exist_ok=True)
    config = tmp_path / "fonts.conf"
    config.write_text(
        f'<?xml version="1.0"?><fontconfig><dir>{fonts}</dir><cachedir>{tmp_path / "cache"}</cachedir></fontconfig>',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    result = subprocess.run(
        [sys.executable, "-m", "fuwu", "check"],
        cwd=REPO,
        env={**env, "FONTCONFIG_FILE": str(config), "FUWU_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output  # a warning: it starts, and says why the PDFs will not read
    assert "common.W002" in output
    assert "No Chinese (zh-cn) font is available to the PDF renderer" in output
    assert "apt-get install fonts-noto-cjk" in output
