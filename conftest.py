"""pytest, for every test and notebook: jupyter_client's waits in short polls (nbmake executes the chapters).

See ``book/_ext/celltimeouts.py`` (:func:`patch_polling`): a zmq message whose wake-up the event loop
missed would otherwise wait for the whole cell limit, with the kernel idle.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "book" / "_ext"))
import celltimeouts  # noqa: E402

sys.path.pop(0)
celltimeouts.patch_polling()


ROOT = Path(__file__).parent
#: Test files that execute every chapter (the book build): with pytest-xdist (``-n``, see scripts/test.sh) they
#: run in one worker, one after another with the chapters that write results under ``notebooks/runs``, so that no
#: two processes ever compute into the same folders at once.
NOTEBOOK_RUNNERS = ("tests/test_book.py",)


def writes_runs(notebook: str) -> bool:
    """Whether a chapter computes into ``notebooks/runs`` (its source names ``default_output``: chapters 4 and 5)."""
    source = (ROOT / notebook).with_suffix(".py")
    return not source.exists() or "default_output" in source.read_text()


def runs_chapters(nodeid: str) -> bool:
    """Whether a test computes into ``notebooks/runs``: a notebook of nbmake that does, or the book build."""
    path = nodeid.split("::", 1)[0]
    return (path.endswith(".ipynb") and writes_runs(path)) or path in NOTEBOOK_RUNNERS


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scheduling, one test at a time, except that the tests computing into ``notebooks/runs`` are one unit.

    (``--dist loadgroup`` with ``xdist_group`` marks does this job, but pytest-xdist 3.8 marks a group in the
    test's node id, which pytest 9.2 no longer lets it change: the groups were silently ignored.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class ChaptersTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "chapters" if runs_chapters(nodeid) else nodeid

    return ChaptersTogether(config, log)
