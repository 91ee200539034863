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

**Protocols** (:data:`PROTOCOLS`): what a generation after 0 trains on.

``"fixed"`` (the book's)
    a training set of ``n`` images built once per generation by the data
    schedule from the previous generation's samples (and, with retention,
    real images), seen once per epoch: a finite sample, so each generation
    adds *statistical approximation error*;
``"fresh"`` (the authors', ``train_vae_gen`` in ``VAE_experiments.ipynb``)
    every mini-batch new samples of the previous generation (fresh latents
    through its decoder; the authors train on the decoder means), about
    ``n * epochs`` new images per generation: almost no statistical error, so
    what remains is *functional* error (what a VAE of this kind, trained this
    way, can represent and learn). No data schedule applies (replace only, no
    retention).

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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import validate
from ..plotting import first_below
from ..progress import progress as progress_bar
from ..schedules import DataSchedule, check_approach, check_retention, run_generations
from .data import check_images
from .judge import N_CLASSES, GenerationMeter, latent_spread, latent_tail
from .model import DECODE_MODES, FittedVAE, VAEConfig, torch_seed, train_vae, train_vaes

RETAINED = "fixed"
"""The kind of retention of this chapter: a subsample of the original sample."""

SERIES = (
    "entropy", "confidence", "frechet", "feature_var", "pixel_var", "active_dims", "loss",
    "latent_spread", "latent_tail",
)  # fmt: skip
"""The per-generation numbers that a :class:`VAERun` keeps (besides ``class_hist``, ``grid`` and ``origin_latents``)."""

PROTOCOLS = ("fixed", "fresh")
"""What a generation after 0 trains on: a fixed sample (the book's) or fresh samples every batch (the authors')."""


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
    latent_spread: np.ndarray | None = None  # (G + 1,)
    latent_tail: np.ndarray | None = None  # (G + 1,)
    origin_latents: np.ndarray | None = None  # (G + 1, n_eval, latent_dim): generation 0's codes of each generation
    protocol: str = "fixed"

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

    def lost_at_start(self, level: float = 0.01) -> tuple[int, ...]:
        """The digits under ``level`` of generation 0's samples: lost by the first fit, before any recursion."""
        level = validate.real("level", level, 0.0, 1.0, low_open=True)
        return tuple(int(d) for d in np.flatnonzero(self.class_hist[0] < level))

    def lost_by_recursion(self, level: float = 0.01) -> dict[int, int | None]:
        """For each digit present at generation 0, the first later generation under ``level`` (``None``: never)."""
        start = set(self.lost_at_start(level))
        return {d: g for d, g in self.vanished(level).items() if d not in start}

    def describe_vanishing(self, level: float = 0.01) -> str:
        """One line: the digits in the order they first fall below ``level``, and the survivors.

        Digits already below ``level`` at generation 0 (lost by the first fit,
        not by the recursion) are named first, apart.
        """
        gone = self.vanished(level)
        at_start = self.lost_at_start(level)
        order = sorted((g, d) for d, g in gone.items() if g is not None and d not in at_start)
        lost = ", ".join(f"{d} (gen {g})" for g, d in order) or "none"
        kept = ", ".join(str(d) for d, g in gone.items() if g is None) or "none"
        final = ", ".join(f"{d}: {100 * p:.0f}%" for d, p in enumerate(self.class_hist[-1]) if p >= 0.05)
        head = f"below {100 * level:g}% already at generation 0: {', '.join(map(str, at_start))}; " if at_start else ""
        return f"{head}lost: {lost}; never lost: {kept}; last generation: {final}"


def stack(runs: Sequence[VAERun], name: str) -> np.ndarray:
    """``(runs, generations + 1)`` array of one series (runs along axis 0, as :func:`plotting.plot_band` wants)."""
    if name not in SERIES:
        raise ValueError(f"name must be one of {', '.join(SERIES)}, got {name!r}")
    runs = list(runs)
    if not runs:
        raise ValueError("runs must hold at least one VAERun, got none")
    if any(getattr(r, name) is None for r in runs):
        raise ValueError(f"every run must record {name!r} (runs made without the meter's origin= do not)")
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


def _make_run(
    records: list[dict[str, Any]], retention, approach, seed, config, side, composition, models, seconds,
    protocol: str = "fixed",
):  # fmt: skip
    def series(key: str) -> np.ndarray:
        return np.array([r[key] for r in records])

    latents = {}
    if all("origin_mu" in r for r in records):
        origin = series("origin_mu").astype(np.float32)  # (G + 1, n_eval, latent_dim)
        latents = dict(
            origin_latents=origin, latent_spread=latent_spread(origin), latent_tail=latent_tail(origin, origin[0])
        )
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
        protocol=protocol,
        **latents,
    )


