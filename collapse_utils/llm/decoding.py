"""The paper's beam search (and beam sampling), written for speed: the same tokens as ``model.generate``, less work.

``model.generate(num_beams=5, min_new_tokens=64, max_new_tokens=64,
repetition_penalty=3.0)`` (the authors' call in ``main.py`` of their
curse_recurse code) continues every block by exactly ``new_tokens`` tokens: the
end-of-sequence token is forbidden until then, so every beam reaches the same
length and no beam finishes early. For that case this module runs the same
search with less work per token (:func:`beam_search`):

* the prompts are encoded once, not once per beam (transformers copies every
  prompt ``num_beams`` times before its first forward pass), and the head of
  that pass computes the last position's logits only (``logits_to_keep=1``);
* the prompt's keys and values are kept once per prompt, not once per beam:
  beams of one prompt share them, so they never move, and each decoding step
  attends to them with one batched product per prompt (:data:`ATTENTION`, an
  attention function registered with transformers' ``AttentionInterface`` for
  the length of the call);
* the generated keys and values are one buffer per layer, allocated once, that
  grows in place (transformers concatenates a new, longer tensor at every step)
  and never moves: reordering the beams rewrites a table of each beam's
  ancestors (transformers copies the whole cache at every step), and a step
  scores each beam against every position its prompt's beams wrote, keeping
  its ancestors' scores (:class:`BeamLayer <_layer_class>`).

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
every beam's copy of the prompt, and the ancestors' table about a quarter less
again than reordering a buffer of every beam's generated keys at every step
(``benchmarks/bench_decoding.py``).
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
        """One layer's keys and values: the prompt's once per prompt, each generated position once, never moved.

        The prompt pass stores the prompts' keys and values as they are
        (``(prompts, heads, length, dim)``). Every later step writes the
        position it adds, for every beam, into a buffer of ``(2, prompts, heads,
        capacity, beams, dim)`` (keys, values) allocated once, where nothing is
        moved again: reordering the beams only rewrites a small table of
        ancestors (``anc[p, j, s]``: which of prompt ``p``'s beam slots wrote the
        position ``s`` that beam ``j`` now descends from). A step's attention
        scores every beam of a prompt against all the positions its prompt's
        beams wrote (one batched product per prompt and head, ``beams`` times
        the products a beam needs) and keeps its ancestors' (a gather): at the
        book's shapes much less than copying every beam's generated keys at
        every step, as transformers' cache (and this layer's earlier version)
        did.
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
            self.buf = key_states.new_empty((2, b, heads, self.capacity, self.beams, dim))
            self.anc = torch.empty((b, self.beams, self.capacity), dtype=torch.long, device=self.device)
            self.own = torch.arange(self.beams, device=self.device)
            self.offset = (torch.arange(b, device=self.device) * self.beams)[:, None]
            self.prompt_length = length
            self.is_initialized = True

        def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any):
            if not self.is_initialized:  # the prompt pass
                self.lazy_initialization(key_states, value_states)
                return key_states, value_states
            b, heads, _, dim = self.pk.shape
            if key_states.shape[-2] != 1 or key_states.shape[0] != b * self.beams:
                raise RuntimeError(f"a beam step takes one position of every beam, got {tuple(key_states.shape)}")
            if self.length + 1 > self.capacity:
                raise RuntimeError(f"beam cache full: {self.length} + 1 > {self.capacity} generated positions")
            t = self.length
            self.buf[0, :, :, t] = key_states.reshape(b, self.beams, heads, dim).transpose(1, 2)
            self.buf[1, :, :, t] = value_states.reshape(b, self.beams, heads, dim).transpose(1, 2)
            self.anc[:, :, t] = self.own  # each beam wrote its own slot's position
            self.length += 1
            return self, self  # the registered attention reads both parts from here

        def get_seq_length(self, *args: Any) -> int:
            return self.prompt_length + self.length

        def get_mask_sizes(self, *args: Any) -> tuple[int, int]:
            query_length = args[-1] if args and isinstance(args[-1], int) else 1
            return self.get_seq_length() + query_length, 0

        def _lineage(self, heads: int) -> torch.Tensor:
            """Where each beam's generated positions are among its prompt's slots: ``(prompts, heads, beams, t, 1)``."""
            b, k, t = self.pk.shape[0], self.beams, self.length
            return self.anc[:, None, :, :t, None].expand(b, heads, k, t, 1)

        def keys_values(self) -> tuple[torch.Tensor, torch.Tensor]:
            """Every beam's keys and values, prompt included: ``(prompts * beams, heads, length, dim)`` (a copy)."""
            b, heads, _, dim = self.pk.shape
            k, t = self.beams, self.length
            idx = self._lineage(heads)[..., None].expand(b, heads, k, t, 1, dim)
            out = []
            for part, prompt in ((self.buf[0, :, :, :t], self.pk), (self.buf[1, :, :, :t], self.pv)):
                made = part[:, :, None].expand(b, heads, k, t, k, dim).gather(4, idx)[:, :, :, :, 0]
                made = made.transpose(1, 2).reshape(b * k, heads, t, dim)
                out.append(torch.cat([prompt.repeat_interleave(k, dim=0), made], dim=2))
            return out[0], out[1]

        def reorder(self, source: torch.Tensor) -> None:
            """Beam ``b`` takes the generated positions of beam ``source[b]`` (its ancestors' table; nothing moves)."""
            t = self.length
            if t:
                local = source.view(-1, self.beams) - self.offset  # the beam slot within its prompt
                self.anc[:, :, :t] = self.anc[:, :, :t].gather(1, local[:, :, None].expand(-1, -1, t))

        def attend(self, query: torch.Tensor, scaling: float) -> torch.Tensor:
            """One decoding step's attention, ``(prompts * beams, 1, heads, dim)``: softmax over prompt and generated keys."""
            n, heads, _, dim = query.shape
            b, k, t, kv_heads = self.pk.shape[0], self.beams, self.length, self.pk.shape[1]
            pk, pv = self.pk, self.pv
            gk = self.buf[0, :, :, :t].reshape(b, kv_heads, t * k, dim)  # every slot's positions, no copy
            gv = self.buf[1, :, :, :t].reshape(b, kv_heads, t * k, dim)
            if kv_heads != heads:  # grouped-query attention: every key head serves heads // kv_heads queries
                r = heads // kv_heads
                pk, pv = pk.repeat_interleave(r, dim=1), pv.repeat_interleave(r, dim=1)
                gk, gv = gk.repeat_interleave(r, dim=1), gv.repeat_interleave(r, dim=1)
            q = query.view(b, k, heads, dim).transpose(1, 2)  # (prompts, heads, beams, dim)
            prompt = torch.matmul(q, pk.transpose(-1, -2))  # (prompts, heads, beams, prompt length)
            lineage = self._lineage(heads)
            # every beam against every slot's positions, then each beam's own ancestors: (prompts, heads, beams, t)
            made = torch.matmul(q, gk.transpose(-1, -2)).view(b, heads, k, t, k).gather(-1, lineage)[..., 0]
            weights = (torch.cat([prompt, made], dim=-1) * scaling).softmax(dim=-1)
            out = torch.matmul(weights[..., : pk.shape[2]], pv)  # (prompts, heads, beams, dim)
            mine = torch.zeros((b, heads, k, t, k), dtype=gv.dtype, device=gv.device)
            mine.scatter_(-1, lineage, weights[..., pk.shape[2] :, None].to(gv.dtype))
            out = out + torch.matmul(mine.view(b, heads, k, t * k), gv)
            return out.transpose(1, 2).reshape(n, heads, dim)[:, None]

    return BeamLayer


