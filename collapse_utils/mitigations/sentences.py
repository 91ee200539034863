"""The chapter's sentences, computed from its runs (shown with :func:`collapse_utils.prose.show`).

Every sentence states what happened at this seed and profile, whichever way it
went; each helper is tested on both outcomes.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .. import prose
from .notes import Note, verdict_counts
from .results import BAND, RISE, FamilyResult, check_band, check_results
from .strategies import SHARED
from .theory import exact_cheapest_share, mean_error


def _x(value: float) -> str:
    return prose.number(value, 2 if value < 10 else 0)


def strategies_sentence(result: FamilyResult, band: float = BAND, rise: float = RISE) -> str:
    """Which compared strategies kept the family within the band after its last generation, and which did not."""
    band = check_band(band)
    inside, outside = [], []
    for s in result.compared():
        trend = ", still rising" if result.rising(s, rise) else ""
        text = f"{s.label} ({_x(result.final(s))}{trend})"
        (inside if result.within_band(s, band) else outside).append(text)
    head = f"After {result.generations} generations of the {result.name} (median distance as a multiple of generation 0's), "
    parts = []
    if inside:
        parts.append(f"{prose.join_words(inside)} stayed within {band:g} times generation 0's distance at every generation")
    else:
        parts.append(f"no strategy stayed within {band:g} times generation 0's distance at every generation")
    if outside:
        parts.append(f"{prose.join_words(outside)} left that band")
    return head + "; ".join(parts) + "."


def phase_sentence(result: FamilyResult, band: float = BAND) -> str:
    """The cheapest share of fresh and of fixed real data that kept the family within the band, compared."""
    band = check_band(band)
    cheapest = {kind: result.cheapest_share(kind, band) for kind in SHARED}

    def say(kind: str) -> str:
        s = cheapest[kind]
        return f"no share of {kind} real data on the grid" if s is None else f"{prose.percent(s)} {kind} real data"

    grid = prose.join_words([prose.percent(s) for s in result.shares])
    text = (
        f"Of the shares run for the {result.name} ({grid}), the cheapest that kept it within {band:g} times "
        f"generation 0's distance at every generation was {say('fresh')}, and {say('fixed')}"
    )
    f, x = cheapest["fresh"], cheapest["fixed"]
    if f is not None and (x is None or f < x):
        text += ": fresh real data did it with less."
    elif f is not None and f == x:
        text += ": fresh and fixed real data needed the same share."
    elif x is not None and (f is None or x < f):
        text += ": here fixed real data did it with less."
    else:
        text += "."
    return text


def gaussian_theory_sentence(result: FamilyResult, band: float = BAND, k: float = 3.0) -> str:
    """The Gaussian's exact theory against its runs: the fitted mean's error, and the cheapest share of real data.

    The first part compares the simulated mean over runs of the fitted mean's
    squared error at the last generation with its exact expectation, in standard
    errors; the second, the exact cheapest share (the fitted mean's expected error
    within the band) with the run's cheapest share on its grid: they agree when
    the run's share is within one grid step of the exact one.
    """
    if result.family != "gaussian":
        raise ValueError("result must be the Gaussian's FamilyResult")
    band = check_band(band)
    n, G = int(result.extra["n"]), result.generations
    z = {}
    for s in (result.get("replace"), result.get("accumulate"), result.get("fresh", result.compare_share),
              result.get("fixed", result.compare_share)):  # fmt: skip
        V, _ = mean_error(n, G, s.name, s.share)
        mean, se = result.extra["mean_sq"][s]
        z[s.label] = abs(mean[-1] - V[-1]) / se[-1]
    far = [f"{name} ({prose.number(v, 1)} SE)" for name, v in z.items() if v > k]
    if far:
        first = f"At generation {G}, the simulated error of the fitted mean is more than {k:g} standard errors from its exact expectation for {prose.join_words(far)}"
    else:
        first = (
            f"At generation {G}, the simulated error of the fitted mean lies within {k:g} standard errors of its exact "
            f"expectation under every strategy drawn (the largest gap {prose.number(max(z.values()), 1)} SE)"
        )
    step = float(np.max(np.diff(result.shares)))
    parts = []
    for kind in SHARED:
        exact = exact_cheapest_share(n, G, kind, band)
        run = result.cheapest_share(kind, band)
        if exact is None or run is None:
            agree = exact is None and run is None
        else:
            agree = abs(run - exact) <= step + 1e-9
        say_exact = "no share" if exact is None else prose.percent(exact, 1)
        say_run = "none of its grid" if run is None else prose.percent(run)
        parts.append(
            f"with {kind} real data the exact boundary is at {say_exact} and the run's cheapest share {say_run} "
            f"({'within' if agree else 'more than'} one grid step{'' if agree else ' apart'})"
        )
    return f"{first}. For the band, {'; '.join(parts)}."


def takeaway(results: Sequence[FamilyResult], band: float = BAND) -> str:
    """The chapter's two-line takeaway: which strategy drifted furthest, and what kept the families near the truth."""
    items = check_results(results)
    band = check_band(band)
    count = len(items)
    worst = {}
    for r in items:
        finals = {s.label: r.final(s) for s in r.compared()}
        worst[r.name] = max(finals, key=finals.get)
    rep = [name for name, label in worst.items() if label == "replace"]
    acc = [r.name for r in items if r.within_band(r.get("accumulate"), band)]
    share = items[0].compare_share
    fresh = [r.name for r in items if r.within_band(r.get("fresh", r.compare_share), band)]

    def few(names: list[str]) -> str:
        if not names:
            return "none of them"
        return "all of them" if len(names) == count else prose.join_words(names)

    if len(rep) == count:
        first = f"**Replacing the data drifted furthest from the truth in every family.**"
    elif rep:
        first = f"**Replacing the data drifted furthest from the truth for the {prose.join_words(rep)}.**"
    else:
        first = "**Replacing the data was never the furthest from the truth here.**"
    second = (
        f"Accumulating all data kept {few(acc)} within {band:g} times generation 0's distance at every generation; "
        f"{prose.percent(share)} fresh real data each generation kept {few(fresh)}."
    )
    return f"{first} {second}"


