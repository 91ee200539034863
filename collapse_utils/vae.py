"""Chapter 3: recursive training of variational autoencoders on handwritten digits.

Shumailov et al. train a variational autoencoder (VAE) :cite:`kingma2014vae` on
MNIST, then train the next VAE only on images that the previous one generates,
and so on. This module runs that recursion with the shared generational loop
(:func:`collapse_utils.schedules.run_generations`), so the paper's data
schedules and *retention* (keeping a share of real images every generation)
work as in the earlier chapters.

Data
----
:func:`load_images` returns an :class:`ImageData` (train and held-out test
images with their labels, values in ``[0, 1]``). ``source="auto"`` loads MNIST
(28 x 28) with the ``datasets`` library when the Hugging Face hub is reachable
and otherwise falls back to scikit-learn's handwritten digits (8 x 8, shipped
with scikit-learn, no download); it prints which path it took. Everything
downstream takes the image side from the data, so both run through the same
code.

Model
-----
:class:`VAE` is a fully connected VAE: the encoder maps the flattened image
through ``hidden`` ReLU layers to the mean and log-variance of a diagonal
Gaussian ``q(z | x)`` in ``latent_dim`` dimensions, the decoder maps ``z``
back through the same layers in reverse order to one logit per pixel, and the
likelihood ``p(x | z)`` is a product of Bernoulli distributions (binary
cross-entropy, which also accepts grey levels in ``[0, 1]``). The prior is
``N(0, I)``. Training maximises the evidence lower bound (ELBO) with Adam.

:func:`train_vae` is the ``fit`` of the loop: every generation trains a *fresh*
VAE (new random initialisation, as the paper trains each generation anew)
for ``epochs`` epochs. :meth:`FittedVAE.sample` is the ``sample`` of the loop:
latents ``z ~ N(0, I)`` are decoded, and the next generation trains on
``decode="bernoulli"`` (the default) one binary draw per pixel from the
decoder's Bernoulli distributions, i.e. a genuine sample ``x ~ p(x | z)`` of
the model, or on ``decode="mean"`` the decoder means ``E[x | z]`` (grey
levels). The means are the *expected* image, not a sample: they carry no
pixel noise, and training on them collapses much faster (the chapter shows
both).

Randomness: all sampling (latents, Bernoulli pixels, the data schedule) comes
from the run's numpy generator; each fit derives a torch seed from it for the
initialisation, the mini-batch order and the reparameterisation noise. A run
is therefore reproducible from its seed on a given device and thread count.

Measures
--------
A :class:`DigitClassifier` (a small MLP) is trained once on the real training
images; :class:`GenerationMeter` labels every generation's samples with it and
records

``class_hist``
    the share of samples assigned to each digit (argmax of the classifier);
``entropy``
    the entropy of that histogram in bits (``log2(10) = 3.32`` for ten equally
    frequent digits, 0 when every sample gets the same label);
``confidence``
    the classifier's mean maximum softmax probability: how much the samples
    look like *some* digit;
``frechet``
    the Frechet distance between Gaussians fitted to the classifier's
    penultimate-layer features of the samples and of real held-out images:
    the recipe of the FID (Frechet Inception distance), with our digit
    classifier in place of the Inception network (:func:`frechet_distance`);
``pixel_var``
    the total pixel variance of the samples (sum over pixels of the variance
    across samples): how diverse they are;
``active_dims``
    how many latent dimensions the encoder uses: dimensions whose encoder
    mean varies across the real held-out images with variance above 0.01
    (the "active units" of Burda et al.). A VAE that stops using a dimension
    ("posterior collapse") has one mode of variation less to generate;
``grid``
    a fixed set of latents (the same for every generation) decoded by the
    generation's decoder, for pictures like the paper's Figure 9.

:func:`run_vae_generations` ties it together and returns a :class:`VAERun`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .schedules import APPROACHES, check_approach, check_count, check_retention, run_generations
from .summaries import first_below
from .hub import hub_reachable

SOURCES = ("auto", "mnist", "digits")
DECODE_MODES = ("mean", "bernoulli")
N_CLASSES = 10
MNIST_ID = "ylecun/mnist"
"""The Hugging Face dataset that ``source="mnist"`` loads."""

METRICS: dict[str, str] = {
    "entropy": "entropy of the class histogram (bits)",
    "confidence": "classifier confidence (mean max probability)",
    "frechet": "Fréchet distance to real images (classifier features)",
    "pixel_var": "pixel variance of the samples, relative to real images",
    "active_dims": "active latent dimensions (encoder uses them)",
}
ACTIVE_THRESHOLD = 0.01
"""A latent dimension is active when its encoder mean varies more than this across real images."""


# ---------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class ImageData:
    """Grey-level images in ``[0, 1]`` with digit labels, split into train and test.

    ``x_train`` and ``x_test`` have shape ``(n, side, side)`` (``float32``);
    ``y_train`` and ``y_test`` hold the digits (``int64``). ``source`` is
    ``"mnist"`` or ``"digits"`` and ``note`` says how the data were chosen.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    note: str = ""

    @property
    def side(self) -> int:
        """Image side in pixels (28 for MNIST, 8 for the digits)."""
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    def describe(self) -> str:
        """One line: source, image size, split sizes."""
        name = "MNIST" if self.source == "mnist" else "scikit-learn digits"
        return f"{name}: {self.side}x{self.side} images, {self.n_train} for training, {self.n_test} held out"


