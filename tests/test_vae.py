"""Chapter 3: data, VAE, judge, the recursion and the plotting helpers.

Tests that exist to kill a plausible bug name it in their docstring; the
mutants of ``tests/mutations/vae.py`` are those bugs, made one at a time.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import linalg

from collapse_utils import vae, widgets

SMALL = vae.VAEConfig(latent_dim=4, hidden=(32, 16), epochs=3, batch_size=64)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data() -> vae.ImageData:
    return vae.load_images("digits", verbose=False)


@pytest.fixture(scope="module")
def small(data) -> np.ndarray:
    return data.x_train[:240]


@pytest.fixture(scope="module")
def fitted(data) -> vae.FittedVAE:
    """A VAE trained long enough on real digits to use its latent space."""
    return vae.train_vae(data.x_train, vae.VAEConfig(latent_dim=4, hidden=(128, 64), epochs=10, lr=3e-3, batch_size=32), seed=0)


@pytest.fixture(scope="module")
def classifier(data) -> vae.DigitClassifier:
    return vae.train_classifier(data, hidden=(64, 32), epochs=8, seed=0)


@pytest.fixture(scope="module")
def meter(data, classifier) -> vae.GenerationMeter:
    return vae.GenerationMeter(classifier, data.x_test, n_eval=200, grid=16, seed=0)


@pytest.fixture(scope="module")
def runs(small, meter) -> dict[float, vae.VAERun]:
    return {r: vae.run_vae_generations(small, 2, meter, SMALL, retention=r, seed=0) for r in (0.0, 0.5)}


def numpy_net(layers, x):
    """A ReLU MLP in numpy from a list of torch ``nn.Linear`` layers (no ReLU after the last)."""
    for i, layer in enumerate(layers):
        x = x @ layer.weight.detach().double().numpy().T + layer.bias.detach().double().numpy()
        if i < len(layers) - 1:
            x = np.maximum(x, 0)
    return x


def linears(net):
    return [m for m in net if isinstance(m, torch.nn.Linear)]


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
    c = vae.load_images("digits", max_train=100, max_test=30, seed=2, verbose=False)
    assert a.n_train == 100 and a.n_test == 30 and len(a.y_train) == 100
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)


def test_auto_falls_back_to_digits_at_once_when_the_hub_is_unreachable(monkeypatch, capsys):
    """Bug: an unreachable hub makes the chapter wait on ``datasets`` retries, or fail, instead of falling back."""
    import collapse_utils.vae.data as vdata

    monkeypatch.setattr(vdata, "hub_reachable", lambda *a, **k: False)
    monkeypatch.setattr(vdata, "load_mnist_arrays", lambda *a, **k: pytest.fail("must not try the hub"))
    d = vae.load_images("auto", max_train=50, max_test=20)
    assert d.source == "digits" and "not reachable" in d.note
    out = capsys.readouterr().out
    assert "scikit-learn digits" in out and out.count("not reachable") == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(source="cifar"), "source must be one of"),
        (dict(source="digits", max_train=0), "max_train must be an integer >= 1"),
        (dict(source="digits", max_test=-3), "max_test must be an integer >= 1"),
        (dict(source="digits", test_fraction=1.0), r"test_fraction must be a finite number in \(0, 1\)"),
        (dict(source="digits", seed=True), "seed must be an integer >= 0"),
        (dict(source="digits", mnist_path="/no/such/folder"), "mnist_path must be an existing folder"),
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
    images = np.arange(5)[:, None, None] * np.ones((5, 8, 8)) / 10
    tiles = vae.tile_images(images, ncols=3, pad=1, fill=0.9)
    assert tiles.shape == (2 * 9 - 1, 3 * 9 - 1)
    assert np.all(tiles[:8, 9:17] == np.float32(0.1))  # image 1 in the first row, second column
    assert np.all(tiles[9:, :8] == np.float32(0.3))  # image 3 starts the second row
    assert np.all(tiles[8, :] == np.float32(0.9)) and np.all(tiles[9:, 18:] == np.float32(0.9))  # padding, empty slot


# ---------------------------------------------------------------------------
# the VAE: configuration


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(decode="mode"), "decode must be one of"),
        (dict(latent_dim=0), "latent_dim must be an integer >= 1"),
        (dict(epochs=0), "epochs must be an integer >= 1"),
        (dict(batch_size=2.5), "batch_size must be an integer >= 1"),
        (dict(hidden=()), "hidden must list at least one layer width >= 1"),
        (dict(hidden=(16, 0)), r"hidden\[1\] must be an integer >= 1"),
        (dict(lr=-1e-3), "lr must be a finite number > 0"),
        (dict(lr=True), "lr must be a finite number > 0"),
        (dict(lr=float("nan")), "lr must be a finite number > 0"),
        (dict(beta=0), "beta must be a finite number > 0"),
        (dict(device="tpu"), "device must be 'cpu' or 'cuda'"),
    ],
)
def test_config_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        vae.VAEConfig(**kwargs)


def test_config_accepts_numpy_numbers_and_rejects_bools():
    """Bug: ``VAEConfig`` rejected ``np.float32(1e-3)`` but took ``lr=True`` as 1."""
    config = vae.VAEConfig(lr=np.float32(1e-3), beta=np.float64(0.5), latent_dim=np.int64(3), hidden=[np.int32(8)])
    assert type(config.lr) is float and config.lr == pytest.approx(1e-3)
    assert type(config.latent_dim) is int and config.hidden == (8,)
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got True"):
        vae.VAEConfig(lr=True)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1, got True"):
        vae.VAEConfig(epochs=True)


def test_cuda_without_a_gpu_is_rejected_at_construction(monkeypatch):
    """Bug: ``VAEConfig(device="cuda")`` on a machine without CUDA failed with an AssertionError at training."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"device must be 'cpu' on this machine .*got 'cuda'"):
        vae.VAEConfig(device="cuda")
    with pytest.raises(ValueError, match="device must be 'cpu' on this machine"):
        vae.train_classifier(vae.load_images("digits", max_train=20, max_test=10, verbose=False), device="cuda:0")


