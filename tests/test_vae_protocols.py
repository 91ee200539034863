"""Chapter 3: the authors' protocol (fresh samples every batch), their convolutional VAE and optimiser,
generation 0's codes, shared generation 0s, and the chapter's pipeline run as its profiles run it.

Each test names the bug it guards against; several exist to fail when a setup of the authors is changed
back to the book's (for example a recursion that reuses a fixed sample under the authors' protocol).
Models are tiny so that the whole file takes a few seconds.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from collapse_utils import vae
from collapse_utils.vae import model as vmodel

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = vae.VAEConfig(latent_dim=2, hidden=(8,), epochs=2, batch_size=16, lr=3e-3)
CONV = vae.VAEConfig(latent_dim=3, arch="conv", capacity=2, epochs=2, batch_size=16, lr=3e-3)


@pytest.fixture(scope="module")
def data() -> vae.ImageData:
    """Capped as the chapter's quick profile caps it (max_train, max_test, a seeded subset)."""
    return vae.load_images("digits", max_train=120, max_test=60, seed=3, verbose=False)


@pytest.fixture(scope="module")
def meter(data) -> vae.GenerationMeter:
    clf = vae.train_classifier(data, hidden=(16,), epochs=2, seed=0)
    return vae.GenerationMeter(clf, data.x_test, n_eval=40, grid=4, seed=0)


@pytest.fixture(scope="module")
def teacher(data) -> vae.FittedVAE:
    return vae.train_vae(data.x_train, TINY, seed=1)


class DecodeSpy:
    """Wraps a network's ``decode_logits`` and records every batch of latents it decodes."""

    def __init__(self, net):
        self.calls: list[torch.Tensor] = []
        self._decode = net.decode_logits
        net.decode_logits = self

    def __call__(self, z):
        self.calls.append(z.detach().clone())
        return self._decode(z)