def check_images(images: Any, side: int | None = None, name: str = "images") -> np.ndarray:
    """Validate a stack of square grey-level images and return it as ``float32``.

    Accepts an array of shape ``(n, side, side)`` with ``n >= 1`` and finite
    values in ``[0, 1]``; ``side``, when given, must match.

    Raises
    ------
    ValueError
        For any other shape, an empty stack, or values outside ``[0, 1]``.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 3 or x.shape[1] != x.shape[2]:
        raise ValueError(f"{name} must have shape (n, side, side) (square images), got {x.shape}")
    if side is not None and x.shape[1] != side:
        raise ValueError(f"{name} must be {side}x{side} images, got {x.shape[1]}x{x.shape[2]}")
    if x.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one image, got {x.shape[0]}")
    if x.shape[1] < 1:
        raise ValueError(f"{name} must have at least one pixel, got shape {x.shape}")
    if not np.all(np.isfinite(x)) or x.min() < 0.0 or x.max() > 1.0:
        raise ValueError(f"{name} must hold finite values in [0, 1], got range [{x.min()}, {x.max()}]")
    return x


def _subsample(x: np.ndarray, y: np.ndarray, limit: int | None, rng: np.random.Generator):
    if limit is None or limit >= len(x):
        return x, y
    idx = np.sort(rng.choice(len(x), size=limit, replace=False))
    return x[idx], y[idx]


def _load_mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from datasets import load_dataset

    ds = load_dataset(MNIST_ID)

    def arrays(split) -> tuple[np.ndarray, np.ndarray]:
        x = np.stack([np.asarray(im, dtype=np.uint8) for im in split["image"]]).astype(np.float32) / 255.0
        return x, np.asarray(split["label"], dtype=np.int64)

    return (*arrays(ds["train"]), *arrays(ds["test"]))


def _load_digits(test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)  # 17 grey levels 0..16
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    return x_tr, y_tr, x_te, y_te


def load_images(
    source: str = "auto",
    max_train: int | None = None,
    max_test: int | None = None,
    seed: int = 0,
    test_fraction: float = 0.25,
    verbose: bool = True,
) -> ImageData:
    """Load handwritten digits: MNIST when possible, scikit-learn's digits otherwise.

    Parameters
    ----------
    source:
        ``"mnist"`` (MNIST through ``datasets``; errors propagate),
        ``"digits"`` (scikit-learn's 8 x 8 digits, 1797 images, split
        stratified into train and test by ``test_fraction``) or ``"auto"``
        (MNIST if the hub is reachable and loading works, else the digits).
    max_train, max_test:
        Optional caps on the split sizes (a seeded random subset).
    seed:
        Seed of the digits split and of the subsets.
    verbose:
        Print which data were loaded and why.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    for name, value in (("max_train", max_train), ("max_test", max_test)):
        if value is not None:
            check_count(name, value, 1)
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")

    arrays = None
    mnist_note = "MNIST loaded from the Hugging Face hub (as in the paper)"
    if source == "mnist":
        arrays, used, note = _load_mnist(), "mnist", mnist_note
    elif source == "auto":
        if not hub_reachable():
            note = (
                "the Hugging Face hub is not reachable, so this chapter uses scikit-learn's 8x8 digits "
                "instead of the paper's MNIST (same code; run it where the hub is reachable, e.g. on "
                "Colab, for MNIST)"
            )
        else:
            try:
                arrays, used, note = _load_mnist(), "mnist", mnist_note
            except Exception as error:  # any network or format problem: fall back, and say so
                note = (
                    f"loading MNIST failed ({type(error).__name__}: {str(error)[:120]}), so this chapter "
                    "uses scikit-learn's 8x8 digits instead"
                )
    else:
        note = "scikit-learn's 8x8 digits, as requested"
    if arrays is None:
        arrays, used = _load_digits(test_fraction, seed), "digits"
    x_tr, y_tr, x_te, y_te = arrays
    rng = np.random.default_rng(seed)
    x_tr, y_tr = _subsample(x_tr, y_tr, max_train, rng)
    x_te, y_te = _subsample(x_te, y_te, max_test, rng)
    data = ImageData(
        check_images(x_tr, name="training images"),
        y_tr,
        check_images(x_te, name="test images"),
        y_te,
        used,
        note,
    )
    if verbose:
        print(f"data: {data.describe()}\n      ({note})")
    return data


