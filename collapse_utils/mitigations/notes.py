"""Theory beside each family's result: what each follow-up work predicts, and whether this run agrees.

:func:`theory_notes` returns one :class:`Note` per work for a family. A work that
makes a prediction for the family gets a verdict computed from the run
(``prose.verdict_of`` of its checks) and a sentence with the measured numbers; a
work that makes none for it (its theory needs constants a neural network does not
give, say) says so. :func:`notes_markdown` renders them with the book's one look
for such notes (:func:`collapse_utils.prose.paper_note`).

The works (``book/references.bib`` keys in :data:`WORKS`): Gerstgrasser et al.
2024, Kazdan et al. 2024, Bertrand et al. (ICLR 2024), Alemohammad et al. 2023,
Dohmatob et al. 2024 (*A Tale of Tails* and *Strong Model Collapse*), Suresh et
al. 2024, Feng et al. 2024. The notes name them without a year, as the chapter's
text cites them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import prose, validate
from .results import BAND, RISE, FamilyResult, check_band
from .theory import GERSTGRASSER_FACTOR, bertrand_share

#: The works, by key: (citation key, how the text names it).
WORKS: dict[str, tuple[str, str]] = {
    "gerstgrasser": ("gerstgrasser2024collapse", "Gerstgrasser et al."),
    "kazdan": ("kazdan2024collapse", "Kazdan et al."),
    "bertrand": ("bertrand2023stability", "Bertrand et al."),
    "alemohammad": ("alemohammad2023selfconsuming", "Alemohammad et al."),
    "dohmatob": ("dohmatob2024tale,dohmatob2024strong", "Dohmatob et al."),
    "suresh": ("suresh2024rate", "Suresh et al."),
    "feng": ("feng2024beyond", "Feng et al."),
}
#: Significance level of the one-sided test behind "a small share of synthetic data hurts".
ALPHA = 0.05


@dataclass(frozen=True)
class Note:
    """One work's prediction for one family and, where it makes one, this run's verdict."""

    work: str
    prediction: str
    verdict: str | None
    text: str

    @property
    def name(self) -> str:
        return WORKS[self.work][1]


def _x(value: float) -> str:
    """A ratio for a sentence: ``"1.34 times"``."""
    return f"{prose.number(value, 2 if value < 10 else 0)} times"


def _trend(result: FamilyResult, s, rise: float) -> str:
    return "still rising" if result.rising(s, rise) else "levelled off"


def small_synthetic_share(shares) -> float | None:
    """The share of real data that stands for "a small share of synthetic data": 0.75 if on the grid, else the
    smallest share in ``(0.75, 1)`` (``None`` if there is none: then the run cannot test the claim)."""
    shares = list(shares)
    if 0.75 in shares:
        return 0.75
    candidates = [s for s in shares if 0.75 < s < 1.0]
    return min(candidates) if candidates else None


def one_sided_p(larger: np.ndarray, smaller: np.ndarray) -> float:
    """p-value of a one-sided Mann-Whitney test that ``larger`` tends to exceed ``smaller`` (1 with a single run each)."""
    from scipy import stats

    a, b = np.asarray(larger, dtype=float), np.asarray(smaller, dtype=float)
    if a.size < 2 or b.size < 2:
        return 1.0
    return float(stats.mannwhitneyu(a, b, alternative="greater").pvalue)


def _gerstgrasser(r: FamilyResult, band: float, rise: float) -> Note:
    acc, rep = r.get("accumulate"), r.get("replace")
    prediction = (
        "accumulating every generation's data keeps the distance from the truth bounded (for linear models, "
        f"below π²/6 ≈ {prose.number(GERSTGRASSER_FACTOR, 2)} times generation 0's error), while replacing it "
        "lets the distance grow"
    )
    checks = [not r.rising(acc, rise), r.final(acc) < r.final(rep)]
    text = (
        f"Accumulate ended at {_x(r.final(acc))} generation 0's distance ({_trend(r, acc, rise)}), "
        f"replace at {_x(r.final(rep))} ({_trend(r, rep, rise)})."
    )
    return Note("gerstgrasser", prediction, prose.verdict_of(checks), text)


def _kazdan(r: FamilyResult, band: float, rise: float) -> Note:
    sub, acc, rep = r.get("accumulate-subsample"), r.get("accumulate"), r.get("replace")
    prediction = (
        "subsampling the accumulated data to a fixed size lies between the two: further from the truth than "
        "accumulating everything, closer than replacing"
    )
    checks = [r.final(sub) > r.final(acc), r.final(sub) < r.final(rep)]
    text = (
        f"Accumulate-subsample ended at {_x(r.final(sub))} generation 0's distance, against "
        f"{_x(r.final(acc))} for accumulate and {_x(r.final(rep))} for replace."
    )
    return Note("kazdan", prediction, prose.verdict_of(checks), text)


def _bertrand(r: FamilyResult, band: float, rise: float) -> Note:
    if r.family not in ("gaussian", "gmm"):
        return Note(
            "bertrand",
            "retraining is stable when the first model is close enough to the truth and the share of real data is "
            "large enough; the threshold needs the likelihood's smoothness and curvature constants and the model's "
            "distance from the truth, which a neural network does not give",
            None,
            "No threshold can be computed for this family, so none is drawn.",
        )
    threshold = bertrand_share(0.0)
    above = [s for s in r.shares if s > threshold]
    prediction = (
        "for a family that contains the truth, a share of real data above "
        f"{prose.percent(threshold)} (generated data less than half the real data) keeps retraining stable near "
        "the truth: a sufficient condition, not a necessary one"
    )
    kinds = []
    checks = []
    for kind in ("fresh", "fixed"):
        rising = [s for s in above if r.rising(r.get(kind, s), rise)]
        checks.append(not rising)
        cheapest = r.cheapest_share(kind, band)
        where = "none of the grid" if cheapest is None else f"from {prose.percent(cheapest)}"
        kinds.append(
            f"with {kind} real data, {'every share' if not rising else 'not every share'} above "
            f"{prose.percent(threshold)} levelled off, and shares {where} stayed within {band:g} times generation 0's "
            "distance"
        )
    text = "; ".join(kinds)
    return Note("bertrand", prediction, prose.verdict_of(checks), text[0].upper() + text[1:] + ".")


def _alemohammad(r: FamilyResult, band: float, rise: float) -> Note:
    fresh, fixed = r.get("fresh", r.compare_share), r.get("fixed", r.compare_share)
    sel, rep = r.get("select"), r.get("replace")
    prediction = (
        "fresh real data every generation keep the model near the truth; a fixed set of real data only slows the "
        "drift; sampling biased towards likely samples trades diversity for quality and drifts faster"
    )
    checks = [not r.rising(fresh, rise), r.final(fixed) > r.final(fresh), r.average(sel) > r.average(rep)]
    share = prose.percent(r.compare_share)
    text = (
        f"With {share} real data, fresh ended at {_x(r.final(fresh))} generation 0's distance "
        f"({_trend(r, fresh, rise)}) and fixed at {_x(r.final(fixed))}; keeping the likeliest of "
        f"{sel.candidates} samples was on average over the generations {_x(r.average(sel))} generation 0's "
        f"distance, against {_x(r.average(rep))} for replace."
    )
    return Note("alemohammad", prediction, prose.verdict_of(checks), text)


def _dohmatob(r: FamilyResult, band: float, rise: float) -> Note:
    share = small_synthetic_share(r.shares)
    prediction = (
        "synthetic data cut the tails of the distribution, and even a small share of synthetic data in the "
        "training set keeps the model further from the truth than real data alone would"
    )
    if share is None or 1.0 not in r.shares:
        return Note(
            "dohmatob", prediction, None,
            "This run's grid of shares has no share of real data between 75% and 100% to set against real data "
            "alone, so it cannot test the claim.",
        )
    mixed, real = r.get("fresh", share), r.get("fresh", 1.0)
    a, b = r.late(mixed), r.late(real)
    p = one_sided_p(a, b)
    hurts = float(np.median(a)) > float(np.median(b)) and p < ALPHA
    runs = min(r.runs(mixed), r.runs(real))
    if hurts:
        why = f"further from the truth (one-sided Mann-Whitney test over {runs} runs, p = {prose.number(p, 3)})"
    elif runs < 2:
        why = "not measurably further: one run cannot show it"
    else:
        why = f"not measurably further (one-sided Mann-Whitney test over {runs} runs, p = {prose.number(p, 2)})"
    text = (
        f"With {prose.percent(1 - share)} synthetic data (fresh real data {prose.percent(share)}), the median run "
        f"was {_x(float(np.median(a)))} generation 0's distance over the second half of the generations, against "
        f"{_x(float(np.median(b)))} with real data alone: {why}."
    )
    return Note("dohmatob", prediction, prose.verdict_of([hurts]), text)


def _suresh(r: FamilyResult, band: float, rise: float) -> Note:
    if r.family != "gaussian":
        return Note(
            "suresh",
            "rates of collapse are derived for discrete distributions (a word is forgotten after a number of "
            "generations roughly proportional to its count) and for Gaussians, not for this family",
            None,
            "No rate to compare.",
        )
    n = int(r.extra["n"])
    sigma = np.asarray(r.extra["median_sigma"])
    below = np.flatnonzero(sigma < 0.5)
    prediction = (
        f"under replace the fitted standard deviation falls towards zero on a time scale of about n = {n} "
        "generations (n samples a generation)"
    )
    if below.size == 0:
        return Note(
            "suresh", prediction, "differs",
            f"The median run's standard deviation did not halve within the run's {r.generations} generations.",
        )
    t = int(below[0])
    checks = [n / 4 <= t <= 4 * n]
    text = (
        f"The median run's standard deviation halved at generation {t}, {prose.number(t / n, 1)} times n "
        f"(chapter 1's exact drift puts it at {prose.number(r.extra['half_sigma_theory'] / n, 1)} times n)."
    )
    return Note("suresh", prediction, prose.verdict_of(checks), text)


def _feng(r: FamilyResult, band: float, rise: float) -> Note:
    sel, rep = r.get("select"), r.get("replace")
    prediction = (
        "synthetic data help instead of collapsing a model when a verifier selects what is kept; how much depends "
        "on how well the verifier tells good samples from bad"
    )
    checks = [r.average(sel) < r.average(rep)]
    text = (
        f"Here the verifier is the generation-0 model's likelihood (the likeliest of {sel.candidates} samples is "
        f"kept): on average over the generations it was {_x(r.average(sel))} generation 0's distance against "
        f"{_x(r.average(rep))} for replace, {'closer to' if checks[0] else 'no closer to'} the truth (after the last "
        f"generation: {_x(r.final(sel))} against {_x(r.final(rep))})."
    )
    return Note("feng", prediction, prose.verdict_of(checks), text)


_CHECKS = (_gerstgrasser, _kazdan, _bertrand, _alemohammad, _dohmatob, _suresh, _feng)


def theory_notes(result: FamilyResult, band: float = BAND, rise: float = RISE) -> list[Note]:
    """One :class:`Note` per work of :data:`WORKS`, in that order, for one family's result."""
    if not isinstance(result, FamilyResult):
        raise ValueError(f"result must be a FamilyResult, got {type(result).__name__}")
    band = check_band(band)
    rise = validate.real("rise", rise, 0.0)
    return [check(result, band, rise) for check in _CHECKS]


def notes_markdown(notes: list[Note]) -> str:
    """The notes as Markdown: a ``prose.paper_note`` per work with a verdict, one line for the others.

    Plain Markdown, no MyST roles (it renders on Colab too); the chapter cites the works in its own text.
    """
    parts = []
    for note in notes:
        if note.verdict is None:
            parts.append(f"*{note.name}*: {note.prediction}. {note.text}")
        else:
            parts.append(prose.paper_note(note.name, note.verdict, f"*Prediction:* {note.prediction}. {note.text}"))
    return "\n\n".join(parts)


def verdict_counts(notes: list[Note]) -> dict[str, int]:
    """How many notes agree, agree in part, do not agree, or make no prediction (``None``)."""
    out = {"agrees": 0, "partly": 0, "differs": 0, None: 0}
    for note in notes:
        out[note.verdict] += 1
    return out
