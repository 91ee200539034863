"""Sentences that chapter 2 computes from its runs (shown with :func:`collapse_utils.prose.show`).

Every helper states what happened in the runs it is given, whichever way it
went, and where the chapter explains an outcome, the helper picks the
explanation from a computed verdict (the tests take every branch). The paper's
claims about its Figure 7 are checked by :func:`figure7_checks`; the checks'
thresholds are stated in the sentences.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from .. import prose, validate
from ..plotting import first_below
from ..prose import join_words
from .mixture import l2_sq

#: The paper's Figure 7 claims, as checked here: generation 0 fits "very well" when it loses less than
#: this many nats per point of real data against the true density ...
FIT_NATS = 0.05
#: ... the picture has "completely changed" by generation 50 when the model is at least this many times
#: farther (squared L2) from generation 0 than generation 0 is from the truth ...
CHANGE_FACTOR = 10.0
#: ... and the state has "very little variance" when the total variance is under this share of the original's.
LITTLE_VARIANCE = 0.1
#: A fitted mixture has split into two separated clusters when the density between its two heaviest
#: components' means falls below this fraction of the lower of their densities (``Measure``'s ``valley``).
SPLIT_LEVEL = 0.5
#: The book's two modes count as merged when the two heaviest means are closer than this (half the
#: original distance of 5).
MERGED_DISTANCE = 2.5


def num(x: float) -> str:
    """A positive or negative quantity with three significant digits for a sentence (``143``, ``0.0122``)."""
    x = float(x)
    if not math.isfinite(x):
        return prose.number(x) if x != x else ("infinite" if x > 0 else "minus infinite")
    if x == 0:
        return "0"
    digits = max(0, min(8, 2 - math.floor(math.log10(abs(x)))))
    return prose.number(x, digits)


def _runs(k: int, total: int) -> str:
    return f"{k} of {total} run{'s' * (total != 1)}"


def measured_at_or_before(run, generation: int) -> int:
    """The latest measured generation of ``run`` not after ``generation`` (generation 0 at the earliest)."""
    g = np.asarray(run.generation)
    return int(g[g <= generation].max())


# ---------------------------------------------------------------------------
# the paper's Figure 7


def figure7_checks(run, change_at: int = 50, last: int = 2000) -> dict:
    """The paper's three claims about its Figure 7, measured on ``run`` (medians over its runs).

    The paper's caption: at first the model fits the data very well; by
    generation 50 its picture of the distribution has completely changed; at
    generation 2000 it has converged to a state with very little variance.
    Returns the measured values and whether each claim holds here
    (:data:`FIT_NATS`, :data:`CHANGE_FACTOR`, :data:`LITTLE_VARIANCE`); the
    last claim cannot hold in a run that stops before generation ``last``.
    """
    t_change = measured_at_or_before(run, change_at)
    loss0 = float(np.median(run.true_heldout_loglik - run.at("heldout_loglik", 0)))
    error0 = float(np.median(run.at("l2_sq_true", 0)))
    drift = float(np.median(run.at("l2_sq", t_change)))
    factor = drift / max(error0, 1e-300)
    share = float(np.median(run.at("total_var", run.generations))) / run.original.total_variance()
    reached = run.generations >= last
    return dict(
        runs=run.runs, loss0=loss0, fits=loss0 < FIT_NATS, t_change=t_change, factor=factor,
        changed=t_change > 0 and factor >= CHANGE_FACTOR, t_last=run.generations, variance_share=share,
        reached=reached, little_variance=reached and share < LITTLE_VARIANCE, paper_last=last,
        paper_change=change_at,
    )


def figure7_verdict(checks: Mapping) -> str:
    """``agrees`` / ``partly`` / ``differs`` from :func:`figure7_checks`."""
    return prose.verdict_of([checks["fits"], checks["changed"], checks["little_variance"]])


def figure7_note(run, setup: str, change_at: int = 50, last: int = 2000) -> str:
    """The "against the paper" note beside a reproduction of the paper's Figure 7 on one setup."""
    c = figure7_checks(run, change_at, last)
    parts = [
        f"generation 0 loses {prose.number(c['loss0'], 3)} nats per point of real data against the true "
        f"density ({'under' if c['fits'] else 'not under'} the {FIT_NATS:g} we count as fitting very well)",
    ]
    if c["t_change"] > 0:
        parts.append(
            f"by generation {c['t_change']} the model is {num(c['factor'])} times farther from generation 0 "
            "than "
            f"generation 0 is from the truth (squared L2 distances; a complete change, as we read it, is "
            f"{CHANGE_FACTOR:g} times or more)"
        )
    else:
        parts.append("the run has no generation after 0 to compare")
    parts.append(
        f"at generation {c['t_last']} the total variance is {prose.percent(c['variance_share'], 1)} of the "
        f"original's ({'under' if c['variance_share'] < LITTLE_VARIANCE else 'not under'} the "
        f"{prose.percent(LITTLE_VARIANCE)} we count as very little)"
    )
    text = (
        f"The paper's caption describes one run that first fits the data very well, whose picture of the "
        f"distribution has completely changed by generation {change_at}, and that by generation {last} has "
        f"converged to a state with very little variance. In the median of these {c['runs']} runs, "
        f"{'; '.join(parts)}."
    )
    if not c["reached"]:
        text += (
            f" These runs stop at generation {c['t_last']}, before the paper's {last}: its last claim is not "
            f"tested at this scale (the `book` profile runs {last} generations)."
        )
    return prose.paper_note(f"the paper's Figure 7, {setup}", figure7_verdict(c), text)


