"""The chapter's figures and tables, drawn from saved :class:`~collapse_utils.llm.experiment.Results`.

Every plotting function takes ``ax=None`` (a new figure at the book's column
width when absent) and returns the axis, so that the chapter's sliders and
small multiples can drive them. Curves over generations are drawn with the
book's one band plot (:func:`collapse_utils.plotting.plot_band`): the median
over runs as a line, the 10-90% range over runs as a band. Generation 0 is the
model fine-tuned on the original data; generation ``t + 1`` is fine-tuned on
data built from generation ``t``'s outputs. Tables have named, rounded columns
(:func:`metrics_table`); provenance goes in a note (:func:`provenance`), not
in figure titles.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import plotting
from .experiment import Results
from .measures import BAND_NAMES

SETTING_COLORS = ("C0", "C3", "C2", "C4", "C1")


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.6))
    return ax


def setting_order(results: Results) -> list[str]:
    """The settings of the results in the configuration's order (then any others found in the table)."""
    configured = [s.name for s in results.config.settings]
    found = list(results.settings)
    return [s for s in configured if s in found] + [s for s in found if s not in configured]


def _color(results: Results, setting: str) -> str:
    return SETTING_COLORS[results.settings.index(setting) % len(SETTING_COLORS)]


def metric_summary(results: Results, metric: str):
    """Mean, min and max of ``metric`` over runs, per setting and generation (a DataFrame)."""
    t = results.table
    if metric not in t:
        raise KeyError(f"no metric {metric!r}; the table has {sorted(t.columns)}")
    return (
        t.groupby(["setting", "generation"])[metric].agg(["mean", "min", "max", "std", "count"]).reset_index()
    )


def runs_matrix(results: Results, metric: str, setting: str) -> tuple[np.ndarray, np.ndarray]:
    """``(generations, values)`` of ``metric`` for one setting: ``values`` is ``(runs, generations)``, NaN where missing."""
    t = results.table
    if metric not in t:
        raise KeyError(f"no metric {metric!r}; the table has {sorted(t.columns)}")
    t = t[t["setting"] == setting]
    wide = t.pivot_table(index="run", columns="generation", values=metric, aggfunc="first")
    return wide.columns.to_numpy(dtype=int), wide.to_numpy(dtype=float)


def _plot_runs(ax, series, metric: str, ylabel: str | None, reference: float | None, reference_label: str | None):
    """The band plot behind :func:`plot_metric` and :func:`plot_variants`: for each ``(label, results,
    setting, colour)`` of ``series``, ``metric`` per generation (median over runs and 10-90% band), after an
    optional dashed ``reference`` line."""
    ax = _ax(ax)
    if reference is not None:
        ax.axhline(reference, color="0.4", ls="--", lw=1, label=reference_label)
    for label, res, setting, color in series:
        gens, values = runs_matrix(res, metric, setting)
        runs = int(np.isfinite(values).any(axis=1).sum())
        plotting.plot_band(ax, gens, values, color=color, label=f"{label} ({runs} run{'' if runs == 1 else 's'})")
    ax.set_xlabel("generation")
    ax.set_ylabel(ylabel or metric.replace("_", " "))
    plotting.integer_ticks(ax)
    if metric == "best_epoch":  # epochs are whole numbers
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    return ax


def plot_metric(
    results: Results,
    metric: str = "test_perplexity",
    ax=None,
    ylabel: str | None = None,
    reference: float | None = None,
    reference_label: str | None = None,
    settings: Sequence[str] | None = None,
):
    """``metric`` per generation, per setting: the median over runs (line) and the 10-90% band over runs.

    With ``metric="test_perplexity"`` this is Figure 10 of the paper.
    """
    series = [(results.label(s), results, s, _color(results, s)) for s in settings or results.settings]
    return _plot_runs(ax, series, metric, ylabel, reference, reference_label)


