"""Chapter 3's verdicts, computed from its runs: protocols, retention, generation 0, and the paper.

Every function here returns text whose claims come from the runs it is given:
where the text *explains* an outcome, the explanation is chosen by the
computed verdict, so no sentence can contradict the numbers beside it at any
seed or profile. Each branch is tested.

The authors' own numbers (:data:`AUTHORS_LATENT_SD`) are quoted from the
``curse_recurse`` repository's ``VAE_experiments.ipynb`` and named as theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import validate
from ..prose import join_words, number, percent, verdict_of
from .recursion import VAERun, stack
from .sentences import _digits, _runs, _seeds, first_generation_below

AUTHORS_LATENT_SD: tuple[tuple[float, ...], ...] = (
    (0.6995303, 0.60134965, 0.5541111, 0.48931533, 0.46653777),
    (0.69527394, 0.59368867, 0.5296458, 0.48430806, 0.4310458),
    (0.6922824, 0.60909194, 0.53359216, 0.4891546, 0.45829764),
    (0.67841727, 0.605033, 0.52345085, 0.48296788, 0.42802373),
    (0.67357385, 0.60761327, 0.5273319, 0.46807787, 0.43289876),
)
"""The authors' record of their latent measure: five runs (rows), generations 1 to 5 (columns).

Each value is the standard deviation of the means that the first VAE's encoder
gives to 100 samples of that generation (all 20 dimensions pooled), as listed
in a commented-out table (``mu_sig``, beside the means) at the end of
``VAE_experiments.ipynb``. Column ``i`` is the VAE trained in the ``i``-th
pass of the notebook's generation loop, i.e. generation ``i + 1`` in this
book's numbering.
"""

SPEED_MARGIN = 0.1
"""How far (in ratio) a run's spread may fall outside the authors' range and still count as "as fast"."""


def authors_ratio_range(generation: int) -> tuple[float, float]:
    """The authors' range over their five runs of spread(generation) / spread(generation 1), generation 2 to 5."""
    generation = validate.integer("generation", generation, 2, 5)
    sd = np.array(AUTHORS_LATENT_SD)
    ratios = sd[:, generation - 1] / sd[:, 0]
    return float(ratios.min()), float(ratios.max())


def _median(runs: Sequence[VAERun], metric: str) -> np.ndarray:
    return np.median(stack(runs, metric), axis=0)


def _last(runs: Sequence[VAERun]) -> int:
    return min(r.generations for r in runs)


def _range(values: np.ndarray, digits: int = 2) -> str:
    lo, hi = number(np.min(values), digits), number(np.max(values), digits)
    return lo if lo == hi else f"{lo} to {hi}"


# ---------------------------------------------------------------- generation 0 against the recursion
def lost_at_start_sentence(runs: Sequence[VAERun], level: float = 0.01) -> str:
    """Which digits generation 0 itself already lost (below ``level`` of its samples), apart from the recursion.

    Generation 0 is trained on real images: a digit it does not draw was lost
    by the first fit (functional approximation error of one VAE), before any
    model was trained on generated data.
    """
    runs = _runs(runs)
    pct = percent(level, 0 if level >= 0.01 else 1)
    lost: dict[int, list[int]] = {}
    for r in runs:
        for d in r.lost_at_start(level):
            lost.setdefault(d, []).append(r.seed)
    if not lost:
        return (
            f"Generation 0, trained on the real images, drew every digit (each at least {pct} of its samples) "
            f"in all {len(runs)} seeds: every digit lost below was lost by the recursion."
        )
    parts = [
        f"{_digits([d])} in {len(s)} of the {len(runs)} seeds ({_seeds(s)})" for d, s in sorted(lost.items())
    ]
    return (
        f"Before any recursion, generation 0 (trained on the real images) already drew less than {pct} of "
        f"{join_words(parts)}: the first fit lost {'them' if len(lost) > 1 else 'it'}, not the recursion."
    )


# ---------------------------------------------------------------- the two protocols
PROTOCOL_VERDICTS = ("statistical", "functional", "fresh faster")


def halving(runs: Sequence[VAERun], metric: str = "feature_var") -> int:
    """The generation at which the median of ``metric`` first falls below half its generation-0 value.

    The last generation + 1 when it never does (so that "never" sorts after every generation).
    """
    runs = _runs(runs)
    t = first_generation_below(runs, metric, 0.5)
    return _last(runs) + 1 if t is None else t