def test_zero_epochs_are_rejected_before_training(data):
    """Bug: training with ``epochs=0`` returned a NaN loss instead of an error."""
    with pytest.raises(ValueError, match="epochs must be an integer >= 1, got 0"):
        vae.VAEConfig(epochs=0)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1, got 0"):
        vae.train_classifier(data, epochs=0)


# ---------------------------------------------------------------------------
# the VAE: loss, training, sampling


def test_loss_matches_the_closed_form_on_a_tiny_case():
    """Bugs: KL term doubled; reparameterisation with the variance instead of the standard deviation;
    no reparameterisation noise (z = mu); reconstruction not per image.

    Two 2x2 images, a 2-dimensional latent, one hidden layer of 3; the expected
    value is computed in numpy from the same weights:
    BCE(decoder(mu + exp(logvar / 2) * noise), x) + (mu^2 + exp(logvar) - 1 - logvar) / 2, averaged over images.
    """
    with torch.random.fork_rng():
        torch.manual_seed(5)
        model = vae.VAE(2, latent_dim=2, hidden=(3,)).double()
    x = np.array([[0.0, 1.0, 0.25, 1.0], [1.0, 0.0, 0.5, 0.0]])
    noise = np.array([[0.7, -1.2], [-0.4, 1.9]])
    enc = numpy_net(linears(model.encoder), x)
    mu, logvar = enc[:, :2], enc[:, 2:]
    assert np.all(np.abs(logvar) > 0.05), "the case must tell the variance from the standard deviation"
    z = mu + np.exp(0.5 * logvar) * noise
    p = 1 / (1 + np.exp(-numpy_net(linears(model.decoder), z)))
    rec = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p)) / 2
    kl = 0.5 * np.sum(mu**2 + np.exp(logvar) - 1 - logvar) / 2
    got_rec, got_kl = model.loss(torch.from_numpy(x), torch.from_numpy(noise))
    assert got_rec.item() == pytest.approx(rec, rel=1e-10)
    assert got_kl.item() == pytest.approx(kl, rel=1e-10)
    _, half = model.loss(torch.from_numpy(x), torch.from_numpy(noise), beta=0.5)
    assert half.item() == pytest.approx(kl / 2, rel=1e-10)