def _cache_keyword(model: Any) -> str:
    """``"cache"`` (transformers >= 5.x) or ``"past_key_values"`` (earlier): the forward's name for the cache."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


@torch.inference_mode()
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


def _fused_head(model: Any) -> torch.Tensor | None:
    """The head's weight when an OPT model's logits are ``hidden @ weight.T`` in float32 (else ``None``)."""
    from .model import opt_head  # (model imports this module)

    head = opt_head(model)
    return head.weight if head is not None and head.weight.dtype == torch.float32 else None


class _Steps:
    """Buffers of one search's steps, allocated once: the log-softmax of the logits and the candidates' scores.

    Every step of a search fills tensors of the same shapes (about 2.5 MB each at
    the book's shapes); a fresh one per step costs the CPU its first touch
    every time (measured: writing into reused buffers, the logits of the
    search's own head included, took about a tenth less time per call).
    """

    def __init__(self, like: torch.Tensor, batch: int, k: int) -> None:
        self.logp = torch.empty_like(like)
        self.total = like.new_empty((batch, k, like.shape[-1]))


def _select(logits: torch.Tensor, seqs: torch.Tensor, scores: torch.Tensor, filled: int, k: int,
            repetition_penalty: float, eos_token_id: int | None, do_sample: bool,
            steps: _Steps) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """The next ``k`` beams of every prompt from its beams' last logits: transformers' scores, then its choice.

    ``logits`` and ``seqs`` are the beams' rows (``(prompts * k, vocab)`` and
    their tokens, the first ``filled`` of them written), ``scores`` the beams'
    accumulated scores ``(prompts, k)``. Returns the new scores and the chosen
    continuations' indices into each prompt's ``k * vocab`` candidates.
    """
    batch, vocab = scores.shape[0], logits.shape[-1]
    logp = torch.log_softmax(logits, dim=-1, out=steps.logp)
    if repetition_penalty != 1.0:
        seen = seqs[:, :filled]
        s = logp.gather(1, seen)
        logp.scatter_(1, seen, torch.where(s < 0, s * repetition_penalty, s / repetition_penalty))
    if eos_token_id is not None:
        logp[:, eos_token_id] = -float("inf")
    total = torch.add(logp.view(batch, k, vocab), scores[:, :, None], out=steps.total).view(batch, k * vocab)
    if do_sample:  # transformers' draw: 2k without replacement, then ranked by their scores
        idx = torch.multinomial(torch.softmax(total, dim=-1), num_samples=2 * k)
        top, order = total.gather(1, idx).sort(dim=-1, descending=True)
        idx = idx.gather(-1, order)
    else:
        top, idx = total.topk(2 * k, dim=1)  # transformers keeps 2k candidates, then the first k running ones
    return top[:, :k], idx[:, :k]


def _search(model: Any, prompts: torch.Tensor, new_tokens: int, k: int, repetition_penalty: float,
            eos_token_id: int | None, candidates: int, do_sample: bool, layers: list[Any],
            kw: dict[str, Any]) -> torch.Tensor:  # fmt: skip
    batch, length = prompts.shape
    n = batch * k
    last = {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(model.forward).parameters else {}
    logits = model(input_ids=prompts, use_cache=True, **kw, **last).logits[:, -1].float()  # the head on the last only
    logits = logits.repeat_interleave(k, dim=0)
    device = prompts.device
    seqs = torch.empty((n, length + new_tokens), dtype=torch.long, device=device)
    seqs[:, :length] = prompts.repeat_interleave(k, dim=0)
    scores = torch.full((batch, k), -1e9, dtype=torch.float32, device=device)
    scores[:, 0] = 0.0
    offset = (torch.arange(batch, device=device) * k)[:, None]
    vocab = logits.shape[-1]
    # an OPT model's head is applied here, into a buffer every step reuses (the decoder gives the hidden states)
    weight = _fused_head(model)
    steps = _Steps(logits, batch, k)
    if weight is not None:
        decoder = model.get_decoder()
        dkw = {_cache_keyword(decoder): kw[_cache_keyword(model)]}  # the same cache, under the decoder's name
        head_out = torch.empty_like(logits)
    for t in range(new_tokens):
        top, idx = _select(logits, seqs, scores, length + t, k, repetition_penalty, eos_token_id, do_sample, steps)
        source = (idx // vocab + offset).view(-1)
        seqs = seqs[source]
        seqs[:, length + t] = (idx % vocab).view(-1)
        scores = top
        if t == new_tokens - 1:
            break
        for layer in layers:
            layer.reorder(source)
        step = seqs[:, length + t : length + t + 1]
        if weight is None:
            logits = model(input_ids=step, use_cache=True, **kw).logits[:, -1].float()
        else:
            hidden = decoder(input_ids=step, use_cache=True, **dkw).last_hidden_state[:, -1]
            logits = torch.mm(hidden, weight.t(), out=head_out)
    ranked = seqs.view(batch, k, -1)[:, :candidates, length:]  # ranked: the first has the highest score
    return ranked[:, 0] if candidates == 1 else ranked


def as_numpy(tokens: torch.Tensor) -> np.ndarray:
    return tokens.detach().cpu().numpy().astype(np.int64)
