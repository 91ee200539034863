"""Chapter 3: data, VAE, classifier, measures, the recursion and the plotting helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import linalg

from collapse_utils import vae, widgets

SMALL = vae.VAEConfig(latent_dim=4, hidden=(32, 16), epochs=3, batch_size=64)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models run fastest on one thread (and do not stall when the cores are busy)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data() -> vae.ImageData:
    return vae.load_images("digits", verbose=False)


@pytest.fixture(scope="module")
def small(data) -> np.ndarray:
    return data.x_train[:240]


@pytest.fixture(scope="module")
def classifier(data) -> vae.DigitClassifier:
    return vae.train_classifier(data, hidden=(64, 32), epochs=8, seed=0)


@pytest.fixture(scope="module")
def meter(data, classifier) -> vae.GenerationMeter:
    return vae.GenerationMeter(classifier, data.x_test, n_eval=200, grid=16, seed=0)


@pytest.fixture(scope="module")
def runs(small, meter) -> dict[float, vae.VAERun]:
    return {r: vae.run_vae_generations(small, 2, meter, SMALL, retention=r, seed=0) for r in (0.0, 0.5)}


# ---------------------------------------------------------------------------
# data


def test_digits_are_loaded_scaled_and_split(data):
    assert data.source == "digits" and data.side == 8
    assert data.x_train.shape == (1347, 8, 8) and data.x_test.shape == (450, 8, 8)
    assert data.x_train.dtype == np.float32
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert set(np.unique(data.y_train)) == set(range(10))
    # a stratified split: every digit is about a tenth of the test set
    assert np.bincount(data.y_test, minlength=10).min() >= 40
    assert "8x8" in data.describe()


def test_subsets_are_capped_and_seeded():
    a = vae.load_images("digits", max_train=100, max_test=30, seed=1, verbose=False)
    b = vae.load_images("digits", max_train=100, max_test=30, seed=1, verbose=False)
    assert a.n_train == 100 and a.n_test == 30 and len(a.y_train) == 100
    np.testing.assert_array_equal(a.x_train, b.x_train)


def test_auto_falls_back_to_digits_offline(monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not vae.hub_reachable()
    d = vae.load_images("auto", max_train=50, max_test=20)
    assert d.source == "digits" and "not reachable" in d.note
    assert "scikit-learn digits" in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(source="cifar"), "source must be one of"),
        (dict(source="digits", max_train=0), "max_train must be an integer >= 1"),
        (dict(source="digits", max_test=-3), "max_test"),
        (dict(source="digits", test_fraction=1.0), "test_fraction"),
    ],
)
def test_load_images_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        vae.load_images(verbose=False, **kwargs)


@pytest.mark.parametrize(
    "images, match",
    [
        (np.zeros((5, 8, 9)), "square images"),
        (np.zeros((5, 64)), r"shape \(n, side, side\)"),
        (np.zeros((0, 8, 8)), "at least one image"),
        (np.full((2, 8, 8), 1.5), r"values in \[0, 1\]"),
        (np.full((2, 8, 8), np.nan), r"values in \[0, 1\]"),
    ],
)
def test_check_images_rejects_bad_images(images, match):
    with pytest.raises(ValueError, match=match):
        vae.check_images(images)


def test_check_images_checks_the_side():
    with pytest.raises(ValueError, match="must be 28x28"):
        vae.check_images(np.zeros((3, 8, 8)), side=28)
    assert vae.check_images(np.zeros((3, 8, 8), dtype=np.float64), side=8).dtype == np.float32


def test_tile_images_lays_out_a_mosaic():
    tiles = vae.tile_images(np.ones((5, 8, 8)), ncols=3, pad=1, fill=0.0)
    assert tiles.shape == (2 * 9 - 1, 3 * 9 - 1)
    assert tiles[:8, :8].min() == 1.0 and tiles[8, 0] == 0.0  # an image, then a padding row
    assert tiles[9:, 18:].max() == 0.0  # the sixth slot is empty


# ---------------------------------------------------------------------------
# the VAE


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(decode="mode"), "decode must be one of"),
        (dict(latent_dim=0), "latent_dim"),
        (dict(epochs=0), "epochs"),
        (dict(hidden=()), "hidden"),
        (dict(lr=-1e-3), "lr must be a positive number"),
        (dict(device="tpu"), "device"),
    ],
)
def test_config_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        vae.VAEConfig(**kwargs)


def test_vae_shapes_and_loss(small):
    model = vae.VAE(8, latent_dim=3, hidden=(16,))
    x = torch.from_numpy(small[:5].reshape(5, -1))
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, 3)
    assert model.decode_logits(mu).shape == (5, 64)
    rec, kl = model.loss(x, torch.zeros(5, 3))
    assert rec.item() > 0 and kl.item() >= 0


def test_training_lowers_the_loss_and_samples_have_the_right_shape(small):
    fitted = vae.train_vae(small, vae.VAEConfig(latent_dim=4, hidden=(32, 16), epochs=8), seed=0)
    assert fitted.history.shape == (8,) and fitted.history[-1] < fitted.history[0]
    rng = np.random.default_rng(0)
    means = fitted.sample(7, rng, decode="mean")
    assert means.shape == (7, 8, 8) and 0 <= means.min() and means.max() <= 1
    draws = fitted.sample(7, rng, decode="bernoulli")
    assert set(np.unique(draws)) <= {0.0, 1.0}
    assert fitted.sample(0, rng).shape == (0, 8, 8)  # retention = 1 asks for no samples
    assert fitted.reconstruct(small[:3]).shape == (3, 8, 8)


def test_sampling_rejects_bad_input(small):
    fitted = vae.train_vae(small, SMALL, seed=0)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="m must be an integer >= 0"):
        fitted.sample(-1, rng)
    with pytest.raises(ValueError, match="decode must be one of"):
        fitted.sample(3, rng, decode="argmax")
    with pytest.raises(ValueError, match=r"z must have shape \(m, 4\)"):
        fitted.decode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="must be 8x8"):
        fitted.reconstruct(np.zeros((2, 28, 28)))


def test_training_rejects_zero_images_and_bad_seeds():
    with pytest.raises(ValueError, match="at least one image"):
        vae.train_vae(np.zeros((0, 8, 8)), SMALL)
    with pytest.raises(ValueError, match="seed"):
        vae.train_vae(np.zeros((4, 8, 8)), SMALL, seed=1.5)


def test_training_and_sampling_are_reproducible(small):
    state = torch.random.get_rng_state()
    a = vae.train_vae(small, SMALL, seed=3)
    b = vae.train_vae(small, SMALL, seed=3)
    c = vae.train_vae(small, SMALL, seed=4)
    assert torch.equal(state, torch.random.get_rng_state()), "the global torch RNG must be left alone"
    np.testing.assert_array_equal(a.history, b.history)
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)
    assert not np.array_equal(a.history, c.history)
    sa = a.sample(10, np.random.default_rng(1))
    sb = b.sample(10, np.random.default_rng(1))
    np.testing.assert_array_equal(sa, sb)


# ---------------------------------------------------------------------------
# classifier and measures


def test_classifier_is_accurate(classifier, data):
    assert classifier.test_accuracy > 0.85
    probs = classifier.predict_proba(data.x_test[:5])
    assert probs.shape == (5, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-6)
    assert classifier.features(data.x_test[:5]).shape == (5, 32)
    with pytest.raises(ValueError, match="must be 8x8"):
        classifier.predict(np.zeros((2, 4, 4)))


def test_class_entropy():
    assert vae.class_entropy(np.ones(10)) == pytest.approx(np.log2(10))
    assert vae.class_entropy(np.eye(10)[3]) == 0.0
    assert vae.class_entropy([1, 1, 0, 0]) == pytest.approx(1.0)
    np.testing.assert_allclose(vae.class_entropy(np.array([[1, 1], [1, 0]])), [1.0, 0.0])
    with pytest.raises(ValueError, match="negative"):
        vae.class_entropy([1, -1])
    with pytest.raises(ValueError, match="positive total"):
        vae.class_entropy([0, 0])


def test_frechet_distance_matches_closed_forms():
    # one dimension: (m1 - m2)^2 + (s1 - s2)^2
    assert vae.frechet_distance([1.0], [[4.0]], [-1.0], [[1.0]]) == pytest.approx(4 + 1)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 6, 6))
    c1, c2 = a @ a.T, b @ b.T + np.eye(6)
    m1, m2 = rng.normal(size=(2, 6))
    assert vae.frechet_distance(m1, c1, m1, c1) == pytest.approx(0, abs=1e-8)
    expected = np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2 * linalg.sqrtm(c1 @ c2).real)
    assert vae.frechet_distance(m1, c1, m2, c2) == pytest.approx(expected, rel=1e-6)
    # a singular covariance is fine
    assert np.isfinite(vae.frechet_distance(m1, np.zeros((6, 6)), m2, c2))
    with pytest.raises(ValueError, match="shapes do not match"):
        vae.frechet_distance(m1, c1, m2[:3], c2)
    with pytest.raises(ValueError, match="m >= 2"):
        vae.feature_stats(np.zeros((1, 3)))


def test_meter_scores_real_images_as_real(meter, data):
    real = meter.measure_images(data.x_train)
    assert real["entropy"] > 3.2  # ten digits, about equally frequent
    assert real["confidence"] > 0.6
    assert real["pixel_var"] == pytest.approx(1, abs=0.1)
    noise = meter.measure_images(np.random.default_rng(0).random((500, 8, 8)).astype(np.float32))
    assert noise["frechet"] > 10 * real["frechet"]
    with pytest.raises(ValueError, match="n_eval must be an integer >= 2"):
        vae.GenerationMeter(meter.classifier, data.x_test, n_eval=1)
    with pytest.raises(ValueError, match="at least two images"):
        meter.measure_images(data.x_test[:1])


# ---------------------------------------------------------------------------
# the recursion


def test_run_records_every_generation(runs, small):
    run = runs[0.0]
    assert run.generations == 2
    assert run.class_hist.shape == (3, 10) and np.allclose(run.class_hist.sum(axis=1), 1)
    for name in ("entropy", "confidence", "frechet", "pixel_var", "active_dims", "loss"):
        assert getattr(run, name).shape == (3,)
    assert np.all((0 <= run.active_dims) & (run.active_dims <= SMALL.latent_dim))
    assert run.grid.shape == (3, 16, 8, 8)
    assert [sum(c.values()) for c in run.composition] == [len(small)] * 3
    assert set(run.vanished()) == set(range(10))


@pytest.mark.parametrize("retention, share", [(0.0, [1, 0, 0]), (0.5, [1, 0.5, 0.5])])
def test_retention_sets_the_training_set_composition(runs, retention, share):
    np.testing.assert_allclose(runs[retention].original_share(), share)


def test_full_retention_and_accumulation(small, meter):
    images = small[:100]
    full = vae.run_vae_generations(images, 1, meter, SMALL, retention=1.0, seed=0)
    assert full.composition[1] == {"original": 100, "synthetic": 0}
    grow = vae.run_vae_generations(images, 2, meter, SMALL, approach=3, seed=0, keep_models=[2])
    assert [sum(c.values()) for c in grow.composition] == [100, 200, 300]
    assert list(grow.models) == [2] and isinstance(grow.models[2], vae.FittedVAE)


def test_runs_are_reproducible(runs, small, meter):
    again = vae.run_vae_generations(small, 2, meter, SMALL, retention=0.0, seed=0)
    np.testing.assert_array_equal(again.grid, runs[0.0].grid)
    np.testing.assert_array_equal(again.frechet, runs[0.0].frechet)
    other = vae.run_vae_generations(small, 2, meter, SMALL, retention=0.0, seed=1)
    assert not np.array_equal(other.grid, runs[0.0].grid)
    # the generation-0 measures are the same with or without retention (same seed, same data)
    np.testing.assert_array_equal(runs[0.5].grid[0], runs[0.0].grid[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(retention=1.5), r"retention must be in \[0, 1\]"),
        (dict(retention=-0.1), r"retention must be in \[0, 1\]"),
        (dict(generations=-1), "generations must be an integer >= 0"),
        (dict(approach=4), "approach must be 1, 2 or 3"),
        (dict(images=np.zeros((10, 8, 9))), "square images"),
        (dict(images=np.zeros((0, 8, 8))), "at least one image"),
        (dict(images=np.zeros((10, 4, 4))), "expects 8-pixel images"),
        (dict(config="fast"), "config must be a VAEConfig"),
    ],
)
def test_run_rejects_bad_input(small, meter, kwargs, match):
    args = dict(images=small, generations=1, meter=meter, config=SMALL)
    with pytest.raises(ValueError, match=match):
        vae.run_vae_generations(**{**args, **kwargs})


# ---------------------------------------------------------------------------
# plots and the slider


def test_plot_generation_draws_both_views(runs):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert vae.plot_generation(runs, 0.5, 2, show="samples", ax=ax) is ax
    assert len(ax.images) == 1 and "retention 0.5, generation 2" in ax.get_title()
    ax.clear()
    vae.plot_generation(runs, 0.0, 1, show="classes", ax=ax)
    assert len(ax.patches) == 20  # generation 0 and generation 1, ten bars each
    plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(retention=0.3), "no stored run with retention"),
        (dict(generation=3), r"generation must be in 0..2"),
        (dict(generation=-1), r"generation must be in 0..2"),
        (dict(show="movie"), "show must be"),
    ],
)
def test_plot_generation_rejects_bad_input(runs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        vae.plot_generation(runs, **{**dict(retention=0.0, generation=0), **kwargs})


def test_static_and_interactive_views(runs, data):
    import ipywidgets as ipw
    import matplotlib.pyplot as plt

    fig = widgets.small_multiples(
        vae.plot_generation, "retention", [0.0, 0.5], fixed=dict(runs=runs, generation=2)
    )
    assert len(fig.axes) == 2
    ui = widgets.interactive_plot(
        vae.plot_generation,
        runs=ipw.fixed(runs),
        retention=ipw.SelectionSlider(options=sorted(runs), value=0.0),
        generation=ipw.IntSlider(value=0, min=0, max=2),
        show=ipw.Dropdown(options=["samples", "classes"], value="samples"),
    )
    ui.children[1].value = 2  # moving the slider redraws from the stored runs
    fig = vae.plot_sample_grids(runs[0.0], [0, 2], real=data.x_train, n=9)
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match="generation must be in"):
        vae.plot_sample_grids(runs[0.0], [5])
    vae.plot_class_heatmap(runs[0.0])
    axes = vae.plot_metrics({"r = 0": [runs[0.0]], "r = 0.5": [runs[0.5]]}, real={"entropy": 3.3})
    assert len(axes) == 4 and axes[2].get_yscale() == "log"
    with pytest.raises(ValueError, match="unknown metric"):
        vae.plot_metrics({"r": [runs[0.0]]}, metrics=("fid",))
    plt.close("all")


def test_vanished_reports_the_first_generation_below_the_level():
    hist = np.array([[0.1] * 10, [0.0, 0.2] + [0.1] * 8, [0.0, 0.3, 0.0] + [0.1] * 7])
    run = vae.VAERun(
        retention=0.0, approach=1, seed=0, config=SMALL, side=8, class_hist=hist,
        entropy=vae.class_entropy(hist), confidence=np.ones(3), frechet=np.ones(3), pixel_var=np.ones(3),
        active_dims=np.ones(3), loss=np.ones(3), grid=np.zeros((3, 1, 8, 8)),
        composition=[{"original": 1, "synthetic": 0}] * 3,
    )  # fmt: skip
    gone = run.vanished(level=0.01)
    assert gone[0] == 1 and gone[2] == 2 and gone[1] is None and gone[9] is None
    text = run.describe_vanishing()
    assert text.startswith("lost: 0 (gen 1), 2 (gen 2); never lost: 1, 3,") and "1: 30%" in text
