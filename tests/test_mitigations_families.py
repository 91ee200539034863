"""Chapter 5's VAE family (chapter 3's pieces) and language-model driver (chapter 4's experiment).

The VAE tests use tiny images, a tiny judge and one-epoch VAEs; the language
model's driver is tested on the configurations it builds and on tables shaped
like chapter 4's ``metrics.csv`` (``experiment.run_many`` is replaced by a fake
that records what it was asked to run). Each test names the bug it guards against.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from collapse_utils import mitigations as M
from collapse_utils import vae
from collapse_utils.llm import data as data_mod
from collapse_utils.llm import experiment
from collapse_utils.llm import model as model_mod
from collapse_utils.mitigations import families, llm
from collapse_utils.mitigations.strategies import Strategy


# --------------------------------------------------------------------------------------------- VAE
@pytest.fixture(scope="module")
def tiny():
    """Random 4x4 'digits', a one-epoch judge, a meter and a one-epoch VAE configuration."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.random((60, 4, 4)).astype(np.float32)
    y = np.arange(60) % 10
    data = vae.ImageData(x[:40], y[:40], x[40:], y[40:], "digits", "test")
    judge = vae.train_classifier(data, hidden=(8,), epochs=1, seed=0)
    meter = vae.GenerationMeter(judge, data.x_test, n_eval=10, grid=1, seed=0)
    config = vae.VAEConfig(latent_dim=2, hidden=(8,), epochs=1, batch_size=5, lr=1e-3)
    return data, meter, config


def test_vae_family_draws_originals_and_fresh_images_from_the_pool(tiny):
    """Bug: a run's original sample holds repeated images, or fresh images come from outside the real pool."""
    data, meter, config = tiny
    fam = families.VAEFamily(10, data.x_train, config, meter, n_eval=10)
    rng = np.random.default_rng(1)
    orig = fam.original(3, rng)
    assert orig.shape == (3, 10, 4, 4)
    pool = data.x_train.reshape(len(data.x_train), -1)
    for row in orig:
        idx = [int(np.flatnonzero((pool == img.ravel()).all(axis=1))[0]) for img in row]
        assert len(set(idx)) == 10
    fresh = fam.draw(2, 4, rng)
    assert fresh.shape == (2, 4, 4, 4)
    assert all((pool == img.ravel()).all(axis=1).any() for img in fresh.reshape(-1, 4, 4))
    with pytest.raises(ValueError, match="n must be an integer in"):
        families.VAEFamily(41, data.x_train, config, meter)
    with pytest.raises(ValueError, match="meter must be a GenerationMeter"):
        families.VAEFamily(5, data.x_train, config, "judge")


def test_vae_family_trains_each_size_together_and_accumulate_with_as_many_steps(tiny, monkeypatch):
    """Bug: accumulate's growing set trained with the others' batch size (its cost grows every generation), VAEs of
    one size not stacked, or seeds shared between runs."""
    data, meter, config = tiny
    fam = families.VAEFamily(10, data.x_train, config, meter, n_eval=10)
    calls = []
    train = vae.train_vaes

    def spy(stacks, cfg, seeds):
        calls.append((len(stacks), stacks[0].shape[0], cfg.batch_size, list(seeds)))
        return train(stacks, cfg, seeds)

    monkeypatch.setattr(vae, "train_vaes", spy)
    rng = [np.random.default_rng(i) for i in range(3)]
    items = [(np.zeros((2, 10, 4, 4), np.float32), rng[0], None), (np.zeros((2, 10, 4, 4), np.float32), rng[1], None),
             (np.zeros((2, 30, 4, 4), np.float32), rng[2], None)]  # fmt: skip
    out = fam.fit(items)
    assert [len(o) for o in out] == [2, 2, 2]
    assert sorted(c[:3] for c in calls) == [(2, 30, 15), (4, 10, 5)]  # (VAEs, images each, batch size)
    seeds = [s for c in calls for s in c[3]]
    assert len(set(seeds)) == 6


