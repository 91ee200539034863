"""The chapter's configurations: one per scale profile, and the variants the chapter runs beside the main one.

:func:`profile_config` gives the experiment of a profile (``quick``, ``book``,
``gpu``, ``paper``); :func:`decoding_variant`, :func:`strict_variant` and
:func:`ablation` give the experiments that change one thing of it (the decoding,
the recipe, and each suspect of the ablation).
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from .. import profiles
from . import data as data_mod
from . import model as model_mod
from .config import PAPER_SETTINGS, WIKITEXT2_TRAIN_BLOCKS, ExperimentConfig, Setting, with_recipe
from .model import SmallModelConfig
from .synthetic import LanguageConfig

GPU_SHARE = 0.08  # the share of wikitext2's training blocks the gpu profile uses (a random subset)


def profile_config(profile: str | None = None, **overrides: Any) -> ExperimentConfig:
    """The chapter's configuration for a profile (``quick``, ``book``, ``gpu`` or ``paper``).

    ``paper`` is the paper's scale (OPT-125m, wikitext2, 10 generations, 5 runs).
    ``gpu`` is sized for one free Colab session on a T4 (chapter 4's experiments,
    the strict recipe included, within about 60 minutes by :func:`estimate_seconds`:
    about 56): OPT-125m on
    wikitext-2-raw-v1, a random 8% of its training blocks (2,992 of about
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
            pretrain_batch_size=64, tokenizer="words",
        ),
        language=LanguageConfig(vocab_size=250),
        synthetic_words=(3_000, 1_200, 2_000),
        pretrain_words=30_000,
        pretrain_blend=0.95,
    )
    # the book's CPU scale: the paper's two settings and a third that separates epochs from retention, 5 runs
    # (the paper's), 4 generations after generation 0, 64 blocks of 64 tokens (the paper: about 37,400), a
    # 2-layer OPT of width 64 (0.2M parameters; width 96 cost a third more for a generation 0 only slightly
    # better: test perplexity 19 against 23, each far below the pretrained model's 62) whose vocabulary is the
    # pretraining text's words (model.word_tokenizer: about 1,240 tokens, every word whole; the byte-level BPE that
    # kept every word whole needed 2,048, and the model's head was 41% of unused tokens), pretrained for 4 epochs on
    # 150,000 words of a related language (95% of every word's transitions another language's: far from the
    # fine-tuning language, as web text is from wikitext-2), fine-tuned at 1e-3; vocab_size is real text's BPE
    book = dict(
        model=model_mod.SMALL,
        data=data_mod.SYNTHETIC,
        generations=4,
        runs=5,
        settings=(Setting(5, 0.0), Setting(10, 0.1), Setting(10, 0.0)),
        num_beams=5,
        lr=1e-3,
        batch_size=16,
        micro_batch_size=None,
        gen_batch_size=64,
        max_train_blocks=64,
        max_valid_blocks=32,
        max_test_blocks=64,
        small=SmallModelConfig(
            hidden_size=64, ffn_dim=256, layers=2, heads=4, vocab_size=2048, dropout=0.0, pretrain_epochs=4,
            pretrain_lr=3e-3, pretrain_batch_size=32, tokenizer="words",
        ),
        language=LanguageConfig(),
        synthetic_words=(6_000, 3_000, 5_000),
        pretrain_words=150_000,
        pretrain_blend=0.95,
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
        pretrain_blend=0.95,
    )
    defaults = ExperimentConfig()
    paper = {f.name: getattr(defaults, f.name) for f in fields(ExperimentConfig) if f.name in book}
    chosen = profiles.choose(quick=quick, book=book, paper=paper, gpu=gpu, profile=profile)
    # the base seed follows COLLAPSE_SEED like every other seed of the book (an explicit seed= wins)
    return ExperimentConfig(**{**chosen, "seed": profiles.seed(0), **overrides}).validate()


