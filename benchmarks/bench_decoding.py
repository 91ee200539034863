"""Chapter 4's three inner loops against their references, in one process: beam search, scoring and training.

    .venv/bin/python benchmarks/bench_decoding.py [--prompts 64] [--repeats 3]

At the book profile's shapes (a 2-layer OPT of width 64 with a 2,048-token
vocabulary, random weights with a peaked head as a trained model's; blocks of
64 tokens; one torch thread, as each of the chapter's worker processes runs):

* **writing**: ``continue_blocks`` continuing every prompt by 64 tokens with
  5 beams and repetition penalty 3.0, on the fast path
  (:func:`collapse_utils.llm.decoding.beam_search`: each prompt's keys once, its
  own attention for the decoding steps) against transformers' ``generate``
  (``fast_beam=False``), and whether both wrote the same tokens;
* **scoring**: ``token_nll`` of the same number of blocks on the fused head and
  loss (:func:`collapse_utils.llm.model.next_token_nll`) against the model's
  logits and ``cross_entropy``, and the largest difference;
* **training**: ``train`` (5 epochs of the same blocks, batches of 16) on the
  fused head and loss (:func:`collapse_utils.llm.model.summed_next_token_loss`:
  a reused buffer for a chunk's logits, the weight's gradient summed
  transposed) against the model's logits and ``cross_entropy``, from the same
  weights, and the largest difference of the final training losses.

It prints the median seconds of ``--repeats`` calls and the ratio to the
reference measured in the same process (the ratios are what to compare between
machines); it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prompts", type=int, default=64, help="prompts (and scored blocks) per call (the book: 64)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls per variant (median)")
    args = p.parse_args(argv)
    import numpy as np
    import torch
    from transformers import OPTConfig, OPTForCausalLM

    from collapse_utils.llm import model

    torch.set_num_threads(1)
    cfg = OPTConfig(vocab_size=2048, hidden_size=64, ffn_dim=256, num_hidden_layers=2, num_attention_heads=4,
                    max_position_embeddings=256, word_embed_proj_dim=64, dropout=0.0, pad_token_id=1,
                    bos_token_id=2, eos_token_id=2)  # fmt: skip
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    lm = OPTForCausalLM(cfg).eval()
    with torch.no_grad():
        lm.lm_head.weight.mul_(4.0)  # peaked distributions, as a trained model's
    blocks = np.random.default_rng(0).integers(3, 2048, size=(args.prompts, 64))
    kw = dict(new_tokens=64, num_beams=5, repetition_penalty=3.0, batch_size=64, pad_token_id=1, eos_token_id=2)
    out: dict[str, np.ndarray] = {}

    def write(fast: bool):
        return lambda: out.__setitem__(fast, model.continue_blocks(lm, blocks, fast_beam=fast, **kw))

    ref = _median_seconds(write(False), args.repeats)
    fast = _median_seconds(write(True), args.repeats)
    same = bool(np.array_equal(out[True], out[False]))
    print(f"writing ({args.prompts} prompts x 64 tokens, 5 beams), one thread:")
    print(f"  generate()        {ref:7.3f} s")
    print(f"  fast path         {fast:7.3f} s   {fast / ref:5.2f}x of generate()   same tokens: {same}")

    scores: dict[str, np.ndarray] = {}
    fused = _median_seconds(lambda: scores.__setitem__("fused", model.token_nll(lm, blocks)), args.repeats)
    with mock.patch.object(model, "_fused_loss_applies", lambda *a: False):
        logits = _median_seconds(lambda: scores.__setitem__("logits", model.token_nll(lm, blocks)), args.repeats)
    diff = float(np.abs(scores["fused"] - scores["logits"]).max())
    print(f"scoring ({args.prompts} blocks of 64 tokens), one thread:")
    print(f"  model's logits    {logits:7.3f} s")
    print(f"  fused head/loss   {fused:7.3f} s   {fused / logits:5.2f}x of the logits'   largest difference {diff:.1e}")

    import copy

    start = copy.deepcopy(lm)
    losses: dict[str, float] = {}

    def train(name: str):
        def go():
            stats = model.train(copy.deepcopy(start), blocks, epochs=5, lr=1e-3, batch_size=16, seed=0, device="cpu")
            losses[name] = float(stats["loss"])
        return go

    fused_t = _median_seconds(train("fused"), args.repeats)
    with mock.patch.object(model, "_fused_loss_applies", lambda *a: False):
        logits_t = _median_seconds(train("logits"), args.repeats)
    print(f"training (5 epochs of {args.prompts} blocks, batches of 16), one thread:")
    print(f"  model's logits    {logits_t:7.3f} s")
    print(f"  fused head/loss   {fused_t:7.3f} s   {fused_t / logits_t:5.2f}x of the logits'   "
          f"final losses differ by {abs(losses['fused'] - losses['logits']):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