def test_the_fresh_protocol_decodes_new_latents_for_every_batch(data, teacher):
    """Bugs: the authors' protocol changed back to the book's: latents drawn once and reused every epoch
    (a fixed sample), the same latents for every batch, or latents that are not N(0, I).

    Spies on the teacher's decoder: it must see n x epochs latents, no two alike, with mean 0 and variance 1
    within 5 standard errors, and the student's history must differ from a student trained on a fixed sample.
    """
    spy = DecodeSpy(teacher.model)
    try:
        vae.train_vae(data.x_train, TINY, seed=4, teacher=teacher)
    finally:
        del teacher.model.decode_logits
    z = torch.cat(spy.calls).numpy()
    n, epochs = len(data.x_train), TINY.epochs
    assert z.shape == (n * epochs, TINY.latent_dim)
    assert [len(c) for c in spy.calls[: -(-n // TINY.batch_size)]] == [16] * (n // 16) + (
        [n % 16] if n % 16 else []
    )
    assert len(np.unique(z.round(6), axis=0)) == len(z), "a latent was decoded twice"
    se = 1 / np.sqrt(z.size)
    assert abs(z.mean()) < 5 * se and abs(z.var() - 1) < 5 * np.sqrt(2) * se
    first, second = z[:n], z[n:]
    assert abs(np.corrcoef(first.ravel(), second.ravel())[0, 1]) < 5 / np.sqrt(first.size), (
        "epochs share latents"
    )


def test_the_fresh_protocol_trains_on_the_teachers_means_or_draws(data, teacher, monkeypatch):
    """Bugs: the student trains on the images passed in (real images) instead of the teacher's samples; the
    teacher's config.decode ignored (means where it says Bernoulli draws, or the reverse)."""
    seen: list[torch.Tensor] = []
    loss = vae.VAE.loss

    def spy(self, x, noise, beta=1.0):
        seen.append(x.detach().clone())
        return loss(self, x, noise, beta)

    monkeypatch.setattr(vae.VAE, "loss", spy)
    vae.train_vae(data.x_train, TINY, seed=2, teacher=teacher)  # teacher.config.decode == "bernoulli"
    draws = torch.cat(seen)
    assert set(torch.unique(draws).tolist()) <= {0.0, 1.0}
    seen.clear()
    means_teacher = dataclasses.replace(teacher, config=dataclasses.replace(teacher.config, decode="mean"))
    vae.train_vae(data.x_train, TINY, seed=2, teacher=means_teacher)
    means = torch.cat(seen)
    assert len(torch.unique(means)) > 1000, "decoder means are grey levels"
    real = torch.from_numpy(data.x_train.reshape(len(data.x_train), -1))
    assert not any(torch.equal(row, real[0]) for row in means), "a real image reached the student"
    # the means are the teacher's sigmoid outputs: all inside (0, 1), and Bernoulli draws average to them
    assert 0 < means.min() and means.max() < 1
    assert abs(draws.mean().item() - means.mean().item()) < 5 * 0.5 / np.sqrt(draws.numel())


def test_a_stacked_fresh_member_is_the_fresh_student_alone(data, teacher):
    """Bugs: in the stack, fresh members share one latent stream or one teacher, a fresh member's rows are
    not replaced (it trains on its placeholder images), or a fixed member's rows are overwritten.

    Tolerance: float32 sums in another order (1e-4 on decoder means at fixed latents); a member trained on
    other data or another stream differs by more than 1e-2.
    """
    other = vae.train_vae(data.x_train, TINY, seed=9)
    other = dataclasses.replace(other, config=dataclasses.replace(other.config, decode="mean"))
    images = [data.x_train] * 3
    together = vae.train_vaes(images, TINY, [5, 6, 7], teachers=[teacher, None, other])
    z = np.random.default_rng(0).standard_normal((30, TINY.latent_dim)).astype(np.float32)
    alone = [
        vae.train_vae(data.x_train, TINY, 5, teacher=teacher),
        vae.train_vae(data.x_train, TINY, 6),
        vae.train_vae(data.x_train, TINY, 7, teacher=other),
    ]
    for j in range(3):
        np.testing.assert_allclose(together[j].decode(z), alone[j].decode(z), atol=1e-4)
        np.testing.assert_allclose(together[j].history, alone[j].history, rtol=1e-4)
    swapped = vae.train_vae(data.x_train, TINY, 5, teacher=other)
    assert np.abs(swapped.decode(z) - alone[0].decode(z)).max() > 1e-2


def test_a_fresh_run_of_the_batch_is_the_fresh_run_alone_and_has_no_training_set(data, meter):
    """Bugs: the batch passes no teacher to a fresh run (it trains on the real images every generation), or a
    fresh run's next generation trains on a fixed sample of its predecessor; its composition claims real images.
    """
    batch = vae.run_vae_batch(data.x_train, 2, meter, TINY, seeds=[3, 3], decode=["bernoulli", "mean"],
                              protocol=["fixed", "fresh"], keep_models=[0, 1])  # fmt: skip
    fresh = batch[1]
    alone = vae.run_vae_generations(data.x_train, 2, meter, dataclasses.replace(TINY, decode="mean"), seed=3,
                                    protocol="fresh", keep_models=[0, 1])  # fmt: skip
    np.testing.assert_allclose(fresh.grid, alone.grid, atol=1e-3)
    np.testing.assert_allclose(fresh.loss, alone.loss, rtol=1e-3)
    assert fresh.protocol == "fresh" and fresh.composition[1:] == [{"original": 0, "synthetic": 240}] * 2
    assert fresh.original_share().tolist() == [1.0, 0.0, 0.0]
    # generation 1 is the student of generation 0 on fresh samples, not a fit to real images or to n samples
    rng = np.random.default_rng(3)
    vmodel.torch_seed(rng)  # generation 0's draw
    student = vae.train_vae(data.x_train, TINY, vmodel.torch_seed(rng), teacher=fresh.models[0])
    z = np.random.default_rng(1).standard_normal((20, 2)).astype(np.float32)
    np.testing.assert_allclose(fresh.models[1].decode(z), student.decode(z), atol=1e-3)
    # the fixed run of the same seed shares generation 0 and then differs
    np.testing.assert_array_equal(batch[0].grid[0], fresh.grid[0])
    assert not np.allclose(batch[0].grid[1], fresh.grid[1], atol=1e-2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(protocol="fresh", retention=0.5), "protocol 'fresh'.*needs approach=1 and retention=0"),
        (dict(protocol="fresh", approach=3), "protocol 'fresh'.*needs approach=1 and retention=0"),
        (dict(protocol="online"), "protocol must be one of 'fixed', 'fresh'"),
    ],
)
def test_the_fresh_protocol_rejects_schedules_it_cannot_have(data, meter, kwargs, match):
    with pytest.raises(ValueError, match=match):
        vae.run_vae_generations(data.x_train, 1, meter, TINY, **kwargs)
    with pytest.raises(ValueError, match=match.replace("protocol ", "protocol(\\[0\\])? ")):
        vae.run_vae_batch(data.x_train, 1, meter, TINY, seeds=[0], **kwargs)


