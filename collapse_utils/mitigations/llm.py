"""Chapter 4's language model under every strategy, through :func:`collapse_utils.llm.experiment.run_many`.

The strategies map onto chapter 4's :class:`~collapse_utils.llm.experiment.ExperimentConfig`:

==========================  =====================================================================
replace                     ``data_schedule="replace"``, share 0
fixed real data, share r    ``retained_blocks="random"`` (a fresh subset of the original blocks), share r
fresh real data, share r    ``retained_blocks="fresh"`` (new text from the embedded language), share r
accumulate                  ``data_schedule="accumulate"``
accumulate-subsample        ``data_schedule="accumulate-subsample"``
select                      ``select = 1 / CANDIDATES`` (the likeliest of the candidates under generation 0)
==========================  =====================================================================

Generation 0 is the model fine-tuned on the original blocks; generation ``t + 1``
is fine-tuned on what the strategy builds from generation ``t``'s continuations.
Every strategy runs one setting (``epochs`` per generation, the share as its
retention); experiments with the same epochs share their generations 0 (chapter
4's cache). The distance from the truth is the test loss per word in excess of
the truth's on the same words (``test_word_nll - test_word_nll_truth``, nats per
word: an estimate of the KL divergence per word), which needs the embedded
language: every profile runs on it (:func:`base_config`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import validate
from .results import FamilyResult
from .strategies import CANDIDATES, SHARED, Strategy, check_share, check_shares, lanes

#: The experiments a call runs, by name, and the strategies each holds.
JOBS = ("replace and fixed", "fresh", "accumulate", "accumulate-subsample", "select")


def base_config(config: Any) -> Any:
    """Chapter 4's configuration of a profile, on the embedded language with the small model.

    The ``gpu`` and ``paper`` profiles of chapter 4 fine-tune OPT-125m on
    wikitext-2, which has no source to draw fresh text from and no truth to
    measure against; here they keep their scale's small model and the embedded
    language (at the fallback learning rate). The ``quick`` and ``book`` profiles
    are returned unchanged, so they reuse chapter 4's pretrained model.
    """
    from ..llm import data as data_mod
    from ..llm import model as model_mod
    from ..llm.experiment import ExperimentConfig

    if not isinstance(config, ExperimentConfig):
        raise ValueError(f"config must be an ExperimentConfig, got {type(config).__name__}")
    if config.data == data_mod.SYNTHETIC and config.model == model_mod.SMALL:
        return config
    return replace(config, data=data_mod.SYNTHETIC, model=model_mod.SMALL, lr=config.fallback_lr).validate()


def configs(
    base: Any, shares, compare_share: float, epochs: int, generations: int, runs: int, blocks: int,
    test_blocks: int | None = None, valid_blocks: int | None = None, decoding: str = "sample",
) -> dict[str, Any]:
    """The experiments of one call, by :data:`JOBS` name (see the module docstring); checked before any work.

    ``blocks`` original blocks a generation (the fine-tuning set), ``test_blocks``
    and ``valid_blocks`` (default: the base configuration's) for the measure and
    the checkpoint choice, and the ``decoding`` that writes each generation's data
    (``"sample"``: temperature 1, a genuine sample of the model, as the other
    families' samples; ``"beam"``: the paper's beam search).
    """
    from ..llm.experiment import DECODINGS, Setting

    shares = check_shares(shares)
    compare_share = check_share(compare_share, "compare_share")
    lanes(shares, compare_share)  # checks compare_share against the grid
    epochs = validate.integer("epochs", epochs, 1)
    generations = validate.integer("generations", generations, 1)
    runs = validate.integer("runs", runs, 1)
    blocks = validate.integer("blocks", blocks, 2)
    decoding = validate.choice("decoding", decoding, DECODINGS)
    base = base_config(base)
    test_blocks = base.max_test_blocks if test_blocks is None else validate.integer("test_blocks", test_blocks, 1)
    valid_blocks = base.max_valid_blocks if valid_blocks is None else validate.integer("valid_blocks", valid_blocks, 1)
    common = replace(base, generations=generations, runs=runs, max_train_blocks=blocks, max_test_blocks=test_blocks,
                     max_valid_blocks=valid_blocks, decoding=decoding, keep_models="first", data_schedule="replace",
                     retained_blocks="random", select=1.0)  # fmt: skip
    nonzero = [s for s in shares if s > 0]
    out = {
        "replace and fixed": replace(common, settings=tuple(Setting(epochs, s) for s in shares)),
        "fresh": replace(common, retained_blocks="fresh", settings=tuple(Setting(epochs, s) for s in nonzero)),
        "accumulate": replace(common, data_schedule="accumulate", settings=(Setting(epochs, 0.0),)),
        "accumulate-subsample": replace(common, data_schedule="accumulate-subsample", settings=(Setting(epochs, 0.0),)),
        "select": replace(common, select=1.0 / CANDIDATES, settings=(Setting(epochs, 0.0),)),
    }
    return {name: c.validate() for name, c in out.items()}


def where(s: Strategy) -> tuple[str, float]:
    """The experiment (a :data:`JOBS` name) and the setting's retention that hold strategy ``s``."""
    if s.name in ("replace", "fixed"):
        return "replace and fixed", s.share
    return s.name, s.share


def distances(tables: dict[str, Any], shares, compare_share: float, epochs: int, runs: int) -> dict[Strategy, np.ndarray]:
    """Every strategy's excess test loss per word, ``(runs, generations + 1)``, from the experiments' tables.

    ``tables`` maps a :data:`JOBS` name to its ``metrics.csv`` (a DataFrame). A
    missing generation or run is an error, not a gap.
    """
    out = {}
    for s in lanes(shares, compare_share):
        job, share = where(s)
        t = tables[job]
        rows = t[(t["epochs"] == epochs) & np.isclose(t["retention"], share)]
        if rows.empty:
            raise ValueError(f"no results for {s.label} (experiment {job!r}, share {share:g})")
        excess = rows.pivot(index="run", columns="generation", values="test_word_nll") - rows.pivot(
            index="run", columns="generation", values="test_word_nll_truth"
        )
        if excess.shape[0] != runs or excess.isna().any().any():
            raise ValueError(f"results for {s.label} are incomplete: {excess.shape[0]} of {runs} runs, or gaps")
        out[s] = np.maximum(excess.sort_index(axis=1).to_numpy(dtype=float), 0.0)
    return out


def run_llm(
    base: Any,
    shares,
    compare_share: float,
    epochs: int,
    generations: int,
    runs: int,
    blocks: int,
    cache_dir: str | Path,
    output_root: str | Path,
    workers: int = 1,
    progress: bool = False,
    test_blocks: int | None = None,
    valid_blocks: int | None = None,
    decoding: str = "sample",
) -> FamilyResult:
    """Run (or resume) chapter 4's experiment under every strategy and return the family's result.

    ``base`` is chapter 4's configuration of the profile
    (:func:`collapse_utils.llm.experiment.profile_config`); use chapter 4's
    ``cache_dir`` to reuse its pretrained model. Each experiment writes under
    ``output_root`` (a folder named by its configuration and the code version).
    ``test_blocks``, ``valid_blocks`` and ``decoding``: see :func:`configs`.
    """
    from ..llm import experiment

    jobs = configs(base, shares, compare_share, epochs, generations, runs, blocks, test_blocks, valid_blocks, decoding)
    workers = validate.integer("workers", workers, 1)
    root = Path(output_root)
    results = experiment.run_many(
        {name: (c, experiment.default_output(c, root)) for name, c in jobs.items()},
        cache_dir=cache_dir, workers=workers, verbose=False, progress=progress,
    )  # fmt: skip
    tables = {name: r.table for name, r in results.items()}
    d = distances(tables, shares, compare_share, epochs, runs)
    c = jobs["replace and fixed"]
    scale = (
        f"{blocks} blocks of {c.block_size} tokens a generation, {generations} generations, {runs} "
        f"run{'s' * (runs != 1)}, {epochs} epoch{'s' * (epochs != 1)} per generation, "
        f"{'beam search' if c.decoding == 'beam' else 'sampling'}"
    )
    extra = {"configs": jobs, "tables": tables}
    return FamilyResult("llm", "excess test loss per word over the truth", d, shares, compare_share, scale, extra)


__all__ = ["JOBS", "SHARED", "base_config", "configs", "distances", "run_llm", "where"]
