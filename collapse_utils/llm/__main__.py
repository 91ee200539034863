"""Command line: ``python -m collapse_utils.llm`` runs (or resumes) the whole experiment.

Examples::

    python -m collapse_utils.llm --profile quick --output /tmp/llm_run
    python -m collapse_utils.llm --profile paper --output runs/paper      # OPT-125m, wikitext2, on a GPU
    accelerate launch -m collapse_utils.llm --profile paper --output runs/paper   # several GPUs
    python -m collapse_utils.llm --data path/to/wikitext-2-raw --generations 3 --runs 1

Options left out take the value of the chosen profile (``--profile``, default:
the ``COLLAPSE_PROFILE`` environment variable, else ``book``). Running the same
command again resumes at the first unfinished generation.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .. import profiles
from .experiment import ExperimentConfig, default_output, profile_config, run_experiment, settings_from_pairs


def parse_setting(text: str) -> tuple[int, float]:
    """``"5:0"`` or ``"10:0.1"`` -> (epochs, retention)."""
    try:
        epochs, retention = text.split(":")
        return int(epochs), float(retention)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a setting is EPOCHS:RETENTION such as 5:0 or 10:0.1, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m collapse_utils.llm",
        description="Recursive training of a language model on its own beam-search continuations "
        "(Shumailov et al., Figures 10 and 11). Resumable: run it again to continue.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--profile",
        choices=profiles.PROFILES,
        default=None,
        help=f"scale preset (default: ${profiles.PROFILE_ENV}, else {profiles.DEFAULT_PROFILE}); "
        "'paper' = OPT-125m on wikitext-2-raw-v1 at the paper's scale",
    )
    p.add_argument("--model", help="hub name (facebook/opt-125m), a local model folder, or 'small'")
    p.add_argument(
        "--data", help="'wikitext-2-raw-v1' (hub), a folder with train/valid/test.txt, or 'synthetic'"
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
    p.add_argument("--beams", type=int, dest="num_beams", help="beams of the beam search")
    p.add_argument("--block-size", type=int, help="tokens per training block (and prompt)")
    p.add_argument("--new-tokens", type=int, help="tokens written per block (default: the block size)")
    p.add_argument("--repetition-penalty", type=float)
    p.add_argument("--lr", type=float, help="AdamW learning rate (linear decay to 0)")
    p.add_argument("--batch-size", type=int, help="training batch size (blocks)")
    p.add_argument("--gen-batch-size", type=int, help="prompts per beam-search batch")
    p.add_argument("--max-train-blocks", type=int, help="use the first N training blocks only")
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
        help="fail instead of falling back to the embedded language and small model when offline",
    )
    p.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    p.add_argument(
        "--output", type=Path, help="output folder (default: runs/llm/<model>-<data>-<config hash>)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """The profile's configuration with the given options applied (validated)."""
    config = profile_config(args.profile)
    fields = (
        "model",
        "data",
        "generations",
        "runs",
        "num_beams",
        "block_size",
        "new_tokens",
        "repetition_penalty",
        "lr",
        "batch_size",
        "gen_batch_size",
        "max_train_blocks",
        "max_test_blocks",
        "keep_models",
        "seed",
    )
    changes = {f: getattr(args, f) for f in fields if getattr(args, f) is not None}
    if args.no_fallback:
        changes["fallback"] = False
    settings = settings_from_pairs(args.setting) if args.setting else config.settings
    if args.epochs is not None or args.retention is not None:
        settings = tuple(
            replace(
                s,
                **{
                    k: v for k, v in (("epochs", args.epochs), ("retention", args.retention)) if v is not None
                },
            )
            for s in settings
        )
    return replace(config, settings=tuple(dict.fromkeys(settings)), **changes).validate()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    output = args.output or default_output(config)
    profiles.report(
        f"collapse_utils.llm -> {output}",
        {
            "profile": args.profile or profiles.current(),
            **{k: v for k, v in config.to_json().items() if k not in ("small", "language")},
        },
    )
    try:
        results = run_experiment(config, output, progress=not args.quiet, device=args.device)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(results.describe())
    print(f"metrics: {Path(output) / 'metrics.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