def plot_variants(
    variants: dict[str, Results],
    setting: str,
    metric: str = "test_perplexity",
    ax=None,
    ylabel: str | None = None,
    reference: float | None = None,
    reference_label: str | None = None,
):
    """``metric`` per generation for one setting of several experiments (``{"name": results}``) that differ
    in one option, such as the decoding: the median over runs and the 10-90% band, one colour each; with
    ``reference``, a dashed line (a baseline such as a fresh sample's coverage)."""
    series = [(name, res, setting, SETTING_COLORS[(k * 3) % len(SETTING_COLORS)])
              for k, (name, res) in enumerate(variants.items())]  # fmt: skip
    return _plot_runs(ax, series, metric, ylabel, reference, reference_label)


def variant_growth(variants: dict[str, Results], setting: str, metric: str = "test_perplexity") -> dict[str, float]:
    """Per experiment of ``variants``: the median over runs of ``metric`` at the last generation minus generation 0
    for ``setting`` (the input of :func:`~collapse_utils.llm.measures.settings_sentence`)."""
    out = {}
    for name, res in variants.items():
        per_run = run_growth(res, metric, setting)
        if per_run is not None:
            out[name] = float(np.nanmedian(per_run))
    return out


def variant_ranges(
    variants: dict[str, Results], setting: str, metric: str = "test_perplexity"
) -> dict[str, tuple[float, float]]:
    """Per experiment of ``variants``: :func:`growth_ranges` of ``setting``."""
    out = {}
    for name, res in variants.items():
        r = growth_ranges(res, metric, [setting])
        if setting in r:
            out[name] = r[setting]
    return out


def plot_word_loss(results: Results, ax=None, settings: Sequence[str] | None = None):
    """The model's loss per word on the test blocks beside a perfect model's loss on exactly the same words.

    Both are summed over the same words (headings and cut words skipped by
    both, see :func:`collapse_utils.llm.measures.paired_word_losses`); the
    dashed line is the true distribution's loss on those words, the floor that
    no model reaches in expectation.
    """
    ax = plot_metric(results, "test_word_nll", ax=ax, ylabel="test loss per word (nats)", settings=settings)
    truth = float(np.nanmedian(results.table["test_word_nll_truth"]))
    ax.axhline(truth, color="k", ls="--", lw=1, label="a perfect model on the same words")
    ax.legend()
    return ax


def plot_band_losses(results: Results, setting: str, ax=None, relative: bool = True):
    """The test loss by token-frequency band (rare, middle, frequent) per generation, for one setting.

    With ``relative=True`` each band's loss is drawn as its change since
    generation 0 (of the same run), so the bands can be compared: the paper's
    account of collapse has the rare tokens (the tail) suffer first.
    """
    ax = _ax(ax)
    colors = {"rare": "C3", "middle": "C1", "frequent": "C0"}
    for band in BAND_NAMES:
        gens, values = runs_matrix(results, f"test_nll_{band}", setting)
        if relative:
            values = values - values[:, :1]
        plotting.plot_band(ax, gens, values, color=colors[band], label=f"{band} tokens")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("generation")
    ax.set_ylabel("change since gen. 0 (nats)" if relative else "test loss (nats/token)")
    ax.set_title(results.label(setting))
    plotting.integer_ticks(ax)
    ax.legend()
    return ax