def test_training_lowers_the_loss_and_samples_have_the_right_shape(fitted, small):
    assert fitted.history.shape == (10,) and fitted.history[-1] < 0.9 * fitted.history[0]
    rng = np.random.default_rng(0)
    means = fitted.sample(7, rng, decode="mean")
    assert means.shape == (7, 8, 8) and 0 <= means.min() and means.max() <= 1
    draws = fitted.sample(7, rng, decode="bernoulli")
    assert set(np.unique(draws)) <= {0.0, 1.0}
    assert fitted.sample(0, rng).shape == (0, 8, 8)  # retention = 1 asks for no samples
    assert fitted.reconstruct(small[:3]).shape == (3, 8, 8)


def test_reconstructions_are_closer_to_their_images_than_to_others(fitted, data):
    """Bug: reconstruction decodes something other than the encoder mean of the image itself."""
    x = data.x_test[:50]
    rec = fitted.reconstruct(x)
    own = np.mean((rec - x) ** 2)
    shuffled = np.mean((rec - np.roll(x, 1, axis=0)) ** 2)
    assert own < 0.6 * shuffled


def test_samples_decode_latents_from_the_standard_normal_prior(fitted):
    """Bug: latents drawn from another distribution than the prior N(0, I) (for example uniform on [0, 1))."""
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    got = fitted.sample(20, a, decode="mean")
    expected = fitted.decode(b.standard_normal((20, fitted.latent_dim)).astype(np.float32))
    np.testing.assert_array_equal(got, expected)


def test_bernoulli_draws_average_to_the_decoder_means(fitted):
    """Bug: inverted Bernoulli draws (pixel = 1 with probability 1 - mean: photo-negatives).

    With the same generator state both calls decode the same latents, so the
    pixel-wise average of m draws must match the average of the means within
    5 standard errors sqrt(p (1 - p) / m) (plus 1e-3).
    """
    m = 4000
    means = fitted.sample(m, np.random.default_rng(11), decode="mean")
    draws = fitted.sample(m, np.random.default_rng(11), decode="bernoulli")
    p = means.mean(axis=0)
    assert p.min() < 0.2 and p.max() > 0.5, "the case needs pixels far from one half"
    se = np.sqrt(p * (1 - p) / m)
    assert np.all(np.abs(draws.mean(axis=0) - p) < 5 * se + 1e-3)


def test_sampling_follows_the_configs_decode(fitted):
    """Bug: ``config.decode`` ignored (samples always Bernoulli draws, or always means)."""
    import dataclasses

    as_means = dataclasses.replace(fitted, config=dataclasses.replace(fitted.config, decode="mean"))
    as_draws = dataclasses.replace(fitted, config=dataclasses.replace(fitted.config, decode="bernoulli"))
    grey = as_means.sample(50, np.random.default_rng(0))
    binary = as_draws.sample(50, np.random.default_rng(0))
    assert len(np.unique(grey)) > 100 and set(np.unique(binary)) <= {0.0, 1.0}


def test_active_dims_count_the_dimensions_the_encoder_uses(fitted, data):
    """Bug: ``active_dims`` inverted (counting dimensions whose encoder mean does NOT vary).

    Identical images give every dimension zero variance: no active dimension.
    On real digits a trained encoder uses at least one dimension, and the count
    matches the variances of the encoder means.
    """
    assert fitted.active_dims(np.repeat(data.x_test[:1], 20, axis=0)) == 0
    mu, _ = fitted.encode(data.x_test)
    expected = int((mu.var(axis=0, ddof=1) > vae.ACTIVE_THRESHOLD).sum())
    assert 1 <= fitted.active_dims(data.x_test) == expected
    assert fitted.active_dims(data.x_test, threshold=1e9) == 0


