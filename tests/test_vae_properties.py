"""Chapter 3's package: properties that hold for whole families of inputs, and state that nothing else observes.

Hypothesis tests run a fixed, small, derandomized budget. The state tests spy on what training and
sampling really do: a new batch order every epoch, new reparameterisation noise every epoch, independent
pixel draws, the evaluation mode while scoring, the caps that profiles put on the data.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from scipy import linalg

from collapse_utils import vae
from collapse_utils.vae import model as vmodel

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = vae.VAEConfig(latent_dim=2, hidden=(8,), epochs=3, batch_size=16, lr=3e-3)
FAST = settings(max_examples=15, deadline=None, derandomize=True)


@pytest.fixture(scope="module")
def digits() -> vae.ImageData:
    return vae.load_images("digits", verbose=False)


@pytest.fixture(scope="module")
def fitted(digits) -> vae.FittedVAE:
    return vae.train_vae(digits.x_train[:200], TINY, seed=0)


def constant_vae(p: np.ndarray) -> vae.FittedVAE:
    """A VAE whose decoder means are ``p`` (side x side) whatever the latent: zero weights, logit biases."""
    side = p.shape[0]
    model = vae.VAE(side, latent_dim=2, hidden=(3,))
    with torch.no_grad():
        for m in model.decoder:
            if isinstance(m, torch.nn.Linear):
                m.weight.zero_()
                m.bias.zero_()
        model.decoder[-1].bias.copy_(torch.logit(torch.as_tensor(p.ravel(), dtype=torch.float32)))
    return vae.FittedVAE(model.eval(), vae.VAEConfig(latent_dim=2, hidden=(3,)), np.zeros(1))


# ---------------------------------------------------------------------------
# random draws: right distribution and independent


@FAST
@given(seed=st.integers(0, 10_000), level=st.floats(0.1, 0.9))
def test_bernoulli_pixels_are_independent_draws_at_the_decoder_means(seed, level):
    """Bugs: one set of uniforms shared by all images (``rng.random(images.shape[1:])``: every sample the same
    picture), pixels of an image sharing one uniform, or draws at 1 - mean.

    A decoder with constant means p (a gradient of values) makes every pixel Bernoulli(p_i), independently:
    per-pixel means within 5 standard errors, and the correlation of two pixels, and of two images, near 0.
    """
    side = 4
    p = np.clip(level * np.linspace(0.3, 1.6, side * side), 0.05, 0.95).reshape(side, side)
    m = 800
    x = constant_vae(p).sample(m, np.random.default_rng(seed), decode="bernoulli").reshape(m, -1)
    se = np.sqrt(p.ravel() * (1 - p.ravel()) / m)
    assert np.all(np.abs(x.mean(axis=0) - p.ravel()) < 5 * se + 1e-9)
    assert abs(np.corrcoef(x[:, 0], x[:, -1])[0, 1]) < 5 / np.sqrt(m)
    rows = x[:100] - p.ravel()
    assert abs(np.mean(rows[:-1] * rows[1:])) < 5 * np.sqrt(np.mean(p * (1 - p)) ** 2 / rows.size) + 1e-3
    assert len(np.unique(x, axis=0)) > 1


def test_repeated_sampling_never_repeats_latents(fitted):
    """Bug: a generator re-seeded on every call, so that two batches of samples are the same images."""
    rng = np.random.default_rng(3)
    a, b = fitted.sample(50, rng, decode="mean"), fitted.sample(50, rng, decode="mean")
    assert not np.allclose(a, b)
    assert len(np.unique(np.concatenate([a, b]).round(6), axis=0)) == 100


def test_every_epoch_has_a_new_order_and_new_noise(digits, monkeypatch):
    """Bugs: the batch order fixed once (one permutation reused every epoch, or a generator re-seeded every
    epoch), the reparameterisation noise drawn once and reused, or stacked members sharing an order.

    Spies on the one place that draws epoch orders (model.permutation) and on the noise the loss receives.
    """
    orders: list[tuple[int, torch.Tensor]] = []
    permutation = vmodel.permutation

    def spy_order(n, generator):
        perm = permutation(n, generator)
        orders.append((id(generator), perm.clone()))
        return perm

    monkeypatch.setattr(vmodel, "permutation", spy_order)
    noises: list[torch.Tensor] = []
    loss = vae.VAE.loss

    def spy_loss(self, x, noise, beta=1.0):
        noises.append(noise.detach().clone())
        return loss(self, x, noise, beta)

    monkeypatch.setattr(vae.VAE, "loss", spy_loss)
    x = digits.x_train[:64]
    vae.train_vae(x, TINY, seed=1)
    perms = [perm for _, perm in orders]
    assert len(perms) == TINY.epochs and all(
        torch.equal(torch.sort(q).values, torch.arange(64)) for q in perms
    )
    assert not torch.equal(perms[0], perms[1]) and not torch.equal(perms[1], perms[2])
    per_epoch = torch.stack(
        [torch.cat(noises[i * 4 : (i + 1) * 4]) for i in range(TINY.epochs)]
    )  # 4 batches of 16
    assert not torch.allclose(per_epoch[0], per_epoch[1])
    assert abs(float(per_epoch.mean())) < 5 / np.sqrt(per_epoch.numel())
    orders.clear()
    vae.train_vaes([x, x], TINY, [1, 2])
    by_member: dict[int, list[torch.Tensor]] = {}
    for gid, perm in orders:
        by_member.setdefault(gid, []).append(perm)
    assert len(by_member) == 2 and all(len(v) == TINY.epochs for v in by_member.values())
    first, second = by_member.values()
    assert not torch.equal(first[0], first[1]) and not torch.equal(first[0], second[0])
    assert torch.equal(first[0], perms[0]), (
        "member 0 of the stack draws the orders train_vae draws with its seed"
    )


# ---------------------------------------------------------------------------
# evaluation mode, chunks and caps


def test_scoring_puts_the_networks_in_evaluation_mode(fitted, digits):
    """Bug: decoding, encoding or classifying with a network left in training mode (dropout or batch statistics
    would change every score; the modes must be set where the scores are computed)."""
    fitted.model.train()
    fitted.decode(np.zeros((2, 2), dtype=np.float32))
    assert not fitted.model.training
    fitted.model.train()
    fitted.encode(digits.x_test[:3])
    assert not fitted.model.training
    clf = vae.train_classifier(vae.load_images("digits", max_train=60, max_test=20, verbose=False), hidden=(8,),
                               epochs=1, seed=0)  # fmt: skip
    assert not clf.net.training
    clf.net.train()
    clf.predict(digits.x_test[:3])
    assert not clf.net.training


def test_chunked_encoding_and_decoding_match_one_pass(fitted, digits):
    """Bug: a chunk written to the wrong rows (or only the first chunk computed), invisible below the default
    chunk size of 4096 that every test and small profile stays under."""
    mu, logvar = fitted.encode(digits.x_test[:50])
    mu7, logvar7 = fitted.encode(digits.x_test[:50], chunk=7)
    np.testing.assert_allclose(mu7, mu, rtol=1e-6)
    np.testing.assert_allclose(logvar7, logvar, rtol=1e-6)
    z = np.random.default_rng(0).standard_normal((30, 2)).astype(np.float32)
    np.testing.assert_allclose(fitted.decode(z, chunk=4), fitted.decode(z), rtol=1e-6)


def test_capped_images_keep_their_own_labels(digits):
    """Bug: the profiles' cap (max_train, max_test) applied to the images and not to their labels (or with another
    subset), so that labels and images no longer belong together; tests that load uncapped data never see it."""
    full = {}
    for x, y in ((digits.x_train, digits.y_train), (digits.x_test, digits.y_test)):
        for image, label in zip(x, y):
            full.setdefault(image.tobytes(), set()).add(int(label))
    capped = vae.load_images("digits", max_train=150, max_test=40, seed=5, verbose=False)
    for x, y in ((capped.x_train, capped.y_train), (capped.x_test, capped.y_test)):
        assert len(x) == len(y)
        assert all(int(label) in full[image.tobytes()] for image, label in zip(x, y))
    assert len({im.tobytes() for im in capped.x_train}) > 140, "a subset without replacement"


# ---------------------------------------------------------------------------
# the judge's measures, for families of inputs


@FAST
@given(seed=st.integers(0, 10_000), d=st.integers(1, 5))
def test_frechet_distance_is_the_closed_form_for_any_gaussians(seed, d):
    """Bugs: the cross term's factor 2 or square root taken of the wrong matrix, a diagonal-only computation
    (right for the diagonal covariances a hand-picked test uses), asymmetry in its two arguments."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, d, d))
    c1, c2 = a @ a.T + 0.1 * np.eye(d), b @ b.T + 0.1 * np.eye(d)  # full, non-diagonal covariances
    m1, m2 = rng.normal(size=(2, d))
    expected = np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2 * linalg.sqrtm(c1 @ c2).real)
    got = vae.frechet_distance(m1, c1, m2, c2)
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert vae.frechet_distance(m2, c2, m1, c1) == pytest.approx(got, rel=1e-6, abs=1e-9)
    assert vae.frechet_distance(m1, c1, m1, c1) == pytest.approx(0, abs=1e-7)
    shift = rng.normal(size=d)
    assert vae.frechet_distance(m1 + shift, c1, m2 + shift, c2) == pytest.approx(got, rel=1e-6, abs=1e-9)