def test_vae_distance_uses_common_evaluation_noise(tiny):
    """Bug: the measuring samples depend on call order (strategies measured with different noise) or never change
    between generations."""
    data, meter, config = tiny
    fam = families.VAEFamily(10, data.x_train, config, meter, n_eval=10, seed=3)
    models = vae.train_vaes([data.x_train[:10]] * 2, config, [0, 1])
    a = fam.distance(models, 2)
    fam.distance(models, 5)
    np.testing.assert_array_equal(fam.distance(models, 2), a)
    assert not np.array_equal(fam.distance(models, 1), a)
    assert a.shape == (2,) and np.all(a >= 0)


def test_elbo_is_the_vaes_own_bound(tiny):
    """Bug: the verifier's score is a loss (higher for less likely images) or drops the KL term."""
    data, meter, config = tiny
    (model,) = vae.train_vaes([data.x_train[:10]], config, [0])
    x = data.x_test[:6]
    rng = np.random.default_rng(4)
    got = families.elbo(model, x, rng)
    noise = torch.from_numpy(np.random.default_rng(4).standard_normal((6, model.latent_dim)).astype(np.float32))
    with torch.no_grad():
        rec, kl = model.model.loss(torch.from_numpy(x.reshape(6, -1)), noise, 1.0)
    assert got.mean() == pytest.approx(-(rec + kl).item(), rel=1e-5)
    assert np.all(got < 0)


def test_vae_recursion_end_to_end(tiny):
    """Bug (end to end): the VAE driver drops a strategy or mislabels the family."""
    data, meter, config = tiny
    r = M.run_vae(data.x_train, 8, 1, 1, (0.0, 0.5, 1.0), 0.5, config, meter, n_eval=10, seed=0)
    assert r.family == "vae" and r.generations == 1 and len(r.distances) == 8
    gen0 = {float(d[0, 0]) for d in r.distances.values()}
    assert len(gen0) == 1


# --------------------------------------------------------------------------------------------- language model
def test_llm_configs_map_each_strategy_to_chapter_4s_options():
    """Bug: accumulate run as replace, fresh text as fixed blocks, select not selecting, or the decoding not sampling."""
    base = experiment.profile_config("quick")
    jobs = llm.configs(base, (0.0, 0.5, 1.0), 0.5, epochs=2, generations=3, runs=2, blocks=16, test_blocks=8,
                       valid_blocks=4)  # fmt: skip
    assert set(jobs) == set(llm.JOBS)
    rf, fresh = jobs["replace and fixed"], jobs["fresh"]
    assert [s.retention for s in rf.settings] == [0.0, 0.5, 1.0] and rf.retained_blocks == "random"
    assert [s.retention for s in fresh.settings] == [0.5, 1.0] and fresh.retained_blocks == "fresh"
    assert jobs["accumulate"].data_schedule == "accumulate"
    assert jobs["accumulate-subsample"].data_schedule == "accumulate-subsample"
    assert jobs["select"].select == pytest.approx(1 / M.CANDIDATES)
    for c in jobs.values():
        assert c.decoding == "sample" and c.generations == 3 and c.runs == 2 and c.max_train_blocks == 16
        assert c.max_test_blocks == 8 and c.max_valid_blocks == 4 and all(s.epochs == 2 for s in c.settings)
        assert (c.small, c.language, c.pretrain_words, c.seed) == (base.small, base.language, base.pretrain_words, base.seed)
        if c is not jobs["select"]:
            assert c.select == 1.0
    assert jobs["replace and fixed"].data_schedule == "replace" == jobs["fresh"].data_schedule
    beam = llm.configs(base, (0.0, 0.5), 0.5, 1, 1, 1, 4, decoding="beam")
    assert beam["select"].decoding == "beam"
    with pytest.raises(ValueError, match="decoding must be one of"):
        llm.configs(base, (0.0, 0.5), 0.5, 1, 1, 1, 4, decoding="greedy")
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        llm.configs(base, (0.0, 0.5), 0.5, 0, 1, 1, 4)


