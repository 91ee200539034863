"""The paper's beam search (and beam sampling), written for speed: the same tokens as ``model.generate``, less work.

``model.generate(num_beams=5, min_new_tokens=64, max_new_tokens=64,
repetition_penalty=3.0)`` (the authors' call in ``main.py`` of their
curse_recurse code) continues every block by exactly ``new_tokens`` tokens: the
end-of-sequence token is forbidden until then, so every beam reaches the same
length and no beam finishes early. For that case this module runs the same
search with less work per token (:func:`beam_search`):

* the prompts are encoded once, not once per beam (transformers copies every
  prompt ``num_beams`` times before its first forward pass);
* the prompt's keys and values are kept once per prompt, not once per beam:
  beams of one prompt share them, so they never move, and each decoding step
  attends to them with one batched product per prompt (:data:`ATTENTION`, an
  attention function registered with transformers' ``AttentionInterface`` for
  the length of the call);
* the generated keys and values are one buffer per layer, allocated once, that
  grows in place (transformers concatenates a new, longer tensor at every step),
  and reordering the beams is one ``index_select`` of it into a spare buffer
  (transformers copies the whole cache at every step).

The scores are those of transformers' beam search, step by step: the
log-softmax of the last logits in float32; the repetition penalty on the
log-probabilities of every token already in the beam, prompt included
(``RepetitionPenaltyLogitsProcessor``: a negative score is multiplied by the
penalty, a positive one divided); the end-of-sequence token at ``-inf``
(``MinNewTokensLengthLogitsProcessor``); at the first step only the first beam of
each prompt (the others start at ``-1e9``); the top ``2 * num_beams`` of all
beams' continuations ranked by accumulated score, of which the first
``num_beams`` go on. With equal lengths the length penalty ranks nothing, so the
answer is the beam with the highest accumulated score. The tests compare the
output with ``model.generate`` token for token.

The forward pass is the model's own (``transformers``, with a cache of its
``Cache`` API): its embeddings, projections, feed-forward layers and head;
written here are the bookkeeping around it and the decoding steps' attention
(the same softmax over the same keys; the tests compare it with full attention
and the tokens with ``generate``). Measured at the book's shapes (64 prompts,
5 beams, 64 tokens, a 2-layer OPT of width 64, one CPU thread): a quarter less
time per call than the same search with the model's ``sdpa`` attention over
every beam's copy of the prompt.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch

from .. import validate


def _cache_classes():
    from transformers.cache_utils import Cache, DynamicLayer

    return Cache, DynamicLayer


def supported() -> bool:
    """Whether the installed transformers has the cache API this module builds on (``Cache(layers=...)``)."""
    try:
        Cache, DynamicLayer = _cache_classes()
    except ImportError:  # pragma: no cover - transformers < 4.54
        return False
    return "layers" in inspect.signature(Cache.__init__).parameters and hasattr(DynamicLayer, "update")


#: The attention implementation :func:`beam_search` registers with transformers (``AttentionInterface``) and
#: gives the model for the length of the call: the prompt pass is the model's causal ``sdpa``; each decoding
#: step attends to the prompt's keys once per prompt and to the generated keys once per beam.
ATTENTION = "collapse-beam"


def _beam_attention(module: Any, query: torch.Tensor, key: Any, value: Any, attention_mask: Any = None,
                    scaling: float | None = None, dropout: float = 0.0, **kwargs: Any) -> tuple[torch.Tensor, None]:
    """The registered attention: a decoding step reads its layer's :class:`BeamLayer` (passed as ``key``)."""
    if isinstance(key, torch.Tensor):  # the prompt pass (no padding): causal attention over the prompt
        out = torch.nn.functional.scaled_dot_product_attention(query, key, value, is_causal=query.shape[2] > 1,
                                                               scale=scaling)  # fmt: skip
        return out.transpose(1, 2).contiguous(), None
    return key.attend(query, 1.0 if scaling is None else scaling), None


def _register() -> None:
    from transformers import AttentionInterface

    if ATTENTION not in AttentionInterface._global_mapping:
        AttentionInterface.register(ATTENTION, _beam_attention)


