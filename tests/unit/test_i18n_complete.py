"""Every message in the code and templates has a Chinese translation (scripts/i18n.sh check)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def test_every_message_in_the_tree_has_a_chinese_translation() -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash is needed to run scripts/i18n.sh")
    pybabel = Path(sys.executable).with_name("pybabel")
    result = subprocess.run(
        ["bash", "scripts/i18n.sh", "check"], cwd=PROJECT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "PYBABEL": str(pybabel)}, timeout=120, check=False)
    assert result.returncode == 0, (
        "untranslated messages (run `bash scripts/i18n.sh extract && bash scripts/i18n.sh "
        "update`, fill the empty zh_CN msgstr, then `bash scripts/i18n.sh compile`):\n"
        + result.stdout + result.stderr)