def test_llm_base_config_runs_on_the_embedded_language():
    """Bug: the gpu or paper profile's wikitext configuration passed on (no source for fresh text, no truth)."""
    paper = experiment.profile_config("paper")
    base = llm.base_config(paper)
    assert base.data == data_mod.SYNTHETIC and base.model == model_mod.SMALL and base.lr == paper.fallback_lr
    book = experiment.profile_config("book")
    assert llm.base_config(book) is book
    with pytest.raises(ValueError, match="ExperimentConfig"):
        llm.base_config({"data": "synthetic"})


def _table(settings, runs=2, generations=2, epochs=1, shift=0.0):
    rows = []
    for retention in settings:
        for run in range(runs):
            for g in range(generations + 1):
                truth = 2.0 + 0.1 * run
                rows.append(dict(setting=f"{epochs}ep-keep{float(retention)!r}", epochs=epochs, retention=retention,
                                 run=run, generation=g, test_word_nll=truth + 1.0 + g * (1 - retention) + shift,
                                 test_word_nll_truth=truth, test_nll=99.0))  # fmt: skip
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # rows in any order


def test_llm_distances_are_the_excess_over_the_truth():
    """Bug: the raw test loss (or chapter 4's token loss) taken as the distance, runs or generations out of order."""
    tables = {"replace and fixed": _table([0.0, 0.5, 1.0]), "fresh": _table([0.5, 1.0], shift=0.5),
              "accumulate": _table([0.0], shift=0.25), "accumulate-subsample": _table([0.0]), "select": _table([0.0])}  # fmt: skip
    d = llm.distances(tables, (0.0, 0.5, 1.0), 0.5, epochs=1, runs=2)
    np.testing.assert_allclose(d[Strategy("replace")], [[1, 2, 3], [1, 2, 3]])
    np.testing.assert_allclose(d[Strategy("fixed", 0.5)], [[1, 1.5, 2]] * 2)
    np.testing.assert_allclose(d[Strategy("fresh", 0.5)], [[1.5, 2, 2.5]] * 2)
    np.testing.assert_allclose(d[Strategy("accumulate")], [[1.25, 2.25, 3.25]] * 2)
    short = dict(tables, select=_table([0.0], runs=1))
    with pytest.raises(ValueError, match="incomplete"):
        llm.distances(short, (0.0, 0.5, 1.0), 0.5, epochs=1, runs=2)
    with pytest.raises(ValueError, match="no results for fixed real data, 50%"):
        llm.distances(dict(tables, **{"replace and fixed": _table([0.0, 1.0])}), (0.0, 0.5, 1.0), 0.5, 1, 2)


def test_run_llm_runs_every_experiment_with_chapter_4s_cache(monkeypatch, tmp_path):
    """Bug: the experiments written to one folder, chapter 4's cache not used, or a strategy's results read from
    another experiment."""
    asked = {}

    class Fake:
        def __init__(self, table):
            self.table = table

    def fake_run_many(jobs, cache_dir=None, workers=1, **kw):
        asked.update(jobs=jobs, cache=cache_dir, workers=workers)
        shift = {"replace and fixed": 0.0, "fresh": 0.5, "accumulate": -0.5, "accumulate-subsample": 0.25, "select": 1}
        return {name: Fake(_table([s.retention for s in c.settings], runs=1, generations=2, epochs=1, shift=shift[name]))
                for name, (c, _) in jobs.items()}  # fmt: skip

    monkeypatch.setattr(experiment, "run_many", fake_run_many)
    r = M.run_llm(experiment.profile_config("quick"), (0.0, 0.5, 1.0), 0.5, 1, 2, 1, 8, tmp_path / "cache",
                  tmp_path / "out", workers=2)  # fmt: skip
    assert asked["cache"] == tmp_path / "cache" and asked["workers"] == 2
    outputs = [str(o) for _, o in asked["jobs"].values()]
    assert len(set(outputs)) == 5 and all(o.startswith(str(tmp_path / "out")) for o in outputs)
    assert r.family == "llm" and r.generations == 2
    assert r.final(r.get("accumulate")) < r.final(r.get("replace")) < r.final(r.get("select"))
    assert r.distances[r.get("fresh", 0.5)][0, 0] == pytest.approx(1.5)
    assert "sampling" in r.scale and set(r.extra["configs"]) == set(llm.JOBS)