@FAST
@given(
    counts=st.lists(st.integers(0, 50), min_size=2, max_size=10).filter(lambda c: sum(c) > 0),
    seed=st.integers(0, 99),
)
def test_class_entropy_properties(counts, seed):
    """Bugs: entropy of an unnormalised histogram, in nats, or depending on the order of the classes."""
    h = np.array(counts, dtype=float)
    e = vae.class_entropy(h)
    assert 0 <= e <= np.log2(len(h)) + 1e-12
    assert vae.class_entropy(np.random.default_rng(seed).permutation(h)) == pytest.approx(e)
    assert vae.class_entropy(3.5 * h) == pytest.approx(e)
    p = h[h > 0] / h.sum()
    assert e == pytest.approx(-(p * np.log2(p)).sum())


@FAST
@given(seed=st.integers(0, 10_000), shift=st.floats(-50, 50))
def test_softmax_rows_are_distributions_and_shift_invariant(seed, shift):
    """Bug: softmax normalised over the wrong axis (columns), or overflowing for large logits."""
    z = np.random.default_rng(seed).normal(size=(4, 10)) * 30
    p = vae.softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1)
    np.testing.assert_allclose(vae.softmax(z + shift), p, rtol=1e-9, atol=1e-15)
    assert np.all(np.isfinite(vae.softmax(z * 100)))


