"""The generational experiment of Shumailov et al. with language models, resumable.

Generation 0 is the model fine-tuned on the original (real) data; generation
``t + 1`` is fine-tuned on the training set built from generation ``t``'s
continuations (and, with retention, original blocks). For every *setting*
(epochs, share of original data kept), every *run* (seed) and every
generation ``g = 0..generations``:

1. the training set: generation 0 trains on the original blocks; generation
   ``g + 1`` on the blocks written by generation ``g``, of which a share
   ``retention`` are original blocks (the paper's approach 1 with retention:
   every generation's set has as many blocks as the original). As in the
   authors' original script (``main.py`` of their curse_recurse code), the
   retained blocks are those below an index limit, the same original blocks
   every generation (``retained_blocks="first"``); ``"random"`` draws a fresh
   random subset every generation instead. With ``accumulate=True``, generation
   ``g + 1`` trains on the original blocks and everything written by
   generations ``0..g`` (Gerstgrasser et al. 2024's accumulate schedule);
2. fine-tune a fresh copy of the pretrained weights on it (:func:`model.train`,
   the authors' recipe: AdamW, cosine annealing to 1e-6 over the epochs, the
   checkpoint with the best validation loss kept);
3. measure (:class:`.measures.Judge`): the loss on the original test blocks,
   in total, by token-frequency band and, on the embedded language, per word
   beside a perfect model's loss on the same words; the perplexity of every
   training block under the generation-0 model (Figure 11), whose reference
   is the validation blocks under generation 0 (original text it never
   trained on); diversity of the training text; on the embedded language its
   true log-likelihood and the coverage of its vocabulary by band beside a
   fresh sample of the source of the same size;
4. write the next generation's data: continue *every* original block with
   ``new_tokens`` tokens by beam search (5 beams, repetition penalty 3.0), and
   keep the continuation alone (the authors' ``outputs[:, 64:]``);
   ``decoding="sample"`` samples instead (temperature 1, no penalty).

On the embedded language the small model is pretrained on a separate
pretraining corpus (``pretrain_words``), disjoint from the fine-tuning,
validation and test text: it plays OPT-125m's pretraining.

Every finished generation is written under
``output/<setting>/run<k>/gen<g>/`` (``model/``, ``synthetic.npy``,
``blocks.npy`` (what it trained on), ``is_original.npy``, ``train_ppl.npy``,
``reference_ppl.npy`` (generation 0), ``metrics.json``, ``samples.json``, and
the marker ``DONE``) by filling a temporary folder and renaming it, so a generation
without ``DONE`` is never taken as finished. A second call picks up at the
first unfinished generation; every generation's randomness is seeded from
``(seed, setting, run, generation)`` alone, so a resumed run gives the same
results as an uninterrupted one. ``output/metrics.csv`` is the tidy table, one
row per setting, run and generation. ``output/identity.json`` records what was
actually loaded and the code version (:mod:`.identity`); resuming with anything
else is refused.

Several processes (``torchrun``, ``accelerate launch``) share every training
step (the configured batch is the global batch, the schedule the same) and
the beam search; only the main process prints and writes. On a CPU,
``run_experiment(..., workers=2)`` instead runs whole chains (one setting and
run) in parallel processes of one torch thread each.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import profiles, validate
from ..schedules import check_retention, choose_without_replacement, n_retained
from . import data as data_mod
from . import distributed
from . import identity as identity_mod
from . import measures
from . import model as model_mod
from .model import SmallModelConfig, atomic_dir, atomic_write_text
from .synthetic import LanguageConfig

RESULTS_ENV = "COLLAPSE_LLM_RESULTS"
RETAINED_BLOCKS = ("first", "random")
DECODINGS = ("beam", "sample")
_SETTING_NAME = re.compile(r"^(\d+)ep-keep(.+)$")


@dataclass(frozen=True)
class Setting:
    """One training setting: epochs per generation and the share of original blocks kept."""

    epochs: int
    retention: float

    @property
    def name(self) -> str:
        """A folder name, unique and reversible (:meth:`from_name`): ``5ep-keep0.0``, ``10ep-keep0.1``."""
        return f"{self.epochs}ep-keep{float(self.retention)!r}"

    @classmethod
    def from_name(cls, name: str) -> Setting:
        """The setting of a folder name made by :attr:`name`."""
        match = _SETTING_NAME.match(name)
        if not match:
            raise ValueError(f"setting name must look like '5ep-keep0.1', got {name!r}")
        return cls(int(match.group(1)), float(match.group(2)))

    @property
    def label(self) -> str:
        kept = "no original data" if self.retention == 0 else f"{self.retention:.0%} original data"
        return f"{self.epochs} epoch{'' if self.epochs == 1 else 's'}, {kept}"


PAPER_SETTINGS = (Setting(5, 0.0), Setting(10, 0.1))


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that determines an experiment's results.

    Defaults follow the paper and the authors' original script (``main.py`` in
    their curse_recurse repository): OPT-125m, wikitext-2-raw-v1, 64-token
    blocks continued by 64 tokens of 5-beam search with repetition penalty 3.0
    (the continuation alone kept), AdamW at 2e-5, batch 128,
    ``CosineAnnealingLR(T_max=epochs, eta_min=1e-6)``, the checkpoint with the
    best validation loss kept, 10 generations, 5 runs of two settings (5 epochs
    with no original data; 10 epochs with 10%, the blocks below an index limit
    keeping their original data). Gradient clipping at 1.0 (the transformers
    ``Trainer``'s default) is this book's addition (``max_grad_norm=None``
    turns it off).

    ``batch_size`` is the global batch, whatever the number of processes;
    ``micro_batch_size`` (blocks per forward pass and process) accumulates
    gradients when a batch does not fit in memory. ``fallback_lr`` is the
    learning rate used when the default hub model falls back to the small
    model (2e-5 is tuned for a pretrained OPT-125m, not for a small model).
    """

    model: str = model_mod.HUB_MODEL
    data: str = data_mod.DEFAULT_DATA
    generations: int = 10
    runs: int = 5
    settings: tuple[Setting, ...] = PAPER_SETTINGS
    block_size: int = 64
    new_tokens: int | None = None  # None: block_size (the synthetic set has the shape of the original)
    num_beams: int = 5
    repetition_penalty: float = 3.0
    lr: float = 2e-5
    schedule: str = "cosine"  # the authors' CosineAnnealingLR over the epochs; "linear", "constant"
    min_lr: float = 1e-6
    max_grad_norm: float | None = 1.0
    best_checkpoint: bool = True  # keep the epoch with the lowest validation loss
    batch_size: int = 128
    micro_batch_size: int | None = None
    gen_batch_size: int = 128  # on a GPU; the CPU profiles use 32
    eval_batch_size: int = 64
    max_train_blocks: int | None = None  # None: every block of the train split
    max_valid_blocks: int | None = None
    max_test_blocks: int | None = None
    retained_blocks: str = "first"  # the authors' index limit; "random": a fresh subset every generation
    seed: int = 0
    fallback: bool = True  # only the default hub names fall back, only when the hub is unreachable
    fallback_lr: float = 1e-3
    small: SmallModelConfig = field(default_factory=SmallModelConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    synthetic_words: tuple[int, int, int] = (60_000, 6_000, 6_000)
    pretrain_words: int | None = 300_000  # the embedded language's pretraining corpus (None: pretrain on train)
    decoding: str = "beam"  # "beam": the paper's beam search; "sample": plain sampling (temperature 1)
    accumulate: bool = False  # train on the original data and every generation's data so far
    keep_models: str = "all"  # "all", "first" (generation 0 only) or "none"
    samples: int = 4  # decoded samples of every generation's data kept in samples.json

    @property
    def continuation(self) -> int:
        return self.block_size if self.new_tokens is None else self.new_tokens

    def validate(self) -> ExperimentConfig:
        """Check every parameter (finite, in range); raises ``ValueError`` naming the parameter."""
        v = validate
        v.integer("generations", self.generations, 0)
        v.integer("runs", self.runs, 1)
        v.integer("block_size", self.block_size, 2)
        if self.new_tokens is not None:
            v.integer("new_tokens", self.new_tokens, 1)
        v.integer("num_beams", self.num_beams, 1)
        v.integer("batch_size", self.batch_size, 1)
        v.integer("gen_batch_size", self.gen_batch_size, 1)
        v.integer("eval_batch_size", self.eval_batch_size, 1)
        v.integer("seed", self.seed, 0)
        v.integer("samples", self.samples, 0)
        v.real("lr", self.lr, 0.0, 1.0, low_open=True)
        v.real("fallback_lr", self.fallback_lr, 0.0, 1.0, low_open=True)
        v.real("min_lr", self.min_lr, 0.0, self.lr)
        v.real("repetition_penalty", self.repetition_penalty, 0.0, low_open=True)
        if self.max_grad_norm is not None:
            v.real("max_grad_norm", self.max_grad_norm, 0.0, low_open=True)
        v.choice("schedule", self.schedule, model_mod.SCHEDULES)
        v.choice("retained_blocks", self.retained_blocks, RETAINED_BLOCKS)
        v.choice("keep_models", self.keep_models, ("all", "first", "none"))
        v.boolean("fallback", self.fallback)
        v.boolean("best_checkpoint", self.best_checkpoint)
        v.choice("decoding", self.decoding, DECODINGS)
        v.boolean("accumulate", self.accumulate)
        if self.pretrain_words is not None:
            v.integer("pretrain_words", self.pretrain_words, 1)
        for name in ("max_train_blocks", "max_valid_blocks", "max_test_blocks", "micro_batch_size"):
            if getattr(self, name) is not None:
                v.integer(name, getattr(self, name), 1)
        if len(self.synthetic_words) != 3:
            raise ValueError(f"synthetic_words must be 3 word counts (train, valid, test), got {self.synthetic_words!r}")
        for i, words in enumerate(self.synthetic_words):
            v.integer(f"synthetic_words[{i}]", words, 1)
        if not self.settings:
            raise ValueError("settings must hold at least one (epochs, retention) pair")
        for s in self.settings:
            v.integer("epochs", s.epochs, 1)
            try:
                check_retention(s.retention)
            except ValueError as err:
                raise ValueError(f"{err} (setting {s})") from None
        if len({s.name for s in self.settings}) != len(self.settings):
            raise ValueError(f"settings must differ from each other, got {self.settings}")
        small_used = self.model == model_mod.SMALL or (self.fallback and self.model == model_mod.HUB_MODEL)
        if small_used and self.block_size + self.continuation > self.small.max_positions:
            raise ValueError(
                f"block_size + new_tokens = {self.block_size + self.continuation} exceeds the small model's "
                f"context of {self.small.max_positions} positions"
            )
        return self

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["settings"] = [asdict(s) for s in self.settings]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ExperimentConfig:
        d = dict(d)
        d["settings"] = tuple(Setting(**s) for s in d["settings"])
        small_names = {f.name for f in fields(SmallModelConfig)}
        d["small"] = SmallModelConfig(**{k: v for k, v in d["small"].items() if k in small_names})
        d["language"] = LanguageConfig(**d["language"])
        d["synthetic_words"] = tuple(d["synthetic_words"])
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def key(self) -> str:
        """A hash of the whole configuration (an output folder belongs to one configuration)."""
        return model_mod.config_hash(self.to_json())


def derived_seed(seed: int, *keys: int) -> int:
    """A seed for one (setting, run, generation), independent of everything else that ran."""
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0])