def compare_halving(a: Sequence[VAERun], b: Sequence[VAERun], metric: str = "feature_var") -> str:
    """``"later"``: ``b`` halves 2 or more generations after ``a``; ``"earlier"``: 2 or more before; else ``"level"``."""
    ta, tb = halving(a, metric), halving(b, metric)
    return "later" if tb - ta >= 2 else ("earlier" if ta - tb >= 2 else "level")


def protocol_verdict(fixed: Sequence[VAERun], fresh: Sequence[VAERun], metric: str = "feature_var") -> str:
    """Which error drives the loss of ``metric`` (variety): the verdict behind :func:`protocol_sentence`.

    Both groups train on the same kind of images (decoder means); ``fixed`` on
    ``n`` of them per generation, ``fresh`` on new ones every batch. With the
    generations at which their median ``metric`` halves (:func:`halving`):

    - ``"statistical"``: the fresh runs halve at least 2 generations later;
    - ``"fresh faster"``: they halve at least 2 generations earlier;
    - ``"functional"``: within one generation of each other.
    """
    return {"later": "statistical", "level": "functional", "earlier": "fresh faster"}[
        compare_halving(fixed, fresh, metric)
    ]


def _halving(t: int | None, last: int) -> str:
    return f"generation {t}" if t is not None else f"not within {last} generations"


def _per_generation(runs: Sequence[VAERun]) -> int:
    """How many images generation 1 of the first run trained on (for a fresh run: all the samples it saw)."""
    if runs[0].generations < 1:
        raise ValueError("runs must reach generation 1 to say what a generation trains on")
    return int(sum(runs[0].composition[1].values()))


def protocol_sentence(fixed: Sequence[VAERun], fresh: Sequence[VAERun]) -> str:
    """Statistical against functional approximation error, told from the runs (explanation chosen by the verdict).

    ``fixed``: runs of the book's protocol on decoder means; ``fresh``: the
    authors' protocol (new decoder means every batch). How many images a
    generation trains on comes from the runs' compositions.
    """
    fixed, fresh = _runs(fixed), _runs(fresh)
    epochs = fresh[0].config.epochs
    seen, drawn = _per_generation(fresh), _per_generation(fixed)
    last = min(_last(fixed), _last(fresh))
    verdict = protocol_verdict(fixed, fresh)
    t_fixed = first_generation_below(fixed, "feature_var", 0.5)
    t_fresh = first_generation_below(fresh, "feature_var", 0.5)
    v_fixed, v_fresh = _median(fixed, "feature_var"), _median(fresh, "feature_var")
    a_fixed, a_fresh = _median(fixed, "active_dims"), _median(fresh, "active_dims")
    d_fixed, d_fresh = fixed[0].config.latent_dim, fresh[0].config.latent_dim
    of = f"of {d_fixed}" if d_fixed == d_fresh else f"of {d_fixed} and of {d_fresh}"
    facts = (
        f"Each generation of the authors' protocol trains on {seen:,} new samples of its predecessor "
        f"({epochs} epochs of {seen // epochs:,}), against {drawn:,} drawn once under the book's. The median "
        f"variety halves at {_halving(t_fixed, last)} with a fixed sample and at {_halving(t_fresh, last)} with "
        f"fresh samples, and stands at {number(v_fixed[last], 2)} against {number(v_fresh[last], 2)} at generation "
        f"{last} (generation 0: {number(v_fixed[0], 2)} and {number(v_fresh[0], 2)}); the encoders use a median "
        f"of {number(a_fixed[last], 0)} and {number(a_fresh[last], 0)} {of} latent dimensions by then."
    )
    if verdict == "statistical":
        why = (
            " So most of what the book's protocol loses is **statistical approximation error**: the finite sample "
            "of each generation misses the rare images of its predecessor, and the next generation cannot learn "
            "what it never sees. With (almost) unlimited samples the recursion keeps its variety longer, and "
            "what it still loses is functional error."
        )
    elif verdict == "functional":
        why = (
            " Removing almost all of the statistical approximation error changed the speed of collapse by at "
            "most a generation: here the collapse is **functional approximation error**, the error of each fit "
            "itself, compounded: every generation learns its predecessor's samples, their errors included, and "
            "more samples of the same distribution cannot undo that."
        )
    else:
        why = (
            " Fresh samples made the collapse *faster* here, so the error that compounds is **functional "
            "approximation error**, and the statistical error of a small sample did not add to it. A likely "
            "reason: with a new sample every batch a generation cannot memorise a few images, and fits its "
            "predecessor's whole distribution more closely, errors included."
        )
    if a_fresh[last] < a_fresh[0]:
        why += (
            f" Under the authors' protocol the encoders also switch latent dimensions off (a median of "
            f"{number(a_fresh[0], 0)} active at generation 0, {number(a_fresh[last], 0)} at generation {last}): "
            "each generation's images vary less, and a dimension that no longer pays its KL price is dropped."
        )
    return facts + why