def test_runs_with_equal_seeds_train_generation_0_once(data, meter, monkeypatch):
    """Bugs: generation 0 retrained for every run of a seed (wasted time), or shared between *different*
    seeds (runs no longer independent)."""
    stacks: list[int] = []
    train = vmodel.train_vaes

    def spy(images, config, seeds, teachers=None):
        stacks.append(len(seeds))
        return train(images, config, seeds, teachers)

    monkeypatch.setattr("collapse_utils.vae.recursion.train_vaes", spy)
    runs = vae.run_vae_batch(data.x_train, 1, meter, TINY, seeds=[4, 8, 4, 8], decode=["bernoulli"] * 2 + ["mean"] * 2,
                             keep_models=[0])  # fmt: skip
    assert stacks == [2, 4]
    assert runs[0].models[0].model is runs[2].models[0].model
    assert runs[0].models[0].model is not runs[1].models[0].model
    assert not np.allclose(runs[0].grid[0], runs[1].grid[0])


def test_a_given_generation_0_is_checked_and_reproduces_the_run(data, meter):
    """Bugs: generation0 accepted from another seed or config (the run silently starts from another model), or
    not used (trained again) so that later generations differ from the uninterrupted run."""
    first = vae.run_vae_batch(data.x_train, 1, meter, TINY, seeds=[2, 5], keep_models=[0])
    given0 = [r.models[0] for r in first]
    again = vae.run_vae_batch(data.x_train, 1, meter, TINY, seeds=[2, 5], generation0=given0)
    for a, b in zip(first, again):
        np.testing.assert_allclose(a.grid, b.grid, atol=1e-5)
        np.testing.assert_allclose(a.latent_spread, b.latent_spread, rtol=1e-5)
    with pytest.raises(ValueError, match=r"generation0\[0\] was not trained as run 0's generation 0"):
        vae.run_vae_batch(data.x_train, 1, meter, TINY, seeds=[5, 2], generation0=given0)
    with pytest.raises(ValueError, match="generation0.*another config"):
        vae.run_vae_batch(
            data.x_train, 1, meter, dataclasses.replace(TINY, lr=1e-2), seeds=[2, 5], generation0=given0
        )
    with pytest.raises(ValueError, match="generation0 must hold one FittedVAE per seed"):
        vae.run_vae_batch(data.x_train, 1, meter, TINY, seeds=[2, 5], generation0=given0[:1])


def test_the_chapter_pipeline_as_the_quick_profile_runs_it(data, meter):
    """Bugs on the chapter's own path (capped data, run_variants, shared generation 0, generation0 reused for the
    retention runs): a variant's runs returned under another label or out of seed order; variants of one batch
    key trained apart; the retention runs not starting from the main runs' generation 0."""
    book, authors = vae.protocol_configs(dict(latent_dim=2, hidden=(8,), epochs=1, batch_size=16, lr=3e-3,
                                              weight_decay=1e-5, reduction="sum", authors=None))  # fmt: skip
    assert authors == dataclasses.replace(book, decode="mean")
    variants = {
        "Bernoulli draws": vae.Variant(book, 2, n_train=100),
        "decoder means": vae.Variant(dataclasses.replace(book, decode="mean"), 2, n_train=100),
        "authors' protocol": vae.Variant(authors, 1, protocol="fresh"),
    }
    groups = vae.run_variants(data.x_train, meter, variants, [7, 3], keep_models=[0])
    assert list(groups) == list(variants) and all(len(g) == 2 for g in groups.values())
    assert [r.seed for r in groups["decoder means"]] == [7, 3]
    assert [r.decode for r in groups["decoder means"]] == ["mean", "mean"]
    assert (
        groups["authors' protocol"][0].generations == 1 and groups["authors' protocol"][0].protocol == "fresh"
    )
    assert groups["Bernoulli draws"][0].composition[0] == {"original": 100, "synthetic": 0}
    assert groups["authors' protocol"][0].composition[1] == {"original": 0, "synthetic": 120}
    np.testing.assert_array_equal(groups["Bernoulli draws"][1].grid[0], groups["decoder means"][1].grid[0])
    kept = {"retention 0.5": vae.Variant(book, 2, retention=0.5, n_train=100)}
    retained = vae.run_variants(
        data.x_train,
        meter,
        kept,
        [7, 3],
        generation0={"retention 0.5": [r.models[0] for r in groups["Bernoulli draws"]]},
    )
    np.testing.assert_array_equal(retained["retention 0.5"][0].grid[0], groups["Bernoulli draws"][0].grid[0])
    assert retained["retention 0.5"][0].original_share().tolist() == [1.0, 0.5, 0.5]
    for run in (*groups["Bernoulli draws"], *groups["authors' protocol"]):
        assert run.latent_spread.shape == (run.generations + 1,) and run.origin_latents.shape[1:] == (40, 2)
        assert run.latent_tail[0] == pytest.approx(0.02, abs=2 / 80), "generation 0 against its own quantiles"
        np.testing.assert_allclose(run.latent_tail, vae.latent_tail(run.origin_latents, run.origin_latents[0]))
        np.testing.assert_allclose(run.latent_spread, vae.latent_spread(run.origin_latents), rtol=1e-6)
    with pytest.raises(ValueError, match="generation0 names 'retention 0.1'"):
        vae.run_variants(data.x_train, meter, kept, [7], generation0={"retention 0.1": []})
    with pytest.raises(ValueError, match=r"variants\['a'\] must be a Variant"):
        vae.run_variants(data.x_train, meter, {"a": book}, [7])