def test_the_chapter_states_the_active_threshold_it_uses(root):
    """Bug: the threshold of an active dimension changed in the code while the page still states 0.01."""
    text = (root / "notebooks" / "03_vae.py").read_text()
    assert f"(variance above {vae.ACTIVE_THRESHOLD:g}, the \"active units\"" in text


def test_sampling_rejects_bad_input(fitted):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="m must be an integer >= 0"):
        fitted.sample(-1, rng)
    with pytest.raises(ValueError, match="decode must be one of"):
        fitted.sample(3, rng, decode="argmax")
    with pytest.raises(ValueError, match=r"z must have shape \(m, 4\)"):
        fitted.decode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="must be 8x8"):
        fitted.reconstruct(np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="at least two images"):
        fitted.active_dims(np.zeros((1, 8, 8)))


def test_training_rejects_zero_images_and_bad_seeds():
    with pytest.raises(ValueError, match="at least one image"):
        vae.train_vae(np.zeros((0, 8, 8)), SMALL)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        vae.train_vae(np.zeros((4, 8, 8)), SMALL, seed=1.5)
    with pytest.raises(ValueError, match="config must be a VAEConfig"):
        vae.train_vae(np.zeros((4, 8, 8)), dict(epochs=1))


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
    np.testing.assert_array_equal(a.sample(10, np.random.default_rng(1)), b.sample(10, np.random.default_rng(1)))


# ---------------------------------------------------------------------------
# the judge


def test_classifier_is_accurate(classifier, data):
    assert classifier.test_accuracy > 0.85
    probs = classifier.predict_proba(data.x_test[:5])
    assert probs.shape == (5, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-6)
    assert classifier.features(data.x_test[:5]).shape == (5, 32)
    with pytest.raises(ValueError, match="must be 8x8"):
        classifier.predict(np.zeros((2, 4, 4)))


def test_class_entropy():
    """Bug: entropy in nats, or of an unnormalised histogram."""
    assert vae.class_entropy(np.ones(10)) == pytest.approx(np.log2(10))
    assert vae.class_entropy(np.eye(10)[3]) == 0.0
    assert vae.class_entropy([1, 1, 0, 0]) == pytest.approx(1.0)
    assert vae.class_entropy([2, 2, 4]) == pytest.approx(1.5)
    np.testing.assert_allclose(vae.class_entropy(np.array([[1, 1], [1, 0]])), [1.0, 0.0])
    with pytest.raises(ValueError, match="hist must have entries >= 0"):
        vae.class_entropy([1, -1])
    with pytest.raises(ValueError, match="hist must have a positive total"):
        vae.class_entropy([0, 0])


def test_frechet_distance_matches_closed_forms():
    """Bug: the cross term without its factor 2, or the square root of the wrong matrix."""
    # one dimension: (m1 - m2)^2 + (s1 - s2)^2
    assert vae.frechet_distance([1.0], [[4.0]], [-1.0], [[1.0]]) == pytest.approx(4 + 1)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 6, 6))
    c1, c2 = a @ a.T, b @ b.T + np.eye(6)
    m1, m2 = rng.normal(size=(2, 6))
    assert vae.frechet_distance(m1, c1, m1, c1) == pytest.approx(0, abs=1e-8)
    expected = np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2 * linalg.sqrtm(c1 @ c2).real)
    assert vae.frechet_distance(m1, c1, m2, c2) == pytest.approx(expected, rel=1e-6)
    assert np.isfinite(vae.frechet_distance(m1, np.zeros((6, 6)), m2, c2))  # a singular covariance is fine
    with pytest.raises(ValueError, match="shapes do not match"):
        vae.frechet_distance(m1, c1, m2[:3], c2)
    with pytest.raises(ValueError, match="m >= 2"):
        vae.feature_stats(np.zeros((1, 3)))


