"""The README's main command never turns a failed build into a success (scripts/build_book.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "build_book.py"

CONFIG = """\
title: a book made to fail
only_build_toc_files: true
exclude_patterns: [_build]
execute:
  execute_notebooks: cache
  timeout: 120
"""
TOC = """\
format: jb-book
root: intro
chapters:
  - file: chapter
"""


def write_book(folder: Path, cell: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_config.yml").write_text(CONFIG)
    (folder / "_toc.yml").write_text(TOC)
    (folder / "intro.md").write_text("# A small book\n\nOne chapter.\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# The chapter"), nbformat.v4.new_code_cell(cell)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "chapter.ipynb")


def run_build(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(folder)], capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_failed_build_fails_again_and_publishes_nothing(tmp_path):
    """Bugs guarded: a second run printing success over the page of a chapter that failed (Sphinx does not read an
    unchanged page again, so -W sees no warning), a broken page or a reports/ folder published, a failed build
    that replaces the last good site."""
    book = tmp_path / "book"
    write_book(book, "raise RuntimeError('made to fail')")
    for attempt in (1, 2):
        result = run_build(book)
        log = result.stdout + result.stderr
        assert result.returncode != 0, f"attempt {attempt} reported success:\n{log[-3000:]}"
        assert "made to fail" in log, f"attempt {attempt} does not show the cause:\n{log[-3000:]}"
        assert "chapter" in result.stderr
        assert not (book / "_build" / "html").exists(), f"attempt {attempt} published a site"
    # fixed: the chapter is executed again (not served from a memory of the failure) and the site published
    write_book(book, "print('fine' + '!' * 3)")
    result = run_build(book)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    html = book / "_build" / "html"
    page = (html / "chapter.html").read_text()
    assert "fine!!!" in page
    assert not (html / "reports").exists()
    # broken again: non-zero, and the last good site stays as it was
    write_book(book, "raise ValueError('broken again')")
    result = run_build(book)
    assert result.returncode != 0
    assert "fine!!!" in (html / "chapter.html").read_text()
    assert "broken again" not in (html / "chapter.html").read_text()


def test_error_pages_are_found(tmp_path):
    """Bug guarded: a page that shows a traceback counted as a good page (published)."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import build_book
    finally:
        sys.path.pop(0)
    (tmp_path / "a.html").write_text("<p>fine</p>")
    (tmp_path / "b.html").write_text("<pre>Traceback (most recent call last):</pre>")
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "c.html").write_text("Traceback (most recent call last)")
    assert build_book.pages_with_errors(tmp_path) == ["b.html"]
    log = "/x/notebooks/04_language_models.ipynb: Executing notebook failed: CellTimeoutError"
    assert build_book.failed_notebooks(log, tmp_path) == ["04_language_models"]
    # the same failure as Sphinx prints it in colour, and its error report: one name, no colour codes
    coloured = "\x1b[91m/x/notebooks/04_language_models.ipynb: WARNING: Executing notebook failed: CellTimeoutError\x1b[39;49;00m"
    (tmp_path / "reports" / "notebooks").mkdir(parents=True)
    (tmp_path / "reports" / "notebooks" / "04_language_models.err.log").write_text("Traceback")
    assert build_book.failed_notebooks(coloured, tmp_path) == ["04_language_models"]