# ---------------------------------------------------------------------------
# the two setups and late collapse


def split_times(run, level: float = SPLIT_LEVEL) -> list[int | None]:
    """Per run, the first measured generation at which its mixture has two separated clusters (or ``None``).

    Separated: the ``valley`` measure (the lowest density between the two
    heaviest components' means, relative to the lower of their densities) is
    below ``level``.
    """
    level = validate.real("level", level, 0.0, 1.0, low_open=True, high_open=True)
    g = np.asarray(run.generation)
    out = []
    for r in range(run.runs):
        t = first_below(run.metrics["valley"][r], level)
        out.append(None if t is None else int(g[t]))
    return out


def merge_times(run, distance: float = MERGED_DISTANCE) -> list[int | None]:
    """Per run, the first measured generation at which its two heaviest means are closer than ``distance``."""
    g = np.asarray(run.generation)
    out = []
    for r in range(run.runs):
        t = first_below(run.metrics["mean_distance"][r], distance)
        out.append(None if t is None else int(g[t]))
    return out


def _median_time(times: Sequence[int | None]) -> int | None:
    """The generation by which half of the runs had the event (``None`` if fewer than half ever did)."""
    t = sorted(np.inf if x is None else x for x in times)
    mid = t[(len(t) - 1) // 2]
    return None if not np.isfinite(mid) else int(mid)


def _variance_change(run) -> str:
    tv0 = float(np.median(run.at("total_var", 0)))
    tv1 = float(np.median(run.at("total_var", run.generations)))
    share = prose.percent(tv1 / run.original.total_variance(), 1)
    return f"from {num(tv0)} to {num(tv1)} ({share} of the original's)"


def setups_sentence(two, blob, level: float = SPLIT_LEVEL, distance: float = MERGED_DISTANCE) -> str:
    """Tie the late-collapse explanation (the weights' walk, then a lost mode) to the setup it applies to.

    ``two`` are runs of the book's two modes, ``blob`` runs of the authors'
    single blob. The explanation needs two separated modes: the sentence says
    how many of the blob's fits had them at generation 0 and how many the
    recursion split into two separated clusters later, and picks the
    explanation for the blob from that count.
    """
    merged = merge_times(two, distance)
    k_merged = sum(t is not None for t in merged)
    v0 = int(np.sum(blob.at("valley", 0) < level))
    splits = split_times(blob, level)
    k_split = sum(t is not None for t in splits)
    later = [t for t in splits if t is not None and t > 0]
    two_part = (
        f"With the book's two modes, every explanation above starts from two separated modes; "
        f"{_runs(k_merged, two.runs)} lost one of them by generation {two.generations} (their means closer "
        f"than {distance:g}), and the median total variance went {_variance_change(two)}."
    )
    start = (
        f"The authors' single blob has no second mode to lose at first: at generation 0, "
        f"{_runs(v0, blob.runs)} had a valley between their two components (the density between the two "
        "means "
        f"below {prose.percent(level)} of the lower peak)."
    )
    if 2 * k_split > blob.runs:
        half = _median_time(splits)
        when = f", half of the runs by generation {half}" if half is not None and later else ""
        blob_part = (
            f"{start} The recursion makes one: {_runs(k_split, blob.runs)} split the blob into two separated "
            f"clusters by generation {blob.generations}{when}. From then on these runs have two modes, as "
            "in the "
            f"book's setup, so the explanation by the weights' walk and a lost mode applies to the authors' "
            "setup only after this split, and to clusters that the recursion made, not to two Gaussians in "
            "the "
            f"data. Its median total variance went {_variance_change(blob)}."
        )
    else:
        blob_part = (
            f"{start} In most runs no valley appeared later either ({_runs(k_split, blob.runs)} split the "
            "blob "
            f"into two separated clusters by generation {blob.generations}): there was no mode to lose, and "
            "the "
            "explanation by a lost mode does not apply. The blob's late collapse is its shrinking as a "
            "whole: "
            f"the median total variance went {_variance_change(blob)}."
        )
    return f"{two_part} {blob_part}"


def takeaway(two, blob, level: float = SPLIT_LEVEL) -> str:
    """The chapter's two-line takeaway, computed from the runs of both setups."""
    s2 = float(np.median(two.at("total_var", two.generations))) / two.original.total_variance()
    s1 = float(np.median(blob.at("total_var", blob.generations))) / blob.original.total_variance()
    splits = sum(t is not None for t in split_times(blob, level))
    first = (
        f"Refitted to {two.n} of its own samples per generation, a two-component Gaussian mixture keeps "
        f"{prose.percent(s2, 1)} of the original's total variance after {two.generations} generations "
        f"(median run) with the book's two modes, and {prose.percent(s1, 1)} after {blob.generations} with "
        "the "
        f"authors' single blob."
    )
    if 2 * splits > blob.runs:
        second = (
            f"The single blob does not stay one: the recursion split it into two separated clusters in "
            f"{_runs(splits, blob.runs)}."
        )
    else:
        second = (
            f"The single blob stayed one mode in {_runs(blob.runs - splits, blob.runs)}: its two components "
            f"kept overlapping."
        )
    return f"**{first}** {second}"


# ---------------------------------------------------------------------------
# measures of the drift, the tails, the last generation


def drift_sentence(run) -> str:
    """What the median run's measures did between generation 0 (the L2 distance: the first measured generation
    after 0, where it is not 0 by definition) and the last measured generation."""
    T = run.generations
    later = np.asarray(run.generation)[np.asarray(run.generation) >= 1]
    first = int(later.min()) if later.size else 0  # the first measured generation after 0
    med = lambda name, t: float(np.median(run.at(name, t)))  # noqa: E731
    return (
        f"Over {T} generations, in the median run: the squared L2 distance to generation 0 went from "
        f"{num(med('l2_sq', first))} at generation {first} to {num(med('l2_sq', T))}; the held-out "
        f"log-likelihood of real data from {prose.number(med('heldout_loglik', 0), 3)} to "
        f"{num(med('heldout_loglik', T))} nats per point (the true density scores "
        f"{prose.number(run.true_heldout_loglik, 3)}); the total variance from {num(med('total_var', 0))} to "
        f"{num(med('total_var', T))} (the original's: {num(run.original.total_variance())}); the distance "
        "between "
        f"the means from {num(med('mean_distance', 0))} to {num(med('mean_distance', T))}."
    )


def chain_sentence(fraction: np.ndarray, band: np.ndarray, generation: np.ndarray, runs: int) -> str:
    """Say where the fraction of runs whose modes merged lay relative to the chain's 95% band.

    ``fraction`` and ``band`` (2, T) are over ``generation``. Whichever way it
    went: inside the band throughout, above it (modes lost earlier than the
    chain predicts) or below it (later), with the share of generations.
    """
    fraction, band = np.asarray(fraction), np.asarray(band)
    above = fraction > band[1] + 1e-12
    below = fraction < band[0] - 1e-12
    total = len(fraction)
    if not above.any() and not below.any():
        return (
            f"In these {runs} runs the fraction whose modes had merged stayed inside the chain's 95% band "
            f"at every "
            f"generation up to {int(generation[-1])}: the weights behaved like the two-category chain."
        )
    parts = []
    if above.any():
        parts.append(
            f"above it (modes merged earlier than the chain predicts) at {above.sum()} of {total} measured "
            f"generations, first at generation {int(generation[np.argmax(above)])}"
        )
    if below.any():
        parts.append(
            f"below it (modes merged later than the chain predicts) at {below.sum()} of {total} measured "
            f"generations, first at generation {int(generation[np.argmax(below)])}"
        )
    return (
        f"In these {runs} runs the fraction whose modes had merged left the chain's 95% band: "
        f"{join_words(parts)}. Since successive generations are strongly correlated, a few unlucky runs keep "
        f"the curve off for a while; more runs narrow the band."
    )


def absorption_sentence(absorbed: np.ndarray, generation: np.ndarray, n: int) -> str:
    """The chain's median absorption time (where the computed curve reaches it) against its mean
    ``2 N ln 2``."""
    absorbed, generation = np.asarray(absorbed), np.asarray(generation)
    mean = 2 * n * math.log(2)
    hit = np.flatnonzero(absorbed >= 0.5)
    if hit.size:
        median = int(generation[hit[0]])
        relation = "left of" if median < mean else "at or right of"
        return (
            f"The chain's absorption time is skewed: half of its runs are absorbed by generation {median}, "
            f"{relation} its mean, 2N ln 2 = {mean:,.0f}."
        )
    return (
        f"By generation {int(generation[-1])} the chain is absorbed with probability "
        f"{prose.number(absorbed[-1], 2)}: its median absorption time lies beyond these runs, as does its "
        "mean, "
        f"2N ln 2 = {mean:,.0f}."
    )


def tail_rise_sentence(generation: np.ndarray, median_ratio: np.ndarray, upper_ratio: np.ndarray) -> str:
    """Say whether the median tail mass (relative to the original's) rose above 1 before it fell, and why.

    ``median_ratio`` and ``upper_ratio`` (the 90% quantile) are over
    ``generation``. The explanation of a rise (the region ``{p >= lambda}``
    is the smallest that holds 99% of ``p``, so any change of the model
    spills mass out of it) is given only where the median rose.
    """
    generation = np.asarray(generation)
    median_ratio = np.asarray(median_ratio)
    peak = int(np.argmax(median_ratio))
    top = float(np.max(upper_ratio))
    end = (
        f"By generation {int(generation[-1])} the median was {prose.number(median_ratio[-1], 2)} times the "
        f"original's mass."
    )
    if median_ratio[peak] > 1.0:
        return (
            f"The tail mass is the odd one out: in the first generations the median *rose*, to "
            f"{prose.number(median_ratio[peak], 2)} times the original's 1% at generation "
            f"{int(generation[peak])}, and the upper 10% of the runs reached {prose.number(top, 1)} times "
            "it. "
            f"The region $\\{{p \\geq \\lambda\\}}$ is, of all regions holding 99% of $p$, the smallest, so "
            "a "
            f"model that has moved, rotated or widened a little spills mass out of it into $T$. {end}"
        )
    return (
        f"The median tail mass did not rise above the original's 1% (its highest value, "
        f"{prose.number(median_ratio[peak], 2)} times it, at generation {int(generation[peak])}); the upper "
        "10% "
        f"of the runs reached {prose.number(top, 1)} times it. {end}"
    )


def estimate_check_sentence(generation: int, small: float, large: float, n_small: int, n_large: int,
                            alpha: float = 0.01) -> str:
    """Compare the median tail mass of one generation's models estimated with two base-sample sizes."""
    rel = abs(large - small) / max(large, 1e-300)
    verdict = "the two agree to within" if rel < 0.1 else "they differ by"
    return (
        f"Re-estimated with {n_large // n_small} times more quasi-Monte Carlo points ({n_large:,} instead of "
        f"{n_small:,}), the median tail mass at generation {generation} is {prose.number(large / alpha, 3)} "
        f"times the original's {prose.percent(alpha, 1 if alpha < 0.01 else 0)} against "
        f"{prose.number(small / alpha, 3)}: {verdict} {prose.percent(rel, 1)}."
    )


def last_generation_sentence(run, shown: int, distance: float = MERGED_DISTANCE, needle: float = 10.0) -> str:
    """What the last generation of the first ``shown`` runs looks like: modes kept or merged, needles."""
    shown = validate.integer("shown", shown, 1, run.runs)
    models = [run.snapshots[r][run.generations] for r in range(shown)]
    kept = sum(m.mean_distance() >= distance for m in models)
    needles = 0
    for m in models:
        ev = np.linalg.eigvalsh(m.covariances)
        needles += bool(np.any(np.sqrt(ev[:, -1] / ev[:, 0]) >= needle))
    share = float(np.median([m.total_variance() for m in models])) / run.original.total_variance()
    return (
        f"Of the {shown} runs drawn, {kept} still had their two components on two places at least "
        f"{distance:g} "
        f"apart at generation {run.generations}, and {shown - kept} had both components within {distance:g} "
        "of "
        f"each other; in {needles} a component was a needle, at least {needle:g} times longer than wide. "
        "Their "
        f"median total variance was {prose.percent(share, 1)} of the original's."
    )


def components_sentence(side: Mapping[int, object]) -> str:
    """Compare models with different numbers of components: the distance to the original at the first and
    the last generation, and which model is closest at each."""
    first = {k: float(np.median(r.at("l2_sq_true", 0))) for k, r in side.items()}
    T = min(r.generations for r in side.values())
    last = {k: float(np.median(r.at("l2_sq_true", T))) for k, r in side.items()}
    name = lambda k: f"{k} component{'s' * (k != 1)}"  # noqa: E731
    best0, bestT = min(first, key=first.get), min(last, key=last.get)
    listing = lambda d: join_words([f"{num(v)} ({name(k)})" for k, v in d.items()])  # noqa: E731
    same = (
        "the same model as at the start" if best0 == bestT else f"no longer {name(best0)}, but {name(bestT)}"
    )
    return (
        f"Median squared L2 distance to the original at generation 0: {listing(first)}; at generation {T}: "
        f"{listing(last)}. Closest at generation 0: {name(best0)}; closest at generation {T}: {same}."
    )


def schedules_sentence(sched: Mapping[str, object], base: str = "replace") -> str:
    """Compare each schedule's last generation with ``base``'s: the median held-out log-likelihood, and
    whether the 10-90% bands over runs overlap."""
    if base not in sched:
        raise ValueError(f"base must be one of the schedules {list(sched)}, got {base!r}")
    ref = sched[base]
    T = ref.generations
    q = lambda r: np.quantile(r.at("heldout_loglik", r.generations), [0.1, 0.5, 0.9])  # noqa: E731
    lo0, med0, hi0 = q(ref)
    closer, farther = [], []
    for name, r in sched.items():
        if name == base:
            continue
        lo, med, hi = q(r)
        overlap = lo <= hi0 and lo0 <= hi
        text = f"{name} ({num(med)}{', bands overlapping' if overlap else ''})"
        (closer if med > med0 else farther).append(text)
    start = num(np.median(ref.at("heldout_loglik", 0)))
    parts = [f"At generation {T}, {base} ended with a median held-out log-likelihood of {num(med0)} nats per "
             f"point (generation 0: {start})"]
    if closer:
        parts.append(f"higher, so nearer the original, with {join_words(closer)}")
    if farther:
        parts.append(f"not higher with {join_words(farther)}")
    return "; ".join(parts) + (
        " (the 10-90% bands over runs say whether a difference exceeds the spread of runs)."
    )


def retention_sentence(n: int, retention: float) -> str:
    """How many original points a retention keeps per generation at sample size ``n``."""
    from ..schedules import n_retained

    k = n_retained(validate.integer("n", n, 1), retention)
    return (
        f"a fixed retention of {100 * retention:g}% keeps {k} original point{'s' * (k != 1)} a generation "
        f"at N = {n}"
    )


def warm_fresh_sentence(warm, fresh, distance: float = MERGED_DISTANCE) -> str:
    """Compare warm-started and k-means-every-generation runs: speed, EM iterations, modes merged, and whether
    the difference in merges is beyond chance (two binomial standard errors of the difference)."""
    mw = sum(t is not None for t in merge_times(warm, distance))
    mf = sum(t is not None for t in merge_times(fresh, distance))
    ratio = fresh.seconds / max(warm.seconds, 1e-9)
    pw, pf = mw / warm.runs, mf / fresh.runs
    pooled = (mw + mf) / (warm.runs + fresh.runs)
    se = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / warm.runs + 1 / fresh.runs))
    if abs(pf - pw) <= 2 * se:
        verdict = (
            "a difference within two standard errors of chance for this many runs, so these runs give no "
            "evidence that the start of EM changes when modes are lost"
        )
    else:
        verdict = (
            "more than two standard errors apart: here the start of EM changed when modes were lost "
            "(functional approximation error)"
        )
    return (
        f"The k-means start every generation took {prose.number(fresh.seconds, 1)} s against the warm "
        "start's "
        f"{prose.number(warm.seconds, 1)} s ({prose.number(ratio, 1)} times "
        f"{'longer' if ratio >= 1 else 'as long'}),"
        f" with a median of {np.nanmedian(fresh.metrics['n_iter']):g} EM iterations per fit against "
        f"{np.nanmedian(warm.metrics['n_iter']):g}. By generation {warm.generations}, "
        f"{_runs(mf, fresh.runs)} "
        f"with k-means and {_runs(mw, warm.runs)} with the warm start had their means closer than "
        f"{distance:g}: "
        f"{verdict}."
    )