def test_meter_scores_real_images_as_real(meter, classifier, data):
    """Bugs: confidence computed as the maximum logit instead of the maximum probability;
    class histogram from the least likely class; variances not relative to real images."""
    x = data.x_train[:600]
    real = meter.measure_images(x)
    assert real["entropy"] > 3.2  # ten digits, about equally frequent
    assert real["confidence"] == pytest.approx(classifier.predict_proba(x).max(axis=1).mean(), rel=1e-9)
    assert 0.6 < real["confidence"] <= 1.0
    labels = np.bincount(data.y_train[:600], minlength=10) / 600
    assert np.abs(real["class_hist"] - labels).sum() < 0.2
    assert real["pixel_var"] == pytest.approx(1, abs=0.1)
    assert real["feature_var"] == pytest.approx(1, abs=0.15)
    noise = meter.measure_images(np.random.default_rng(0).random((500, 8, 8)).astype(np.float32))
    assert noise["frechet"] > 10 * real["frechet"]
    same = meter.measure_images(np.repeat(x[:1], 50, axis=0))
    assert same["feature_var"] == pytest.approx(0, abs=1e-9) and same["entropy"] == 0.0


def test_meter_measures_decoder_means_of_its_own_stream(meter, fitted, data):
    """Bug: the judge measures Bernoulli draws (or another stream) instead of the decoder means it documents."""
    out = meter(fitted, 3)
    expected = meter.measure_images(fitted.sample(meter.n_eval, np.random.default_rng([meter.seed, 3]), decode="mean"))
    for key in ("entropy", "confidence", "frechet", "feature_var", "pixel_var"):
        assert out[key] == pytest.approx(expected[key], rel=1e-12)
    assert out["grid"].shape == (16, 8, 8) and out["active_dims"] == fitted.active_dims(data.x_test)


def test_meter_rejects_bad_input(meter, data):
    with pytest.raises(ValueError, match="n_eval must be an integer >= 2"):
        vae.GenerationMeter(meter.classifier, data.x_test, n_eval=1)
    with pytest.raises(ValueError, match="classifier must be a DigitClassifier"):
        vae.GenerationMeter("judge", data.x_test)
    with pytest.raises(ValueError, match="at least two images"):
        meter.measure_images(data.x_test[:1])


# ---------------------------------------------------------------------------
# the recursion


def test_run_records_every_generation(runs, small):
    run = runs[0.0]
    assert run.generations == 2 and run.retained == "fixed" and run.decode == "bernoulli"
    assert run.class_hist.shape == (3, 10) and np.allclose(run.class_hist.sum(axis=1), 1)
    for name in vae.SERIES:
        assert getattr(run, name).shape == (3,)
    assert np.all((0 <= run.active_dims) & (run.active_dims <= SMALL.latent_dim))
    assert run.grid.shape == (3, 16, 8, 8)
    assert [sum(c.values()) for c in run.composition] == [len(small)] * 3
    assert vae.stack(runs.values(), "entropy").shape == (2, 3)


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


def test_runs_are_reproducible_and_generation_one_trains_on_samples(runs, small, meter):
    """Bugs: the next generation trains on the real images again (no recursion); ``config.decode`` ignored."""
    import dataclasses

    again = vae.run_vae_generations(small, 2, meter, SMALL, retention=0.0, seed=0)
    np.testing.assert_array_equal(again.grid, runs[0.0].grid)
    np.testing.assert_array_equal(again.frechet, runs[0.0].frechet)
    other = vae.run_vae_generations(small, 2, meter, SMALL, retention=0.0, seed=1)
    assert not np.array_equal(other.grid, runs[0.0].grid)
    # the generation-0 measures are the same with or without retention (same seed, same data)
    np.testing.assert_array_equal(runs[0.5].grid[0], runs[0.0].grid[0])
    means = vae.run_vae_generations(small, 1, meter, dataclasses.replace(SMALL, decode="mean"), seed=0)
    np.testing.assert_array_equal(means.grid[0], runs[0.0].grid[0])
    assert not np.allclose(means.grid[1], runs[0.0].grid[1], atol=1e-3)
    # generation 1 trained on generation 0's samples: its loss differs from a refit on real images
    refit = vae.train_vae(small, SMALL, np.random.default_rng(0))
    assert runs[0.0].loss[0] == pytest.approx(refit.history[-1])
    assert abs(runs[0.0].loss[1] - refit.history[-1]) > 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(retention=1.5), r"retention must be a finite number in \[0, 1\]"),
        (dict(retention=True), r"retention must be a finite number in \[0, 1\]"),
        (dict(generations=-1), "generations must be an integer >= 0"),
        (dict(approach=4), "approach must be 1, 2 or 3"),
        (dict(images=np.zeros((10, 8, 9))), "square images"),
        (dict(images=np.zeros((0, 8, 8))), "at least one image"),
        (dict(images=np.zeros((10, 4, 4))), "expects 8-pixel images"),
        (dict(config="fast"), "config must be a VAEConfig"),
        (dict(meter="judge"), "meter must be a GenerationMeter"),
        (dict(keep_models=5), "keep_models must be a sequence of integers"),
    ],
)
def test_run_rejects_bad_input(small, meter, kwargs, match):
    args = dict(images=small, generations=1, meter=meter, config=SMALL)
    with pytest.raises(ValueError, match=match):
        vae.run_vae_generations(**{**args, **kwargs})