# wikitext-2-raw-v1's train split holds about 2.4M OPT tokens, 37.4k blocks of 64
WIKITEXT2_TRAIN_BLOCKS = 37_400
GPU_SHARE = 0.1  # the share of wikitext2's training blocks the gpu profile uses


def profile_config(profile: str | None = None, **overrides: Any) -> ExperimentConfig:
    """The chapter's configuration for a profile (``quick``, ``book``, ``gpu`` or ``paper``).

    ``paper`` is the paper's scale (OPT-125m, wikitext2, 10 generations, 5 runs).
    ``gpu`` is sized for one free Colab session on a T4 (chapter 4 within about
    60 minutes by :func:`estimate_seconds`: about 48): OPT-125m on
    wikitext-2-raw-v1, the first 10% of its training blocks (3,740 of about
    37,400), the first 1,000 validation blocks for the best-checkpoint choice,
    the paper's two settings, 3 generations after generation 0 and 2 runs,
    everything else as the paper's (beam-search batches of 64 prompts to fit a
    T4's memory); offline it falls back to the embedded language and a small
    model at the same size. ``quick`` and ``book`` are CPU scales on the
    embedded language with a small OPT (which needs a larger learning rate than
    OPT-125m's fine-tuning). The profile is read by :mod:`collapse_utils.profiles`
    (``COLLAPSE_PROFILE``, else ``gpu`` with a CUDA device and ``book`` without),
    and the base ``seed`` is :func:`collapse_utils.profiles.seed` ``(0)``, shifted
    by ``COLLAPSE_SEED``. Keyword arguments override single fields.
    """
    quick = dict(
        model=model_mod.SMALL,
        data=data_mod.SYNTHETIC,
        generations=2,
        runs=1,
        settings=(Setting(1, 0.0), Setting(2, 0.1), Setting(2, 0.0)),
        num_beams=3,
        lr=1e-3,
        batch_size=16,
        micro_batch_size=None,
        gen_batch_size=32,
        max_train_blocks=32,
        max_valid_blocks=12,
        max_test_blocks=24,
        small=SmallModelConfig(
            hidden_size=64, ffn_dim=256, layers=2, heads=4, vocab_size=512, pretrain_epochs=2, pretrain_lr=3e-3,
            pretrain_batch_size=64,
        ),
        language=LanguageConfig(vocab_size=250),
        synthetic_words=(3_000, 1_200, 2_000),
        pretrain_words=30_000,
    )
    # the book's CPU scale: the paper's two settings and a third that separates epochs from retention, 5 runs
    # (the paper's), 4 generations after generation 0, 64 blocks of 64 tokens (the paper: about 37,400), a
    # 2-layer OPT whose 2,048-token vocabulary holds every word of the embedded language whole, pretrained
    # for 4 epochs on 150,000 words of it (disjoint from the rest)
    book = dict(
        model=model_mod.SMALL,
        data=data_mod.SYNTHETIC,
        generations=4,
        runs=5,
        settings=(Setting(5, 0.0), Setting(10, 0.1), Setting(10, 0.0)),
        num_beams=5,
        lr=3e-4,
        batch_size=16,
        micro_batch_size=None,
        gen_batch_size=64,
        max_train_blocks=64,
        max_valid_blocks=32,
        max_test_blocks=64,
        small=SmallModelConfig(
            hidden_size=128, ffn_dim=512, layers=2, heads=4, vocab_size=2048, dropout=0.0, pretrain_epochs=4,
            pretrain_lr=3e-3, pretrain_batch_size=32,
        ),
        language=LanguageConfig(),
        synthetic_words=(6_000, 3_000, 5_000),
        pretrain_words=150_000,
    )
    gpu = dict(
        model=model_mod.HUB_MODEL,
        data=data_mod.DEFAULT_DATA,
        generations=3,
        runs=2,
        settings=PAPER_SETTINGS,
        num_beams=5,
        lr=2e-5,
        batch_size=128,
        micro_batch_size=32,  # gradients accumulated over 4 passes: fits a T4's 16 GB
        gen_batch_size=64,  # 320 sequences of 5 beams per step: fits a T4's 16 GB
        max_train_blocks=round(GPU_SHARE * WIKITEXT2_TRAIN_BLOCKS),
        max_valid_blocks=1000,  # of about 3,900: the per-epoch validation would otherwise cost a third more
        max_test_blocks=None,
        # the fallback at GPU size: a 6-layer small OPT on 2.4M words of the embedded language
        small=SmallModelConfig(
            hidden_size=384, ffn_dim=1536, layers=6, heads=6, vocab_size=4096, pretrain_epochs=4, pretrain_lr=1e-3,
            pretrain_batch_size=64,
        ),
        language=LanguageConfig(),
        synthetic_words=(2_000_000, 200_000, 200_000),
        pretrain_words=1_000_000,
    )
    defaults = ExperimentConfig()
    paper = {f.name: getattr(defaults, f.name) for f in fields(ExperimentConfig) if f.name in book}
    chosen = profiles.choose(quick=quick, book=book, paper=paper, gpu=gpu, profile=profile)
    # the base seed follows COLLAPSE_SEED like every other seed of the book (an explicit seed= wins)
    return ExperimentConfig(**{**chosen, "seed": profiles.seed(0), **overrides}).validate()


