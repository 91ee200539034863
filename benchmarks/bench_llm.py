"""Throughput of chapter 4 at the paper's shapes: training tokens/s and generated tokens/s.

Usage::

    python benchmarks/bench_llm.py                      # OPT-125m-shaped model, CPU or GPU
    python benchmarks/bench_llm.py --train-steps 20 --gen-prompts 256 --gen-batch-size 128   # on a GPU
    python benchmarks/bench_llm.py --corpus-tokens 2400000   # write a corpus of wikitext2's size first

The model is an ``OPTForCausalLM`` of OPT-125m's shape (12 layers, width 768,
12 heads, vocabulary 50272) with *random* weights (no hub is needed: cost per
token does not depend on the values of the weights), with a byte-level BPE
tokenizer trained on the embedded language; the data are 64-token blocks of the
embedded language. It measures, with the code the experiment runs
(:func:`collapse_utils.llm.model.train` and :func:`~collapse_utils.llm.model.continue_blocks`):

* training tokens/s: AdamW, the global batch (``--batch-size``, 128 as the
  paper; on a CPU 8), with gradient accumulation over ``--micro-batch-size``;
* generated tokens/s: 5-beam search with repetition penalty 3.0 and 64 new
  tokens per block, counting the tokens kept (not the beams), batched with the
  KV cache and SDPA attention;

and projects the minutes of one paper-scale generation: 5 epochs over
wikitext2's training split (about 2.4M OPT tokens, 37.4k blocks), the
validation passes of the best-checkpoint choice, scoring, and continuing every
block. On a GPU training and generation run under bf16 autocast (fp16 where
bf16 is not supported); ``torch.compile`` is not used (beam search re-shapes
its inputs every step). On a CPU the run is short (a few steps, a few prompts)
and the paper-scale figure is an extrapolation from it. Timings on a shared
machine are noisy.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch

from collapse_utils import profiles, validate
from collapse_utils.llm import data, model
from collapse_utils.llm.local_models import OPT125M_SHAPE, parameters
from collapse_utils.llm.synthetic import SyntheticLanguage

WIKITEXT2_TRAIN_TOKENS = 2_400_000  # about 2.4M OPT tokens (2.1M words) in wikitext-2-raw-v1's train split
WIKITEXT2_VALID_TOKENS = 250_000


def matmul_gflops(device: str, size: int = 2048, repeats: int = 8) -> float:
    """The device's dense matmul rate (float32 on a CPU, bf16 on a GPU), GFLOP/s."""
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def opt125m_shaped(tokenizer) -> torch.nn.Module:
    from transformers import OPTConfig, OPTForCausalLM

    cfg = OPTConfig(
        **OPT125M_SHAPE,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        attn_implementation="sdpa",
    )
    torch.manual_seed(0)
    return OPTForCausalLM(cfg)