def _layer_class():
    _, DynamicLayer = _cache_classes()

    class BeamLayer(DynamicLayer):
        """One layer's keys and values: the prompt's once per prompt, the generated ones per beam.

        The prompt pass stores the prompts' keys and values as they are
        (``(prompts, heads, length, dim)``); every later step writes its
        position into a buffer of ``(2, prompts * beams, heads, capacity, dim)``
        (keys, values) allocated once, in which every beam's first positions
        are one strided view of ``(beams * heads, length, dim)`` (a batched
        matrix product reads them without a copy). Reordering the beams copies
        that buffer into a spare one (one ``index_select``) and swaps them: the
        prompts never move.
        """

        def __init__(self, capacity: int, beams: int = 1) -> None:
            super().__init__()
            self.capacity = capacity
            self.beams = beams
            self.prompt_length = 0
            self.length = 0  # generated positions stored

        def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any) -> None:
            b, heads, length, dim = key_states.shape
            self.device = key_states.device
            self.pk, self.pv = key_states.contiguous(), value_states.contiguous()
            self.buf = key_states.new_empty((2, b * self.beams, heads, self.capacity, dim))
            self.spare = torch.empty_like(self.buf)
            self.prompt_length = length
            self.is_initialized = True

        def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any):
            if not self.is_initialized:  # the prompt pass
                self.lazy_initialization(key_states, value_states)
                return key_states, value_states
            if key_states.shape[-2] != 1 or key_states.shape[0] != self.buf.shape[1]:
                raise RuntimeError(f"a beam step takes one position of every beam, got {tuple(key_states.shape)}")
            if self.length + 1 > self.capacity:
                raise RuntimeError(f"beam cache full: {self.length} + 1 > {self.capacity} generated positions")
            self.buf[0, :, :, self.length] = key_states[:, :, 0]
            self.buf[1, :, :, self.length] = value_states[:, :, 0]
            self.length += 1
            return self, self  # the registered attention reads both parts from here

        def get_seq_length(self, *args: Any) -> int:
            return self.prompt_length + self.length

        def get_mask_sizes(self, *args: Any) -> tuple[int, int]:
            query_length = args[-1] if args and isinstance(args[-1], int) else 1
            return self.get_seq_length() + query_length, 0

        def keys_values(self) -> tuple[torch.Tensor, torch.Tensor]:
            """Every beam's keys and values, prompt included: ``(prompts * beams, heads, length, dim)`` (a copy)."""
            t, k = self.length, self.beams
            keys = torch.cat([self.pk.repeat_interleave(k, dim=0), self.buf[0, :, :, :t]], dim=2)
            values = torch.cat([self.pv.repeat_interleave(k, dim=0), self.buf[1, :, :, :t]], dim=2)
            return keys, values

        def reorder(self, source: torch.Tensor) -> None:
            """Beam ``b`` takes the generated positions of beam ``source[b]`` (the prompts never move)."""
            torch.index_select(self.buf, 1, source, out=self.spare)
            self.buf, self.spare = self.spare, self.buf

        def attend(self, query: torch.Tensor, scaling: float) -> torch.Tensor:
            """One decoding step's attention, ``(prompts * beams, 1, heads, dim)``: softmax over prompt and generated keys."""
            n, heads, _, dim = query.shape
            b, k, t, kv_heads = self.pk.shape[0], self.beams, self.length, self.pk.shape[1]
            pk, pv, gk, gv = self.pk, self.pv, self.buf[0, :, :, :t], self.buf[1, :, :, :t]
            if kv_heads != heads:  # grouped-query attention: every key head serves heads // kv_heads queries
                r = heads // kv_heads
                pk, pv = pk.repeat_interleave(r, dim=1), pv.repeat_interleave(r, dim=1)
                gk, gv = gk.repeat_interleave(r, dim=1), gv.repeat_interleave(r, dim=1)
            q = query.view(b, k, heads, dim).transpose(1, 2)  # (prompts, heads, beams, dim)
            prompt = torch.matmul(q, pk.transpose(-1, -2))  # (prompts, heads, beams, prompt length)
            made = torch.matmul(query, gk.transpose(-1, -2)).view(b, k, heads, t).transpose(1, 2)
            weights = (torch.cat([prompt, made], dim=-1) * scaling).softmax(dim=-1)
            out = torch.matmul(weights[..., : pk.shape[2]], pv).transpose(1, 2).reshape(n, heads, 1, dim)
            mine = weights[..., pk.shape[2] :].transpose(1, 2).reshape(n, heads, 1, t)
            out = out + torch.matmul(mine.to(gv.dtype), gv)
            return out.transpose(1, 2)

    return BeamLayer


