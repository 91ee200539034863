"""Chapter 4's phases and their share of its time, at the book profile (or another).

    COLLAPSE_PROFILE=book .venv/bin/python benchmarks/bench_chapter4.py [--generations 2] [--keep DIR]

Runs, in this process on one torch thread (as each of the chapter's two workers
does), from an empty folder: the small model's pretraining on the related
language, then one chain of the chapter's first setting (the authors' recipe,
beam search) and one of its sampling experiment, ``--generations`` generations
after generation 0 each. The time is split by profiling, not by a timer around
each call, so that nested work is counted once:

* **pretraining**: ``model._small_base`` (tokenizer, corpus, the epochs over it);
* **fine-tuning**: ``model.train`` outside pretraining (the per-epoch validation
  that chooses the checkpoint included);
* **writing**: ``model.continue_blocks`` (beam search or sampling of the next
  generation's training and validation text);
* **scoring**: ``model.token_nll`` outside training (test and base perplexity,
  the frequency bands, Figure 11's perplexities);
* **other**: the rest (text measures, the embedded language's scoring, files, setup).

It prints seconds and shares; the shares, measured in one process, are what to
compare between machines and versions. The chapter runs the same steps many
times (3 settings x 5 runs x 4 generations, the strict recipe, sampling, the
ablation and real text) in two worker processes.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _key(stats: pstats.Stats, module_suffix: str, name: str) -> tuple | None:
    for key in stats.stats:  # type: ignore[attr-defined]
        if key[0].endswith(module_suffix) and key[2] == name:
            return key
    return None


def _cumulative(stats: pstats.Stats, key: tuple | None, excluding: tuple | None = None) -> float:
    """Cumulative seconds of ``key``, less what it spent when called (directly) from ``excluding``."""
    if key is None:
        return 0.0
    cc, nc, tt, ct, callers = stats.stats[key]  # type: ignore[attr-defined]
    if excluding is not None and excluding in callers:
        ct -= callers[excluding][3]
    return ct


def phases(stats: pstats.Stats, total: float) -> dict[str, float]:
    """Seconds per phase from a profile of the chapter's steps (see the module docstring)."""
    model = "collapse_utils/llm/model.py"
    small = _key(stats, model, "_small_base")
    train = _key(stats, model, "train")
    out = {
        "pretraining": _cumulative(stats, small),
        "fine-tuning": _cumulative(stats, train, excluding=small),
        "writing": _cumulative(stats, _key(stats, model, "continue_blocks")),
        "scoring": _cumulative(stats, _key(stats, model, "token_nll"), excluding=train),
    }
    out["other"] = max(0.0, total - sum(out.values()))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--generations", type=int, default=2, help="generations after generation 0 per chain")
    p.add_argument("--keep", type=Path, help="write the runs here (default: a temporary folder, removed)")
    args = p.parse_args(argv)
    import torch

    from collapse_utils import profiles
    from collapse_utils.llm import experiment

    torch.set_num_threads(1)
    config = experiment.profile_config()
    first = replace(config, runs=1, generations=args.generations, settings=config.settings[:1]).validate()
    jobs = {experiment.MAIN: first}
    sampling = experiment.decoding_variant(first)
    if sampling is not None:
        jobs[experiment.SAMPLING] = sampling
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-ch4-"))
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    experiment.run_chapter(jobs, root, workers=1, verbose=False, progress=False)
    profiler.disable()
    total = time.perf_counter() - start
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    parts = phases(pstats.Stats(profiler), total)
    print(f"chapter 4's phases, profile {profiles.current()}: pretraining, then {len(jobs)} chains of 1 run x "
          f"{args.generations + 1} generations ({', '.join(jobs)}), one torch thread")
    for name, seconds in parts.items():
        print(f"  {name:12s} {seconds:7.1f} s  {seconds / total:6.1%}")
    print(f"  {'total':12s} {total:7.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
