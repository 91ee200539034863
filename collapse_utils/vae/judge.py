"""The judge of chapter 3: a digit classifier trained once on real images, and what it measures.

A :class:`DigitClassifier` (a small MLP) is trained once on the real training
images (:func:`train_classifier`) and never again; :class:`GenerationMeter`
labels every generation's samples with it and records

``class_hist``
    the share of samples assigned to each digit (argmax of the classifier);
``entropy``
    the entropy of that histogram in bits (``log2(10) = 3.32`` for ten equally
    frequent digits, 0 when every sample gets the same label), by
    :func:`scipy.stats.entropy`;
``confidence``
    the classifier's mean maximum softmax *probability* (in ``[1/10, 1]``):
    how much the samples look like *some* digit;
``frechet``
    the Fréchet distance between Gaussians fitted to the classifier's
    penultimate-layer features of the samples and of real held-out images:
    the recipe of the FID, with our digit classifier in place of the Inception
    network (:func:`frechet_distance`);
``feature_var``
    the variety of the samples in the classifier's feature space: the total
    variance (trace of the covariance) of their features, relative to that of
    real images (1 for real images);
``pixel_var``
    the total pixel variance of the samples relative to real images. It mixes
    two things: blur (grey, averaged strokes vary less from pixel to pixel) and
    loss of variety (samples that look alike); it is kept as a record, and the
    chapter measures variety with ``feature_var``;
``active_dims``
    how many latent dimensions the generation's encoder uses on real held-out
    images (:meth:`FittedVAE.active_dims`);
``grid``
    a fixed set of latents (the same for every generation) decoded by the
    generation's decoder, for pictures like the paper's Figure 9;
``origin_mu``
    (when the meter is given the run's generation 0, ``origin=``) the means
    that *generation 0's encoder* gives to this generation's samples: the
    measure of the authors' notebook ``VAE_experiments.ipynb``, which encodes
    every later generation's samples with the first VAE's encoder and plots
    the density of the means. The recursion turns them into ``latent_spread``
    (their standard deviation, all dimensions pooled as the authors pool them)
    and ``latent_tail`` (their share beyond generation 0's own 1% and 99%
    quantiles: about 2% at generation 0, less as the tails wash out).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import nn
from torch.nn import functional as F

from .. import validate
from .data import ImageData, check_images
from .model import FittedVAE, batches, check_device, torch_seed
from .nets import mlp

N_CLASSES = 10

METRICS: dict[str, str] = {
    "entropy": "class entropy (bits)",
    "confidence": "confidence (mean max prob.)",
    "frechet": "Fréchet distance to real",
    "feature_var": "variety (rel. feature variance)",
    "pixel_var": "pixel variance (rel. to real)",
    "active_dims": "active latent dimensions",
    "latent_spread": "spread of generation 0's codes (s.d.)",
    "latent_tail": "share in generation 0's 2% tails",
}
"""The per-generation measures and their axis titles."""

NAMES: dict[str, str] = {
    "entropy": "class entropy",
    "confidence": "classifier confidence",
    "frechet": "Fréchet distance to real images",
    "feature_var": "variety (feature variance relative to real images)",
    "pixel_var": "pixel variance (relative to real images)",
    "active_dims": "number of active latent dimensions",
    "latent_spread": "spread (standard deviation) of generation 0's encoder means",
    "latent_tail": "share of generation 0's encoder means in its 2% tails",
}
"""The measures' names in sentences."""