def decoding_variant(config: ExperimentConfig, profile: str | None = None) -> ExperimentConfig | None:
    """The chapter's second experiment: the first setting again, sampling instead of beam search.

    The same configuration (model, data, runs, generations, recipe) with
    ``decoding="sample"`` (temperature 1, the model's whole distribution, no
    penalty) and only ``config.settings[0]``: beside the main experiment's
    first setting it changes the decoding alone. At the ``quick`` and ``book``
    profiles only; ``None`` at ``gpu`` and ``paper``, where it would add half
    again to a GPU session (run it there with ``--decoding sample``).
    """
    runs = profiles.choose(quick={"run": True}, book={"run": True}, gpu={"run": False}, paper={"run": False},
                           profile=profile)["run"]  # fmt: skip
    if not runs:
        return None
    return replace(config, decoding="sample", settings=tuple(config.settings[:1])).validate()


# ------------------------------------------------------------- time estimate
# Throughput at OPT-125m's shapes (12 layers, width 768, vocabulary 50272, random weights, 64-token blocks)
# measured by benchmarks/bench_llm.py on this book's 2-core CPU machine (shared, heavily loaded: 2026-11-24).
# No GPU measurement exists yet; with one, add its row and estimate_seconds uses it directly.
MEASURED = {
    # device: (training tokens/s at batch 8, generated tokens/s with 5 beams and 64 new tokens at batch 4,
    #          dense float32 matmul GFLOP/s of the same device, measured in the same run)
    "cpu": (13.6, 1.3, 38.7),
}
# peak dense 16-bit tensor-core throughput (TFLOP/s), from the vendors' data sheets
PEAK_TFLOPS = {"T4": 65.0, "L4": 121.0, "A10G": 70.0, "V100": 125.0, "A100": 312.0, "H100": 989.0}
# assumed: a GPU reaches the same share of its tensor-core peak on this model as the CPU reached of its
# measured matmul rate (the CPU reached about 26% in training; OPT-125m training on GPUs typically 20-40%)
GPU_EFFICIENCY = 1.0
GEN_STEP_FLOOR_S = 0.025  # one beam-search step of one batch takes at least this long on a GPU (Python, kernels)
WIKITEXT2_VALID_BLOCKS = 3_900  # about 250k OPT tokens
WIKITEXT2_TEST_BLOCKS = 4_400  # about 283k OPT tokens