def _cache_keyword(model: Any) -> str:
    """``"cache"`` (transformers >= 5.x) or ``"past_key_values"`` (earlier): the forward's name for the cache."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


@torch.no_grad()
def beam_search(
    model: Any,
    prompts: torch.Tensor,
    new_tokens: int,
    num_beams: int = 5,
    repetition_penalty: float = 3.0,
    eos_token_id: int | None = None,
    candidates: int = 1,
    do_sample: bool = False,
) -> torch.Tensor:
    """Continue every prompt (one length, no padding) by exactly ``new_tokens`` tokens: transformers' beam search.

    ``prompts`` is a ``(batch, length)`` tensor on the model's device. Returns
    the continuations alone, ``(batch, new_tokens)``: what
    ``model.generate(prompts, num_beams=num_beams, min_new_tokens=new_tokens,
    max_new_tokens=new_tokens, repetition_penalty=repetition_penalty,
    eos_token_id=eos_token_id)[:, length:]`` returns (see the module docstring).
    With ``candidates > 1`` (at most ``num_beams``) the best ``candidates``
    beams of every prompt come back, ``(batch, candidates, new_tokens)``, best
    first (``num_return_sequences``).

    ``do_sample=True`` is transformers' beam-search multinomial sampling at
    temperature 1 over the whole vocabulary (``do_sample=True, top_k=0,
    top_p=1.0``): instead of the top ``2 * num_beams`` continuations, that many
    are drawn without replacement from the softmax of all beams' accumulated
    scores (``torch.multinomial``, the torch random state as it stands) and
    ranked by score; the same draws as ``model.generate`` from the same state.
    """
    validate.integer("new_tokens", new_tokens, 1)
    validate.integer("num_beams", num_beams, 1)
    validate.real("repetition_penalty", repetition_penalty, 0.0, low_open=True)
    validate.integer("candidates", candidates, 1, num_beams)
    if prompts.ndim != 2 or prompts.shape[1] < 1:
        raise ValueError(f"prompts must be a (batch, length) tensor, got shape {tuple(prompts.shape)}")
    Cache, _ = _cache_classes()
    BeamLayer = _layer_class()
    k = num_beams
    layers = [BeamLayer(new_tokens, k) for _ in range(model.config.num_hidden_layers)]
    cache = Cache(layers=layers)
    kw = {_cache_keyword(model): cache}
    _register()
    previous = model.config._attn_implementation
    model.config._attn_implementation = ATTENTION
    try:
        return _search(model, prompts, new_tokens, k, repetition_penalty, eos_token_id, candidates, do_sample,
                       layers, kw)  # fmt: skip
    finally:
        model.config._attn_implementation = previous


def _search(model: Any, prompts: torch.Tensor, new_tokens: int, k: int, repetition_penalty: float,
            eos_token_id: int | None, candidates: int, do_sample: bool, layers: list[Any],
            kw: dict[str, Any]) -> torch.Tensor:  # fmt: skip
    batch, length = prompts.shape
    n = batch * k
    logits = model(input_ids=prompts, use_cache=True, **kw).logits[:, -1].float()
    logits = logits.repeat_interleave(k, dim=0)
    device = prompts.device
    seqs = torch.empty((n, length + new_tokens), dtype=torch.long, device=device)
    seqs[:, :length] = prompts.repeat_interleave(k, dim=0)
    scores = torch.full((batch, k), -1e9, dtype=torch.float32, device=device)
    scores[:, 0] = 0.0
    offset = (torch.arange(batch, device=device) * k)[:, None]
    vocab = logits.shape[-1]
    for t in range(new_tokens):
        logp = torch.log_softmax(logits, dim=-1)
        if repetition_penalty != 1.0:
            seen = seqs[:, : length + t]
            s = logp.gather(1, seen)
            logp.scatter_(1, seen, torch.where(s < 0, s * repetition_penalty, s / repetition_penalty))
        if eos_token_id is not None:
            logp[:, eos_token_id] = -float("inf")
        total = (logp.view(batch, k, vocab) + scores[:, :, None]).view(batch, k * vocab)
        if do_sample:  # transformers' draw: 2k without replacement, then ranked by their scores
            idx = torch.multinomial(torch.softmax(total, dim=-1), num_samples=2 * k)
            top, order = total.gather(1, idx).sort(dim=-1, descending=True)
            idx = idx.gather(-1, order)
        else:
            top, idx = total.topk(2 * k, dim=1)  # transformers keeps 2k candidates, then the first k running ones
        top, idx = top[:, :k], idx[:, :k]
        source = (idx // vocab + offset).view(-1)
        seqs = seqs[source]
        seqs[:, length + t] = (idx % vocab).view(-1)
        scores = top
        if t == new_tokens - 1:
            break
        for layer in layers:
            layer.reorder(source)
        logits = model(input_ids=seqs[:, length + t : length + t + 1], use_cache=True, **kw).logits[:, -1].float()
    ranked = seqs.view(batch, k, -1)[:, :candidates, length:]  # ranked: the first has the highest score
    return ranked[:, 0] if candidates == 1 else ranked


def as_numpy(tokens: torch.Tensor) -> np.ndarray:
    return tokens.detach().cpu().numpy().astype(np.int64)