def _at(profile: str | None, **values: Any) -> Any:
    """The value of the active (or given) profile among ``values`` (quick, book, gpu, paper)."""
    return profiles.choose(**{k: {"v": v} for k, v in values.items()}, profile=profile)["v"]


def stall_limit(profile: str | None = None) -> float | None:
    """The chapter's hang guard: how long its experiment call waits for any one step to end (``None``: no guard).

    A step is one generation or one pretraining; at the ``book`` profile each takes
    well under a minute on an idle 2-core machine, so 300 s leaves room for a machine
    four times slower before a stall is called one. ``quick`` runs its steps in
    the notebook's own process (no guard is possible there; the cell's limit is
    the guard), ``gpu`` and ``paper`` steps are long and vary with the GPU.
    """
    return _at(profile, quick=None, book=300.0, gpu=None, paper=None)


def decoding_variant(config: ExperimentConfig, profile: str | None = None) -> ExperimentConfig | None:
    """The chapter's sampling experiment: the first setting again, sampling instead of beam search.

    The same configuration (model, data, runs, generations, recipe) with
    ``decoding="sample"`` (temperature 1, the model's whole distribution, no
    penalty) and only ``config.settings[0]``: beside the main experiment's
    first setting it changes the decoding alone (its generation 0 is the same
    model; only what it writes differs). At the ``quick`` and ``book``
    profiles only; ``None`` at ``gpu`` and ``paper``, where it would add half
    again to a GPU session (run it there with ``--decoding sample``).
    """
    if not _at(profile, quick=True, book=True, gpu=False, paper=False):
        return None
    return replace(config, decoding="sample", settings=tuple(config.settings[:1])).validate()


def strict_variant(config: ExperimentConfig) -> ExperimentConfig:
    """The strict recipe on the first setting: no real data after generation 0, the validation included.

    Generation 0 is the main experiment's (fine-tuned on the real data, its
    best epoch on the real validation blocks); every later generation keeps its
    best epoch on the previous generation's continuations of the validation
    blocks (:data:`.config.RECIPES`).
    """
    return with_recipe(replace(config, settings=tuple(config.settings[:1])), "strict")


#: The ablation's suspects: what may let a generation recover from its parent's errors, each changed alone.
#: The checkpoint choice is the recipes' difference (real validation blocks against the previous generation's
#: text), so it needs no run of its own here; :data:`MORE_ABLATION` holds a third choice, none at all.
ABLATION: dict[str, dict[str, Any]] = {
    "continue from the previous generation": {"init": "previous"},
    "pretrained on the same language": {"pretrain_language": "same"},
    "pretrained on the same language, strict recipe": {"pretrain_language": "same", "checkpoint": "generated"},
}
#: Suspects the chapter does not run (for time; each costs as much as a recipe's first setting at fewer runs):
#: pass them to :func:`ablation` with ``suspects=`` or run them from the command line (``--checkpoint last``).
MORE_ABLATION: dict[str, dict[str, Any]] = {"no checkpoint choice": {"checkpoint": "last"}}


def ablation(
    config: ExperimentConfig, profile: str | None = None, suspects: dict[str, dict[str, Any]] | None = None
) -> dict[str, ExperimentConfig]:
    """The ablation's experiments: the first setting with one suspect changed (:data:`ABLATION`), fewer runs.

    Each differs from the main experiment's first setting (the authors'
    recipe) in what :data:`ABLATION` names; the references are the main
    experiment and :func:`strict_variant`, whose first runs start from the same
    generations 0 (the same run of the same base model shares its generation
    0), so the comparison is paired. Runs: 1 at ``quick`` (one generation after
    generation 0: the code path, quickly), 2 at ``book`` (the main settings'
    5 would add about a fifth to the chapter's time; the suspects' effects
    measured at 3 runs were several times their spread over runs; the page
    gives each experiment's runs); the ``gpu`` and ``paper`` profiles run no ablation (an
    empty dict). ``suspects`` replaces
    :data:`ABLATION` (for example ``{**ABLATION, **MORE_ABLATION}``).
    """
    runs = _at(profile, quick=1, book=2, gpu=0, paper=0)
    if not runs:
        return {}
    generations = _at(profile, quick=1, book=config.generations, gpu=0, paper=0)  # quick: the code path, fast
    first = replace(config, settings=tuple(config.settings[:1]), runs=min(runs, config.runs),
                    generations=min(generations, config.generations))  # fmt: skip
    chosen = ABLATION if suspects is None else suspects
    return {name: replace(first, **change).validate() for name, change in chosen.items()}