# ---------------------------------------------------------------------------
# the chapter's findings


def findings(two, blob, halves: Mapping[str, int | None], fraction: np.ndarray | None = None,
             band: np.ndarray | None = None) -> list[str]:
    """The chapter's computed findings, one sentence each (for :func:`collapse_utils.prose.findings`).

    ``halves`` are the generations at which the median run of the two modes
    lost half of each measure (as for ``prose.order_of_events``); ``fraction``
    and ``band`` (2, T), if given, the share of merged runs and the weights'
    chain band (:func:`chain_sentence`).
    """
    c2, c1 = figure7_checks(two), figure7_checks(blob)
    words = prose.VERDICTS
    items = [
        "Against the caption of the paper's Figure 7, the book's two-mode setup "
        f"{words[figure7_verdict(c2)]} and "
        f"the authors' single-blob setup {words[figure7_verdict(c1)]} (the notes beside the two "
        "reproductions say "
        f"which claims hold at this scale).",
        "Early collapse, in the median run of the two modes: halving " + prose.order_of_events(halves) + ".",
    ]
    merged = sum(t is not None for t in merge_times(two))
    chain = ""
    if fraction is not None and band is not None:
        fraction, band = np.asarray(fraction), np.asarray(band)
        inside = bool(np.all((fraction >= band[0] - 1e-12) & (fraction <= band[1] + 1e-12)))
        chain = (
            "; the share of merged runs stayed inside the weights' chain band at every measured generation"
            if inside else "; the share of merged runs left the weights' chain band at some generations"
        )
    items.append(f"Late collapse: {_runs(merged, two.runs)} of the two modes lost a mode by generation "
                 f"{two.generations}{chain}.")
    splits = sum(t is not None for t in split_times(blob))
    items.append(
        f"The authors' single blob was split by the recursion into two separated clusters in "
        f"{_runs(splits, blob.runs)} by generation {blob.generations}; its median total variance went "
        f"{_variance_change(blob)}."
    )
    return items


def fit_sentence(model, original, n: int) -> str:
    """Generation 0 against the truth: weights, means, squared L2 distance and EM iterations."""
    order = np.argsort(model.means[:, 0], kind="stable")
    true_order = np.argsort(original.means[:, 0], kind="stable")
    point = lambda m: "(" + ", ".join(prose.number(c, 2) for c in m) + ")"  # noqa: E731
    return (
        f"Fitted to {n} original samples, generation 0 has weights "
        f"{join_words([prose.number(w, 3) for w in model.weights[order]])} and means "
        f"{join_words([point(m) for m in model.means[order]])} (the truth: "
        f"{join_words([prose.number(w, 3) for w in original.weights[true_order]])}; "
        f"{join_words([point(m) for m in original.means[true_order]])}); its squared L2 distance to the "
        "truth is "
        f"{num(l2_sq(model, original))}, reached in {model.n_iter} EM iterations."
    )