def plot_coverage(results: Results, setting: str, ax=None, bands: Sequence[str] = ("rare", "frequent")):
    """Share of the language's word types of a band still used in each generation's training data.

    Each band (rare = the tail, frequent = the head) is drawn with its
    sampling baseline (dashed): the share that a fresh sample of the source of
    the same size uses. A generation below its baseline uses fewer of the
    band's words than the source itself would in as much text.
    """
    ax = _ax(ax)
    colors = {"rare": "C3", "middle": "C1", "frequent": "C0"}
    names = {"rare": "rare words (the tail)", "middle": "middle words", "frequent": "frequent words (the head)"}
    for band in bands:
        gens, values = runs_matrix(results, f"coverage_{band}", setting)
        plotting.plot_band(ax, gens, values, color=colors[band], label=names[band])
        base = float(np.nanmedian(results.table[f"coverage_{band}_baseline"]))
        ax.axhline(base, color=colors[band], ls="--", lw=1, label=f"{names[band].split(' (')[0]}: a fresh sample")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("generation")
    ax.set_ylabel("share of the band's word types used")
    ax.set_title(results.label(setting))
    plotting.integer_ticks(ax)
    ax.legend(fontsize=plotting.MIN_FONT_PT)
    return ax


#: The table's columns for readers: internal name -> readable name (see :func:`metrics_table`).
READABLE = {
    "test_perplexity": "test perplexity",
    "test_word_nll": "test loss per word",
    "test_word_nll_truth": "perfect model per word",
    "test_nll_rare": "loss, rare tokens",
    "test_nll_frequent": "loss, frequent tokens",
    "train_ppl_gen0_median": "training data perplexity (gen. 0)",
    "distinct_2": "distinct 2-grams",
    "true_nll": "true NLL per word of the training data",
    "coverage_rare": "tail coverage",
    "coverage_rare_baseline": "tail coverage of a fresh sample",
    "n_original": "original blocks",
}


def metrics_table(results: Results, columns: Sequence[str] | None = None, digits: int = 2):
    """The median over runs per setting and generation, with readable column names, rounded.

    ``columns`` are internal metric names (default: those of :data:`READABLE`
    that the table has); the result is indexed by setting label and generation.
    """
    t = results.table
    cols = [c for c in (columns or READABLE) if c in t]
    out = t.groupby(["setting", "generation"])[cols].median().reset_index()
    order = {name: i for i, name in enumerate(setting_order(results))}
    out = out.sort_values(["setting", "generation"], key=lambda c: c.map(order) if c.name == "setting" else c)
    out.insert(0, "setting ", [results.label(s) for s in out["setting"]])
    out = out.drop(columns="setting").rename(columns={"setting ": "setting", **READABLE})
    return out.set_index(["setting", "generation"]).round(digits)


def _log_ticks(ax) -> None:
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _hist(ax, values: np.ndarray, bins: np.ndarray, **kwargs: Any) -> None:
    values = values[np.isfinite(values)]
    ax.hist(values, bins=bins, density=True, histtype="stepfilled", **kwargs)


REFERENCE_LABEL = "original text unseen by gen. 0"


def reference_ppl(results: Results, setting: str) -> np.ndarray | None:
    """Figure 11's reference: the validation blocks' perplexity under generation 0 (all runs), if saved."""
    try:
        return results.array("reference_ppl", setting, 0)
    except KeyError:
        return None


def _overlay_generation(ax, results: Results, setting: str, generation: int, name: str, bins) -> int:
    """Histogram of the reference (grey) and, on top, of ``name`` for ``generation`` (clamped).

    For perplexities (``train_ppl``) the reference is original text that the
    generation-0 model never trained on (the validation blocks), when the
    results hold it; otherwise, and for the true NLL, generation 0's
    training data (the original blocks). Returns the generation drawn.
    """
    gens = results.generations(setting)
    generation = int(min(max(generation, gens[0]), gens[-1]))
    ref = reference_ppl(results, setting) if name == "train_ppl" else None
    if ref is not None:
        _hist(ax, ref, bins, color="0.6", alpha=0.5, label=REFERENCE_LABEL)
        if generation == 0:
            _hist(ax, results.array(name, setting, 0), bins, color=_color(results, setting), alpha=0.55,
                  label="generation 0's training data")
    else:
        _hist(ax, results.array(name, setting, 0), bins, color="0.6", alpha=0.5, label="generation 0 (original)")
    if generation:
        _hist(
            ax,
            results.array(name, setting, generation),
            bins,
            color=_color(results, setting),
            alpha=0.55,
            label=f"generation {generation}",
        )
    return generation