# ---------------------------------------------------------------- the latent density
def _spread_ratio(runs: Sequence[VAERun], generation: int) -> float:
    spread = stack(runs, "latent_spread")
    return float(np.median(spread[:, generation] / spread[:, 1]))


def latent_sentence(groups: Mapping[str, Sequence[VAERun]]) -> str:
    """The spread and tail share of generation 0's encoder means, generation by generation, per group of runs."""
    if not groups:
        raise ValueError("groups must hold at least one group of runs")
    parts = []
    for label, runs in groups.items():
        runs = _runs(runs)
        last = _last(runs)
        spread, tail = _median(runs, "latent_spread"), _median(runs, "latent_tail")
        parts.append(
            f"{label}: the spread goes from {number(spread[0], 2)} at generation 0 to {number(spread[last], 2)} at "
            f"generation {last}, and the share beyond generation 0's 1% and 99% quantiles from "
            f"{percent(tail[0], 1)} to {percent(tail[last], 1)}"
        )
    return "Medians over the seeds, " + "; ".join(parts) + "."


# ---------------------------------------------------------------- against the paper
def figure9_note(book: Sequence[VAERun], authors: Sequence[VAERun]) -> tuple[str, str]:
    """The verdict and the text of the "against the paper" note beside the Figure 9 reproduction.

    Checks, on the runs under the authors' protocol (``authors``), against the
    authors' recorded latent measure (:data:`AUTHORS_LATENT_SD`) at generation
    ``g = min(5, last generation)``:

    1. the tails wash out: the spread of generation 0's encoder means is
       smaller at generation ``g`` than at generation 1 (median over seeds);
    2. as fast as the authors': its ratio to generation 1 lies within
       :data:`SPEED_MARGIN` of the authors' five runs' range at ``g``.

    With fewer than 2 generations there is nothing to compare, and the note
    says so. The text also gives how far the book's protocol (``book``) got,
    and, where the speed differs, the measured reason: the latent dimensions
    the encoders still use, at this page's image size. Returns ``(verdict, text)``
    for :func:`collapse_utils.prose.paper_note`.
    """
    book, authors = _runs(book), _runs(authors)
    last = _last(authors)
    side = authors[0].side
    data = "28×28 MNIST" if side == 28 else f"{side}×{side} digits"
    arch = "their convolutional VAE" if authors[0].config.arch == "conv" else "a small fully connected VAE"
    entropy = _median(book, "entropy")
    one_digit = sum(r.entropy[-1] < 0.5 for r in book)
    book_text = (
        f"Under the book's protocol the median class entropy falls from {number(entropy[0], 2)} bits at "
        f"generation 0 to {number(entropy[_last(book)], 2)} at generation {_last(book)}, and {one_digit} of the "
        f"{len(book)} seeds end drawing essentially one digit (entropy under 0.5 bits)."
    )
    if last < 2:
        text = (
            f"With {last} generation{'s' if last != 1 else ''} after generation 0 this run cannot be set against the "
            f"authors' five. {book_text}"
        )
        return "differs", text
    g = min(5, last)
    ratio = _spread_ratio(authors, g)
    lo, hi = authors_ratio_range(g)
    washes = ratio < 1
    as_fast = lo - SPEED_MARGIN <= ratio <= hi + SPEED_MARGIN
    verdict = verdict_of([washes, as_fast])
    dims = _median(authors, "active_dims")
    text = (
        f"The paper's Figure 9 shows the samples of successive generations entangling the digits; the authors' "
        f"notebook measures it by encoding each generation's samples with the first VAE's encoder. In their five "
        f"recorded runs the spread of those codes at generation {g} is {number(lo, 2)} to {number(hi, 2)} of its "
        f"value at generation 1. Under the authors' protocol here ({data}, {arch}) it is {number(ratio, 2)} "
        f"(median of {len(authors)} seeds): the codes' spread "
        + ("shrinks, as theirs does" if washes else "does not shrink, unlike theirs")
        + (", about as fast." if as_fast else (", much faster." if ratio < lo else ", more slowly."))
    )
    if not as_fast and ratio < lo:
        variety = _median(authors, "feature_var")
        text += (
            f" The measured reason is the scale: at {data} the encoders stop using their latent space within a few "
            f"generations (a median of {number(dims[0], 0)} of {authors[0].config.latent_dim} dimensions active at "
            f"generation 0, {number(dims[g], 0)} at generation {g}) and the samples lose their variety (the judge's "
            f"variety {number(variety[0], 2)} at generation 0, {number(variety[g], 2)} at generation {g}); the "
            "authors' MNIST gives each latent dimension many more pixels to pay for itself."
        )
    elif not as_fast:
        text += f" Here the encoders keep a median of {number(dims[g], 0)} active latent dimensions at generation {g}."
    return verdict, f"{text} {book_text}"


