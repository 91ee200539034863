"""Scale profiles and the book's seed: the only module that reads the environment.

The variable :data:`PROFILE_ENV` (``COLLAPSE_PROFILE``) takes one of

``quick``
    tests, nbmake and CI: every chapter well under a minute on 2 CPU cores;
``book``
    the rendered book (whole book in minutes on 2 CPU cores); the default on a
    machine without a CUDA GPU;
``gpu``
    the real pieces (MNIST, OPT-125m on wikitext-2) sized so that each chapter
    fits one free Colab GPU session (a T4); the default when a CUDA GPU is present;
``paper``
    the scale of Shumailov et al. (hours on a GPU for the later chapters).

When the variable is unset, :func:`current` picks ``gpu`` if torch sees a CUDA
device and ``book`` otherwise; :func:`reason` says which and why.

The variable :data:`SEED_ENV` (``COLLAPSE_SEED``, an integer, default 0) shifts
every seed of the book: chapters write ``profiles.seed(3)`` where they mean
"seed 3", so that the whole book can be rebuilt at another seed and every
sentence computed from the run still agrees with its output.

The variable :data:`BUILD_ENV` (``COLLAPSE_BOOK_BUILD``) is set by the book build
scripts; :func:`building_book` tells helpers (progress bars) that no one is
watching the notebook live.

Chapters declare their parameters per profile with :func:`choose` and print
them with :func:`report`.
"""

from __future__ import annotations

import os
import platform
from typing import Any, Mapping

PROFILE_ENV = "COLLAPSE_PROFILE"
SEED_ENV = "COLLAPSE_SEED"
BUILD_ENV = "COLLAPSE_BOOK_BUILD"
PROFILES = ("quick", "book", "gpu", "paper")
DEFAULT_PROFILE = "book"  # without a CUDA device
GPU_DEFAULT_PROFILE = "gpu"  # with a CUDA device

_TRUE = ("1", "true", "yes", "on")


def cuda_available() -> bool:
    """Whether torch sees a CUDA device (``False`` if torch is absent)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a requirement
        return False
    return bool(torch.cuda.is_available())


def _requested() -> str:
    return os.environ.get(PROFILE_ENV, "").strip().lower()


def current() -> str:
    """Return the active profile name (one of :data:`PROFILES`).

    ``COLLAPSE_PROFILE`` wins when set; otherwise ``gpu`` with a CUDA device and
    ``book`` without one.

    Raises
    ------
    ValueError
        If ``COLLAPSE_PROFILE`` is set to anything else.
    """
    value = _requested()
    if not value:
        return GPU_DEFAULT_PROFILE if cuda_available() else DEFAULT_PROFILE
    if value not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={os.environ.get(PROFILE_ENV)!r} is not a profile; "
            f"choose one of {', '.join(PROFILES)} (unset: {GPU_DEFAULT_PROFILE} with a CUDA GPU, "
            f"else {DEFAULT_PROFILE})"
        )
    return value


def reason() -> str:
    """One line: which profile is active, why, and how to choose another."""
    name = current()
    how = f"set {PROFILE_ENV} to one of {', '.join(PROFILES)} to choose another"
    if _requested():
        return f"profile '{name}', set by {PROFILE_ENV} ({how})"
    why = "a CUDA GPU is present" if name == GPU_DEFAULT_PROFILE else "no CUDA GPU is present"
    return f"profile '{name}', chosen because {why} and {PROFILE_ENV} is unset ({how})"


def seed_offset() -> int:
    """The integer in ``COLLAPSE_SEED`` (0 when unset).

    Raises
    ------
    ValueError
        If the variable is set to something that is not an integer >= 0.
    """
    text = os.environ.get(SEED_ENV, "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{SEED_ENV} must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise ValueError(f"{SEED_ENV} must be an integer >= 0, got {text!r}")
    return value


def seed(base: int = 0) -> int:
    """The book's seed number ``base``, shifted by ``COLLAPSE_SEED``.

    Seeds of different chapters and uses stay distinct across offsets because
    the offset is multiplied by a large prime: ``seed(b)`` is
    ``b + 1_000_003 * offset``.
    """
    if isinstance(base, bool) or not isinstance(base, int) or base < 0:
        raise ValueError(f"base must be an integer >= 0, got {base!r}")
    return base + 1_000_003 * seed_offset()


def building_book() -> bool:
    """Whether this process runs inside the book build (``COLLAPSE_BOOK_BUILD`` set)."""
    return os.environ.get(BUILD_ENV, "").strip().lower() in _TRUE


def choose(
    quick: Mapping[str, Any],
    book: Mapping[str, Any],
    paper: Mapping[str, Any] | None = None,
    gpu: Mapping[str, Any] | None = None,
    profile: str | None = None,
) -> dict[str, Any]:
    """Pick the parameter set of the active (or the given) profile.

    ``paper`` defaults to ``book`` where a chapter's book scale already is the
    paper's, and ``gpu`` defaults to ``paper``. Every set must have the same
    keys, so that a chapter cannot use a parameter that exists in one profile only.
    """
    paper = book if paper is None else paper
    gpu = paper if gpu is None else gpu
    sets = {"quick": dict(quick), "book": dict(book), "gpu": dict(gpu), "paper": dict(paper)}
    keys = set(sets["book"])
    for name, params in sets.items():
        if set(params) != keys:
            raise ValueError(f"profile {name!r} has keys {sorted(params)}, expected {sorted(keys)}")
    name = current() if profile is None else profile
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {name!r}")
    return sets[name]


def torch_device() -> str:
    """``"cuda"`` when a GPU is available, else ``"cpu"``."""
    return "cuda" if cuda_available() else "cpu"


def report(chapter: str, params: Mapping[str, Any], device: str | None = None) -> str:
    """Print (and return) which profile and parameters a chapter runs with, and why."""
    offset = seed_offset()
    lines = [
        f"{chapter}: {reason()}",
        f"  python {platform.python_version()}, {os.cpu_count()} CPU cores"
        + (f", device {device}" if device else "")
        + (f", seeds shifted by {SEED_ENV}={offset}" if offset else ""),
    ]
    width = max((len(k) for k in params), default=0)
    lines += [f"  {k:<{width}} = {v!r}" for k, v in params.items()]
    text = "\n".join(lines)
    print(text)
    return text