def cheapest_sentence(results: Sequence[FamilyResult], band: float = BAND) -> str:
    """The cheapest share of fresh real data that kept each family within the band."""
    items = check_results(results)
    band = check_band(band)
    parts = []
    for r in items:
        s = r.cheapest_share("fresh", band)
        parts.append(f"{r.name} {'none of its grid' if s is None else prose.percent(s)}")
    return (
        f"The cheapest share of fresh real data that kept each family within {band:g} times generation 0's "
        f"distance: {prose.join_words(parts)}."
    )


def findings(results: Sequence[FamilyResult], notes: Mapping[str, list[Note]], band: float = BAND) -> list[str]:
    """The chapter's computed findings, one per family and one for the theory (for :func:`prose.findings`)."""
    items = check_results(results)
    band = check_band(band)
    out = []
    for r in items:
        finals = {s.label: r.final(s) for s in r.compared()}
        best = min(finals, key=finals.get)
        worst = max(finals, key=finals.get)
        out.append(
            f"{r.name} ({r.generations} generations): closest to the truth at the end, {best} "
            f"({_x(finals[best])} times generation 0's distance); furthest, {worst} ({_x(finals[worst])})."
        )
    counts = {"agrees": 0, "partly": 0, "differs": 0, None: 0}
    for family_notes in notes.values():
        for key, value in verdict_counts(family_notes).items():
            counts[key] += value
    judged = counts["agrees"] + counts["partly"] + counts["differs"]
    out.append(
        f"Of {judged} predictions of follow-up work that apply to these families, this run agrees with "
        f"{counts['agrees']}, in part with {counts['partly']} and not with {counts['differs']}."
    )
    out.append(cheapest_sentence(items, band))
    return out
