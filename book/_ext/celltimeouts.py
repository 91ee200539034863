"""Per-cell execution limits (a long computation is not a stall), and no wait on a message already there.

``_config.yml`` sets one limit for every cell (``execute.timeout``): a cell that
hangs fails within minutes, naming its notebook and its cell. A few cells do long,
known work (chapter 4's experiments). Such a cell states its own limit per scale
profile in its metadata, and every other cell keeps the global one::

    # %% tags=["remove-input"] execution_timeout={"book": 1500, "gpu": 7200}

A number applies at every profile; a mapping names profiles
(``collapse_utils.profiles.PROFILES``), and a profile it leaves out keeps the global
limit. ``-1`` switches the limit off (only for a profile nobody builds the book
with, such as ``paper``). CONTRIBUTING ("The build never fails") sizes the limits:
on an idle development machine no cell uses more than half of its own.

nbclient has the hook for this (``NotebookClient.timeout_func``), but myst-nb
executes notebooks through jupyter-cache, which does not pass it on; this extension
wraps ``NotebookClient._get_timeout``, the one place that hook is read, so that a
cell's own limit wins where it states one.

**Waits in slices.** nbclient waits for a cell's reply with one poll of the kernel
channel's zmq socket for up to the whole limit, and for its outputs with no limit at
all. A zmq socket signals new messages through an edge-triggered descriptor: when the
event loop misses that edge, the message sits in the socket while the wait goes on,
and the book stalls with the kernel idle and nbclient idle (seen in the quick build
and under nbmake: a second client's request to the idle kernel freed it).
:func:`patch_polling` makes every wait of jupyter_client's asyncio channels a series
of polls of at most :data:`SLICE` seconds; each poll first asks the socket whether a
message is ready (``zmq.EVENTS``), so a missed edge costs at most a slice. The
root ``conftest.py`` applies it under pytest (nbmake) too.
"""

from __future__ import annotations

import functools
from typing import Any

from sphinx.application import Sphinx

SLICE = 1.0  # seconds: the longest a message that is already in the socket can wait to be read
KEY = "execution_timeout"  # myst-nb's name for the global limit (nbformat reserves a cell's "execution")


def cell_limit(metadata: Any, profile: str) -> int | None:
    """The limit a cell's metadata states for ``profile``, or ``None`` to keep the global one.

    Raises ``ValueError`` naming the problem when the metadata is malformed (not a
    whole number of seconds, or a profile that does not exist), so that a typo fails
    the build instead of silently keeping the global limit.
    """
    from collapse_utils.profiles import PROFILES

    spec = (metadata or {}).get(KEY)
    if spec is None:
        return None
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(PROFILES))
        if unknown:
            raise ValueError(f"execution_timeout names unknown profiles {unknown}; profiles are {list(PROFILES)}")
        if profile not in spec:
            return None
        spec = spec[profile]
    if isinstance(spec, bool) or not isinstance(spec, int) or (spec <= 0 and spec != -1):
        raise ValueError(f"execution_timeout must be a positive whole number of seconds or -1, got {spec!r}")
    return spec


def patch_nbclient() -> None:
    """Make ``NotebookClient`` read a cell's own limit (idempotent)."""
    from nbclient import NotebookClient

    original = NotebookClient._get_timeout
    if getattr(original, "_cell_limits", False):
        return

    @functools.wraps(original)
    def get_timeout(self: NotebookClient, cell: Any) -> int | None:
        if cell is not None:
            from collapse_utils import profiles

            limit = cell_limit(cell.get("metadata"), profiles.current())
            if limit is not None:
                return None if limit == -1 else limit
        return original(self, cell)

    get_timeout._cell_limits = True  # type: ignore[attr-defined]
    NotebookClient._get_timeout = get_timeout


def patch_polling(slice_seconds: float = SLICE) -> None:
    """Make jupyter_client's asyncio channels wait in polls of at most ``slice_seconds`` (idempotent).

    ``get_msg(timeout)`` keeps its meaning (``Empty`` after ``timeout`` seconds,
    no limit with ``None``); only the single long poll becomes several short ones.
    """
    import time
    from queue import Empty

    from jupyter_client.channels import AsyncZMQSocketChannel

    original = AsyncZMQSocketChannel.get_msg
    if getattr(original, "_sliced", False):
        return

    @functools.wraps(original)
    async def get_msg(self: Any, timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await original(self, timeout=slice_seconds if left is None else min(left, slice_seconds))
            except Empty:
                if left is not None and left <= slice_seconds:
                    raise

    get_msg._sliced = True  # type: ignore[attr-defined]
    AsyncZMQSocketChannel.get_msg = get_msg


def setup(app: Sphinx) -> dict:
    patch_nbclient()
    patch_polling()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
