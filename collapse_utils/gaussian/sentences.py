"""Sentences computed from the run (shown with ``prose.show`` in the chapter); each is tested on both
outcomes."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .. import prose, validate


def _sigma(c: float) -> str:
    return f"{c:g}σ"


def early_collapse_events(
    half_tail: Mapping[float, int | None], half_var: int | None
) -> dict[str, int | None]:
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
    tails = prose.join_words([_sigma(c) for c in before])
    text = f"the {'tail' if len(before) == 1 else 'tails'} beyond {tails} "
    text += f"{'halves' if len(before) == 1 else 'halve'} before the variance"
    if rest:
        text += f"; beyond {prose.join_words([_sigma(c) for c in rest])}, not"
    return text


def early_collapse_sentence(half_tail: Mapping[float, int | None], half_var: int | None) -> str:
    """One sentence: in which order the median run lost half of each tail and of its variance."""
    return f"In the median run, {prose.order_of_events(early_collapse_events(half_tail, half_var))}."


def within_error_sentence(z_scores: Mapping[str, float], k: float = 3.0, points: int | None = None) -> str:
    """Whether each simulated curve lies within ``k`` standard errors of its theory.

    ``z_scores`` maps a description to the largest ``|simulation - theory| / SE``
    over the plotted generations. With ``points`` (how many generations that
    maximum ran over) the sentence says that ``k`` is the level for that many
    points (:func:`~collapse_utils.gaussian.measures.max_z_level`).
    """
    k = validate.real("k", k, 0.0, low_open=True)
    level = f"{k:.1f}" if points else f"{k:g}"
    where = f" at every generation compared (up to {points:,})" if points else ""
    good = [name for name, z in z_scores.items() if z <= k]
    bad = [f"{name} (up to {z:.1f} SE)" for name, z in z_scores.items() if z > k]
    note = (
        f"; {level} is the level that a correct simulation's largest gap over {points:,} generations "
        "exceeds with probability below 1%"
        if points
        else ""
    )
    if not bad:
        return (
            f"Every simulated curve ({prose.join_words(good)}) lies within {level} standard errors of its "
            f"theory{where}{note}."
        )
    somewhere = " somewhere" if points else ""
    text = f"Outside {level} standard errors of its theory{somewhere}: {prose.join_words(bad)}"
    return text + (f"; within them: {prose.join_words(good)}" if good else "") + f"{note}."


def schedules_sentence(final_std: Mapping[str, np.ndarray], level: float = 0.5) -> str:
    """Which schedules keep the median fitted standard deviation above ``level`` at the last generation."""
    level = validate.real("level", level, 0.0, low_open=True)
    above = [name for name, s in final_std.items() if np.median(s) >= level]
    below = [name for name, s in final_std.items() if np.median(s) < level]
    parts = []
    if above:
        parts.append(
            f"{prose.join_words(above)} {'keeps' if len(above) == 1 else 'keep'} the median σ at or above "
            f"{level:g}"
        )
    if below:
        parts.append(
            f"{prose.join_words(below)} {'lets' if len(below) == 1 else 'let'} it fall below {level:g}"
        )
    return "At the last generation, " + "; ".join(parts) + "."


def rise(curve: np.ndarray) -> float:
    """Relative change of a curve over the second half of its points: ``c[-1] / c[len // 2] - 1``."""
    c = np.asarray(curve, dtype=float)
    mid = c[len(c) // 2]
    return float((c[-1] - mid) / mid)


def growth_sentence(
    curves: Mapping[str, np.ndarray], tolerance: float = 0.05, subject: str = "the expected squared distance"
) -> str:
    """Which curves level off (grew by less than ``tolerance``, relative, over the second half) and which keep
    growing."""
    tolerance = validate.real("tolerance", tolerance, 0.0, low_open=True)
    flat, growing = [], []
    for name, curve in curves.items():
        r = rise(curve)
        (flat if r < tolerance else growing).append(f"{name} ({prose.percent(r, signed=True)})")
    parts = []
    if flat:
        parts.append(f"levels off for {prose.join_words(flat)}")
    if growing:
        parts.append(f"still grows for {prose.join_words(growing)}")
    return f"Over the second half of the generations, {subject} " + "; it ".join(parts) + "."


def absorption_sentence(frequencies: np.ndarray, probs: np.ndarray, absorbed: int, k: float = 3.0) -> str:
    """Whether the absorbing-state frequencies agree with the original probabilities within ``k`` standard
    errors."""
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


# ---------------------------------------------------------------------------
# expected against typical: the sentences of the opening figure and of the theorem


def scientific(x: float, digits: int = 1) -> str:
    """A number for a sentence: ``prose.number`` from 0.01 to 100,000, else ``$a \\times 10^{b}$`` (math)."""
    x = float(x)
    if x != x:
        return "n/a"
    if x == 0 or 0.01 <= abs(x) < 1e5:
        return prose.number(x, digits if abs(x) < 100 else 0)
    exponent = int(np.floor(np.log10(abs(x))))
    mantissa = x / 10.0**exponent
    if round(mantissa, digits) == 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    head = "" if round(mantissa, digits) == 1 else f"{prose.number(mantissa, digits)} \\times "
    return f"${head}10^{{{exponent}}}$"


def levels_off(curve: np.ndarray, tolerance: float = 0.05) -> bool:
    """Whether a curve grew by less than ``tolerance`` (relative) over the second half of its points."""
    return rise(curve) < validate.real("tolerance", tolerance, 0.0, low_open=True)


def takeaway(
    n: int,
    runs: int,
    collapsed: np.ndarray,
    typical_w2: np.ndarray,
    expected_w2: np.ndarray,
    threshold: float = 0.1,
) -> str:
    """The chapter's two-line takeaway, from the opening figure's curves (one value per generation 0..T).

    ``collapsed``: share of runs with σ below ``threshold``; ``typical_w2``: the
    median run's squared Wasserstein-2 distance from the truth; ``expected_w2``:
    its exact expectation. The first line says how many runs collapsed and when
    the median run did; the second how the typical distance and the expected one
    moved over the second half of the generations, and names rare runs as the
    reason only where the two part ways.
    """
    collapsed = np.asarray(collapsed, dtype=float)
    last = collapsed.size - 1
    half = np.flatnonzero(collapsed >= 0.5)
    when = (
        f"the median run's σ fell below {threshold:g} at generation {int(half[0])}"
        if half.size
        else f"the median run's σ was still above {threshold:g} at the last generation"
    )
    share = float(collapsed[-1])
    verb = (
        "collapses"
        if share >= 0.5
        else "collapses in some runs, not yet in most"
        if share > 0
        else "has not collapsed in any run yet"
    )
    first = (
        f"**Fitted to n = {n} samples of its own previous fit, a Gaussian {verb}:** {when}; by generation "
        f"{last}, {prose.percent(share)} of the {runs:,} runs had σ below {threshold:g}."
    )
    typical_flat, expected_flat = levels_off(typical_w2), levels_off(expected_w2)
    typical = (
        f"levelled off near {scientific(typical_w2[-1], 2)}"
        if typical_flat
        else f"still grew ({prose.percent(rise(typical_w2), signed=True)} over the second half, "
        f"to {scientific(typical_w2[-1], 2)})"
    )
    expected = (
        f"grew to {scientific(expected_w2[-1], 1)} ({prose.percent(rise(expected_w2), signed=True)} over "
        "the second half)"
        if not expected_flat
        else f"levelled off too, near {scientific(expected_w2[-1], 2)}"
    )
    second = f"The median run's squared distance from the truth {typical}, while its expectation {expected}"
    if typical_flat and not expected_flat:
        second += ": the expectation is carried by ever rarer runs, not by a typical one."
    else:
        second += "."
    return first + "  \n" + second


def carriers_sentence(generation: int, fraction: float, runs: int) -> str:
    """How rare the runs are that hold half of the expected variance at ``generation``, against ``runs``."""
    fraction = validate.probability("fraction", fraction)
    expected = fraction * runs
    rarity = (
        prose.percent(fraction, 1) + " of runs"
        if fraction >= 0.001
        else f"one run in {scientific(1 / fraction, 0)}"
    )
    text = (
        f"At generation {generation}, about half of the expected variance $\\mathbb E[\\sigma_t^2] = 1$ "
        "sits in "
        f"runs whose variance is far above the median: {rarity}. The {runs:,} runs simulated here hold "
        f"{scientific(expected, 1)} of them on average"
    )
    if expected < 0.5:
        return text + ", so their mean over runs cannot show that expectation."
    return text + ", enough for their mean over runs to show it."


def gap_explanation(name: str, z: float, k: float, below: bool, expected_carriers: float | None) -> str:
    """Why a simulated curve is (or is not) off its theory, chosen from the computed verdict.

    ``z``: its largest gap in standard errors, ``k``: the level it is judged by,
    ``below``: whether the simulation lies below the theory there,
    ``expected_carriers``: how many of the runs that carry the theory's
    expectation the simulation is expected to hold (``None`` where the
    expectation is not carried by rare runs, as for the mean of a log).
    """
    k = validate.real("k", k, 0.0, low_open=True)
    if z <= k:
        return f"{name[:1].upper() + name[1:]} agrees with its theory: nothing to explain."
    if below and expected_carriers is not None and expected_carriers < 0.5:
        return (
            f"{name[:1].upper() + name[1:]} falls below its theory: at the late generations that "
            "expectation is "
            "held by runs so rare that the simulation is expected to contain "
            f"{scientific(expected_carriers, 1)} of "
            "them. A finite number of runs cannot show an expectation carried by rare runs (and the standard "
            "errors, computed from the same runs, miss them too)."
        )
    return (
        f"{name[:1].upper() + name[1:]} is off its theory by {z:.1f} standard errors, and rare runs do not "
        "explain "
        "it here (the runs that carry that expectation are common enough, or the simulation lies above the "
        "theory): this is a gap the chapter does not explain, worth a look at the simulation."
    )


def gap_explanations(
    gaps: Mapping[str, tuple[float, int, bool]], k: float, carriers: Mapping[str, np.ndarray | None]
) -> str:
    """One explanation per curve off its theory (:func:`gap_explanation`); ``""`` if none is.

    ``gaps`` maps a curve to :func:`~collapse_utils.gaussian.measures.largest_gap`'s
    ``(z, index, below)``; ``carriers`` maps it to the expected number of
    carrier runs at each index (``None`` where no rare runs carry it).
    """
    k = validate.real("k", k, 0.0, low_open=True)
    off = [(name, z, i, below) for name, (z, i, below) in gaps.items() if z > k]
    if not off:
        return ""
    return " ".join(
        gap_explanation(name, z, k, below, None if carriers.get(name) is None else float(carriers[name][i]))
        for name, z, i, below in off
    )


def typical_sentence(
    generation: int, expected: float, mean_runs: float, median: float, q90: float, runs: int
) -> str:
    """The squared distance from the truth at ``generation``: its exact expectation, the mean over runs, the
    typical run."""
    return (
        f"At generation {generation}, the exact $\\mathbb E[W_2^2]$ is {scientific(expected, 2)}; the mean "
        "over "
        f"{runs:,} simulated runs is {scientific(mean_runs, 2)}; the median run's $W_2^2$ is "
        f"{scientific(median, 2)}, and 90% of runs are below {scientific(q90, 2)}."
    )


def mean_limit_sentence(
    late_moves: np.ndarray, final_means: np.ndarray, expected_sd: float, start: int, end: int
) -> str:
    """Each run's mean settles: how far it moved after generation ``start``, against the spread the
    expectation suggests.

    ``late_moves``: per run, ``|mean_end - mean_start|``; ``final_means``: per
    run, ``mean_end``; ``expected_sd``: ``sqrt(E[mean_end^2])`` from theory. The means count as settled
    when the median late move is below a tenth of the median ``|mean_end|``.
    """
    moves = np.asarray(late_moves, dtype=float)
    finals = np.abs(np.asarray(final_means, dtype=float))
    med_move, q90_move = np.quantile(moves, [0.5, 0.9])
    med_final = float(np.median(finals))
    settled = med_move < 0.1 * med_final  # the typical late move is small against where the means end
    verdict = (
        "each run's mean has settled near its limit"
        if settled
        else "the typical run's mean is still moving (its variance has not collapsed yet)"
    )
    return (
        f"Between generations {start} and {end}, the median run's mean moved by {scientific(med_move, 2)} "
        f"(90% of runs by less than {scientific(q90_move, 2)}): {verdict}. "
        f"Those limits are spread over a typical $|\\mu|$ of {scientific(med_final, 2)}, while the "
        "expectation "
        f"$\\mathbb E[\\mu_{{{end}}}^2] = ({end}+1)/n$ alone would suggest {scientific(expected_sd, 2)}."
    )


def estimator_sentence(n: int, half: Mapping[str, int | None], theory: Mapping[str, float]) -> str:
    """The median variance's halving generation under each estimator, simulated and in theory, and their
    ratio.

    ``half`` and ``theory`` map ``"unbiased"`` and ``"ml"`` to the generation at
    which the median run's variance first fell below one half (``None``: not
    within the run) and to its theoretical value.
    """
    u, m = half.get("unbiased"), half.get("ml")
    ratio_theory = (theory["unbiased"] + 1) / (theory["ml"] + 1)
    head = (
        f"At n = {n}, the median run's variance halves at generation {prose.number(theory['unbiased'], 0)} "
        "in theory "
        f"with the unbiased estimate and at {prose.number(theory['ml'], 0)} with the authors' `np.std` "
        f"(maximum likelihood): {prose.number(ratio_theory, 2)} times as fast, counted in fits."
    )
    if u is None or m is None:
        missing = prose.join_words(
            [name for name, t in (("unbiased", u), ("maximum-likelihood", m)) if t is None]
        )
        return head + f" In the simulation the {missing} median did not halve within the run."
    ratio = (u + 1) / (m + 1)
    return head + (f" Simulated: generation {u} against {m}, {prose.number(ratio, 2)} times as fast.")


def theorem_sentence(
    collapsed_share: float,
    threshold: float,
    generation: int,
    mean_w2: float,
    median_w2: float,
    bound: float,
    floor: float,
    expected_carriers: float | None = None,
) -> str:
    """The theorem's two conclusions checked on the two-mode run at its last generation.

    ``floor``: the distance between the truth and N(0, 1), the Gaussian of its mean
    and variance, ``2 (1 - kappa)``. Where the mean over runs falls below the lower bound on the expectation, the
    sentence says whether rare runs explain it (``expected_carriers``: how many
    of the runs that hold half of the expected variance the simulation is
    expected to contain).
    """
    text = (
        f"With the two-mode truth, {prose.percent(collapsed_share)} of runs have σ below {threshold:g} at "
        f"generation {generation}. The squared distance to the two-mode truth averages "
        f"{scientific(mean_w2, 2)} over runs (median {scientific(median_w2, 2)}), against a theoretical lower "
        f"bound on its expectation of {scientific(bound, 2)}, of which {scientific(floor, 3)} is the distance of "
        "N(0, 1), the single Gaussian that unlimited data would fit (functional expressivity error)."
    )
    if mean_w2 >= bound:
        return text
    if expected_carriers is not None and expected_carriers < 0.5:
        return text + (
            " The mean over runs falls below that bound: here too the expectation is carried by runs so "
            "rare that "
            f"the simulation is expected to contain {scientific(expected_carriers, 1)} of them."
        )
    return text + " The mean over runs falls below that bound, and rare runs do not explain it here."


def expressivity_sentence(mass_truth: float, mass_fit: float, width: float) -> str:
    """Where the single Gaussian puts its mass against the two-mode truth, in ``|x| < width``."""
    ratio = mass_fit / mass_truth if mass_truth > 0 else np.inf
    more = "more" if ratio >= 1 else "less"
    times = f"{prose.number(ratio, 1)} times" if ratio >= 1 else f"{prose.number(1 / ratio, 1)} times"
    return (
        f"The single Gaussian of generation 0 puts {prose.percent(mass_fit, 1)} of its mass in $|x| < "
        f"{width:g}$, "
        f"where the two-mode truth puts {prose.percent(mass_truth, 1)}: {times} {more}."
    )


def retention_memory_sentence(correlations: Mapping[str, float], level: float = 0.3) -> str:
    """Which retention kind ties each run's last σ to its first: correlations at or above ``level``."""
    level = validate.real("level", level, 0.0, 1.0, low_open=True)
    keeps = [f"{name} ({prose.number(c, 2)})" for name, c in correlations.items() if c >= level]
    forgets = [f"{name} ({prose.number(c, 2)})" for name, c in correlations.items() if c < level]
    parts = []
    if keeps:
        parts.append(f"with {prose.join_words(keeps)}, each run's last σ remembers its first")
    if forgets:
        parts.append(f"with {prose.join_words(forgets)}, the runs forget where they started")
    return (
        "Correlation of each run's σ at generation 0 and at the last generation: "
        + "; ".join(parts)
        + f" (judged at a correlation of {level:g})."
    )


# ---------------------------------------------------------------------------
# against the paper: one note per reproduction (prose.paper_note), the verdict computed


class Note(str):
    """An "against the paper" note (Markdown, shown with ``prose.show``) that remembers its subject and
    verdict."""

    subject: str
    verdict: str


def _note(subject: str, verdict: str, text: str) -> Note:
    note = Note(prose.paper_note(subject, verdict, text))
    note.subject, note.verdict = subject, verdict
    return note


def paper_summary(notes: Sequence[Note]) -> str:
    """One line for the findings: each note's subject and verdict (``"Theorem 3.1: agrees; ..."``)."""
    if not notes:
        raise ValueError("notes must hold at least one note")
    return "Against the paper: " + "; ".join(f"{n.subject}, {prose.VERDICTS[n.verdict]}" for n in notes) + "."


def theorem_note(
    collapsed_share: float,
    expected_rise: float,
    typical_rise: float,
    tolerance: float = 0.05,
    subject: str = "Theorem 3.1",
    truth: str = "the truth",
    expectation: str = "the exact expectation",
    threshold: float = 0.1,
) -> Note:
    """The chapter against the paper's Theorem 3.1: variance to zero for (almost) every run, E[W2^2] without
    bound."""
    checks = [collapsed_share >= 0.5, expected_rise >= tolerance]
    verdict = prose.verdict_of(checks)
    text = (
        f"The theorem says that the variance goes to zero almost surely and that the expected squared "
        f"Wasserstein-2 distance from {truth} grows without bound. Here {prose.percent(collapsed_share)} of "
        f"runs have collapsed (σ below {threshold:g}) by the last generation, and {expectation} still grows "
        f"({prose.percent(expected_rise, signed=True)} over the second half)."
    )
    if typical_rise < tolerance:
        text += (
            " The typical run's distance does not grow: it settles "
            f"({prose.percent(typical_rise, signed=True)} over the second half), which the theorem, a "
            "statement "
            "about the expectation, does not contradict."
        )
    else:
        text += f" The typical run's distance grows as well ({prose.percent(typical_rise, signed=True)})."
    return _note(subject, verdict, text)


def first_order_note(breakdown: int | None, n: int, generations: int, z: float, k: float) -> Note:
    """The chapter against the paper's first-order E[W2^2] (supplementary 3.1.1, eq. 6)."""
    holds_early = breakdown is None or breakdown > 0
    simulation_agrees = z <= k
    verdict = prose.verdict_of([holds_early, breakdown is None, simulation_agrees])
    where = (
        f"it stays within 10% of the exact expectation up to generation {generations}"
        if breakdown is None
        else f"it is within 10% of the exact expectation until generation {breakdown - 1} (about "
        f"{prose.number(breakdown / n, 1)} n) and then overshoots, because the variance term saturates at 2"
    )
    sim = (
        "the simulated mean agrees with the exact expectation"
        if simulation_agrees
        else f"the simulated mean is {z:.1f} standard errors off the exact expectation"
    )
    return _note(
        "the paper's first-order formula, supplementary 3.1.1 eq. 6",
        verdict,
        f"The formula is a first-order expansion: {where}; {sim}.",
    )


def growth_note(exact_rise: Mapping[str, float], tolerance: float = 0.05) -> Note:
    """The chapter against the paper's condition: only superlinearly growing sample sizes keep E[W2^2]
    bounded."""
    checks = [
        exact_rise["superlinear"] < tolerance,
        exact_rise["linear"] >= tolerance,
        exact_rise["constant"] >= tolerance,
    ]
    verdict = prose.verdict_of(checks)
    parts = prose.join_words([f"{name} {prose.percent(r, signed=True)}" for name, r in exact_rise.items()])
    return _note(
        "the paper's condition on sample sizes",
        verdict,
        f"The exact expectation over the second half of the generations: {parts}. The paper's statement is "
        "about "
        "the expectation; the simulated runs' mean can miss it (the paragraph above says when and why).",
    )


def absorbing_note(largest_gap: float, k: float, absorbed: int) -> Note:
    """The chapter against the paper's statement on absorbing states (probability = original probability)."""
    verdict = prose.verdict_of([largest_gap <= k])
    return _note(
        "the paper's absorbing states",
        verdict,
        f"Over {absorbed:,} absorbed runs, the largest gap between a category's absorbing frequency and its "
        f"original probability is {largest_gap:.1f} standard errors (judged at {k:g}).",
    )


def estimator_note(
    n: int,
    ratio_simulated: float | None,
    ratio_theory: float,
    ml_rise: float,
    unbiased_rise: float,
    tolerance: float = 0.05,
) -> Note:
    """Theorem 3.1 against the authors' estimator (``np.std``): the collapse, and whether E[W2^2] still grows.

    ``ratio_*``: how many times as fast the median variance halves with the
    maximum-likelihood estimate (``None``: the simulation did not halve);
    ``*_rise``: the relative change of the exact E[W2^2] over the second half of
    the generations under each estimator.
    """
    collapses = ratio_simulated is not None
    grows = ml_rise >= tolerance
    verdict = prose.verdict_of([collapses, grows])
    sim = (
        "in this simulation the median did not halve within the run"
        if ratio_simulated is None
        else f"{prose.number(ratio_simulated, 2)} times in this simulation"
    )
    text = (
        "Theorem 3.1 assumes the unbiased variance, as this chapter does; the authors' simulation "
        "(`Normals_GMM_experiments.ipynb`) takes `np.std`, the maximum-likelihood estimate. With it the "
        "median "
        f"variance halves {prose.number(ratio_theory, 2)} times as fast at n = {n} in theory ({sim}). "
    )
    if grows:
        text += (
            "The expected squared distance from the truth still grows "
            f"({prose.percent(ml_rise, signed=True)} "
            "over the second half), as the theorem says."
        )
    else:
        text += (
            f"But the exact expected squared distance from the truth levels off "
            f"({prose.percent(ml_rise, signed=True)} over the second half, against "
            f"{prose.percent(unbiased_rise, signed=True)} with the unbiased estimate): with `np.std` the "
            "expected "
            "variance itself decays, so the mean's drift has a finite expectation. The theorem's unbounded "
            "expectation needs the unbiased estimate; its collapse does not."
        )
    return _note("Theorem 3.1 with the authors' estimator", verdict, text)
