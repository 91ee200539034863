"""The generational experiment of Shumailov et al. with language models, resumable.

For every *setting* (epochs, share of original data kept), every *run* (seed)
and every *generation* ``g = 0..generations``:

1. the training set: generation 0 trains on the original blocks; generation
   ``g + 1`` on the blocks written by generation ``g``, of which a random share
   ``retention`` is replaced by original blocks (the paper's approach 1 with
   retention: every generation's set has as many blocks as the original);
2. fine-tune a fresh copy of the pretrained weights on it (:func:`model.train`);
3. measure: perplexity on the original test blocks; the perplexity of every
   training block under the generation-0 model (Figure 11); diversity of the
   training text; on the synthetic language, its true log-likelihood and tail;
4. write the next generation's data: continue *every* original block with
   ``new_tokens`` tokens by beam search.

Every finished generation is written under
``output/<setting>/run<k>/gen<g>/`` (``model/``, ``synthetic.npy``,
``train_ppl.npy``, ``metrics.json``, ``samples.json``, and the marker
``DONE``) by filling a temporary folder and renaming it, so a generation
without ``DONE`` is never taken as finished. A second call picks up at the
first unfinished generation; every generation's randomness is seeded from
``(seed, setting, run, generation)`` alone, so a resumed run gives the same
results as an uninterrupted one. ``output/metrics.csv`` is the tidy table, one
row per setting, run and generation.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import profiles
from ..schedules import check_count, check_retention, choose_without_replacement, n_retained
from . import data as data_mod
from . import model as model_mod
from .model import SmallModelConfig, atomic_dir, atomic_write_text
from .synthetic import LanguageConfig

RESULTS_ENV = "COLLAPSE_LLM_RESULTS"


@dataclass(frozen=True)
class Setting:
    """One training setting: epochs per generation and the share of original blocks kept."""

    epochs: int
    retention: float

    @property
    def name(self) -> str:
        return f"{self.epochs}ep-{round(self.retention * 100):d}pct"

    @property
    def label(self) -> str:
        kept = "no original data" if self.retention == 0 else f"{self.retention:.0%} original data"
        return f"{self.epochs} epochs, {kept}"


PAPER_SETTINGS = (Setting(5, 0.0), Setting(10, 0.1))


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that determines an experiment's results.

    Defaults follow the paper and the authors' code: OPT-125m, wikitext-2-raw-v1,
    64-token blocks continued by 64 tokens of 5-beam search with repetition
    penalty 3.0, AdamW at 2e-5 with a linear decay, batch 128, 10 generations,
    5 runs of two settings (5 epochs with no original data; 10 epochs with 10%).
    """

    model: str = model_mod.HUB_MODEL
    data: str = "wikitext-2-raw-v1"
    generations: int = 10
    runs: int = 5
    settings: tuple[Setting, ...] = PAPER_SETTINGS
    block_size: int = 64
    new_tokens: int | None = None  # None: block_size (the synthetic set has the shape of the original)
    num_beams: int = 5
    repetition_penalty: float = 3.0
    lr: float = 2e-5
    batch_size: int = 128
    gen_batch_size: int = 128  # on a GPU; the CPU profiles use 32
    eval_batch_size: int = 64
    max_train_blocks: int | None = None  # None: every block of the train split
    max_test_blocks: int | None = None
    seed: int = 0
    fallback: bool = True  # fall back to the embedded language / small model when the hub is unreachable
    small: SmallModelConfig = field(default_factory=SmallModelConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    synthetic_words: tuple[int, int, int] = (60_000, 6_000, 6_000)
    keep_models: str = "all"  # "all", "first" (generation 0 only) or "none"
    samples: int = 4  # decoded samples of every generation's data kept in samples.json

    @property
    def continuation(self) -> int:
        return self.block_size if self.new_tokens is None else self.new_tokens

    def validate(self) -> ExperimentConfig:
        """Check the cheap-to-check parameters; raises ``ValueError`` naming the parameter."""
        check_count("generations", self.generations, 0)
        check_count("runs", self.runs, 1)
        check_count("block_size", self.block_size, 2)
        check_count("new_tokens", self.continuation, 1)
        check_count("num_beams", self.num_beams, 1)
        check_count("batch_size", self.batch_size, 1)
        check_count("gen_batch_size", self.gen_batch_size, 1)
        check_count("seed", self.seed, 0)
        if not self.settings:
            raise ValueError("settings must hold at least one (epochs, retention) pair")
        for s in self.settings:
            check_count("epochs", s.epochs, 1)
            try:
                check_retention(s.retention)
            except ValueError as err:
                raise ValueError(f"{err} (setting {s})") from None
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if not self.repetition_penalty > 0:
            raise ValueError(f"repetition_penalty must be > 0, got {self.repetition_penalty!r}")
        if self.keep_models not in ("all", "first", "none"):
            raise ValueError(f"keep_models must be 'all', 'first' or 'none', got {self.keep_models!r}")
        for name in ("max_train_blocks", "max_test_blocks"):
            if getattr(self, name) is not None:
                check_count(name, getattr(self, name), 1)
        if self.model == model_mod.SMALL and self.block_size + self.continuation > self.small.max_positions:
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
        d["small"] = SmallModelConfig(**d["small"])
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


def profile_config(profile: str | None = None, **overrides: Any) -> ExperimentConfig:
    """The chapter's configuration for a profile (``quick``, ``book`` or ``paper``).

    ``paper`` is the paper's scale (OPT-125m, wikitext2, 10 generations, 5 runs);
    ``quick`` and ``book`` are CPU scales on the embedded language with a small
    OPT. Keyword arguments override single fields.
    """
    quick = dict(
        model=model_mod.SMALL,
        data=data_mod.SYNTHETIC,
        generations=2,
        runs=1,
        settings=(Setting(1, 0.0), Setting(2, 0.1)),
        num_beams=3,
        lr=2e-3,
        batch_size=16,
        gen_batch_size=32,
        max_train_blocks=160,
        max_test_blocks=48,
        small=SmallModelConfig(
            hidden_size=64,
            ffn_dim=256,
            layers=2,
            vocab_size=512,
            pretrain_epochs=8,
            pretrain_lr=3e-3,
            pretrain_blocks=600,
        ),
        language=LanguageConfig(vocab_size=250),
        synthetic_words=(30_000, 3_000, 3_000),
    )
    book = dict(
        model=model_mod.SMALL,
        data=data_mod.SYNTHETIC,
        generations=5,
        runs=2,
        settings=(Setting(2, 0.0), Setting(4, 0.1)),
        num_beams=5,
        lr=1e-3,
        batch_size=32,
        gen_batch_size=32,
        max_train_blocks=256,
        max_test_blocks=100,
        small=SmallModelConfig(pretrain_epochs=8, pretrain_lr=2e-3),
        language=LanguageConfig(),
        synthetic_words=(60_000, 6_000, 6_000),
    )
    paper = {f.name: getattr(ExperimentConfig(), f.name) for f in fields(ExperimentConfig) if f.name in book}
    chosen = profiles.choose(quick=quick, book=book, paper=paper, profile=profile)
    return ExperimentConfig(**{**chosen, **overrides}).validate()


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
        tail_coverage=language.tail_coverage(score),
        tail_share=language.tail_share(score),
    )
    return m, score.nll


