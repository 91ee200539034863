"""The networks of chapter 3: a fully connected and a convolutional VAE, alone and stacked.

Both VAEs take flattened images ``(b, side**2)`` and give the mean and
log-variance of a diagonal Gaussian ``q(z | x)`` and one Bernoulli logit per
pixel for ``p(x | z)``; the prior is ``N(0, I)``.

:class:`VAE` (``arch="mlp"``, the book's) is fully connected: ``hidden`` ReLU
layers to ``(mu, log sigma^2)``, and a decoder through the same widths in
reverse order.

:class:`ConvVAE` (``arch="conv"``) has the shape of the authors' VAE in
``VAE_experiments.ipynb`` of the ``curse_recurse`` repository: two
convolutions with 4 x 4 kernels, stride 2 and padding 1 (``capacity`` and
``2 * capacity`` channels, each followed by a ReLU) and one linear layer to the
mean and log-variance; the decoder is a linear layer, a transposed convolution
to ``capacity`` channels with a ReLU, and a transposed convolution to one
channel. The authors end the decoder with a sigmoid and score it with the
binary cross-entropy of probabilities; this module returns logits and scores
them with the same cross-entropy computed from the logits (the same loss,
numerically stabler), and it computes the mean and the log-variance with one
linear layer of twice the width (their two layers side by side, initialised
the same way). The side must be a multiple of 4 (28 for MNIST, 8 for the
digits).

:class:`StackedVAE` and :class:`StackedConvVAE` hold ``k`` VAEs of one
architecture with their weights stacked, so that one batched operation per
layer runs all of them: ``torch.baddbmm`` for linear layers, a convolution
with ``groups=k`` for convolutions. They are built from (and unstack back
into) the single VAEs, so every member is exactly the VAE it would be alone.
:func:`stack_vaes` stacks either kind.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .. import validate

ARCHS = ("mlp", "conv")
"""The two architectures: ``"mlp"`` (:class:`VAE`) and ``"conv"`` (:class:`ConvVAE`)."""


def mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers of the given widths with ReLUs between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def elbo_terms(x, mu, logvar, noise, decode_logits, beta: float, dims) -> tuple[torch.Tensor, torch.Tensor]:
    """Reconstruction and ``beta`` x KL, summed over ``dims`` and divided by the batch size (axis -2).

    ``z = mu + noise * exp(logvar / 2)`` (the reparameterisation trick); the
    reconstruction term is the binary cross-entropy of the decoder's logits at
    ``z``; the KL term is the closed form
    ``KL(N(mu, sigma^2) || N(0, 1)) = (mu^2 + sigma^2 - 1 - log sigma^2) / 2``.
    """
    z = mu + noise * torch.exp(0.5 * logvar)
    per_pixel = F.binary_cross_entropy_with_logits(decode_logits(z), x, reduction="none")
    b = x.shape[-2]
    rec = per_pixel.sum(dim=dims) / b
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=dims) / b
    return rec, beta * kl


class _SingleVAE(nn.Module):
    """What both single VAEs share: an ``encoder`` to ``(mu, logvar)`` and a ``decoder`` to logits."""

    side: int
    latent_dim: int
    encoder: nn.Module
    decoder: nn.Module

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
        """Negative ELBO terms per image, averaged over the batch: (reconstruction, ``beta`` x KL).

        ``noise`` is the standard normal noise of the reparameterisation trick,
        ``z = mu + sigma * noise`` with ``sigma = exp(logvar / 2)``, passed in so
        that the caller controls the random numbers (see :func:`elbo_terms`).
        """
        mu, logvar = self.encode(x)
        return elbo_terms(x, mu, logvar, noise, self.decode_logits, beta, dims=(0, 1))


class VAE(_SingleVAE):
    """A fully connected VAE for ``side x side`` images (see the module docstring)."""

    def __init__(self, side: int, latent_dim: int = 8, hidden: Sequence[int] = (256, 128)) -> None:
        super().__init__()
        self.side = validate.integer("side", side, 1)
        self.latent_dim = validate.integer("latent_dim", latent_dim, 1)
        hidden = validate.integer_list("hidden", hidden, 1)
        pixels = side * side
        self.encoder = mlp([pixels, *hidden, 2 * latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), pixels])


def check_conv_side(side: int) -> int:
    """The image side of a :class:`ConvVAE`: an integer >= 4 and a multiple of 4 (two halvings)."""
    side = validate.integer("side", side, 4)
    if side % 4:
        raise ValueError(
            f"side must be a multiple of 4 for the convolutional VAE (two stride-2 layers), got {side}"
        )
    return side


class ConvVAE(_SingleVAE):
    """The authors' convolutional VAE shape for ``side x side`` images (see the module docstring)."""

    def __init__(self, side: int, latent_dim: int = 20, capacity: int = 64) -> None:
        super().__init__()
        self.side = check_conv_side(side)
        self.latent_dim = validate.integer("latent_dim", latent_dim, 1)
        self.capacity = c = validate.integer("capacity", capacity, 1)
        s4 = side // 4
        features = 2 * c * s4 * s4
        self.encoder = nn.Sequential(
            nn.Unflatten(1, (1, side, side)),
            nn.Conv2d(1, c, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(features, 2 * latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, features),
            nn.Unflatten(1, (2 * c, s4, s4)),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1),
            nn.Flatten(),
        )


