"""Sentences of chapter 3 computed from its runs, whichever way the runs went.

The chapter types no run-dependent outcome into its prose: these helpers say
what happened in the runs at hand (which digit was lost first in each seed,
how many latent dimensions the encoders use, how retention and the kind of
training data order the measures) and the chapter shows them with
:func:`collapse_utils.prose.show`. Each helper is tested on both outcomes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from .. import validate
from ..plotting import first_below
from ..prose import join_words
from .judge import METRICS, NAMES, GenerationMeter
from .recursion import VAERun, stack


def _runs(runs: Sequence[VAERun]) -> list[VAERun]:
    runs = list(runs)
    if not runs or not all(isinstance(r, VAERun) for r in runs):
        raise ValueError("runs must be a non-empty sequence of VAERun")
    return runs


def _digits(ds: Sequence[int], at_once: bool = False) -> str:
    words = join_words([f"the {d}" for d in sorted(ds)])
    if len(ds) > 3:
        return f"{len(ds)} digits{' at once' if at_once else ''} ({words})"
    return words


def _seeds(seeds: Sequence[int]) -> str:
    return ("seed " if len(seeds) == 1 else "seeds ") + join_words([str(s) for s in seeds])


def first_lost(run: VAERun, level: float = 0.01, recursion_only: bool = False) -> tuple[tuple[int, ...], int | None]:
    """The digits that first fell below ``level`` of the samples in ``run``, and the generation (``(), None``: none).

    With ``recursion_only``, digits already below ``level`` at generation 0
    (lost by the first fit, :meth:`VAERun.lost_at_start`) are left out.
    """
    lost = run.lost_by_recursion(level) if recursion_only else run.vanished(level)
    gone = {d: g for d, g in lost.items() if g is not None}
    if not gone:
        return (), None
    g = min(gone.values())
    return tuple(sorted(d for d, t in gone.items() if t == g)), g


def first_lost_sentence(runs: Sequence[VAERun], level: float = 0.01, recursion_only: bool = False) -> str:
    """Which digit was lost first (fell below ``level`` of the samples), seed by seed, in words.

    Says "in every seed" only when every seed agrees; otherwise lists which
    digit went first in which seeds. With ``recursion_only`` only the digits
    that generation 0 still drew count (see :func:`first_lost`), and the
    sentence says so.
    """
    runs = _runs(runs)
    recursion_only = validate.boolean("recursion_only", recursion_only)
    pct = f"{100 * level:g}%"
    firsts = [first_lost(r, level, recursion_only) for r in runs]
    if all(g is None for _, g in firsts):
        what = "No digit that generation 0 drew" if recursion_only else "No digit"
        return (
            f"{what} fell below {pct} of the samples within {runs[0].generations} generations, "
            f"in any of the {len(runs)} seeds."
        )
    scope = "Of the digits that generation 0 drew, t" if recursion_only else "T"
    groups: dict[tuple[int, ...], list[int]] = {}
    for r, (ds, _) in zip(runs, firsts):
        groups.setdefault(ds, []).append(r.seed)
    if len(groups) == 1:
        (ds,) = groups
        when = join_words([str(g) for _, g in firsts])
        word = "digits" if len(ds) > 1 else "digit"
        return (
            f"{'Of the digits that generation 0 drew, i' if recursion_only else 'I'}n every one of the {len(runs)} "
            f"seeds the first {word} to fall below {pct} of the samples "
            f"{'were' if len(ds) > 1 else 'was'} {_digits(ds, at_once=True)} (at generation{'s' if len(runs) > 1 else ''} {when})."
        )
    parts = []
    for ds, seeds in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        what = _digits(ds, at_once=True) if ds else "no digit at all"
        parts.append(f"{what} in {_seeds(seeds)}")
    return f"{scope}he first digit to fall below {pct} of the samples differs between seeds: {join_words(parts)}."


def never_lost_sentence(runs: Sequence[VAERun], level: float = 0.01) -> str:
    """Which digits never fell below ``level`` of the samples, in every seed or in most."""
    runs = _runs(runs)
    pct = f"{100 * level:g}%"
    kept = Counter(d for r in runs for d, g in r.vanished(level).items() if g is None)
    always = [d for d, c in kept.items() if c == len(runs)]
    if always:
        verb = "were" if len(always) > 1 else "was"
        names = _digits(always)
        return f"{names[0].upper()}{names[1:]} {verb} never lost (never below {pct}), in all {len(runs)} seeds."
    if not kept:
        return f"Every digit fell below {pct} of the samples at some generation, in every seed."
    best = max(kept.values())
    top = [d for d, c in kept.items() if c == best]
    return (
        f"No digit stayed above {pct} of the samples in every seed; the most persistent "
        f"{'were' if len(top) > 1 else 'was'} {_digits(top)}, never lost in {best} of {len(runs)} seeds."
    )


def _range(values: np.ndarray, fmt: str) -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    return f"{lo:{fmt}}" if f"{lo:{fmt}}" == f"{hi:{fmt}}" else f"{lo:{fmt}} to {hi:{fmt}}"


def active_dims_sentence(runs: Sequence[VAERun]) -> str:
    """How many latent dimensions the encoders use at the first and last generation (median and range)."""
    runs = _runs(runs)
    dims = stack(runs, "active_dims")
    latent = runs[0].config.latent_dim
    first, last = np.median(dims[:, 0]), np.median(dims[:, -1])
    trend = "fewer than" if last < first else ("more than" if last > first else "as many as")
    return (
        f"The encoders use a median of {first:g} of {latent} latent dimensions at generation 0 "
        f"(across the {len(runs)} seeds: {_range(dims[:, 0], 'g')}) and {last:g} at generation {runs[0].generations} "
        f"({_range(dims[:, -1], 'g')}): {trend} at the start."
    )


def trajectory_sentence(runs: Sequence[VAERun], metric: str, fmt: str = ".2f") -> str:
    """The median of ``metric`` over seeds at generation 0, its extreme on the way, and at the last generation."""
    runs = _runs(runs)
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    med = np.median(stack(runs, metric), axis=0)
    g_last = len(med) - 1
    lo, hi = int(np.argmin(med)), int(np.argmax(med))
    text = f"the median {NAMES[metric]} goes from {med[0]:{fmt}} at generation 0 to {med[-1]:{fmt}} at generation {g_last}"
    if 0 < lo < g_last:
        text += f", through a low of {med[lo]:{fmt}} at generation {lo}"
    if 0 < hi < g_last:
        text += f", through a high of {med[hi]:{fmt}} at generation {hi}"
    return text[0].upper() + text[1:] + "."


def ordering_sentence(
    groups: Mapping[str, Sequence[VAERun]], metric: str, higher_is_closer: bool, fmt: str = ".2f"
) -> str:
    """The median of ``metric`` at the last generation for each group, and whether they come in the groups' order.

    ``groups`` maps a label to runs, in the order that a hypothesis expects
    (for example retention 0, 0.1, 0.5: closest to the real images last).
    ``higher_is_closer`` says which direction of ``metric`` is closer to real images.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    higher_is_closer = validate.boolean("higher_is_closer", higher_is_closer)
    if len(groups) < 2:
        raise ValueError(f"groups must hold at least two groups of runs, got {len(groups)}")
    finals = {label: float(np.median(stack(_runs(runs), metric)[:, -1])) for label, runs in groups.items()}
    g_last = min(r.generations for runs in groups.values() for r in runs)
    shown = [float(f"{v:{fmt}}") for v in finals.values()]  # compare what the reader sees
    steps = np.diff(shown) if higher_is_closer else -np.diff(shown)
    listing = join_words([f"{v:{fmt}} ({label})" for label, v in finals.items()])
    head = f"At generation {g_last} the median {NAMES[metric]} is {listing}"
    labels = list(finals)
    if np.all(steps > 0):
        return f"{head}: each step from {labels[0]} to {labels[-1]} brings the samples closer to the real images."
    if np.all(steps >= 0) and np.any(steps > 0):
        level = join_words([f"{labels[i]} and {labels[i + 1]}" for i in np.flatnonzero(steps == 0)], "; ")
        return (
            f"{head}: from {labels[0]} to {labels[-1]} the samples come closer to the real images or stay level "
            f"({level} are level at this precision)."
        )
    if np.all(steps < 0):
        return f"{head}: here the order is reversed, each step from {labels[0]} to {labels[-1]} moves them further away."
    if np.all(steps == 0):
        return f"{head}: at this precision the groups are level."
    return f"{head}: at this scale they are not ordered from {labels[0]} to {labels[-1]}."