def estimate_seconds(config: ExperimentConfig, device_name: str = "T4", hub_model: bool | None = None) -> float:
    """Estimated seconds of a whole experiment on ``device_name``: an estimate, not a measurement.

    The work is counted exactly (training tokens over every setting, run,
    generation and epoch; the forward passes of the per-epoch validation, the
    test set and Figure 11's scoring, each a third of a training token's cost;
    generated tokens) and divided by throughputs at OPT-125m's shapes scaled
    from :data:`MEASURED`. No GPU measurement is available, so the CPU figures
    are multiplied by the ratio of the GPU's 16-bit tensor-core peak
    (:data:`PEAK_TFLOPS`: a T4 65 TFLOP/s, an H100 989) to the CPU's measured
    float32 matmul rate (38.7 GFLOP/s), times :data:`GPU_EFFICIENCY` (1: the
    GPU is assumed to reach the same share of its peak as the CPU did of its
    rate); a T4 thus trains at about 23k tokens/s and writes about 2.2k tokens/s
    by 5-beam search, and beam search is further held to at least
    :data:`GEN_STEP_FLOOR_S` per decoding step of one batch. ``device_name`` is
    one of :data:`PEAK_TFLOPS` or ``"cpu"`` (the measured rates themselves). The
    small model (``model="small"``, or ``hub_model=False``) is scaled by its
    parameter count. Expect an error of up to a factor of two either way; the
    chapter prints the estimate before its long cell.
    """
    config.validate()
    name = validate.choice("device_name", device_name, ["cpu", *PEAK_TFLOPS])
    train_tps, gen_tps, gflops = MEASURED["cpu"]
    scale = 1.0 if name == "cpu" else PEAK_TFLOPS[name] * 1e3 * GPU_EFFICIENCY / gflops
    if hub_model is None:
        hub_model = config.model != model_mod.SMALL
    if not hub_model:  # cost per token scales roughly with the parameters (OPT-125m: 125M)
        s = config.small
        params = 12 * s.layers * s.hidden_size**2 + s.vocab_size * s.hidden_size
        scale *= 125e6 / max(params, 1)
    train_tps, gen_tps = train_tps * scale, gen_tps * scale
    n = config.max_train_blocks or WIKITEXT2_TRAIN_BLOCKS
    n_valid = config.max_valid_blocks or WIKITEXT2_VALID_BLOCKS
    n_test = config.max_test_blocks or WIKITEXT2_TEST_BLOCKS
    length = config.block_size
    seconds = 0.0
    for setting in config.settings:
        gens = config.generations + 1
        train_tokens = gens * setting.epochs * n * length
        forward_tokens = gens * (setting.epochs * n_valid * config.best_checkpoint + n_test + n) * length
        gen_s = config.generations * n * config.continuation / gen_tps
        if name != "cpu":
            steps = config.generations * math.ceil(n / config.gen_batch_size) * config.continuation
            gen_s = max(gen_s, steps * GEN_STEP_FLOOR_S)
        seconds += config.runs * (train_tokens / train_tps + forward_tokens / (3 * train_tps) + gen_s)
    return seconds + 60.0  # loading the model and the data once


def estimate_line(config: ExperimentConfig, device_name: str = "T4") -> str:
    """One sentence with :func:`estimate_seconds` for ``device_name``, saying that it is an estimate and from what."""
    minutes = estimate_seconds(config, device_name) / 60
    n = config.max_train_blocks or WIKITEXT2_TRAIN_BLOCKS
    return (
        f"estimated time of this experiment on a {device_name}: about {minutes:.0f} minutes "
        f"({len(config.settings)} settings x {config.runs} runs x {config.generations + 1} generations, "
        f"{n:,} training blocks; an estimate scaled from CPU measurements at OPT-125m's shapes by peak "
        "throughput ratios, see experiment.estimate_seconds; finished generations are saved, so running "
        "the cell again after a disconnect resumes)"
    )


