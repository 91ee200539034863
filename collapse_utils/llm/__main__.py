"""Command line: ``python -m collapse_utils.llm`` runs (or resumes) the whole experiment.

Examples::

    python -m collapse_utils.llm --profile quick --output /tmp/llm_run
    python -m collapse_utils.llm --profile paper --output runs/paper      # OPT-125m, wikitext2, on a GPU
    torchrun --nproc-per-node 4 -m collapse_utils.llm --profile paper --output runs/paper   # 4 GPUs
    accelerate launch --num_processes 4 -m collapse_utils.llm --profile paper --output runs/paper
    python -m collapse_utils.llm --data path/to/wikitext-2-raw --generations 3 --runs 1

Options left out take the value of the chosen profile (``--profile``, default:
the ``COLLAPSE_PROFILE`` environment variable, else ``gpu`` with a CUDA GPU and
``book`` without). Running the same command again resumes at the first
unfinished generation. Errors in the input (a bad value, a folder that does
not exist, an unknown data name, a hub name when the hub is unreachable and no
fallback applies, an output folder of another configuration) are one line on
stderr and exit status 2, before any work.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .. import profiles
from .config import (
    CHECKPOINTS,
    DATA_SCHEDULES,
    DECODINGS,
    INITS,
    PRETRAIN_LANGUAGES,
    RECIPES,
    RETAINED_BLOCKS,
    TOKENIZATIONS,
    with_recipe,
)
from .experiment import (
    ExperimentConfig,
    default_output,
    estimate_line,
    profile_config,
    run_experiment,
    settings_from_pairs,
)

EXIT_USAGE = 2


def parse_setting(text: str) -> tuple[int, float]:
    """``"5:0"`` or ``"10:0.1"`` -> (epochs, retention)."""
    try:
        epochs, retention = text.split(":")
        out = int(epochs), float(retention)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a setting is EPOCHS:RETENTION such as 5:0 or 10:0.1, got {text!r}"
        ) from None
    if not math.isfinite(out[1]):
        raise argparse.ArgumentTypeError(f"the retention of a setting must be a finite number, got {text!r}")
    return out


def _grad_norm(text: str) -> float | str:
    """A clipping norm, or ``"none"`` (``none``, ``off`` or ``0``: no clipping)."""
    if text.strip().lower() in ("none", "off", "0", "0.0"):
        return "none"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number or 'none', got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; options left out (``None``) take the profile's values."""
    p = argparse.ArgumentParser(
        prog="python -m collapse_utils.llm",
        description="Recursive training of a language model on its own beam-search continuations "
        "(Shumailov et al., Figures 10 and 11). Resumable: run it again to continue. "
        "Options left out take the chosen profile's values.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--profile",
        choices=profiles.PROFILES,
        default=None,
        help=f"scale preset (default: ${profiles.PROFILE_ENV}, else '{profiles.GPU_DEFAULT_PROFILE}' with a "
        f"CUDA GPU and '{profiles.DEFAULT_PROFILE}' without); 'paper' = OPT-125m on wikitext-2-raw-v1 at "
        "the paper's scale, 'gpu' = the same sized for one free Colab T4 session",
    )
    p.add_argument("--model", help="hub name (facebook/opt-125m), a local model folder, or 'small'")
    p.add_argument(
        "--data",
        help="a wikitext configuration (wikitext-2-raw-v1, from the hub), a folder with "
        "train/valid/test.txt, or 'synthetic'",
    )
    p.add_argument("--generations", type=int, help="generations after generation 0")
    p.add_argument("--runs", type=int, help="runs (seeds) per setting")
    p.add_argument(
        "--setting",
        action="append",
        type=parse_setting,
        metavar="EPOCHS:RETENTION",
        help="a training setting (repeatable); the paper's are 5:0 and 10:0.1",
    )
    p.add_argument("--epochs", type=int, help="epochs of every setting (overrides the profile's)")
    p.add_argument("--retention", type=float, help="share of original blocks of every setting, in [0, 1]")
    p.add_argument(
        "--retained-blocks",
        choices=RETAINED_BLOCKS,
        help="which original blocks are kept: a fresh random subset each generation (the authors'), the first "
        "ones every generation, or fresh text from the source (the embedded language only)",
    )
    p.add_argument("--beams", type=int, dest="num_beams", help="beams of the beam search")
    p.add_argument("--block-size", type=int, help="tokens per training block (and prompt)")
    p.add_argument("--new-tokens", type=int, help="tokens written per block (the profile's: the block size)")
    p.add_argument("--repetition-penalty", type=float, help="repetition penalty of the beam search (> 0)")
    p.add_argument(
        "--decoding",
        choices=DECODINGS,
        help="how the data are written: the paper's beam search, or plain sampling (temperature 1)",
    )
    p.add_argument(
        "--data-schedule",
        choices=DATA_SCHEDULES,
        help="how each generation's training set is built: replace (the paper's: the latest data only), "
        "accumulate-subsample, or accumulate (the original data and every generation's data so far, "
        "Gerstgrasser et al. 2024)",
    )
    p.add_argument(
        "--accumulate", action="store_true", help="the same as --data-schedule accumulate",
    )
    p.add_argument(
        "--recipe",
        choices=tuple(RECIPES),
        help="authors: every generation keeps its best epoch on the real validation blocks; strict: on the "
        "previous generation's continuations of them (no real data after generation 0)",
    )
    p.add_argument("--checkpoint", choices=CHECKPOINTS, help="how generations 1.. choose their epoch (overrides --recipe)")
    p.add_argument("--init", choices=INITS, help="every generation from the pretrained weights, or from the previous one's")
    p.add_argument(
        "--select", type=float,
        help="verifier: write round(1/SELECT) continuations per block and keep the one generation 0 finds likeliest",
    )  # fmt: skip
    p.add_argument(
        "--tokenization", choices=TOKENIZATIONS,
        help="lines: every line on its own with the tokenizer's special tokens (the authors'); text: no special tokens",
    )  # fmt: skip
    p.add_argument(
        "--pretrain-language", choices=PRETRAIN_LANGUAGES,
        help="the small model's pretraining language: a related one (the paper's structure) or the same",
    )  # fmt: skip
    p.add_argument("--pretrain-blend", type=float, help="share of the related language's transitions not the fine-tuning language's")
    p.add_argument("--lr", type=float, help="AdamW learning rate")
    p.add_argument(
        "--schedule",
        choices=("cosine", "linear", "constant"),
        help="learning-rate schedule: the authors' cosine annealing over the epochs, a linear decay to 0, "
        "or constant",
    )
    p.add_argument("--min-lr", type=float, help="the cosine schedule's final learning rate (eta_min)")
    p.add_argument(
        "--max-grad-norm", type=_grad_norm, help="gradient clipping norm ('none' or 0: no clipping)"
    )
    p.add_argument(
        "--no-best-checkpoint",
        action="store_true",
        help="keep the last epoch's weights in generations 1.. (the same as --checkpoint last)",
    )
    p.add_argument("--batch-size", type=int, help="training batch size (blocks, over all processes)")
    p.add_argument(
        "--micro-batch-size", type=int, help="blocks per forward pass and process (gradient accumulation)"
    )
    p.add_argument("--gen-batch-size", type=int, help="prompts per beam-search batch")
    p.add_argument("--max-train-blocks", type=int, help="use the first N training blocks only")
    p.add_argument("--max-valid-blocks", type=int, help="use the first N validation blocks only")
    p.add_argument("--max-test-blocks", type=int, help="use the first N test blocks only")
    p.add_argument(
        "--keep-models",
        choices=("all", "first", "none"),
        help="which generations' weights to keep (generation 0 is always kept)",
    )
    p.add_argument("--seed", type=int, help="base seed (every run and generation derives its own)")
    p.add_argument(
        "--no-fallback",
        action="store_true",
        help="fail instead of falling back to the embedded language and small model when the hub is "
        "unreachable (only the default names fall back anyway)",
    )
    p.add_argument("--device", choices=("cpu", "cuda"), help="where to run (without it: cuda when available)")
    p.add_argument(
        "--output", type=Path, help="output folder (without it: runs/llm/<model>-<data>-<config>-<code>)"
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="start afresh: move an existing output folder aside (<output>.replaced-<time>)",
    )
    p.add_argument(
        "--chapter",
        action="store_true",
        help="run every experiment of chapter 4 at this profile (the main one, the strict recipe, and at the CPU "
        "profiles the sampling experiment and the ablation), each in OUTPUT/<its name>; "
        "COLLAPSE_LLM_RESULTS=OUTPUT makes the chapter plot them",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


FIELDS = (
    "model",
    "data",
    "generations",
    "runs",
    "num_beams",
    "block_size",
    "new_tokens",
    "repetition_penalty",
    "lr",
    "schedule",
    "min_lr",
    "batch_size",
    "micro_batch_size",
    "gen_batch_size",
    "max_train_blocks",
    "max_valid_blocks",
    "max_test_blocks",
    "retained_blocks",
    "decoding",
    "data_schedule",
    "checkpoint",
    "init",
    "select",
    "tokenization",
    "pretrain_language",
    "pretrain_blend",
    "keep_models",
    "seed",
)


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """The profile's configuration with the given options applied (validated: raises ``ValueError``)."""
    config = profile_config(args.profile)
    if args.recipe is not None:
        config = with_recipe(config, args.recipe)
    changes = {f: getattr(args, f) for f in FIELDS if getattr(args, f) is not None}
    if args.max_grad_norm is not None:
        changes["max_grad_norm"] = None if args.max_grad_norm == "none" else args.max_grad_norm
    if args.no_fallback:
        changes["fallback"] = False
    if args.no_best_checkpoint:
        changes["checkpoint"] = "last"
    if args.accumulate:
        changes["data_schedule"] = "accumulate"
    settings = settings_from_pairs(args.setting) if args.setting else config.settings
    if args.epochs is not None or args.retention is not None:
        settings = tuple(
            replace(
                s,
                **{k: v for k, v in (("epochs", args.epochs), ("retention", args.retention)) if v is not None},
            )
            for s in settings
        )
    return replace(config, settings=tuple(dict.fromkeys(settings)), **changes).validate()


def header(args: argparse.Namespace, config: ExperimentConfig, output: Path) -> str:
    """The first lines printed: the profile actually used and why, the output folder, the parameters."""
    if args.profile:
        why = f"profile '{args.profile}', chosen by --profile"
    else:
        why = profiles.reason()
    params = {k: v for k, v in config.to_json().items() if k not in ("small", "language")}
    width = max(len(k) for k in params)
    lines = [f"collapse_utils.llm -> {output}", f"  {why}"]
    lines += [f"  {k:<{width}} = {v!r}" for k, v in params.items()]
    return "\n".join(lines)


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, 2 for errors in the input, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as err:
        return _error(str(err))
    output = args.output or default_output(config)
    from . import distributed

    try:
        world = distributed.current(args.device)
    except ValueError as err:
        return _error(str(err))
    if world.is_main:
        print(header(args, config, output))
        if config.model != "small" and args.chapter:
            from .experiment import chapter_estimate_line, chapter_experiments

            print(chapter_estimate_line(chapter_experiments(config, args.profile)))
        elif config.model != "small":
            print(estimate_line(config))
    try:
        if args.chapter:
            from .experiment import chapter_experiments, run_chapter

            found = run_chapter(chapter_experiments(config, args.profile), output, progress=not args.quiet,
                                device=args.device)  # fmt: skip
            if world.is_main:
                for name, res in found.items():
                    print(f"{name}: {res.describe()}")
            return 0
        results = run_experiment(
            config, output, progress=not args.quiet, device=args.device, fresh=args.fresh
        )
    except (ValueError, OSError) as err:  # bad input, a missing folder, the hub unreachable without fallback
        return _error(" ".join(str(err).split()))
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return 130
    if world.is_main:
        print(results.describe())
        print(f"metrics: {Path(output) / 'metrics.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