def test_every_generation_is_encoded_by_generation_0(data, meter):
    """Bugs (issue 24's latent measure): later generations' samples encoded by their own encoder, or generation
    0's codes computed from other samples than the ones the judge measured."""
    run = vae.run_vae_batch(data.x_train, 2, meter, TINY, seeds=[4], keep_models=True)[0]
    for g in range(3):
        samples = meter.samples(run.models[g], g)
        np.testing.assert_allclose(run.origin_latents[g], run.models[0].encode(samples)[0], rtol=1e-5, atol=1e-6)
    assert not np.allclose(run.origin_latents[2], run.models[2].encode(meter.samples(run.models[2], 2))[0], atol=1e-3)
    alone = vae.run_vae_generations(data.x_train, 2, meter, TINY, seed=4, keep_models=True)
    np.testing.assert_allclose(alone.origin_latents[2], alone.models[0].encode(meter.samples(alone.models[2], 2))[0],
                               rtol=1e-5, atol=1e-6)  # fmt: skip


def test_variants_validate_before_any_training():
    with pytest.raises(ValueError, match="protocol 'fresh'.*needs approach=1 and retention=0"):
        vae.Variant(TINY, 3, protocol="fresh", retention=0.1)
    with pytest.raises(ValueError, match="generations must be an integer >= 0"):
        vae.Variant(TINY, -1)
    with pytest.raises(ValueError, match="config must be a VAEConfig"):
        vae.Variant("tiny", 1)
    with pytest.raises(ValueError, match="params must hold"):
        vae.protocol_configs(dict(latent_dim=2))
    assert (
        vae.Variant(TINY, 1).batch_key()
        == vae.Variant(dataclasses.replace(TINY, decode="mean"), 1).batch_key()
    )
    assert vae.Variant(TINY, 1).batch_key() == vae.Variant(TINY, 2).batch_key(), (
        "runs of any length share a stack"
    )
    assert vae.Variant(TINY, 1).batch_key() != vae.Variant(TINY, 1, n_train=50).batch_key()


def test_a_shorter_run_leaves_the_stack_as_if_alone(data, meter):
    """Bugs: a run with fewer generations keeps drawing from its generator (so that it is not the run alone), or
    the runs that continue are paired with the wrong data after it leaves the stack."""
    decodes = ["mean", "bernoulli", "mean"]
    batch = vae.run_vae_batch(data.x_train, [1, 2, 2], meter, TINY, seeds=[6, 6, 8], decode=decodes,
                              protocol=["fresh", "fixed", "fixed"])  # fmt: skip
    assert [r.generations for r in batch] == [1, 2, 2]
    specs = [(1, 6, "mean", "fresh"), (2, 6, "bernoulli", "fixed"), (2, 8, "mean", "fixed")]
    for run, (g, seed, decode, protocol) in zip(batch, specs):
        alone = vae.run_vae_generations(data.x_train, g, meter, dataclasses.replace(TINY, decode=decode), seed=seed,
                                        protocol=protocol)  # fmt: skip
        np.testing.assert_allclose(run.grid, alone.grid, atol=1e-3)
        assert run.composition == alone.composition
    with pytest.raises(ValueError, match=r"generations must be one value or one per seed \(3\)"):
        vae.run_vae_batch(data.x_train, [1, 2], meter, TINY, seeds=[6, 6, 8])