def ppl_bins(results: Results, setting: str, name: str = "train_ppl", count: int = 40) -> np.ndarray:
    """Log-spaced bins covering every generation of ``setting`` (one scale for all panels)."""
    parts = [results.array(name, setting, g) for g in results.generations(setting)]
    ref = reference_ppl(results, setting) if name == "train_ppl" else None
    vals = np.concatenate(parts + ([ref] if ref is not None else []))
    vals = vals[np.isfinite(vals) & (vals > 0)]
    lo, hi = vals.min(), vals.max()  # the whole range: the tails are the point
    if name == "train_ppl":
        return np.geomspace(max(lo, 1.0), max(hi, lo * 1.01), count)
    return np.linspace(lo, max(hi, lo + 1e-3), count)


def plot_ppl_histogram(
    results: Results, setting: str, generation: int, ax=None, bins: np.ndarray | None = None, legend: bool = True
):
    """Figure 11 for one generation: perplexity of every training block under the generation-0 model.

    The reference is drawn in grey: original text the generation-0 model never
    trained on (see :func:`reference_ppl`).
    """
    ax = _ax(ax)
    bins = ppl_bins(results, setting) if bins is None else bins
    _overlay_generation(ax, results, setting, generation, "train_ppl", bins)
    _log_ticks(ax)
    ax.set_xlabel("perplexity under the gen-0 model")
    ax.set_ylabel("density")
    if legend:
        ax.legend()
    return ax


def plot_ppl_histograms(results: Results, setting: str, ax=None, generations: Sequence[int] | None = None):
    """Figure 11 of the paper: the histograms of all generations on one axis, coloured by generation.

    Generation ``g``'s histogram is its training data scored by the
    generation-0 model of the same run: generation 0's are the original blocks
    (which it trained on, hence too likely), generation ``g + 1``'s those
    written by generation ``g``. The grey reference is original text that the
    generation-0 model never saw.
    """
    import matplotlib.pyplot as plt

    ax = _ax(ax)
    gens = list(generations) if generations is not None else results.generations(setting)
    bins = ppl_bins(results, setting)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(gens)))
    ref = reference_ppl(results, setting)
    if ref is not None:
        _hist(ax, ref, bins, color="0.6", alpha=0.4, label=REFERENCE_LABEL)
    for g, color in zip(gens, colors):
        vals = results.array("train_ppl", setting, g)
        ax.hist(
            vals[np.isfinite(vals)],
            bins=bins,
            density=True,
            histtype="step",
            lw=1.6,
            color=color,
            label=f"gen {g}",
        )
    _log_ticks(ax)
    ax.set_xlabel("perplexity under the generation-0 model")
    ax.set_ylabel("density")
    ax.set_title(results.label(setting))
    ax.legend(ncol=2)
    return ax


def plot_truth_histogram(
    results: Results,
    setting: str,
    generation: int,
    ax=None,
    entropy: float | None = None,
    bins: np.ndarray | None = None,
):
    """Beyond the paper: the *true* NLL per word of every training block (synthetic language only).

    ``entropy`` (the source's entropy rate) marks where text of the true
    distribution concentrates; generated text far to the left is 'too likely'
    (the tails are gone), far to the right is text the source would hardly write.
    """
    ax = _ax(ax)
    bins = ppl_bins(results, setting, "true_nll") if bins is None else bins
    _overlay_generation(ax, results, setting, generation, "true_nll", bins)
    if entropy is not None:
        ax.axvline(entropy, color="k", ls="--", lw=1, label="entropy rate of the source")
    ax.set_xlabel("true negative log-likelihood per word (nats)")
    ax.set_ylabel("density")
    ax.legend()
    return ax