# ------------------------------------------------------------------- metrics
def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct word ``n``-grams over all texts divided by all ``n``-grams (1 = no repeats)."""
    grams: list[tuple[str, ...]] = []
    for text in texts:
        toks = text.split()
        grams += [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
    return len(set(grams)) / max(1, len(grams))


def repetition(texts: Sequence[str], n: int = 4) -> float:
    """Share of word ``n``-grams that repeat an earlier ``n``-gram *of the same text* (0 = none)."""
    rep = total = 0
    for text in texts:
        toks = text.split()
        grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
        rep += len(grams) - len(set(grams))
        total += len(grams)
    return rep / max(1, total)


def text_metrics(
    texts: Sequence[str], language: Any | None = None
) -> tuple[dict[str, float], np.ndarray | None]:
    """Diversity of texts and, for the synthetic language, their truth-based measures.

    Returns ``(metrics, per_text_true_nll)``; the second is ``None`` without a language.
    """
    m = {
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        "distinct_3": distinct_n(texts, 3),
        "repetition_4": repetition(texts, 4),
    }
    if language is None:
        return m, None
    score = language.score(texts)
    m.update(
        true_nll=score.mean_nll,
        invalid_words=score.invalid_rate,
        impossible_pairs=score.impossible_rate,
        tail_coverage=language.tail_coverage(score),
        tail_share=language.tail_share(score),
    )
    return m, score.nll


# --------------------------------------------------------------------- runner
@dataclass
class Prepared:
    """What every generation shares: corpus, base model, blocks, the learning rate used."""

    config: ExperimentConfig
    corpus: data_mod.Corpus
    base: model_mod.Base
    train_blocks: np.ndarray
    valid_blocks: np.ndarray
    test_blocks: np.ndarray
    notes: list[str]
    lr: float  # config.lr, or config.fallback_lr when the default hub model fell back to the small one

    def identity(self) -> dict[str, Any]:
        """What was actually loaded and the code version (recorded in ``identity.json``)."""
        return {
            "model": {
                "requested": self.config.model,
                "loaded": self.base.name,
                "source": self.base.source.replace("cache", "trained here"),  # cached or not: the same model
                "weights": identity_mod.weights_fingerprint(self.base.model),
                "tokenizer": identity_mod.tokenizer_fingerprint(self.base.tokenizer),
            },
            "data": {
                "requested": self.config.data,
                "loaded": self.corpus.name,
                "source": self.corpus.source,
                "text": identity_mod.text_fingerprint([self.corpus.train, self.corpus.valid, self.corpus.test]),
            },
            "lr": self.lr,
            "code": identity_mod.code_version(),
        }


def check_sources(config: ExperimentConfig) -> dict[str, str]:
    """Decide where the data and the model come from, before any work; raises on what cannot be had.

    Returns ``{"data": ..., "model": ..., "hub": "reachable" | "unreachable" | "not needed"}``
    (see :func:`data.resolve_data` and :func:`model.resolve_model`). The hub is
    probed once, and only when a hub name is asked for.
    """
    data, name = str(config.data), str(config.model)
    hub_data = data in data_mod.WIKITEXT_NAMES and not Path(data).expanduser().is_dir()
    hub_model = name != model_mod.SMALL and not Path(name).expanduser().is_dir() and not data_mod.looks_like_path(name)
    needs_hub = hub_data or hub_model
    hub = data_mod.hub_reachable() if needs_hub else None
    how_data = data_mod.resolve_data(config.data, config.fallback, hub)
    how_model = model_mod.resolve_model(config.model, config.fallback, hub)
    return {
        "data": how_data,
        "model": how_model,
        "hub": "not needed" if hub is None else ("reachable" if hub else "unreachable"),
    }


def prepare(
    config: ExperimentConfig,
    output: str | Path,
    verbose: bool = True,
    progress: bool = False,
    cache_dir: str | Path | None = None,
    world: distributed.World | None = None,
    sources: dict[str, str] | None = None,
) -> Prepared:
    """Validate, resolve the sources, load the corpus and the base model, and cut the blocks (no fine-tuning yet).

    Raises ``ValueError`` (or :class:`data.HubUnavailable`) for bad input before
    any training: invalid parameters, a missing folder, an unknown data name, a
    hub name offline without fallback, an empty corpus, or a block (plus
    continuation) longer than the model's context.
    """
    config.validate()
    world = world if world is not None else distributed.current()
    sources = sources or check_sources(config)
    hub = {"reachable": True, "unreachable": False}.get(sources["hub"])
    corpus = _main_first(
        world,
        lambda: data_mod.load_corpus(
            config.data,
            fallback=config.fallback,
            synthetic_words=config.synthetic_words,
            language=config.language,
            seed=config.seed,
            verbose=verbose,
            hub=hub,
            pretrain_words=config.pretrain_words,
        ),
    )
    small = replace(config.small, block_size=config.block_size)
    cache = Path(output) / "cache" if cache_dir is None else Path(cache_dir)

    def load() -> model_mod.Base:
        return model_mod.load_base(
            config.model,
            corpus,
            cache,
            small,
            config.fallback,
            device=str(world.device),
            verbose=verbose,
            progress=progress,
            world=world,
            hub=hub,
        )

    # a hub model or folder: the main process downloads first; the small model: every process pretrains
    base = _main_first(world, load) if sources["model"] in ("hub", "folder") else load()
    if config.block_size + config.continuation > base.max_positions:
        raise ValueError(
            f"block_size + new_tokens = {config.block_size} + {config.continuation} exceeds the context of "
            f"{base.name} ({base.max_positions} positions)"
        )
    lr = config.fallback_lr if base.source.startswith("fallback") else config.lr
    train_blocks = data_mod.make_blocks(corpus.train, base.tokenizer, config.block_size, config.max_train_blocks)
    valid_blocks = data_mod.make_blocks(corpus.valid, base.tokenizer, config.block_size, config.max_valid_blocks)
    test_blocks = data_mod.make_blocks(corpus.test, base.tokenizer, config.block_size, config.max_test_blocks)
    notes = corpus.notes + base.notes
    if lr != config.lr:
        notes.append(f"learning rate: {lr:g} for the small model that stands in for {config.model} (fallback_lr)")
    notes.append(
        f"blocks: {len(train_blocks)} training, {len(valid_blocks)} validation and {len(test_blocks)} test "
        f"blocks of {config.block_size} tokens"
    )
    if verbose:
        for note in notes[len(corpus.notes) + len(base.notes) :]:
            print(note)
    return Prepared(config, corpus, base, train_blocks, valid_blocks, test_blocks, notes, lr)


def _main_first(world: distributed.World, fn: Any) -> Any:
    """``fn()`` on the main process first (downloads fill the cache), then on the others (no collectives in ``fn``)."""
    if not world.is_main:
        world.barrier()
        return fn()
    try:
        return fn()
    finally:  # also on an error, so that the others go on (and meet the same error) instead of waiting
        world.barrier()


def _gen_dir(output: Path, setting: Setting, run: int, generation: int) -> Path:
    return output / setting.name / f"run{run}" / f"gen{generation}"


def is_done(folder: Path) -> bool:
    """A generation is finished when its folder holds the ``DONE`` marker."""
    return (folder / "DONE").is_file()


def _check_output(output: Path, config: ExperimentConfig) -> None:
    path = output / "config.json"
    if path.exists():
        old = ExperimentConfig.from_json(json.loads(path.read_text()))
        if old.key() != config.key():
            diff = identity_mod.differences(old.to_json(), config.to_json())
            raise ValueError(
                f"output {str(output)!r} holds the results of another configuration ("
                + "; ".join(diff[:6])
                + "); resume with that configuration, start afresh (fresh=True, --fresh: the old folder is "
                "moved aside), or choose another output folder"
            )


def training_set(
    previous: np.ndarray, original: np.ndarray, retention: float, rng: np.random.Generator, retained: str = "first"
) -> tuple[np.ndarray, np.ndarray]:
    """Generation ``g + 1``'s training blocks from generation ``g``'s continuations and the original blocks.

    ``k = round(retention * n)`` blocks keep their original content: the first
    ``k`` (``retained="first"``, the authors' index limit: the same blocks every
    generation) or a random ``k``-subset drawn from ``rng`` (``"random"``).
    Returns ``(blocks, is_original)``.
    """
    n = len(original)
    blocks = np.array(previous, copy=True)
    is_original = np.zeros(n, dtype=bool)
    k = n_retained(n, retention)
    if k:
        keep = np.arange(k) if retained == "first" else choose_without_replacement(rng, n, k)
        blocks[keep] = original[keep]
        is_original[keep] = True
    return blocks, is_original


def run_experiment(
    config: ExperimentConfig,
    output: str | Path,
    verbose: bool = True,
    progress: bool = True,
    stop_after: int | None = None,
    device: str | None = None,
    cache_dir: str | Path | None = None,
    fresh: bool = False,
    workers: int = 1,
    only: Sequence[tuple[int, int]] | None = None,
) -> Results:
    """Run (or resume) the whole experiment and return its :class:`Results`.

    ``workers > 1`` runs whole chains of generations (one setting and run each)
    in that many processes at once, one torch thread each (on a CPU the small
    model runs faster on one thread per process than on several threads in one
    process); ``only`` restricts a call to some ``(setting index, run)`` chains
    (what each worker runs).

    ``stop_after`` stops after that many *newly computed* generations (to
    simulate an interruption in tests). ``cache_dir`` holds the small
    pretrained model (default ``output/cache``; it is keyed by everything that
    determines it, so experiments may share one). Generations already finished
    are loaded, not recomputed. A folder that holds results of another
    configuration, model, data or code version is refused with an error naming
    the differences; ``fresh=True`` moves an existing folder aside
    (``<output>.replaced-<time>``) and starts again. Under ``torchrun`` or
    ``accelerate launch`` every process takes part in every training step and
    in the beam search, and the main process alone prints and writes files.
    """
    config.validate()
    world = distributed.current(device)
    output = Path(output)
    sources = check_sources(config)  # a missing folder, an unknown name, the hub offline: stop before any work
    if fresh and world.is_main:
        moved = identity_mod.move_aside(output)
        if moved is not None and verbose:
            print(f"output: the old folder was moved to {moved}")
    world.barrier()
    _check_output(output, config)  # every process, so that all stop together
    verbose = verbose and world.is_main
    progress = progress and world.is_main
    threads = torch.get_num_threads()
    if world.device.type == "cpu" and sources["model"] in ("small", "fallback"):
        torch.set_num_threads(1)  # the small model, pretraining included: see _small_model_threads
    prep = prepare(
        config, output, verbose=verbose, progress=progress, cache_dir=cache_dir, world=world, sources=sources
    )
    ident = prep.identity()
    identity_mod.check_identity(output, ident)
    world.barrier()
    if world.is_main:
        output.mkdir(parents=True, exist_ok=True)
        if not (output / "config.json").exists():
            atomic_write_text(output / "config.json", json.dumps(config.to_json(), indent=1))
        if not (output / "identity.json").exists():
            atomic_write_text(output / "identity.json", json.dumps(ident, indent=1))
        if only is None:  # a worker of _run_parallel loads the cached model: the main process' notes stand
            atomic_write_text(output / "notes.txt", "\n".join(prep.notes) + "\n")
    dev = world.device
    prep.base.model.to(dev)  # every generation starts from a copy of it
    judge = measures.Judge(
        prep.base.tokenizer, prep.train_blocks, prep.valid_blocks, prep.test_blocks, prep.corpus.language,
        seed=config.seed, batch_size=config.eval_batch_size,
    )
    if world.is_main and not (output / "base.json").exists():
        summary = base_summary(prep, config)
        summary["writer"] = judge.writer_profiles(
            config.continuation, config.num_beams, config.repetition_penalty, sample=config.decoding == "sample"
        )
        summary["writer_spread"] = judge.fresh_spread(
            config.continuation, first=summary["writer"].get(measures.FRESH_ROW)
        )  # the writer table's fresh sample, not drawn again
        atomic_write_text(output / "base.json", json.dumps(summary, indent=1))
    world.barrier()
    _small_model_threads(prep.base.model, dev)
    if workers > 1 and world.size == 1 and only is None:
        try:
            return _run_parallel(config, output, cache_dir, device, workers)
        finally:
            torch.set_num_threads(threads)
    test_words = sum(len(t.split()) for t in prep.base.tokenizer.batch_decode(prep.test_blocks))
    computed = 0
    language = prep.corpus.language
    tok = prep.base.tokenizer
    n = len(prep.train_blocks)
    todo = [(si, s, r) for si, s in enumerate(config.settings) for r in range(config.runs)]
    if only is not None:
        todo = [(si, s, r) for si, s, r in todo if (si, r) in set(map(tuple, only))]
    bar = None
    if progress:
        from ..progress import progress as progress_bar

        bar = progress_bar(range(len(todo) * (config.generations + 1)), desc="generations")
        bar_iter = iter(bar)

    def tick() -> None:
        if bar is not None:
            next(bar_iter, None)

    for si, setting, run in todo:
        previous: np.ndarray | None = None  # the data written by the previous generation
        history: list[np.ndarray] = []  # every generation's written data so far (for accumulate)
        gen0 = None
        for g in range(config.generations + 1):
            folder = _gen_dir(output, setting, run, g)
            if is_done(folder):
                previous = np.load(folder / "synthetic.npy") if (folder / "synthetic.npy").exists() else None
                if previous is not None:
                    history.append(previous)
                tick()
                continue
            if stop_after is not None and computed >= stop_after:
                if hasattr(bar, "close"):
                    bar.close()
                world.barrier()
                return load_results(output)
            seed = derived_seed(config.seed, si, run, g)
            rng = np.random.default_rng(seed)
            # 1. the training set
            if g == 0:
                blocks = prep.train_blocks
                is_original = np.ones(n, dtype=bool)
            else:
                if previous is None:
                    raise RuntimeError(f"{folder}: the previous generation's synthetic data are missing")
                if config.accumulate:  # the original blocks and everything written so far
                    blocks = np.concatenate([prep.train_blocks, *history])
                    is_original = np.arange(len(blocks)) < n
                else:
                    blocks, is_original = training_set(
                        previous, prep.train_blocks, setting.retention, rng, config.retained_blocks
                    )
            # 2. fine-tune a fresh copy of the pretrained weights
            stats = model_mod.train(
                prep.base.fresh(),
                blocks,
                epochs=setting.epochs,
                lr=prep.lr,
                batch_size=config.batch_size,
                seed=seed,
                schedule=config.schedule,
                min_lr=config.min_lr,
                max_grad_norm=config.max_grad_norm,
                valid_blocks=prep.valid_blocks if config.best_checkpoint else None,
                eval_batch_size=config.eval_batch_size,
                micro_batch_size=config.micro_batch_size,
                world=world,
                progress=f"{setting.name} run {run} gen {g}: training" if progress else False,
            )
            lm = stats.pop("model")
            # 3. measure
            if gen0 is None:
                gen0 = lm if g == 0 else _load_gen0(output, setting, run, dev)
            t0 = time.perf_counter()
            model_m, test_nll = judge.model_metrics(lm)  # test loss: total, by frequency band, per word
            reference = judge.reference(lm) if g == 0 else None  # Figure 11's reference: gen. 0, unseen blocks
            train_ppl = np.exp(model_mod.sequence_nll(gen0, blocks, config.eval_batch_size))
            texts = tok.batch_decode(blocks)
            tmetrics, true_nll = text_metrics(texts, language)
            tmetrics.update(judge.data_metrics(texts))  # coverage by band, beside a fresh sample's
            eval_s = time.perf_counter() - t0
            # 4. the next generation's data
            synthetic = None
            gen_s = 0.0
            if g < config.generations:
                t0 = time.perf_counter()
                sample = config.decoding == "sample"
                synthetic = _generate_sharded(
                    world,
                    lm,
                    prep.train_blocks,
                    new_tokens=config.continuation,
                    num_beams=1 if sample else config.num_beams,
                    repetition_penalty=1.0 if sample else config.repetition_penalty,
                    do_sample=sample,
                    seed=seed,
                    batch_size=config.gen_batch_size,
                    pad_token_id=tok.pad_token_id,
                    eos_token_id=tok.eos_token_id,
                    progress=f"{setting.name} run {run} gen {g}: writing data" if progress else False,
                )
                gen_s = time.perf_counter() - t0
            if synthetic is not None and language is not None:
                tmetrics.update(judge.written_metrics(tok.batch_decode(synthetic)))
            metrics = {
                "setting": setting.name,
                "label": setting.label,
                "epochs": setting.epochs,
                "retention": setting.retention,
                "run": run,
                "generation": g,
                "seed": seed,
                "n_blocks": n,
                "n_original": int(is_original.sum()),
                "test_nll": float(test_nll.mean()),
                "test_perplexity": float(np.exp(test_nll.mean())),
                "test_nll_per_word": float(test_nll.sum() * (config.block_size - 1) / max(1, test_words)),
                **model_m,
                "train_loss": stats["loss"],
                "valid_loss": stats["valid_losses"][stats["best_epoch"]] if stats["valid_losses"] else float("nan"),
                "best_epoch": stats["best_epoch"],
                "train_ppl_gen0_mean": float(train_ppl.mean()),
                "train_ppl_gen0_median": float(np.median(train_ppl)),
                **tmetrics,
                "train_s": stats["seconds"],
                "train_tokens_per_s": stats["tokens_per_s"],
                "generate_s": gen_s,
                "generated_tokens_per_s": (n * config.continuation / gen_s) if gen_s else float("nan"),
                "eval_s": eval_s,
                "processes": world.size,
            }
            samples = [
                {"prompt": tok.decode(prep.train_blocks[i]), "text": texts[i], "original": bool(is_original[i])}
                for i in range(min(config.samples, n))
            ]
            if world.is_main:
                with atomic_dir(folder) as tmp:
                    # generation 0 is always kept: it judges every later generation, also after a resume
                    if config.keep_models == "all" or g == 0:
                        model_mod.save_model(lm, tmp / "model")
                    if synthetic is not None:
                        np.save(tmp / "synthetic.npy", synthetic)
                    np.save(tmp / "train_ppl.npy", train_ppl)
                    np.save(tmp / "is_original.npy", is_original)
                    np.save(tmp / "blocks.npy", blocks.astype(np.int32))  # what this generation trained on
                    if reference is not None:
                        np.save(tmp / "reference_ppl.npy", reference)
                    np.save(tmp / "lrs.npy", np.asarray(stats["lrs"]))
                    if true_nll is not None:
                        np.save(tmp / "true_nll.npy", true_nll)
                    (tmp / "metrics.json").write_text(json.dumps(metrics, indent=1))
                    (tmp / "samples.json").write_text(json.dumps(samples, indent=1))
                write_table(output)
            world.barrier()
            previous = synthetic
            if synthetic is not None:
                history.append(synthetic)
            computed += 1
            tick()
            if g > 0 and lm is not gen0:
                del lm
    if hasattr(bar, "close"):
        bar.close()
    torch.set_num_threads(threads)
    return load_results(output)


SMALL_MODEL_PARAMETERS = 20_000_000


def _small_model_threads(lm: Any, device: Any) -> int:
    """Use one torch thread for a small model on a CPU; returns the previous count (to restore).

    A small OPT spends its time in many tiny operations; several threads then
    wait on each other more than they compute (measured on the book's 2-core
    machine: one thread trained and generated several times faster than two
    when the machine was busy).
    """
    previous = torch.get_num_threads()
    if getattr(device, "type", str(device)) == "cpu" and lm.num_parameters() < SMALL_MODEL_PARAMETERS:
        torch.set_num_threads(1)
    return previous


def _run_chains(config: ExperimentConfig, output: str, cache_dir: str | None, device: str | None, chains) -> None:
    """A worker of :func:`_run_parallel`: run some ``(setting index, run)`` chains."""
    run_experiment(config, output, verbose=False, progress=False, device=device, cache_dir=cache_dir, only=chains)


def _run_parallel(config: ExperimentConfig, output: Path, cache_dir, device, workers: int) -> Results:
    """Run the unfinished chains in ``workers`` processes (longest first, each to the least loaded worker)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chains = [
        (si, run)
        for si, s in enumerate(config.settings)
        for run in range(config.runs)
        if not is_done(_gen_dir(output, s, run, config.generations))
    ]
    loads = [0.0] * workers
    parts: list[list[tuple[int, int]]] = [[] for _ in range(workers)]
    for si, run in sorted(chains, key=lambda c: -config.settings[c[0]].epochs):
        k = int(np.argmin(loads))
        parts[k].append((si, run))
        loads[k] += config.settings[si].epochs + 2  # training epochs plus about two epochs' worth of writing
    parts = [p for p in parts if p]
    if parts:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=len(parts), mp_context=context) as pool:
            futures = [
                pool.submit(_run_chains, config, str(output), None if cache_dir is None else str(cache_dir), device, p)
                for p in parts
            ]
            for future in futures:
                future.result()
    write_table(output)
    return load_results(output)


