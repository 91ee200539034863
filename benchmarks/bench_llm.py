"""Throughput of chapter 4: training tokens/s and generated tokens/s.

Usage::

    python benchmarks/bench_llm.py                 # the small OPT on the embedded language (CPU or GPU)
    python benchmarks/bench_llm.py --hub           # also facebook/opt-125m, when the hub is reachable
    python benchmarks/bench_llm.py --blocks 512 --beams 5 --gen-batch-size 128

Prints, per model: parameters, device, precision, training tokens/s (AdamW, packed 64-token blocks)
and generated tokens/s (beam search, 64 new tokens per block, counting the tokens kept, not the beams),
and extrapolates one paper-scale generation (5 epochs over wikitext2's ~2.4M training tokens plus the
continuations of all its ~37k blocks). Timings on a shared CPU are noisy.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from collapse_utils import profiles
from collapse_utils.llm import data, model

WIKITEXT2_TRAIN_TOKENS = 2_400_000  # about 2.4M OPT tokens in wikitext-2-raw-v1's train split


def bench(base: model.Base, blocks: np.ndarray, args: argparse.Namespace, device: str) -> dict[str, float]:
    lm = base.fresh()
    stats = model.train(lm, blocks, epochs=1, lr=2e-5, batch_size=args.batch_size, seed=0, device=device)
    lm = stats["model"]
    prompts = blocks[: args.gen_blocks]
    model.continue_blocks(
        lm,
        prompts[: min(4, len(prompts))],
        new_tokens=4,
        num_beams=args.beams,
        batch_size=4,
        pad_token_id=base.tokenizer.pad_token_id,
    )  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    model.continue_blocks(
        lm,
        prompts,
        new_tokens=args.new_tokens,
        num_beams=args.beams,
        batch_size=args.gen_batch_size,
        pad_token_id=base.tokenizer.pad_token_id,
    )
    if device == "cuda":
        torch.cuda.synchronize()
    gen_s = time.perf_counter() - start
    gen_tps = len(prompts) * args.new_tokens / gen_s
    paper_s = 5 * WIKITEXT2_TRAIN_TOKENS / stats["tokens_per_s"] + WIKITEXT2_TRAIN_TOKENS / gen_tps
    return {
        "train_tokens_per_s": stats["tokens_per_s"],
        "generated_tokens_per_s": gen_tps,
        "paper_generation_min": paper_s / 60,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hub", action="store_true", help="also benchmark facebook/opt-125m (needs the hub)")
    p.add_argument("--blocks", type=int, default=256, help="training blocks (one epoch)")
    p.add_argument("--gen-blocks", type=int, default=64, help="prompts to continue")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--gen-batch-size", type=int, default=None, help="default: 32 on a CPU, 128 on a GPU")
    p.add_argument("--beams", type=int, default=5)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--cache", default="runs/bench-cache", help="where the small model is cached")
    args = p.parse_args()
    device = profiles.torch_device()
    args.gen_batch_size = args.gen_batch_size or (128 if device == "cuda" else 32)
    precision = "bf16 autocast" if device == "cuda" else "float32"
    print(
        f"device: {device} ({torch.cuda.get_device_name() if device == 'cuda' else f'{os.cpu_count()} CPU cores'}),"
        f" {precision}, torch {torch.__version__}"
    )
    corpus = data.load_corpus("synthetic", synthetic_words=(60_000, 6_000, 6_000))
    candidates = ["small"] + (["facebook/opt-125m"] if args.hub else [])
    for name in candidates:
        try:
            base = model.load_base(
                name,
                corpus,
                args.cache,
                model.SmallModelConfig(pretrain_epochs=1),
                fallback=False,
                verbose=False,
            )
        except OSError as err:
            print(f"{name}: skipped ({type(err).__name__}: {err})")
            continue
        blocks = data.make_blocks(corpus.train, base.tokenizer, args.block_size, args.blocks)
        if device == "cuda":
            base.model.to("cuda")
        r = bench(base, blocks, args, device)
        params = sum(p.numel() for p in base.model.parameters()) / 1e6
        print(f"{base.name}: {params:.1f}M parameters")
        print(
            f"  training:   {r['train_tokens_per_s']:>10,.0f} tokens/s  (batch {args.batch_size}, {len(blocks)} blocks)"
        )
        print(
            f"  generation: {r['generated_tokens_per_s']:>10,.0f} tokens/s  ({args.beams} beams, batch "
            f"{args.gen_batch_size}, {min(args.gen_blocks, len(blocks))} prompts x {args.new_tokens} tokens)"
        )
        print(
            f"  one paper-scale generation at these rates: {r['paper_generation_min']:.1f} min "
            "(5 epochs over ~2.4M tokens + continuing every block)"
        )


if __name__ == "__main__":
    main()