def plot_generation(results: Results, setting: str, generation: int, ax=None, legend: bool = True):
    """The slider's view: Figure 11 for one setting and generation (see :func:`plot_ppl_histogram`).

    ``legend=False`` for small panels (the grey histogram is the reference, the coloured one the
    generation's training data).
    """
    ax = plot_ppl_histogram(results, setting, generation, ax=ax, legend=legend)
    ax.set_title(f"{results.label(setting)}, generation {generation}")
    return ax


def format_samples(
    results: Results,
    setting: str,
    generations: Sequence[int] | None = None,
    run: int = 0,
    index: int = 0,
    width: int = 100,
    chars: int = 300,
) -> str:
    """The text of one training block per generation (the same position in every generation)."""
    gens = results.generations(setting) if generations is None else generations
    lines = []
    for g in gens:
        sample = results.samples(setting, g, run)[index]
        kind = "original block" if sample["original"] else f"written by generation {g - 1}"
        text = " ".join(sample["text"].split())[:chars]
        lines.append(f"generation {g} ({kind}):")
        lines += textwrap.wrap(text, width, initial_indent="    ", subsequent_indent="    ")
    return "\n".join(lines)


def provenance(results: Results, profile: str | None = None) -> str:
    """One line saying which run the figures come from (for a note or caption; it holds no folder path)."""
    c = results.config
    t = results.table
    runs = int(t["run"].nunique()) if len(t) else 0
    where = f"The figures come from the `{profile}` profile: " if profile else "The figures come from saved results: "
    blocks = int(t["n_blocks"].min()) if len(t) else 0
    return (
        f"{where}{model_name(results)} fine-tuned on {data_name(results)}, {len(t)} finished generations, "
        f"{runs} run{'s' if runs != 1 else ''} per setting, {blocks} training blocks of {c.block_size} tokens."
    )


# --------------------------------------------------------------------------- tables and numbers for the prose
def run_growth(results: Results, metric: str, setting: str) -> np.ndarray | None:
    """Per run of ``setting``: ``metric`` at the last generation minus at generation 0 (None before two)."""
    gens, values = runs_matrix(results, metric, setting)
    return values[:, -1] - values[:, 0] if len(gens) > 1 else None


def growth(results: Results, metric: str = "test_perplexity") -> dict[str, float]:
    """Per setting: the median over runs of ``metric`` at the last generation minus at generation 0."""
    out = {}
    for setting in setting_order(results):
        per_run = run_growth(results, metric, setting)
        if per_run is not None:
            out[setting] = float(np.nanmedian(per_run))
    return out


def growth_ranges(
    results: Results, metric: str = "test_perplexity", settings: Sequence[str] | None = None, q: float = 0.1
) -> dict[str, tuple[float, float]]:
    """Per setting: the ``q`` and ``1 - q`` quantiles over runs of ``metric`` at the last generation minus at 0."""
    out = {}
    for setting in settings or setting_order(results):
        per_run = run_growth(results, metric, setting)
        per_run = per_run[np.isfinite(per_run)] if per_run is not None else []
        if len(per_run):
            out[setting] = (float(np.quantile(per_run, q)), float(np.quantile(per_run, 1 - q)))
    return out


def band_means(results: Results, setting: str, generation: int) -> dict[str, float]:
    """The median over runs of the test loss of each frequency band at ``generation``."""
    t = results.table
    t = t[(t["setting"] == setting) & (t["generation"] == generation)]
    return {b: float(np.nanmedian(t[f"test_nll_{b}"])) for b in BAND_NAMES}


def sampled_row(sampled: Results, generation: int = 0) -> str:
    """The writer table's row name for generation ``generation`` of the sampling experiment."""
    return f"generation {generation}, sampling ({sampled.label(setting_order(sampled)[0])})"