def base_summary(prep: Prepared, config: ExperimentConfig) -> dict[str, Any]:
    """How well the pretrained starting point fits the test blocks (and, for the embedded language, the truth).

    ``test_nll_per_word`` spreads the model's total NLL over the test blocks'
    whitespace words, so that it is comparable with the source's entropy rate
    (nats per word) and with ``true_nll_test`` (the true NLL per word of the
    same blocks; below the entropy rate neither can go in expectation).
    """
    tok = prep.base.tokenizer
    nll = model_mod.sequence_nll(prep.base.model, prep.test_blocks, config.eval_batch_size)
    texts = tok.batch_decode(prep.test_blocks)
    words = sum(len(t.split()) for t in texts)
    out: dict[str, Any] = {
        "model": prep.base.name,
        "source": prep.base.source,
        "data": prep.corpus.name,
        "test_perplexity": float(np.exp(nll.mean())),
        "test_nll_per_word": float(nll.sum() * (config.block_size - 1) / max(1, words)),
        "tokens_per_word": float(prep.test_blocks.size / max(1, words)),
    }
    lang = prep.corpus.language
    if lang is not None:
        score = lang.score(texts)
        out.update(
            entropy_rate=lang.entropy_rate(),
            unigram_entropy=lang.unigram_entropy(),
            true_nll_test=score.mean_nll,
            language=lang.describe(),
        )
    return out