# --------------------------------------------------------------------- runner
@dataclass
class Prepared:
    """What every generation shares: corpus, base model, blocks."""

    config: ExperimentConfig
    corpus: data_mod.Corpus
    base: model_mod.Base
    train_blocks: np.ndarray
    test_blocks: np.ndarray
    notes: list[str]


def prepare(
    config: ExperimentConfig,
    output: str | Path,
    verbose: bool = True,
    progress: bool = False,
    cache_dir: str | Path | None = None,
) -> Prepared:
    """Validate, load the corpus and the base model, and cut the blocks (no fine-tuning yet).

    Raises ``ValueError`` for bad input before any training: invalid
    parameters, an empty or missing corpus, or a block (plus continuation)
    longer than the model's context.
    """
    config.validate()
    corpus = data_mod.load_corpus(
        config.data,
        fallback=config.fallback,
        synthetic_words=config.synthetic_words,
        language=config.language,
        seed=config.seed,
        verbose=verbose,
    )
    small = replace(config.small, block_size=config.block_size)
    cache = Path(output) / "cache" if cache_dir is None else Path(cache_dir)
    base = model_mod.load_base(
        config.model, corpus, cache, small, config.fallback, verbose=verbose, progress=progress
    )
    if config.block_size + config.continuation > base.max_positions:
        raise ValueError(
            f"block_size + new_tokens = {config.block_size} + {config.continuation} exceeds the context of "
            f"{base.name} ({base.max_positions} positions)"
        )
    train_blocks = data_mod.make_blocks(
        corpus.train, base.tokenizer, config.block_size, config.max_train_blocks
    )
    test_blocks = data_mod.make_blocks(corpus.test, base.tokenizer, config.block_size, config.max_test_blocks)
    notes = (
        corpus.notes
        + base.notes
        + [
            f"blocks: {len(train_blocks)} training and {len(test_blocks)} test blocks of {config.block_size} tokens"
        ]
    )
    if verbose:
        print(notes[-1])
    return Prepared(config, corpus, base, train_blocks, test_blocks, notes)


