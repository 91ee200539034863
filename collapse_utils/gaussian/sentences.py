"""Sentences computed from the run (shown with ``prose.show`` in the chapter); each is tested on both outcomes."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .. import prose, validate


def _sigma(c: float) -> str:
    return f"{c:g}σ"


def early_collapse_events(half_tail: Mapping[float, int | None], half_var: int | None) -> dict[str, int | None]:
    """The events of the early-collapse figure, ``{description: generation or None}``."""
    events = {f"the mass beyond {_sigma(c)} halves": t for c, t in half_tail.items()}
    events["the variance halves"] = half_var
    return events


def early_collapse_title(half_tail: Mapping[float, int | None], half_var: int | None) -> str:
    """A title that says what the early-collapse figure shows: which tails halve before the variance."""
    before = [c for c, t in half_tail.items() if t is not None and (half_var is None or t < half_var)]
    rest = [c for c in half_tail if c not in before]
    if not before:
        return "the variance halves before any of these tails does"
    text = f"the {'tail' if len(before) == 1 else 'tails'} beyond {prose.join_words([_sigma(c) for c in before])} "
    text += f"{'halves' if len(before) == 1 else 'halve'} before the variance"
    if rest:
        text += f"; beyond {prose.join_words([_sigma(c) for c in rest])}, not"
    return text


def early_collapse_sentence(half_tail: Mapping[float, int | None], half_var: int | None) -> str:
    """One sentence: in which order the median run lost half of each tail and of its variance."""
    return f"In the median run, {prose.order_of_events(early_collapse_events(half_tail, half_var))}."


def within_error_sentence(z_scores: Mapping[str, float], k: float = 3.0) -> str:
    """Whether each simulated curve lies within ``k`` standard errors of its theory.

    ``z_scores`` maps a description to the largest ``|simulation - theory| / SE``
    over the plotted generations.
    """
    k = validate.real("k", k, 0.0, low_open=True)
    good = [name for name, z in z_scores.items() if z <= k]
    bad = [f"{name} (up to {z:.1f} SE)" for name, z in z_scores.items() if z > k]
    if not bad:
        return f"Every simulated curve ({prose.join_words(good)}) lies within {k:g} standard errors of its theory."
    text = f"Outside {k:g} standard errors of its theory: {prose.join_words(bad)}"
    return text + (f"; within them: {prose.join_words(good)}." if good else ".")


def schedules_sentence(final_std: Mapping[str, np.ndarray], level: float = 0.5) -> str:
    """Which schedules keep the median fitted standard deviation above ``level`` at the last generation."""
    level = validate.real("level", level, 0.0, low_open=True)
    above = [name for name, s in final_std.items() if np.median(s) >= level]
    below = [name for name, s in final_std.items() if np.median(s) < level]
    parts = []
    if above:
        parts.append(f"{prose.join_words(above)} {'keeps' if len(above) == 1 else 'keep'} the median σ at or above {level:g}")
    if below:
        parts.append(f"{prose.join_words(below)} {'lets' if len(below) == 1 else 'let'} it fall below {level:g}")
    return "At the last generation, " + "; ".join(parts) + "."


def growth_sentence(curves: Mapping[str, np.ndarray], tolerance: float = 0.05) -> str:
    """Which curves level off (grew by less than ``tolerance``, relative, over the second half) and which keep growing."""
    tolerance = validate.real("tolerance", tolerance, 0.0, low_open=True)
    flat, growing = [], []
    for name, curve in curves.items():
        c = np.asarray(curve, dtype=float)
        mid = c[len(c) // 2]
        rise = (c[-1] - mid) / mid
        (flat if rise < tolerance else growing).append(f"{name} ({100 * rise:+.0f}%)")
    parts = []
    if flat:
        parts.append(f"levels off: {prose.join_words(flat)}")
    if growing:
        parts.append(f"still grows: {prose.join_words(growing)}")
    return "Over the second half of the generations, the expected squared distance " + "; ".join(parts) + "."


def absorption_sentence(frequencies: np.ndarray, probs: np.ndarray, absorbed: int, k: float = 3.0) -> str:
    """Whether the absorbing-state frequencies agree with the original probabilities within ``k`` standard errors."""
    f = np.asarray(frequencies, dtype=float)
    p = np.asarray(probs, dtype=float)
    if absorbed <= 0:
        return "No run was absorbed within the simulated generations."
    se = np.sqrt(p * (1 - p) / absorbed)
    z = np.abs(f - p) / np.where(se > 0, se, np.inf)
    worst = int(np.argmax(z))
    if z[worst] <= k:
        return (
            f"Over {absorbed} absorbed runs, every category became the absorbing state about as often as its "
            f"original probability: all within {k:g} standard errors (the largest gap, {z[worst]:.1f} SE, "
            f"for p = {p[worst]:g})."
        )
    return (
        f"Over {absorbed} absorbed runs, the absorbing-state frequency of the category with p = {p[worst]:g} "
        f"was {f[worst]:.3f}, {z[worst]:.1f} standard errors from its original probability."
    )


def retention_kinds_sentence(final_std: Mapping[str, np.ndarray]) -> str:
    """Compare the median and the 10-90% spread of the final standard deviation between retention kinds."""
    parts = []
    for name, s in final_std.items():
        lo, med, hi = np.quantile(s, [0.1, 0.5, 0.9])
        parts.append(f"{name}: median σ {med:.2f} (10-90% of runs: {lo:.2f}-{hi:.2f})")
    return "At the last generation, " + "; ".join(parts) + "."