#: The chapter's experiments by name (the folder of each is its slug), in the order the chapter shows them.
MAIN, SAMPLING, STRICT = "the authors' recipe", "sampling instead of beam search", "the strict recipe"
REAL_TEXT = "real text, the strict recipe"


def chapter_experiments(
    config: ExperimentConfig, profile: str | None = None, real_text_folder=None
) -> dict[str, ExperimentConfig]:
    """Every experiment of the chapter at a profile: the main one, the strict recipe, sampling, the ablation, real text.

    ``config`` is the main experiment (the paper's settings and more, the
    authors' recipe). :func:`strict_variant` runs at every profile (it is the
    paper's question asked without real validation data);
    :func:`decoding_variant` and :func:`ablation` at the CPU profiles only, and
    with ``real_text_folder`` :func:`real_text_experiment` too (run together,
    the experiments share one pool of workers from start to end).
    """
    out = {MAIN: config, STRICT: strict_variant(config)}
    sampling = decoding_variant(config, profile)
    if sampling is not None:
        out[SAMPLING] = sampling
    out.update(ablation(config, profile))
    if real_text_folder is not None:
        real = real_text_experiment(config, real_text_folder, profile)
        if real is not None:
            out[REAL_TEXT] = real
    return out


def slug(name: str) -> str:
    """A folder name for an experiment's name (``"the strict recipe"`` -> ``"the-strict-recipe"``)."""
    import re

    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not text:
        raise ValueError(f"an experiment's name needs letters or digits, got {name!r}")
    return text


def real_text_experiment(config: ExperimentConfig, folder, profile: str | None = None) -> ExperimentConfig | None:
    """The chapter's run on real English text: the strict recipe, no original data, on a docstring folder.

    ``folder`` is where :func:`.realtext.write_folder` writes (once) a wikitext-shaped
    folder of the Python standard library's docstrings, ``pretrain.txt``
    included (the small model is pretrained on other modules' docstrings). At the
    ``quick`` and ``book`` profiles only (``None`` at ``gpu`` and ``paper``,
    which run on wikitext2 itself): the first setting, the small model of the
    profile with a byte-level BPE of its ``vocab_size`` (English has no closed
    vocabulary), fewer runs and generations.
    """
    from pathlib import Path

    from . import realtext

    scale = _at(profile, quick=dict(runs=1, generations=1, words=(1_500, 800, 1_000), pretrain=6_000),
                book=dict(runs=2, generations=3, words=(6_000, 3_000, 5_000), pretrain=40_000), gpu=None, paper=None)
    if scale is None:
        return None
    folder = Path(folder)
    if not (folder / "DONE").exists():
        from .model import atomic_dir

        with atomic_dir(folder) as tmp:
            realtext.write_folder(tmp, scale["words"], scale["pretrain"], seed=0)
    first = config.settings[0]
    # English has no closed vocabulary: the byte-level BPE of the profile's vocab_size
    return replace(
        with_recipe(config, "strict"), data=str(folder), model=model_mod.SMALL, settings=(Setting(first.epochs, 0.0),),
        runs=scale["runs"], generations=scale["generations"], small=replace(config.small, tokenizer="bpe"),
    ).validate()
