"""The VAEs of chapter 3: configuration, training one at a time or many at once, sampling.

The networks live in :mod:`~collapse_utils.vae.nets`: the book's fully
connected :class:`VAE` (``arch="mlp"``) and the authors' convolutional shape
:class:`ConvVAE` (``arch="conv"``). The likelihood ``p(x | z)`` is a product
of Bernoulli distributions (binary cross-entropy, which also accepts grey
levels in ``[0, 1]``), the prior ``N(0, I)``; training minimises the negative
evidence lower bound (ELBO) with Adam, optionally with the authors' weight
decay and their loss summed over the batch instead of averaged
(:class:`VAEConfig`).

:func:`train_vae` trains one fresh VAE; :func:`train_vaes` trains several
(one per seed, each on its own images) *together*: their weights are stacked
along a leading axis (:func:`~collapse_utils.vae.nets.stack_vaes`) and every
layer is one batched operation. Each VAE in the stack is exactly the model
and optimiser it would be alone: the same initialisation (drawn from its own
seed), the same mini-batches and reparameterisation noise (its own
generators), its own loss; the summed loss gives each VAE the gradient of its
own loss, and Adam (weight decay included) is elementwise, so one Adam over
the stacked weights is one Adam per VAE. Only the order of floating-point sums
differs.

**Where the training images come from.** By default a VAE trains on a fixed
stack of images, seen once per epoch in a new random order (the book's
protocol: each generation gets ``n`` images drawn once from its
predecessor). With a *teacher* (``teacher=`` / ``teachers=``) every
mini-batch is instead drawn afresh from the teacher: new latents
``z ~ N(0, I)`` decoded by the teacher's decoder (its means, or one Bernoulli
draw per pixel, as the teacher's ``config.decode`` says). This is the
authors' protocol in ``VAE_experiments.ipynb`` (``train_vae_gen`` with
``sample_vae=True``): about ``n * epochs`` new images per generation, so the
finite sample of each generation (statistical approximation error) all but
disappears. The images passed alongside a teacher only set ``n``, the number
of images per epoch (the authors iterate over the real MNIST loader and
replace each batch by as many samples).

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

from .. import validate
from .data import check_images
from .nets import ARCHS, ConvVAE, StackedConvVAE, StackedVAE, VAE, check_conv_side, stack_vaes

DECODE_MODES = ("bernoulli", "mean")
REDUCTIONS = ("mean", "sum")
"""How a batch's loss is reduced: averaged over its images (the book's) or summed (the authors')."""
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


def permutation(n: int, generator: torch.Generator) -> torch.Tensor:
    """One epoch's order of ``n`` training images: a random permutation of ``range(n)``, new every call."""
    return torch.randperm(n, generator=generator)


def batches(n: int, batch_size: int, generator: torch.Generator) -> Iterable[torch.Tensor]:
    """One epoch's mini-batches: a random permutation of ``range(n)`` split into chunks of ``batch_size``."""
    return permutation(n, generator).split(batch_size)


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
    weight_decay:
        Adam's L2 weight decay (``>= 0``; torch's ``weight_decay``: ``weight_decay
        * w`` added to each gradient). The authors use ``1e-5``.
    reduction:
        ``"mean"``: each step minimises the loss averaged over the batch's
        images; ``"sum"``: summed over them, as the authors' ``vae_loss`` does.
        Adam is almost blind to the difference (it rescales the gradient), but
        weight decay is not: summing makes it ``batch_size`` times weaker
        relative to the loss. ``history`` is per image either way.
    arch:
        ``"mlp"``: the fully connected :class:`~collapse_utils.vae.nets.VAE`
        (``hidden`` gives its widths); ``"conv"``: the authors' convolutional
        shape :class:`~collapse_utils.vae.nets.ConvVAE` (``capacity`` gives its
        channels; ``hidden`` is not used; images of a side divisible by 4).
    capacity:
        Channels of the convolutional VAE's first layer (``>= 1``; the authors' 64).
    """

    latent_dim: int = 8
    hidden: tuple[int, ...] = (256, 128)
    epochs: int = 60
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0
    decode: str = "bernoulli"
    device: str = "cpu"
    weight_decay: float = 0.0
    reduction: str = "mean"
    arch: str = "mlp"
    capacity: int = 64

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
        set_("weight_decay", validate.real("weight_decay", self.weight_decay, 0.0))
        set_("reduction", validate.choice("reduction", self.reduction, REDUCTIONS))
        set_("arch", validate.choice("arch", self.arch, ARCHS))
        set_("capacity", validate.integer("capacity", self.capacity, 1))

    def build(self, side: int) -> VAE | ConvVAE:
        """A fresh VAE of this architecture for ``side``-pixel images (initialised by torch's global generator)."""
        if self.arch == "conv":
            return ConvVAE(check_conv_side(side), self.latent_dim, self.capacity)
        return VAE(side, self.latent_dim, self.hidden)


@dataclass
class FittedVAE:
    """A trained VAE with what is needed to sample from it.

    ``history`` holds the mean training loss (negative ELBO, nats per image)
    of every epoch; ``seed`` the torch seed it was trained with (``None`` when
    unknown), by which a recursion can check that a given generation 0 is the
    one it would train itself.
    """

    model: VAE | ConvVAE
    config: VAEConfig
    history: np.ndarray
    seed: int | None = None

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
        if self.model.training:
            self.model.eval()
        for start in range(0, len(z), chunk):
            zt = torch.from_numpy(z[start : start + chunk]).to(self.config.device)
            out[start : start + chunk] = torch.sigmoid(self.model.decode_logits(zt)).cpu().numpy()
        return out.reshape(len(z), self.side, self.side)

    @torch.no_grad()
    def encode(self, images: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """Encoder means and log-variances, ``(m, latent_dim)`` each, of ``images`` (in chunks of ``chunk``)."""
        x = check_images(images, side=self.side).reshape(len(images), -1)
        mu = np.empty((len(x), self.latent_dim), dtype=np.float32)
        logvar = np.empty_like(mu)
        if self.model.training:
            self.model.eval()
        for start in range(0, len(x), chunk):
            m, v = self.model.encode(torch.from_numpy(x[start : start + chunk]).to(self.config.device))
            mu[start : start + chunk], logvar[start : start + chunk] = m.cpu().numpy(), v.cpu().numpy()
        return mu, logvar

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


def adam(params, lr: float, weight_decay: float = 0.0) -> torch.optim.Adam:
    """The optimiser of every VAE, alone or stacked: Adam in torch's fused implementation.

    ``weight_decay`` is torch's (L2: ``weight_decay * w`` added to each
    gradient), elementwise like the rest of Adam. The fused kernel computes the
    same elementwise update as the default one, several times faster on small
    tensors; both paths use it, so a stacked VAE and the same VAE alone take the
    same steps.
    """
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)


def _fresh_vae(side: int, config: VAEConfig, seed: int) -> VAE | ConvVAE:
    """The initialisation of a VAE trained with torch seed ``seed`` (global RNG left alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return config.build(side).to(torch.device(config.device))


def _check_teacher(teacher, side: int, name: str = "teacher") -> FittedVAE:
    if not isinstance(teacher, FittedVAE):
        raise ValueError(f"{name} must be a FittedVAE (the previous generation) or None, got {type(teacher).__name__}")
    if teacher.side != side:
        raise ValueError(f"{name} draws {teacher.side}x{teacher.side} images, the student trains on {side}x{side}")
    return teacher


def _fresh_draws(
    teacher: FittedVAE, n: int, generator: torch.Generator, device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One epoch of a teacher's random numbers: ``n`` latents, then (Bernoulli teachers) ``n`` images' uniforms."""
    z = torch.randn((n, teacher.latent_dim), generator=generator, device=device)
    if teacher.config.decode != "bernoulli":
        return z, None
    return z, torch.rand((n, teacher.side * teacher.side), generator=generator, device=device)


def _loss_to_minimise(per_image: torch.Tensor, batch_size: int, config: VAEConfig) -> torch.Tensor:
    """The objective of one step: the per-image loss, or (``reduction="sum"``) the batch's total."""
    return per_image * batch_size if config.reduction == "sum" else per_image


def train_vae(
    images: np.ndarray,
    config: VAEConfig = VAEConfig(),
    seed: int | np.random.Generator = 0,
    teacher: FittedVAE | None = None,
) -> FittedVAE:
    """Train a fresh VAE on ``images`` (``(n, side, side)`` in ``[0, 1]``), or on a teacher's fresh samples.

    The initialisation (torch seed ``s``), the mini-batch order (``s + 1``) and
    the reparameterisation noise (``s + 2``, one draw of shape ``(n, latent_dim)``
    per epoch, split into the mini-batches) come from a torch seed ``s``
    derived from ``seed`` (an integer, or a numpy generator that is advanced by
    one draw), so equal seeds give equal models on the same device and thread
    count. The global torch random state is left untouched.

    With a ``teacher`` (a trained VAE, the previous generation) every
    mini-batch is new samples of the teacher instead of images of ``images``
    (the authors' protocol, see the module docstring): per epoch, ``n`` latents
    and, for a Bernoulli teacher, ``n`` images' uniforms from torch seed
    ``s + 3``, used in order batch by batch. ``images`` then only sets ``n``
    and the image side.
    """
    x = check_images(images)
    config = _check_config(config)
    if teacher is not None:
        teacher = _check_teacher(teacher, x.shape[1])
    s = torch_seed(seed)
    device = torch.device(config.device)
    model = _fresh_vae(x.shape[1], config, s)
    order = torch.Generator().manual_seed(s + 1)
    noise_gen = torch.Generator(device=device).manual_seed(s + 2)
    fresh_gen = torch.Generator(device=device).manual_seed(s + 3)
    data = torch.from_numpy(x.reshape(len(x), -1)).to(device)
    if teacher is not None:
        teacher.model.eval()
    opt = adam(model.parameters(), config.lr, config.weight_decay)
    history = np.empty(config.epochs)
    model.train()
    for epoch in range(config.epochs):
        total = 0.0
        noises = torch.randn((len(data), config.latent_dim), generator=noise_gen, device=device, dtype=data.dtype)
        if teacher is not None:
            latents, uniforms = _fresh_draws(teacher, len(data), fresh_gen, device)
        start = 0
        for idx, noise in zip(batches(len(data), config.batch_size, order), noises.split(config.batch_size)):
            b = len(idx)
            if teacher is None:
                batch = data[idx.to(device)]
            else:
                with torch.no_grad():
                    batch = torch.sigmoid(teacher.model.decode_logits(latents[start : start + b]))
                    if uniforms is not None:
                        batch = (uniforms[start : start + b] < batch).to(batch.dtype)
            start += b
            rec, kl = model.loss(batch, noise, config.beta)
            loss = rec + kl
            opt.zero_grad(set_to_none=True)
            _loss_to_minimise(loss, b, config).backward()
            opt.step()
            total += float(loss.detach()) * b
        history[epoch] = total / len(data)
    model.eval()
    return FittedVAE(model, config, history, seed=s)


def train_vaes(
    images: np.ndarray | Sequence[np.ndarray],
    config: VAEConfig = VAEConfig(),
    seeds: Sequence[int | np.random.Generator] = (0,),
    teachers: Sequence[FittedVAE | None] | None = None,
) -> list[FittedVAE]:
    """Train ``k = len(seeds)`` fresh VAEs together, VAE ``j`` on ``images[j]`` with seed ``seeds[j]``.

    ``images`` is ``(k, n, side, side)`` (or ``k`` stacks of the same shape):
    every VAE gets the same number of images, hence the same number of Adam
    steps. ``teachers`` (one per VAE, ``None`` for a VAE that trains on its
    images) makes VAE ``j`` train on fresh samples of ``teachers[j]``, as
    :func:`train_vae` does with ``teacher=``; the teachers must share one
    architecture. VAE ``j`` is the one :func:`train_vae` ``(images[j], config,
    seeds[j], teachers[j])`` would train, up to the order of floating-point sums
    (see the module docstring); the global torch random state is left untouched.
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
    if teachers is None:
        teachers = [None] * k
    elif isinstance(teachers, FittedVAE) or not isinstance(teachers, Sequence) or len(teachers) != k:
        raise ValueError(f"teachers must be one FittedVAE or None per seed ({k}), got {teachers!r}")
    fresh = [j for j, t in enumerate(teachers) if t is not None]
    tutors = [_check_teacher(teachers[j], side, f"teachers[{j}]") for j in fresh]
    s = [torch_seed(seed) for seed in seeds]
    device = torch.device(config.device)
    model = stack_vaes([_fresh_vae(side, config, si) for si in s])
    orders = [torch.Generator().manual_seed(si + 1) for si in s]
    noise_gens = [torch.Generator(device=device).manual_seed(si + 2) for si in s]
    data = torch.from_numpy(np.stack(stacks).reshape(k * n, -1)).to(device)
    offsets = torch.arange(k, device=device)[:, None] * n  # row j of the stack starts at j * n
    if fresh:
        tutor_stack = stack_vaes([t.model for t in tutors]).eval()
        fresh_gens = [torch.Generator(device=device).manual_seed(s[j] + 3) for j in fresh]
        fresh_index = torch.tensor(fresh, device=device)
        binary = [i for i, t in enumerate(tutors) if t.config.decode == "bernoulli"]
    opt = adam(model.parameters(), config.lr, config.weight_decay)
    history = np.empty((k, config.epochs))
    model.train()
    for epoch in range(config.epochs):
        index = torch.stack([permutation(n, g) for g in orders]).to(device)  # (k, n): each member's own order
        noises = torch.stack(
            [torch.randn((n, config.latent_dim), generator=g, device=device, dtype=data.dtype) for g in noise_gens]
        )  # (k, n, latent_dim): each member's noise for the epoch, drawn as train_vae draws it
        epoch_data = data.index_select(0, (index + offsets).reshape(-1)).view(k, n, -1)  # the epoch's order
        if fresh:
            draws = [_fresh_draws(t, n, g, device) for t, g in zip(tutors, fresh_gens)]
            latents = torch.stack([z for z, _ in draws])  # (teachers, n, teacher latent_dim)
            uniforms = torch.stack([draws[i][1] for i in binary]) if binary else None
        losses, start = [], 0
        for batch, noise in zip(epoch_data.split(config.batch_size, dim=1), noises.split(config.batch_size, dim=1)):
            b = batch.shape[1]
            if fresh:
                with torch.no_grad():
                    new = torch.sigmoid(tutor_stack.decode_logits(latents[:, start : start + b]))
                    if binary:
                        new[binary] = (uniforms[:, start : start + b] < new[binary]).to(new.dtype)
                    batch.index_copy_(0, fresh_index, new)  # the taught members' rows of this batch
            start += b
            rec, kl = model.loss(batch, noise, config.beta)  # batch: (k, b, pixels)
            per_model = rec + kl
            opt.zero_grad(set_to_none=True)
            _loss_to_minimise(per_model.sum(), b, config).backward()  # each VAE gets the gradient of its own loss
            opt.step()
            losses.append(per_model.detach())
        sizes = torch.tensor([b.shape[1] for b in epoch_data.split(config.batch_size, dim=1)], dtype=torch.float64)
        history[:, epoch] = ((torch.stack(losses).cpu().double() * sizes[:, None]).sum(0) / n).numpy()
    model.eval()
    return [FittedVAE(model.unstack(j), config, history[j], seed=s[j]) for j in range(k)]


def multiply_adds(config: VAEConfig, side: int) -> int:
    """Multiply-adds of one forward pass of one image through the encoder and the decoder of ``config``."""
    config = _check_config(config)
    side = validate.integer("side", side, 1)
    latent = config.latent_dim
    if config.arch == "conv":
        side, c = check_conv_side(side), config.capacity
        half, quarter = (side // 2) ** 2, (side // 4) ** 2
        features = 2 * c * quarter
        convs = half * c * 16 + quarter * 2 * c * c * 16  # 4 x 4 kernels: 16 taps per input channel
        return 2 * convs + features * 2 * latent + latent * features  # the transposed convolutions mirror them
    enc = [side * side, *config.hidden, 2 * latent]
    dec = [latent, *reversed(config.hidden), side * side]
    return sum(a * b for sizes in (enc, dec) for a, b in zip(sizes[:-1], sizes[1:]))


def training_flops(config: VAEConfig, side: int, n_images: int) -> float:
    """Floating-point operations to train one VAE for ``config.epochs`` epochs on ``n_images`` images.

    Counts the matrix products and convolutions only (2 FLOPs per
    multiply-add, forward pass plus a backward pass of twice its cost):
    ``6 * multiply_adds * n_images * epochs`` (:func:`multiply_adds`; for the
    fully connected VAE, the entries of its weight matrices). A rough guide for
    time estimates, not a measurement.
    """
    config = _check_config(config)
    n_images = validate.integer("n_images", n_images, 1)
    return 6.0 * multiply_adds(config, side) * n_images * config.epochs
