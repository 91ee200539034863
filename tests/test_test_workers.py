"""The test command's parallel workers never run two computations into the same folders at once (conftest.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conftest)

CHAPTERS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapters_that_compute_into_runs_share_one_worker_with_the_book_build(chapter):
    """Bug guarded: a chapter that saves results under notebooks/runs (or reads another chapter's cache there) is
    scheduled beside the book build, which executes it too: two processes then write the same folders at once
    (seen: chapter 4's gen0 model half written when the build loaded it). A chapter that writes nothing may run
    anywhere."""
    source = (ROOT / "notebooks" / chapter).with_suffix(".py").read_text()
    computes = "default_output" in source or "runs/" in source
    assert conftest.runs_chapters(f"notebooks/{chapter}::{chapter}") == computes
    assert conftest.runs_chapters("tests/test_book.py::test_strict_book_build")
    assert not conftest.runs_chapters("tests/test_llm.py::test_end_to_end")


def test_the_scheduler_puts_them_in_one_unit():
    """Bug guarded: the grouping is declared but not used (pytest-xdist 3.8's ``xdist_group`` marks are silently
    ignored under pytest 9.2): every computing test must map to one scheduling unit, every other to its own."""
    pytest.importorskip("xdist")

    class Config:
        def getoption(self, name, default=None):
            return {"numprocesses": 2, "tx": ["2*popen"], "dist": "load"}.get(name, default)

        def getvalue(self, name):
            return self.getoption(name)

    sched = conftest.pytest_xdist_make_scheduler(Config(), None)
    units = {sched._split_scope(n) for n in ("notebooks/04_language_models.ipynb::x", "tests/test_book.py::a",
                                             "notebooks/05_mitigations.ipynb::y")}  # fmt: skip
    assert len(units) == 1
    others = {sched._split_scope(n) for n in ("tests/test_llm.py::a", "tests/test_llm.py::b", "tests/test_gmm.py::a")}
    assert len(others) == 3 and not others & units