def check_protocol(protocol: str, approach: int, retention: float, name: str = "protocol") -> str:
    """A protocol of :data:`PROTOCOLS`; ``"fresh"`` only with approach 1 (replace) and no retention."""
    protocol = validate.choice(name, protocol, PROTOCOLS)
    if protocol == "fresh" and (approach != 1 or retention != 0):
        raise ValueError(
            f"{name} 'fresh' (fresh samples every batch, the authors' protocol) has no training set for a data "
            f"schedule to build: it needs approach=1 and retention=0, got approach={approach}, retention={retention}"
        )
    return protocol


def _fresh_composition(n: int, config: VAEConfig) -> dict[str, int]:
    """What a generation under the fresh protocol trains on: ``n`` new samples per epoch, no real image."""
    return {"original": 0, "synthetic": n * config.epochs}


def run_vae_generations(
    images: np.ndarray,
    generations: int,
    meter: GenerationMeter,
    config: VAEConfig = VAEConfig(),
    retention: float = 0.0,
    approach: int = 1,
    seed: int = 0,
    keep_models: bool | Sequence[int] = False,
    protocol: str = "fixed",
) -> VAERun:
    """One recursion: generation 0 trains on ``images``, each later one on the previous one's samples.

    Under ``protocol="fixed"`` (the book's) each later generation trains a
    fresh VAE on as many images as the real training set holds (approaches 1
    and 2), built by the data schedule ``approach`` from samples of the
    previous generation (``config.decode``) and, with ``retention > 0``, a
    random share of the real images (fixed retention, see the module
    docstring). Under ``protocol="fresh"`` (the authors') it trains on fresh
    samples of the previous generation every batch (:func:`train_vae` with
    ``teacher=``). Every generation is measured by ``meter``, with generation 0
    as the origin of ``origin_mu``. All arguments are validated before any
    training.
    """
    x, generations = _check_common(images, generations, meter, config)
    retention = check_retention(retention)
    approach = check_approach(approach)
    protocol = check_protocol(protocol, approach, retention)
    seed = torch_seed(seed)
    keep = _keeper(keep_models, generations)
    start = time.perf_counter()
    origin: list[FittedVAE] = []

    def measure(model: FittedVAE, g: int) -> dict[str, Any]:
        if g == 0:
            origin.append(model)
        return meter(model, g, origin=origin[0])

    if protocol == "fixed":
        records = run_generations(
            fit=lambda data, rng: train_vae(data, config, rng),
            sample=lambda model, m, rng: model.sample(m, rng),
            original=x,
            generations=generations,
            approach=approach,
            retention=retention,
            seed=seed,
            measure=measure,
            keep_models=True,
        )
        metrics = [r.metrics for r in records]
        composition = [dict(r.composition) for r in records]
        models = {r.generation: r.model for r in records if keep(r.generation)}
    else:
        rng = np.random.default_rng(seed)
        metrics, composition, models, model = [], [], {}, None
        for g in range(generations + 1):
            model = train_vae(x, config, rng, teacher=model)
            metrics.append(measure(model, g))
            composition.append({"original": len(x), "synthetic": 0} if g == 0 else _fresh_composition(len(x), config))
            if keep(g):
                models[g] = model
    return _make_run(
        metrics, retention, approach, seed, config, x.shape[1], composition, models, time.perf_counter() - start,
        protocol,
    )  # fmt: skip


def _per_run(name: str, value: Any, k: int, check) -> list:
    if isinstance(value, (list, tuple, np.ndarray)):
        if len(value) != k:
            raise ValueError(f"{name} must be one value or one per seed ({k}), got {len(value)} values")
        return [check(v) for v in value]
    return [check(value)] * k


def _first_torch_seed(seed: int) -> int:
    """The torch seed of a run's generation 0: the first draw of the run's generator."""
    return torch_seed(np.random.default_rng(seed))


