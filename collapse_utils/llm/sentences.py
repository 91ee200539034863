"""The chapter's computed sentences about its experiments: what each run did, and how it compares with the paper.

Every helper takes numbers (medians and ranges over runs, as
:mod:`.plots` computes them) and returns Markdown; every outcome it states is
decided from those numbers, whichever way they came out, and the tests check
each branch. The "against the paper" notes go through
:func:`collapse_utils.prose.paper_note`, the book's one look for them. The
paper's numbers (OPT-125m's perplexity of 115 before fine-tuning on wikitext-2
and 34 after) are quoted as the paper's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..prose import join_words, number, paper_note, percent, verdict_of

#: The paper's test perplexities of OPT-125m on wikitext-2: before fine-tuning (zero-shot) and after.
PAPER_PRETRAINED, PAPER_FINETUNED = 115.0, 34.0
#: Two curves whose medians differ by less than this share are "about the same"; a curve that moves less than it
#: between two generations "holds".
TOLERANCE = 0.03


def _median(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def medians(matrix: np.ndarray) -> np.ndarray:
    """The median over runs (axis 0) of a ``(runs, generations)`` matrix, NaN-aware."""
    return np.nanmedian(np.asarray(matrix, dtype=float), axis=0)


def median_noise(matrix: np.ndarray) -> np.ndarray:
    """The standard error of each generation's median over runs (``1.2533 sd / sqrt(runs)``; 0 with one run)."""
    m = np.asarray(matrix, dtype=float)
    runs = np.sum(np.isfinite(m), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.nanstd(m, axis=0, ddof=1) if m.shape[0] > 1 else np.zeros(m.shape[1])
        out = np.where(runs > 1, 1.2533 * np.nan_to_num(sd) / np.sqrt(np.maximum(runs, 1)), 0.0)
    return out


def rise_pattern(curve: Sequence[float], tolerance: float = TOLERANCE, noise: Sequence[float] | None = None) -> str:
    """How a median curve over generations moved: ``"rises"``, ``"levels off"``, ``"holds"``, ``"falls back"``,
    ``"flat"``, ``"falls"``.

    ``"rises"``: above generation 0 at the end, and no step down after generation
    1 larger than ``tolerance`` (relative), with the last generation above
    generation 1 by more than ``tolerance`` (still rising); ``"levels off"``:
    above generation 0 and no such step down, but the last generations within
    ``tolerance`` of generation 1's level (the rise was done at once);
    ``"falls back"``: above generation 0 at some point and then down by more than
    ``tolerance`` from the peak; ``"flat"``: within ``tolerance`` of generation 0
    throughout; ``"falls"``: below generation 0 at the end.

    ``noise`` (per generation, the standard error of the median: :func:`median_noise`)
    makes "falls back" a claim about the runs, not about their noise: a step down from
    the peak counts only when it is also larger than twice the standard error of the
    difference. A curve whose steps down are all within that is ``"holds"``: it rose
    and then held near its peak.
    """
    c = np.asarray(curve, dtype=float)
    if c.size < 2 or not np.isfinite(c).all():
        raise ValueError(f"a curve of at least two finite values is needed, got {curve!r}")
    start, scale = c[0], max(abs(c[0]), 1e-12)
    if np.all(np.abs(c - start) <= tolerance * scale):
        return "flat"
    if c[-1] < start * (1 - tolerance):
        return "falls"
    peak = np.maximum.accumulate(c)
    drops = (peak - c) > tolerance * np.abs(peak)
    drops[0] = False
    if np.any(drops):
        if noise is None:
            return "falls back"
        e = np.asarray(noise, dtype=float)
        if e.shape != c.shape:
            raise ValueError(f"noise must have one value per generation ({c.size}), got shape {e.shape}")
        at_peak = np.array([int(np.argmax(c[: g + 1])) for g in range(c.size)])
        significant = (peak - c) > 2 * np.sqrt(e[at_peak] ** 2 + e**2)
        return "falls back" if np.any(drops & significant) else "holds"
    if c.size > 2 and c[-1] - c[1] > tolerance * abs(c[1]):
        return "rises"
    return "levels off" if c.size > 2 else "rises"


PATTERN_WORDS = {
    "rises": "rises generation after generation",
    "levels off": "jumps at generation 1 and then holds about that level",
    "falls back": "rises and then falls back",
    "holds": "rises and then holds near its peak (every later step down within the runs' noise)",
    "flat": "stays about where generation 0 was",
    "falls": "ends below generation 0",
}


def _curve_text(name: str, c: np.ndarray) -> str:
    return f"{name}, from {number(c[0])} at generation 0 to {number(c[-1])} at generation {len(c) - 1}"


def takeaway(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], pretrained: float) -> str:
    """The chapter's two-line takeaway, beside its key figure: what each recipe's test perplexity did.

    ``curves`` maps a recipe's name to ``(generations, values (runs, generations))``
    of the test perplexity (the first setting, no original data);
    ``pretrained`` is the pretrained model's.
    """
    if not curves:
        raise ValueError("curves must hold at least one recipe")
    parts = []
    for name, (_, values) in curves.items():
        c = medians(values)
        pattern = rise_pattern(c, noise=median_noise(values))
        words = PATTERN_WORDS[pattern].split(" (")[0]  # the takeaway is short; the figure's note says why
        parts.append(f"under {name} it {words} ({number(c[0])} to {number(c[-1])})")
    first = next(iter(curves.values()))[1]
    c0 = medians(first)[0]
    gap = (
        f"Fine-tuning on the original data took the test perplexity from the pretrained model's {number(pretrained)} "
        f"to {number(c0)} at generation 0. "
        if pretrained > c0 * (1 + TOLERANCE)
        else f"Fine-tuning on the original data left the test perplexity near the pretrained model's {number(pretrained)} "
        f"({number(c0)} at generation 0). "
    )
    return (
        f"**In short.** {gap}Then each generation learned only from the text of the one before it, with no original "
        f"data: {join_words(parts, 'while')} (median over runs)."
    )