# ---------------------------------------------------------------- retention
def retention_verdict(
    groups: Mapping[str, Sequence[VAERun]], hold: float = 0.5
) -> tuple[list[str], list[str]]:
    """The retention groups (all but the first, "no real data") that held the variety, and those that did not.

    A group *holds* when its median variety at the last generation is at least
    ``hold`` of its generation-0 value.
    """
    if len(groups) < 2:
        raise ValueError(
            f"groups must hold the no-retention runs and at least one retention, got {len(groups)}"
        )
    hold = validate.real("hold", hold, 0.0, 1.0, low_open=True, high_open=True)
    labels = list(groups)[1:]
    last = min(_last(_runs(runs)) for runs in groups.values())
    held = []
    for label in labels:
        med = _median(_runs(groups[label]), "feature_var")
        if med[last] >= hold * med[0]:
            held.append(label)
    return held, [label for label in labels if label not in held]


def _collapse_generation(runs: Sequence[VAERun], share: float = 0.1) -> int | None:
    """The first generation at which the median variety falls below ``share`` of its generation-0 value."""
    return first_generation_below(runs, "feature_var", share)


def _delay_text(label: str, runs: Sequence[VAERun], base: Sequence[VAERun], last: int) -> str:
    """How much keeping real images (``runs``) delayed the collapse against no real data (``base``), in words."""
    t, t0 = _collapse_generation(runs), _collapse_generation(base)
    tenth = "a tenth of generation 0's variety"
    if t is None:
        return f"{label} stayed above {tenth} for all {last} generations"
    if t0 is None:
        return f"{label} fell below {tenth} at generation {t}, while without real data it never did"
    if t > t0:
        return f"{label} only delayed the collapse: below {tenth} at generation {t}, against {t0} without real data"
    if t == t0:
        return f"{label} did not even delay it: below {tenth} at generation {t}, as without real data"
    return f"{label} fell below {tenth} sooner than no real data (generation {t} against {t0})"


def retention_sentence(groups: Mapping[str, Sequence[VAERun]], hold: float = 0.5) -> str:
    """Whether keeping real images held the variety, told from the runs, the first group being "no real data".

    The explanation depends on which groups held (:func:`retention_verdict`):
    all of them, some, or none; for those that did not hold, the sentence says
    whether they delayed the collapse (the median variety falling below a tenth
    of its generation-0 value) against no real data, and by how much.
    """
    held, failed = retention_verdict(groups, hold)
    base = list(groups)[0]
    last = min(_last(_runs(runs)) for runs in groups.values())
    med = {label: _median(_runs(runs), "feature_var") for label, runs in groups.items()}
    values = join_words([f"{number(med[label][last], 2)} ({label})" for label in med])
    head = f"At generation {last} the median variety is {values}; generation 0 had {number(med[base][0], 2)}."
    if not failed:
        return head + (
            f" Every share of real images shown held at least {percent(hold)} of it: real images anchor the "
            "recursion, each generation's error is partly corrected by the real images rather than passed on whole."
        )
    delays = "; ".join(_delay_text(label, groups[label], groups[base], last) for label in failed)
    if held:
        held_text = join_words(held)
        return head + (
            f" {held_text[0].upper()}{held_text[1:]} held at least {percent(hold)} of it; {delays}. A small share "
            "of real images is outweighed when the model's own samples collapse within a few generations; a large "
            "one anchors the recursion."
        )
    return head + (
        f" No share of real images shown held {percent(hold)} of it ({delays}). Real images do not anchor a "
        "recursion whose own samples collapse faster than the retained share can pull it back."
    )


# ---------------------------------------------------------------- the opening and the summary
def _kept(runs: Sequence[VAERun]) -> tuple[float, int]:
    """The median variety at the last generation as a share of generation 0's, and that generation."""
    v, last = _median(runs, "feature_var"), _last(runs)
    return (float(v[last] / v[0]) if v[0] > 0 else float("nan")), last


