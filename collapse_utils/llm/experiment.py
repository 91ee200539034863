"""The generational experiment of Shumailov et al. with language models, resumable: the chapter's one entry point.

Generation 0 is the model fine-tuned on the original (real) data; generation
``t + 1`` is fine-tuned on the training set built from generation ``t``'s
continuations (and, with retention, original blocks). For every *setting*
(epochs, share of original data kept), every *run* (seed) and every
generation ``g = 0..generations``:

1. the training set: generation 0 trains on the original blocks; generation
   ``g + 1`` on the blocks written by generation ``g`` under the data schedule
   (:mod:`.runner`: the paper's *replace*, with a share ``retention`` of
   original blocks drawn anew each generation as in the authors' code; or
   *accumulate-subsample*, *accumulate*);
2. fine-tune a fresh copy of the pretrained weights on it (:func:`.model.train`,
   the authors' recipe: AdamW, cosine annealing to 1e-6 over the epochs, the
   checkpoint with the best loss on the real validation blocks; the strict
   recipe chooses it on the previous generation's continuations of them, see
   :data:`.config.RECIPES`);
3. measure (:class:`.measures.Judge`): the loss on the original test blocks,
   in total, by token-frequency band and, on the embedded language, per word
   beside a perfect model's loss on the same words; the perplexity of every
   training block under the generation-0 model (Figure 11), whose reference is
   the validation blocks under generation 0 (original text it never trained
   on); diversity of the training text; on the embedded language its true
   log-likelihood and the coverage of its vocabulary by band beside a fresh
   sample of the source of the same size;
4. write the next generation's data: continue *every* original block with
   ``new_tokens`` tokens by beam search (5 beams, repetition penalty 3.0), and
   keep the continuation alone (the authors' ``outputs[:, 64:]``);
   ``decoding="sample"`` samples instead (temperature 1, no penalty).

On the embedded language the small model is pretrained on a separate corpus
(``pretrain_words``) written in a related language (``pretrain_language``), disjoint
from the fine-tuning, validation and test text: it plays OPT-125m's pretraining
on web text, far from wikitext-2.

Where the pieces live: :mod:`.config` (what determines an experiment),
:mod:`.presets` (the profiles and the chapter's variants), :mod:`.estimate`
(time estimates), :mod:`.textmetrics` (diversity of text), :mod:`.runner` (one
generation of one chain, and the preparation), :mod:`.workers` (the steps of
several experiments, in worker processes) and :mod:`.results` (the saved
results). Every finished generation is written under
``output/<setting>/run<k>/gen<g>/`` (``model/``, ``synthetic.npy``,
``blocks.npy`` (what it trained on), ``is_original.npy``, ``train_ppl.npy``,
``reference_ppl.npy`` (generation 0), ``metrics.json``, ``samples.json``, and
the marker ``DONE``) by filling a temporary folder and renaming it, so a
generation without ``DONE`` is never taken as finished. A second call picks up
at the first unfinished generation; every generation's randomness is seeded
from the experiment's seed, the setting's name, the run and the generation
alone, so a resumed run gives the same results as an uninterrupted one.
``output/metrics.csv`` is the tidy table, one row per setting, run and
generation. ``output/identity.json`` records what was actually loaded and the
code version (:mod:`.identity`); resuming with anything else is refused.
"""

from __future__ import annotations

from pathlib import Path

from .config import (  # noqa: F401  (the chapter's names)
    DATA_SCHEDULES,
    DECODINGS,
    PAPER_SETTINGS,
    RECIPES,
    RETAINED_BLOCKS,
    ExperimentConfig,
    Setting,
    derived_seed,
    settings_from_pairs,
    with_recipe,
)
from .estimate import MEASURED, PEAK_TFLOPS, chapter_estimate_line, estimate_line, estimate_seconds  # noqa: F401
from .presets import (  # noqa: F401
    ABLATION,
    GPU_SHARE,
    MORE_ABLATION,
    MAIN,
    REAL_TEXT,
    SAMPLING,
    STRICT,
    WIKITEXT2_TRAIN_BLOCKS,
    ablation,
    chapter_experiments,
    decoding_variant,
    profile_config,
    real_text_experiment,
    slug,
    stall_limit,
    strict_variant,
)
from .results import (  # noqa: F401
    RESULTS_ENV,
    Results,
    default_output,
    is_done,
    load_results,
    perplexity_shift,
    saved_results_path,
    write_table,
)
from .runner import Prepared, base_summary, check_sources, prepare  # noqa: F401
from .textmetrics import distinct_n, repetition, text_metrics  # noqa: F401
from .workers import run_many  # noqa: F401


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
) -> Results:
    """Run (or resume) one experiment and return its :class:`Results` (see :func:`.workers.run_many`).

    ``workers > 1`` runs its steps in that many processes of one torch thread
    each (on a CPU the small model runs faster on one thread per process than
    on several threads in one process). ``stop_after`` stops after that many
    *newly computed* generations (to simulate an interruption in tests).
    ``cache_dir`` holds the small pretrained model and the shared generations 0
    (default ``output/cache``; experiments may share one). A folder that holds
    results of another configuration, model, data or code version is refused
    with an error naming the differences; ``fresh=True`` moves an existing
    folder aside (``<output>.replaced-<time>``) and starts again. Under
    ``torchrun`` or ``accelerate launch`` every process takes part in every
    training step and in the beam search, and the main process alone prints
    and writes files.
    """
    return run_many(
        {"experiment": (config, output)}, cache_dir=cache_dir if cache_dir is not None else Path(output) / "cache",
        workers=workers, verbose=verbose, progress=progress, device=device, fresh=fresh, stop_after=stop_after,
    )["experiment"]  # fmt: skip


def run_chapter(
    experiments: dict[str, ExperimentConfig],
    root: str | Path,
    workers: int = 1,
    verbose: bool = True,
    progress: bool = True,
    device: str | None = None,
    stall_seconds: float | None = None,
) -> dict[str, Results]:
    """Run (or resume) the chapter's experiments together, each in ``root/<slug of its name>``.

    The cache of pretrained models and shared generations 0 is ``root/cache``
    (see :func:`.workers.run_many`, and its ``stall_seconds``, the hang guard
    of a long call). Returns the results by name.
    """
    root = Path(root)
    jobs = {name: (cfg, root / slug(name)) for name, cfg in experiments.items()}
    return run_many(jobs, cache_dir=root / "cache", workers=workers, verbose=verbose, progress=progress, device=device,
                    stall_seconds=stall_seconds)


def load_chapter(root: str | Path, names: list[str] | None = None) -> dict[str, Results]:
    """The saved results of the chapter's experiments under ``root`` (a folder of :func:`run_chapter`).

    ``names`` are the experiments' names (default: every one of
    :func:`.presets.chapter_experiments` found there, the main one first; the
    main one is required). Raises ``ValueError`` naming the folder when the main
    experiment is missing.
    """
    root = Path(root)
    if names is None:
        names = [MAIN, STRICT, SAMPLING, *ABLATION, *MORE_ABLATION, REAL_TEXT]
    found = {n: load_results(root / slug(n)) for n in names if (root / slug(n) / "config.json").exists()}
    if MAIN not in found:
        raise ValueError(f"{root} holds no results of {MAIN!r} (expected {root / slug(MAIN)})")
    return found