def _gen_dir(output: Path, setting: Setting, run: int, generation: int) -> Path:
    return output / setting.name / f"run{run}" / f"gen{generation}"


def is_done(folder: Path) -> bool:
    """A generation is finished when its folder holds the ``DONE`` marker."""
    return (folder / "DONE").is_file()


def _check_output(output: Path, config: ExperimentConfig) -> None:
    path = output / "config.json"
    if path.exists():
        old = json.loads(path.read_text())
        if ExperimentConfig.from_json(old).key() != config.key():
            raise ValueError(
                f"output: {output} holds the results of another configuration (see its config.json); "
                "choose another output folder"
            )
    else:
        atomic_write_text(path, json.dumps(config.to_json(), indent=1))


def run_experiment(
    config: ExperimentConfig,
    output: str | Path,
    verbose: bool = True,
    progress: bool = True,
    stop_after: int | None = None,
    device: str | None = None,
    cache_dir: str | Path | None = None,
) -> Results:
    """Run (or resume) the whole experiment and return its :class:`Results`.

    ``stop_after`` stops after that many *newly computed* generations (to
    simulate an interruption in tests). ``cache_dir`` holds the small
    pretrained model (default ``output/cache``; it is keyed by everything that
    determines it, so experiments may share one). Generations already finished are
    loaded, not recomputed. Under ``accelerate launch`` training is
    data-parallel and the main process writes the files.
    """
    from accelerate import PartialState

    state = PartialState(cpu=device == "cpu")
    output = Path(output)
    config.validate()
    if state.is_main_process:
        output.mkdir(parents=True, exist_ok=True)
        _check_output(output, config)
    state.wait_for_everyone()
    verbose = verbose and state.is_main_process
    progress = progress and state.is_main_process
    if not state.is_main_process:  # let the main process pretrain (or find) the cached small model first
        state.wait_for_everyone()
    prep = prepare(config, output, verbose=verbose, progress=progress, cache_dir=cache_dir)
    if state.device.type == "cuda":
        prep.base.model.to(state.device)  # every generation starts from a copy of it (this process' GPU)
    test_words = sum(len(t.split()) for t in prep.base.tokenizer.batch_decode(prep.test_blocks))
    if state.is_main_process:
        atomic_write_text(output / "notes.txt", "\n".join(prep.notes) + "\n")
        if not (output / "base.json").exists():
            atomic_write_text(output / "base.json", json.dumps(base_summary(prep, config), indent=1))
        state.wait_for_everyone()
    computed = 0
    language = prep.corpus.language
    tok = prep.base.tokenizer
    n = len(prep.train_blocks)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(config.settings) * config.runs * (config.generations + 1), desc="generations")
    for si, setting in enumerate(config.settings):
        for run in range(config.runs):
            previous: np.ndarray | None = None  # the data written by the previous generation
            gen0 = None
            for g in range(config.generations + 1):
                folder = _gen_dir(output, setting, run, g)
                if is_done(folder):
                    previous = (
                        np.load(folder / "synthetic.npy") if (folder / "synthetic.npy").exists() else None
                    )
                    if bar is not None:
                        bar.update(1)
                    continue
                if stop_after is not None and computed >= stop_after:
                    if bar is not None:
                        bar.close()
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
                    blocks = previous.copy()
                    is_original = np.zeros(n, dtype=bool)
                    k = n_retained(n, setting.retention)
                    if k:
                        keep = choose_without_replacement(rng, n, k)
                        blocks[keep] = prep.train_blocks[keep]
                        is_original[keep] = True
                # 2. fine-tune a fresh copy of the pretrained weights
                stats = model_mod.train(
                    prep.base.fresh(),
                    blocks,
                    epochs=setting.epochs,
                    lr=config.lr,
                    batch_size=config.batch_size,
                    seed=seed,
                    device=device,
                    progress=f"{setting.name} run {run} gen {g}: training" if progress else False,
                )
                lm = stats.pop("model")
                # 3. measure
                if gen0 is None:
                    gen0 = lm if g == 0 else _load_gen0(output, setting, run, state.device)
                t0 = time.perf_counter()
                test_nll = model_mod.sequence_nll(lm, prep.test_blocks, config.eval_batch_size)
                train_ppl = np.exp(model_mod.sequence_nll(gen0, blocks, config.eval_batch_size))
                texts = tok.batch_decode(blocks)
                tmetrics, true_nll = text_metrics(texts, language)
                eval_s = time.perf_counter() - t0
                # 4. the next generation's data
                synthetic = None
                gen_s = 0.0
                if g < config.generations:
                    t0 = time.perf_counter()
                    synthetic = _generate_sharded(
                        state,
                        lm,
                        prep.train_blocks,
                        new_tokens=config.continuation,
                        num_beams=config.num_beams,
                        repetition_penalty=config.repetition_penalty,
                        batch_size=config.gen_batch_size,
                        pad_token_id=tok.pad_token_id,
                        eos_token_id=tok.eos_token_id,
                        progress=f"{setting.name} run {run} gen {g}: writing data" if progress else False,
                    )
                    gen_s = time.perf_counter() - t0
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
                    "train_loss": stats["loss"],
                    "train_ppl_gen0_mean": float(train_ppl.mean()),
                    "train_ppl_gen0_median": float(np.median(train_ppl)),
                    **tmetrics,
                    "train_s": stats["seconds"],
                    "train_tokens_per_s": stats["tokens_per_s"],
                    "generate_s": gen_s,
                    "generated_tokens_per_s": (n * config.continuation / gen_s) if gen_s else float("nan"),
                    "eval_s": eval_s,
                }
                samples = [
                    {
                        "prompt": tok.decode(prep.train_blocks[i]),
                        "text": texts[i],
                        "original": bool(is_original[i]),
                    }
                    for i in range(min(config.samples, n))
                ]
                if not state.is_main_process:
                    state.wait_for_everyone()
                    previous, computed = synthetic, computed + 1
                    continue
                with atomic_dir(folder) as tmp:
                    # generation 0 is always kept: it judges every later generation, also after a resume
                    if config.keep_models == "all" or g == 0:
                        model_mod.save_model(lm, tmp / "model")
                    if synthetic is not None:
                        np.save(tmp / "synthetic.npy", synthetic)
                    np.save(tmp / "train_ppl.npy", train_ppl)
                    np.save(tmp / "is_original.npy", is_original)
                    if true_nll is not None:
                        np.save(tmp / "true_nll.npy", true_nll)
                    (tmp / "metrics.json").write_text(json.dumps(metrics, indent=1))
                    (tmp / "samples.json").write_text(json.dumps(samples, indent=1))
                write_table(output)
                state.wait_for_everyone()
                previous = synthetic
                computed += 1
                if bar is not None:
                    bar.update(1)
                if g > 0 and lm is not gen0:
                    del lm
    if bar is not None:
        bar.close()
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


