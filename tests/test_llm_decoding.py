"""The fast beam search writes exactly what transformers' generate() writes (collapse_utils.llm.decoding)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from collapse_utils.llm import decoding
from collapse_utils.llm import model as M

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny_opt():
    """A random 3-layer OPT whose logits are far from flat (ties between beams would make the order arbitrary)."""
    from transformers import OPTConfig, OPTForCausalLM

    cfg = OPTConfig(vocab_size=300, hidden_size=48, num_hidden_layers=3, num_attention_heads=4, ffn_dim=96,
                    max_position_embeddings=96, word_embed_proj_dim=48, pad_token_id=0, bos_token_id=1,
                    eos_token_id=1, dropout=0.0)  # fmt: skip
    torch.manual_seed(0)
    model = OPTForCausalLM(cfg).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(6.0)  # peaked distributions, as a trained model's
    return model


def generate(model, prompts, **kw):
    return M.continue_blocks(model, prompts, pad_token_id=0, eos_token_id=1, **kw)


@pytest.mark.parametrize("beams, penalty, new", [(5, 3.0, 24), (3, 1.0, 17), (2, 1.3, 9), (1, 3.0, 6)])
def test_fast_beam_search_equals_generate(tiny_opt, beams, penalty, new):
    """Bugs guarded: a beam reordering that moves the prompt's cache or forgets the generated part, the repetition
    penalty on the wrong tokens (prompt left out) or applied to logits instead of log-probabilities, the first step
    letting every beam start (all beams alike), the end-of-sequence token allowed, the best beam taken from the wrong
    end: each makes the fast search write other tokens than transformers' own beam search."""
    prompts = np.random.default_rng(beams).integers(2, 300, size=(11, 13))
    fast = generate(tiny_opt, prompts, new_tokens=new, num_beams=beams, repetition_penalty=penalty, batch_size=4)
    slow = generate(tiny_opt, prompts, new_tokens=new, num_beams=beams, repetition_penalty=penalty, batch_size=4,
                    fast_beam=False)  # fmt: skip
    assert fast.shape == (11, new)
    np.testing.assert_array_equal(fast, slow)
    assert not (fast == 1).any(), "the end-of-sequence token was written before the last position"


@pytest.mark.parametrize("beams, penalty, new, seed", [(5, 3.0, 20, 0), (3, 1.0, 11, 7)])
def test_fast_beam_sampling_equals_generate(tiny_opt, beams, penalty, new, seed):
    """Bugs guarded: the sampling experiment's fast path draws with replacement, draws from one beam's scores instead
    of all beams', keeps the draws in drawn order instead of ranked by score, takes the top continuations (beam
    search, not sampling), or ignores the seed: each writes other tokens than transformers' beam sampling from the
    same random state (``do_sample=True, top_k=0, top_p=1``)."""
    prompts = np.random.default_rng(beams).integers(2, 300, size=(9, 10))
    with torch.no_grad():
        tiny_opt.lm_head.weight.div_(6.0)  # flatter distributions: the draws differ from the top continuations
    try:
        kw = dict(new_tokens=new, num_beams=beams, repetition_penalty=penalty, batch_size=4, do_sample=True)
        fast = generate(tiny_opt, prompts, seed=seed, **kw)
        slow = generate(tiny_opt, prompts, seed=seed, fast_beam=False, **kw)
        other = generate(tiny_opt, prompts, seed=seed + 1, **kw)
        searched = generate(tiny_opt, prompts, new_tokens=new, num_beams=beams, repetition_penalty=penalty)
    finally:
        with torch.no_grad():
            tiny_opt.lm_head.weight.mul_(6.0)
    np.testing.assert_array_equal(fast, slow)
    assert (fast != other).any() and (fast != searched).any()
    assert not (fast == 1).any(), "the end-of-sequence token was written before the last position"


def test_candidates_are_the_best_beams_in_order(tiny_opt):
    """Bug guarded: the verifier's candidates are not generate()'s num_return_sequences (other beams, other order)."""
    prompts = np.random.default_rng(3).integers(2, 300, size=(5, 10))
    fast = generate(tiny_opt, prompts, new_tokens=12, num_beams=4, repetition_penalty=3.0, candidates=3)
    slow = generate(tiny_opt, prompts, new_tokens=12, num_beams=4, repetition_penalty=3.0, candidates=3,
                    fast_beam=False)  # fmt: skip
    assert fast.shape == (5, 3, 12)
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(fast[:, 0], generate(tiny_opt, prompts, new_tokens=12, num_beams=4,
                                                       repetition_penalty=3.0))  # fmt: skip
    with pytest.raises(ValueError, match="candidates"):
        generate(tiny_opt, prompts, new_tokens=4, num_beams=2, candidates=3)


def test_the_experiment_takes_the_fast_path(tiny_opt, monkeypatch):
    """Bug guarded: the fast search silently never used (a condition that is always false; or never for the sampling
    experiment's beam sampling), so the chapter pays for generate()'s copies of the whole cache at every step."""
    calls = []
    real = decoding.beam_search
    monkeypatch.setattr(decoding, "beam_search", lambda *a, **k: calls.append(1) or real(*a, **k))
    generate(tiny_opt, np.full((3, 8), 5), new_tokens=4, num_beams=3, batch_size=2)
    assert len(calls) == 2  # two batches
    generate(tiny_opt, np.full((3, 8), 5), new_tokens=4, num_beams=3, batch_size=4, do_sample=True, seed=0)
    assert len(calls) == 3  # the sampling experiment's beam sampling too
    # prompts of several lengths go through generate() (left padding)
    out = generate(tiny_opt, [np.full(5, 7), np.full(8, 9)], new_tokens=4, num_beams=3)
    assert out.shape == (2, 4) and len(calls) == 3


def test_the_cache_grows_in_place_and_reorders_only_generated_positions():
    """Bugs guarded: a reorder that moves the prompt positions (beams of one prompt share them), or that forgets the
    generated ones."""
    layer = decoding._layer_class()(capacity=6)
    k = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).view(2, 1, 3, 2)  # 2 prompts, 3 positions
    layer.update(k, -k)
    layer.expand(2)  # beams 0,1 of prompt 0; beams 2,3 of prompt 1
    step = torch.full((4, 1, 1, 2), 100.0) + torch.arange(4.0).view(4, 1, 1, 1)
    keys, values = layer.update(step, -step)
    assert keys.shape == (4, 1, 4, 2) and layer.get_seq_length() == 4
    before = layer.kbuf[:, :, :3].clone()
    layer.reorder_from(torch.tensor([1, 1, 3, 2]), start=3)
    np.testing.assert_array_equal(layer.kbuf[:, :, :3], before)  # the prompts stay
    np.testing.assert_array_equal(layer.kbuf[:, 0, 3, 0], [101.0, 101.0, 103.0, 102.0])
    np.testing.assert_array_equal(layer.vbuf[:, 0, 3, 0], [-101.0, -101.0, -103.0, -102.0])
    with pytest.raises(RuntimeError, match="full"):
        layer.update(torch.zeros(4, 1, 3, 2), torch.zeros(4, 1, 3, 2))