def _check_generation0(generation0, seeds: list[int], config: VAEConfig, side: int) -> list[FittedVAE] | None:
    if generation0 is None:
        return None
    if isinstance(generation0, FittedVAE) or not isinstance(generation0, Sequence) or len(generation0) != len(seeds):
        raise ValueError(f"generation0 must hold one FittedVAE per seed ({len(seeds)}), got {generation0!r}")
    for j, (model, seed) in enumerate(zip(generation0, seeds)):
        if not isinstance(model, FittedVAE) or model.side != side:
            raise ValueError(f"generation0[{j}] must be a FittedVAE for {side}x{side} images")
        if model.seed != _first_torch_seed(seed):
            raise ValueError(
                f"generation0[{j}] was not trained as run {j}'s generation 0 (seed {seed}) would be: "
                f"its torch seed is {model.seed}, the run's is {_first_torch_seed(seed)}"
            )
        if dataclasses.replace(model.config, decode=config.decode) != config:
            raise ValueError(f"generation0[{j}] was trained with another config than {config}")
    return list(generation0)


def run_vae_batch(
    images: np.ndarray,
    generations: int | Sequence[int],
    meter: GenerationMeter,
    config: VAEConfig = VAEConfig(),
    seeds: Sequence[int] = (0,),
    retention: float | Sequence[float] = 0.0,
    decode: str | Sequence[str] | None = None,
    approach: int = 1,
    keep_models: bool | Sequence[int] = False,
    progress: bool | str = False,
    protocol: str | Sequence[str] = "fixed",
    generation0: Sequence[FittedVAE] | None = None,
) -> list[VAERun]:
    """Many recursions at once: run ``j`` has seed ``seeds[j]``, ``retention[j]``, ``decode[j]`` and ``protocol[j]``.

    ``generations``, ``retention``, ``decode`` and ``protocol`` are one value
    for all runs or one per run (``decode=None``: the config's); a run with
    fewer generations leaves the stack after its last one. Run ``j`` is the run
    ``run_vae_generations(images, generations[j], meter, replace(config,
    decode=decode[j]), retention[j], approach, seeds[j], protocol=protocol[j])``
    (same random draws, same models up to the order of floating-point sums),
    but every generation's VAEs of all runs are trained together by
    :func:`train_vaes`. Runs with equal seeds share one generation 0 (it is the
    same model: same data, same seed), trained and measured once.
    ``generation0`` (one per run, for example ``run.models[0]`` of an earlier
    batch with the same seeds and config) skips training generation 0; each is
    checked to be the model this run would train (its torch seed and config).
    ``keep_models`` keeps the listed generations of the runs that reach them.
    ``progress`` shows a progress bar over generations in a live notebook (a
    string is its description). All arguments are validated before any training.
    """
    if isinstance(seeds, (int, np.integer)) or not isinstance(seeds, (Sequence, np.ndarray)) or len(seeds) == 0:
        raise ValueError(f"seeds must be a non-empty sequence of integers >= 0, got {seeds!r}")
    seeds = validate.integer_list("seeds", seeds, 0)
    k = len(seeds)
    gens = _per_run("generations", generations, k, lambda g: validate.integer("generations", g, 0))
    x, last = _check_common(images, max(gens), meter, config)
    retentions = _per_run("retention", retention, k, check_retention)
    decodes = _per_run(
        "decode", config.decode if decode is None else decode, k, lambda d: validate.choice("decode", d, DECODE_MODES)
    )
    approach = check_approach(approach)
    protocols = _per_run("protocol", protocol, k, lambda p: validate.choice("protocol", p, PROTOCOLS))
    for j, (p, r) in enumerate(zip(protocols, retentions)):
        check_protocol(p, approach, r, name=f"protocol[{j}]")
    given0 = _check_generation0(generation0, seeds, config, x.shape[1])
    keep = _keeper(keep_models, last)
    configs = [dataclasses.replace(config, decode=d) for d in decodes]
    rngs = [np.random.default_rng(s) for s in seeds]
    schedules = [DataSchedule(x, approach, r, axis=0) for r in retentions]
    data = [s.original for s in schedules]
    records: list[list[dict[str, Any]]] = [[] for _ in range(k)]
    compositions: list[list[dict[str, int]]] = [[dict(s.last_composition)] for s in schedules]
    models: list[dict[int, FittedVAE]] = [{} for _ in range(k)]
    start = time.perf_counter()
    steps = range(last + 1)
    if progress:
        steps = progress_bar(steps, desc=progress if isinstance(progress, str) else "generations")
    fitted: list[FittedVAE | None] = [None] * k
    origins: list[FittedVAE | None] = [None] * k
    for g in steps:
        active = [j for j in range(k) if g <= gens[j]]
        torch_seeds = {j: torch_seed(rngs[j]) for j in active}
        outcomes: dict[int, dict[str, Any]] = {}
        if g == 0:
            if given0 is None:  # runs with equal seeds have the same generation 0: train each once
                unique = list(dict.fromkeys(torch_seeds.values()))
                trained = dict(zip(unique, train_vaes([x] * len(unique), config, unique)))
                given = [trained[torch_seeds[j]] for j in range(k)]
            else:
                given = given0
            measured: dict[int, dict[str, Any]] = {}
            for j in range(k):
                if id(given[j]) not in measured:
                    measured[id(given[j])] = meter(given[j], 0, origin=given[j])
                fitted[j] = origins[j] = dataclasses.replace(given[j], config=configs[j])
                outcomes[j] = dict(measured[id(given[j])])
        else:
            teachers = [fitted[j] if protocols[j] == "fresh" else None for j in active]
            trained_now = train_vaes([data[j] for j in active], config, [torch_seeds[j] for j in active], teachers)
            for j, model in zip(active, trained_now):
                fitted[j] = dataclasses.replace(model, config=configs[j])
                outcomes[j] = meter(fitted[j], g, origin=origins[j])
        for j in active:
            records[j].append(outcomes[j])
            if keep(g):
                models[j][g] = fitted[j]
            if g == gens[j]:
                continue
            if protocols[j] == "fresh":  # no training set: the next generation samples generation g as it trains
                compositions[j].append(_fresh_composition(len(x), config))
                continue
            synthetic = fitted[j].sample(schedules[j].n_synthetic, rngs[j])
            data[j] = schedules[j].next_training_set(synthetic, rngs[j])
            compositions[j].append(dict(schedules[j].last_composition))
    seconds = (time.perf_counter() - start) / k
    return [
        _make_run(
            records[j], retentions[j], approach, seeds[j], configs[j], x.shape[1], compositions[j], models[j], seconds,
            protocols[j],
        )  # fmt: skip
        for j in range(k)
    ]