def pretraining_sentence(pretrained: float, gen0: Sequence[float], best: Sequence[float], epochs: int) -> str:
    """Does fine-tuning do the work, as in the paper? The pretrained model's test perplexity beside generation 0's.

    ``gen0`` holds generation 0's test perplexity per run, ``best`` the epoch
    each run kept (0 is the first) out of ``epochs``.
    """
    g0 = _median(gen0)
    ratio = pretrained / g0
    paper_ratio = PAPER_PRETRAINED / PAPER_FINETUNED
    work = (
        "fine-tuning does the work here, as in the paper"
        if ratio >= 2
        else "fine-tuning does far less of the work than in the paper (the pretrained model already fits the "
        "fine-tuning language)"
    )
    kept = _median(best)
    if epochs == 1:
        epoch_text = "Generation 0 trains for one epoch (there is no epoch to choose)."
    elif kept >= 1:
        epoch_text = (
            f"Generation 0 keeps epoch {number(kept + 1, 0)} of {epochs} (median over runs): the validation loss was "
            "still falling after the first epoch."
        )
    else:
        epoch_text = (
            f"Generation 0 keeps the first of its {epochs} epochs (median over runs): more fine-tuning did not lower "
            "the validation loss."
        )
    return (
        f"Before fine-tuning, the pretrained model's test perplexity is {number(pretrained)}; generation 0, fine-tuned "
        f"on the original data, reaches {number(g0)} (median over runs), a factor of {number(ratio)}: {work} (the "
        f"paper: {number(PAPER_PRETRAINED, 0)} before and {number(PAPER_FINETUNED, 0)} after, a factor of "
        f"{number(paper_ratio)}). {epoch_text}"
    )


def figure10_note(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], pretrained: float,
                  best: Mapping[str, tuple[np.ndarray, np.ndarray]], authors: str, strict: str | None) -> str:  # fmt: skip
    """The "against the paper" note of Figure 10: does test perplexity rise over generations, and why (not)?

    The paper's Figure 10 is the authors' recipe: its test perplexity grows
    over the generations. ``curves`` and ``best`` (the epoch kept) map a recipe's
    name to ``(generations, values)``; ``authors`` and ``strict`` name the two
    recipes in them.
    """
    a = medians(curves[authors][1])
    pattern = rise_pattern(a, noise=median_noise(curves[authors][1]))
    verdict = {"rises": "agrees", "levels off": "partly", "holds": "partly"}.get(pattern, "differs")
    kept = medians(best[authors][1])[1:] if authors in best else np.array([])
    parts = [f"Under the authors' recipe the test perplexity {PATTERN_WORDS[pattern]} ({_curve_text('median', a)})."]
    near = abs(a[-1] - pretrained) <= 0.15 * pretrained  # why the authors' recipe moves as it does: the epoch kept
    if kept.size and np.nanmax(kept) < 1:
        if near:
            parts.append(
                "Every later generation keeps its first epoch, the one closest to the pretrained weights, because its "
                "loss on the real validation blocks only grows with more training on generated text; each generation "
                f"ends near the pretrained model ({number(pretrained)}): the real validation data anchor the "
                "recursion to the starting point, not to the truth."
            )
        else:
            parts.append(
                "Every later generation keeps its first epoch (the real validation loss only grows with more training "
                "on generated text), which limits how far each generation moves from the pretrained weights."
            )
    if strict is not None and strict in curves:
        s = medians(curves[strict][1])
        s_pattern = rise_pattern(s, noise=median_noise(curves[strict][1]))
        parts.append(
            f"Under the strict recipe, with no real data after generation 0, it {PATTERN_WORDS[s_pattern]} "
            f"({number(s[0])} to {number(s[-1])})"
            + (f", {'above' if s[-1] > pretrained else 'below'} the pretrained model's level." if s.size else ".")
        )
    parts.append("The paper sees its perplexity grow over the generations (its Figure 10), with real validation data.")
    return paper_note("the paper's Figure 10", verdict, " ".join(parts))


