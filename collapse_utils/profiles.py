"""Scale profiles: one environment variable chooses how big every chapter runs.

The variable :data:`PROFILE_ENV` (``COLLAPSE_PROFILE``) takes one of

``quick``
    tests, nbmake and CI: every chapter well under a minute on 2 CPU cores;
``book``
    the default, used to build the rendered book (whole book < 15 min on 2 cores);
``paper``
    the scale of Shumailov et al. (needs a GPU for the later chapters).

This module is the only place that reads the variable. Chapters declare their
parameters per profile with :func:`choose` and print them with :func:`report`.
"""

from __future__ import annotations

import os
import platform
from typing import Any, Mapping

PROFILE_ENV = "COLLAPSE_PROFILE"
PROFILES = ("quick", "book", "paper")
DEFAULT_PROFILE = "book"


def current() -> str:
    """Return the active profile name (``quick``, ``book`` or ``paper``).

    Raises
    ------
    ValueError
        If ``COLLAPSE_PROFILE`` is set to anything else.
    """
    value = os.environ.get(PROFILE_ENV, "").strip().lower() or DEFAULT_PROFILE
    if value not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={os.environ.get(PROFILE_ENV)!r} is not a profile; "
            f"choose one of {', '.join(PROFILES)} (default {DEFAULT_PROFILE})"
        )
    return value


def choose(
    quick: Mapping[str, Any],
    book: Mapping[str, Any],
    paper: Mapping[str, Any] | None = None,
    profile: str | None = None,
) -> dict[str, Any]:
    """Pick the parameter set of the active (or the given) profile.

    ``paper`` defaults to ``book`` where a chapter's book scale already is the
    paper's. Every set must have the same keys, so that a chapter cannot use a
    parameter that exists in one profile only.
    """
    paper = book if paper is None else paper
    sets = {"quick": dict(quick), "book": dict(book), "paper": dict(paper)}
    keys = set(sets["book"])
    for name, params in sets.items():
        if set(params) != keys:
            raise ValueError(f"profile {name!r} has keys {sorted(params)}, expected {sorted(keys)}")
    name = current() if profile is None else profile
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {name!r}")
    return sets[name]


def torch_device() -> str:
    """``"cuda"`` when a GPU is available, else ``"cpu"`` (``"cpu"`` if torch is absent)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a requirement
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def report(chapter: str, params: Mapping[str, Any], device: str | None = None) -> str:
    """Print (and return) which profile and parameters a chapter runs with."""
    lines = [
        f"{chapter}: profile '{current()}' ({PROFILE_ENV}; one of {', '.join(PROFILES)})",
        f"  python {platform.python_version()}, {os.cpu_count()} CPU cores"
        + (f", device {device}" if device else ""),
    ]
    width = max((len(k) for k in params), default=0)
    lines += [f"  {k:<{width}} = {v!r}" for k, v in params.items()]
    text = "\n".join(lines)
    print(text)
    return text
