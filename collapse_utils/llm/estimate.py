"""How long an experiment takes: an estimate scaled from measured throughput, printed before the long cell."""

from __future__ import annotations

import math

from .. import validate
from . import model as model_mod
from .config import WIKITEXT2_TEST_BLOCKS, WIKITEXT2_TRAIN_BLOCKS, WIKITEXT2_VALID_BLOCKS, ExperimentConfig

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
        chooses = config.checkpoint != "last"  # a validation pass every epoch
        forward_tokens = gens * (setting.epochs * n_valid * chooses + n_test + n) * length
        gen_s = config.generations * n * config.continuation / gen_tps
        if name != "cpu":
            steps = config.generations * math.ceil(n / config.gen_batch_size) * config.continuation
            gen_s = max(gen_s, steps * GEN_STEP_FLOOR_S)
        seconds += config.runs * (train_tokens / train_tps + forward_tokens / (3 * train_tps) + gen_s)
    return seconds + 60.0  # loading the model and the data once


def estimate_line(config: ExperimentConfig, device_name: str = "T4") -> str:
    """One sentence with :func:`estimate_seconds` for ``device_name``, saying that it is an estimate and from what."""
    seconds = estimate_seconds(config, device_name)
    size = f"about {seconds / 60:.0f} minutes" if seconds >= 90 else f"about {seconds:.0f} seconds"
    n = config.max_train_blocks or WIKITEXT2_TRAIN_BLOCKS
    return (
        f"estimated time of this experiment on a {device_name}: {size} "
        f"({len(config.settings)} settings x {config.runs} runs x {config.generations + 1} generations, "
        f"{n:,} training blocks; an estimate scaled from CPU measurements at OPT-125m's shapes by peak "
        "throughput ratios, see experiment.estimate_seconds; finished generations are saved, so running "
        "the cell again after a disconnect resumes)"
    )




def chapter_estimate_line(experiments: dict[str, ExperimentConfig], device_name: str = "T4") -> str:
    """One sentence with the summed :func:`estimate_seconds` of several experiments (the chapter's), an estimate."""
    seconds = sum(estimate_seconds(c, device_name) for c in experiments.values())
    size = f"about {seconds / 60:.0f} minutes" if seconds >= 90 else f"about {seconds:.0f} seconds"
    return (
        f"estimated time of the chapter's {len(experiments)} experiments on a {device_name}: {size} (an estimate "
        "scaled from CPU measurements at OPT-125m's shapes by peak throughput ratios, see "
        "experiment.estimate_seconds; finished generations are saved, so running the cell again after a "
        "disconnect resumes)"
    )