def _generate_sharded(world: distributed.World, lm: Any, prompts: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Beam-search continuations of every prompt, split across processes (every process gets all of them)."""
    if not world.distributed:
        return model_mod.continue_blocks(lm, prompts, **kwargs)
    mine = np.arange(world.rank, len(prompts), world.size)
    part = model_mod.continue_blocks(lm, prompts[mine], **kwargs)
    out = np.zeros((len(prompts), kwargs["new_tokens"]), dtype=np.int64)
    for idx, rows in world.gather_object((mine, part)):
        out[idx] = rows
    return out


def _load_gen0(output: Path, setting: Setting, run: int, device: Any) -> Any:
    from transformers import AutoModelForCausalLM

    folder = _gen_dir(output, setting, run, 0) / "model"
    with model_mod.quiet_progress():
        lm = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="sdpa", dtype=model_mod.torch.float32)
    return lm.to(device).eval()


# -------------------------------------------------------------------- results
def write_table(output: str | Path) -> pd.DataFrame:  # noqa: F821
    """Collect every finished generation's ``metrics.json`` into ``output/metrics.csv`` (atomically)."""
    import pandas as pd

    output = Path(output)
    rows = [
        json.loads(p.read_text())
        for p in sorted(output.glob("*/run*/gen*/metrics.json"))
        if is_done(p.parent)
    ]
    table = pd.DataFrame(rows)
    if len(table):
        table = table.sort_values(["setting", "run", "generation"]).reset_index(drop=True)
    atomic_write_text(output / "metrics.csv", table.to_csv(index=False))
    return table


@dataclass
class Results:
    """Saved results of an experiment: the tidy table and the per-block arrays."""

    output: Path
    config: ExperimentConfig
    table: Any  # pandas.DataFrame, one row per (setting, run, generation)
    notes: list[str]
    base: dict[str, Any] = field(default_factory=dict)  # how well the pretrained model fits (base.json)

    @property
    def settings(self) -> list[str]:
        return list(dict.fromkeys(self.table["setting"])) if len(self.table) else []

    def label(self, setting: str) -> str:
        return str(self.table.loc[self.table["setting"] == setting, "label"].iloc[0])

    def generations(self, setting: str | None = None) -> list[int]:
        t = self.table if setting is None else self.table[self.table["setting"] == setting]
        return sorted(int(g) for g in t["generation"].unique())

    def array(self, name: str, setting: str, generation: int, run: int | None = None) -> np.ndarray:
        """A per-block array (``train_ppl``, ``true_nll``, ``is_original``), all runs concatenated by default."""
        runs = (
            sorted(self.table.loc[self.table["setting"] == setting, "run"].unique()) if run is None else [run]
        )
        parts = []
        for r in runs:
            path = self.output / setting / f"run{r}" / f"gen{generation}" / f"{name}.npy"
            if path.exists():
                parts.append(np.load(path))
        if not parts:
            raise KeyError(f"no {name}.npy for setting {setting!r}, generation {generation}")
        return np.concatenate(parts)

    def samples(self, setting: str, generation: int, run: int = 0) -> list[dict[str, Any]]:
        path = self.output / setting / f"run{run}" / f"gen{generation}" / "samples.json"
        return json.loads(path.read_text())

    def describe(self) -> str:
        c = self.config
        return (
            f"{self.output}: model {c.model}, data {c.data}, {len(self.table)} finished generations "
            f"({c.runs} runs x {len(c.settings)} settings x {c.generations + 1} generations planned)"
        )


def perplexity_shift(results: Results, quantile: float = 0.99):
    """How each generation's training blocks sit against the original blocks, under the generation-0 model.

    Per setting and generation (all runs together): the median perplexity, the
    share of blocks above the original blocks' median (0.5 for the original
    data), and the share above their ``quantile`` (the paper's long right
    tail: sequences the first model would hardly produce). A DataFrame.
    """
    import pandas as pd

    rows = []
    for setting in results.settings:
        original = results.array("train_ppl", setting, 0)
        median, high = np.median(original), np.quantile(original, quantile)
        for g in results.generations(setting):
            ppl = results.array("train_ppl", setting, g)
            rows.append(
                {
                    "setting": setting,
                    "generation": g,
                    "median_perplexity": float(np.median(ppl)),
                    "above_original_median": float(np.mean(ppl > median)),
                    f"above_original_q{round(quantile * 100)}": float(np.mean(ppl > high)),
                    "max_perplexity": float(ppl.max()),
                }
            )
    return pd.DataFrame(rows)


def load_results(output: str | Path) -> Results:
    """Load the saved results of an experiment (finished or not) from its output folder."""
    import pandas as pd

    output = Path(output)
    cfg_path = output / "config.json"
    if not cfg_path.exists():
        raise ValueError(f"results: {output} holds no config.json (not an experiment's output folder)")
    config = ExperimentConfig.from_json(json.loads(cfg_path.read_text()))
    csv = output / "metrics.csv"
    table = pd.read_csv(csv) if csv.exists() and csv.stat().st_size > 1 else write_table(output)
    notes_path = output / "notes.txt"
    notes = notes_path.read_text().splitlines() if notes_path.exists() else []
    base_path = output / "base.json"
    base = json.loads(base_path.read_text()) if base_path.exists() else {}
    return Results(output, config, table, notes, base)


def saved_results_path() -> Path | None:
    """The folder of a larger run's saved results to plot instead, from ``COLLAPSE_LLM_RESULTS`` (or None)."""
    value = os.environ.get(RESULTS_ENV, "").strip()
    return Path(value).expanduser() if value else None


def default_output(config: ExperimentConfig, root: str | Path = "runs/llm") -> Path:
    """An output folder keyed by the configuration and the code: ``runs/llm/<model>-<data>-<hash>-<code>``.

    With the code version (:func:`identity.code_version`) in the name, a change
    of the code that computes the results starts a new folder instead of
    resuming one it cannot continue.
    """
    tag = Path(config.model).name.replace("/", "-")
    data = Path(config.data).name
    return Path(root) / f"{tag}-{data}-{config.key()}-{identity_mod.code_version()}"


def settings_from_pairs(pairs: Iterable[tuple[int, float]]) -> tuple[Setting, ...]:
    """``[(epochs, retention), ...]`` as settings."""
    return tuple(Setting(int(e), float(r)) for e, r in pairs)