@dataclass(frozen=True)
class Variant:
    """One setting of the recursion, run for several seeds by :func:`run_variants`.

    ``config`` (its ``decode`` says what the next generation trains on),
    ``generations``, ``protocol``, ``retention`` and ``approach`` (the data
    schedule) as in :func:`run_vae_batch`; ``n_train`` uses the first
    ``n_train`` training images only (``None``: all).
    """

    config: VAEConfig
    generations: int
    protocol: str = "fixed"
    retention: float = 0.0
    n_train: int | None = None
    approach: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.config, VAEConfig):
            raise ValueError(f"config must be a VAEConfig, got {type(self.config).__name__}")
        object.__setattr__(self, "generations", validate.integer("generations", self.generations, 0))
        object.__setattr__(self, "retention", check_retention(self.retention))
        object.__setattr__(self, "approach", check_approach(self.approach))
        object.__setattr__(self, "protocol", check_protocol(self.protocol, self.approach, self.retention))
        if self.n_train is not None:
            object.__setattr__(self, "n_train", validate.integer("n_train", self.n_train, 1))

    def batch_key(self) -> tuple:
        """Variants with equal keys train together in one stack (same architecture, training and data).

        The number of generations is not part of the key: a run with fewer
        generations leaves the stack after its last one.
        """
        return (dataclasses.replace(self.config, decode="bernoulli"), self.n_train, self.approach)


