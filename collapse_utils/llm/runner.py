"""One generation of one chain: build its training set, fine-tune, measure, write the next generation's data.

A *chain* is one setting and one run of an experiment: generations
``0..generations``. Generation 0 is the model fine-tuned on the original (real)
data; generation ``t + 1`` is fine-tuned on the training set built from
generation ``t``'s continuations (and, with retention, original blocks).

:func:`run_generation` computes generation ``g`` of a chain from what is on disk
(generation ``g - 1``'s folder) and saves its folder atomically (``DONE`` last),
so a chain can stop anywhere and go on from the first unfinished generation,
in any process: :mod:`.workers` schedules these steps.

**Generation 0 is shared.** Every chain whose generation 0 is the same model
(same base model, data, epochs, training recipe, seed and run: a setting's
retention, the data schedule and the recipe of later generations do not enter
it; generation 0 always keeps its best epoch on the real validation blocks) uses
one computation of it, kept under ``<cache>/gen0/<key>/`` (:func:`gen0_key`):
the model, its measures and, per decoding, the data it wrote
(:func:`run_gen0`, :func:`write_gen0`). :func:`materialize_gen0` then fills
a chain's ``gen0`` folder from it (hard links). Chains that differ only after
generation 0 are paired: they start from the same model.

**The training set** of generation ``g >= 1`` is built by the book's shared
schedule (:class:`collapse_utils.schedules.DataSchedule`): ``"replace"`` (the
paper's), ``"accumulate-subsample"`` or ``"accumulate"``. Generation ``g - 1``
continued *every* original block; a share ``retention`` of the blocks keeps
its original text (``retained_blocks``: a random subset drawn anew each
generation, as the authors' shuffled data-writing pass keeps the batches below
an index limit; or the first blocks; or fresh text from the source) and the
others are the continuations of those same blocks (the authors' pairing).
Under the accumulating schedules the pool is rebuilt from the saved data of
every earlier generation with the same random numbers, so a resumed chain
trains on exactly what an uninterrupted one would; the folder of every
generation keeps what it trained on (``blocks.npy``), and a resumed chain checks
it.
"""

from __future__ import annotations

import copy
import json
import shutil
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import schedules
from . import data as data_mod
from . import distributed
from . import identity as identity_mod
from . import measures
from . import model as model_mod
from .config import ExperimentConfig, Setting, derived_seed
from .model import atomic_dir, atomic_write_text
from .results import gen_dir, is_done, write_table
from .synthetic import SyntheticLanguage
from .textmetrics import text_metrics

APPROACH = {name: number for number, name in schedules.SCHEDULE_NAMES.items()}
SMALL_MODEL_PARAMETERS = 20_000_000


# ------------------------------------------------------------------------------------------- preparation
@dataclass
class Prepared:
    """What every generation of an experiment shares: corpus, base model, blocks, the learning rate used."""

    config: ExperimentConfig
    corpus: data_mod.Corpus
    base: model_mod.Base
    train_blocks: np.ndarray
    valid_blocks: np.ndarray
    test_blocks: np.ndarray
    notes: list[str]
    lr: float  # config.lr, or config.fallback_lr when the default hub model fell back to the small one
    _judge: measures.Judge | None = field(default=None, repr=False)

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

    @property
    def judge(self) -> measures.Judge:
        """The measures of every generation (built once)."""
        if self._judge is None:
            self._judge = measures.Judge(
                self.base.tokenizer, self.train_blocks, self.valid_blocks, self.test_blocks, self.corpus.language,
                seed=self.config.seed, batch_size=self.config.eval_batch_size, special_tokens=self.special_tokens,
            )
        return self._judge

    @property
    def special_tokens(self) -> bool:
        return self.config.tokenization == "lines"


def check_sources(config: ExperimentConfig) -> dict[str, str]:
    """Decide where the data and the model come from, before any work; raises on what cannot be had.

    Returns ``{"data": ..., "model": ..., "hub": "reachable" | "unreachable" | "not needed"}``
    (see :func:`data.resolve_data` and :func:`model.resolve_model`). The hub is
    probed once, and only when a hub name is asked for.
    """
    data, name = str(config.data), str(config.model)
    hub_data = data in data_mod.WIKITEXT_NAMES and not Path(data).expanduser().is_dir()
    hub_model = name != model_mod.SMALL and not Path(name).expanduser().is_dir() and not data_mod.looks_like_path(name)
    hub = data_mod.hub_reachable() if (hub_data or hub_model) else None
    how_data = data_mod.resolve_data(config.data, config.fallback, hub)
    how_model = model_mod.resolve_model(config.model, config.fallback, hub)
    if config.retained_blocks == "fresh" and how_data not in ("synthetic", "fallback"):
        raise ValueError("retained_blocks='fresh' needs the embedded language (new text from its source)")
    return {
        "data": how_data,
        "model": how_model,
        "hub": "not needed" if hub is None else ("reachable" if hub else "unreachable"),
    }