def writer_table(results: Results, generation: int = 0, sampled: Results | None = None):
    """Does generation 0 write the language? Its written blocks beside the two references, one row each.

    Rows: a fresh sample of the source and the perfect model writing with the
    experiment's decoding (both from ``base.json``'s ``writer``), then the text
    written by generation ``generation`` of every setting (median over runs of
    the ``written_*`` columns); with ``sampled`` (the results of
    :func:`~collapse_utils.llm.experiment.decoding_variant`), the text its
    generation ``generation`` wrote by sampling, second (:func:`sampled_row`).
    Columns: :data:`~collapse_utils.llm.measures.WRITER_COLUMNS` and the share
    of impossible word pairs.
    """
    import pandas as pd

    from .measures import FRESH_ROW, IMPOSSIBLE_COLUMN, WRITER_COLUMNS, WRITTEN_KEYS

    columns = (*WRITER_COLUMNS, IMPOSSIBLE_COLUMN)

    def written(res: Results) -> dict[str, dict[str, float]]:
        out, t = {}, res.table
        for setting in setting_order(res):
            sel = t[(t["setting"] == setting) & (t["generation"] == generation)]
            if len(sel) and all(k in sel for k in WRITTEN_KEYS[:4]):
                out[setting] = {c: float(np.nanmedian(sel[k])) if k in sel else float("nan")
                                for c, k in zip(columns, WRITTEN_KEYS)}  # fmt: skip
        return out

    base = dict(results.base.get("writer", {}))
    rows = {FRESH_ROW: base.pop(FRESH_ROW)} if FRESH_ROW in base else {}
    if sampled is not None:
        for values in list(written(sampled).values())[:1]:
            rows[sampled_row(sampled, generation)] = values
    rows.update(base)
    for setting, values in written(results).items():
        rows[f"generation {generation} ({results.label(setting)})"] = values
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(columns))
    table.index.name = "text"
    return table.round(3)


def shift_table(results: Results, setting: str, quantile: float = 0.99):
    """Figure 11 as numbers for one setting: each generation's training data against the unseen reference.

    See :func:`collapse_utils.llm.measures.perplexity_shift`; without a saved
    reference (older results) generation 0's training data serve as reference.
    """
    from .measures import perplexity_shift

    ppl = {g: results.array("train_ppl", setting, g) for g in results.generations(setting)}
    ref = reference_ppl(results, setting)
    try:  # the sampling baseline: a fresh sample of the source scored by generation 0 (the embedded language)
        fresh = results.array("fresh_ppl", setting, 0)
    except KeyError:
        fresh = None
    return perplexity_shift(ppl, ppl[0] if ref is None else ref, quantile, fresh=fresh).round(3)


# --------------------------------------------------------------------------- several experiments of the chapter
def model_name(results: Results) -> str:
    """The model the results started from, in readers' words (``"OPT-125m"``, ``"a small OPT (2 layers, ...)"``)."""
    name = str(results.base.get("model", results.config.model))
    if name.startswith("facebook/opt-"):
        return "OPT-" + name.split("-", 1)[1]
    return f"a {name}" if name.startswith("small") else name


def data_name(results: Results) -> str:
    """The data in readers' words: ``"the embedded language"``, ``"wikitext-2"``, or a folder's own description."""
    from pathlib import Path

    data = str(results.base.get("data", results.config.data))
    if data == "synthetic" or data.endswith("synthetic"):
        return "the embedded language"
    if data.startswith("wikitext-2"):
        return "wikitext-2"
    source = Path(str(results.config.data)) / "source.txt"
    return source.read_text().strip() if source.is_file() else f"the text of the folder {Path(data).name!r}"


def generation_values(results: Results, setting: str, generation: int, metric: str = "test_perplexity") -> np.ndarray:
    """``metric`` of every run at ``generation`` (``-1``: the last) for one setting (runs with the value only)."""
    gens, values = runs_matrix(results, metric, setting)
    column = values[:, generation if generation < 0 else list(gens).index(generation)]
    return column[np.isfinite(column)]