def main(argv=None) -> None:
    gpu = profiles.torch_device() == "cuda"
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus-tokens", type=int, default=None, help="tokens of the corpus (default: enough blocks)")
    p.add_argument("--batch-size", type=int, default=128 if gpu else 8, help="global training batch (blocks)")
    p.add_argument("--micro-batch-size", type=int, default=32 if gpu else None)
    p.add_argument("--train-steps", type=int, default=10 if gpu else 2, help="measured optimizer steps")
    p.add_argument("--gen-prompts", type=int, default=512 if gpu else 4)
    p.add_argument("--gen-batch-size", type=int, default=128 if gpu else 4)
    p.add_argument("--beams", type=int, default=5)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--block-size", type=int, default=64)
    args = p.parse_args(argv)
    for name in ("batch_size", "train_steps", "gen_prompts", "gen_batch_size", "beams", "new_tokens", "block_size"):
        validate.integer(name, getattr(args, name), 1)
    device = "cuda" if gpu else "cpu"
    where = torch.cuda.get_device_name() if gpu else f"{os.cpu_count()} CPU cores, {torch.get_num_threads()} threads"
    print(f"device: {device} ({where}), {'bf16 autocast' if gpu else 'float32'}, torch {torch.__version__}")
    if not gpu:
        print("no GPU here: CPU figures at OPT-125m's shapes; the paper-scale projection extrapolates a short run")
    gflops = matmul_gflops(device)
    print(f"dense matmul: {gflops:,.0f} GFLOP/s ({'bf16' if gpu else 'float32'})")

    blocks_needed = args.batch_size * (args.train_steps + 1) + args.gen_prompts
    tokens = args.corpus_tokens or blocks_needed * args.block_size
    lang = SyntheticLanguage()
    start = time.perf_counter()
    text = lang.write_corpus(int(tokens / 1.4) + 2000, seed=0).splitlines(keepends=True)  # ~1.4 tokens per word
    tok = model.train_tokenizer(text[:20000], 4096)
    blocks = data.make_blocks(text, tok, args.block_size)
    print(
        f"corpus: {len(blocks):,} blocks of {args.block_size} tokens ({blocks.size:,} tokens) of the embedded "
        f"language, written and tokenised in {time.perf_counter() - start:.0f} s"
    )
    lm = opt125m_shaped(tok)
    print(f"model: OPT-125m's shape, {parameters(lm) / 1e6:.1f}M parameters, vocabulary {OPT125M_SHAPE['vocab_size']}, random weights")

    # training: one warm-up step, then the measured steps
    warm = blocks[: args.batch_size]
    model.train(lm, warm, epochs=1, lr=2e-5, batch_size=args.batch_size, micro_batch_size=args.micro_batch_size, device=device)
    train_blocks = blocks[args.batch_size : args.batch_size * (args.train_steps + 1)]
    if gpu:
        torch.cuda.synchronize()
    stats = model.train(
        lm, train_blocks, epochs=1, lr=2e-5, batch_size=args.batch_size, micro_batch_size=args.micro_batch_size,
        device=device,
    )
    train_tps = stats["tokens_per_s"]
    print(f"training:   {train_tps:>10,.1f} tokens/s  (global batch {args.batch_size}, {stats['steps']} steps, {stats['precision']})")

    # generation: a warm-up, then the measured prompts
    lm = stats["model"].eval()
    prompts = blocks[-args.gen_prompts :]
    kw = dict(num_beams=args.beams, repetition_penalty=3.0, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    model.continue_blocks(lm, prompts[:2], new_tokens=2, batch_size=2, **kw)
    if gpu:
        torch.cuda.synchronize()
    start = time.perf_counter()
    model.continue_blocks(lm, prompts, new_tokens=args.new_tokens, batch_size=args.gen_batch_size, **kw)
    if gpu:
        torch.cuda.synchronize()
    gen_s = time.perf_counter() - start
    gen_tps = len(prompts) * args.new_tokens / gen_s
    print(
        f"generation: {gen_tps:>10,.1f} tokens/s  ({args.beams} beams, {args.new_tokens} new tokens, batch "
        f"{args.gen_batch_size}, {len(prompts)} prompts)"
    )
    # one paper-scale generation: 5 epochs, validation after each, scoring, continuing every block
    train_s = 5 * WIKITEXT2_TRAIN_TOKENS / train_tps
    forward_s = (5 * WIKITEXT2_VALID_TOKENS + 2 * WIKITEXT2_TRAIN_TOKENS) / (3 * train_tps)
    generate_s = WIKITEXT2_TRAIN_TOKENS / gen_tps
    total = train_s + forward_s + generate_s
    print(
        f"one paper-scale generation (5 epochs over ~2.4M tokens, validation and scoring, continuing ~37.4k "
        f"blocks): {total / 60:,.0f} min = training {train_s / 60:,.0f} + scoring {forward_s / 60:,.0f} + "
        f"generation {generate_s / 60:,.0f}"
        + ("" if gpu else " (extrapolated from the short CPU run above)")
    )
    print(f"for experiment.MEASURED: ({train_tps:.1f}, {gen_tps:.1f}, {gflops:.1f})")


if __name__ == "__main__":
    main()