def _recovered(row: Mapping[str, float]) -> bool:
    """The median curve came back: the last generation below its peak by more than 3 x :data:`TOLERANCE` (it rose
    and fell back), or within that of generation 0."""
    return (
        row["last generation"] < row["peak"] * (1 - 3 * TOLERANCE)
        or row["last generation"] <= row["generation 0"] * (1 + 3 * TOLERANCE)
    )


SWITCH_WORDS = {
    ("checkpoint", "real"): "the checkpoint chosen on real validation blocks",
    ("checkpoint", "generated"): "the checkpoint chosen on the previous generation's text",
    ("checkpoint", "last"): "no checkpoint choice",
    ("init", "pretrained"): "a restart from the pretrained weights",
    ("init", "previous"): "a start from the previous generation's weights",
    ("pretrain_language", "related"): "pretraining on a related language",
    ("pretrain_language", "same"): "pretraining on the fine-tuning language itself",
}


def ablation_cause(table) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Which experiments recovered, which did not, and the switches that tell them apart.

    ``table`` is :func:`.plots.ablation_table`. Returns ``(recovered, not
    recovered, cause)``, where ``cause`` is the smallest set of switch values
    (one, else two) that every recovered experiment has and no other has;
    empty when none recovered, all did, or no such set exists.
    """
    import itertools

    rec = [n for n, row in table.iterrows() if _recovered(row)]
    rest = [n for n in table.index if n not in rec]
    if not rec or not rest:
        return rec, rest, []
    switches = ("checkpoint", "init", "pretrain_language")
    values = {n: {(s, table.loc[n, s]) for s in switches} for n in table.index}
    for size in (1, 2):
        for combo in itertools.combinations(sorted(set.intersection(*(values[n] for n in rec))), size):
            if not any(set(combo) <= values[n] for n in rest):
                return rec, rest, list(combo)
    return rec, rest, []


def ablation_sentences(table) -> str:
    """The ablation's findings: which experiments' perplexity recovered towards generation 0's, and why."""
    if table.empty:
        return "No ablation ran at this profile."
    rows = []
    for name, row in table.iterrows():
        spread = f"{number(row['change, 10%'], 1, True)} to {number(row['change, 90%'], 1, True)} over runs"
        runs = int(row["runs"])
        rows.append(
            f"{name} ({runs} run{'s' if runs != 1 else ''}): {number(row['generation 0'])} at generation 0, "
            f"{number(row['last generation'])} at generation {int(row['last'])} ({spread})"
        )
    rec, rest, cause = ablation_cause(table)
    head = "Test perplexity, median over runs: " + "; ".join(rows) + "."
    back = (
        f"the perplexity comes back (ends more than {percent(3 * TOLERANCE)} below its highest, or within "
        f"{percent(3 * TOLERANCE)} of generation 0's)"
    )
    if not rec:
        verdict = (
            "In none of these experiments does " + back.replace("comes back", "come back", 1).replace("ends", "end", 1)
            + ": no suspect undoes the previous generations' errors here."
        )
    elif not rest:
        verdict = f"In every one of them {back}."
    else:
        verdict = (
            f"{back[0].upper()}{back[1:]} only with {join_words(rec)}"
            + (
                f": what sets {'it' if len(rec) == 1 else 'them'} apart from every other experiment is "
                f"{join_words([SWITCH_WORDS[c] for c in cause])}"
                + (", together" if len(cause) > 1 else "")
                + ", the cause of the recovery at this scale."
                if cause
                else "; no one switch (or pair of switches) sets them apart from the others."
            )
        )
    return f"{head} {verdict}"