def _layers(net: nn.Module, kind: type) -> list[nn.Module]:
    return [m for m in net if isinstance(m, kind)]


def _check_members(models: Sequence[nn.Module], kind: type, what: str) -> None:
    if not models:
        raise ValueError("models must hold at least one VAE, got none")
    shapes = [tuple(p.shape) for p in models[0].parameters()]
    for m in models:
        if type(m) is not kind or [tuple(p.shape) for p in m.parameters()] != shapes:
            raise ValueError(f"models must be {kind.__name__}s of one architecture (same {what})")


class _StackedLoss(nn.Module):
    """The loss of ``k`` VAEs trained together (:class:`StackedVAE`, :class:`StackedConvVAE`)."""

    def loss(
        self, x: torch.Tensor, noise: torch.Tensor, beta: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-VAE reconstruction and ``beta`` x KL terms, each of shape ``(k,)`` (see :meth:`VAE.loss`)."""
        mu, logvar = self.encode(x)
        return elbo_terms(x, mu, logvar, noise, self.decode_logits, beta, dims=(1, 2))


class StackedVAE(_StackedLoss):
    """``k`` fully connected VAEs with their weights stacked along a leading axis.

    Layer ``i`` of VAE ``j`` is ``x @ weights[i][j] + biases[i][j]``; a forward
    pass of all ``k`` VAEs is one ``torch.baddbmm`` per layer. Built from (and
    unstacked back into) ordinary :class:`VAE` modules, so each member is exactly
    the VAE it would be alone.
    """

    def __init__(self, models: Sequence[VAE]) -> None:
        super().__init__()
        _check_members(models, VAE, "side, latent_dim and hidden")
        first = models[0]
        self.side, self.latent_dim, self.k = first.side, first.latent_dim, len(models)
        self.enc_w, self.enc_b = self._stack([m.encoder for m in models])
        self.dec_w, self.dec_b = self._stack([m.decoder for m in models])

    @staticmethod
    def _stack(nets: Sequence[nn.Sequential]) -> tuple[nn.ParameterList, nn.ParameterList]:
        linears = [_layers(net, nn.Linear) for net in nets]
        weights, biases = nn.ParameterList(), nn.ParameterList()
        for i in range(len(linears[0])):
            weights.append(
                nn.Parameter(torch.stack([ls[i].weight.detach().t() for ls in linears]).contiguous())
            )
            biases.append(
                nn.Parameter(torch.stack([ls[i].bias.detach()[None, :] for ls in linears]).contiguous())
            )
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

    @torch.no_grad()
    def unstack(self, j: int) -> VAE:
        """VAE number ``j`` as an ordinary :class:`VAE` (a copy of its weights)."""
        j = validate.integer("j", j, 0, self.k - 1)
        hidden = [w.shape[2] for w in self.enc_w[:-1]]
        with torch.random.fork_rng(devices=[]):  # the weights are overwritten: leave the global RNG alone
            model = VAE(self.side, self.latent_dim, hidden).to(self.enc_w[0].device)
        for net, weights, biases in (
            (model.encoder, self.enc_w, self.enc_b),
            (model.decoder, self.dec_w, self.dec_b),
        ):
            for layer, w, b in zip(_layers(net, nn.Linear), weights, biases):
                layer.weight.copy_(w[j].t())
                layer.bias.copy_(b[j, 0])
        return model.eval()


class StackedConvVAE(_StackedLoss):
    """``k`` convolutional VAEs (:class:`ConvVAE`) with their weights stacked.

    The members' channels sit side by side (member ``j`` owns channels
    ``j * C`` to ``(j + 1) * C - 1`` of every feature map), so each convolution
    of all ``k`` members is one convolution with ``groups=k``; the linear
    layers are one ``torch.baddbmm`` each, as in :class:`StackedVAE`.
    """

    def __init__(self, models: Sequence[ConvVAE]) -> None:
        super().__init__()
        _check_members(models, ConvVAE, "side, latent_dim and capacity")
        first = models[0]
        self.side, self.latent_dim, self.capacity, self.k = (
            first.side,
            first.latent_dim,
            first.capacity,
            len(models),
        )
        convs = [_layers(m.encoder, nn.Conv2d) for m in models]
        tconvs = [_layers(m.decoder, nn.ConvTranspose2d) for m in models]
        enc_fc = [_layers(m.encoder, nn.Linear)[0] for m in models]
        dec_fc = [_layers(m.decoder, nn.Linear)[0] for m in models]

        def cat(tensors) -> nn.Parameter:  # channels of the members side by side
            return nn.Parameter(torch.cat([t.detach() for t in tensors]).contiguous())

        self.conv_w = nn.ParameterList([cat([c[i].weight for c in convs]) for i in range(2)])
        self.conv_b = nn.ParameterList([cat([c[i].bias for c in convs]) for i in range(2)])
        self.tconv_w = nn.ParameterList([cat([c[i].weight for c in tconvs]) for i in range(2)])
        self.tconv_b = nn.ParameterList([cat([c[i].bias for c in tconvs]) for i in range(2)])
        self.enc_w = nn.Parameter(torch.stack([f.weight.detach().t() for f in enc_fc]).contiguous())
        self.enc_b = nn.Parameter(torch.stack([f.bias.detach()[None, :] for f in enc_fc]).contiguous())
        self.dec_w = nn.Parameter(torch.stack([f.weight.detach().t() for f in dec_fc]).contiguous())
        self.dec_b = nn.Parameter(torch.stack([f.bias.detach()[None, :] for f in dec_fc]).contiguous())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means and log-variances, ``(k, b, latent_dim)`` each, of images ``(k, b, side**2)``."""
        k, b, s = self.k, x.shape[1], self.side
        h = x.transpose(0, 1).reshape(b, k, s, s)  # one input channel per member
        for w, bias in zip(self.conv_w, self.conv_b):
            h = torch.relu(F.conv2d(h, w, bias, stride=2, padding=1, groups=k))
        h = h.reshape(b, k, -1).transpose(0, 1)  # (k, b, features), each member's maps flattened as alone
        mu, logvar = torch.baddbmm(self.enc_b, h, self.enc_w).chunk(2, dim=-1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits ``(k, b, side**2)`` of latents ``(k, b, latent_dim)``."""
        k, b, s4 = self.k, z.shape[1], self.side // 4
        h = torch.baddbmm(self.dec_b, z, self.dec_w)  # (k, b, features)
        h = h.transpose(0, 1).reshape(b, k * 2 * self.capacity, s4, s4)
        h = torch.relu(F.conv_transpose2d(h, self.tconv_w[0], self.tconv_b[0], stride=2, padding=1, groups=k))
        h = F.conv_transpose2d(
            h, self.tconv_w[1], self.tconv_b[1], stride=2, padding=1, groups=k
        )  # (b, k, s, s)
        return h.reshape(b, k, -1).transpose(0, 1)

    @torch.no_grad()
    def unstack(self, j: int) -> ConvVAE:
        """VAE number ``j`` as an ordinary :class:`ConvVAE` (a copy of its weights)."""
        j = validate.integer("j", j, 0, self.k - 1)
        with torch.random.fork_rng(devices=[]):  # the weights are overwritten: leave the global RNG alone
            model = ConvVAE(self.side, self.latent_dim, self.capacity).to(self.enc_w.device)
        for layers, ws, bs in (
            (_layers(model.encoder, nn.Conv2d), self.conv_w, self.conv_b),
            (_layers(model.decoder, nn.ConvTranspose2d), self.tconv_w, self.tconv_b),
        ):
            for layer, w, b in zip(layers, ws, bs):
                layer.weight.copy_(w.chunk(self.k)[j])
                layer.bias.copy_(b.chunk(self.k)[j])
        for layer, w, b in ((_layers(model.encoder, nn.Linear)[0], self.enc_w, self.enc_b),
                            (_layers(model.decoder, nn.Linear)[0], self.dec_w, self.dec_b)):  # fmt: skip
            layer.weight.copy_(w[j].t())
            layer.bias.copy_(b[j, 0])
        return model.eval()


def stack_vaes(models: Sequence[nn.Module]) -> StackedVAE | StackedConvVAE:
    """Stack VAEs of one kind: :class:`StackedVAE` for :class:`VAE`, :class:`StackedConvVAE` for :class:`ConvVAE`."""
    models = list(models)
    if models and all(type(m) is ConvVAE for m in models):
        return StackedConvVAE(models)
    return StackedVAE(models)