def best_epochs(results: Results, setting: str, generation: int) -> np.ndarray:
    """The epoch every run of ``setting`` kept at ``generation`` (0 is the first)."""
    return generation_values(results, setting, generation, "best_epoch")


def recipe_curves(named: dict[str, Results], setting: str, metric: str = "test_perplexity") -> dict[str, tuple]:
    """``{name: (generations, values (runs, generations))}`` of ``metric`` for one setting of several experiments."""
    return {name: runs_matrix(res, metric, setting) for name, res in named.items() if setting in res.settings}


def best_epochs_by_generation(named: dict[str, Results], setting: str) -> dict[str, tuple]:
    """:func:`recipe_curves` of the epoch each generation kept."""
    return recipe_curves(named, setting, "best_epoch")


def plot_recipes(named: dict[str, Results], setting: str, ax=None, metric: str = "test_perplexity"):
    """The paper's Figure 10 for one setting under several recipes, with the pretrained model's level (dashed)."""
    first = next(iter(named.values()))
    base = first.base.get("test_perplexity") if metric == "test_perplexity" else None
    ax = plot_variants(named, setting, metric, ax=ax, ylabel="perplexity on the original test set",
                       reference=base, reference_label="the pretrained model, before fine-tuning")  # fmt: skip
    ax.set_title(first.label(setting))
    return ax


def plot_vocabulary(language: Any, ax=None):
    """Every word's probability against its rank (log-log), the tail (the rarest words carrying ~10% of the mass) shaded."""
    ax = _ax(ax)
    freq = np.sort(language.stationary[2:])[::-1]
    rank = np.arange(1, len(freq) + 1)
    ax.loglog(rank, freq, color="C0", label="word probability (stationary)")
    tail = int(language.tail.sum())
    ax.axvspan(len(freq) - tail, len(freq), color="C3", alpha=0.15, label=f"the tail: the {tail} rarest words")
    ax.set(xlabel="rank", ylabel="probability", title="A Zipf-like vocabulary with a long tail")
    ax.legend()
    return ax


def show_table(table, digits: int = 3):
    """A table for the page: its row names as a first column, no numeric index, numbers rounded."""
    flat = table.reset_index() if table.index.name is not None or not _plain_index(table) else table
    return flat.style.hide(axis="index").format(precision=digits, na_rep="n/a")


def _plain_index(table) -> bool:
    import pandas as pd

    return isinstance(table.index, pd.RangeIndex)


ABLATION_COLUMNS = ("generation 0", "last generation", "change", "change, 10%", "change, 90%", "pretrained model",
                    "epoch kept after generation 0", "runs")  # fmt: skip