# ---------------------------------------------------------------------------
# the authors' architecture and optimiser


def test_the_convolutional_vae_has_the_authors_shape():
    """Bugs: a layer of the authors' VAE missing or of another width (stride, channels, the 20-dimensional code).

    Their VAE_experiments.ipynb: Conv2d(1, 64, 4, 2, 1), Conv2d(64, 128, 4, 2, 1), two Linear(128*7*7, 20);
    Linear(20, 128*7*7), ConvTranspose2d(128, 64, 4, 2, 1), ConvTranspose2d(64, 1, 4, 2, 1).
    """
    net = vae.ConvVAE(28, latent_dim=20, capacity=64)
    c, feats = 64, 128 * 7 * 7
    expected = (c * 16 + c) + (2 * c * c * 16 + 2 * c) + 2 * (feats * 20 + 20)  # encoder
    expected += (20 * feats + feats) + (2 * c * c * 16 + c) + (c * 16 + 1)  # decoder
    assert sum(p.numel() for p in net.parameters()) == expected
    mu, logvar = net.encode(torch.rand(3, 784))
    assert mu.shape == logvar.shape == (3, 20) and net.decode_logits(mu).shape == (3, 784)
    with pytest.raises(ValueError, match="side must be a multiple of 4"):
        vae.ConvVAE(10)
    with pytest.raises(ValueError, match="side must be a multiple of 4"):
        vae.VAEConfig(arch="conv").build(30)


def test_multiply_adds_count_every_layer():
    """Bug: the time estimate of the gpu profile counts the convolutions wrongly (or the encoder only).

    Counted independently with forward hooks: a convolution costs (output elements) x (input channels) x 16,
    a transposed convolution (input elements) x (output channels) x 16, a linear layer its weight entries.
    """
    config = vae.VAEConfig(latent_dim=3, arch="conv", capacity=5)
    net = config.build(8)
    count = 0

    def hook(module, inputs, output):
        nonlocal count
        if isinstance(module, torch.nn.Conv2d):
            count += output[0].numel() * module.in_channels * 16
        elif isinstance(module, torch.nn.ConvTranspose2d):
            count += inputs[0][0].numel() * module.out_channels * 16
        elif isinstance(module, torch.nn.Linear):
            count += module.weight.numel()

    for m in net.modules():
        m.register_forward_hook(hook)
    net.decode_logits(net.encode(torch.zeros(1, 64))[0])
    assert vae.multiply_adds(config, 8) == count
    assert vae.training_flops(config, 8, 10) == 6 * count * 10 * config.epochs


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    k=st.integers(1, 3), capacity=st.integers(1, 3), side=st.sampled_from([4, 8]), latent=st.integers(1, 3)
)
def test_a_stacked_convolutional_vae_is_its_members(k, capacity, side, latent):
    """Bugs: the grouped convolutions mix members' channels (wrong layout of the stacked weights), the
    flattening order differs from a member's, or unstacking copies another member's weights."""
    members = []
    for s in range(k):
        with torch.random.fork_rng():
            torch.manual_seed(s)
            members.append(vae.ConvVAE(side, latent, capacity))
    stacked = vae.stack_vaes(members)
    assert isinstance(stacked, vae.StackedConvVAE)
    x = torch.rand(k, 5, side * side)
    noise = torch.randn(k, 5, latent)
    rec, kl = stacked.loss(x, noise, beta=0.7)
    for j, m in enumerate(members):
        r, d = m.loss(x[j], noise[j], beta=0.7)
        assert rec[j].item() == pytest.approx(r.item(), rel=1e-5) and kl[j].item() == pytest.approx(
            d.item(), rel=1e-5
        )
        for p, q in zip(m.parameters(), stacked.unstack(j).parameters()):
            assert torch.equal(p, q)