def takeaway(book: Sequence[VAERun], authors: Sequence[VAERun]) -> str:
    """The chapter's two-line takeaway: how much variety both protocols kept, and by when."""
    book, authors = _runs(book), _runs(authors)
    (kb, lb), (ka, la) = _kept(book), _kept(authors)
    return (
        "**Takeaway.** A VAE trained on its own samples loses the variety of its digits generation after "
        f"generation: at generation {lb} it kept {percent(kb)} of generation 0's variety under the book's protocol "
        f"(a fixed sample per generation) and {percent(ka)} at generation {la} under the authors' (fresh samples "
        f"every batch), medians of {len(book)} seeds."
    )


def findings_items(
    book: Sequence[VAERun],
    means: Sequence[VAERun],
    authors: Sequence[VAERun],
    by_retention: Mapping[str, Sequence[VAERun]],
) -> list[str]:
    """The chapter's computed findings, one sentence each, for :func:`collapse_utils.prose.findings`.

    ``book``: the book's protocol on Bernoulli draws; ``means``: the book's
    protocol on decoder means; ``authors``: the authors' protocol (fresh
    decoder means every batch); ``by_retention``: no real data first, then the
    retention groups.
    """
    book, means, authors = _runs(book), _runs(means), _runs(authors)
    kept, last = _kept(book)
    draws = {
        "later": "Training on Bernoulli draws kept the variety at least two generations longer than on means.",
        "level": "Bernoulli draws and decoder means lost the variety within a generation of each other.",
        "earlier": "Training on Bernoulli draws lost the variety at least two generations sooner than on means.",
    }[compare_halving(means, book)]
    error = {
        "statistical": "mostly statistical approximation error: fresh samples every batch slowed it by two "
        "generations or more",
        "functional": "functional approximation error: fresh samples every batch changed its speed by a "
        "generation at most",
        "fresh faster": "functional approximation error: fresh samples every batch even sped it up",
    }[protocol_verdict(means, authors)]
    lost_first = sorted({d for r in book for d in r.lost_at_start()})
    seeds_first = sum(bool(r.lost_at_start()) for r in book)
    start = (
        f"Generation 0 itself, trained on real images, already lost {_digits(lost_first)} in {seeds_first} of "
        f"{len(book)} seeds: the first fit's error, not the recursion's."
        if lost_first
        else "Generation 0 drew every digit in every seed: each digit lost was lost by the recursion."
    )
    held, failed = retention_verdict(by_retention)
    base = list(by_retention)[0]
    last_r = min(_last(_runs(runs)) for runs in by_retention.values())
    delays = "; ".join(_delay_text(label, by_retention[label], by_retention[base], last_r) for label in failed)
    if not failed:
        keep = f"Keeping real images ({join_words(held)}) held at least half of the variety."
    elif held:
        keep = f"Keeping real images: {join_words(held)} held at least half of the variety; {delays}."
    else:
        keep = f"Keeping real images did not hold half of the variety at this scale: {delays}."
    return [
        f"The book's recursion kept {percent(kept)} of generation 0's variety at generation {last} "
        f"(median of {len(book)} seeds).",
        draws,
        f"The collapse at this scale is {error}.",
        start,
        keep,
    ]


def decode_explanation(means: Sequence[VAERun], draws: Sequence[VAERun]) -> str:
    """Why training on decoder means (``means``) and on Bernoulli draws (``draws``) differed, or did not.

    The explanation follows :func:`compare_halving` (``draws`` against
    ``means``): draws kept the variety two generations longer or more, lost it
    two or more sooner, or within a generation of the means.
    """
    verdict = compare_halving(_runs(means), _runs(draws))
    if verdict == "later":
        return (
            "Here the decoder means lost the variety sooner. A VAE pays for every nat of information that its code "
            "carries (the KL term) and gains only what that information improves the reconstruction. Decoder means "
            "are blurred versions of the training images, so they differ from each other by less, and each latent "
            "dimension is worth less; the next VAE switches off the dimensions that no longer pay for themselves "
            "(posterior collapse), its means are blurrier still, and the loop closes. Bernoulli draws keep sharp "
            "black-and-white pixels whose noise is independent of everything else and cannot be learnt away."
        )
    if verdict == "earlier":
        return (
            "Here the Bernoulli draws lost the variety sooner. Each draw adds pixel noise that the next VAE must "
            "spend its reconstruction on, and the binary images are a shift away from the grey levels that "
            "generation 0 learnt; the means, though blurred, keep each digit's shape whole."
        )
    return (
        "Here the kind of training data made little difference to the speed: both lose the variety within a "
        "generation of each other, so what each fit loses does not depend on whether it sees blurred means or "
        "noisy draws of them."
    )