def test_meter_measures_pixel_variance_per_pixel_and_relative(digits):
    """Bugs: pixel variance computed over all values pooled (mixing pixels' means into it), or not relative to
    the real images; feature variety not the trace of the features' covariance."""
    clf = vae.train_classifier(vae.load_images("digits", max_train=80, max_test=30, verbose=False), hidden=(8,),
                               epochs=1, seed=0)  # fmt: skip
    rng = np.random.default_rng(0)
    reference = rng.random((300, 8, 8)).astype(np.float32)
    meter = vae.GenerationMeter(clf, reference, n_eval=10, grid=2, seed=0)
    images = np.zeros((200, 8, 8), dtype=np.float32)
    images[:, :, :4] = rng.random((200, 8, 4)) < 0.5  # half the pixels vary (variance 1/4), the rest are 0
    images[:, :, 4:] = (
        1.0  # constant: pooled variance would count the 0/1 contrast, per-pixel variance does not
    )
    out = meter.measure_images(images)
    expected = images.reshape(200, -1).var(axis=0).sum() / reference.reshape(300, -1).var(axis=0).sum()
    assert out["pixel_var"] == pytest.approx(expected, rel=1e-6)
    feats = clf.features(images)
    assert out["feature_var"] == pytest.approx(
        np.trace(np.cov(feats, rowvar=False)) / meter.ref_feature_var, rel=1e-6
    )
    assert out["class_hist"].sum() == pytest.approx(1) and out["entropy"] == pytest.approx(
        vae.class_entropy(out["class_hist"])
    )


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    k=st.integers(1, 4), hidden=st.lists(st.integers(1, 6), min_size=1, max_size=3), latent=st.integers(1, 3)
)
def test_a_stacked_mlp_vae_is_its_members(k, hidden, latent):
    """Bugs: a stacked layer transposed or mixed between members for some widths (square hidden layers hide a
    transpose), or the loss summed over members instead of per member."""
    members = []
    for s in range(k):
        with torch.random.fork_rng():
            torch.manual_seed(s)
            members.append(vae.VAE(3, latent, hidden))
    stacked = vae.stack_vaes(members)
    x = torch.rand(k, 4, 9)
    noise = torch.randn(k, 4, latent)
    rec, kl = stacked.loss(x, noise)
    for j, m in enumerate(members):
        r, d = m.loss(x[j], noise[j])
        assert rec[j].item() == pytest.approx(r.item(), rel=1e-5) and kl[j].item() == pytest.approx(
            d.item(), rel=1e-5
        )