def test_vanished_reports_the_first_generation_below_the_level():
    hist = np.array([[0.1] * 10, [0.0, 0.2] + [0.1] * 8, [0.0, 0.3, 0.0] + [0.1] * 7])
    run = vae.VAERun(
        retention=0.0, approach=1, seed=0, config=SMALL, side=8, class_hist=hist,
        entropy=vae.class_entropy(hist), confidence=np.ones(3), frechet=np.ones(3), feature_var=np.ones(3),
        pixel_var=np.ones(3), active_dims=np.ones(3), loss=np.ones(3), grid=np.zeros((3, 1, 8, 8)),
        composition=[{"original": 1, "synthetic": 0}] * 3,
    )  # fmt: skip
    gone = run.vanished(level=0.01)
    assert gone[0] == 1 and gone[2] == 2 and gone[1] is None and gone[9] is None
    text = run.describe_vanishing()
    assert text.startswith("lost: 0 (gen 1), 2 (gen 2); never lost: 1, 3,") and "1: 30%" in text
    with pytest.raises(ValueError, match=r"level must be a finite number in \(0, 1\]"):
        run.vanished(level=0)


# ---------------------------------------------------------------------------
# plots and the slider


def test_plot_generation_draws_both_views(runs):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert vae.plot_generation(runs, 0.5, 2, show="samples", ax=ax) is ax
    assert len(ax.images) == 1 and "retention 0.5, generation 2" in ax.get_title()
    shown = ax.images[0].get_array()
    np.testing.assert_array_equal(shown, vae.tile_images(runs[0.5].grid[2, :36], fill=0.0))
    ax.clear()
    vae.plot_generation(runs, 0.0, 1, show="classes", ax=ax)
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 20  # generation 0 and generation 1, ten bars each
    np.testing.assert_allclose(heights[10:], runs[0.0].class_hist[1] * 100)
    plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(retention=0.3), "retention must be one of the stored runs"),
        (dict(generation=3), r"generation must be an integer in \[0, 2\]"),
        (dict(generation=-1), r"generation must be an integer in \[0, 2\]"),
        (dict(generation=True), r"generation must be an integer in \[0, 2\]"),
        (dict(show="movie"), "show must be one of"),
    ],
)
def test_plot_generation_rejects_bad_input(runs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        vae.plot_generation(runs, **{**dict(retention=0.0, generation=0), **kwargs})


def test_the_slider_redraws_the_chosen_generation(runs):
    """Bug: the slider's callback ignores the slider (draws a fixed generation)."""
    import ipywidgets as ipw
    import matplotlib.pyplot as plt

    ui = widgets.interactive_plot(
        vae.plot_generation,
        runs=ipw.fixed(runs),
        retention=ipw.SelectionSlider(options=sorted(runs), value=0.0),
        generation=ipw.IntSlider(value=0, min=0, max=2),
        show=ipw.Dropdown(options=["samples", "classes"], value="samples"),
    )
    slider = next(w for w in ui.children if isinstance(w, ipw.IntSlider))
    slider.value = 2
    titles = [ax.get_title() for ax in plt.gcf().axes]
    assert any("generation 2" in t for t in titles)
    plt.close("all")


def test_static_views_and_metric_panels(runs, data):
    import matplotlib.pyplot as plt

    fig = widgets.small_multiples(vae.plot_generation, "retention", [0.0, 0.5], fixed=dict(runs=runs, generation=2))
    assert len(fig.axes) == 2
    fig = vae.plot_sample_grids(runs[0.0], [0, 2], real=data.x_train, n=9)
    assert len(fig.axes) == 3 and fig.get_size_inches()[0] <= 7.0
    assert [ax.get_title() for ax in fig.axes] == ["real images", "generation 0", "generation 2"]
    with pytest.raises(ValueError, match=r"generations\[0\] must be an integer in \[0, 2\]"):
        vae.plot_sample_grids(runs[0.0], [5])
    _, ax = plt.subplots()
    assert vae.plot_class_heatmap(runs[0.0], ax=ax, colorbar=False) is ax
    np.testing.assert_allclose(ax.images[0].get_array(), runs[0.0].class_hist.T * 100)
    axes = vae.plot_metrics({"r = 0": [runs[0.0], runs[0.5]], "r = 0.5": [runs[0.5]]}, real={"entropy": 3.3})
    assert len(axes) == 4 and axes[2].get_yscale() == "log"
    assert axes[0].figure.get_size_inches()[0] <= 7.0
    median = np.median([runs[0.0].entropy, runs[0.5].entropy], axis=0)
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), median)
    with pytest.raises(ValueError, match="metric must be one of"):
        vae.plot_metrics({"r": [runs[0.0]]}, metrics=("fid",))
    plt.close("all")