def ablation_table(named: dict[str, Results], setting: str, metric: str = "test_perplexity"):
    """One row per experiment: ``metric`` at generation 0, at its highest and at the last generation (the median
    curve over runs), the change from generation 0 to the last (median and 10-90% over runs), the pretrained
    model's ``metric``, the median epoch kept by generations 1.. , the runs, and the recipe's three switches
    (``checkpoint``, ``init``, ``pretrain_language``)."""
    import pandas as pd

    rows = {}
    for name, res in named.items():
        if setting not in res.settings:
            continue
        gens, values = runs_matrix(res, metric, setting)
        change = values[:, -1] - values[:, 0]
        change = change[np.isfinite(change)]
        _, epochs = runs_matrix(res, "best_epoch", setting)
        c = res.config
        curve = np.nanmedian(values, axis=0)
        rows[name] = {
            "generation 0": float(curve[0]),
            "peak": float(np.nanmax(curve)),
            "last generation": float(curve[-1]),
            "change": float(np.median(change)) if len(change) else float("nan"),
            "change, 10%": float(np.quantile(change, 0.1)) if len(change) else float("nan"),
            "change, 90%": float(np.quantile(change, 0.9)) if len(change) else float("nan"),
            "pretrained model": float(res.base.get("test_perplexity", float("nan"))),
            "epoch kept after generation 0": float(np.nanmedian(epochs[:, 1:])) if epochs.shape[1] > 1 else float("nan"),
            "runs": int(np.isfinite(values[:, -1]).sum()),
            "checkpoint": c.checkpoint,
            "init": c.init,
            "pretrain_language": c.pretrain_language,
            "last": int(gens[-1]),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "experiment"
    return table


def plot_ablation(named: dict[str, Results], setting: str, ax=None):
    """The ablation as intervals: each experiment's change of test perplexity from generation 0 to the last
    (median dot, 10-90% line over runs), and (grey) its pretrained model's perplexity minus generation 0's."""
    ax = _ax(ax)
    table = ablation_table(named, setting)
    y = np.arange(len(table))[::-1]
    for k, (name, row) in enumerate(table.iterrows()):
        ax.plot([row["change, 10%"], row["change, 90%"]], [y[k], y[k]], color="C0", lw=2.5, solid_capstyle="round")
        ax.plot(row["change"], y[k], "o", color="C0", ms=6, label="change over the generations" if k == 0 else None)
        ax.plot(row["pretrained model"] - row["generation 0"], y[k], "|", color="0.45", ms=14, mew=2,
                label="the pretrained model, against generation 0" if k == 0 else None)  # fmt: skip
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_yticks(y, [f"{name} ({int(r['runs'])} runs)" for name, r in table.iterrows()])
    lasts = sorted({int(v) for v in table["last"]})
    ax.set_xlabel(f"test perplexity: generation {'/'.join(map(str, lasts))} minus generation 0")
    ax.legend(loc="lower right")
    return ax


def band_shares(results: Results, setting: str) -> dict[str, float]:
    """The share of the test tokens in each frequency band (the same at every generation)."""
    t = results.table
    t = t[(t["setting"] == setting) & (t["generation"] == 0)]
    return {b: float(np.nanmedian(t[f"test_nll_{b}_share"])) for b in BAND_NAMES if f"test_nll_{b}_share" in t}


def plot_sampling(variants: dict[str, Results], setting: str):
    """Beam search against sampling, one setting: test perplexity, the training data's median perplexity under
    generation 0, and the tail's coverage beside a fresh sample's (three stacked panels); returns the figure."""
    import matplotlib.pyplot as plt

    first = next(iter(variants.values()))
    tail = "coverage_rare" in first.table
    fig, axes = plt.subplots(2 + tail, 1, figsize=(plotting.COLUMN_WIDTH, 2.6 * (2 + tail)), sharex=True)
    plot_variants(variants, setting, "test_perplexity", ax=axes[0], ylabel="test perplexity")
    plot_variants(variants, setting, "train_ppl_gen0_median", ax=axes[1],
                  ylabel="training data: median\nperplexity under gen. 0")  # fmt: skip
    axes[1].get_legend().remove()
    if tail:
        plot_variants(variants, setting, "coverage_rare", ax=axes[2], ylabel="tail words used",
                      reference=float(np.nanmedian(first.table["coverage_rare_baseline"])),
                      reference_label="a fresh sample of the source, same size")  # fmt: skip
        handles, labels = axes[2].get_legend_handles_labels()
        axes[2].legend(handles[:1], labels[:1])  # the baseline; the other two are named in the first panel
    for ax in axes[:-1]:
        ax.set_xlabel("")
    fig.suptitle(first.label(setting))
    fig.tight_layout()
    return fig


def plot_experiment_generation(runs: dict[str, Results], experiment: str, setting: str, generation: int, ax=None,
                               legend: bool = True):  # fmt: skip
    """The chapter's slider: Figure 11 for one experiment (of ``runs``), setting and generation."""
    res = runs[experiment]
    ax = plot_ppl_histogram(res, setting, generation, ax=ax, legend=legend)
    ax.set_title(f"{experiment}, generation {generation}")
    return ax