def first_generation_below(runs: Sequence[VAERun], metric: str, fraction: float) -> int | None:
    """First generation at which the median of ``metric`` falls below ``fraction`` of its generation-0 value."""
    fraction = validate.real("fraction", fraction, 0.0, 1.0, low_open=True, high_open=True)
    med = np.median(stack(_runs(runs), metric), axis=0)
    return first_below(med, fraction * med[0])


def decode_sentence(groups: Mapping[str, Sequence[VAERun]], metric: str = "feature_var", fraction: float = 0.5) -> str:
    """Which of two kinds of training data loses ``metric`` (default: variety) faster, on the runs' medians.

    ``groups`` maps two labels (``"decoder means"``, ``"Bernoulli draws"``) to
    runs; the sentence says when the median of ``metric`` first falls below
    ``fraction`` of its generation-0 value under each, whichever went first.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    if len(groups) != 2:
        raise ValueError(f"groups must hold two groups of runs, got {len(groups)}")
    (a, ra), (b, rb) = groups.items()
    ta, tb = first_generation_below(ra, metric, fraction), first_generation_below(rb, metric, fraction)
    g_last = min(r.generations for runs in groups.values() for r in runs)
    what = f"the median {NAMES[metric]} falls below {fraction:.0%} of its generation-0 value"
    if ta is None and tb is None:
        stays = what.replace("falls below", "stays above")
        return f"Within {g_last} generations {stays}, training on {a} as on {b}."
    if ta is None or tb is None:
        (first, t), other = ((a, ta), b) if tb is None else ((b, tb), a)
        return (
            f"Trained on {first}, {what} at generation {t}; trained on {other}, it stays above that level "
            f"for all {g_last} generations."
        )
    if ta == tb:
        return f"Trained on {a} as on {b}, {what} at the same generation, {ta}."
    (first, t1), (second, t2) = sorted([(a, ta), (b, tb)], key=lambda p: p[1])
    return f"Trained on {first}, {what} at generation {t1}; trained on {second}, only at generation {t2}."


def binarise(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One Bernoulli draw per pixel of grey-level images: what a perfect model's samples would look like."""
    x = np.asarray(images, dtype=np.float32)
    return (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)


