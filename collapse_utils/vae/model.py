"""The VAE of chapter 3, trained one at a time or many at once.

:class:`VAE` is a fully connected VAE: the encoder maps the flattened image
through ``hidden`` ReLU layers to the mean and log-variance of a diagonal
Gaussian ``q(z | x)`` in ``latent_dim`` dimensions, the decoder maps ``z`` back
through the same widths in reverse order to one logit per pixel, and the
likelihood ``p(x | z)`` is a product of Bernoulli distributions (binary
cross-entropy, which also accepts grey levels in ``[0, 1]``). The prior is
``N(0, I)``. Training minimises the negative evidence lower bound (ELBO) with Adam.

:func:`train_vae` trains one fresh VAE; :func:`train_vaes` trains several
(one per seed, each on its own images) *together*: their weights are stacked
along a leading axis (:class:`StackedVAE`) and every layer is one batched
matrix product (``torch.baddbmm``). Each VAE in the stack is exactly the model
and optimiser it would be alone: the same initialisation (drawn from its own
seed), the same mini-batches and reparameterisation noise (its own
generators), its own loss; the summed loss gives each VAE the gradient of its
own loss, and Adam is elementwise, so one Adam over the stacked weights is one
Adam per VAE. Only the order of floating-point sums differs.

:meth:`FittedVAE.sample` generates: latents ``z ~ N(0, I)`` are decoded and,
with ``decode="bernoulli"``, each pixel is one binary draw from the decoder's
Bernoulli distribution (a genuine sample ``x ~ p(x | z)`` of the model); with
``decode="mean"`` the images are the decoder means ``E[x | z]`` (grey levels,
the *expected* image, not a sample).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import validate
from .data import check_images

DECODE_MODES = ("bernoulli", "mean")
ACTIVE_THRESHOLD = 0.01
"""A latent dimension is active when its encoder mean varies more than this across real images."""


def torch_seed(seed: int | np.integer | np.random.Generator) -> int:
    """An integer torch seed: ``seed`` itself (an integer >= 0), or one draw from a numpy generator."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**62))
    return validate.integer("seed", seed, 0)


def check_device(device: str) -> str:
    """``"cpu"``, or ``"cuda"``/``"cuda:N"`` where torch sees a CUDA device.

    Raises
    ------
    ValueError
        For any other string, or a CUDA device on a machine without one.
    """
    if not isinstance(device, str) or not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
        raise ValueError(f"device must be 'cpu' or 'cuda' (a CUDA GPU), got {device!r}")
    if device != "cpu" and not torch.cuda.is_available():
        raise ValueError(
            f"device must be 'cpu' on this machine (torch sees no CUDA GPU; 'cuda' only where one is present), "
            f"got {device!r}"
        )
    return device


def batches(n: int, batch_size: int, generator: torch.Generator) -> Iterable[torch.Tensor]:
    """One epoch's mini-batches: a random permutation of ``range(n)`` split into chunks of ``batch_size``."""
    return torch.randperm(n, generator=generator).split(batch_size)


def mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers of the given widths with ReLUs between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class VAEConfig:
    """Architecture and training settings of every generation's VAE.

    Parameters
    ----------
    latent_dim:
        Dimension of the latent space (prior ``N(0, I)``), ``>= 1``.
    hidden:
        Widths of the encoder's hidden layers (the decoder mirrors them), each ``>= 1``.
    epochs, batch_size, lr:
        Adam training of each fresh VAE (``epochs >= 1``, ``batch_size >= 1``, ``lr > 0``).
    beta:
        Weight of the KL term in the loss (``> 0``; 1 is the ELBO).
    decode:
        What the next generation trains on: ``"bernoulli"`` (one binary draw
        per pixel from the decoder's distributions: a sample of the model) or
        ``"mean"`` (the decoder means, grey levels).
    device:
        ``"cpu"``, or ``"cuda"`` where a CUDA GPU is present (checked here, not at training time).
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
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 - frozen dataclass
        set_("latent_dim", validate.integer("latent_dim", self.latent_dim, 1))
        set_("epochs", validate.integer("epochs", self.epochs, 1))
        set_("batch_size", validate.integer("batch_size", self.batch_size, 1))
        if isinstance(self.hidden, (str, bytes)) or not isinstance(self.hidden, Iterable):
            raise ValueError(f"hidden must be a sequence of layer widths >= 1, got {self.hidden!r}")
        hidden = tuple(self.hidden)
        if not hidden:
            raise ValueError("hidden must list at least one layer width >= 1, got ()")
        set_("hidden", tuple(validate.integer_list("hidden", hidden, 1)))
        set_("lr", validate.real("lr", self.lr, 0.0, low_open=True))
        set_("beta", validate.real("beta", self.beta, 0.0, low_open=True))
        set_("decode", validate.choice("decode", self.decode, DECODE_MODES))
        set_("device", check_device(self.device))


class VAE(nn.Module):
    """A fully connected VAE for ``side x side`` images (see the module docstring)."""

    def __init__(self, side: int, latent_dim: int = 8, hidden: Sequence[int] = (256, 128)) -> None:
        super().__init__()
        self.side = validate.integer("side", side, 1)
        self.latent_dim = validate.integer("latent_dim", latent_dim, 1)
        hidden = validate.integer_list("hidden", hidden, 1)
        pixels = side * side
        self.encoder = mlp([pixels, *hidden, 2 * latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), pixels])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of ``q(z | x)`` for flattened images ``x`` of shape ``(b, side**2)``."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits of ``p(x | z)``, shape ``(b, side**2)``."""
        return self.decoder(z)

    def loss(self, x: torch.Tensor, noise: torch.Tensor, beta: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Negative ELBO terms per image, averaged over the batch: (reconstruction, ``beta`` x KL).

        ``noise`` is the standard normal noise of the reparameterisation trick,
        ``z = mu + sigma * noise`` with ``sigma = exp(logvar / 2)``, passed in so
        that the caller controls the random numbers. The KL term is the closed
        form ``KL(N(mu, sigma^2) || N(0, 1)) = (mu^2 + sigma^2 - 1 - log sigma^2) / 2``
        summed over latent dimensions.
        """
        mu, logvar = self.encode(x)
        return _elbo_terms(x, mu, logvar, noise, self.decode_logits, beta, dims=(0, 1))


def _elbo_terms(x, mu, logvar, noise, decode_logits, beta: float, dims) -> tuple[torch.Tensor, torch.Tensor]:
    """Reconstruction and ``beta`` x KL, summed over ``dims`` and divided by the batch size (axis -2)."""
    z = mu + noise * torch.exp(0.5 * logvar)
    per_pixel = F.binary_cross_entropy_with_logits(decode_logits(z), x, reduction="none")
    b = x.shape[-2]
    rec = per_pixel.sum(dim=dims) / b
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=dims) / b
    return rec, beta * kl


class StackedVAE(nn.Module):
    """``k`` VAEs of one architecture with their weights stacked along a leading axis.

    Layer ``i`` of VAE ``j`` is ``x @ weights[i][j] + biases[i][j]``; a forward
    pass of all ``k`` VAEs is one ``torch.baddbmm`` per layer. Built from (and
    unstacked back into) ordinary :class:`VAE` modules, so each member is exactly
    the VAE it would be alone.
    """

    def __init__(self, models: Sequence[VAE]) -> None:
        super().__init__()
        if not models:
            raise ValueError("models must hold at least one VAE, got none")
        first = models[0]
        shapes = [tuple(p.shape) for p in first.parameters()]
        for m in models:
            if not isinstance(m, VAE) or [tuple(p.shape) for p in m.parameters()] != shapes:
                raise ValueError("models must be VAEs of one architecture (same side, latent_dim and hidden)")
        self.side, self.latent_dim, self.k = first.side, first.latent_dim, len(models)
        self.enc_w, self.enc_b = self._stack([m.encoder for m in models])
        self.dec_w, self.dec_b = self._stack([m.decoder for m in models])

    @staticmethod
    def _stack(nets: Sequence[nn.Sequential]) -> tuple[nn.ParameterList, nn.ParameterList]:
        linears = [[layer for layer in net if isinstance(layer, nn.Linear)] for net in nets]
        weights, biases = nn.ParameterList(), nn.ParameterList()
        for i in range(len(linears[0])):
            weights.append(nn.Parameter(torch.stack([ls[i].weight.detach().t() for ls in linears]).contiguous()))
            biases.append(nn.Parameter(torch.stack([ls[i].bias.detach()[None, :] for ls in linears]).contiguous()))
        return weights, biases

    @staticmethod
    def _run(x: torch.Tensor, weights: nn.ParameterList, biases: nn.ParameterList) -> torch.Tensor:
        last = len(weights) - 1
        for i, (w, b) in enumerate(zip(weights, biases)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = torch.relu(x)
        return x

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means and log-variances, ``(k, b, latent_dim)`` each, of images ``(k, b, side**2)``."""
        mu, logvar = self._run(x, self.enc_w, self.enc_b).chunk(2, dim=-1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits ``(k, b, side**2)`` of latents ``(k, b, latent_dim)``."""
        return self._run(z, self.dec_w, self.dec_b)

    def loss(self, x: torch.Tensor, noise: torch.Tensor, beta: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-VAE reconstruction and ``beta`` x KL terms, each of shape ``(k,)`` (see :meth:`VAE.loss`)."""
        mu, logvar = self.encode(x)
        return _elbo_terms(x, mu, logvar, noise, self.decode_logits, beta, dims=(1, 2))

    @torch.no_grad()
    def unstack(self, j: int) -> VAE:
        """VAE number ``j`` as an ordinary :class:`VAE` (a copy of its weights)."""
        j = validate.integer("j", j, 0, self.k - 1)
        hidden = [w.shape[2] for w in self.enc_w[:-1]]
        with torch.random.fork_rng(devices=[]):  # the weights are overwritten: leave the global RNG alone
            model = VAE(self.side, self.latent_dim, hidden).to(self.enc_w[0].device)
        for net, weights, biases in ((model.encoder, self.enc_w, self.enc_b), (model.decoder, self.dec_w, self.dec_b)):
            for layer, w, b in zip([m for m in net if isinstance(m, nn.Linear)], weights, biases):
                layer.weight.copy_(w[j].t())
                layer.bias.copy_(b[j, 0])
        return model.eval()


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
    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Encoder means and log-variances, ``(m, latent_dim)`` each, of ``images``."""
        x = check_images(images, side=self.side)
        self.model.eval()
        mu, logvar = self.model.encode(torch.from_numpy(x.reshape(len(x), -1)).to(self.config.device))
        return mu.cpu().numpy(), logvar.cpu().numpy()

    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """Decoder means at the encoder means of ``images`` (the VAE's reconstructions)."""
        mu, _ = self.encode(images)
        return self.decode(mu)

    def active_dims(self, images: np.ndarray, threshold: float = ACTIVE_THRESHOLD) -> int:
        """Latent dimensions whose encoder mean varies across ``images`` with variance above ``threshold``.

        The "active units" of Burda et al.: a dimension the encoder does not use
        (posterior collapse) has the same mean for every image.
        """
        threshold = validate.real("threshold", threshold, 0.0)
        mu, _ = self.encode(images)
        if len(mu) < 2:
            raise ValueError(f"images must hold at least two images to measure a variance, got {len(mu)}")
        return int((mu.var(axis=0, ddof=1) > threshold).sum())

    def sample(self, m: int, rng: np.random.Generator, decode: str | None = None) -> np.ndarray:
        """``m`` generated images: latents ``z ~ N(0, I)`` decoded by the decoder.

        ``decode`` (default: the config's) is ``"mean"`` for the decoder means
        or ``"bernoulli"`` for one binary draw per pixel from them (pixel ``i``
        is 1 with probability ``mean_i``). ``m = 0`` returns an empty stack (the
        data schedule asks for no samples when every training image is real).
        All randomness comes from ``rng``: the latents first, then the pixel draws.
        """
        m = validate.integer("m", m, 0)
        decode = self.config.decode if decode is None else validate.choice("decode", decode, DECODE_MODES)
        z = rng.standard_normal((m, self.latent_dim)).astype(np.float32)
        images = self.decode(z)
        if decode == "bernoulli":
            images = (rng.random(images.shape, dtype=np.float32) < images).astype(np.float32)
        return images


def _check_config(config) -> VAEConfig:
    if not isinstance(config, VAEConfig):
        raise ValueError(f"config must be a VAEConfig, got {type(config).__name__}")
    return config


def adam(params, lr: float) -> torch.optim.Adam:
    """The optimiser of every VAE, alone or stacked: Adam with its defaults, in torch's fused implementation.

    The fused kernel computes the same elementwise update as the default one,
    several times faster on small tensors; both paths use it, so a stacked VAE
    and the same VAE alone take the same steps.
    """
    return torch.optim.Adam(params, lr=lr, fused=True)


def _fresh_vae(side: int, config: VAEConfig, seed: int) -> VAE:
    """The initialisation of a VAE trained with torch seed ``seed`` (global RNG left alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return VAE(side, config.latent_dim, config.hidden).to(torch.device(config.device))


def train_vae(
    images: np.ndarray, config: VAEConfig = VAEConfig(), seed: int | np.random.Generator = 0
) -> FittedVAE:
    """Train a fresh VAE on ``images`` (``(n, side, side)`` in ``[0, 1]``).

    The initialisation (torch seed ``s``), the mini-batch order (``s + 1``) and
    the reparameterisation noise (``s + 2``, one draw of shape ``(n, latent_dim)``
    per epoch, split into the mini-batches) come from a torch seed ``s``
    derived from ``seed`` (an integer, or a numpy generator that is advanced by
    one draw), so equal seeds give equal models on the same device and thread
    count. The global torch random state is left untouched.
    """
    x = check_images(images)
    config = _check_config(config)
    s = torch_seed(seed)
    device = torch.device(config.device)
    model = _fresh_vae(x.shape[1], config, s)
    order = torch.Generator().manual_seed(s + 1)
    noise_gen = torch.Generator(device=device).manual_seed(s + 2)
    data = torch.from_numpy(x.reshape(len(x), -1)).to(device)
    opt = adam(model.parameters(), config.lr)
    history = np.empty(config.epochs)
    model.train()
    for epoch in range(config.epochs):
        total = 0.0
        noises = torch.randn((len(data), config.latent_dim), generator=noise_gen, device=device, dtype=data.dtype)
        for idx, noise in zip(batches(len(data), config.batch_size, order), noises.split(config.batch_size)):
            batch = data[idx.to(device)]
            rec, kl = model.loss(batch, noise, config.beta)
            loss = rec + kl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(batch)
        history[epoch] = total / len(data)
    model.eval()
    return FittedVAE(model, config, history)


def train_vaes(
    images: np.ndarray | Sequence[np.ndarray],
    config: VAEConfig = VAEConfig(),
    seeds: Sequence[int | np.random.Generator] = (0,),
) -> list[FittedVAE]:
    """Train ``k = len(seeds)`` fresh VAEs together, VAE ``j`` on ``images[j]`` with seed ``seeds[j]``.

    ``images`` is ``(k, n, side, side)`` (or ``k`` stacks of the same shape):
    every VAE gets the same number of images, hence the same number of Adam
    steps. VAE ``j`` is the one :func:`train_vae` ``(images[j], config,
    seeds[j])`` would train, up to the order of floating-point sums (see the
    module docstring); the global torch random state is left untouched.
    """
    config = _check_config(config)
    if isinstance(seeds, (int, np.integer, np.random.Generator)) or not isinstance(seeds, Sequence) or not seeds:
        raise ValueError(f"seeds must be a non-empty sequence of seeds, got {seeds!r}")
    stacks = [check_images(x, name=f"images[{j}]") for j, x in enumerate(images)]
    if len(stacks) != len(seeds):
        raise ValueError(f"images must hold one stack per seed ({len(seeds)}), got {len(stacks)}")
    if len({x.shape for x in stacks}) != 1:
        raise ValueError(f"images must be stacks of one shape, got {sorted({x.shape for x in stacks})}")
    k, (n, side, _) = len(stacks), stacks[0].shape
    s = [torch_seed(seed) for seed in seeds]
    device = torch.device(config.device)
    model = StackedVAE([_fresh_vae(side, config, si) for si in s])
    orders = [torch.Generator().manual_seed(si + 1) for si in s]
    noise_gens = [torch.Generator(device=device).manual_seed(si + 2) for si in s]
    data = torch.from_numpy(np.stack(stacks).reshape(k * n, -1)).to(device)
    offsets = torch.arange(k, device=device)[:, None] * n  # row j of the stack starts at j * n
    opt = adam(model.parameters(), config.lr)
    history = np.empty((k, config.epochs))
    model.train()
    for epoch in range(config.epochs):
        index = torch.stack([torch.randperm(n, generator=g) for g in orders]).to(device)  # (k, n)
        noises = torch.stack(
            [torch.randn((n, config.latent_dim), generator=g, device=device, dtype=data.dtype) for g in noise_gens]
        )  # (k, n, latent_dim): each member's noise for the epoch, drawn as train_vae draws it
        epoch_data = data.index_select(0, (index + offsets).reshape(-1)).view(k, n, -1)  # the epoch's order
        losses = []
        for batch, noise in zip(epoch_data.split(config.batch_size, dim=1), noises.split(config.batch_size, dim=1)):
            rec, kl = model.loss(batch, noise, config.beta)  # batch: (k, b, pixels)
            per_model = rec + kl
            opt.zero_grad(set_to_none=True)
            per_model.sum().backward()  # each VAE's weights get the gradient of its own loss
            opt.step()
            losses.append(per_model.detach())
        sizes = torch.tensor([b.shape[1] for b in epoch_data.split(config.batch_size, dim=1)], dtype=torch.float64)
        history[:, epoch] = ((torch.stack(losses).cpu().double() * sizes[:, None]).sum(0) / n).numpy()
    model.eval()
    return [FittedVAE(model.unstack(j), config, history[j]) for j in range(k)]


def training_flops(config: VAEConfig, side: int, n_images: int) -> float:
    """Floating-point operations to train one VAE for ``config.epochs`` epochs on ``n_images`` images.

    Counts the matrix products only (2 FLOPs per multiply-add, forward pass
    plus a backward pass of twice its cost): ``6 * weights * n_images *
    epochs``, where ``weights`` counts the entries of the weight matrices. A
    rough guide for time estimates, not a measurement.
    """
    config = _check_config(config)
    side = validate.integer("side", side, 1)
    n_images = validate.integer("n_images", n_images, 1)
    enc = [side * side, *config.hidden, 2 * config.latent_dim]
    dec = [config.latent_dim, *reversed(config.hidden), side * side]
    weights = sum(a * b for sizes in (enc, dec) for a, b in zip(sizes[:-1], sizes[1:]))
    return 6.0 * weights * n_images * config.epochs