class ClassifierNet(nn.Module):
    """An MLP with ReLUs whose last hidden layer gives the features."""

    def __init__(self, pixels: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.body = nn.Sequential(*mlp([pixels, *hidden]), nn.ReLU())
        self.head = nn.Linear(hidden[-1], N_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        return self.head(features), features


@dataclass
class DigitClassifier:
    """A small MLP digit classifier, trained once on real images.

    ``test_accuracy`` is its accuracy on the held-out real images. The
    ``features`` are the activations of its last hidden layer, the space in
    which :func:`frechet_distance` compares generated and real images.
    """

    net: ClassifierNet
    side: int
    device: str
    test_accuracy: float

    @torch.no_grad()
    def forward(self, images: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
        """Logits ``(m, 10)`` and features ``(m, hidden[-1])`` of ``images`` (float64)."""
        x = check_images(images, side=self.side)
        flat = x.reshape(len(x), -1)
        logits, feats = [], []
        if self.net.training:
            self.net.eval()
        for start in range(0, len(flat), chunk):
            out, f = self.net(torch.from_numpy(flat[start : start + chunk]).to(self.device))
            logits.append(out.cpu().numpy())
            feats.append(f.cpu().numpy())
        return np.concatenate(logits).astype(np.float64), np.concatenate(feats).astype(np.float64)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (softmax of the logits), shape ``(m, 10)``."""
        return softmax(self.forward(images)[0])

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Predicted digits, shape ``(m,)``."""
        return self.forward(images)[0].argmax(axis=1)

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate-layer features, shape ``(m, hidden[-1])``."""
        return self.forward(images)[1]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(m, classes)`` logits."""
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def train_classifier(
    data: ImageData,
    hidden: Sequence[int] = (256, 64),
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
    device: str = "cpu",
) -> DigitClassifier:
    """Train the digit classifier on ``data.x_train`` and report its accuracy on ``data.x_test``.

    All arguments are validated before training (``epochs >= 1``,
    ``batch_size >= 1``, ``lr > 0``, ``weight_decay >= 0``, widths ``>= 1``).
    """
    epochs = validate.integer("epochs", epochs, 1)
    batch_size = validate.integer("batch_size", batch_size, 1)
    lr = validate.real("lr", lr, 0.0, low_open=True)
    weight_decay = validate.real("weight_decay", weight_decay, 0.0)
    hidden = tuple(validate.integer_list("hidden", hidden, 1))
    if not hidden:
        raise ValueError("hidden must list at least one layer width >= 1, got ()")
    seed = validate.integer("seed", seed, 0)
    device = check_device(device)
    x = check_images(data.x_train, name="training images")
    y = torch.as_tensor(np.asarray(data.y_train, dtype=np.int64))
    if len(y) != len(x) or y.min() < 0 or y.max() >= N_CLASSES:
        raise ValueError("y_train must hold one digit label in 0..9 per training image")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = ClassifierNet(x.shape[1] ** 2, hidden).to(device)
    order = torch.Generator().manual_seed(seed + 1)
    xt = torch.from_numpy(x.reshape(len(x), -1)).to(device)
    yt = y.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    net.train()
    for _ in range(epochs):
        for idx in batches(len(xt), batch_size, order):
            idx = idx.to(device)
            logits, _ = net(xt[idx])
            loss = F.cross_entropy(logits, yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    net.eval()
    clf = DigitClassifier(net, x.shape[1], device, float("nan"))
    clf.test_accuracy = float(np.mean(clf.predict(data.x_test) == np.asarray(data.y_test)))
    return clf


def class_entropy(hist: np.ndarray) -> np.ndarray:
    """Entropy in bits of class histograms (last axis; normalised first), by :func:`scipy.stats.entropy`."""
    h = np.asarray(hist, dtype=float)
    if np.any(h < 0):
        raise ValueError("hist must have entries >= 0 (a histogram cannot have negative entries)")
    if np.any(h.sum(axis=-1) <= 0):
        raise ValueError("hist must have a positive total in every row")
    return stats.entropy(h, base=2, axis=-1)


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (``(d,)``, ``(d, d)``) of features ``(m, d)``, ``m >= 2``."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must have shape (m, d) with m >= 2, got {f.shape}")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """A context in which numpy's BLAS and LAPACK run on one thread.

    Small eigendecompositions (the 64 x 64 covariances of the Fréchet
    distance) are 50 to 100 times slower with OpenBLAS's threads than without
    them on a two-core machine that is busy (about 25-75 ms against 0.3 ms for
    ``numpy.linalg.eigh``), and the chapter computes hundreds of them. The
    results are the same.
    """
    return _blas_controller().limit(limits=1, user_api="blas")


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Squared 2-Wasserstein (Fréchet) distance between two Gaussians.

    ``|mu1 - mu2|^2 + tr(cov1 + cov2 - 2 (cov1 cov2)^{1/2})``, the formula of
    the FID. Computed through the symmetric matrix
    ``sqrt(cov1) cov2 sqrt(cov1)``, whose square root has the same trace as
    ``(cov1 cov2)^{1/2}`` and is stable for singular covariances.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, float)), np.atleast_1d(np.asarray(mu2, float))
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, float)), np.atleast_2d(np.asarray(cov2, float))
    d = mu1.shape[0]
    if mu2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(
            f"shapes do not match: mu1 {mu1.shape}, cov1 {cov1.shape}, mu2 {mu2.shape}, cov2 {cov2.shape}"
        )

    def psd_sqrt(a: np.ndarray) -> np.ndarray:
        w, v = np.linalg.eigh((a + a.T) / 2)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T

    with one_blas_thread():
        root1 = psd_sqrt(cov1)
        cross = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ cov2 @ root1), 0, None)).sum()
    value = float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * cross)
    return max(value, 0.0)


