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

from collapse_utils.llm import data, experiment, measures, model, plots
from collapse_utils.llm.experiment import ExperimentConfig, Results, Setting
from collapse_utils.llm.synthetic import LanguageConfig

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
    assert "`book` profile" in text and "fine-tuned on the embedded language" in text and "3 runs per setting" in text
    assert "synthetic" not in text and "profile 'book'" not in text  # readers' words, not the configuration's


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
    lo, hi = plots.growth_ranges(fake, "test_perplexity")[SETTINGS[0].name]
    assert lo <= g[SETTINGS[0].name] <= hi and hi - lo < 1.5  # per-run growths, not the levels


def test_writer_table_rows(fake):
    from dataclasses import replace

    base = {"writer": {measures.FRESH_ROW: dict(zip(measures.WRITER_COLUMNS, (0.05, 0.2, 0.4, 2.0)))}}
    table = fake.table.assign(written_distinct_1=0.02, written_distinct_2=0.04, written_distinct_3=0.07,
                              written_true_nll=1.3)
    r = replace(fake, table=table, base=base)
    w = plots.writer_table(r)
    assert list(w.index) == [measures.FRESH_ROW] + [f"generation 0 ({s.label})" for s in SETTINGS]
    assert list(w.columns) == [*measures.WRITER_COLUMNS, measures.IMPOSSIBLE_COLUMN]
    assert w.loc[f"generation 0 ({SETTINGS[0].label})", "true NLL per word"] == 1.3


def test_writer_table_takes_the_sampled_row_from_the_sampling_experiment(fake):
    """Bug: the sampled row is read from the beam-search experiment (or from a later generation)."""
    from dataclasses import replace

    base = {"writer": {measures.FRESH_ROW: dict(zip(measures.WRITER_COLUMNS, (0.05, 0.2, 0.4, 2.0))),
                       measures.PERFECT_ROW: dict(zip(measures.WRITER_COLUMNS, (0.04, 0.1, 0.2, 1.3)))}}
    beam = replace(fake, table=fake.table.assign(written_distinct_1=0.02, written_distinct_2=0.04,
                                                 written_distinct_3=0.07, written_true_nll=1.3), base=base)
    t = fake.table[fake.table.setting == SETTINGS[0].name]
    sampled_table = t.assign(written_distinct_1=0.05, written_distinct_2=0.19 + 0.01 * t.generation,
                             written_distinct_3=0.39, written_true_nll=2.1, written_impossible=0.001)
    sampled = replace(fake, table=sampled_table, base={})
    w = plots.writer_table(beam, sampled=sampled)
    row = plots.sampled_row(sampled)
    assert list(w.index)[:3] == [measures.FRESH_ROW, row, measures.PERFECT_ROW]
    assert row == f"generation 0, sampling ({SETTINGS[0].label})"
    assert w.loc[row, "distinct 2-grams"] == 0.19 and w.loc[row, "true NLL per word"] == 2.1
    assert w.loc[row, measures.IMPOSSIBLE_COLUMN] == 0.001


def test_variants_are_drawn_and_ranked_per_experiment(fake):
    """Bug: the decoding comparison draws (or ranks) one experiment twice."""
    t = fake.table
    other = Results(fake.output, fake.config, t.assign(test_perplexity=t.test_perplexity + 5 * t.generation), [], {})
    variants = {"beam": fake, "sampling": other}
    g = plots.variant_growth(variants, SETTINGS[0].name)
    assert g["sampling"] == pytest.approx(g["beam"] + 15.0)
    ax = plots.plot_variants(variants, SETTINGS[0].name)
    labels = [h.get_label() for h in ax.get_legend().legend_handles]
    assert labels == ["beam (3 runs)", "sampling (3 runs)"]
    plt.close(ax.figure)


def test_collapse_seed_reaches_the_experiment(monkeypatch):
    """Bug: COLLAPSE_SEED shifts every seed of the book but chapter 4's experiment, whose page then says the
    same thing at every seed because it ran the same thing."""
    base = experiment.profile_config("book")
    monkeypatch.setenv("COLLAPSE_SEED", "1")
    shifted = experiment.profile_config("book")
    assert shifted.seed != base.seed and experiment.default_output(shifted) != experiment.default_output(base)
    assert experiment.profile_config("book", seed=7).seed == 7  # an explicit seed (the CLI's --seed) wins


def test_decoding_variant_changes_the_decoding_alone():
    """Bugs: the sampling experiment changes more than the decoding (settings, runs, recipe), or it runs at the
    gpu profile, where it would add half again to a GPU session."""
    book = experiment.profile_config("book")
    v = experiment.decoding_variant(book, "book")
    assert v.decoding == "sample" and v.settings == book.settings[:1]
    from dataclasses import replace

    assert replace(v, decoding=book.decoding, settings=book.settings) == book
    assert experiment.decoding_variant(experiment.profile_config("gpu"), "gpu") is None
    assert experiment.decoding_variant(experiment.profile_config("paper"), "paper") is None
    assert experiment.default_output(v) != experiment.default_output(book)  # its own folder
    with pytest.raises(ValueError, match="profile"):
        experiment.decoding_variant(book, "huge")


