"""The chapter's figures, drawn from saved :class:`~collapse_utils.llm.experiment.Results`.

Every function takes ``ax=None`` (a new figure when absent) and returns the axis,
so that the chapter's sliders and small multiples can drive them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from .experiment import Results

SETTING_COLORS = ("C0", "C3", "C2", "C4", "C1")


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 3.8))
    return ax


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


def plot_metric(
    results: Results,
    metric: str = "test_perplexity",
    ax=None,
    ylabel: str | None = None,
    reference: float | None = None,
    reference_label: str | None = None,
):
    """``metric`` per generation: the mean over runs (line) and the range over runs (band), per setting.

    With ``metric="test_perplexity"`` this is Figure 10 of the paper.
    """
    ax = _ax(ax)
    summary = metric_summary(results, metric)
    for setting in results.settings:
        s = summary[summary["setting"] == setting]
        color = _color(results, setting)
        runs = int(s["count"].max())
        ax.plot(
            s["generation"], s["mean"], "o-", color=color, label=f"{results.label(setting)} ({runs} runs)"
        )
        if runs > 1:
            ax.fill_between(s["generation"], s["min"], s["max"], color=color, alpha=0.2, lw=0)
    if reference is not None:
        ax.axhline(reference, color="0.4", ls="--", lw=1, label=reference_label)
    ax.set_xlabel("generation")
    ax.set_ylabel(ylabel or metric.replace("_", " "))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8)
    return ax


def _log_ticks(ax) -> None:
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _hist(ax, values: np.ndarray, bins: np.ndarray, **kwargs: Any) -> None:
    values = values[np.isfinite(values)]
    ax.hist(values, bins=bins, density=True, histtype="stepfilled", **kwargs)


def _overlay_generation(ax, results: Results, setting: str, generation: int, name: str, bins) -> int:
    """Histogram of ``name`` for generation 0 (grey) and, on top, for ``generation`` (clamped).

    Returns the generation drawn.
    """
    gens = results.generations(setting)
    generation = int(min(max(generation, gens[0]), gens[-1]))
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
    vals = np.concatenate([results.array(name, setting, g) for g in results.generations(setting)])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    lo, hi = vals.min(), vals.max()  # the whole range: the tails are the point
    if name == "train_ppl":
        return np.geomspace(max(lo, 1.0), max(hi, lo * 1.01), count)
    return np.linspace(lo, max(hi, lo + 1e-3), count)


def plot_ppl_histogram(
    results: Results, setting: str, generation: int, ax=None, bins: np.ndarray | None = None
):
    """Figure 11 for one generation: perplexity of every training block under the generation-0 model.

    The data of generation 0 (the original blocks) are drawn in grey for reference.
    """
    ax = _ax(ax)
    bins = ppl_bins(results, setting) if bins is None else bins
    _overlay_generation(ax, results, setting, generation, "train_ppl", bins)
    _log_ticks(ax)
    ax.set_xlabel("perplexity under the gen-0 model")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    return ax


def plot_ppl_histograms(results: Results, setting: str, ax=None, generations: Sequence[int] | None = None):
    """Figure 11 of the paper: the histograms of all generations on one axis, coloured by generation."""
    import matplotlib.pyplot as plt

    ax = _ax(ax)
    gens = list(generations) if generations is not None else results.generations(setting)
    bins = ppl_bins(results, setting)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(gens)))
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
    ax.set_title(results.label(setting), fontsize=10)
    ax.legend(fontsize=7, ncol=2)
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
    ax.legend(fontsize=8)
    return ax


def plot_generation(results: Results, setting: str, generation: int, ax=None):
    """The slider's view: Figure 11 for one setting and generation (see :func:`plot_ppl_histogram`)."""
    ax = plot_ppl_histogram(results, setting, generation, ax=ax)
    ax.set_title(f"{results.label(setting)}, generation {generation}", fontsize=10)
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
    """One line saying which run a figure came from (for titles and captions)."""
    c = results.config
    runs = int(results.table["run"].nunique()) if len(results.table) else 0
    where = f"profile '{profile}', " if profile else ""
    return (
        f"{where}{c.model} on {c.data}, {len(results.table)} generations finished "
        f"({runs} run(s) per setting, {results.table['n_blocks'].max() if len(results.table) else 0} blocks); "
        f"{results.output}"
    )
