"""Chapter 4's experiments run the way the chapter runs them, at micro scale, and the relations between what they write.

One module fixture runs :func:`~collapse_utils.llm.experiment.chapter_experiments` of the ``quick`` profile (its
caps, settings, recipes, sampling experiment and ablation; only the model, the language and the block counts made
micro) together with the recipes and data schedules the chapter does not run (accumulate, accumulate-subsample,
the first and fresh retained blocks, a verifier choosing among two candidates, two runs), all in one call of
:func:`~collapse_utils.llm.experiment.run_chapter` with one cache, as the chapter does. Spies record what no file
shows: the weights each training starts from and the decoding every writer used.

The tests write each relation down once, on the files the experiments wrote (``metrics.csv``, ``metrics.json``,
the arrays of every generation, ``base.json``): perplexity and mean NLL, NLL per token and per word, band losses
and the total, counts and the data they were counted on, the validation set each recipe chooses its epoch on, the
data each generation wrote and the model that wrote them, the seeds of settings, runs and generations. Each test
names the bug it guards against in its docstring.
"""

from __future__ import annotations

import json
import math
from collections import Counter
import os
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from collapse_utils.llm import experiment, identity, measures, model, presets, runner, textmetrics
from collapse_utils.llm.config import Setting
from collapse_utils.llm.data import decode_blocks
from collapse_utils.llm.results import gen_dir
from collapse_utils.llm.synthetic import LanguageConfig, SyntheticLanguage

pytestmark = pytest.mark.usefixtures("one_thread")

#: The quick profile made micro: a one-layer OPT of width 16, 12 training blocks of 16 tokens, a 60-word language.
MICRO = dict(
    block_size=16, num_beams=2, lr=3e-3, batch_size=4, gen_batch_size=16, eval_batch_size=16,
    max_train_blocks=12, max_valid_blocks=4, max_test_blocks=4,
    small=model.SmallModelConfig(hidden_size=16, ffn_dim=32, layers=1, heads=2, vocab_size=300, pretrain_epochs=1,
                                 pretrain_blocks=24, pretrain_batch_size=8, max_positions=40),
    language=LanguageConfig(vocab_size=60), synthetic_words=(2500, 400, 400), pretrain_words=3000, samples=2,
)  # fmt: skip
TIMING = ["train_s", "train_tokens_per_s", "generate_s", "generated_tokens_per_s", "eval_s"]


def extras(config) -> dict[str, Any]:
    """What the chapter does not run: the other data schedules and retained blocks, a verifier, two runs, init='previous'
    over two generations, generation 0's weights kept alone, fewer test blocks, no checkpoint choice."""
    return {
        **presets.ablation(config, "quick", suspects=presets.MORE_ABLATION),
        "accumulate, strict": replace(config, settings=(Setting(2, 0.25),), data_schedule="accumulate",
                                      checkpoint="generated"),
        "accumulate-subsample, first": replace(config, settings=(Setting(1, 0.25),),
                                               data_schedule="accumulate-subsample", retained_blocks="first"),
        "fresh": replace(config, settings=(Setting(1, 0.25),), retained_blocks="fresh", keep_models="first"),
        "first, previous": replace(config, settings=(Setting(1, 0.25),), retained_blocks="first", init="previous",
                                   max_test_blocks=3),
        "select": replace(config, settings=(Setting(1, 0.0),), select=0.5),
        "two runs, sampling, strict": replace(config, settings=(Setting(1, 0.25), Setting(1, 0.5)), runs=2,
                                              decoding="sample", checkpoint="generated"),
    }  # fmt: skip


def _who() -> tuple | None:
    """The step of the experiment that called: ``(experiment folder, setting, run, generation)`` or ``None``."""
    frame = sys._getframe(2)
    while frame is not None:
        name, f = frame.f_code.co_name, frame.f_locals
        if name == "run_generation":
            return (f["ctx"].output.name, f["setting"].name, f["run"], f["g"])
        if name == "run_gen0":
            return (f["ctx"].output.name, f"{f['epochs']}ep", f["run"], 0)
        if name == "write_gen0":
            return (f["ctx"].output.name, f"{f['epochs']}ep", f["run"], f"write0 {f['what']}")
        if name == "base_summary":
            return (f["prep"].config, "base summary")
        frame = frame.f_back
    return None


@dataclass
class Chapter:
    root: Path
    config: Any
    experiments: dict[str, Any]
    results: dict[str, Any]
    preps: dict[str, Any]
    trains: list[dict]
    writes: list[dict]
    writers: list[dict]

    def folder(self, name: str) -> Path:
        return self.root / presets.slug(name)

    def chains(self, names=None):
        """``(name, config, setting, run)`` of every chain."""
        for name in names or self.experiments:
            c = self.experiments[name]
            for s in c.settings:
                for run in range(c.runs):
                    yield name, c, s, run

    def gens(self, names=None):
        """``(name, config, setting, run, g, folder)`` of every finished generation."""
        for name, c, s, run in self.chains(names):
            for g in range(c.generations + 1):
                yield name, c, s, run, g, gen_dir(self.folder(name), s, run, g)


_MODELS: dict[str, Any] = {}


def saved(folder: Path):
    """A saved model (cached for this module)."""
    from transformers import AutoModelForCausalLM

    key = str(Path(folder).resolve())
    if key not in _MODELS:
        _MODELS[key] = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="sdpa").eval()
    return _MODELS[key]


@pytest.fixture(scope="module")
def chapter(tmp_path_factory) -> Chapter:
    root = tmp_path_factory.mktemp("chapter") / "run"
    config = presets.profile_config("quick", **MICRO)
    exps = {**presets.chapter_experiments(config, "quick"), **{k: v.validate() for k, v in extras(config).items()}}
    trains, writes, writers = [], [], []
    real_train, real_continue = model.train, model.continue_blocks
    real_texts = SyntheticLanguage.continue_texts

    def train(lm, blocks, **kw):
        who = _who()
        if who is not None:
            valid = kw.get("valid_blocks")
            trains.append(dict(who=who, start=identity.weights_fingerprint(lm), blocks=np.array(blocks),
                               valid=None if valid is None else np.array(valid), seed=kw.get("seed"),
                               epochs=kw.get("epochs"), lr=kw.get("lr")))  # fmt: skip
        return real_train(lm, blocks, **kw)

    def continue_blocks(lm, prompts, **kw):
        writes.append(dict(who=_who(), prompts=np.array(prompts), **kw))
        return real_continue(lm, prompts, **kw)

    def continue_texts(self, prompts, new_words, **kw):
        writers.append(dict(who=_who(), **kw))
        return real_texts(self, prompts, new_words, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model, "train", train)
        mp.setattr(model, "continue_blocks", continue_blocks)
        mp.setattr(SyntheticLanguage, "continue_texts", continue_texts)
        results = experiment.run_chapter(exps, root, verbose=False, progress=False)
    preps = {}
    for name, c in exps.items():
        preps[name] = experiment.prepare(c, root / presets.slug(name), verbose=False, cache_dir=root / "cache")
    return Chapter(root, config, exps, results, preps, trains, writes, writers)


def row_of(ch: Chapter, name: str, setting: Setting, run: int, g: int) -> pd.Series:
    t = ch.results[name].table
    sel = t[(t.setting == setting.name) & (t.run == run) & (t.generation == g)]
    assert len(sel) == 1, (name, setting, run, g)
    return sel.iloc[0]


def kept_indices(blocks: np.ndarray, flags: np.ndarray, original: np.ndarray) -> np.ndarray:
    """The index in ``original`` of every flagged block (-1 where a flagged block is no original block)."""
    lookup = {row.tobytes(): i for i, row in enumerate(np.asarray(original, dtype=np.int64))}
    return np.array([lookup.get(np.asarray(r, dtype=np.int64).tobytes(), -1) for r in blocks[flags]], dtype=int)