# --------------------------------------------------------------------------- the experiment (a tiny run)
TINY = ExperimentConfig(
    model="small",
    data="synthetic",
    generations=2,
    runs=1,
    settings=(Setting(1, 0.0), Setting(1, 0.5)),
    num_beams=2,
    lr=2e-3,
    batch_size=16,
    gen_batch_size=40,
    max_train_blocks=40,
    max_valid_blocks=10,
    max_test_blocks=12,
    small=model.SmallModelConfig(
        hidden_size=32, ffn_dim=64, layers=1, heads=2, vocab_size=300, pretrain_epochs=1, pretrain_lr=3e-3
    ),
    language=LanguageConfig(vocab_size=120),
    synthetic_words=(4_000, 1_000, 1_200),
    pretrain_words=6_000,
    samples=2,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("science") / "run"
    results = experiment.run_experiment(TINY, out, verbose=False, progress=False)
    prep = experiment.prepare(TINY, out, verbose=False, cache_dir=out / "cache")
    return results, prep


def test_pretraining_text_is_disjoint_from_the_recursion_data(tiny):
    """Bug: the small model is pretrained on the fine-tuning split (a hidden anchor to the original blocks)."""
    results, prep = tiny
    corpus = prep.corpus
    assert corpus.pretrain is not None and len(corpus.pretrain) > 0
    paragraphs = {k: {ln for ln in getattr(corpus, k) if ln.strip() and "=" not in ln.split()}
                  for k in ("pretrain", "train", "valid", "test")}
    assert not (paragraphs["pretrain"] & (paragraphs["train"] | paragraphs["valid"] | paragraphs["test"]))
    pre_blocks = data.make_blocks(corpus.pretrain, prep.base.tokenizer, TINY.block_size)
    for blocks, name in ((prep.train_blocks, "train"), (prep.valid_blocks, "valid"), (prep.test_blocks, "test")):
        measures.check_disjoint(blocks, pre_blocks, name)
    assert any("related language" in note for note in results.notes)  # not the fine-tuning language itself
    # the tokenizer was trained on the pretraining text: every pretraining word is a known token sequence
    assert prep.base.tokenizer.decode(pre_blocks[0]) in "".join(corpus.pretrain)


def test_figure11_reference_is_generation_0_on_unseen_blocks(tiny):
    """Bug: Figure 11's reference scored by the current (or the pretrained) model, or on training blocks."""
    from transformers import AutoModelForCausalLM

    results, prep = tiny
    setting = TINY.settings[0]
    folder = results.output / setting.name / "run0"
    saved = np.load(folder / "gen0" / "reference_ppl.npy")
    gen0 = AutoModelForCausalLM.from_pretrained(folder / "gen0" / "model").eval()
    last = AutoModelForCausalLM.from_pretrained(folder / f"gen{TINY.generations}" / "model").eval()
    on_valid = np.exp(model.sequence_nll(gen0, prep.valid_blocks))
    np.testing.assert_allclose(saved, on_valid, rtol=1e-4)
    assert not np.allclose(saved, np.exp(model.sequence_nll(last, prep.valid_blocks)), rtol=1e-3)
    assert not np.allclose(saved, np.exp(model.sequence_nll(prep.base.model, prep.valid_blocks)), rtol=1e-3)
    on_train = np.exp(model.sequence_nll(gen0, prep.train_blocks[: len(saved)]))
    assert not np.allclose(saved, on_train, rtol=1e-3)
    measures.check_disjoint(prep.valid_blocks, prep.train_blocks)
    assert np.allclose(plots.reference_ppl(results, setting.name), saved)


def test_retained_blocks_are_original_blocks_by_content(tiny):
    """Bugs guarded: retained blocks flagged as original but holding generated text (or the reverse); a kept block's
    own continuation kept beside it (the authors rewrite only the batches they do not keep)."""
    results, prep = tiny
    setting = TINY.settings[1]
    folder = results.output / setting.name / "run0"
    lookup = {row.tobytes(): i for i, row in enumerate(prep.train_blocks.astype(np.int64))}
    for g in range(1, TINY.generations + 1):
        blocks = np.load(folder / f"gen{g}" / "blocks.npy").astype(np.int64)
        flag = np.load(folder / f"gen{g}" / "is_original.npy")
        written = np.load(folder / f"gen{g - 1}" / "synthetic.npy")
        assert flag.sum() == round(0.5 * len(flag))
        kept = np.array([lookup.get(row.tobytes(), -1) for row in blocks[flag]])
        assert (kept >= 0).all() and len(set(kept)) == len(kept)
        others = np.setdiff1d(np.arange(len(prep.train_blocks)), kept)
        np.testing.assert_array_equal(blocks[~flag], written[others])
        assert all(row.tobytes() not in lookup for row in blocks[~flag])
    gen0 = np.load(folder / "gen0" / "blocks.npy")
    np.testing.assert_array_equal(gen0, prep.train_blocks)


def test_the_table_holds_like_for_like_measures(tiny):
    """Bug: band losses that do not add up, or a perfect-model line that moves between generations."""
    results, _ = tiny
    t = results.table
    total = sum(t[f"test_nll_{b}_contribution"] for b in measures.BAND_NAMES)
    np.testing.assert_allclose(total, t["test_nll_total"], rtol=1e-9)
    np.testing.assert_allclose(t["test_nll_total"], t["test_nll"], rtol=1e-6)
    assert t["test_word_nll_truth"].nunique() == 1  # the same words, every generation
    assert (t["test_words"] == t["test_words"].iloc[0]).all()
    for b in measures.BAND_NAMES:
        assert t[f"coverage_{b}_baseline"].nunique() == 1
    g0 = t[t.generation == 0]
    assert np.isfinite(g0["written_true_nll"]).all()
    writer = plots.writer_table(results)
    assert measures.FRESH_ROW in writer.index and measures.PERFECT_ROW in writer.index
    assert len(writer) == 2 + len(TINY.settings)


def test_pretraining_used_the_pretraining_text(tiny):
    """Bug: the corpus has a pretraining split but the small model is pretrained on the train split anyway."""
    results, prep = tiny
    special = TINY.tokenization == "lines"
    pre_blocks = data.make_blocks(prep.corpus.pretrain, prep.base.tokenizer, TINY.block_size, special_tokens=special)
    train_blocks = data.make_blocks(prep.corpus.train, prep.base.tokenizer, TINY.block_size, special_tokens=special)
    assert len(pre_blocks) != len(train_blocks)
    note = next(n for n in results.notes if "pretrained here" in n)
    assert f"over {len(pre_blocks)} blocks" in note


def test_written_metrics_describe_the_next_generations_data(tiny):
    """Bug: the 'written' columns measure a generation's training data instead of the text it wrote."""
    results, _ = tiny
    t = results.table
    s = TINY.settings[0].name  # no original data: generation 1 trains on exactly what generation 0 wrote
    g0 = t[(t.setting == s) & (t.generation == 0)].iloc[0]
    g1 = t[(t.setting == s) & (t.generation == 1)].iloc[0]
    assert g0["written_true_nll"] == pytest.approx(g1["true_nll"], rel=1e-9)
    assert g0["written_true_nll"] != pytest.approx(g0["true_nll"], rel=1e-3)


def test_accumulate_and_sampling_options(tmp_path):
    """Bug: accumulate keeps only the last generation's data (or loses the original blocks)."""
    from dataclasses import replace

    cfg = replace(TINY, settings=(Setting(1, 0.0),), data_schedule="accumulate", decoding="sample")
    r = experiment.run_experiment(cfg, tmp_path / "acc", verbose=False, progress=False, cache_dir=tmp_path / "c")
    folder = r.output / Setting(1, 0.0).name / "run0"
    n = TINY.max_train_blocks
    written = [np.load(folder / f"gen{g}" / "synthetic.npy") for g in range(cfg.generations)]
    for g in range(cfg.generations + 1):
        blocks = np.load(folder / f"gen{g}" / "blocks.npy")
        flag = np.load(folder / f"gen{g}" / "is_original.npy")
        assert len(blocks) == n * (g + 1) and flag.sum() == n and flag[:n].all()
        for k in range(g):
            np.testing.assert_array_equal(blocks[n * (k + 1) : n * (k + 2)], written[k])
    assert not np.array_equal(written[0], written[1])


@pytest.mark.parametrize("change, message", [(dict(decoding="greedy"), "decoding"), (dict(data_schedule="everything"), "data_schedule"),
                                             (dict(pretrain_words=0), "pretrain_words")])
def test_new_options_are_validated(change, message):
    from dataclasses import replace

    with pytest.raises(ValueError, match=message):
        replace(TINY, **change).validate()


def test_band_losses_on_a_local_wikitext_folder(tmp_path):
    """Bug: the losses by frequency band exist only for the embedded language (the paper's data is a folder)."""
    from dataclasses import replace

    from collapse_utils.llm.synthetic import SyntheticLanguage

    folder = SyntheticLanguage(TINY.language).write_wikitext_folder(tmp_path / "wiki", words=(4_000, 1_000, 1_200))
    cfg = replace(TINY, data=str(folder), settings=(Setting(1, 0.0),), generations=1)
    r = experiment.run_experiment(cfg, tmp_path / "out", verbose=False, progress=False, cache_dir=tmp_path / "c")
    t = r.table
    total = sum(t[f"test_nll_{b}_contribution"] for b in measures.BAND_NAMES)
    np.testing.assert_allclose(total, t["test_nll_total"], rtol=1e-9)
    assert "test_word_nll" not in t and "coverage_rare" not in t  # no known distribution: no truth-based measure
    assert any("(train) split itself" in note for note in r.notes)  # no pretrain.txt: said, not hidden
    ax = plots.plot_band_losses(r, Setting(1, 0.0).name)
    assert len(ax.lines) >= 3
    assert plots.writer_table(r).empty
    plt.close("all")
