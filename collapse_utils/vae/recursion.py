"""The recursion of chapter 3: generation after generation of VAEs, one run or many at once.

Generation 0 is the VAE trained on the original (real) images; generation
``t + 1`` is a fresh VAE trained on the training set built from generation
``t``'s samples (and, with retention, real images). The real data are not a
generation. Every generation is measured by a
:class:`~collapse_utils.vae.judge.GenerationMeter`.

Retention in this chapter is **fixed**: the retained real images are a random
subset (drawn afresh every generation, without replacement) of the original
training sample, never new images from the true distribution (chapter 1's
"fresh" retention).

:func:`run_vae_generations` runs one recursion through the shared loop
(:func:`collapse_utils.schedules.run_generations`): the reference path.
:func:`run_vae_batch` runs many recursions (seeds, retentions, what the next
generation trains on) *together*: every generation, all their VAEs are trained
at once by :func:`~collapse_utils.vae.model.train_vaes`. Each run keeps its own
numpy generator and its own data schedule, making the same random draws in the
same order as :func:`run_vae_generations` with the same seed, so a run of the
batch is that run alone, up to the order of floating-point sums.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import validate
from ..plotting import first_below
from ..progress import progress as progress_bar
from ..schedules import DataSchedule, check_approach, check_retention, run_generations
from .data import check_images
from .judge import N_CLASSES, GenerationMeter
from .model import DECODE_MODES, FittedVAE, VAEConfig, torch_seed, train_vae, train_vaes

RETAINED = "fixed"
"""The kind of retention of this chapter: a subsample of the original sample."""

SERIES = ("entropy", "confidence", "frechet", "feature_var", "pixel_var", "active_dims", "loss")
"""The per-generation numbers that a :class:`VAERun` keeps (besides ``class_hist`` and ``grid``)."""


@dataclass
class VAERun:
    """One run of the VAE recursion; index ``g`` of every array is generation ``g``."""

    retention: float
    approach: int
    seed: int
    config: VAEConfig
    side: int
    class_hist: np.ndarray  # (G + 1, 10)
    entropy: np.ndarray  # (G + 1,)
    confidence: np.ndarray
    frechet: np.ndarray
    feature_var: np.ndarray
    pixel_var: np.ndarray
    active_dims: np.ndarray
    loss: np.ndarray
    grid: np.ndarray  # (G + 1, k, side, side)
    composition: list[dict[str, int]]
    models: dict[int, FittedVAE] = field(default_factory=dict)
    seconds: float = 0.0
    retained: str = RETAINED

    @property
    def decode(self) -> str:
        """What each generation after 0 trained on: ``"bernoulli"`` draws or decoder ``"mean"``s."""
        return self.config.decode

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
        level = validate.real("level", level, 0.0, 1.0, low_open=True)
        return {d: first_below(self.class_hist[:, d], level) for d in range(N_CLASSES)}

    def describe_vanishing(self, level: float = 0.01) -> str:
        """One line: the digits in the order they first fall below ``level``, and the survivors."""
        gone = self.vanished(level)
        order = sorted((g, d) for d, g in gone.items() if g is not None)
        lost = ", ".join(f"{d} (gen {g})" for g, d in order) or "none"
        kept = ", ".join(str(d) for d, g in gone.items() if g is None) or "none"
        final = ", ".join(f"{d}: {100 * p:.0f}%" for d, p in enumerate(self.class_hist[-1]) if p >= 0.05)
        return f"lost: {lost}; never lost: {kept}; last generation: {final}"


def stack(runs: Sequence[VAERun], name: str) -> np.ndarray:
    """``(runs, generations + 1)`` array of one series (runs along axis 0, as :func:`plotting.plot_band` wants)."""
    if name not in SERIES:
        raise ValueError(f"name must be one of {', '.join(SERIES)}, got {name!r}")
    runs = list(runs)
    if not runs:
        raise ValueError("runs must hold at least one VAERun, got none")
    return np.array([getattr(r, name) for r in runs], dtype=float)


def _check_common(images, generations, meter, config) -> tuple[np.ndarray, int]:
    x = check_images(images, name="training images")
    generations = validate.integer("generations", generations, 0)
    if not isinstance(meter, GenerationMeter):
        raise ValueError(f"meter must be a GenerationMeter, got {type(meter).__name__}")
    if meter.classifier.side != x.shape[1]:
        raise ValueError(f"the meter's classifier expects {meter.classifier.side}-pixel images, got {x.shape[1]}")
    if not isinstance(config, VAEConfig):
        raise ValueError(f"config must be a VAEConfig, got {type(config).__name__}")
    return x, generations


def _keeper(keep_models: bool | Sequence[int], generations: int):
    if isinstance(keep_models, (bool, np.bool_)):
        return lambda g: bool(keep_models)
    keep = frozenset(validate.integer_list("keep_models", keep_models, 0, generations))
    return lambda g: g in keep


def _make_run(records: list[dict[str, Any]], retention, approach, seed, config, side, composition, models, seconds):
    def series(key: str) -> np.ndarray:
        return np.array([r[key] for r in records])

    return VAERun(
        retention=retention,
        approach=approach,
        seed=seed,
        config=config,
        side=side,
        class_hist=series("class_hist"),
        entropy=series("entropy"),
        confidence=series("confidence"),
        frechet=series("frechet"),
        feature_var=series("feature_var"),
        pixel_var=series("pixel_var"),
        active_dims=series("active_dims"),
        loss=series("loss"),
        grid=series("grid").astype(np.float32),
        composition=composition,
        models=models,
        seconds=seconds,
    )


def run_vae_generations(
    images: np.ndarray,
    generations: int,
    meter: GenerationMeter,
    config: VAEConfig = VAEConfig(),
    retention: float = 0.0,
    approach: int = 1,
    seed: int = 0,
    keep_models: bool | Sequence[int] = False,
) -> VAERun:
    """One recursion: generation 0 trains on ``images``, each later one on the previous one's samples.

    Each later generation trains a fresh VAE on as many images as the real
    training set holds (approaches 1 and 2), built by the data schedule
    ``approach`` from samples of the previous generation (``config.decode``)
    and, with ``retention > 0``, a random share of the real images (fixed
    retention, see the module docstring). Every generation is measured by
    ``meter``. All arguments are validated before any training.
    """
    x, generations = _check_common(images, generations, meter, config)
    retention = check_retention(retention)
    approach = check_approach(approach)
    seed = torch_seed(seed)
    keep = _keeper(keep_models, generations)
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
        keep_models=True,
    )
    return _make_run(
        [r.metrics for r in records],
        retention,
        approach,
        seed,
        config,
        x.shape[1],
        [dict(r.composition) for r in records],
        {r.generation: r.model for r in records if keep(r.generation)},
        time.perf_counter() - start,
    )


def _per_run(name: str, value: Any, k: int, check) -> list:
    if isinstance(value, (list, tuple, np.ndarray)):
        if len(value) != k:
            raise ValueError(f"{name} must be one value or one per seed ({k}), got {len(value)} values")
        return [check(v) for v in value]
    return [check(value)] * k


def run_vae_batch(
    images: np.ndarray,
    generations: int,
    meter: GenerationMeter,
    config: VAEConfig = VAEConfig(),
    seeds: Sequence[int] = (0,),
    retention: float | Sequence[float] = 0.0,
    decode: str | Sequence[str] | None = None,
    approach: int = 1,
    keep_models: bool | Sequence[int] = False,
    progress: bool | str = False,
) -> list[VAERun]:
    """Many recursions at once: run ``j`` has seed ``seeds[j]``, ``retention[j]`` and ``decode[j]``.

    ``retention`` and ``decode`` are one value for all runs or one per run
    (``decode=None``: the config's). Run ``j`` is the run
    ``run_vae_generations(images, generations, meter, replace(config,
    decode=decode[j]), retention[j], approach, seeds[j])`` (same random draws,
    same models up to the order of floating-point sums), but every generation's
    VAEs of all runs are trained together by :func:`train_vaes`. ``progress``
    shows a progress bar over generations in a live notebook (a string is its
    description). All arguments are validated before any training.
    """
    x, generations = _check_common(images, generations, meter, config)
    if isinstance(seeds, (int, np.integer)) or not isinstance(seeds, (Sequence, np.ndarray)) or len(seeds) == 0:
        raise ValueError(f"seeds must be a non-empty sequence of integers >= 0, got {seeds!r}")
    seeds = validate.integer_list("seeds", seeds, 0)
    k = len(seeds)
    retentions = _per_run("retention", retention, k, check_retention)
    decodes = _per_run(
        "decode", config.decode if decode is None else decode, k, lambda d: validate.choice("decode", d, DECODE_MODES)
    )
    approach = check_approach(approach)
    keep = _keeper(keep_models, generations)
    configs = [dataclasses.replace(config, decode=d) for d in decodes]
    rngs = [np.random.default_rng(s) for s in seeds]
    schedules = [DataSchedule(x, approach, r, axis=0) for r in retentions]
    data = [s.original for s in schedules]
    records: list[list[dict[str, Any]]] = [[] for _ in range(k)]
    compositions: list[list[dict[str, int]]] = [[dict(s.last_composition)] for s in schedules]
    models: list[dict[int, FittedVAE]] = [{} for _ in range(k)]
    start = time.perf_counter()
    steps = range(generations + 1)
    if progress:
        steps = progress_bar(steps, desc=progress if isinstance(progress, str) else "generations")
    for g in steps:
        fitted = train_vaes(data, config, [torch_seed(rng) for rng in rngs])
        for j in range(k):
            fitted[j] = dataclasses.replace(fitted[j], config=configs[j])
            records[j].append(meter(fitted[j], g))
            if keep(g):
                models[j][g] = fitted[j]
        if g == generations:
            break
        for j in range(k):
            synthetic = fitted[j].sample(schedules[j].n_synthetic, rngs[j])
            data[j] = schedules[j].next_training_set(synthetic, rngs[j])
            compositions[j].append(dict(schedules[j].last_composition))
    seconds = (time.perf_counter() - start) / k
    return [
        _make_run(records[j], retentions[j], approach, seeds[j], configs[j], x.shape[1], compositions[j], models[j], seconds)
        for j in range(k)
    ]
