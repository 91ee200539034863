"""Per-cell execution limits: a long computation is not a stall.

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
"""

from __future__ import annotations

import functools
from typing import Any

from sphinx.application import Sphinx

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


def setup(app: Sphinx) -> dict:
    patch_nbclient()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
