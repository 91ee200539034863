"""Chapter hygiene: jupytext pairs in sync, no committed outputs, the Colab cell, profiles."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for p in (ROOT / "notebooks").glob("*.py") if p.name[0].isdigit())
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REPO_URL = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def cells(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def test_every_chapter_is_a_pair():
    assert SOURCES, "no chapters found"
    assert {p.stem for p in SOURCES} == {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_is_in_sync(source: Path):
    from_py = jupytext.read(source)
    from_ipynb = jupytext.read(source.with_suffix(".ipynb"))
    assert cells(from_py) == cells(from_ipynb), (
        f"{source.name} and its .ipynb differ: run `jupytext --to ipynb {source.relative_to(ROOT)}`"
    )
    formats = from_ipynb.metadata.get("jupytext", {}).get("formats", "")
    assert "py:percent" in formats and "ipynb" in formats


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_no_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name} carries outputs"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_chapter_structure(source: Path):
    nb = jupytext.read(source)
    code = [c for c in nb.cells if c.cell_type == "code"]
    # the Colab cell comes first, is skipped by the book build and nbmake, and installs this repository
    colab = code[0]
    assert {"skip-execution", "remove-cell"} <= set(colab.metadata.get("tags", ()))
    assert 'if "google.colab" in sys.modules' in colab.source
    urls = re.findall(r"git\+(https://[^\"']+)", colab.source)
    assert urls == [REPO_URL], f"the Colab cell must install {REPO_URL} (set in _config.yml)"
    # every chapter prints its profile and parameters
    assert any("profiles.report(" in c.source for c in code)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    title = re.search(r"^# (.+)$", text, re.M)
    assert title and not re.match(r"\d", title.group(1)), "title '# Title': _toc.yml numbers the chapters"
    assert "## Summary" in text and "## Exercises" in text
    assert ":class: dropdown" in text, "exercise solutions sit in dropdowns"
    # logic lives in collapse_utils: notebooks define no functions of more than a few lines
    for c in code:
        lines = c.source.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(("def ", "class ")):
                body = 0
                for following in lines[i + 1 :]:
                    if following and not following[0].isspace():
                        break
                    body += 1
                assert body <= 8, f"long definition in {source.name}: move it to collapse_utils"


def test_repository_url_is_set_in_one_place():
    import collapse_utils

    assert collapse_utils.REPOSITORY == REPO_URL, "collapse_utils.REPOSITORY must match _config.yml"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'Repository = "{REPO_URL}"' in pyproject
    assert REPO_URL in (ROOT / "README.md").read_text()
    for page in (ROOT / "book").glob("*.md"):
        for url in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", page.read_text()):
            assert url == REPO_URL, f"{page.name} names another repository: {url}"


def test_toc_lists_every_chapter():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    for source in SOURCES:
        assert f"notebooks/{source.stem}" in files, f"{source.stem} is missing from _toc.yml"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_chapter_conventions(source: Path):
    """Bugs guarded: a chapter with its own figure style (unreadable figures), a progress bar that the built
    page keeps as a widget, a seed that COLLAPSE_SEED cannot shift, no 'This page ran at' note, or an
    ipywidgets-only slider that moves without redrawing in the rendered book."""
    text = "\n".join(c.source for c in jupytext.read(source).cells if c.cell_type == "code")
    assert "plotting.style()" in text, "call plotting.style() once near the top"
    assert "tqdm" not in text, "progress bars go through collapse_utils.progress"
    literal = re.findall(r"\bseed\s*=\s*\d+", text)
    assert not literal, f"seeds are written profiles.seed(k): {literal}"
    assert "prose.ran_at(" in text, "a 'This page ran at' note at the top"
    assert "live.explore(" in text, "the Explore section's slider works in the rendered book"


def test_no_module_imports_tqdm_directly():
    """Bug guarded: a module's progress bar that ignores the book build and leaves widgets in the pages."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "collapse_utils").rglob("*.py")
        if p.name != "progress.py" and re.search(r"^\s*(from tqdm|import tqdm)", p.read_text(), re.M)
    ]
    assert not offenders, offenders