class GenerationMeter:
    """The ``measure`` of the generational loop: what a generation's VAE generates.

    Parameters
    ----------
    classifier:
        The classifier trained once on real data.
    reference:
        Real held-out images: the reference of the Fréchet distance and of the
        variances, and the images on which active dimensions are counted.
    n_eval:
        Samples drawn from every generation for the measures (``>= 2``).
    grid:
        How many fixed latents to decode for pictures (``>= 1``).
    seed:
        Seed of the evaluation samples (one stream per generation, independent
        of the training) and of the fixed latents.

    The samples are decoder means, whatever the training uses: the images that
    a generation *draws*, which the classifier can judge.
    """

    def __init__(
        self,
        classifier: DigitClassifier,
        reference: np.ndarray,
        n_eval: int = 1000,
        grid: int = 64,
        seed: int = 0,
    ) -> None:
        if not isinstance(classifier, DigitClassifier):
            raise ValueError(f"classifier must be a DigitClassifier, got {type(classifier).__name__}")
        self.classifier = classifier
        self.n_eval = validate.integer("n_eval", n_eval, 2)
        self.grid = validate.integer("grid", grid, 1)
        self.seed = torch_seed(seed)
        ref = check_images(reference, side=classifier.side, name="reference images")
        if len(ref) < 2:
            raise ValueError(f"reference must hold at least two images, got {len(ref)}")
        self.reference = ref
        feats = classifier.features(ref)
        self.ref_mu, self.ref_cov = feature_stats(feats)
        self.ref_feature_var = float(np.trace(self.ref_cov))
        self.ref_pixel_var = float(ref.reshape(len(ref), -1).var(axis=0).sum())

    def measure_images(self, images: np.ndarray) -> dict[str, Any]:
        """The measures (all but ``grid``, ``loss`` and ``active_dims``) of a stack of images."""
        x = check_images(images, side=self.classifier.side)
        if len(x) < 2:
            raise ValueError(f"images must hold at least two images to measure, got {len(x)}")
        logits, feats = self.classifier.forward(x)
        probs = softmax(logits)
        hist = np.bincount(logits.argmax(axis=1), minlength=N_CLASSES) / len(x)
        with one_blas_thread():
            mu, cov = feature_stats(feats)
        return {
            "class_hist": hist,
            "entropy": float(class_entropy(hist)),
            "confidence": float(probs.max(axis=1).mean()),
            "frechet": frechet_distance(mu, cov, self.ref_mu, self.ref_cov),
            "feature_var": float(np.trace(cov)) / self.ref_feature_var,
            "pixel_var": float(x.reshape(len(x), -1).var(axis=0).sum()) / self.ref_pixel_var,
        }

    def latents(self, latent_dim: int) -> np.ndarray:
        """The fixed latents decoded for pictures (the same for every generation)."""
        return np.random.default_rng([self.seed, 10**6]).standard_normal((self.grid, latent_dim))

    def samples(self, model: FittedVAE, generation: int) -> np.ndarray:
        """The ``n_eval`` samples (decoder means) on which generation ``generation`` is measured.

        One stream per generation, ``default_rng([seed, generation])``,
        independent of the training and of the other generations.
        """
        generation = validate.integer("generation", generation, 0)
        return model.sample(self.n_eval, np.random.default_rng([self.seed, generation]), decode="mean")

    def __call__(self, model: FittedVAE, generation: int, origin: FittedVAE | None = None) -> dict[str, Any]:
        """All measures of generation ``generation``'s VAE ``model``.

        With ``origin`` (the run's generation 0), also ``origin_mu``: the
        encoder means that ``origin`` gives to the measured samples.
        """
        generation = validate.integer("generation", generation, 0)
        if origin is not None and (not isinstance(origin, FittedVAE) or origin.side != model.side):
            raise ValueError("origin must be the run's generation 0: a FittedVAE for images of the same side")
        images = self.samples(model, generation)
        out = self.measure_images(images)
        out["grid"] = model.decode(self.latents(model.latent_dim))
        out["loss"] = float(model.history[-1])
        out["active_dims"] = model.active_dims(self.reference)
        if origin is not None:
            out["origin_mu"] = origin.encode(images)[0]
        return out


def latent_spread(means: np.ndarray) -> np.ndarray:
    """Standard deviation of encoder means ``(..., m, latent_dim)``, all dimensions pooled: shape ``(...)``."""
    mu = np.asarray(means, dtype=np.float64)
    if mu.ndim < 2 or mu.shape[-2] * mu.shape[-1] < 2:
        raise ValueError(f"means must have shape (..., m, latent_dim) with at least two values, got {mu.shape}")
    return mu.reshape(*mu.shape[:-2], -1).std(axis=-1)


def latent_tail(means: np.ndarray, reference: np.ndarray, share: float = 0.02) -> np.ndarray:
    """Share of pooled encoder means ``(..., m, latent_dim)`` beyond the ``reference``'s central ``1 - share``.

    The bounds are the ``share / 2`` and ``1 - share / 2`` quantiles of the
    pooled ``reference`` values (generation 0's own codes), so the reference
    itself scores about ``share``.
    """
    share = validate.real("share", share, 0.0, 1.0, low_open=True, high_open=True)
    mu = np.asarray(means, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64).ravel()
    if mu.ndim < 2 or ref.size < 2:
        raise ValueError("means must have shape (..., m, latent_dim) and reference at least two values")
    lo, hi = np.quantile(ref, [share / 2, 1 - share / 2])
    pooled = mu.reshape(*mu.shape[:-2], -1)
    return ((pooled < lo) | (pooled > hi)).mean(axis=-1)