def test_convolutional_vaes_train_together_as_alone(data):
    """Bug: the stacked training path of the convolutional VAE (the gpu profile's, under both protocols: a
    convolutional teacher decodes the fresh samples) differs from training alone."""
    images = [data.x_train[:60], data.x_train[60:120]]
    together = vae.train_vaes(images, CONV, [1, 2])
    z = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    for j, (x, s) in enumerate(zip(images, [1, 2])):
        alone = vae.train_vae(x, CONV, s)
        assert isinstance(alone.model, vae.ConvVAE)
        np.testing.assert_allclose(together[j].decode(z), alone.decode(z), atol=1e-4)
    teacher = dataclasses.replace(together[0], config=dataclasses.replace(CONV, decode="mean"))
    taught = vae.train_vaes(images, CONV, [3, 4], teachers=[teacher, None])
    np.testing.assert_allclose(
        taught[0].decode(z), vae.train_vae(images[0], CONV, 3, teacher=teacher).decode(z), atol=1e-4
    )


def test_weight_decay_and_a_summed_loss_change_the_training(data):
    """Bugs: weight_decay not passed to Adam; reduction="sum" ignored (the loss averaged anyway), so weight
    decay keeps its full strength; the history recorded as a batch total instead of per image.

    With a strong decay (0.3) the weights shrink; summing the loss over a batch of 32 makes the same decay
    32 times weaker against the loss, so the weights shrink less. Adam is otherwise almost blind to the
    loss's scale, so without decay "sum" and "mean" train nearly the same model.
    """
    base = vae.VAEConfig(latent_dim=2, hidden=(8,), epochs=3, batch_size=32, lr=1e-2)

    def norm(config):
        fit = vae.train_vae(data.x_train, config, seed=0)
        return sum(float(p.detach().pow(2).sum()) for p in fit.model.parameters()), fit.history

    plain, h_plain = norm(base)
    decayed, _ = norm(dataclasses.replace(base, weight_decay=0.3))
    summed, h_sum = norm(dataclasses.replace(base, weight_decay=0.3, reduction="sum"))
    nodecay_sum, _ = norm(dataclasses.replace(base, reduction="sum"))
    assert decayed < 0.7 * plain and summed > 1.2 * decayed
    assert nodecay_sum == pytest.approx(plain, rel=0.05)
    assert h_sum[-1] == pytest.approx(h_plain[-1], rel=0.2), "history is per image under either reduction"


def test_config_rejects_bad_protocol_settings():
    for kwargs, match in [
        (dict(weight_decay=-1e-5), "weight_decay must be a finite number >= 0"),
        (dict(reduction="max"), "reduction must be one of"),
        (dict(arch="resnet"), "arch must be one of"),
        (dict(capacity=0), "capacity must be an integer >= 1"),
    ]:
        with pytest.raises(ValueError, match=match):
            vae.VAEConfig(**kwargs)
    with pytest.raises(ValueError, match=r"teachers must be one FittedVAE or None per seed \(2\)"):
        vae.train_vaes([np.zeros((4, 8, 8))] * 2, TINY, [0, 1], teachers=[None])
    with pytest.raises(ValueError, match="teacher must be a FittedVAE"):
        vae.train_vae(np.zeros((4, 8, 8)), TINY, teacher="previous")


# ---------------------------------------------------------------------------
# generation 0's codes of later samples


def test_the_meter_encodes_the_measured_samples_with_generation_0(data, meter, teacher):
    """Bugs: the latent measure encodes other images than the ones measured (a fresh draw, Bernoulli draws), or
    with the generation's own encoder instead of generation 0's."""
    other = vae.train_vae(data.x_train, TINY, seed=5)
    out = meter(other, 3, origin=teacher)
    samples = meter.samples(other, 3)
    np.testing.assert_allclose(out["origin_mu"], teacher.encode(samples)[0], rtol=1e-6)
    assert not np.allclose(out["origin_mu"], other.encode(samples)[0], atol=1e-3)
    np.testing.assert_array_equal(meter.samples(other, 3), samples)
    assert not np.allclose(meter.samples(other, 4), samples), "every generation has its own evaluation stream"
    assert "origin_mu" not in meter(other, 3)
    with pytest.raises(ValueError, match="origin must be the run's generation 0"):
        meter(other, 3, origin="generation 0")


