"""The paper's beam search (and beam sampling), written for speed: the same tokens as ``model.generate``, less work.

``model.generate(num_beams=5, min_new_tokens=64, max_new_tokens=64,
repetition_penalty=3.0)`` (the authors' call in ``main.py`` of their
curse_recurse code) continues every block by exactly ``new_tokens`` tokens: the
end-of-sequence token is forbidden until then, so every beam reaches the same
length and no beam finishes early. For that case this module runs the same
search with less work per token (:func:`beam_search`):

* the prompts are encoded once, not once per beam (transformers copies every
  prompt ``num_beams`` times before its first forward pass);
* the key/value cache is one buffer per layer, allocated once, that grows in
  place (transformers concatenates a new, longer tensor at every step);
* reordering the beams moves only the generated positions: beams of one
  prompt share the prompt's keys and values, so that part never moves
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
``Cache`` API); only the bookkeeping around it is written here.
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


def _layer_class():
    _, DynamicLayer = _cache_classes()

    class BeamLayer(DynamicLayer):
        """One layer's keys and values in a buffer allocated once; grows in place, reorders generated positions."""

        def __init__(self, capacity: int) -> None:
            super().__init__()
            self.capacity = capacity
            self.length = 0

        def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any) -> None:
            n, heads, _, dim = key_states.shape
            self.device = key_states.device
            self.kbuf = key_states.new_empty((n, heads, self.capacity, dim))
            self.vbuf = value_states.new_empty((n, heads, self.capacity, dim))
            self.is_initialized = True

        def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            n = key_states.shape[-2]
            if self.length + n > self.capacity:
                raise RuntimeError(f"beam cache full: {self.length} + {n} > {self.capacity} positions")
            self.kbuf[:, :, self.length : self.length + n] = key_states
            self.vbuf[:, :, self.length : self.length + n] = value_states
            self.length += n
            self.keys = self.kbuf[:, :, : self.length]
            self.values = self.vbuf[:, :, : self.length]
            return self.keys, self.values

        def get_seq_length(self, *args: Any) -> int:
            return self.length

        def get_mask_sizes(self, *args: Any) -> tuple[int, int]:
            query_length = args[-1] if args and isinstance(args[-1], int) else 1
            return self.length + query_length, 0

        def expand(self, k: int) -> None:
            """Copy every row ``k`` times (prompt ``i`` becomes beams ``i*k .. i*k+k-1``)."""
            self.kbuf = self.kbuf.repeat_interleave(k, dim=0)
            self.vbuf = self.vbuf.repeat_interleave(k, dim=0)
            self.keys = self.kbuf[:, :, : self.length]
            self.values = self.vbuf[:, :, : self.length]

        def reorder_from(self, source: torch.Tensor, start: int) -> None:
            """Beam ``b`` takes the positions ``start..`` of beam ``source[b]`` (positions before stay)."""
            if self.length > start:
                self.kbuf[:, :, start : self.length] = self.kbuf[source, :, start : self.length]
                self.vbuf[:, :, start : self.length] = self.vbuf[source, :, start : self.length]

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
    batch, length = prompts.shape
    k = num_beams
    n = batch * k
    layers = [BeamLayer(length + new_tokens) for _ in range(model.config.num_hidden_layers)]
    cache = Cache(layers=layers)
    kw = {_cache_keyword(model): cache}
    logits = model(input_ids=prompts, use_cache=True, **kw).logits[:, -1].float()
    for layer in layers:
        layer.expand(k)
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
            layer.reorder_from(source, length)
        logits = model(input_ids=seqs[:, length + t : length + t + 1], use_cache=True, **kw).logits[:, -1].float()
    ranked = seqs.view(batch, k, -1)[:, :candidates, length:]  # ranked: the first has the highest score
    return ranked[:, 0] if candidates == 1 else ranked


def as_numpy(tokens: torch.Tensor) -> np.ndarray:
    return tokens.detach().cpu().numpy().astype(np.int64)
