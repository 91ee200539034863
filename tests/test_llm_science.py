"""Chapter 4's science: the figures and tables of the like-for-like measures (fast, on a made-up table).

Each test that exists to catch a bug names it in its docstring. The experiment-level
checks (Figure 11's reference, retained blocks by content, pretraining disjoint from
the recursion) are at the end and run a tiny experiment.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from collapse_utils.llm import measures, plots
from collapse_utils.llm.experiment import ExperimentConfig, Results, Setting

SETTINGS = (Setting(5, 0.0), Setting(10, 0.1))


@pytest.fixture(scope="module")
def fake() -> Results:
    """Results with a made-up table: 3 runs, 2 settings, 4 generations, every column the plots read."""
    rng = np.random.default_rng(0)
    rows = []
    for s in SETTINGS:
        for run in range(3):
            for g in range(4):
                rows.append(
                    {
                        "setting": s.name,
                        "label": s.label,
                        "run": run,
                        "generation": g,
                        "n_blocks": 64,
                        "n_original": 64 if g == 0 else round(64 * s.retention),
                        "test_perplexity": 10 + g * (2 - s.retention * 10) + rng.normal(0, 0.2),
                        "test_word_nll": 2.5 + 0.1 * g + rng.normal(0, 0.01),
                        "test_word_nll_truth": 2.0,
                        "test_nll_rare": 6 + 0.5 * g,
                        "test_nll_middle": 3 + 0.2 * g,
                        "test_nll_frequent": 1 + 0.05 * g,
                        "coverage_rare": max(0.0, 0.5 - 0.1 * g),
                        "coverage_middle": 0.9,
                        "coverage_frequent": 1.0,
                        "coverage_rare_baseline": 0.55,
                        "coverage_middle_baseline": 0.95,
                        "coverage_frequent_baseline": 1.0,
                        "distinct_2": 0.2 - 0.03 * g,
                        "train_ppl_gen0_median": 8 - g,
                    }
                )
    config = ExperimentConfig(model="small", data="synthetic", settings=SETTINGS, runs=3, generations=3)
    return Results(Path("/nonexistent/run-folder"), config, pd.DataFrame(rows), [], {})


def test_runs_matrix_puts_runs_along_axis_0(fake):
    """Bug: runs and generations swapped, so the bands are drawn over generations instead of runs."""
    gens, values = plots.runs_matrix(fake, "test_word_nll", SETTINGS[0].name)
    assert list(gens) == [0, 1, 2, 3] and values.shape == (3, 4)
    assert np.allclose(np.median(values, axis=0), 2.5 + 0.1 * gens, atol=0.05)
    with pytest.raises(KeyError, match="no metric"):
        plots.runs_matrix(fake, "nope", SETTINGS[0].name)


def test_figure10_draws_bands_over_runs(fake):
    ax = plots.plot_metric(fake, "test_perplexity")
    assert len(ax.lines) == 2 and len(ax.collections) == 2  # a median line and a band per setting
    assert "(3 runs)" in ax.get_legend().get_texts()[0].get_text()
    plt.close("all")


def test_word_loss_has_the_perfect_model_line(fake):
    """Bug: the perfect-model line is not the truth's loss on the same words (the table's paired column)."""
    ax = plots.plot_word_loss(fake)
    perfect = [line for line in ax.lines if line.get_label() == "a perfect model on the same words"]
    assert len(perfect) == 1 and np.allclose(perfect[0].get_ydata(), 2.0)
    plt.close("all")


def test_band_losses_relative_to_generation_0(fake):
    """Bug: band losses drawn without subtracting generation 0 (bands not comparable)."""
    ax = plots.plot_band_losses(fake, SETTINGS[0].name)
    rare = [line for line in ax.lines if line.get_label() == "rare tokens"][0]
    assert np.allclose(rare.get_ydata(), 0.5 * np.arange(4))
    plt.close("all")


def test_coverage_with_its_baselines(fake):
    """Bug: tail coverage drawn without its sampling baseline."""
    ax = plots.plot_coverage(fake, SETTINGS[0].name)
    labels = [line.get_label() for line in ax.lines]
    assert "rare words (the tail)" in labels and "rare words: a fresh sample" in labels
    assert "frequent words (the head)" in labels and "frequent words: a fresh sample" in labels
    base = [line for line in ax.lines if line.get_label() == "rare words: a fresh sample"][0]
    assert np.allclose(base.get_ydata(), 0.55)
    plt.close("all")


def test_metrics_table_is_for_readers(fake):
    """Bug: the chapter prints internal column names (train_ppl_gen0_mean, generate_s) or unrounded numbers."""
    table = plots.metrics_table(fake)
    assert table.index.names == ["setting", "generation"]
    assert all("_" not in c for c in table.columns)
    assert "test perplexity" in table.columns and "tail coverage" in table.columns
    assert table.index[0][0] == SETTINGS[0].label
    values = table.to_numpy(dtype=float)
    assert np.allclose(values, np.round(values, 2))


def test_provenance_holds_no_folder_path(fake):
    """Bug: a run folder path in figure titles."""
    text = plots.provenance(fake, "book")
    assert "/nonexistent" not in text and "run-folder" not in text
    assert "profile 'book'" in text and "small on synthetic" in text and "3 run(s)" in text


def test_perplexity_shift_reference_row():
    ref = np.exp(np.random.default_rng(1).normal(2, 0.2, 500))
    table = measures.perplexity_shift({0: ref * 0.5, 3: ref * 0.2}, ref)
    assert table.iloc[0]["generation"] == "reference"
    assert table.iloc[1]["share above the reference median"] < 0.01


def test_growth_and_band_means(fake):
    g = plots.growth(fake, "test_perplexity")
    assert list(g) == [s.name for s in SETTINGS]
    assert g[SETTINGS[0].name] == pytest.approx(6.0, abs=0.6) and g[SETTINGS[1].name] == pytest.approx(3.0, abs=0.6)
    assert plots.band_means(fake, SETTINGS[0].name, 3) == {"rare": 7.5, "middle": 3.6, "frequent": 1.15}


def test_writer_table_rows(fake):
    from dataclasses import replace

    base = {"writer": {measures.FRESH_ROW: dict(zip(measures.WRITER_COLUMNS, (0.05, 0.2, 0.4, 2.0)))}}
    table = fake.table.assign(written_distinct_1=0.02, written_distinct_2=0.04, written_distinct_3=0.07,
                              written_true_nll=1.3)
    r = replace(fake, table=table, base=base)
    w = plots.writer_table(r)
    assert list(w.index) == [measures.FRESH_ROW] + [f"generation 0 ({s.label})" for s in SETTINGS]
    assert list(w.columns) == list(measures.WRITER_COLUMNS)
    assert w.loc[f"generation 0 ({SETTINGS[0].label})", "true NLL per word"] == 1.3
