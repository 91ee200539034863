"""Chapter 4: the language-model experiment, end to end on the embedded language (no mocks)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from collapse_utils.llm import data, experiment, model, plots
from collapse_utils.llm.__main__ import main as cli_main
from collapse_utils.llm.experiment import ExperimentConfig, Setting
from collapse_utils.llm.synthetic import LanguageConfig, SyntheticLanguage

TIMING = ["train_s", "train_tokens_per_s", "generate_s", "generated_tokens_per_s", "eval_s"]

TINY = ExperimentConfig(
    model="small",
    data="synthetic",
    generations=2,
    runs=1,
    settings=(Setting(1, 0.0), Setting(1, 0.5)),
    num_beams=2,
    lr=2e-3,
    batch_size=16,
    gen_batch_size=32,
    max_train_blocks=40,
    max_test_blocks=12,
    small=model.SmallModelConfig(
        hidden_size=32,
        ffn_dim=64,
        layers=1,
        heads=2,
        vocab_size=400,
        pretrain_epochs=1,
        pretrain_blocks=120,
        pretrain_lr=3e-3,
    ),
    language=LanguageConfig(vocab_size=120),
    synthetic_words=(8_000, 1_500, 1_500),
    samples=2,
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> experiment.Results:
    out = tmp_path_factory.mktemp("llm") / "full"
    return experiment.run_experiment(TINY, out, verbose=False, progress=False)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    corpus = data.synthetic_corpus(TINY.synthetic_words, TINY.language)
    base = model.load_base("small", corpus, tmp_path_factory.mktemp("cache"), TINY.small, verbose=False)
    return corpus, base


# --------------------------------------------------------------------------- the synthetic language
def test_language_truth_matches_its_samples():
    lang = SyntheticLanguage(vocab_size=200, seed=3)
    text = lang.write_corpus(40_000, seed=1)
    score = lang.score([text], fragments=False)
    assert score.invalid_rate == 0.0
    # the empirical NLL of the source's own text is close to its entropy rate
    assert abs(score.mean_nll - lang.entropy_rate()) < 0.08
    assert np.isclose(lang.transition.sum(axis=1), 1).all()
    assert 0.5 < lang.tail_share(score) < 1.5 and lang.tail_coverage(score) > 0.5
    assert " = " in text and "\n\n" in text  # the wikitext layout


def test_language_samples_words_by_the_cumulative_rows_inverse():
    """Bugs guarded: the fast walk reading another word's row (the first, or the one before), or drawing more or
    fewer than one uniform per word: each changes which words a seed writes (every chapter's corpus). The reference
    is the plain inverse of the cumulative row with np.searchsorted. (The rows sum to 1 and hold no zero
    probability, so a draw left unscaled by the row's total, or a search to the left, would be invisible here.)"""
    lang = SyntheticLanguage(vocab_size=60, seed=2)
    got = lang.sample_paragraph(np.random.default_rng(7), 6).split(" ")
    rng, state, want = np.random.default_rng(7), 0, []
    cdf = np.cumsum(lang.transition, axis=1)
    while want.count(".") < 6:
        state = min(int(np.searchsorted(cdf[state], rng.random() * cdf[state, -1], side="right")), len(lang.words) - 1)
        want.append(lang.words[state])
    assert got == want and len(got) > 20
    sampled = lang.continue_texts([" " + lang.words[4]], 25, seed=5, sample=True)[0].split()
    rng, state, want = np.random.default_rng(5), 4, []
    for _ in range(25):
        state = min(int(np.searchsorted(cdf[state], rng.random() * cdf[state, -1], side="right")), len(lang.words) - 1)
        want.append(lang.words[state])
    assert sampled == want


def test_language_score_counts_invalid_words_and_cut_fragments():
    lang = SyntheticLanguage(vocab_size=50, seed=0)
    a, b, c = lang.words[2:5]
    s = lang.score([f" {a} {b} xyzzy {c} ."], fragments=False)
    assert s.invalid[0] == 1 and s.words[0] == 3  # a|".", b|a, then "." | c (c itself is context after xyzzy)
    expect = (
        -(
            lang.log_transition[0, lang.index[a]]
            + lang.log_transition[lang.index[a], lang.index[b]]
            + lang.log_transition[lang.index[c], 0]
        )
        / 3
    )
    assert np.isclose(s.nll[0], expect)
    # as a fragment, the first word is context only and a cut last word is dropped
    f = lang.score([f" {a} {b} {c}"], fragments=True)
    assert f.words[0] == 1 and np.isclose(f.nll[0], -lang.log_transition[lang.index[a], lang.index[b]])


# --------------------------------------------------------------------------- data
def write_wikitext(folder: Path, train: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    article = (
        " = Valkyria Chronicles = \n \n The game @-@ a tactical role @-@ playing game , was released in 2011 . \n"
        " \n = = Gameplay = = \n \n Players control a <unk> squad through missions . \n \n"
    )
    (folder / "train.txt").write_text(train if train is not None else article * 40)
    (folder / "valid.txt").write_text(article * 3)
    (folder / "test.txt").write_text(article * 3)
    return folder


def test_local_folder_loader(tmp_path, tiny_base):
    folder = write_wikitext(tmp_path / "wiki")
    corpus = data.load_corpus(str(folder), verbose=False)
    assert corpus.source == "folder" and corpus.language is None
    assert corpus.train[0] == " = Valkyria Chronicles = \n" and any("@-@" in line for line in corpus.train)
    _, base = tiny_base
    blocks = data.make_blocks(corpus.train, base.tokenizer, 16)
    assert blocks.ndim == 2 and blocks.shape[1] == 16 and blocks.dtype == np.int64
    # the blocks are the concatenated tokens of the lines, the remainder dropped
    ids = [i for line in corpus.train for i in base.tokenizer(line, add_special_tokens=False)["input_ids"]]
    assert blocks.ravel().tolist() == ids[: blocks.size]


def test_bad_corpora(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        data.load_corpus(str(tmp_path / "missing"), verbose=False)
    folder = write_wikitext(tmp_path / "empty", train=" \n\n")
    with pytest.raises(ValueError, match="train.txt.*empty"):
        data.load_corpus(str(folder), verbose=False)
    (folder / "train.txt").unlink()
    with pytest.raises(ValueError, match="no train.txt"):
        data.read_wikitext_folder(folder)
    with pytest.raises(ValueError, match="data must be"):
        data.load_corpus("not-a-dataset", verbose=False)


def test_hub_falls_back_with_a_clear_message(capsys):
    if data.hub_reachable(timeout=2):
        pytest.skip("the hub is reachable here: nothing to fall back from")
    corpus = data.load_corpus("wikitext-2-raw-v1", synthetic_words=(2000, 500, 500))
    out = capsys.readouterr().out
    assert corpus.source == "fallback synthetic" and corpus.language is not None
    assert "hub is unreachable, so instead of 'wikitext-2-raw-v1' the embedded synthetic language" in out
    with pytest.raises(data.HubUnavailable, match="unreachable"):
        data.load_corpus("wikitext-2-raw-v1", fallback=False, verbose=False)
    with pytest.raises(OSError, match="unreachable"):
        model.load_base("facebook/opt-125m", corpus, Path("/tmp"), fallback=False, verbose=False)
    # only the default names fall back
    with pytest.raises(data.HubUnavailable, match="only wikitext-2-raw-v1 falls back"):
        data.load_corpus("wikitext-103-raw-v1", verbose=False)
    with pytest.raises(data.HubUnavailable, match="only the default"):
        model.load_base("gpt2", corpus, Path("/tmp"), verbose=False)


# --------------------------------------------------------------------------- model
def test_perplexity_matches_a_direct_computation(tiny_base):
    corpus, base = tiny_base
    blocks = data.make_blocks(corpus.test, base.tokenizer, 24, max_blocks=5)
    nll = model.sequence_nll(base.model, blocks, batch_size=2)
    with torch.no_grad():
        ids = torch.as_tensor(blocks)
        logits = base.model(input_ids=ids).logits
        logp = torch.log_softmax(logits.double(), dim=-1)
        direct = -logp[:, :-1].gather(-1, ids[:, 1:, None]).squeeze(-1).mean(dim=1).numpy()
        hf_loss = float(base.model(input_ids=ids, labels=ids).loss)
    np.testing.assert_allclose(nll, direct, rtol=1e-5)
    assert np.isclose(np.log(model.perplexity(base.model, blocks)), hf_loss, rtol=1e-5)


def test_batched_beam_search_with_left_padding_matches_one_by_one(tiny_base):
    corpus, base = tiny_base
    blocks = data.make_blocks(corpus.train, base.tokenizer, 12, max_blocks=4)
    prompts = [blocks[0], blocks[1][:7], blocks[2][:10], blocks[3][:5]]
    kw = dict(new_tokens=6, num_beams=2, repetition_penalty=3.0, pad_token_id=base.tokenizer.pad_token_id)
    batched = model.continue_blocks(base.model, prompts, batch_size=4, **kw)
    single = np.concatenate([model.continue_blocks(base.model, [p], batch_size=1, **kw) for p in prompts])
    assert batched.shape == (4, 6)
    np.testing.assert_array_equal(batched, single)


def test_training_lowers_the_loss(tiny_base):
    corpus, base = tiny_base
    blocks = data.make_blocks(corpus.train, base.tokenizer, 32, max_blocks=32)
    before = model.sequence_nll(base.model, blocks).mean()
    stats = model.train(base.fresh(), blocks, epochs=3, lr=3e-3, batch_size=8, seed=0)
    assert model.sequence_nll(stats["model"], blocks).mean() < before
    assert stats["tokens"] == 3 * blocks.size and stats["tokens_per_s"] > 0


def test_tokenizer_round_trip(tiny_base):
    corpus, base = tiny_base
    line = corpus.train[2]
    ids = base.tokenizer(line, add_special_tokens=False)["input_ids"]
    assert base.tokenizer.decode(ids) == line and base.tokenizer.padding_side == "left"


# --------------------------------------------------------------------------- the experiment
def test_end_to_end(tiny_run):
    t = tiny_run.table
    assert len(t) == 2 * 1 * 3
    assert set(t["setting"]) == {"1ep-keep0.0", "1ep-keep0.5"}
    assert (t.loc[t.generation == 0, "n_original"] == 40).all()
    assert (t.loc[(t.generation > 0) & (t.setting == "1ep-keep0.0"), "n_original"] == 0).all()
    assert (t.loc[(t.generation > 0) & (t.setting == "1ep-keep0.5"), "n_original"] == 20).all()
    assert np.isfinite(t["test_perplexity"]).all() and (t["test_perplexity"] > 1).all()
    for col in ("true_nll", "tail_coverage", "distinct_2", "repetition_4", "train_ppl_gen0_mean"):
        assert col in t and np.isfinite(t[col]).all()
    out = tiny_run.output
    gen = out / "1ep-keep0.0" / "run0"
    assert np.load(gen / "gen0" / "synthetic.npy").shape == (40, 64)
    assert not (gen / "gen2" / "synthetic.npy").exists()  # the last generation writes no data
    assert (gen / "gen1" / "model" / "config.json").exists() and (gen / "gen1" / "DONE").exists()
    assert len(tiny_run.array("train_ppl", "1ep-keep0.0", 1)) == 40
    on_disk = pd.read_csv(out / "metrics.csv")
    assert len(on_disk) == len(t)
    assert "synthetic" in (out / "notes.txt").read_text()


def test_resume_gives_identical_metrics(tiny_run, tmp_path):
    out = tmp_path / "resumed"
    part = experiment.run_experiment(TINY, out, verbose=False, progress=False, stop_after=2)
    assert len(part.table) == 2
    # an interruption in the middle of writing generation 1: a half-written folder without DONE
    gen1 = out / "1ep-keep0.0" / "run0" / "gen1"
    (gen1 / "DONE").unlink()
    (gen1 / "synthetic.npy").write_bytes(b"garbage")
    resumed = experiment.run_experiment(TINY, out, verbose=False, progress=False)
    cols = [c for c in resumed.table.columns if c not in TIMING]
    pd.testing.assert_frame_equal(resumed.table[cols], tiny_run.table[cols])
    np.testing.assert_array_equal(
        np.load(gen1 / "synthetic.npy"),
        np.load(tiny_run.output / "1ep-keep0.0" / "run0" / "gen1" / "synthetic.npy"),
    )
    # a third call has nothing left to do
    again = experiment.run_experiment(TINY, out, verbose=False, progress=False, stop_after=0)
    assert len(again.table) == len(resumed.table)


def test_output_folder_belongs_to_one_configuration(tiny_run):
    with pytest.raises(ValueError, match="another configuration"):
        experiment.run_experiment(replace(TINY, seed=1), tiny_run.output, verbose=False, progress=False)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(block_size=200), "block_size"),
        (dict(settings=(Setting(1, 1.5),)), "retention"),
        (dict(settings=(Setting(1, -0.1),)), "retention"),
        (dict(num_beams=0), "num_beams"),
        (dict(generations=-1), "generations"),
        (dict(runs=0), "runs"),
        (dict(settings=(Setting(0, 0.0),)), "epochs"),
        (dict(small=replace(TINY.small, tokenizer="word")), "small.tokenizer"),
    ],
)
def test_bad_input_is_refused_before_training(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        experiment.run_experiment(replace(TINY, **change), tmp_path / "out", verbose=False, progress=False)
    assert not list(tmp_path.glob("out/*/run*"))


def test_block_longer_than_the_context_of_a_loaded_model(tmp_path):
    cfg = replace(TINY, block_size=100, small=replace(TINY.small, max_positions=150))
    with pytest.raises(ValueError, match="block_size"):
        experiment.run_experiment(cfg, tmp_path / "out", verbose=False, progress=False)


def test_empty_corpus_is_refused_before_training(tmp_path):
    folder = write_wikitext(tmp_path / "wiki", train="\n \n")
    with pytest.raises(ValueError, match="empty"):
        experiment.run_experiment(
            replace(TINY, data=str(folder)), tmp_path / "out", verbose=False, progress=False
        )
    assert not list(tmp_path.glob("out/*/run*"))


def test_profiles_and_cli(tmp_path, capsys):
    for name in ("quick", "book", "gpu", "paper"):
        cfg = experiment.profile_config(name)
        assert cfg.block_size == 64
    paper = experiment.profile_config("paper")
    assert (paper.model, paper.data, paper.generations, paper.runs) == (
        "facebook/opt-125m",
        "wikitext-2-raw-v1",
        10,
        5,
    )
    assert (paper.lr, paper.batch_size, paper.num_beams, paper.repetition_penalty) == (2e-5, 128, 5, 3.0)
    assert paper.settings == (Setting(5, 0.0), Setting(10, 0.1))
    assert cli_main(["--profile", "quick", "--beams", "0", "--output", str(tmp_path / "x")]) == 2
    assert "num_beams" in capsys.readouterr().err
    assert cli_main(["--profile", "quick", "--retention", "2", "--output", str(tmp_path / "x")]) == 2
    assert "retention" in capsys.readouterr().err


def test_cli_runs_and_resumes(tmp_path, capsys):
    args = [
        "--profile",
        "quick",
        "--generations",
        "1",
        "--setting",
        "1:0",
        "--max-train-blocks",
        "24",
        "--max-test-blocks",
        "8",
        "--beams",
        "2",
        "--quiet",
        "--output",
        str(tmp_path / "cli"),
    ]
    assert cli_main(args) == 0
    first = pd.read_csv(tmp_path / "cli" / "metrics.csv")
    stamp = (tmp_path / "cli" / "1ep-keep0.0" / "run0" / "gen1" / "DONE").read_text()
    assert cli_main(args) == 0  # resumes: nothing to redo
    assert (tmp_path / "cli" / "1ep-keep0.0" / "run0" / "gen1" / "DONE").read_text() == stamp
    assert len(first) == 2 and "metrics:" in capsys.readouterr().out


# --------------------------------------------------------------------------- metrics and plots
def test_diversity_measures():
    assert experiment.distinct_n(["a b c d"], 1) == 1.0
    assert experiment.distinct_n(["a a a a"], 1) == 0.25
    assert experiment.repetition(["a b c d a b c d"], 4) == pytest.approx(1 / 5)
    assert experiment.repetition(["a b c d e"], 4) == 0.0


def test_plots(tiny_run):
    import matplotlib.pyplot as plt

    from collapse_utils import widgets

    r = tiny_run
    ax = plots.plot_metric(r, "test_perplexity")
    assert len(ax.lines) == 2
    ax = plots.plot_generation(r, "1ep-keep0.0", 2)
    assert "generation 2" in ax.get_title()
    plots.plot_generation(r, "1ep-keep0.0", 99)  # clamped to the last generation
    plots.plot_ppl_histograms(r, "1ep-keep0.5")
    plots.plot_truth_histogram(r, "1ep-keep0.0", 1, entropy=2.0)
    fig = widgets.small_multiples(
        plots.plot_generation, "generation", [0, 1, 2], fixed=dict(results=r, setting="1ep-keep0.0")
    )
    assert len(fig.axes) == 3
    text = plots.format_samples(r, "1ep-keep0.0")
    assert "generation 0 (original block)" in text and "written by generation 1" in text
    assert "small" in plots.provenance(r, "quick")
    shift = experiment.perplexity_shift(r)
    assert len(shift) == len(r.table) // r.config.runs
    g0 = shift[shift.generation == 0]
    assert (
        np.allclose(g0["above_original_median"], 0.5, atol=0.05) and (g0["above_original_q99"] <= 0.05).all()
    )
    plt.close("all")


def test_saved_results_path(monkeypatch, tiny_run):
    monkeypatch.delenv(experiment.RESULTS_ENV, raising=False)
    assert experiment.saved_results_path() is None
    monkeypatch.setenv(experiment.RESULTS_ENV, str(tiny_run.output))
    loaded = experiment.load_results(experiment.saved_results_path())
    assert len(loaded.table) == len(tiny_run.table) and loaded.config == TINY
    with pytest.raises(ValueError, match="config.json"):
        experiment.load_results(tiny_run.output / "1ep-keep0.0")
    assert json.loads((tiny_run.output / "config.json").read_text())["model"] == "small"
    shutil.rmtree(tiny_run.output / "cache", ignore_errors=True)  # nothing else reads it
