"""The families of chapters 1-3 as :class:`.loop.Family` adapters: their own fits, samplers and measures.

Nothing here re-implements a chapter: each adapter wires a chapter's public
pieces into :func:`.loop.recursion`.

:class:`GaussianFamily`
    chapter 1's Gaussian (mean and unbiased variance of the points, the truth
    N(0, 1), the squared Wasserstein-2 distance :func:`collapse_utils.gaussian.wasserstein2_sq`).
    Used for the one strategy that needs actual points *and* a verifier
    (``"select"``); the others run through :func:`collapse_utils.gaussian.simulate`.
:class:`MixtureFamily`
    chapter 2's Gaussian mixture (batched EM :func:`collapse_utils.gmm.em.fit`, warm-started
    from the previous generation; the truth :func:`collapse_utils.gmm.two_gaussians`;
    the squared L2 distance to it :func:`collapse_utils.gmm.l2_sq`).
:class:`VAEFamily`
    chapter 3's VAE (:func:`collapse_utils.vae.train_vaes`, every generation's VAEs
    of equal-sized training sets trained together; fresh real images drawn from the
    real training pool; the Fréchet distance to real held-out images of
    :class:`collapse_utils.vae.GenerationMeter`; the verifier's score is the
    generation-0 VAE's evidence lower bound, :func:`elbo`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .. import validate


# ------------------------------------------------------------------------------------------------ Gaussian
@dataclass
class GaussianFamily:
    """Chapter 1's recursion with actual points: ``n`` points a generation, truth N(0, 1)."""

    n: int

    def __post_init__(self) -> None:
        self.n = validate.integer("n", self.n, 2)

    def original(self, runs: int, rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal((runs, self.n))

    def draw(self, rows: int, k: int, rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal((rows, k))

    def fit(self, items) -> list[tuple[np.ndarray, np.ndarray]]:
        """Mean and *unbiased* variance of every run's points (chapter 1's fit)."""
        return [(data.mean(axis=1), data.var(axis=1, ddof=1)) for data, _, _ in items]

    def sample(self, models, m: int, rng: np.random.Generator) -> np.ndarray:
        mean, var = models
        return mean[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((mean.size, m))

    def loglik(self, models, x: np.ndarray) -> np.ndarray:
        mean, var = models
        return -0.5 * (x - mean[:, None]) ** 2 / var[:, None] - 0.5 * np.log(2 * np.pi * var)[:, None]

    def distance(self, models, generation: int) -> np.ndarray:
        from ..gaussian import wasserstein2_sq

        return wasserstein2_sq(*models)


# ------------------------------------------------------------------------------------------------ mixture
@dataclass
class MixtureFamily:
    """Chapter 2's recursion: ``n`` points of 2-D data a generation, mixtures of ``n_components`` Gaussians.

    Every generation's EM starts from the previous generation's mixtures (the
    chapter's ``init="warm"``); generation 0 from k-means.
    """

    n: int
    n_components: int = 2
    truth: Any = None

    def __post_init__(self) -> None:
        from .. import gmm

        self.n_components = validate.integer("n_components", self.n_components, 1)
        self.n = validate.integer("n", self.n, max(2, self.n_components))
        self.truth = gmm.two_gaussians() if self.truth is None else self.truth
        if not isinstance(self.truth, gmm.Mixture):
            raise ValueError(f"truth must be a gmm.Mixture, got {type(self.truth).__name__}")

    def original(self, runs: int, rng: np.random.Generator) -> np.ndarray:
        return self.truth.sample(runs * self.n, rng).reshape(runs, self.n, self.truth.dim)

    def draw(self, rows: int, k: int, rng: np.random.Generator) -> np.ndarray:
        return self.truth.sample(rows * k, rng).reshape(rows, k, self.truth.dim)

    def fit(self, items) -> list[Any]:
        from ..gmm import em

        return [em.fit(data, self.n_components, rng, warm)[0] for data, rng, warm in items]

    def sample(self, models, m: int, rng: np.random.Generator) -> np.ndarray:
        return models.sample(m, rng)

    def loglik(self, models, x: np.ndarray) -> np.ndarray:
        return models.logpdf(x)

    def distance(self, models, generation: int) -> np.ndarray:
        from ..gmm import l2_sq

        return l2_sq(models, self.truth)


# ------------------------------------------------------------------------------------------------ VAE
def elbo(model: Any, images: np.ndarray, rng: np.random.Generator, chunk: int = 4096) -> np.ndarray:
    """Evidence lower bound (nats) of each image under a trained VAE, one reparameterised draw per image.

    ``log p(x) >= E_q[log p(x | z)] - KL(q(z | x) || N(0, I))``: the Bernoulli
    log-likelihood of the pixels (grey levels as soft targets) at one ``z ~ q(z | x)``,
    minus the KL term in closed form. Higher is likelier. The noise comes from ``rng``.
    """
    import torch
    from torch.nn import functional as F

    from ..vae import check_images

    x = check_images(images, side=model.side)
    flat = x.reshape(len(x), -1)
    noise = rng.standard_normal((len(x), model.latent_dim)).astype(np.float32)
    out = np.empty(len(x))
    net = model.model.eval()
    with torch.no_grad():
        for lo in range(0, len(x), chunk):
            xb = torch.from_numpy(flat[lo : lo + chunk])
            mu, logvar = net.encode(xb)
            z = mu + torch.exp(0.5 * logvar) * torch.from_numpy(noise[lo : lo + chunk])
            rec = F.binary_cross_entropy_with_logits(net.decode_logits(z), xb, reduction="none").sum(dim=1)
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)
            out[lo : lo + chunk] = (-(rec + kl)).double().numpy()
    return out


@dataclass
class VAEFamily:
    """Chapter 3's recursion: ``n`` images a generation, drawn from a pool of real training images.

    ``pool`` holds the real training images; each run's original sample is ``n``
    of them (without replacement), and fresh real images are new draws from the
    whole pool (a finite pool: with many generations and large shares, images
    recur). ``meter`` measures the distance from the truth: the Fréchet distance
    between classifier features of ``n_eval`` samples (decoder means) and of the
    real held-out images. Every generation's VAEs with training sets of one size
    are trained together (:func:`collapse_utils.vae.train_vaes`), each from its own seed.

    Under accumulate the training set grows by ``n`` images a generation; its VAEs
    train for the same epochs on batches that grow with it (``batch_size * N / n``
    for ``N`` images), so that every generation takes the same number of optimiser
    steps as the others (with a fixed batch the cost of accumulating would grow
    with every generation).
    """

    n: int
    pool: np.ndarray
    config: Any
    meter: Any
    n_eval: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        from ..vae import GenerationMeter, VAEConfig, check_images

        self.pool = check_images(self.pool, name="pool")
        self.n = validate.integer("n", self.n, 2, len(self.pool))
        if not isinstance(self.config, VAEConfig):
            raise ValueError(f"config must be a VAEConfig, got {type(self.config).__name__}")
        if not isinstance(self.meter, GenerationMeter):
            raise ValueError(f"meter must be a GenerationMeter, got {type(self.meter).__name__}")
        self.n_eval = validate.integer("n_eval", self.n_eval, 2)
        self.seed = validate.integer("seed", self.seed, 0)

    def original(self, runs: int, rng: np.random.Generator) -> np.ndarray:
        from ..schedules import choose_without_replacement

        idx = choose_without_replacement(rng, len(self.pool), self.n, rows=runs)
        return self.pool[idx]

    def draw(self, rows: int, k: int, rng: np.random.Generator) -> np.ndarray:
        from ..schedules import choose_without_replacement

        return self.pool[choose_without_replacement(rng, len(self.pool), k, rows=rows)]

    def fit(self, items) -> list[list[Any]]:
        """Train every item's VAEs, one per row; items whose training sets have one shape are trained together."""
        from ..vae import torch_seed, train_vaes

        seeds = [[torch_seed(rng) for _ in range(len(data))] for data, rng, _ in items]
        out: list[list[Any] | None] = [None] * len(items)
        groups: dict[tuple, list[int]] = {}
        for i, (data, _, _) in enumerate(items):
            groups.setdefault(tuple(np.shape(data)[1:]), []).append(i)
        for shape, members in groups.items():
            stacks = [x for i in members for x in items[i][0]]
            config = self.config
            if shape[0] > self.n:  # a growing (accumulated) training set: as many steps as the others
                config = dataclasses.replace(config, batch_size=max(1, round(config.batch_size * shape[0] / self.n)))
            fitted = train_vaes(stacks, config, [s for i in members for s in seeds[i]])
            start = 0
            for i in members:
                rows = len(items[i][0])
                out[i] = fitted[start : start + rows]
                start += rows
        return out  # type: ignore[return-value]

    def sample(self, models, m: int, rng: np.random.Generator) -> np.ndarray:
        return np.stack([model.sample(m, rng) for model in models])

    def loglik(self, models, x: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 7])
        return np.stack([elbo(model, images, rng) for model, images in zip(models, x)])

    def distance(self, models, generation: int) -> np.ndarray:
        """Fréchet distance of every run's samples to the real held-out images (classifier features).

        The samples of run ``r`` at ``generation`` come from a generator seeded by
        ``(seed, generation, r)``: every strategy's models are measured with the same
        latent draws (common random numbers), whichever strategies run beside them.
        """
        from threadpoolctl import threadpool_limits

        out = np.empty(len(models))
        with threadpool_limits(1):  # a 64 x 64 eigh: many BLAS threads only wait for each other on a busy machine
            for r, model in enumerate(models):
                rng = np.random.default_rng([self.seed, 1, generation, r])
                out[r] = self.meter.measure_images(model.sample(self.n_eval, rng, decode="mean"))["frechet"]
        return out