def pretraining_language(config: ExperimentConfig) -> SyntheticLanguage | None:
    """The language the small model is pretrained on, when it is not the fine-tuning language itself."""
    if config.pretrain_language == "same":
        return None
    return SyntheticLanguage(config.language).related(config.pretrain_blend, blend_seed=config.language.seed + 1)


_CORPORA: OrderedDict[str, data_mod.Corpus] = OrderedDict()


def load_corpus(config: ExperimentConfig, hub: bool | None = None, verbose: bool = False) -> data_mod.Corpus:
    """The experiment's corpus (:func:`.data.load_corpus`), built once per process for experiments that share it.

    The embedded language's corpus with its pretraining text takes a second or
    two to write; the chapter's experiments share it (all but the ablation's
    same-language pretraining), and every process builds it once.
    """
    fields_ = ("data", "fallback", "synthetic_words", "language", "seed", "pretrain_words", "pretrain_language",
               "pretrain_blend")  # fmt: skip
    key = model_mod.config_hash({f: v for f, v in config.to_json().items() if f in fields_}, hub)
    if key not in _CORPORA:
        _CORPORA[key] = data_mod.load_corpus(
            config.data, fallback=config.fallback, synthetic_words=config.synthetic_words, language=config.language,
            seed=config.seed, verbose=False, hub=hub, pretrain_words=config.pretrain_words,
            pretrain_language=pretraining_language(config),
        )  # fmt: skip
        while len(_CORPORA) > 4:
            _CORPORA.popitem(last=False)
    corpus = _CORPORA[key]
    if verbose:
        for note in corpus.notes:
            print(note)
    return corpus


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
    continuation) longer than the model's context. The small model is
    pretrained here when it is not in the cache.
    """
    config.validate()
    world = world if world is not None else distributed.current()
    sources = sources or check_sources(config)
    hub = {"reachable": True, "unreachable": False}.get(sources["hub"])
    special = config.tokenization == "lines"
    corpus = _main_first(world, lambda: load_corpus(config, hub, verbose))
    small = replace(config.small, block_size=config.block_size)
    cache = Path(output) / "cache" if cache_dir is None else Path(cache_dir)

    def load() -> model_mod.Base:
        return model_mod.load_base(
            config.model, corpus, cache, small, config.fallback, device=str(world.device), verbose=verbose,
            progress=progress, world=world, hub=hub, special_tokens=special,
        )

    # a hub model or folder: the main process downloads first; the small model: every process pretrains
    base = _main_first(world, load) if sources["model"] in ("hub", "folder") else load()
    if config.block_size + config.continuation > base.max_positions:
        raise ValueError(
            f"block_size + new_tokens = {config.block_size} + {config.continuation} exceeds the context of "
            f"{base.name} ({base.max_positions} positions)"
        )
    lr = config.fallback_lr if base.source.startswith("fallback") else config.lr
    # the training blocks: a random subset when capped (a contiguous first share of wikitext-2 would be a few
    # articles); the validation and test blocks: the first ones (they only measure)
    train = data_mod.make_blocks(corpus.train, base.tokenizer, config.block_size, special_tokens=special)
    available = len(train)
    if config.max_train_blocks is not None and config.max_train_blocks < available:
        rng = np.random.default_rng(derived_seed(config.seed, "training blocks"))
        train = train[np.sort(rng.choice(available, config.max_train_blocks, replace=False))]
    blocks = [train] + [
        data_mod.make_blocks(lines, base.tokenizer, config.block_size, cap, special_tokens=special)
        for lines, cap in ((corpus.valid, config.max_valid_blocks), (corpus.test, config.max_test_blocks))
    ]
    notes = corpus.notes + base.notes
    if lr != config.lr:
        notes.append(f"learning rate: {lr:g} for the small model that stands in for {config.model} (fallback_lr)")
    notes.append(
        f"blocks: {len(blocks[0])} training"
        + (f" (a random subset of the split's {available})" if len(blocks[0]) < available else "")
        + f", {len(blocks[1])} validation and {len(blocks[2])} test blocks of {config.block_size} tokens"
        + (", every line tokenised on its own with the tokenizer's special tokens (the authors')" if special else "")
    )
    if verbose:
        for note in notes[len(corpus.notes) + len(base.notes) :]:
            print(note)
    return Prepared(config, corpus, base, *blocks, notes, lr)


def _main_first(world: distributed.World, fn: Any) -> Any:
    """``fn()`` on the main process first (downloads fill the cache), then on the others (no collectives in ``fn``)."""
    if not world.is_main:
        world.barrier()
        return fn()
    try:
        return fn()
    finally:  # also on an error, so that the others go on (and meet the same error) instead of waiting
        world.barrier()


def base_summary(prep: Prepared) -> dict[str, Any]:
    """How well the pretrained starting point fits the test blocks (and, for the embedded language, the truth).

    ``test_nll_per_word`` spreads the model's total NLL over the test blocks'
    whitespace words, so that it is comparable with the source's entropy rate
    (nats per word) and with ``true_nll_test`` (the true NLL per word of the
    same blocks; below the entropy rate neither can go in expectation).
    """
    config = prep.config
    tok = prep.base.tokenizer
    nll = model_mod.sequence_nll(prep.base.model, prep.test_blocks, config.eval_batch_size)
    texts = data_mod.decode_blocks(tok, prep.test_blocks)
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
        if prep.corpus.pretrain_language is not None:
            out["pretrain_cross_entropy"] = lang.cross_entropy(prep.corpus.pretrain_language)
    judge = prep.judge
    out["writer"] = judge.writer_profiles(
        config.continuation, config.num_beams, config.repetition_penalty, sample=config.decoding == "sample"
    )
    out["writer_spread"] = judge.fresh_spread(config.continuation, first=out["writer"].get(measures.FRESH_ROW))
    return out


def small_model_threads(lm: Any, device: Any) -> int:
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


# ------------------------------------------------------------------------------------------- keys and seeds
GEN0_FIELDS = (
    "lr", "schedule", "min_lr", "max_grad_norm", "batch_size", "micro_batch_size", "eval_batch_size",
    "tokenization", "seed",
)  # fmt: skip
WRITE_FIELDS = ("decoding", "num_beams", "repetition_penalty", "new_tokens", "block_size", "select", "gen_batch_size")


def gen0_key(prep: Prepared, epochs: int, run: int) -> str:
    """What determines generation 0 of a chain: the loaded base model and data, the training recipe, seed and run."""
    c = prep.config
    ident = prep.identity()
    parts = {f: getattr(c, f) for f in GEN0_FIELDS}
    blocks = [identity_mod.blocks_fingerprint(b) for b in (prep.train_blocks, prep.valid_blocks, prep.test_blocks)]
    return model_mod.config_hash(
        ident["model"], ident["data"], ident["code"], prep.lr, parts, blocks, epochs, run, c.language, c.synthetic_words
    )


def write_key(config: ExperimentConfig) -> str:
    """What determines the data a generation writes from its model: the decoding (and the candidates per block)."""
    return model_mod.config_hash({f: getattr(config, f) for f in WRITE_FIELDS})[:8]


def written_folder(shared: Path, config: ExperimentConfig, what: str) -> Path:
    """Where the shared generation 0 keeps what it wrote: continuations of the ``"train"`` or ``"valid"`` blocks."""
    return shared / f"{what}-{write_key(config)}"


def gen0_seed(config: ExperimentConfig, epochs: int, run: int) -> int:
    return derived_seed(config.seed, "generation 0", epochs, run)


def chain_seed(config: ExperimentConfig, setting: Setting, run: int, generation: int, what: str = "train") -> int:
    """The seed of one generation of one chain (``what``: ``"train"``, ``"data"``, ``"write"``)."""
    return derived_seed(config.seed, setting.name, run, generation, what)


def candidates(config: ExperimentConfig) -> int:
    """Continuations written per block: ``round(1 / select)`` (1: no selection)."""
    return max(1, round(1.0 / config.select))


# ------------------------------------------------------------------------------------------- per process
#: Saved models kept loaded in this process, the least recently used first (:func:`saved_model`).
_LOADED: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
#: Loaded models kept: at least this many, and more while their weights take at most :data:`KEEP_MODEL_BYTES`.
KEEP_MODELS = 4
KEEP_MODEL_BYTES = 256 * 2**20


def _files_identity(folder: Path) -> tuple:
    """What names a saved model's files: each file's name, device, inode, size and modification time.

    A chain's ``gen0/model`` is a set of hard links to the shared generation 0
    (:func:`materialize_gen0`), so every chain and every experiment of a process
    that starts from one generation 0 finds the model it already loaded; a
    folder written again (new files) is loaded again.
    """
    out = []
    for path in sorted(Path(folder).iterdir()):
        st = path.stat()
        out.append((path.name, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


def saved_model(folder: Path, device: Any) -> Any:
    """The model saved in ``folder`` on ``device`` (float32, ``sdpa``, eval mode), loaded once per process and kept.

    Every context of the process shares the kept models (the chains of a
    worker take turns, and each generation scores its data under its chain's
    generation 0): :data:`KEEP_MODELS` at least, more while they weigh at
    most :data:`KEEP_MODEL_BYTES` (a few OPT-125m on a GPU; every small model of a
    book run). Callers must not change a kept model (``init="previous"``
    trains a deep copy).
    """
    key = (str(device), _files_identity(folder))
    if key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key][0]
    from transformers import AutoModelForCausalLM

    with model_mod.quiet_progress():
        lm = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="sdpa", dtype=torch.float32)
    lm = lm.to(device).eval()
    _LOADED[key] = (lm, sum(p.numel() * p.element_size() for p in lm.parameters()))
    while len(_LOADED) > KEEP_MODELS and sum(size for _, size in _LOADED.values()) > KEEP_MODEL_BYTES:
        _LOADED.popitem(last=False)
    return lm


class Context:
    """One process's view of one experiment: the prepared data and models (saved models: :func:`saved_model`)."""

    def __init__(self, config: ExperimentConfig, output: Path, cache_dir: Path, world: distributed.World,
                 prep: Prepared) -> None:  # fmt: skip
        self.config = config
        self.output = Path(output)
        self.cache_dir = Path(cache_dir)
        self.world = world
        self.prep = prep
        self.device = world.device
        self.test_words = sum(len(t.split()) for t in data_mod.decode_blocks(prep.base.tokenizer, prep.test_blocks))
        prep.base.model.to(self.device)
        small_model_threads(prep.base.model, self.device)

    @property
    def store(self) -> Path:
        return self.cache_dir / "gen0"

    def model_at(self, folder: Path) -> Any:
        """A saved model, loaded once in this process and kept while it is among the last used (:func:`saved_model`)."""
        return saved_model(folder, self.device)

    def write(self, lm: Any, prompts: np.ndarray, seed: int, progress: str | bool = False) -> np.ndarray:
        """Continue every prompt as the experiment does: ``(n, candidates, new_tokens)``."""
        c = self.config
        sample = c.decoding == "sample"
        tok = self.prep.base.tokenizer
        out = _generate_sharded(
            self.world, lm, prompts, new_tokens=c.continuation, num_beams=1 if sample else c.num_beams,
            repetition_penalty=1.0 if sample else c.repetition_penalty, do_sample=sample, seed=seed,
            batch_size=c.gen_batch_size, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
            progress=progress, candidates=candidates(c),
        )  # fmt: skip
        return out.reshape(len(prompts), candidates(c), c.continuation)