# ---------------------------------------------------------------------------
# the chapter's profiles


def chapter_parameters(root, profile: str, monkeypatch) -> dict:
    """The chapter's ``P`` under ``profile``: the parameter block of notebooks/03_vae.py, executed alone."""
    from collapse_utils import profiles

    source = (root / "notebooks" / "03_vae.py").read_text()
    block = source[source.index("# fmt: off") : source.index("# fmt: on")]
    monkeypatch.setenv("COLLAPSE_PROFILE", profile)
    namespace = {"profiles": profiles}
    exec(block, namespace)
    return namespace["P"]


@pytest.mark.parametrize("profile", ["quick", "book", "gpu", "paper"])
def test_every_profile_of_the_chapter_validates(root, profile, monkeypatch):
    """Bug: a profile (the gpu one above all, never run here) holds settings that fail only where it runs.

    Builds both protocols' VAEs as the chapter does, for MNIST's 28 pixels and for the 8x8 digits that a
    profile meant for MNIST falls back to (with ``digits_vae`` on top, as the chapter merges it), and runs
    one forward pass of each.
    """
    P = chapter_parameters(root, profile, monkeypatch)
    settings = [(P, 28 if P["source"] != "digits" else 8)]
    if P["digits_vae"]:
        settings.append(({**P, **P["digits_vae"]}, 8))
    for params, side in settings:
        for config in vae.protocol_configs(params):
            net = config.build(side)
            mu, _ = net.encode(torch.zeros(2, side * side))
            assert mu.shape == (2, config.latent_dim) and net.decode_logits(mu).shape == (2, side * side)
        assert set(params["snapshots"]) <= set(range(params["generations"] + 1))
    if profile != "quick":
        assert P["seeds"] >= 5, "every comparison of the chapter needs at least 5 seeds (issue 8)"
    if profile in ("gpu", "paper"):
        assert P["source"] == "auto" and P["digits_vae"], "MNIST where the hub is reachable, the digits otherwise"
        book, authors = vae.protocol_configs(P)
        assert (authors.arch, authors.capacity, authors.latent_dim, authors.epochs, authors.batch_size) == (
            "conv", 64, 20, 30, 256
        ), "the authors' protocol runs their VAE at the MNIST scale (VAE_experiments.ipynb)"
        assert (authors.lr, authors.weight_decay, authors.reduction, authors.decode) == (1e-3, 1e-5, "sum", "mean")
        assert P["max_train"] is None, "their protocol draws as many samples per epoch as MNIST has images"
