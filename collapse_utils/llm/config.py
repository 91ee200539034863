"""What determines a language-model experiment: its settings, recipe, data schedule and scale.

One meaning of *generation* throughout the book: generation 0 is the model
fine-tuned on the original (real) data; generation ``t + 1`` is fine-tuned on
the training set built from generation ``t``'s continuations (and, with
retention, original blocks).

:class:`ExperimentConfig` holds everything that determines an experiment's
results; :meth:`ExperimentConfig.validate` checks every field and raises
``ValueError`` naming the field and its accepted values, before any work.
:data:`RECIPES` names the two recipes the chapter compares (the authors' and a
strict one); :func:`with_recipe` applies one.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from .. import validate
from ..schedules import SCHEDULE_NAMES, check_retention
from . import model as model_mod
from .data import DEFAULT_DATA, SYNTHETIC
from .model import SmallModelConfig
from .synthetic import LanguageConfig

RETAINED_BLOCKS = ("random", "first", "fresh")
DECODINGS = ("beam", "sample")
DATA_SCHEDULES = tuple(SCHEDULE_NAMES[k] for k in sorted(SCHEDULE_NAMES))  # replace, accumulate-subsample, accumulate
CHECKPOINTS = ("real", "generated", "last")
INITS = ("pretrained", "previous")
PRETRAIN_LANGUAGES = ("related", "same")
TOKENIZATIONS = ("lines", "text")
#: The two recipes of the chapter. The authors' (``main.py`` of their curse_recurse code): every generation keeps
#: the epoch with the lowest loss on the *real* validation blocks, a channel of real data into every generation.
#: The strict one: no real data after generation 0, the checkpoint chosen on the previous generation's
#: continuations of the validation blocks (generation 0, fine-tuned on the real data, uses the real ones).
RECIPES: dict[str, dict[str, str]] = {"authors": {"checkpoint": "real"}, "strict": {"checkpoint": "generated"}}
_SETTING_NAME = re.compile(r"^(\d+)ep-keep(.+)$")
# wikitext-2-raw-v1 in 64-token OPT blocks: train about 2.4M tokens, validation about 250k, test about 283k
WIKITEXT2_TRAIN_BLOCKS = 37_400
WIKITEXT2_VALID_BLOCKS = 3_900
WIKITEXT2_TEST_BLOCKS = 4_400


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

    Defaults follow the paper and the authors' original script (``main.py`` and
    ``dataset.py`` in their curse_recurse repository): OPT-125m,
    wikitext-2-raw-v1 tokenised line by line with the tokenizer's own special
    tokens (``tokenizer(text)`` adds OPT's ``</s>`` to every line, empty lines
    included), concatenated and cut into 64-token blocks; 64 tokens of 5-beam
    search with repetition penalty 3.0 continue every block (the continuation
    alone kept); AdamW at 2e-5, batch 128, ``CosineAnnealingLR(T_max=epochs,
    eta_min=1e-6)``, the checkpoint with the best loss on the real validation
    blocks; 10 generations, 5 runs of two settings (5 epochs with no original
    data; 10 epochs with 10%). The kept 10% are a random subset of the
    training blocks drawn anew each generation (``retained_blocks="random"``:
    their data-writing pass runs over the shuffled training loader and keeps
    the batches below an index limit). Gradient clipping at 1.0 (the
    transformers ``Trainer``'s default) is this book's addition
    (``max_grad_norm=None`` turns it off).

    The recipe (:data:`RECIPES`): ``checkpoint`` is ``"real"`` (the authors':
    the best epoch on the real validation blocks), ``"generated"`` (strict: on
    the previous generation's continuations of the validation blocks) or
    ``"last"`` (no choice: the last epoch); ``init`` is ``"pretrained"`` (every
    generation starts from the pretrained weights, as in the paper) or
    ``"previous"`` (continue from the previous generation's weights).

    The data schedule (the book's names, :mod:`collapse_utils.schedules`):
    ``data_schedule`` is ``"replace"`` (the paper's), ``"accumulate-subsample"``
    or ``"accumulate"``; ``retained_blocks`` is ``"random"``, ``"first"`` (the
    first blocks every generation) or ``"fresh"`` (new text from the source
    each generation: the embedded language only); ``select`` keeps only that
    share of each generation's written blocks, the ones the generation-0 model
    finds likeliest (a verifier; 1 keeps all).

    The small model's pretraining (the embedded language only):
    ``pretrain_language`` is ``"related"`` (the paper's structure: a
    different language with the same words, whose transitions are a share
    ``1 - pretrain_blend`` of the fine-tuning language's and ``pretrain_blend``
    of another's, as web text differs from wikitext-2) or ``"same"`` (the
    fine-tuning language itself).

    ``batch_size`` is the global batch, whatever the number of processes;
    ``micro_batch_size`` (blocks per forward pass and process) accumulates
    gradients when a batch does not fit in memory. ``fallback_lr`` is the
    learning rate used when the default hub model falls back to the small
    model (2e-5 is tuned for a pretrained OPT-125m, not for a small model).
    """

    model: str = model_mod.HUB_MODEL
    data: str = DEFAULT_DATA
    generations: int = 10
    runs: int = 5
    settings: tuple[Setting, ...] = PAPER_SETTINGS
    block_size: int = 64
    new_tokens: int | None = None  # None: block_size (the synthetic set has the shape of the original)
    num_beams: int = 5
    repetition_penalty: float = 3.0
    lr: float = 2e-5
    schedule: str = "cosine"  # the learning rate: the authors' CosineAnnealingLR over the epochs; "linear", "constant"
    min_lr: float = 1e-6
    max_grad_norm: float | None = 1.0
    checkpoint: str = "real"
    init: str = "pretrained"
    batch_size: int = 128
    micro_batch_size: int | None = None
    gen_batch_size: int = 128  # on a GPU; the CPU profiles use 64
    eval_batch_size: int = 64
    max_train_blocks: int | None = None  # None: every block of the train split
    max_valid_blocks: int | None = None
    max_test_blocks: int | None = None
    tokenization: str = "lines"  # the authors': every line on its own, with the tokenizer's special tokens
    data_schedule: str = "replace"
    retained_blocks: str = "random"
    select: float = 1.0
    seed: int = 0
    fallback: bool = True  # only the default hub names fall back, only when the hub is unreachable
    fallback_lr: float = 1e-3
    small: SmallModelConfig = field(default_factory=SmallModelConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    synthetic_words: tuple[int, int, int] = (60_000, 6_000, 6_000)
    pretrain_words: int | None = 300_000  # the embedded language's pretraining corpus (None: pretrain on train)
    pretrain_language: str = "related"
    pretrain_blend: float = 0.95
    decoding: str = "beam"  # "beam": the paper's beam search; "sample": plain sampling (temperature 1)
    keep_models: str = "all"  # "all", "first" (generation 0 only) or "none"
    samples: int = 4  # decoded samples of every generation's data kept in samples.json

    @property
    def continuation(self) -> int:
        return self.block_size if self.new_tokens is None else self.new_tokens

    @property
    def recipe(self) -> str:
        """The recipe's name (:data:`RECIPES`), or ``"custom"``."""
        for name, fields_ in RECIPES.items():
            if all(getattr(self, k) == v for k, v in fields_.items()):
                return name
        return "custom"

    @property
    def small_model_used(self) -> bool:
        """Whether the small model pretrained here is (or may be, by fallback) the starting point."""
        return self.model == model_mod.SMALL or (self.fallback and self.model == model_mod.HUB_MODEL)

    @property
    def synthetic_used(self) -> bool:
        """Whether the data are (or may be, by fallback) the embedded language."""
        return self.data == SYNTHETIC or (self.fallback and self.data == DEFAULT_DATA)

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
        v.real("select", self.select, 0.0, 1.0, low_open=True)
        if self.max_grad_norm is not None:
            v.real("max_grad_norm", self.max_grad_norm, 0.0, low_open=True)
        v.choice("schedule", self.schedule, model_mod.SCHEDULES)
        v.choice("checkpoint", self.checkpoint, CHECKPOINTS)
        v.choice("init", self.init, INITS)
        v.choice("tokenization", self.tokenization, TOKENIZATIONS)
        v.choice("data_schedule", self.data_schedule, DATA_SCHEDULES)
        v.choice("retained_blocks", self.retained_blocks, RETAINED_BLOCKS)
        v.choice("keep_models", self.keep_models, ("all", "first", "none"))
        v.boolean("fallback", self.fallback)
        v.choice("decoding", self.decoding, DECODINGS)
        v.choice("pretrain_language", self.pretrain_language, PRETRAIN_LANGUAGES)
        v.choice("small.tokenizer", self.small.tokenizer, model_mod.TOKENIZERS)
        v.real("pretrain_blend", self.pretrain_blend, 0.0, 1.0)
        if self.pretrain_language == "related" and self.pretrain_blend == 0.0:
            raise ValueError(
                "pretrain_blend must be > 0 with pretrain_language='related': at 0 the pretraining language is "
                "the fine-tuning language itself (say pretrain_language='same' if that is meant)"
            )
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
        if self.init == "previous" and self.keep_models != "all":
            raise ValueError(
                f"init='previous' continues from the previous generation's weights: it needs keep_models='all', "
                f"got keep_models={self.keep_models!r}"
            )
        if self.retained_blocks == "fresh" and self.data != SYNTHETIC:
            raise ValueError(
                "retained_blocks='fresh' (new source text every generation) needs data='synthetic': real text has "
                f"no source to draw from, got data={self.data!r}"
            )
        if self.small_model_used and self.block_size + self.continuation > self.small.max_positions:
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
        language_names = {f.name for f in fields(LanguageConfig)}
        d["language"] = LanguageConfig(**{k: v for k, v in d["language"].items() if k in language_names})
        d["synthetic_words"] = tuple(d["synthetic_words"])
        # folders written before the recipe fields: best_checkpoint=False meant the last epoch, accumulate=True
        # the accumulate schedule
        if d.pop("best_checkpoint", True) is False and "checkpoint" not in d:
            d["checkpoint"] = "last"
        if d.pop("accumulate", False) and "data_schedule" not in d:
            d["data_schedule"] = "accumulate"
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def key(self) -> str:
        """A hash of the whole configuration (an output folder belongs to one configuration)."""
        return model_mod.config_hash(self.to_json())


def with_recipe(config: ExperimentConfig, recipe: str) -> ExperimentConfig:
    """``config`` with one of the named :data:`RECIPES` (``"authors"`` or ``"strict"``); raises on another name."""
    validate.choice("recipe", recipe, tuple(RECIPES))
    return replace(config, **RECIPES[recipe]).validate()


def derived_seed(seed: int, *keys: int | str) -> int:
    """A seed for one (setting, run, generation, ...), independent of everything else that ran.

    String keys (a setting's name, say) are turned into integers by a stable
    hash, so that a chain's seeds do not depend on the position of its setting
    in a list.
    """
    ints = [int(model_mod.config_hash(k), 16) if isinstance(k, str) else int(k) for k in keys]
    return int(np.random.SeedSequence([seed, *ints]).generate_state(1)[0])


def settings_from_pairs(pairs) -> tuple[Setting, ...]:
    """``[(epochs, retention), ...]`` as settings."""
    return tuple(Setting(int(e), float(r)) for e, r in pairs)
