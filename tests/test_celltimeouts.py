"""A cell's own execution limit per profile (book/_ext/celltimeouts.py), as the book build applies it."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import celltimeouts  # noqa: E402

sys.path.pop(0)


def test_a_cell_states_its_limit_per_profile():
    """Bugs guarded: a profile's own limit ignored (the long cell killed at the global limit), a profile the
    metadata leaves out given another profile's limit (the hang guard loosened where nobody asked), or a typo in
    the metadata silently keeping the global limit."""
    meta = {"execution_timeout": {"book": 1500, "gpu": 7200}}
    assert celltimeouts.cell_limit(meta, "book") == 1500
    assert celltimeouts.cell_limit(meta, "gpu") == 7200
    assert celltimeouts.cell_limit(meta, "quick") is None
    assert celltimeouts.cell_limit({"execution_timeout": 900}, "quick") == 900
    assert celltimeouts.cell_limit({"tags": ["remove-input"]}, "book") is None
    assert celltimeouts.cell_limit({}, "book") is None and celltimeouts.cell_limit(None, "book") is None
    assert celltimeouts.cell_limit({"execution_timeout": {"paper": -1}}, "paper") == -1
    with pytest.raises(ValueError, match="unknown profiles.*bok"):
        celltimeouts.cell_limit({"execution_timeout": {"bok": 1500}}, "book")
    for bad in (0, -5, 1.5, "600", True):
        with pytest.raises(ValueError, match="positive whole number"):
            celltimeouts.cell_limit({"execution_timeout": bad}, "book")


def test_the_client_uses_the_cells_own_limit_and_the_global_one_elsewhere(monkeypatch):
    """Bugs guarded: the wrapper applied to every cell (each cell of the notebook loses the hang guard), or to
    none (nbclient's own method not wrapped, or wrapped twice so that the wrapper calls itself)."""
    from nbclient import NotebookClient

    celltimeouts.patch_nbclient()
    celltimeouts.patch_nbclient()  # idempotent
    long_cell = nbformat.v4.new_code_cell("pass", metadata={"execution_timeout": {"book": 1500, "paper": -1}})
    plain = nbformat.v4.new_code_cell("pass")
    client = NotebookClient(nbformat.v4.new_notebook(cells=[long_cell, plain]), timeout=300)
    monkeypatch.setenv("COLLAPSE_PROFILE", "book")
    assert client._get_timeout(long_cell) == 1500 and client._get_timeout(plain) == 300
    monkeypatch.setenv("COLLAPSE_PROFILE", "quick")
    assert client._get_timeout(long_cell) == 300
    monkeypatch.setenv("COLLAPSE_PROFILE", "paper")
    assert client._get_timeout(long_cell) is None and client._get_timeout(plain) == 300
    assert client._get_timeout(None) == 300


def test_chapter_4s_experiment_cell_states_its_limit():
    """Bug guarded: the experiment cell's limit lost in a re-sync of the notebook (the book build would kill it at
    the global 300 s on a slow machine), or set on another cell."""
    nb = nbformat.read(ROOT / "notebooks" / "04_language_models.ipynb", as_version=4)
    limited = [c for c in nb.cells if "execution_timeout" in c.metadata]
    assert len(limited) == 1 and "run_chapter(" in limited[0].source
    assert celltimeouts.cell_limit(limited[0].metadata, "book") >= 1200


def test_a_message_whose_wake_up_was_missed_is_read_within_a_slice():
    """Bugs guarded: a wait for the kernel's reply that polls the socket once for the whole limit (a message
    already in the socket, its wake-up missed, waits 300 s or forever: the stall seen under nbmake); a sliced wait
    that gives up after the first slice although its timeout has not passed, or that never gives up."""
    import asyncio
    import time
    from queue import Empty

    from jupyter_client.channels import AsyncZMQSocketChannel

    celltimeouts.patch_polling()
    celltimeouts.patch_polling()  # idempotent: one wrapper, not a wrapper of a wrapper

    class Socket:
        """A socket whose first poll misses its message's wake-up (sleeps to its timeout, or for ever)."""

        def __init__(self, has_message: bool):
            self.polls, self.has_message = 0, has_message

        async def poll(self, timeout_ms=None):
            self.polls += 1
            if self.polls == 1 or not self.has_message:
                await asyncio.sleep(3600 if timeout_ms is None else timeout_ms / 1000)
                return 0
            return 1

    def channel(has_message: bool):
        ch = object.__new__(AsyncZMQSocketChannel)
        ch.socket = Socket(has_message)

        async def recv(**kwargs):
            return {"msg_type": "execute_reply"}

        ch._recv = recv
        return ch

    async def timed(coro):
        start = time.monotonic()
        try:
            return await asyncio.wait_for(coro, 20), time.monotonic() - start
        except Empty:
            return "empty", time.monotonic() - start

    for timeout in (None, 300):
        msg, took = asyncio.run(timed(channel(True).get_msg(timeout=timeout)))
        assert msg == {"msg_type": "execute_reply"} and took < 5, (timeout, took)
    msg, took = asyncio.run(timed(channel(False).get_msg(timeout=2.5)))
    assert msg == "empty" and 2.4 < took < 6
    assert getattr(AsyncZMQSocketChannel.get_msg, "_sliced", False)