def _generate_sharded(world: distributed.World, lm: Any, prompts: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Continuations of every prompt, split across processes (every process gets all of them)."""
    if not world.distributed:
        return model_mod.continue_blocks(lm, prompts, **kwargs)
    mine = np.arange(world.rank, len(prompts), world.size)
    part = model_mod.continue_blocks(lm, prompts[mine], **kwargs)
    out = np.zeros((len(prompts), *part.shape[1:]), dtype=np.int64)
    for idx, rows in world.gather_object((mine, part)):
        out[idx] = rows
    return out


def choose(ctx: Context, written: np.ndarray, gen0: Any) -> tuple[np.ndarray, np.ndarray]:
    """The kept continuation of every block (the likeliest under generation 0 when several were written).

    Returns ``(blocks, perplexity under generation 0 of every candidate)``; with
    one candidate, the candidates themselves and ``None`` (nothing to choose
    between: scoring them under generation 0 would cost a pass that nothing
    reads; Figure 11 scores every generation's training blocks itself).
    """
    n, c, length = written.shape
    if c == 1:
        return written[:, 0], None
    ppl = np.exp(model_mod.sequence_nll(gen0, written.reshape(n * c, length), ctx.config.eval_batch_size)).reshape(n, c)
    best = ppl.argmin(axis=1)
    return written[np.arange(n), best], ppl


def model_measures(ctx: Context, lm: Any) -> dict[str, Any]:
    """A model's test loss (total, by frequency band, per word beside the perfect model's) and its sum per block."""
    model_m, per_block = ctx.prep.judge.model_metrics(lm)
    length = ctx.prep.test_blocks.shape[1]
    return {"test_nll": float(per_block.mean()), "test_nll_sum": float(per_block.sum() * (length - 1)), **model_m}


def finished(ctx: Context, folder: Path) -> bool:
    """Whether a step's folder is finished, as the main process sees it: every process takes the same branch.

    Each process asking the disk itself raced: the main process writes a
    step's folder and then waits for the others at a barrier, so a slower
    process that looked only then found the folder finished, skipped the step
    and its barrier, and both waited forever in different collectives (seen
    as a hang of ``torchrun --nproc-per-node 2`` under load).
    """
    return bool(ctx.world.broadcast_object(is_done(folder) if ctx.world.is_main else None))


# ------------------------------------------------------------------------------------------- generation 0
def gen0_folder(ctx: Context, epochs: int, run: int) -> Path:
    return ctx.store / gen0_key(ctx.prep, epochs, run)


def run_gen0(ctx: Context, epochs: int, run: int, progress: bool = False) -> Path:
    """Fine-tune generation 0 of ``(epochs, run)`` on the original blocks and measure it (once for every chain)."""
    folder = gen0_folder(ctx, epochs, run)
    if finished(ctx, folder):
        return folder
    c, prep = ctx.config, ctx.prep
    seed = gen0_seed(c, epochs, run)
    stats = model_mod.train(
        prep.base.fresh(), prep.train_blocks, epochs=epochs, lr=prep.lr, batch_size=c.batch_size, seed=seed,
        schedule=c.schedule, min_lr=c.min_lr, max_grad_norm=c.max_grad_norm, valid_blocks=prep.valid_blocks,
        eval_batch_size=c.eval_batch_size, micro_batch_size=c.micro_batch_size, world=ctx.world,
        progress=f"generation 0 ({epochs} epochs, run {run}): training" if progress else False,
    )  # fmt: skip
    lm = stats.pop("model")
    t0 = time.perf_counter()
    measured = model_measures(ctx, lm)
    reference = prep.judge.reference(lm)
    train_ppl = np.exp(model_mod.sequence_nll(lm, prep.train_blocks, c.eval_batch_size))
    fresh_ppl = None  # Figure 11's sampling baseline: a fresh sample of the source as large as a training set
    if prep.corpus.language is not None:
        fresh = prep.judge.fresh_blocks(len(prep.train_blocks), c.block_size)
        fresh_ppl = np.exp(model_mod.sequence_nll(lm, fresh, c.eval_batch_size))
    stats_json = _train_stats(stats)
    if ctx.world.is_main:
        with atomic_dir(folder) as tmp:
            model_mod.save_model(lm, tmp / "model")
            np.save(tmp / "reference_ppl.npy", reference)
            np.save(tmp / "train_ppl.npy", train_ppl)
            if fresh_ppl is not None:
                np.save(tmp / "fresh_ppl.npy", fresh_ppl)
            np.save(tmp / "lrs.npy", np.asarray(stats["lrs"]))
            (tmp / "measures.json").write_text(json.dumps({**measured, **stats_json,
                                                           "eval_s": time.perf_counter() - t0}, indent=1))  # fmt: skip
    ctx.world.barrier()
    return folder


def write_gen0(ctx: Context, epochs: int, run: int, what: str = "train") -> Path:
    """What generation 0 of ``(epochs, run)`` writes with this experiment's decoding (once per decoding).

    ``what`` is ``"train"`` (continuations of every original training block: the
    next generation's data) or ``"valid"`` (of the validation blocks: the
    strict recipe's checkpoint choice).
    """
    folder = gen0_folder(ctx, epochs, run)
    target = written_folder(folder, ctx.config, what)
    if finished(ctx, target):
        return target
    lm = ctx.model_at(folder / "model")
    prompts = ctx.prep.train_blocks if what == "train" else ctx.prep.valid_blocks
    t0 = time.perf_counter()
    written = ctx.write(lm, prompts, derived_seed(gen0_seed(ctx.config, epochs, run), "write", what))
    gen_s = time.perf_counter() - t0
    if ctx.world.is_main:
        with atomic_dir(target) as tmp:
            np.save(tmp / "written.npy", written)
            (tmp / "timing.json").write_text(json.dumps({"generate_s": gen_s}))
    ctx.world.barrier()
    return target


def materialize_gen0(ctx: Context, setting: Setting, run: int) -> None:
    """Fill the chain's ``gen0`` folder from the shared generation 0 (hard links) and its own ``metrics.json``."""
    c, prep = ctx.config, ctx.prep
    folder = gen_dir(ctx.output, setting, run, 0)
    if finished(ctx, folder):
        return
    shared = gen0_folder(ctx, setting.epochs, run)
    written_dir = written_folder(shared, c, "train")
    valid_dir = written_folder(shared, c, "valid")
    needs = [shared] + ([written_dir] + ([valid_dir] if c.checkpoint == "generated" else []) if c.generations else [])
    if not all(is_done(f) for f in needs):
        raise RuntimeError(f"generation 0 of {setting.name} run {run} is not computed yet ({shared})")
    measured = json.loads((shared / "measures.json").read_text())
    blocks = prep.train_blocks
    texts = data_mod.decode_blocks(prep.base.tokenizer, blocks)
    tmetrics, true_nll = text_metrics(texts, prep.corpus.language)
    tmetrics.update(prep.judge.data_metrics(texts))
    gen_s, written = 0.0, None
    if c.generations > 0:
        gen0 = ctx.model_at(shared / "model")
        written, cand_ppl = choose(ctx, np.load(written_dir / "written.npy"), gen0)
        gen_s = json.loads((written_dir / "timing.json").read_text())["generate_s"]
        if prep.corpus.language is not None:
            tmetrics.update(prep.judge.written_metrics(data_mod.decode_blocks(prep.base.tokenizer, written)))
    train_ppl = np.load(shared / "train_ppl.npy")
    metrics = _metrics_row(ctx, setting, run, 0, gen0_seed(c, setting.epochs, run), len(blocks), len(blocks),
                           measured, train_ppl, tmetrics, gen_s, written is not None)  # fmt: skip
    if ctx.world.is_main:
        with atomic_dir(folder) as tmp:
            _link_tree(shared / "model", tmp / "model")  # always kept: it judges every later generation
            for name in ("reference_ppl.npy", "train_ppl.npy", "lrs.npy", "fresh_ppl.npy"):
                if (shared / name).exists():
                    _link(shared / name, tmp / name)
            if written is not None:
                np.save(tmp / "synthetic.npy", written)
                if candidates(c) > 1:
                    np.save(tmp / "candidates.npy", np.load(written_dir / "written.npy"))
                    np.save(tmp / "candidate_ppl.npy", cand_ppl)
                if c.checkpoint == "generated":
                    valid_written, _ = choose(ctx, np.load(valid_dir / "written.npy"), gen0)
                    np.save(tmp / "valid_synthetic.npy", valid_written)
            np.save(tmp / "is_original.npy", np.ones(len(blocks), dtype=bool))
            np.save(tmp / "blocks.npy", blocks.astype(np.int32))
            if true_nll is not None:
                np.save(tmp / "true_nll.npy", true_nll)
            (tmp / "metrics.json").write_text(json.dumps(metrics, indent=1))
            (tmp / "samples.json").write_text(json.dumps(_samples(ctx, blocks, 0)))
    ctx.world.barrier()


def _link(src: Path, dst: Path) -> None:
    try:
        dst.hardlink_to(src)
    except OSError:  # another file system: copy
        shutil.copy2(src, dst)


def _link_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for p in src.iterdir():
        _link(p, dst / p.name)


def _train_stats(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "train_loss": stats["loss"],
        "valid_loss": stats["valid_losses"][stats["best_epoch"]] if stats["valid_losses"] else float("nan"),
        "valid_losses": stats["valid_losses"],
        "best_epoch": stats["best_epoch"],
        "train_s": stats["seconds"],
        "train_tokens_per_s": stats["tokens_per_s"],
    }


def _samples(ctx: Context, blocks: np.ndarray, g: int) -> list[dict[str, Any]]:
    """The first few blocks of a lineage: the original blocks (generation 0), else generation ``g - 1``'s continuations.

    Generation ``g``'s sample ``i`` is what generation ``g - 1`` wrote to continue
    original block ``i`` (whether or not retention replaced it in the training
    set): one lineage of text per position, generation after generation.
    """
    n = min(ctx.config.samples, len(blocks))
    texts = data_mod.decode_blocks(ctx.prep.base.tokenizer, blocks[:n])
    return [{"block": i, "text": t, "original": g == 0} for i, t in enumerate(texts)]


def _metrics_row(ctx: Context, setting: Setting, run: int, g: int, seed: int, n_blocks: int, n_original: int,
                 measured: dict[str, Any], train_ppl: np.ndarray, tmetrics: dict[str, float], gen_s: float,
                 wrote: bool) -> dict[str, Any]:  # fmt: skip
    c = ctx.config
    test_nll = measured["test_nll"]
    return {
        "setting": setting.name,
        "label": setting.label,
        "epochs": setting.epochs,
        "retention": setting.retention,
        "recipe": c.recipe,
        "checkpoint": c.checkpoint if g else "real",
        "run": run,
        "generation": g,
        "seed": seed,
        "n_blocks": n_blocks,
        "n_original": n_original,
        "test_perplexity": float(np.exp(test_nll)),
        "test_nll_per_word": float(measured["test_nll_sum"] / max(1, ctx.test_words)),
        **{k: v for k, v in measured.items() if k not in ("valid_losses", "test_nll_sum")},
        "valid_losses": json.dumps(measured.get("valid_losses", [])),
        "train_ppl_gen0_mean": float(train_ppl.mean()),
        "train_ppl_gen0_median": float(np.median(train_ppl)),
        **tmetrics,
        "generate_s": gen_s,
        # every original block continued, candidates(c) times (not the training set: it grows under accumulate)
        "generated_tokens_per_s": (len(ctx.prep.train_blocks) * candidates(c) * c.continuation / gen_s
                                   if (wrote and gen_s) else float("nan")),
        "processes": ctx.world.size,
    }


# ------------------------------------------------------------------------------------------- later generations
def schedule_for(ctx: Context, setting: Setting, run: int, g: int) -> tuple[np.ndarray, np.ndarray]:
    """Generation ``g``'s training blocks and which of them are original (``g >= 1``), rebuilt from disk."""
    c, prep = ctx.config, ctx.prep
    original = prep.train_blocks
    n = len(original)
    draw = None
    if c.retained_blocks == "fresh":
        language = prep.corpus.language
        tok = prep.base.tokenizer

        def draw(k: int, rng: np.random.Generator) -> np.ndarray:  # new text from the source: fresh real data
            words = max(200, int(k * c.block_size * 1.3))
            while True:
                text = language.write_corpus(words, seed=int(rng.integers(2**63)))
                cut = data_mod.make_blocks(text.splitlines(keepends=True), tok, c.block_size,
                                           special_tokens=prep.special_tokens)  # fmt: skip
                if len(cut) >= k:
                    return cut[:k]
                words *= 2

    sched = schedules.DataSchedule(original, APPROACH[c.data_schedule], setting.retention, axis=0, draw_original=draw)
    first = g if c.data_schedule == "replace" else 1  # replace keeps no memory: only the last step matters
    blocks = is_original = None
    for j in range(first, g + 1):
        rng = np.random.default_rng(chain_seed(c, setting, run, j, "data"))
        written = np.load(gen_dir(ctx.output, setting, run, j - 1) / "synthetic.npy")
        if c.retained_blocks == "first":
            kept = np.arange(sched.k)
        else:
            kept = sched.choose_retained(rng)  # random (the authors'); with fresh text: the blocks it stands in for
        others = np.setdiff1d(np.arange(n), kept)
        retained = kept if c.retained_blocks != "fresh" else None
        blocks = sched.next_training_set(written[others], rng, retained=retained)
        is_original = sched.last_is_original.copy()
    return np.asarray(blocks), np.asarray(is_original)


def run_generation(ctx: Context, setting: Setting, run: int, g: int, progress: bool = False) -> None:
    """Compute generation ``g >= 1`` of the chain ``(setting, run)`` and save its folder (generation ``g - 1`` done)."""
    if g == 0:
        materialize_gen0(ctx, setting, run)
        return
    c, prep = ctx.config, ctx.prep
    folder = gen_dir(ctx.output, setting, run, g)
    if finished(ctx, folder):
        return
    previous = gen_dir(ctx.output, setting, run, g - 1)
    if not is_done(previous):
        raise RuntimeError(f"{folder}: generation {g - 1} of this chain is not finished")
    blocks, is_original = schedule_for(ctx, setting, run, g)
    seed = chain_seed(c, setting, run, g)
    # the starting point: the pretrained weights (the paper) or the previous generation's
    if c.init == "previous":
        start = copy.deepcopy(ctx.model_at(previous / "model"))
    else:
        start = prep.base.fresh()
    valid = {"real": prep.valid_blocks, "generated": None, "last": None}[c.checkpoint]
    if c.checkpoint == "generated":
        valid = np.load(previous / "valid_synthetic.npy")
    stats = model_mod.train(
        start, blocks, epochs=setting.epochs, lr=prep.lr, batch_size=c.batch_size, seed=seed, schedule=c.schedule,
        min_lr=c.min_lr, max_grad_norm=c.max_grad_norm, valid_blocks=valid, eval_batch_size=c.eval_batch_size,
        micro_batch_size=c.micro_batch_size, world=ctx.world,
        progress=f"{setting.name} run {run} gen {g}: training" if progress else False,
    )  # fmt: skip
    lm = stats.pop("model")
    t0 = time.perf_counter()
    model_m = model_measures(ctx, lm)
    gen0 = ctx.model_at(gen_dir(ctx.output, setting, run, 0) / "model")
    train_ppl = np.exp(model_mod.sequence_nll(gen0, blocks, c.eval_batch_size))
    texts = data_mod.decode_blocks(prep.base.tokenizer, blocks)
    tmetrics, true_nll = text_metrics(texts, prep.corpus.language)
    tmetrics.update(prep.judge.data_metrics(texts))
    measured = {**model_m, **_train_stats(stats), "eval_s": time.perf_counter() - t0}
    written = valid_written = cand = cand_ppl = None
    gen_s = 0.0
    if g < c.generations:
        t0 = time.perf_counter()
        cand = ctx.write(lm, prep.train_blocks, chain_seed(c, setting, run, g, "write"),
                         progress=f"{setting.name} run {run} gen {g}: writing" if progress else False)  # fmt: skip
        gen_s = time.perf_counter() - t0
        written, cand_ppl = choose(ctx, cand, gen0)
        if c.checkpoint == "generated":
            valid_written, _ = choose(ctx, ctx.write(lm, prep.valid_blocks, chain_seed(c, setting, run, g, "valid")),
                                      gen0)  # fmt: skip
        if prep.corpus.language is not None:
            tmetrics.update(prep.judge.written_metrics(data_mod.decode_blocks(prep.base.tokenizer, written)))
    metrics = _metrics_row(ctx, setting, run, g, seed, len(blocks), int(is_original.sum()), measured, train_ppl,
                           tmetrics, gen_s, written is not None)  # fmt: skip
    if ctx.world.is_main:
        with atomic_dir(folder) as tmp:
            if c.keep_models == "all":
                model_mod.save_model(lm, tmp / "model")
            if written is not None:
                np.save(tmp / "synthetic.npy", written)
                if candidates(c) > 1:
                    np.save(tmp / "candidates.npy", cand)
                    np.save(tmp / "candidate_ppl.npy", cand_ppl)
            if valid_written is not None:
                np.save(tmp / "valid_synthetic.npy", valid_written)
            np.save(tmp / "train_ppl.npy", train_ppl)
            np.save(tmp / "is_original.npy", is_original)
            np.save(tmp / "blocks.npy", blocks.astype(np.int32))  # what this generation trained on
            np.save(tmp / "lrs.npy", np.asarray(stats["lrs"]))
            if true_nll is not None:
                np.save(tmp / "true_nll.npy", true_nll)
            (tmp / "metrics.json").write_text(json.dumps(metrics, indent=1))
            (tmp / "samples.json").write_text(json.dumps(_samples(ctx, np.load(previous / "synthetic.npy"), g)))
    ctx.world.barrier()
    del lm


def check_resumed(ctx: Context, setting: Setting, run: int, g: int) -> None:
    """A finished generation's saved training blocks are what the schedule rebuilds from disk (a resume keeps state).

    Raises ``RuntimeError`` naming the folder when they differ (data written by
    another code version or configuration, or a schedule that forgot state).
    """
    if g == 0:
        return
    folder = gen_dir(ctx.output, setting, run, g)
    blocks, is_original = schedule_for(ctx, setting, run, g)
    saved = np.load(folder / "blocks.npy")
    if saved.shape != blocks.shape or not np.array_equal(saved, blocks.astype(np.int32)):
        raise RuntimeError(f"{folder}: the saved training blocks differ from those the schedule rebuilds")


def write_outputs(ctx: Context) -> None:
    """``metrics.csv`` from every finished generation (main process)."""
    if ctx.world.is_main:
        write_table(ctx.output)


def record(output: Path, config: ExperimentConfig, ident: dict[str, Any], notes: list[str] | None) -> None:
    """``config.json`` and ``identity.json`` of a new output folder, and the notes of this call."""
    output.mkdir(parents=True, exist_ok=True)
    if not (output / "config.json").exists():
        atomic_write_text(output / "config.json", json.dumps(config.to_json(), indent=1))
    if not (output / "identity.json").exists():
        atomic_write_text(output / "identity.json", json.dumps(ident, indent=1))
    if notes is not None:
        atomic_write_text(output / "notes.txt", "\n".join(notes) + "\n")


def check_output(output: Path, config: ExperimentConfig) -> None:
    """Refuse an output folder that holds the results of another configuration (naming the differences)."""
    path = Path(output) / "config.json"
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