def tile_images(images: np.ndarray, ncols: int | None = None, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """Arrange ``(n, side, side)`` images in a mosaic (rows of ``ncols``), separated by ``pad`` pixels."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 3 or x.shape[0] < 1:
        raise ValueError(f"images must have shape (n, side, side) with n >= 1, got {x.shape}")
    n, h, w = x.shape
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    check_count("ncols", ncols, 1)
    nrows = int(np.ceil(n / ncols))
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), fill, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = x[i]
    return out


# ---------------------------------------------------------------------------
# torch helpers


def torch_seed(seed: int | np.random.Generator) -> int:
    """An integer torch seed: ``seed`` itself, or drawn from a numpy generator."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**62))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer or a numpy Generator, got {seed!r}")
    return int(seed)


def _batches(n: int, batch_size: int, generator: torch.Generator) -> Iterable[torch.Tensor]:
    perm = torch.randperm(n, generator=generator)
    return perm.split(batch_size)


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


# ---------------------------------------------------------------------------
# the VAE


@dataclass(frozen=True)
class VAEConfig:
    """Architecture and training settings of every generation's VAE.

    Parameters
    ----------
    latent_dim:
        Dimension of the latent space (prior ``N(0, I)``).
    hidden:
        Widths of the encoder's hidden layers (the decoder mirrors them).
    epochs, batch_size, lr:
        Adam training of each fresh VAE.
    beta:
        Weight of the KL term in the loss (1 is the ELBO).
    decode:
        What the next generation trains on: ``"bernoulli"`` (one binary draw
        per pixel from the decoder's distributions: a sample of the model) or
        ``"mean"`` (the decoder means, grey levels).
    device:
        ``"cpu"`` or ``"cuda"``.
    """

    latent_dim: int = 8
    hidden: tuple[int, ...] = (256, 128)
    epochs: int = 60
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0
    decode: str = "bernoulli"
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_count("latent_dim", self.latent_dim, 1)
        check_count("epochs", self.epochs, 1)
        check_count("batch_size", self.batch_size, 1)
        hidden = tuple(self.hidden)
        if not hidden:
            raise ValueError("hidden must list at least one layer width")
        for width in hidden:
            check_count("hidden layer width", width, 1)
        object.__setattr__(self, "hidden", tuple(int(w) for w in hidden))
        for name in ("lr", "beta"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.decode not in DECODE_MODES:
            raise ValueError(f"decode must be one of {', '.join(DECODE_MODES)}, got {self.decode!r}")
        if not (self.device == "cpu" or str(self.device).startswith("cuda")):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {self.device!r}")


class VAE(nn.Module):
    """A fully connected VAE for ``side x side`` images (see the module docstring)."""

    def __init__(self, side: int, latent_dim: int = 8, hidden: Sequence[int] = (256, 128)) -> None:
        super().__init__()
        self.side = check_count("side", side, 1)
        self.latent_dim = check_count("latent_dim", latent_dim, 1)
        pixels = side * side
        self.encoder = _mlp([pixels, *hidden, 2 * latent_dim])
        self.decoder = _mlp([latent_dim, *reversed(tuple(hidden)), pixels])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of ``q(z | x)`` for flattened images ``x`` of shape ``(b, side**2)``."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits of ``p(x | z)``, shape ``(b, side**2)``."""
        return self.decoder(z)

    def loss(
        self, x: torch.Tensor, noise: torch.Tensor, beta: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Negative ELBO terms per image, averaged over the batch: (reconstruction, KL).

        ``noise`` is the standard normal noise of the reparameterisation trick,
        ``z = mu + sigma * noise``, passed in so that the caller controls the
        random numbers.
        """
        mu, logvar = self.encode(x)
        z = mu + noise * torch.exp(0.5 * logvar)
        rec = F.binary_cross_entropy_with_logits(self.decode_logits(z), x, reduction="sum") / x.shape[0]
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
        return rec, beta * kl


@dataclass
class FittedVAE:
    """A trained VAE with what is needed to sample from it.

    ``history`` holds the mean training loss (negative ELBO, nats per image)
    of every epoch.
    """

    model: VAE
    config: VAEConfig
    history: np.ndarray

    @property
    def side(self) -> int:
        return self.model.side

    @property
    def latent_dim(self) -> int:
        return self.model.latent_dim

    @torch.no_grad()
    def decode(self, z: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Decoder means (images in ``[0, 1]``) of latents ``z`` of shape ``(m, latent_dim)``."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (m, {self.latent_dim}), got {z.shape}")
        out = np.empty((len(z), self.side * self.side), dtype=np.float32)
        self.model.eval()
        for start in range(0, len(z), chunk):
            zt = torch.from_numpy(z[start : start + chunk]).to(self.config.device)
            out[start : start + chunk] = torch.sigmoid(self.model.decode_logits(zt)).cpu().numpy()
        return out.reshape(len(z), self.side, self.side)

    @torch.no_grad()
    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """Decoder means at the encoder means of ``images`` (the VAE's reconstructions)."""
        x = check_images(images, side=self.side)
        xt = torch.from_numpy(x.reshape(len(x), -1)).to(self.config.device)
        self.model.eval()
        mu, _ = self.model.encode(xt)
        return torch.sigmoid(self.model.decode_logits(mu)).cpu().numpy().reshape(x.shape)

    @torch.no_grad()
    def active_dims(self, images: np.ndarray, threshold: float = ACTIVE_THRESHOLD) -> int:
        """Latent dimensions whose encoder mean varies across ``images`` with variance above ``threshold``."""
        x = check_images(images, side=self.side)
        self.model.eval()
        mu, _ = self.model.encode(torch.from_numpy(x.reshape(len(x), -1)).to(self.config.device))
        return int((mu.var(dim=0) > threshold).sum())

    def sample(self, m: int, rng: np.random.Generator, decode: str | None = None) -> np.ndarray:
        """``m`` generated images: latents ``z ~ N(0, I)`` decoded by the decoder.

        ``decode`` (default: the config's) is ``"mean"`` for the decoder means
        or ``"bernoulli"`` for one binary draw per pixel from them. ``m = 0``
        returns an empty stack (the data schedule asks for no samples when
        every training image is real). All randomness comes from ``rng``.
        """
        m = check_count("m", m, 0)
        decode = self.config.decode if decode is None else decode
        if decode not in DECODE_MODES:
            raise ValueError(f"decode must be one of {', '.join(DECODE_MODES)}, got {decode!r}")
        z = rng.standard_normal((m, self.latent_dim)).astype(np.float32)
        images = self.decode(z)
        if decode == "bernoulli":
            images = (rng.random(images.shape, dtype=np.float32) < images).astype(np.float32)
        return images


def train_vae(
    images: np.ndarray, config: VAEConfig = VAEConfig(), seed: int | np.random.Generator = 0
) -> FittedVAE:
    """Train a fresh VAE on ``images`` (``(n, side, side)`` in ``[0, 1]``).

    The initialisation, the mini-batch order and the reparameterisation noise
    come from a torch seed derived from ``seed`` (an integer, or a numpy
    generator that is advanced by one draw), so equal seeds give equal models
    on the same device and thread count. The global torch random state is left
    untouched.
    """
    x = check_images(images)
    if not isinstance(config, VAEConfig):
        raise ValueError(f"config must be a VAEConfig, got {type(config).__name__}")
    s = torch_seed(seed)
    device = torch.device(config.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(s)
        model = VAE(x.shape[1], config.latent_dim, config.hidden).to(device)
    order = torch.Generator().manual_seed(s + 1)
    noise_gen = torch.Generator(device=device).manual_seed(s + 2)
    data = torch.from_numpy(x.reshape(len(x), -1)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    history = np.empty(config.epochs)
    model.train()
    for epoch in range(config.epochs):
        total = 0.0
        for idx in _batches(len(data), config.batch_size, order):
            batch = data[idx.to(device)]
            noise = torch.randn(
                (len(batch), config.latent_dim), generator=noise_gen, device=device, dtype=batch.dtype
            )
            rec, kl = model.loss(batch, noise, config.beta)
            loss = rec + kl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(batch)
        history[epoch] = total / len(data)
    model.eval()
    return FittedVAE(model, config, history)


# ---------------------------------------------------------------------------
# the classifier and the measures


class _ClassifierNet(nn.Module):
    def __init__(self, pixels: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.body = nn.Sequential(*_mlp([pixels, *hidden]), nn.ReLU())
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

    net: _ClassifierNet
    side: int
    device: str
    test_accuracy: float

    @torch.no_grad()
    def _forward(self, images: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
        x = check_images(images, side=self.side)
        flat = x.reshape(len(x), -1)
        probs, feats = [], []
        self.net.eval()
        for start in range(0, len(flat), chunk):
            logits, f = self.net(torch.from_numpy(flat[start : start + chunk]).to(self.device))
            probs.append(torch.softmax(logits, dim=-1).cpu().numpy())
            feats.append(f.cpu().numpy())
        return np.concatenate(probs).astype(np.float64), np.concatenate(feats).astype(np.float64)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities, shape ``(m, 10)``."""
        return self._forward(images)[0]

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Predicted digits, shape ``(m,)``."""
        return self.predict_proba(images).argmax(axis=1)

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate-layer features, shape ``(m, hidden[-1])``."""
        return self._forward(images)[1]


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
    """Train the digit classifier on ``data.x_train`` and report its accuracy on ``data.x_test``."""
    check_count("epochs", epochs, 1)
    check_count("batch_size", batch_size, 1)
    hidden = tuple(int(check_count("hidden layer width", w, 1)) for w in hidden)
    if not hidden:
        raise ValueError("hidden must list at least one layer width")
    x = check_images(data.x_train, name="training images")
    y = torch.as_tensor(np.asarray(data.y_train, dtype=np.int64))
    if len(y) != len(x) or y.min() < 0 or y.max() >= N_CLASSES:
        raise ValueError("y_train must hold one digit label in 0..9 per training image")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _ClassifierNet(x.shape[1] ** 2, hidden).to(device)
    order = torch.Generator().manual_seed(seed + 1)
    xt = torch.from_numpy(x.reshape(len(x), -1)).to(device)
    yt = y.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    net.train()
    for _ in range(epochs):
        for idx in _batches(len(xt), batch_size, order):
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
    """Entropy in bits of class histograms (last axis; normalised first)."""
    h = np.asarray(hist, dtype=float)
    if np.any(h < 0):
        raise ValueError("a histogram cannot have negative entries")
    total = h.sum(axis=-1, keepdims=True)
    if np.any(total <= 0):
        raise ValueError("a histogram must have a positive total")
    p = h / total
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(p), 0.0)
    return terms.sum(axis=-1)


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (``(d,)``, ``(d, d)``) of features ``(m, d)``, ``m >= 2``."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must have shape (m, d) with m >= 2, got {f.shape}")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Squared 2-Wasserstein (Frechet) distance between two Gaussians.

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
        Real held-out images: the reference of the Frechet distance and of the
        pixel variance.
    n_eval:
        Samples drawn from every generation for the measures (``>= 2``).
    grid:
        How many fixed latents to decode for pictures (``>= 1``).
    seed:
        Seed of the evaluation samples (one stream per generation, independent
        of the training) and of the fixed latents.

    The samples are decoder means, whatever the training uses: the images
    that a generation *draws*, which the classifier can judge.
    """

    def __init__(
        self,
        classifier: DigitClassifier,
        reference: np.ndarray,
        n_eval: int = 1000,
        grid: int = 64,
        seed: int = 0,
    ) -> None:
        self.classifier = classifier
        self.n_eval = check_count("n_eval", n_eval, 2)
        self.grid = check_count("grid", grid, 1)
        self.seed = torch_seed(seed)
        ref = check_images(reference, side=classifier.side, name="reference images")
        if len(ref) < 2:
            raise ValueError("reference must hold at least two images")
        self.reference = ref
        self.ref_mu, self.ref_cov = feature_stats(classifier.features(ref))
        self.ref_pixel_var = float(ref.reshape(len(ref), -1).var(axis=0).sum())

    def measure_images(self, images: np.ndarray) -> dict[str, Any]:
        """The measures (all but ``grid`` and ``loss``) of a stack of images."""
        x = check_images(images, side=self.classifier.side)
        if len(x) < 2:
            raise ValueError("need at least two images to measure")
        probs, feats = self.classifier._forward(x)
        hist = np.bincount(probs.argmax(axis=1), minlength=N_CLASSES) / len(x)
        mu, cov = feature_stats(feats)
        return {
            "class_hist": hist,
            "entropy": float(class_entropy(hist)),
            "confidence": float(probs.max(axis=1).mean()),
            "frechet": frechet_distance(mu, cov, self.ref_mu, self.ref_cov),
            "pixel_var": float(x.reshape(len(x), -1).var(axis=0).sum()) / self.ref_pixel_var,
        }

    def __call__(self, model: FittedVAE, generation: int) -> dict[str, Any]:
        rng = np.random.default_rng([self.seed, int(generation)])
        out = self.measure_images(model.sample(self.n_eval, rng, decode="mean"))
        latents = np.random.default_rng([self.seed, 10**6]).standard_normal((self.grid, model.latent_dim))
        out["grid"] = model.decode(latents)
        out["loss"] = float(model.history[-1])
        out["active_dims"] = model.active_dims(self.reference)
        return out


# ---------------------------------------------------------------------------
# the recursion


@dataclass
class VAERun:
    """One run of the VAE recursion, generation by generation (index = generation)."""

    retention: float
    approach: int
    seed: int
    config: VAEConfig
    side: int
    class_hist: np.ndarray  # (G + 1, 10)
    entropy: np.ndarray  # (G + 1,)
    confidence: np.ndarray
    frechet: np.ndarray
    pixel_var: np.ndarray
    active_dims: np.ndarray
    loss: np.ndarray
    grid: np.ndarray  # (G + 1, k, side, side)
    composition: list[dict[str, int]]
    models: dict[int, FittedVAE] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def generations(self) -> int:
        """The last generation (the run has ``generations + 1`` models)."""
        return len(self.entropy) - 1

    @property
    def generation(self) -> np.ndarray:
        return np.arange(self.generations + 1)

    def original_share(self) -> np.ndarray:
        """Share of real images in every generation's training set."""
        return np.array([c["original"] / (c["original"] + c["synthetic"]) for c in self.composition])

    def vanished(self, level: float = 0.01) -> dict[int, int | None]:
        """For every digit, the first generation with less than ``level`` of the samples (``None``: never)."""
        return {d: first_below(self.class_hist[:, d], level) for d in range(N_CLASSES)}

    def describe_vanishing(self, level: float = 0.01) -> str:
        """One line: the digits in the order they first fall below ``level``, and the survivors."""
        gone = self.vanished(level)
        order = sorted((g, d) for d, g in gone.items() if g is not None)
        lost = ", ".join(f"{d} (gen {g})" for g, d in order) or "none"
        kept = ", ".join(str(d) for d, g in gone.items() if g is None) or "none"
        final = ", ".join(f"{d}: {100 * p:.0f}%" for d, p in enumerate(self.class_hist[-1]) if p >= 0.05)
        return f"lost: {lost}; never lost: {kept}; last generation: {final}"


def run_vae_generations(
    images: np.ndarray,
    generations: int,
    meter: GenerationMeter,
    config: VAEConfig = VAEConfig(),
    retention: float = 0.0,
    approach: int = 1,
    seed: int = 0,
    keep_models: bool | Sequence[int] = False,
    progress: bool | str = False,
) -> VAERun:
    """Run the recursion: generation 0 trains on ``images``, each later one on the previous one's samples.

    Each later generation trains a fresh VAE on as many images as the real
    training set holds, built by the data schedule ``approach`` from samples
    of the previous generation (``config.decode``) and, with ``retention > 0``,
    a fresh random share of real images (see
    :mod:`collapse_utils.schedules`). Every generation is measured by
    ``meter``. All arguments are validated before any training.
    """
    x = check_images(images, name="training images")
    generations = check_count("generations", generations, 0)
    retention = check_retention(retention)
    approach = check_approach(approach)
    if not isinstance(meter, GenerationMeter):
        raise ValueError(f"meter must be a GenerationMeter, got {type(meter).__name__}")
    if meter.classifier.side != x.shape[1]:
        raise ValueError(
            f"the meter's classifier expects {meter.classifier.side}-pixel images, got {x.shape[1]}"
        )
    if not isinstance(config, VAEConfig):
        raise ValueError(f"config must be a VAEConfig, got {type(config).__name__}")
    seed = torch_seed(seed)
    start = time.perf_counter()
    records = run_generations(
        fit=lambda data, rng: train_vae(data, config, rng),
        sample=lambda model, m, rng: model.sample(m, rng),
        original=x,
        generations=generations,
        approach=approach,
        retention=retention,
        seed=seed,
        measure=meter,
        keep_models=keep_models,
        progress=progress,
    )

    def stack(key: str) -> np.ndarray:
        return np.array([r.metrics[key] for r in records])

    return VAERun(
        retention=retention,
        approach=approach,
        seed=seed,
        config=config,
        side=x.shape[1],
        class_hist=stack("class_hist"),
        entropy=stack("entropy"),
        confidence=stack("confidence"),
        frechet=stack("frechet"),
        pixel_var=stack("pixel_var"),
        active_dims=stack("active_dims"),
        loss=stack("loss"),
        grid=stack("grid").astype(np.float32),
        composition=[dict(r.composition) for r in records],
        models={r.generation: r.model for r in records if r.model is not None},
        seconds=time.perf_counter() - start,
    )


# ---------------------------------------------------------------------------
# plots


def plot_images(images: np.ndarray, ax=None, ncols: int | None = None, title: str | None = None):
    """Show a stack of images as one grey mosaic (white background, dark strokes)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    ax.imshow(
        tile_images(images, ncols=ncols, fill=0.0), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest"
    )
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_sample_grids(
    run: VAERun,
    generations: Sequence[int],
    real: np.ndarray | None = None,
    n: int = 36,
    panel: float = 2.6,
    ncols: int | None = None,
):
    """The paper's Figure 9: random samples (decoder means) of several generations.

    Every panel decodes the same fixed latents; as each generation is a VAE
    trained from scratch, its latent space has nothing to do with the previous
    one's, so the panels are simply random samples. With ``real`` images, a
    first panel shows ``n`` of them. ``ncols`` wraps the panels into rows.
    Returns the figure.
    """
    import matplotlib.pyplot as plt

    generations = [int(g) for g in generations]
    for g in generations:
        if not 0 <= g <= run.generations:
            raise ValueError(f"generation must be in 0..{run.generations}, got {g}")
    panels = ([("real images", real[:n])] if real is not None else []) + [
        (f"generation {g}", run.grid[g, :n]) for g in generations
    ]
    ncols = ncols or len(panels)
    nrows = int(np.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel * ncols, (panel + 0.3) * nrows), squeeze=False)
    for ax, (title, images) in zip(axes.flat, panels):
        plot_images(images, ax=ax, title=title)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    return fig


def plot_class_heatmap(run: VAERun, ax=None, colorbar: bool = True):
    """Share of samples per digit (rows) and generation (columns) as a heat map."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    im = ax.imshow(
        run.class_hist.T * 100,
        aspect="auto",
        origin="lower",
        cmap="magma",
        vmin=0,
        vmax=max(30.0, float(run.class_hist.max() * 100)),
        interpolation="nearest",
    )
    ax.set(xlabel="generation", ylabel="digit (classifier's label)", yticks=range(N_CLASSES))
    integer_ticks(ax)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="% of samples")
    return ax


def integer_ticks(ax) -> None:
    """Whole numbers only on the x axis (generations)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_band(ax, x: np.ndarray, curves: np.ndarray, color: str, label: str | None = None) -> None:
    """Median of ``curves`` (runs along axis 0) and, for several runs, their min-max band."""
    curves = np.atleast_2d(curves)
    ax.plot(x, np.median(curves, axis=0), color=color, lw=2, label=label)
    if len(curves) > 1:
        ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color=color, alpha=0.2, lw=0)


def plot_metrics(
    groups: Mapping[str, Sequence[VAERun]],
    real: Mapping[str, float] | None = None,
    axes=None,
    metrics: Sequence[str] = ("entropy", "confidence", "frechet", "pixel_var"),
):
    """One panel per measure; one median line (and min-max band) per group of runs.

    ``real`` holds the measures of real images (dashed reference lines).
    Returns the axes.
    """
    import matplotlib.pyplot as plt

    for m in metrics:
        if m not in METRICS:
            raise ValueError(f"unknown metric {m!r}; choose from {', '.join(METRICS)}")
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4))
    axes = np.atleast_1d(axes)
    for i, (label, runs) in enumerate(groups.items()):
        runs = list(runs)
        for ax, m in zip(axes, metrics):
            plot_band(ax, runs[0].generation, np.array([getattr(r, m) for r in runs]), f"C{i}", label)
    for ax, m in zip(axes, metrics):
        if real is not None and m in real:
            ax.axhline(real[m], color="k", ls="--", lw=1, label="real images")
        ax.set(xlabel="generation", title=METRICS[m])
        ax.title.set_fontsize(9)
        integer_ticks(ax)
    if "frechet" in metrics:
        axes[list(metrics).index("frechet")].set_yscale("log")
    axes[0].legend(fontsize=8)
    return axes


def plot_generation(
    runs: Mapping[float, VAERun],
    retention: float,
    generation: int,
    show: str = "samples",
    ax=None,
):
    """The slider's view: generation ``generation`` of the stored run with ``retention``.

    ``show="samples"`` draws the decoded fixed latents (as in
    :func:`plot_sample_grids`); ``show="classes"`` draws the class histogram
    of that generation's samples, over the histogram of generation 0 (grey).
    Nothing is trained: the runs were computed beforehand.
    """
    import matplotlib.pyplot as plt

    if show not in ("samples", "classes"):
        raise ValueError(f"show must be 'samples' or 'classes', got {show!r}")
    key = next((r for r in runs if np.isclose(r, float(retention))), None)
    if key is None:
        raise ValueError(f"no stored run with retention {retention!r}; stored: {sorted(runs)}")
    run = runs[key]
    if isinstance(generation, bool) or not 0 <= int(generation) <= run.generations:
        raise ValueError(f"generation must be in 0..{run.generations}, got {generation!r}")
    g = int(generation)
    ax = ax or plt.gca()
    if show == "samples":
        plot_images(run.grid[g, :36], ax=ax)
        ax.set_xlabel(f"entropy {run.entropy[g]:.2f} bits, confidence {run.confidence[g]:.2f}", fontsize=9)
    else:
        digits = np.arange(N_CLASSES)
        ax.bar(digits, run.class_hist[0] * 100, color="0.85", width=0.85, label="generation 0")
        ax.bar(digits, run.class_hist[g] * 100, color="C0", width=0.5, label=f"generation {g}")
        ax.set(xticks=digits, xlabel="digit (classifier's label)", ylabel="% of samples")
        ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"retention {key:g}, generation {g}", fontsize=10)
    return ax


__all__ = [
    "APPROACHES",
    "DECODE_MODES",
    "METRICS",
    "SOURCES",
    "VAE",
    "DigitClassifier",
    "FittedVAE",
    "GenerationMeter",
    "ImageData",
    "VAEConfig",
    "VAERun",
    "check_images",
    "class_entropy",
    "feature_stats",
    "frechet_distance",
    "hub_reachable",
    "load_images",
    "plot_class_heatmap",
    "plot_generation",
    "plot_images",
    "plot_metrics",
    "plot_sample_grids",
    "run_vae_generations",
    "tile_images",
    "train_classifier",
    "train_vae",
]
