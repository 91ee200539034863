"""The strict book build (warnings are errors), executing every chapter in the quick profile."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_strict_book_build(tmp_path):
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    env = {**os.environ, "COLLAPSE_PROFILE": os.environ.get("COLLAPSE_PROFILE", "quick"), "COLLAPSE_BOOK_BUILD": "1"}
    env.pop("MPLBACKEND", None)  # kernels draw inline figures
    result = subprocess.run(
        [jb, "build", str(ROOT), "--path-output", str(tmp_path), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    html = tmp_path / "_build" / "html"
    assert (html / "index.html").exists()
    chapters = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    for stem in chapters:
        page = (html / "notebooks" / f"{stem}.html").read_text()
        assert "<img" in page, f"{stem}: no figure in the rendered page"
        assert "colab.research.google.com" in page, f"{stem}: no Colab launch button"
        assert "Traceback" not in page
    # tool folders stay out of the build
    assert not list(html.rglob(".pytest_cache")) and not list(html.rglob(".ipynb_checkpoints"))