@settings(max_examples=15, deadline=None, derandomize=True)
@given(seed=st.integers(0, 1000), scale=st.floats(0.05, 0.95), dims=st.integers(1, 4))
def test_latent_spread_and_tail_share(seed, scale, dims):
    """Bugs: the spread per dimension instead of pooled, or a variance for a standard deviation; the tail
    share measured against the sample itself instead of generation 0's quantiles, or one-sided."""
    rng = np.random.default_rng(seed)
    ref = rng.standard_normal((400, dims)) * np.arange(1, dims + 1)
    shrunk = ref * scale
    assert vae.latent_spread(shrunk) == pytest.approx(scale * vae.latent_spread(ref), rel=1e-9)
    assert vae.latent_spread(ref) == pytest.approx(ref.ravel().std(), rel=1e-12)
    assert vae.latent_tail(ref, ref) == pytest.approx(0.02, abs=2 / ref.size + 1e-12)
    assert vae.latent_tail(shrunk, ref) <= vae.latent_tail(ref, ref)
    shifted = np.abs(ref) + 100
    assert vae.latent_tail(shifted, ref) == 1.0 and vae.latent_tail(-shifted, ref) == 1.0
    stacked = np.stack([ref, shrunk])
    np.testing.assert_allclose(
        vae.latent_tail(stacked, ref), [vae.latent_tail(ref, ref), vae.latent_tail(shrunk, ref)]
    )


def test_plot_latent_density_and_the_overview(data, meter):
    import matplotlib.pyplot as plt

    runs = vae.run_vae_batch(data.x_train[:60], 2, meter, TINY, seeds=[0, 1])
    _, ax = plt.subplots()
    vae.plot_latent_density(runs[0], [0, 2], ax=ax)
    assert len(ax.lines) == 2 and ax.get_yscale() == "log" and ax.get_xlim() == (-3.0, 3.0)
    x, y = ax.lines[0].get_data()
    from scipy import stats

    np.testing.assert_allclose(y, stats.gaussian_kde(runs[0].origin_latents[0].ravel())(x), rtol=1e-9)
    fig = vae.plot_overview({"a": runs[0], "b": runs[1]}, [0, 2], {"a": runs}, real=1.0, n=4)
    assert len(fig.axes) == 5 and fig.get_size_inches()[0] <= 7.0
    shown = fig.axes[3].images[0].get_array()  # second row, second column: run 1, generation 2
    np.testing.assert_array_equal(shown, vae.tile_images(runs[1].grid[2, :4], fill=0.0))
    assert fig.axes[1].get_title() == "generation 2" and fig.axes[2].get_ylabel() == "b"
    with pytest.raises(ValueError, match="run must record origin_latents"):
        vae.plot_latent_density(dataclasses.replace(runs[0], origin_latents=None), [0])
    plt.close("all")


def test_runs_in_worker_processes_are_the_runs_of_one_process(data, meter):
    """Bugs (the chapter's two processes): a worker's runs returned under another label or seed, a seed's runs split
    across workers (their generation 0 trained twice, no longer shared), a part of the seeds dropped, generation0
    handed to the wrong runs; ``workers`` not checked."""
    variants = {
        "Bernoulli draws": vae.Variant(TINY, 2, n_train=100),
        "decoder means": vae.Variant(dataclasses.replace(TINY, decode="mean"), 1, n_train=100),
        "fresh": vae.Variant(dataclasses.replace(TINY, decode="mean"), 1, protocol="fresh"),
    }
    seeds = [7, 3, 11]
    one = vae.run_variants(data.x_train, meter, variants, seeds, keep_models=[0])
    two = vae.run_variants(data.x_train, meter, variants, seeds, keep_models=[0], workers=2)
    assert list(two) == list(variants)
    for label in variants:
        assert [r.seed for r in two[label]] == seeds
        for a, b in zip(one[label], two[label]):
            assert (a.seed, a.decode, a.protocol, a.generations) == (b.seed, b.decode, b.protocol, b.generations)
            np.testing.assert_allclose(np.asarray(b.grid), np.asarray(a.grid), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(b.latent_spread, a.latent_spread, rtol=1e-4, atol=1e-6)
    for j in range(len(seeds)):  # one generation 0 per seed, shared by the variants of one batch
        np.testing.assert_array_equal(two["Bernoulli draws"][j].grid[0], two["decoder means"][j].grid[0])
    given = {"fresh": [r.models[0] for r in one["fresh"]]}
    again = vae.run_variants(data.x_train, meter, {"fresh": variants["fresh"]}, seeds, generation0=given, workers=2)
    for a, b in zip(one["fresh"], again["fresh"]):
        np.testing.assert_allclose(np.asarray(b.grid), np.asarray(a.grid), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="workers"):
        vae.run_variants(data.x_train, meter, variants, seeds, workers=0)