def band_note(first: Mapping[str, float], last: Mapping[str, float]) -> str:
    """The loss by frequency band, discussed whichever way it went: relative against absolute growth.

    ``first`` and ``last`` map a band to its mean test loss (nats per token) at
    generation 0 and at the last generation. The paper's account has the rare
    tokens hurt first; a ranking by relative growth can differ from one in nats,
    because the bands start at very different losses.
    """
    bands = [b for b in ("rare", "middle", "frequent") if np.isfinite(first.get(b, np.nan)) and np.isfinite(last.get(b, np.nan))]
    if not bands:
        return "No band holds scored tokens in both generations."
    absolute = {b: last[b] - first[b] for b in bands}
    relative = {b: absolute[b] / max(abs(first[b]), 1e-12) for b in bands}
    top_abs, top_rel = max(absolute, key=absolute.get), max(relative, key=relative.get)
    nats = join_words([f"{b} tokens {number(absolute[b], 2, True)} nats" for b in sorted(absolute, key=absolute.get, reverse=True)])
    if top_abs == top_rel == "rare":
        why = "the rare tokens lost most on either count, as the paper's account of collapse predicts."
    elif top_abs == "rare":
        why = (
            f"in nats the rare tokens lost most, as the paper's account predicts; relative to where each band started "
            f"the {top_rel} tokens lost most, because they started at the lowest loss "
            f"({number(first[top_rel], 2)} nats against {number(first['rare'], 2)} for the rare ones)."
        )
    else:
        why = (
            f"the {top_abs} tokens lost most even in nats: here the models' errors are not concentrated on the rare "
            "tokens. Beam search writes each context's likeliest continuations, and a model fine-tuned on them "
            "predicts every other continuation worse, frequent words included; the tails of the models' own text "
            "are measured below (coverage) and in Figure 11."
        )
    return f"In nats per token, from generation 0 to the last: {nats}; {why}"


def figure11_note(shift, quantile_column: str | None = None) -> str:
    """The "against the paper" note of Figure 11: does the bulk move left, and does a right tail grow?

    ``shift`` is :func:`.plots.shift_table` (a ``reference`` row, optionally a
    fresh-sample row, then one row per generation). The tail is judged against
    the fresh sample's share above the reference's high percentile (its
    sampling baseline), else against the share text like the reference would have.
    """
    cols = [c for c in shift.columns if c.startswith("share above the reference's")]
    col = quantile_column or cols[0]
    median_col = "median perplexity"
    rows = shift.set_index("generation")
    ref = rows.loc["reference"]
    gens = [g for g in rows.index if not isinstance(g, str)]
    last = rows.loc[gens[-1]]
    fresh_name = "a fresh sample of the source"
    baseline = float(rows.loc[fresh_name, col]) if fresh_name in rows.index else float(ref[col])
    left = last[median_col] < ref[median_col]
    # a tail grows when the last generation has more blocks above the high percentile than the baseline (and than
    # generation 1, so that it is the recursion's doing)
    first_written = rows.loc[gens[1]] if len(gens) > 1 else last
    tail = last[col] > max(baseline, 0.0) + 0.01 and last[col] >= first_written[col]
    verdict = verdict_of([left, tail])
    parts = [
        f"The bulk {'moves left' if left else 'does not move left'}: the median perplexity of the last generation's "
        f"training data under generation 0 is {number(last[median_col])} against the reference's "
        f"{number(ref[median_col])}.",
        f"The right tail {'grows' if tail else 'does not grow'}: {percent(last[col], 1)} of the last generation's "
        f"blocks lie above the reference's high percentile, against {percent(baseline, 1)} for "
        + ("a fresh sample of the source of the same size." if fresh_name in rows.index else "text like the reference."),
    ]
    if not tail:
        parts.append(
            "Beam search writes continuations that the first model finds likely; sequences it would hardly "
            "produce need a decoding that writes the model's improbable errors too (the section on sampling "
            "compares the two)."
        )
    return paper_note("the paper's Figure 11", verdict, " ".join(parts))


def repetition_note(kept: Sequence[float], none: Sequence[float], kept_label: str, none_label: str) -> str:
    """How repetitive the last generation's text is with original data kept, against without (either way)."""
    a, b = _median(kept), _median(none)
    if abs(a - b) <= 0.02:
        cmp = "about as repetitive as"
    elif a > b:
        cmp = "more repetitive than"
    else:
        cmp = "less repetitive than"
    return (
        f"At the last generation, {percent(a)} of the word 4-grams of a training block repeat an earlier one of the "
        f"same block with {kept_label}, against {percent(b)} with {none_label}: the text with original data kept is "
        f"{cmp} the text without."
    )


def real_text_note(values: np.ndarray, pretrained: float, data: str) -> str:
    """What the strict recipe did on real text: does the test perplexity rise over generations?"""
    c = medians(values)
    pattern = rise_pattern(c, noise=median_noise(values))
    return (
        f"On real text ({data}), with the strict recipe and no original data, the test perplexity {PATTERN_WORDS[pattern]}: "
        f"{_curve_text('median over runs', c)} (the pretrained model: {number(pretrained)})."
    )


def findings(items: Sequence[str]) -> str:
    """The chapter's summary: the computed findings as a list (:func:`collapse_utils.prose.findings`)."""
    from ..prose import findings as as_list

    return as_list(items)
