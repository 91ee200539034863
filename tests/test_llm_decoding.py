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


def test_the_search_applies_an_opt_head_itself_and_writes_what_the_models_head_writes(tiny_opt, monkeypatch):
    """Bugs guarded: the search's own head (the decoder's hidden states times the head's weight, into a buffer every
    step reuses) reading the wrong rows or a stale buffer, or taken for a model whose logits are not that product (a
    head with a bias, another architecture): each writes other tokens than the model's own forward does; and an OPT
    model silently left on the slower path (the model's logits, a fresh tensor per step)."""
    import copy
    import functools

    from transformers import GPT2Config, GPT2LMHeadModel

    assert decoding._fused_head(tiny_opt) is tiny_opt.lm_head.weight
    biased = copy.deepcopy(tiny_opt)
    biased.lm_head = torch.nn.Linear(48, 300, bias=True)
    assert decoding._fused_head(biased) is None  # logits = hidden @ weight.T + bias: the model's own head
    assert decoding._fused_head(GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=20))) is None
    prompts = np.random.default_rng(5).integers(2, 300, size=(7, 9))
    kw = dict(new_tokens=15, num_beams=4, repetition_penalty=3.0, batch_size=3)
    calls = []
    forward = tiny_opt.forward

    @functools.wraps(forward)
    def counted(*args, **kwargs):
        calls.append(1)
        return forward(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(tiny_opt, "forward", counted)
        fused = generate(tiny_opt, prompts, **kw)
    assert len(calls) == 3  # the prompt pass of each of the 3 batches only: every later step's head is the search's
    monkeypatch.setattr(decoding, "_fused_head", lambda model: None)
    own = generate(tiny_opt, prompts, **kw)
    np.testing.assert_array_equal(fused, own)


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


def test_the_cache_keeps_each_prompt_once_and_reorders_only_generated_positions():
    """Bugs guarded: a reorder that moves the prompt positions or that forgets the generated ones (keys or values),
    prompts stored once per beam instead of once per prompt, a step written at the wrong position, a cache that
    overflows its buffer silently."""
    layer = decoding._layer_class()(capacity=2, beams=2)
    k = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).view(2, 1, 3, 2)  # 2 prompts, 3 positions
    assert layer.update(k, -k)[0] is k  # the prompt pass attends over the prompt itself
    assert layer.pk.shape == (2, 1, 3, 2)  # once per prompt: beams 0,1 are prompt 0's, beams 2,3 prompt 1's
    step = torch.full((4, 1, 1, 2), 100.0) + torch.arange(4.0).view(4, 1, 1, 1)
    layer.update(step, -step)
    assert layer.get_seq_length() == 4
    layer.reorder(torch.tensor([1, 1, 3, 2]))
    keys, values = layer.keys_values()
    assert keys.shape == (4, 1, 4, 2)
    np.testing.assert_array_equal(keys[:, 0, :3], k.repeat_interleave(2, dim=0)[:, 0])  # the prompts stay
    np.testing.assert_array_equal(keys[:, 0, 3, 0], [101.0, 101.0, 103.0, 102.0])
    np.testing.assert_array_equal(values[:, 0, 3, 0], [-101.0, -101.0, -103.0, -102.0])
    layer.update(step + 10, -step - 10)
    np.testing.assert_array_equal(layer.keys_values()[0][:, 0, 4, 0], [110.0, 111.0, 112.0, 113.0])
    with pytest.raises(RuntimeError, match="full"):
        layer.update(step, -step)


@pytest.mark.parametrize("kv_heads", [4, 2])
def test_a_beam_step_attends_as_full_attention_over_every_beams_keys(kv_heads):
    """Bugs guarded: the step's attention dropping the prompt's keys or the generated ones, a softmax over one part
    alone, the scaling applied twice or not at all, beams of one prompt reading another prompt's keys (a wrong
    view of the queries), key heads not shared among their query heads (grouped-query models)."""
    gen = torch.Generator().manual_seed(0)
    prompts, beams, heads, dim, length = 3, 2, 4, 8, 5
    layer = decoding._layer_class()(capacity=4, beams=beams)
    layer.update(torch.randn(prompts, kv_heads, length, dim, generator=gen),
                 torch.randn(prompts, kv_heads, length, dim, generator=gen))  # fmt: skip
    for _ in range(3):
        n = prompts * beams
        layer.update(torch.randn(n, kv_heads, 1, dim, generator=gen), torch.randn(n, kv_heads, 1, dim, generator=gen))
        layer.reorder(torch.tensor([1, 0, 2, 2, 5, 4]))
    query = torch.randn(prompts * beams, heads, 1, dim, generator=gen)
    keys, values = layer.keys_values()
    keys, values = keys.repeat_interleave(heads // kv_heads, 1), values.repeat_interleave(heads // kv_heads, 1)
    want = torch.nn.functional.scaled_dot_product_attention(query, keys, values, scale=0.3).transpose(1, 2)
    np.testing.assert_allclose(layer.attend(query, 0.3), want, atol=1e-6)


def test_the_model_gets_its_own_attention_back(tiny_opt, monkeypatch):
    """Bug guarded: the search's attention left in the model's configuration after the call (or after an error in it),
    so that training or scoring afterwards passes the cache layer where keys belong."""
    prompts = torch.as_tensor(np.random.default_rng(0).integers(2, 300, size=(2, 5)))
    before = tiny_opt.config._attn_implementation
    assert before != decoding.ATTENTION  # (the fixture is shared: an earlier search must have given it back too)
    decoding.beam_search(tiny_opt, prompts, 3, num_beams=2)
    assert tiny_opt.config._attn_implementation == before
    monkeypatch.setattr(decoding, "_search", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        decoding.beam_search(tiny_opt, prompts, 3, num_beams=2)
    assert tiny_opt.config._attn_implementation == before


def test_writing_and_scoring_run_in_inference_mode_and_training_still_learns_after_them(tiny_opt):
    """Bugs guarded: writing or scoring under ``no_grad`` only (every op still bumps version counters and records
    views: about 6% slower writes at the book's shapes), or a scoring path that leaves inference mode on for what
    follows; and an inference tensor kept by the model from a scoring pass (training could not save it for
    backward: the per-epoch validation between epochs would break the next epoch)."""
    import copy

    seen = []
    model = copy.deepcopy(tiny_opt)
    hook = model.model.decoder.register_forward_pre_hook(lambda *a: seen.append(torch.is_inference_mode_enabled()))
    prompts = np.random.default_rng(0).integers(2, 300, size=(3, 8))
    try:
        generate(model, prompts, new_tokens=3, num_beams=2)  # the fast beam search, from the experiment's call
        decoding.beam_search(model, torch.as_tensor(prompts), 3, num_beams=2, eos_token_id=1)  # ... and on its own
        generate(model, prompts, new_tokens=3, num_beams=1, do_sample=True, seed=1)  # transformers' sampling
        M.token_nll(model, prompts)
    finally:
        hook.remove()
    assert seen and all(seen), seen
    assert not torch.is_inference_mode_enabled() and torch.is_grad_enabled()
    blocks = np.random.default_rng(1).integers(2, 300, size=(8, 12))
    before = model.lm_head.weight.detach().clone()
    stats = M.train(model, blocks, epochs=2, lr=1e-2, batch_size=4, valid_blocks=blocks[:4])
    assert not torch.equal(model.lm_head.weight, before) and len(stats["valid_losses"]) == 2