def _generate_sharded(state: Any, lm: Any, prompts: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Beam-search continuations of every prompt, split across processes under ``accelerate launch``."""
    if state.num_processes == 1:
        return model_mod.continue_blocks(lm, prompts, **kwargs)
    from accelerate.utils import gather_object

    mine = np.arange(state.process_index, len(prompts), state.num_processes)
    part = model_mod.continue_blocks(lm, prompts[mine], **kwargs)
    pieces = gather_object([(mine, part)])
    out = np.zeros((len(prompts), kwargs["new_tokens"]), dtype=np.int64)
    for idx, rows in pieces:
        out[idx] = rows
    return out


def _load_gen0(output: Path, setting: Setting, run: int, device: Any) -> Any:
    from transformers import AutoModelForCausalLM

    folder = _gen_dir(output, setting, run, 0) / "model"
    with model_mod.quiet_progress():
        lm = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="sdpa")
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
    """An output folder keyed by the configuration: ``runs/llm/<model>-<data>-<hash>``."""
    tag = Path(config.model).name.replace("/", "-")
    data = Path(config.data).name
    return Path(root) / f"{tag}-{data}-{config.key()}"


def settings_from_pairs(pairs: Iterable[tuple[int, float]]) -> tuple[Setting, ...]:
    """``[(epochs, retention), ...]`` as settings."""
    return tuple(Setting(int(e), float(r)) for e, r in pairs)