def rows_in(blocks: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Whether every row of ``blocks`` is a row of ``pool``."""
    seen = {np.asarray(r, dtype=np.int64).tobytes() for r in pool}
    return np.array([np.asarray(r, dtype=np.int64).tobytes() in seen for r in blocks], dtype=bool)


# ------------------------------------------------------------------------------------ the tables and their files
def test_every_planned_generation_is_one_row_of_metrics_csv(chapter):
    """Bugs guarded: metrics.csv missing a generation or holding one twice, rows out of order, a csv that is not the
    generations' own metrics.json (a column dropped or renamed on the way)."""
    for name, res in chapter.results.items():
        c = chapter.experiments[name]
        t = pd.read_csv(chapter.folder(name) / "metrics.csv")
        assert len(t) == len(c.settings) * c.runs * (c.generations + 1), name
        keys = list(zip(t.setting, t.run, t.generation))
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        for _, _, s, run, g, folder in chapter.gens([name]):
            on_disk = json.loads((folder / "metrics.json").read_text())
            row = row_of(chapter, name, s, run, g)
            assert (on_disk["setting"], on_disk["run"], on_disk["generation"]) == (s.name, run, g)
            for key, value in on_disk.items():
                if isinstance(value, float):
                    assert row[key] == pytest.approx(value, rel=1e-12, nan_ok=True), (name, key)
                else:
                    assert str(row[key]) == str(value), (name, key)


def test_perplexity_token_nll_and_band_losses_agree(chapter):
    """Bugs guarded: the test perplexity not exp of the mean NLL (a sum, a median, another base); the mean NLL of the
    blocks and the band losses' total computed on different tokens; band contributions that do not add up to the
    total, shares that do not add up to 1, a contribution that is not the band's share times its mean."""
    for name, res in chapter.results.items():
        t = res.table
        np.testing.assert_allclose(t.test_perplexity, np.exp(t.test_nll), rtol=1e-12)
        np.testing.assert_allclose(t.test_nll_total, t.test_nll, rtol=1e-6)
        bands = measures.BAND_NAMES
        np.testing.assert_allclose(sum(t[f"test_nll_{b}_contribution"] for b in bands), t.test_nll_total, rtol=1e-9)
        np.testing.assert_allclose(sum(t[f"test_nll_{b}_share"] for b in bands), 1.0, rtol=1e-12)
        for b in bands:
            full = t[f"test_nll_{b}_share"] > 0
            np.testing.assert_allclose(t.loc[full, f"test_nll_{b}_contribution"],
                                       t.loc[full, f"test_nll_{b}_share"] * t.loc[full, f"test_nll_{b}"], rtol=1e-9)
        # the shares are those of the test tokens, the same for every model
        for b in bands:
            assert t[f"test_nll_{b}_share"].nunique() == 1, (name, b)


def test_nll_per_word_spreads_the_total_over_the_test_words(chapter):
    """Bugs guarded: the loss per word divided by the scored tokens, by the paired words or by the blocks instead of
    the test text's whitespace words; the pretrained model's figure in base.json computed another way than every
    generation's."""
    for name, res in chapter.results.items():
        prep = chapter.preps[name]
        n, length = prep.test_blocks.shape
        words = sum(len(t.split()) for t in decode_blocks(prep.base.tokenizer, prep.test_blocks))
        t = res.table
        np.testing.assert_allclose(t.test_nll_per_word, t.test_nll * n * (length - 1) / words, rtol=1e-9)
        base = res.base
        assert base["tokens_per_word"] == pytest.approx(n * length / words, rel=1e-12)
        assert base["test_nll_per_word"] == pytest.approx(math.log(base["test_perplexity"]) * n * (length - 1) / words,
                                                          rel=1e-9)  # fmt: skip


def test_the_truths_numbers_are_counted_on_the_test_words(chapter):
    """Bugs guarded: the perfect model's loss per word or the number of paired words counted on other words than the
    test blocks' (or changing from one generation to the next); base.json's entropy rate, the test text's true NLL
    or the pretraining language's cross-entropy computed for another language or text."""
    for name, res in chapter.results.items():
        prep = chapter.preps[name]
        lang = prep.corpus.language
        pairing = measures.pair_words(lang, prep.base.tokenizer, prep.test_blocks)
        t = res.table
        assert (t.test_words == pairing.words).all() and pairing.words > 0
        np.testing.assert_allclose(t.test_word_nll_truth, pairing.true_nll.mean(), rtol=1e-12)
        base = res.base
        assert base["entropy_rate"] == pytest.approx(lang.entropy_rate(), rel=1e-12)
        texts = decode_blocks(prep.base.tokenizer, prep.test_blocks)
        assert base["true_nll_test"] == pytest.approx(lang.score(texts).mean_nll, rel=1e-12)
        related = runner.pretraining_language(chapter.experiments[name])
        if related is None:
            assert "pretrain_cross_entropy" not in base
        else:
            assert base["pretrain_cross_entropy"] == pytest.approx(lang.cross_entropy(related), rel=1e-12)
            assert base["pretrain_cross_entropy"] > base["entropy_rate"]


def test_reported_test_losses_are_the_saved_models(chapter):
    """Bugs guarded: the test loss measured on another model than the one saved (the pretrained model, the previous
    generation, generation 0), on other blocks than the capped test blocks, or with dropout on; the pretrained
    model's perplexity in base.json not the base model's on this experiment's test blocks (one summary shared by
    experiments of one call that cap the test set differently)."""
    checked = 0
    for name, c, s, run, g, folder in chapter.gens():
        if not (folder / "model").exists():
            continue
        prep = chapter.preps[name]
        nll = model.sequence_nll(saved(folder / "model"), prep.test_blocks, c.eval_batch_size)
        assert row_of(chapter, name, s, run, g).test_nll == pytest.approx(nll.mean(), rel=1e-5), (name, s, g)
        checked += 1
    assert checked >= 30
    for name, res in chapter.results.items():
        prep = chapter.preps[name]
        base = model.sequence_nll(prep.base.model, prep.test_blocks, 16).mean()
        assert res.base["test_perplexity"] == pytest.approx(math.exp(base), rel=1e-5)


def test_every_recipe_chooses_its_epoch_on_its_own_validation_set(chapter):
    """Bugs guarded: the strict recipe choosing on the real validation blocks (or on the current generation's own
    continuations, or generation g-2's); generation 0 of a strict chain not choosing on the real blocks; 'last'
    still choosing; the epoch kept not the one with the lowest validation loss, or its weights not restored."""
    kinds = set()
    for name, c, s, run, g, folder in chapter.gens():
        row = row_of(chapter, name, s, run, g)
        losses = json.loads(row.valid_losses)
        chooser = "real" if g == 0 else c.checkpoint
        kinds.add((chooser, s.epochs > 1))
        if chooser == "last":
            assert losses == [] and row.best_epoch == s.epochs - 1 and math.isnan(row.valid_loss)
            continue
        assert len(losses) == s.epochs and row.best_epoch == int(np.argmin(losses))
        assert row.valid_loss == losses[row.best_epoch]
        if not (folder / "model").exists():
            continue
        prep = chapter.preps[name]
        if chooser == "real":
            valid = prep.valid_blocks
        else:
            valid = np.load(gen_dir(chapter.folder(name), s, run, g - 1) / "valid_synthetic.npy")
        nll = model.sequence_nll(saved(folder / "model"), valid, c.eval_batch_size).mean()
        assert row.valid_loss == pytest.approx(nll, rel=1e-5), (name, s.name, g, chooser)
    assert {("real", True), ("generated", True), ("generated", False), ("last", False)} <= kinds


def test_the_strict_recipe_trains_with_the_previous_generations_continuations(chapter):
    """Bugs guarded: the strict recipe's validation blocks at generation g not generation g-1's continuations of the
    validation blocks (the real ones, or the training data's continuations), or real data reaching a strict chain
    after generation 0 through the validation set."""
    names = {presets.slug(n): n for n in chapter.experiments}
    seen = 0
    for call in chapter.trains:
        slug_, setting, run, g = call["who"]
        cfg = chapter.experiments[names[slug_]]
        if g == 0:
            np.testing.assert_array_equal(call["valid"], chapter.preps[names[slug_]].valid_blocks)
            continue
        s = Setting.from_name(setting)
        previous = gen_dir(chapter.root / slug_, s, run, g - 1)
        if cfg.checkpoint == "generated":
            np.testing.assert_array_equal(call["valid"], np.load(previous / "valid_synthetic.npy"))
            assert not rows_in(call["valid"], chapter.preps[presets.STRICT].valid_blocks).any()
            seen += 1
        elif cfg.checkpoint == "last":
            assert call["valid"] is None
    assert seen >= 4


def test_counts_are_counted_on_the_saved_training_set(chapter):
    """Bugs guarded: n_blocks or n_original not counted on what the generation trained on (the original count, the
    flags of another generation); the flags marking generated blocks as original or the reverse; generation 0 not
    trained on the capped original blocks; a row that names another setting or recipe than the chain's (generation
    0 always chooses on the real blocks); weights kept against keep_models (generation 0's always, it judges the
    others)."""
    for name, c, s, run, g, folder in chapter.gens():
        row = row_of(chapter, name, s, run, g)
        blocks, flags = np.load(folder / "blocks.npy"), np.load(folder / "is_original.npy")
        prep = chapter.preps[name]
        assert (folder / "model").exists() == (g == 0 or c.keep_models == "all")
        assert row.n_blocks == len(blocks) == len(flags) and row.n_original == int(flags.sum())
        assert (row.epochs, row.retention, row.label) == (s.epochs, s.retention, s.label)
        assert (row.recipe, row.checkpoint) == (c.recipe, "real" if g == 0 else c.checkpoint)
        assert blocks.shape[1] == c.block_size
        if g == 0:
            assert len(blocks) == c.max_train_blocks and flags.all()
            np.testing.assert_array_equal(blocks, prep.train_blocks)
            continue
        original = rows_in(blocks, prep.train_blocks)
        if c.retained_blocks == "fresh":
            assert not original.any()
        else:
            np.testing.assert_array_equal(original[flags], True)
            written = np.concatenate([np.load(gen_dir(chapter.folder(name), s, run, j) / "synthetic.npy")
                                      for j in range(g)])  # fmt: skip
            assert rows_in(blocks[~flags], written).all()


def test_text_measures_describe_the_saved_training_set(chapter):
    """Bugs guarded: the diversity, true-NLL and coverage columns measured on other text than the generation's training
    blocks (the original blocks, the text it wrote), decoded with the special tokens of the authors' tokenisation
    (every ``</s>`` an invalid word), or true_nll.npy not the per-block values of the same text."""
    for name, c, s, run, g, folder in chapter.gens():
        prep = chapter.preps[name]
        lang = prep.corpus.language
        texts = decode_blocks(prep.base.tokenizer, np.load(folder / "blocks.npy"))
        assert not any("</s>" in t for t in texts)
        expect, per_text = textmetrics.text_metrics(texts, lang)
        cov = measures.coverage(lang, texts)
        row = row_of(chapter, name, s, run, g)
        for key, value in expect.items():
            assert row[key] == pytest.approx(value, rel=1e-9, nan_ok=True), (name, g, key)
        for b, band in enumerate(measures.BAND_NAMES):
            assert row[f"coverage_{band}"] == pytest.approx(cov[b], rel=1e-9), (name, g, band)
        np.testing.assert_allclose(np.load(folder / "true_nll.npy"), per_text, rtol=1e-12)
        if g == 0:
            assert row.invalid_words == 0.0  # the original text, decoded without special tokens


def test_written_measures_describe_the_kept_continuations(chapter):
    """Bugs guarded: the written_* columns measuring the training data or the candidates instead of the continuations a
    generation kept; the last generation claiming to have written data."""
    for name, c, s, run, g, folder in chapter.gens():
        row = row_of(chapter, name, s, run, g)
        if g == c.generations:
            assert not (folder / "synthetic.npy").exists()
            assert "written_true_nll" not in row or math.isnan(row.written_true_nll)
            continue
        prep = chapter.preps[name]
        texts = decode_blocks(prep.base.tokenizer, np.load(folder / "synthetic.npy"))
        profile = measures.text_profile(prep.corpus.language, texts)
        cols = (*measures.WRITER_COLUMNS, measures.IMPOSSIBLE_COLUMN)
        for key, col in zip(measures.WRITTEN_KEYS, cols):
            assert row[key] == pytest.approx(profile[col], rel=1e-9), (name, g, key)


def test_figure_11_scores_every_training_set_under_its_chains_generation_0(chapter):
    """Bugs guarded: Figure 11's perplexities scored by the current model, the pretrained model or another chain's
    generation 0; scored on other blocks than the training set; the mean and median columns not those of the saved
    array; its fresh sample not fresh text of the source (the training blocks, or text cut without the authors'
    special tokens)."""
    for name, c, s, run, g, folder in chapter.gens():
        gen0 = saved(gen_dir(chapter.folder(name), s, run, 0) / "model")
        ppl = np.load(folder / "train_ppl.npy")
        np.testing.assert_allclose(ppl, np.exp(model.sequence_nll(gen0, np.load(folder / "blocks.npy"), 16)),
                                   rtol=1e-5)  # fmt: skip
        row = row_of(chapter, name, s, run, g)
        assert row.train_ppl_gen0_mean == pytest.approx(ppl.mean(), rel=1e-12)
        assert row.train_ppl_gen0_median == pytest.approx(np.median(ppl), rel=1e-12)
        if g == 0:  # the sampling baseline: a fresh sample of the source as large as the training set, cut alike
            prep = chapter.preps[name]
            fresh = prep.judge.fresh_blocks(len(prep.train_blocks), c.block_size)
            assert fresh.shape == prep.train_blocks.shape and (fresh == prep.base.tokenizer.bos_token_id).any()
            assert not rows_in(fresh, prep.train_blocks).any()
            np.testing.assert_allclose(np.load(folder / "fresh_ppl.npy"),
                                       np.exp(model.sequence_nll(gen0, fresh, 16)), rtol=1e-5)  # fmt: skip


def test_the_writing_rate_counts_the_tokens_written(chapter):
    """Bugs guarded: the writing rate counting the training set (which grows under accumulate) or one candidate per
    block instead of the tokens written; a rate claimed by the last generation, which writes nothing."""
    for name, c, s, run, g, folder in chapter.gens():
        row = row_of(chapter, name, s, run, g)
        if g == c.generations:
            assert math.isnan(row.generated_tokens_per_s)
            continue
        written = len(chapter.preps[name].train_blocks) * runner.candidates(c) * c.continuation
        assert row.generated_tokens_per_s * row.generate_s == pytest.approx(written, rel=1e-9), (name, g)


def test_learning_rates_follow_the_training_set_and_the_setting(chapter):
    """Bugs guarded: a schedule whose steps ignore the growing training set of the accumulate schedule, or the
    setting's epochs; a generation trained at another rate than the configured one."""
    for name, c, s, run, g, folder in chapter.gens():
        n = len(np.load(folder / "blocks.npy"))
        lrs = np.load(folder / "lrs.npy")
        np.testing.assert_allclose(lrs, model.learning_rates(c.schedule, c.lr, s.epochs, math.ceil(n / c.batch_size),
                                                             c.min_lr), rtol=1e-12)  # fmt: skip


# ------------------------------------------------------------------------------------ what each generation wrote
def _decoding(c) -> dict[str, Any]:
    sample = c.decoding == "sample"
    return dict(new_tokens=c.continuation, num_beams=1 if sample else c.num_beams,
                repetition_penalty=1.0 if sample else c.repetition_penalty, do_sample=sample,
                batch_size=c.gen_batch_size, candidates=runner.candidates(c))  # fmt: skip


def test_every_writer_used_the_experiments_decoding(chapter):
    """Bugs guarded: the runner writing greedily, without the repetition penalty, with the beam search's settings while
    sampling (or sampling with a penalty), with another continuation length or one candidate where the verifier asks
    for several; the strict recipe's validation continuations written with other settings than the data."""
    by_slug = {presets.slug(n): c for n, c in chapter.experiments.items()}
    steps = 0
    for call in chapter.writes:
        assert call["who"] is not None
        c = by_slug[call["who"][0]]
        for key, value in _decoding(c).items():
            assert call[key] == value, (call["who"], key)
        steps += 1
    assert steps > 20


def test_sampling_draws_new_noise_for_every_step(chapter):
    """Bugs guarded: every sampled writing step seeded alike (generations, runs or the training and validation
    continuations repeating the same noise), so that chains that should be independent share their randomness."""
    seeds = [call["seed"] for call in chapter.writes if call["do_sample"]]
    assert len(seeds) >= 7 and len(set(seeds)) == len(seeds)
    folder = chapter.folder(presets.SAMPLING)
    setting = chapter.experiments[presets.SAMPLING].settings[0]
    first, second = (np.load(gen_dir(folder, setting, 0, g) / "synthetic.npy") for g in (0, 1))
    assert (first != second).mean() > 0.5


def test_data_are_written_by_this_generation_from_the_original_blocks(chapter):
    """Bugs guarded: a generation's data written by another model (generation 0, the previous generation, the
    pretrained model), as continuations of its own training blocks instead of every original block, or of the
    training blocks where the strict recipe needs the validation blocks continued."""
    checked = 0
    for name, c, s, run, g, folder in chapter.gens():
        if c.decoding != "beam" or c.select != 1.0 or g == c.generations or not (folder / "model").exists():
            continue
        prep = chapter.preps[name]
        kw = {**_decoding(c), "pad_token_id": prep.base.tokenizer.pad_token_id,
              "eos_token_id": prep.base.tokenizer.eos_token_id}  # fmt: skip
        kw.pop("do_sample"), kw.pop("candidates")
        lm = saved(folder / "model")
        np.testing.assert_array_equal(np.load(folder / "synthetic.npy"), model.continue_blocks(lm, prep.train_blocks,
                                                                                               **kw))  # fmt: skip
        if c.checkpoint == "generated":
            np.testing.assert_array_equal(np.load(folder / "valid_synthetic.npy"),
                                          model.continue_blocks(lm, prep.valid_blocks, **kw))  # fmt: skip
        checked += 1
    assert checked >= 8


def test_the_verifier_keeps_the_candidate_generation_0_finds_likeliest(chapter):
    """Bugs guarded: select > 1 candidates keeping the least likely one, the first one whatever its score, or the one
    the writing generation (not generation 0) finds likeliest; the candidates' perplexities not generation 0's."""
    name = "select"
    c = chapter.experiments[name]
    s = c.settings[0]
    gen0 = saved(gen_dir(chapter.folder(name), s, 0, 0) / "model")
    for g in range(c.generations):
        folder = gen_dir(chapter.folder(name), s, 0, g)
        cand, ppl = np.load(folder / "candidates.npy"), np.load(folder / "candidate_ppl.npy")
        n, k, length = cand.shape
        assert k == 2 and ppl.shape == (n, k) and length == c.continuation
        np.testing.assert_allclose(ppl, np.exp(model.sequence_nll(gen0, cand.reshape(n * k, length), 16)).reshape(n, k),
                                   rtol=1e-5)  # fmt: skip
        np.testing.assert_array_equal(np.load(folder / "synthetic.npy"), cand[np.arange(n), ppl.argmin(axis=1)])
        assert (ppl.argmin(axis=1) == 1).any(), "the test needs a block whose second candidate wins"
        if g:
            own = saved(folder / "model")
            by_self = np.exp(model.sequence_nll(own, cand.reshape(n * k, length), 16)).reshape(n, k)
            assert not np.allclose(ppl, by_self, rtol=1e-3)


def test_the_reference_writers_use_the_experiments_decoding(chapter):
    """Bugs guarded: base.json's perfect model written with the beam search for the sampling experiment (or the
    reverse), with another penalty or beam count than the experiment's; experiments with another decoding sharing
    one base.json."""
    assert chapter.writers
    for call in chapter.writers:
        c, _ = call["who"]
        assert call["sample"] == (c.decoding == "sample")
        assert call["num_beams"] == c.num_beams and call["repetition_penalty"] == c.repetition_penalty
    beam = chapter.results[presets.MAIN].base["writer"][measures.PERFECT_ROW]
    sampled = chapter.results[presets.SAMPLING].base["writer"][measures.PERFECT_ROW]
    assert beam != sampled
    assert chapter.results[presets.MAIN].base["writer"][measures.FRESH_ROW] == \
        chapter.results[presets.SAMPLING].base["writer"][measures.FRESH_ROW]  # fmt: skip


def test_samples_follow_one_lineage(chapter):
    """Bugs guarded: samples.json of generation g showing its training blocks (retained originals mixed in) or its own
    continuations instead of what generation g-1 wrote for the same original block."""
    for name, c, s, run, g, folder in chapter.gens([presets.MAIN, "fresh"]):
        prep = chapter.preps[name]
        samples = json.loads((folder / "samples.json").read_text())
        source = prep.train_blocks if g == 0 else np.load(gen_dir(chapter.folder(name), s, run, g - 1) /
                                                           "synthetic.npy")  # fmt: skip
        texts = decode_blocks(prep.base.tokenizer, source[: c.samples])
        assert [x["text"] for x in samples] == texts and all(x["original"] == (g == 0) for x in samples)


# ------------------------------------------------------------------------------------ the data schedules
def test_replace_pairs_kept_originals_with_the_other_blocks_continuations(chapter):
    """Bugs guarded: retained blocks flagged original but holding generated text; a kept block's own continuation kept
    beside it (the authors rewrite only the batches they do not keep); 'first' keeping other blocks than the first;
    'random' keeping the same subset every generation or in every run; the share kept not round(retention * n)."""
    subsets = {}
    for name, c, s, run, g, folder in chapter.gens([presets.MAIN, "first, previous", "two runs, sampling, strict"]):
        if g == 0 or c.data_schedule != "replace":
            continue
        prep = chapter.preps[name]
        blocks, flags = np.load(folder / "blocks.npy"), np.load(folder / "is_original.npy")
        n = len(prep.train_blocks)
        k = round(s.retention * n)
        assert len(blocks) == n and flags.sum() == k and flags[:k].all()
        kept = kept_indices(blocks, flags, prep.train_blocks)
        assert (kept >= 0).all() and len(set(kept)) == k
        written = np.load(gen_dir(chapter.folder(name), s, run, g - 1) / "synthetic.npy")
        np.testing.assert_array_equal(blocks[~flags], written[np.setdiff1d(np.arange(n), kept)])
        if c.retained_blocks == "first":
            np.testing.assert_array_equal(np.sort(kept), np.arange(k))
        subsets[(name, s.name, run, g)] = tuple(sorted(kept))
    random = {key: v for key, v in subsets.items() if key[0] != "first, previous" and len(v) >= 3}
    assert len(random) >= 8 and len(set(random.values())) == len(random)


def test_accumulate_keeps_every_generations_data(chapter):
    """Bugs guarded: accumulate keeping only the last generation's data, forgetting the original blocks, rebuilding
    an earlier generation's new data with other random numbers than that generation drew (a resumed chain then
    trains on other data), or flagging the retained originals wrongly."""
    name = "accumulate, strict"
    c = chapter.experiments[name]
    s = c.settings[0]
    prep = chapter.preps[name]
    n, k = len(prep.train_blocks), round(s.retention * len(prep.train_blocks))
    previous = previous_flags = None
    for g in range(c.generations + 1):
        folder = gen_dir(chapter.folder(name), s, 0, g)
        blocks, flags = np.load(folder / "blocks.npy"), np.load(folder / "is_original.npy")
        assert len(blocks) == n * (g + 1) and flags.sum() == n + g * k
        if g:
            np.testing.assert_array_equal(blocks[: n * g], previous)
            np.testing.assert_array_equal(flags[: n * g], previous_flags)
            new, new_flags = blocks[n * g :], flags[n * g :]
            assert new_flags[:k].all() and not new_flags[k:].any()
            kept = kept_indices(new, new_flags, prep.train_blocks)
            assert (kept >= 0).all() and len(set(kept)) == k
            written = np.load(gen_dir(chapter.folder(name), s, 0, g - 1) / "synthetic.npy")
            np.testing.assert_array_equal(new[k:], written[np.setdiff1d(np.arange(n), kept)])
        previous, previous_flags = blocks, flags


def test_accumulate_subsample_draws_n_blocks_from_the_whole_pool(chapter):
    """Bugs guarded: accumulate-subsample drawing from the last generation's data only (or from the original blocks
    only), drawing a block twice, or keeping more or fewer than n blocks."""
    name = "accumulate-subsample, first"
    c = chapter.experiments[name]
    s = c.settings[0]
    prep = chapter.preps[name]
    n = len(prep.train_blocks)
    drawn_from = set()
    for g in range(1, c.generations + 1):
        folder = gen_dir(chapter.folder(name), s, 0, g)
        blocks, flags = np.load(folder / "blocks.npy"), np.load(folder / "is_original.npy")
        assert len(blocks) == n
        written = [np.load(gen_dir(chapter.folder(name), s, 0, j) / "synthetic.npy") for j in range(g)]
        pool = np.concatenate([prep.train_blocks, *written])
        assert rows_in(blocks[flags], prep.train_blocks).all() and not rows_in(blocks[~flags], prep.train_blocks).any()
        # a draw without replacement: no block more often than the pool holds it (the pool: the original blocks,
        # then every generation's retained first blocks and continuations)
        k = round(s.retention * n)
        pool = np.concatenate([prep.train_blocks] + [np.concatenate([prep.train_blocks[:k], w[k:]]) for w in written])
        in_pool = Counter(r.tobytes() for r in np.asarray(pool, dtype=np.int64))
        drawn = Counter(r.tobytes() for r in np.asarray(blocks, dtype=np.int64))
        assert all(in_pool[key] >= count for key, count in drawn.items())
        drawn_from.update(j for j, w in enumerate(written) if rows_in(blocks, w[k:]).any())
        drawn_from.update(["original"] if flags.any() else [])
    assert {0, 1, "original"} <= drawn_from


def test_fresh_retention_is_new_text_of_the_source(chapter):
    """Bugs guarded: 'fresh' retained blocks that are original blocks after all (the same fixed sample), the same
    fresh text every generation, text the language could not write, or its blocks cut without the authors'
    special tokens."""
    name = "fresh"
    c = chapter.experiments[name]
    s = c.settings[0]
    prep = chapter.preps[name]
    lang = prep.corpus.language
    fresh = []
    for g in range(1, c.generations + 1):
        folder = gen_dir(chapter.folder(name), s, 0, g)
        blocks, flags = np.load(folder / "blocks.npy"), np.load(folder / "is_original.npy")
        n, k = len(prep.train_blocks), round(s.retention * len(prep.train_blocks))
        assert flags.sum() == k and flags[:k].all()
        for split in (prep.train_blocks, prep.valid_blocks, prep.test_blocks):
            assert not rows_in(blocks[flags], split).any()
        score = lang.score(decode_blocks(prep.base.tokenizer, blocks[flags]))
        assert score.invalid.sum() == 0 and score.words.sum() > 0
        assert (blocks[flags] == prep.base.tokenizer.bos_token_id).any()  # every line starts with </s>
        written = np.load(gen_dir(chapter.folder(name), s, 0, g - 1) / "synthetic.npy")
        assert rows_in(blocks[~flags], written).all()
        fresh.append(blocks[flags])
    assert not np.array_equal(fresh[0], fresh[1])


# ------------------------------------------------------------------------------------ recipes, sharing and seeds
def test_init_previous_starts_from_the_previous_weights(chapter):
    """Bugs guarded: init='previous' ignored (every generation from the pretrained weights), or starting from
    generation 0's weights or from the previous generation's before training; the other recipes starting from
    anything but the pretrained weights."""
    folders = {presets.slug(n): n for n in chapter.experiments}
    base = {n: identity.weights_fingerprint(p.base.model) for n, p in chapter.preps.items()}
    kinds = set()
    for call in chapter.trains:
        slug_, setting, run, g = call["who"]
        name = folders[slug_]
        c = chapter.experiments[name]
        if g != 0 and c.init == "previous":
            previous = gen_dir(chapter.root / slug_, Setting.from_name(setting), run, g - 1) / "model"
            assert call["start"] == identity.weights_fingerprint(saved(previous)), (name, g)
            assert call["start"] != base[name]
        else:
            assert call["start"] == base[name], (name, setting, g)
        kinds.add(c.init)
    assert kinds == {"pretrained", "previous"}


def test_generation_0_is_shared_by_chains_that_differ_only_later(chapter):
    """Bugs guarded: generation 0 trained again for every setting, recipe or decoding (chains no longer paired), or
    shared between chains whose generation 0 differs (another number of epochs, run, pretrained model or test
    blocks)."""
    gen0_trainings = [c["who"] for c in chapter.trains if c["who"][3] == 0]
    assert len(gen0_trainings) == len(set(gen0_trainings))
    store = sorted(p.name for p in (chapter.root / "cache" / "gen0").iterdir() if p.is_dir())
    assert len(gen0_trainings) == len(store)
    inode = {}
    for name, c, s, run in chapter.chains():
        weights = next((gen_dir(chapter.folder(name), s, run, 0) / "model").glob("*.safetensors"))
        same = "same" if c.pretrain_language == "same" else "related"
        inode.setdefault((same, s.epochs, run, c.max_test_blocks), set()).add(os.stat(weights).st_ino)
    assert all(len(v) == 1 for v in inode.values())
    assert len({next(iter(v)) for v in inode.values()}) == len(inode) == len(store)
    main = chapter.results[presets.MAIN].table
    for name in (presets.STRICT, presets.SAMPLING, "fresh", "select"):
        s = chapter.experiments[name].settings[0]
        row = row_of(chapter, name, s, 0, 0)
        first = main[(main.generation == 0) & (main.epochs == s.epochs)].iloc[0]
        assert row.test_nll == first.test_nll and row.seed == first.seed


def test_generation_0_key_names_what_determines_it(chapter):
    """Bugs guarded: a generation-0 key without the epochs, the run, the seed or the training recipe (two different
    generations 0 share one folder), or with a field that only later generations use (no sharing)."""
    prep = chapter.preps[presets.MAIN]
    c = prep.config
    key = runner.gen0_key(prep, 1, 0)
    for change in (dict(checkpoint="generated"), dict(init="previous"), dict(select=0.5),
                   dict(data_schedule="accumulate"), dict(decoding="sample"), dict(num_beams=3), dict(generations=5),
                   dict(runs=4), dict(keep_models="first"), dict(samples=0), dict(retained_blocks="first")):  # fmt: skip
        assert runner.gen0_key(replace(prep, config=replace(c, **change)), 1, 0) == key, change
    assert runner.gen0_key(prep, 2, 0) != key and runner.gen0_key(prep, 1, 1) != key
    for change in (dict(lr=1e-3), dict(seed=5), dict(batch_size=3), dict(schedule="linear"), dict(min_lr=1e-5),
                   dict(max_grad_norm=None), dict(micro_batch_size=2), dict(eval_batch_size=8)):  # fmt: skip
        assert runner.gen0_key(replace(prep, config=replace(c, **change)), 1, 0) != key, change
    assert runner.gen0_key(replace(prep, lr=1e-2), 1, 0) != key
    assert runner.gen0_key(replace(prep, train_blocks=prep.train_blocks[:-1]), 1, 0) != key
    assert runner.gen0_key(replace(prep, valid_blocks=prep.valid_blocks[:-1]), 1, 0) != key
    # what generation 0 writes: one folder per decoding
    w = runner.write_key(c)
    for change in (dict(decoding="sample"), dict(num_beams=3), dict(repetition_penalty=2.0), dict(new_tokens=8),
                   dict(select=0.5)):  # fmt: skip
        assert runner.write_key(replace(c, **change)) != w, change
    for change in (dict(checkpoint="generated"), dict(lr=1.0e-2), dict(settings=(Setting(7, 0.5),))):
        assert runner.write_key(replace(c, **change)) == w, change


def test_seeds_differ_across_settings_runs_and_generations(chapter):
    """Bugs guarded: the same seed for every generation, run or setting (chains that should be independent repeat
    each other's batch orders, retained subsets and noise); generation 0 seeded per setting (no longer shared)."""
    for name, res in chapter.results.items():
        t = res.table
        later = t[t.generation > 0]
        assert later.seed.nunique() == len(later), name
        assert not set(later.seed) & set(t[t.generation == 0].seed)
        for (epochs, run), group in t[t.generation == 0].groupby(["epochs", "run"]):
            assert group.seed.nunique() == 1
    t = chapter.results["two runs, sampling, strict"].table
    assert t[t.generation == 0].groupby("run").seed.first().nunique() == 2
    train = [c for c in chapter.trains if c["who"][0] == presets.slug("two runs, sampling, strict")]
    assert len({c["seed"] for c in train}) == len(train)
    # two runs of one setting: different generation-0 models, different data
    s = chapter.experiments["two runs, sampling, strict"].settings[0]
    a, b = (np.load(gen_dir(chapter.folder("two runs, sampling, strict"), s, run, 0) / "synthetic.npy") for run in (0, 1))
    assert (a != b).mean() > 0.3


def test_the_chapters_experiments_are_the_presets(chapter):
    """Bugs guarded: the chapter's call running other experiments than chapter_experiments names, an experiment in
    another folder than its slug, load_chapter missing one of them or reading another's table."""
    names = list(presets.chapter_experiments(chapter.config, "quick")) + list(presets.MORE_ABLATION)
    loaded = experiment.load_chapter(chapter.root)
    order = [presets.MAIN, presets.STRICT, presets.SAMPLING, *presets.ABLATION, *presets.MORE_ABLATION]
    assert list(loaded) == [n for n in order if n in names]
    for name in names:
        pd.testing.assert_frame_equal(loaded[name].table, chapter.results[name].table)
        assert loaded[name].config == chapter.experiments[name]
    with pytest.raises(ValueError, match="holds no results"):
        experiment.load_chapter(chapter.root / "cache")


# ------------------------------------------------------------------------------------ the chapter's tables
def test_the_chapters_tables_are_its_metrics(chapter):
    """Bugs guarded: a table of the chapter that reads another column, generation or run than it says (the ablation's
    change not last minus generation 0 per run, its pretrained level from another experiment, the epochs kept
    counted with generation 0's); Figure 11's table not the medians of the saved arrays, its reference or fresh
    sample from another file; runs and generations swapped."""
    from collapse_utils.llm import plots

    first = chapter.config.settings[0].name
    named = {n: chapter.results[n] for n in [presets.MAIN, presets.STRICT, *presets.ABLATION]}
    table = plots.ablation_table(named, first)
    assert list(table.index) == list(named)
    for name, res in named.items():
        t = res.table[res.table.setting == first]
        wide = t.pivot(index="run", columns="generation", values="test_perplexity")
        row = table.loc[name]
        assert row["generation 0"] == pytest.approx(wide[0].median())
        assert row["last generation"] == pytest.approx(wide[wide.columns.max()].median())
        assert row["change"] == pytest.approx((wide[wide.columns.max()] - wide[0]).median())
        assert row["pretrained model"] == res.base["test_perplexity"]
        assert row["epoch kept after generation 0"] == pytest.approx(t[t.generation > 0].groupby("generation")
                                                                     .best_epoch.median().median())  # fmt: skip
        c = chapter.experiments[name]
        assert (row["checkpoint"], row["init"], row["pretrain_language"]) == (c.checkpoint, c.init, c.pretrain_language)
        assert row["runs"] == c.runs and row["last"] == c.generations
    res = chapter.results[presets.MAIN]
    shift = plots.shift_table(res, first)
    ref = np.load(gen_dir(res.output, Setting.from_name(first), 0, 0) / "reference_ppl.npy")
    fresh = np.load(gen_dir(res.output, Setting.from_name(first), 0, 0) / "fresh_ppl.npy")
    assert list(shift.generation) == ["reference", measures.FRESH_ROW, *range(res.config.generations + 1)]
    col = "median perplexity"
    assert shift[col].iloc[0] == pytest.approx(np.median(ref), abs=1e-3)
    assert shift[col].iloc[1] == pytest.approx(np.median(fresh), abs=1e-3)
    for g in range(res.config.generations + 1):
        ppl = np.load(gen_dir(res.output, Setting.from_name(first), 0, g) / "train_ppl.npy")
        assert shift[col].iloc[2 + g] == pytest.approx(np.median(ppl), abs=1e-3)
        assert shift["share above the reference median"].iloc[2 + g] == pytest.approx(np.mean(ppl > np.median(ref)),
                                                                                     abs=1e-3)  # fmt: skip
    runs = chapter.results["two runs, sampling, strict"]
    s = runs.config.settings[1].name
    gens, values = plots.runs_matrix(runs, "test_nll", s)
    assert list(gens) == [0, 1, 2] and values.shape == (2, 3)
    for run in (0, 1):
        for g in gens:
            assert values[run, g] == row_of(chapter, "two runs, sampling, strict", Setting.from_name(s), run, g).test_nll
    assert plots.growth(runs, "test_nll")[s] == pytest.approx(np.median(values[:, -1] - values[:, 0]))
    writer = plots.writer_table(res, sampled=chapter.results[presets.SAMPLING])
    sampled = row_of(chapter, presets.SAMPLING, chapter.config.settings[0], 0, 0)
    row = writer.loc[plots.sampled_row(chapter.results[presets.SAMPLING])]
    assert row["distinct 2-grams"] == pytest.approx(sampled.written_distinct_2, abs=1e-3)
    assert row["true NLL per word"] == pytest.approx(sampled.written_true_nll, abs=1e-3)
    perfect = res.base["writer"][measures.PERFECT_ROW]
    assert writer.loc[measures.PERFECT_ROW, "true NLL per word"] == pytest.approx(perfect["true NLL per word"], abs=1e-3)


# ------------------------------------------------------------------------------------ the scheduler
def _copy_cache(src: Path, dst: Path) -> None:
    """The pretrained small models of ``src`` (not its generations 0): a new call finds them but trains its own."""
    dst.mkdir(parents=True)
    for p in src.glob("small-opt-*"):
        shutil.copytree(p, dst / p.name)


def _without_timing(t: pd.DataFrame) -> pd.DataFrame:
    return t[[c for c in t.columns if c not in TIMING]].reset_index(drop=True)


def test_an_error_stops_the_call_and_a_resume_finishes_identically(chapter, tmp_path, monkeypatch):
    """Bugs guarded: an error in one step swallowed (the call reports success with a generation missing), finished
    steps lost with it, or a resumed accumulate chain training on other data than an uninterrupted one (state that
    only the interrupted process held: the pool, the retained subsets, the strict recipe's validation continuations)."""
    name = "accumulate, strict"
    c = chapter.experiments[name]
    out, cache = tmp_path / "out", tmp_path / "cache"
    _copy_cache(chapter.root / "cache", cache)
    real = runner.run_generation

    def failing(ctx, setting, run, g, progress=False):
        if g == 2:
            raise RuntimeError("a step failed")
        return real(ctx, setting, run, g, progress=progress)

    monkeypatch.setattr(runner, "run_generation", failing)
    with pytest.raises(RuntimeError, match="a step failed"):
        experiment.run_experiment(c, out, verbose=False, progress=False, cache_dir=cache)
    s = c.settings[0]
    assert all((gen_dir(out, s, 0, g) / "DONE").exists() for g in (0, 1))
    assert not gen_dir(out, s, 0, 2).exists()
    monkeypatch.setattr(runner, "run_generation", real)
    resumed = experiment.run_experiment(c, out, verbose=False, progress=False, cache_dir=cache)
    pd.testing.assert_frame_equal(_without_timing(resumed.table), _without_timing(chapter.results[name].table))
    for g in range(c.generations + 1):
        for f in ("blocks.npy", "is_original.npy") + (("valid_synthetic.npy",) if g < c.generations else ()):
            np.testing.assert_array_equal(np.load(gen_dir(out, s, 0, g) / f),
                                          np.load(gen_dir(chapter.folder(name), s, 0, g) / f))  # fmt: skip


def test_a_resume_checks_the_saved_training_sets(chapter, tmp_path):
    """Bugs guarded: a resumed chain not checking that the data its finished generations trained on are what the
    schedule rebuilds from disk (runner.check_resumed skipped, or comparing nothing), so a chain goes on from data
    another configuration or code version wrote."""
    name = "accumulate, strict"
    c = chapter.experiments[name]
    out = tmp_path / "copy"
    shutil.copytree(chapter.folder(name), out)
    s = c.settings[0]
    written = gen_dir(out, s, 0, 0) / "synthetic.npy"
    blocks = np.load(written)
    np.save(written, blocks[::-1].copy())
    with pytest.raises(RuntimeError, match="gen1.*differ"):
        experiment.run_experiment(c, out, verbose=False, progress=False, cache_dir=chapter.root / "cache")
    ctx = runner.Context(c, out, chapter.root / "cache", runner.distributed.current("cpu"), chapter.preps[name])
    np.save(written, blocks)
    runner.check_resumed(ctx, s, 0, 2)  # the files as written: passes
    gen2 = gen_dir(out, s, 0, 2) / "blocks.npy"
    saved_blocks = np.load(gen2)
    saved_blocks[-1, 0] += 1
    np.save(gen2, saved_blocks)
    with pytest.raises(RuntimeError, match="gen2"):
        runner.check_resumed(ctx, s, 0, 2)


class _AskedTheMain(Exception):
    pass


class _NotMain:
    """Rank 1 of two: every question to the main process raises, so a step that never asks returns quietly."""

    rank, size, local_rank, is_main, distributed = 1, 2, 1, False, True
    device = torch.device("cpu")

    def broadcast_object(self, obj):
        raise _AskedTheMain

    def barrier(self):
        raise AssertionError("a barrier before the step asked the main process whether it is finished")


def test_only_the_main_process_decides_whether_a_step_is_finished(chapter, tmp_path):
    """Bugs guarded (a hang of ``torchrun --nproc-per-node 2`` seen in CI): every process asking the disk whether a
    step's folder is finished. The main process writes the folder and then waits at a barrier; a slower process that
    looks only then finds it finished, skips the step and its barrier, and the two wait forever in different
    collectives. Here a process that is not the main one sees every step finished on disk: each step must still ask
    the main process (generation 0, its writing, a chain's generation 0 and a later generation)."""
    name = "accumulate, strict"
    c = chapter.experiments[name]
    s = c.settings[0]
    out = chapter.folder(name)
    cache = chapter.root / "cache"
    prep = chapter.preps[name]
    ctx = runner.Context(c, out, cache, runner.distributed.current("cpu"), prep)
    # the main process answers from the disk
    assert runner.finished(ctx, gen_dir(out, s, 0, 1)) and not runner.finished(ctx, tmp_path / "none")
    ctx.world = _NotMain()
    folder = runner.gen0_folder(ctx, s.epochs, 0)
    assert runner.is_done(folder) and runner.is_done(runner.written_folder(folder, c, "train"))
    steps = {
        "generation 0": lambda: runner.run_gen0(ctx, s.epochs, 0),
        "its writing": lambda: runner.write_gen0(ctx, s.epochs, 0, "train"),
        "the chain's generation 0": lambda: runner.materialize_gen0(ctx, s, 0),
        "generation 2": lambda: runner.run_generation(ctx, s, 0, 2),
    }
    assert runner.is_done(gen_dir(out, s, 0, 2))
    for what, step in steps.items():
        try:
            step()
        except _AskedTheMain:
            continue
        pytest.fail(f"{what}: skipped on what this process saw on disk, without asking the main process")


@pytest.mark.slow
def test_two_worker_processes_give_the_inline_results(chapter, tmp_path):
    """Bugs guarded: steps run in worker processes computing other numbers than inline (seeds drawn per process,
    threads, a context built from another configuration), a step started before the one it waits for, or the pool
    path losing steps."""
    name = "two runs, sampling, strict"
    c = chapter.experiments[name]
    c = replace(c, settings=c.settings[:1])  # two chains, one per run: one per worker
    cache = tmp_path / "cache"
    _copy_cache(chapter.root / "cache", cache)
    r = experiment.run_experiment(c, tmp_path / "out", verbose=False, progress=False, cache_dir=cache, workers=2)
    t = chapter.results[name].table
    pd.testing.assert_frame_equal(_without_timing(r.table), _without_timing(t[t.setting == c.settings[0].name]))


def test_a_stalled_step_stops_the_call_and_names_the_step(monkeypatch):
    """Bugs guarded: the hang guard of the chapter's long cell waiting forever on a worker that never returns
    (``wait`` without a timeout, or a timeout that is never checked), or stopping without saying which step hung;
    a non-positive ``stall_seconds`` accepted."""
    import threading
    import time as time_mod
    from concurrent.futures import ThreadPoolExecutor

    from collapse_utils.llm import workers as w

    release = threading.Event()

    def execute(key, job, cache, device, progress=False):
        if key[-1] == 1:  # generation 1 hangs
            release.wait(30)
        return key

    monkeypatch.setattr(w, "_execute", execute)
    job = w.Job("the strict recipe", presets.profile_config("quick"), Path("unused"))
    graph = {("gen", job.name, 0, 0, 0): w._Task(("gen", job.name, 0, 0, 0), job, set(), 2.0)}
    graph[("gen", job.name, 0, 0, 1)] = w._Task(("gen", job.name, 0, 0, 1), job, {("gen", job.name, 0, 0, 0)}, 1.0)
    pool = ThreadPoolExecutor(max_workers=2)
    start = time_mod.perf_counter()
    try:
        with pytest.raises(w.StepStalled, match=r"0\.5 s.*generation 1 of run 0 of 'the strict recipe', setting 1"):
            w._run_graph(graph, [job], Path("unused"), None, pool, 2, False, None, stall_seconds=0.5)
    finally:
        release.set()
        pool.shutdown(wait=True)
    assert time_mod.perf_counter() - start < 10
    # the same graph finishes when its steps end in time (the guard is not a limit on the whole call)
    graph2 = {k: w._Task(t.key, t.job, set(t.deps), t.weight) for k, t in graph.items()}
    with ThreadPoolExecutor(max_workers=2) as pool2:
        assert w._run_graph(graph2, [job], Path("unused"), None, pool2, 2, False, None, stall_seconds=5.0) == 2
    with pytest.raises(ValueError, match="stall_seconds"):
        w.run_many({"x": (presets.profile_config("quick"), Path("unused-out"))}, stall_seconds=0)


def test_steps_run_while_another_experiments_model_pretrains(monkeypatch):
    """Bugs guarded: every step waiting for every small model (a worker idle while the last model pretrains, and the
    experiments prepared one after another before any step), an experiment's steps started before its model is in
    the cache, the experiments that wait for a model never started once it is there (their generations silently not
    computed), an error in a pretraining swallowed, a pretraining that hangs not caught by the hang guard."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from collapse_utils.llm import workers as w

    log: list[str] = []
    model_ready = threading.Event()

    def execute(key, job, cache, device, progress=False):
        if key[0] == "pretrain":
            model_ready.wait(10)
            log.append("pretrained")
        else:
            log.append(f"{job.name} {key[-1]}")
            if job.name == "ready" and key[-1] == 1:
                model_ready.set()  # the model is done only after the ready experiment's steps ran
        return key

    def chain(job, n):
        keys = [("gen", job.name, 0, 0, g) for g in range(n)]
        return {k: w._Task(k, job, {keys[i - 1]} if i else set(), float(n - i)) for i, k in enumerate(keys)}

    monkeypatch.setattr(w, "_execute", execute)
    ready = w.Job("ready", presets.profile_config("quick"), Path("unused-a"))
    waits = w.Job("waits", presets.profile_config("quick"), Path("unused-b"))
    started: list[list[str]] = []

    def start(jobs):
        started.append([j.name for j in jobs])
        assert "pretrained" in log  # never before its model is in the cache
        return chain(jobs[0], 2)

    with ThreadPoolExecutor(max_workers=2) as pool:
        future = pool.submit(execute, ("pretrain", "waits"), waits, None, None)
        done = w._run_graph(chain(ready, 2), [ready, waits], Path("unused"), None, pool, 2, False, None,
                            stall_seconds=20, pretraining={future: [waits]}, start=start)  # fmt: skip
    assert done == 4 and started == [["waits"]]
    assert log == ["ready 0", "ready 1", "pretrained", "waits 0", "waits 1"]
    # an error in a pretraining stops the call; a pretraining that hangs is named by the hang guard
    with ThreadPoolExecutor(max_workers=2) as pool:
        broken = pool.submit(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            w._run_graph({}, [waits], Path("unused"), None, pool, 2, False, None, pretraining={broken: [waits]},
                         start=start)  # fmt: skip
    hang = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        stuck = pool.submit(hang.wait, 10)
        try:
            with pytest.raises(w.StepStalled, match="pretraining for 'waits'"):
                w._run_graph({}, [waits], Path("unused"), None, pool, 2, False, None, stall_seconds=0.3,
                             pretraining={stuck: [waits]}, start=start)  # fmt: skip
        finally:
            hang.set()


def test_the_pool_starts_every_worker_first_and_waits_for_steps_in_flight_only_after_an_error(monkeypatch, tmp_path):
    """Bugs guarded: the workers started only when the first step is submitted (their imports after this process'
    preparation instead of during it); an error in one step returning while another step still writes its folder
    (the pool let go without waiting after an error); a normal end that waits for the workers to exit."""
    import concurrent.futures
    import threading
    import time as time_mod
    from concurrent.futures import ThreadPoolExecutor

    from collapse_utils.llm import workers as w

    log, shutdowns = [], []

    class Pool(ThreadPoolExecutor):
        def __init__(self, max_workers, mp_context=None):
            super().__init__(max_workers=max_workers)

        def submit(self, fn, *args, **kwargs):
            log.append(getattr(fn, "__name__", "?") if fn is not w._execute else f"step {args[0][3]}")
            if fn is w._warm:  # a worker's own settings (its collector's): not for this test's process
                done = concurrent.futures.Future()
                done.set_result(None)
                return done
            return super().submit(fn, *args, **kwargs)

        def shutdown(self, wait=True, cancel_futures=False):
            shutdowns.append(wait)
            super().shutdown(wait=wait, cancel_futures=cancel_futures)

    fail, running = threading.Event(), threading.Event()

    def execute(key, job, cache, device, progress=False):
        if fail.is_set() and key[3] == 0:  # run 0's step fails while run 1's is in flight
            running.wait(5)
            raise RuntimeError("step 0 failed")
        running.set()
        time_mod.sleep(0.3)
        log.append(f"ended {key[3]}")
        return key

    def graph(plan, cache, device, world):  # two independent steps: one per worker
        keys = [("gen", plan[0].name, 0, run, 1) for run in (0, 1)]
        return {k: w._Task(k, plan[0], set(), 1.0) for k in keys}

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)
    monkeypatch.setattr(w, "_execute", execute)
    monkeypatch.setattr(w, "_small_cache_missing", lambda *a: None)
    monkeypatch.setattr(w, "_prepare", lambda *a, **k: None)
    monkeypatch.setattr(w, "_graph", graph)
    monkeypatch.setattr(w, "write_table", lambda output: None)
    monkeypatch.setattr(w, "load_results", lambda output: "results")
    config = experiment.profile_config("quick", generations=1, runs=1)
    call = dict(cache_dir=tmp_path / "cache", workers=2, verbose=False, progress=False)
    assert w.run_many({"a": (config, tmp_path / "a")}, **call) == {"a": "results"}
    assert log[:2] == ["_warm", "_warm"] and sorted(log[2:]) == ["ended 0", "ended 1", "step 0", "step 1"]
    assert shutdowns == [False]  # every step ended: the workers exit on their own
    log.clear()
    running.clear()
    fail.set()
    with pytest.raises(RuntimeError, match="step 0 failed"):
        w.run_many({"a": (config, tmp_path / "b")}, **call)
    assert shutdowns == [False, True] and "ended 1" in log  # the other step ended before the call raised


def test_a_worker_freed_while_an_experiment_is_prepared_gets_a_step_at_once(monkeypatch):
    """Bug guarded: a step that ended while this process prepared the experiments of another pretrained model still
    counted as running, so its worker idled until the next preparation too had ended (seconds per call, measured
    in the chapter's timeline: the small models' pretrainings end close together)."""
    import threading
    import time as time_mod
    from concurrent.futures import ThreadPoolExecutor

    from collapse_utils.llm import workers as w

    log: list[str] = []
    lock = threading.Lock()

    def note(text):
        with lock:
            log.append(text)

    def execute(key, job, cache, device, progress=False):
        note(f"step {job.name} {key[-1]}")
        time_mod.sleep(0.05)
        return key

    def pretrain(name, seconds):
        time_mod.sleep(seconds)
        return ("pretrain", name)

    def start(jobs):
        note(f"start {jobs[0].name}")
        time_mod.sleep(0.6)  # preparing takes longer than the other pretraining has left
        note(f"prepared {jobs[0].name}")
        key = ("gen", jobs[0].name, 0, 0, 0)
        return {key: w._Task(key, jobs[0], set(), 1.0)}

    monkeypatch.setattr(w, "_execute", execute)
    a, b, c = (w.Job(n, presets.profile_config("quick"), Path(f"unused-{n}")) for n in "abc")
    with ThreadPoolExecutor(max_workers=2) as pool:  # c's pretraining takes a's worker when a's ends
        futures = {pool.submit(pretrain, "a", 0.1): [a], pool.submit(pretrain, "b", 0.3): [b],
                   pool.submit(pretrain, "c", 2.0): [c]}  # fmt: skip
        done = w._run_graph({}, [a, b, c], Path("unused"), None, pool, 2, False, None, stall_seconds=20,
                            pretraining=futures, start=start)  # fmt: skip
    assert done == 3
    assert log.index("start b") < log.index("step a 0") < log.index("prepared b"), log  # ran while b was prepared


class _FakeProcess:
    """A process that ends when joined (``stuck=False``) or never (``stuck=True``); records its joins' limits."""

    def __init__(self, stuck: bool) -> None:
        self.stuck, self.killed, self.timeouts = stuck, False, []
        self.exitcode: int | None = None

    def join(self, timeout: float | None = None) -> None:
        self.timeouts.append(timeout)
        if not self.stuck or self.killed:
            self.exitcode = -9 if self.killed else 0

    def is_alive(self) -> bool:
        return self.exitcode is None

    def kill(self) -> None:
        self.killed = True


def test_pretraining_together_is_stopped_and_named_when_a_process_is_stuck():
    """Bug: ``pretrain_together`` joined its processes without a limit, so one rank stuck in a collective held the
    call (and the book build) forever instead of failing within the hang guard, naming the pretraining."""
    from collapse_utils.llm import workers

    ended, stuck = _FakeProcess(stuck=False), _FakeProcess(stuck=True)
    with pytest.raises(workers.StepStalled, match="pretraining for 'x'.*within 5 s"):
        workers._join_all([ended, stuck], 5.0, "pretraining for 'x'")
    assert stuck.killed and not ended.killed
    assert stuck.timeouts[0] is not None and stuck.timeouts[0] <= 5.0  # the wait itself has a limit
    assert stuck.exitcode is not None  # reaped after the kill: no zombie left behind


def test_pretraining_together_waits_for_every_process_without_a_limit():
    """Bug: the hang guard applied with ``stall_seconds=None`` (a limit of zero or a default), stopping a long but
    healthy pretraining; without a limit every process is waited for and none is killed."""
    from collapse_utils.llm import workers

    procs = [_FakeProcess(stuck=False) for _ in range(2)]
    workers._join_all(procs, None, "pretraining for 'x'")
    assert all(p.timeouts == [None] and not p.killed and p.exitcode == 0 for p in procs)


def test_run_many_gives_its_hang_guard_to_pretraining_together(monkeypatch, tmp_path):
    """Bug: ``run_many`` called ``pretrain_together`` without its ``stall_seconds``: the one step that several
    processes share had no hang guard while every other step had one."""
    from collapse_utils.llm import workers

    seen = {}

    def fake(job, cache_dir, processes, stall_seconds=None):
        seen["stall_seconds"] = stall_seconds
        raise workers.StepStalled("stopped here")

    monkeypatch.setattr(workers, "pretrain_together", fake)
    monkeypatch.setattr(workers, "_small_cache_missing", lambda *a: str(tmp_path / "small"))
    config = experiment.profile_config("quick", generations=1, runs=1)
    with pytest.raises(workers.StepStalled, match="stopped here"):
        workers.run_many({"a": (config, tmp_path / "a")}, cache_dir=tmp_path / "cache", workers=2, verbose=False,
                         progress=False, stall_seconds=123.0)  # fmt: skip
    assert seen["stall_seconds"] == 123.0


def test_a_worker_leaves_its_imports_to_the_garbage_collector_and_collects_less_often():
    """Bugs guarded: the workers' collector walking every imported module's object at each full collection (no
    ``gc.freeze`` after the imports), or at Python's default thresholds (about 0.6 s of a worker's CPU a call
    between them); and the warm-up run in the caller's process changing the notebook kernel's collector."""
    import gc
    import subprocess
    import sys

    from collapse_utils.llm import workers as w

    code = ("import gc; from collapse_utils.llm import workers; before = gc.get_freeze_count(); workers._warm(); "
            "print(before, gc.get_freeze_count(), *gc.get_threshold())")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    before, frozen, *threshold = map(int, out)
    assert before == 0 and frozen > 100_000 and tuple(threshold) == w.WORKER_GC_THRESHOLD
    assert w.WORKER_GC_THRESHOLD[0] >= 10_000