def binarisation_sentence(meter: GenerationMeter, images: np.ndarray, runs: Sequence[VAERun], seed: int) -> str:
    """How far one Bernoulli draw per pixel moves the real images: in pixels, and in the judge's features.

    Generation 1 trains on binary images while generation 0 trained on the
    real grey levels. The sentence sizes that shift: the share of grey pixels
    (neither 0 nor 1) in the real images, the mean change of a pixel, and the
    Fréchet distance of the binarised images to real images, against the
    real-vs-real floor and against generation 0's own distance (median over ``runs``).
    """
    runs = _runs(runs)
    seed = validate.integer("seed", seed, 0)
    x = np.asarray(images, dtype=np.float32)
    binary = binarise(x, np.random.default_rng(seed))
    floor = meter.measure_images(x)["frechet"]
    moved = meter.measure_images(binary)["frechet"]
    gen0 = float(np.median(stack(runs, "frechet")[:, 0]))
    grey = float(np.mean((x > 0) & (x < 1)))
    change = float(np.abs(binary - x).mean())
    return (
        f"{100 * grey:.0f}% of the pixels of the real training images are grey (neither 0 nor 1), and one Bernoulli "
        f"draw per pixel moves a pixel by {change:.2f} on average (on the scale 0 to 1). In the judge's features the "
        f"binarised images lie at a Fréchet distance of {moved:.1f} from real images: {moved / floor:.1f} times the "
        f"real-against-real floor ({floor:.1f}) and {moved / gen0:.2f} times the distance of generation 0's own "
        f"samples ({gen0:.1f})."
    )