def run_variants(
    images: np.ndarray,
    meter: GenerationMeter,
    variants: Mapping[str, Variant],
    seeds: Sequence[int],
    keep_models: bool | Sequence[int] = (0,),
    progress: bool | str = False,
    generation0: Mapping[str, Sequence[FittedVAE]] | None = None,
    workers: int = 1,
) -> dict[str, list[VAERun]]:
    """Every variant for every seed, as few batches as possible: ``{label: runs}`` in the order of ``seeds``.

    Variants that share an architecture, training settings and training images
    (:meth:`Variant.batch_key`) are trained together by one
    :func:`run_vae_batch` (each for its own number of generations), so that
    runs with the same seed share their generation 0. ``generation0`` maps a label to the generation-0
    models of its runs (one per seed), for example those of an earlier call.

    ``workers > 1`` (on a CPU) splits every batch by seed into that many parts
    (the runs of one seed stay together, so they still share their generation
    0) and runs the parts in as many processes of one torch thread each, all
    cores busy: every run is the run it would be in one batch (its own
    generator, data and seed), up to the order of floating-point sums.
    """
    x = check_images(images, name="training images")
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError("variants must map at least one label to a Variant")
    for label, v in variants.items():
        if not isinstance(v, Variant):
            raise ValueError(f"variants[{label!r}] must be a Variant, got {type(v).__name__}")
    seeds = validate.integer_list("seeds", seeds, 0)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    generation0 = dict(generation0 or {})
    for label in generation0:
        if label not in variants:
            raise ValueError(f"generation0 names {label!r}, which is not a variant")
    workers = validate.integer("workers", workers, 1)
    batches: dict[tuple, list[str]] = {}
    for label, v in variants.items():
        batches.setdefault(v.batch_key(), []).append(label)
    for labels in batches.values():
        if any(label in generation0 for label in labels) and not all(label in generation0 for label in labels):
            raise ValueError(f"generation0 must cover every variant trained with {labels} or none of them")
    # the calls of run_vae_batch: every batch, split by seed into up to `workers` parts
    parts = [list(p) for p in np.array_split(np.arange(len(seeds)), min(workers, len(seeds)))]
    calls: list[tuple[list[tuple[str, int]], dict[str, Any]]] = []
    for (config, n_train, approach), labels in batches.items():
        for part in parts:
            runs = [(label, i) for label in labels for i in part]  # label-major, as run_vae_batch returns them
            given = [generation0[label][i] for label, i in runs] if labels[0] in generation0 else None
            calls.append((runs, dict(
                images=x[:n_train], generations=[variants[label].generations for label, _ in runs], meter=meter,
                config=config, seeds=[seeds[i] for _, i in runs],
                retention=[variants[label].retention for label, _ in runs],
                decode=[variants[label].config.decode for label, _ in runs],
                protocol=[variants[label].protocol for label, _ in runs], approach=approach,
                keep_models=keep_models, generation0=given,
            )))  # fmt: skip
    out: dict[str, list[VAERun | None]] = {label: [None] * len(seeds) for label in variants}
    if workers == 1 or len(calls) == 1:
        results = [run_vae_batch(**kwargs, progress=progress) for _, kwargs in calls]
    else:
        results = _in_processes([kwargs for _, kwargs in calls], workers, progress)
    for (runs, _), result in zip(calls, results):
        for (label, i), run in zip(runs, result):
            out[label][i] = run
    return out  # type: ignore[return-value]  (every slot filled: one run per label and seed)


def _batch_in_worker(kwargs: dict[str, Any]) -> list[VAERun]:
    """One :func:`run_vae_batch` call in a worker process, on one torch thread (the small networks' best)."""
    import torch

    torch.set_num_threads(1)
    return run_vae_batch(**kwargs)


def _in_processes(calls: list[dict[str, Any]], workers: int, progress: bool | str) -> list[list[VAERun]]:
    """:func:`run_vae_batch` for every call in ``calls``, in ``workers`` spawned processes; results in call order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_batch_in_worker, kwargs): k for k, kwargs in enumerate(calls)}
        done = as_completed(futures)
        if progress:
            done = progress_bar(done, total=len(futures), desc=progress if isinstance(progress, str) else "parts")
        results: dict[int, list[VAERun]] = {futures[f]: f.result() for f in done}
    return [results[k] for k in range(len(calls))]


def protocol_configs(params: Mapping[str, Any], device: str = "cpu") -> tuple[VAEConfig, VAEConfig]:
    """The two VAE configurations of a chapter-3 parameter set ``params`` (a profile's ``P``).

    The book's protocol: ``latent_dim``, ``hidden``, ``epochs``, ``batch_size``,
    ``lr``, ``weight_decay`` and ``reduction`` of ``params``, Bernoulli draws.
    The authors' protocol: the same, on decoder means, with ``params["authors"]``
    (a dict of :class:`VAEConfig` fields, their convolutional VAE, or ``None``:
    the book's VAE) on top.
    """
    keys = ("latent_dim", "hidden", "epochs", "batch_size", "lr", "weight_decay", "reduction")
    missing = [k for k in (*keys, "authors") if k not in params]
    if missing:
        raise ValueError(f"params must hold {', '.join(missing)}")
    book = VAEConfig(**{k: params[k] for k in keys}, device=device)
    overrides = params["authors"] or {}
    if not isinstance(overrides, Mapping):
        raise ValueError(f"params['authors'] must be a dict of VAEConfig fields or None, got {overrides!r}")
    return book, dataclasses.replace(book, decode="mean", **overrides)
