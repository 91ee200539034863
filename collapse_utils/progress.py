"""Progress bars: live in a running notebook, silent in the built book.

Every long loop of the book goes through :func:`progress`. In Jupyter or Colab
it is a ``tqdm.auto`` bar; inside the book build (``profiles.building_book()``)
it is disabled, so that the rendered pages carry no progress widgets and no
blank space where hidden widgets would sit.
"""

from __future__ import annotations

from typing import Iterable, TypeVar

from . import profiles

T = TypeVar("T")


def enabled() -> bool:
    """Whether progress bars are shown (not inside the book build)."""
    return not profiles.building_book()


def progress(iterable: Iterable[T], desc: str | None = None, total: int | None = None, leave: bool = False, **kwargs) -> Iterable[T]:
    """Wrap ``iterable`` in a progress bar where someone can watch it, else return it as is."""
    if not enabled():
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=leave, **kwargs)
