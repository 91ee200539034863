"""Models for the language-model chapter: OPT from the hub or a local folder, or a small OPT trained here.

* :func:`load_base` gives the "pretrained" starting point of every generation:
  ``AutoModelForCausalLM.from_pretrained("facebook/opt-125m")`` and its
  tokenizer from the hub, a saved model from a local folder, or (``"small"``,
  or by fallback) a small ``OPTConfig`` model *pretrained here* with a
  tokenizer made by ``tokenizers`` (a byte-level BPE, or for a language of
  closed vocabulary its words: :func:`small_tokenizer`), both on the corpus'
  pretraining split when it has one (the embedded language's: disjoint from
  everything the recursion sees), else on its train split (said in the
  note, since every generation then restarts from weights that have seen the
  original blocks), cached under a folder
  keyed by a hash of everything that determines it. Only the default hub name
  falls back, and only when the hub is unreachable (:func:`resolve_model`).
* :func:`train` fine-tunes with the authors' recipe (AdamW, cosine annealing to
  1e-6 over the epochs, the best-validation checkpoint; ``main.py`` of their
  curse_recurse code), in plain torch: bf16/fp16 autocast on a GPU, the same
  global batch and schedule on one process or many (:mod:`.distributed`).
* :func:`continue_blocks` writes the synthetic data: a batched beam search
  that continues every block (the continuation alone is kept).
* :func:`token_nll`, :func:`sequence_nll` and :func:`perplexity` score blocks.

Generation 0 is the model fine-tuned on the original (real) data; generation
``t + 1`` is fine-tuned on the training set built from generation ``t``'s
continuations (and, with retention, original blocks).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import validate
from . import decoding
from .data import Corpus, hub_or_fallback, looks_like_path, make_blocks

HUB_MODEL = "facebook/opt-125m"
SMALL = "small"


@dataclass(frozen=True)
class SmallModelConfig:
    """A small OPT and its pretraining, used when ``facebook/opt-125m`` is unavailable."""

    vocab_size: int = 1024  # of the byte-level BPE tokenizer (256 bytes + merges + 3 special tokens)
    #: "bpe": a byte-level BPE of ``vocab_size`` tokens (:func:`train_tokenizer`); "words": every piece of the
    #: pretraining text one token, ``vocab_size`` unused (:func:`word_tokenizer`; a closed vocabulary)
    tokenizer: str = "bpe"
    hidden_size: int = 128
    layers: int = 2
    heads: int = 4
    ffn_dim: int = 512
    max_positions: int = 256
    dropout: float = 0.1
    pretrain_epochs: int = 3
    pretrain_blocks: int | None = None  # None: the whole pretraining text
    pretrain_lr: float = 1e-3
    pretrain_batch_size: int = 32
    block_size: int = 64
    seed: int = 0


@dataclass
class Base:
    """The starting point of every generation."""

    name: str
    source: str  # "hub", "cache" or "trained here"
    model: Any  # a transformers causal LM (on the CPU, float32)
    tokenizer: Any  # a PreTrainedTokenizerFast
    max_positions: int
    notes: list[str]

    def fresh(self) -> Any:
        """A copy of the base weights (every generation starts again from them)."""
        import copy

        return copy.deepcopy(self.model)


# ------------------------------------------------------------------ tokenizer
_SPECIALS = ["<pad>", "</s>", "<unk>"]  # OPT's special tokens; <pad> is id 0 here


def train_tokenizer(lines: Sequence[str], vocab_size: int = 1024) -> Any:
    """Train a byte-level BPE tokenizer on ``lines`` and wrap it for transformers.

    Special tokens follow OPT: ``<pad>`` (id 0 here), ``</s>`` (begin and end
    of sequence) and ``<unk>``; as OPT's tokenizer, it puts ``</s>`` before
    every text it encodes with ``add_special_tokens=True`` (the default of
    ``tokenizer(text)``, the authors' call), and pads on the left (for batched
    generation).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(_SPECIALS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator((line for line in lines if line.strip()), trainer=trainer)
    return _wrap(tok)


#: The small model's tokenizers (:attr:`SmallModelConfig.tokenizer`).
TOKENIZERS = ("bpe", "words")


def word_tokenizer(lines: Sequence[str]) -> Any:
    """A tokenizer whose tokens are the pieces of ``lines``: every word of the text one token, no other token.

    The text is split as the byte-level BPE splits it (GPT-2's pre-tokenizer:
    a word with its leading space, a punctuation mark, a run of spaces or
    newlines), and every distinct piece becomes one token of a ``tokenizers``
    Unigram model, each with the same score. A text is thus cut into the
    fewest tokens: a piece of ``lines`` is always one token, and a piece they
    never hold (a word the pretraining text lacks) is spelled with the fewest
    known pieces and characters; a character ``lines`` never use becomes
    ``<unk>``. So for a language of closed vocabulary (the embedded language's
    words) the vocabulary holds only what the text can hold: a byte-level BPE
    that keeps every word whole needs about 1.7 times as many tokens (its 256
    bytes and the merges on the way to each word), and the head of a small
    model pays for each. Special tokens and their use are
    :func:`train_tokenizer`'s (OPT's).
    """
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    split = pre_tokenizers.ByteLevel(add_prefix_space=False)
    pieces: Counter[str] = Counter()
    for line in lines:
        pieces.update(piece for piece, _ in split.pre_tokenize_str(line))
    if not pieces:
        raise ValueError("word_tokenizer needs text: the lines are empty")
    chars = sorted({c for piece in pieces for c in piece} - set(pieces))
    # equal scores: the likeliest cut is the one with the fewest tokens; a character costs more than a piece
    vocab = [(s, 0.0) for s in _SPECIALS] + [(p, -1.0) for p, _ in sorted(pieces.items(), key=lambda x: (-x[1], x[0]))]
    tok = Tokenizer(models.Unigram(vocab + [(c, -2.0) for c in chars], unk_id=_SPECIALS.index("<unk>")))
    tok.pre_tokenizer = split
    tok.decoder = decoders.ByteLevel()
    return _wrap(tok)


def _wrap(tok: Any) -> Any:
    """OPT's special tokens and their use (``</s>`` before every text), left padding: for transformers."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    bos = tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="</s> $A", pair="</s> $A </s> $B", special_tokens=[("</s>", bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="</s>",
        eos_token="</s>",
        unk_token="<unk>",
        padding_side="left",
    )


def small_tokenizer(lines: Sequence[str], config: SmallModelConfig) -> Any:
    """The small model's tokenizer of kind ``config.tokenizer``, made from ``lines`` (its pretraining text)."""
    validate.choice("tokenizer", config.tokenizer, TOKENIZERS)
    return word_tokenizer(lines) if config.tokenizer == "words" else train_tokenizer(lines, config.vocab_size)


# ---------------------------------------------------------------------- model
def small_opt(config: SmallModelConfig, tokenizer: Any) -> Any:
    """A freshly initialised small ``OPTForCausalLM`` (sdpa attention)."""
    from transformers import OPTConfig, OPTForCausalLM

    cfg = OPTConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        num_hidden_layers=config.layers,
        num_attention_heads=config.heads,
        ffn_dim=config.ffn_dim,
        max_position_embeddings=config.max_positions,
        word_embed_proj_dim=config.hidden_size,
        dropout=config.dropout,
        attention_dropout=0.0,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(config.seed)
    return OPTForCausalLM(cfg)


def max_positions(model: Any) -> int:
    """The longest sequence (prompt + continuation) a model can take."""
    return int(getattr(model.config, "max_position_embeddings", 2048))


def config_hash(*parts: Any) -> str:
    """A short stable hash of JSON-serialisable parts (dataclasses allowed)."""
    payload = json.dumps(
        [asdict(p) if hasattr(p, "__dataclass_fields__") else p for p in parts], sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def resolve_model(model: str, fallback: bool = True, hub: bool | None = None) -> str:
    """Where ``model`` will come from, decided before any work: ``"small"``, ``"folder"``, ``"hub"`` or ``"fallback"``.

    ``model`` is ``"small"``, an existing local folder, or a hub name. Only the
    default :data:`HUB_MODEL` falls back to the small model, and only when
    ``fallback`` is true and the hub is unreachable (``hub``: the result of
    :func:`hub_reachable`, probed when ``None``).

    Raises
    ------
    ValueError
        For a local path that does not exist (``./x``, ``/x``, ``~/x``, ``a/b/c``)
        or a folder without a saved model.
    HubUnavailable
        For a hub name when the hub is unreachable and no fallback applies.
    """
    model = str(model)
    if model == SMALL:
        return "small"
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"model: the folder {model!r} holds no saved model (no config.json)")
        return "folder"
    if looks_like_path(model):
        raise ValueError(f"model: the local folder {model!r} does not exist")
    return hub_or_fallback(
        "model", model, hub, fallback, default=HUB_MODEL,
        only=f"only the default {HUB_MODEL} falls back to the small model",
        remedy="give a local folder with a saved model, or 'small'",
    )


def load_base(
    model: str,
    corpus: Corpus,
    cache_dir: str | Path,
    small: SmallModelConfig | None = None,
    fallback: bool = True,
    device: str | None = None,
    verbose: bool = True,
    progress: bool = False,
    world: Any = None,
    hub: bool | None = None,
    special_tokens: bool = True,
) -> Base:
    """The pretrained starting point: a hub model, a local folder, or the small OPT (trained or cached).

    ``model`` is a hub name (``"facebook/opt-125m"``), a local folder holding a
    saved model and tokenizer, or ``"small"``; :func:`resolve_model` decides
    (and raises before any work). The path taken is printed (``verbose``) and
    kept in :attr:`Base.notes`. With several processes (``world``) every process
    takes part in pretraining the small model; the main process alone writes
    the cache.
    """
    how = resolve_model(model, fallback, hub)
    notes: list[str] = []
    if how in ("hub", "folder"):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        where = str(Path(model).expanduser()) if how == "folder" else model
        tok = AutoTokenizer.from_pretrained(where, padding_side="left")
        with quiet_progress():
            lm = AutoModelForCausalLM.from_pretrained(where, attn_implementation="sdpa", dtype=torch.float32)
        notes.append(f"model: {model} ({'local folder' if how == 'folder' else 'Hugging Face hub'})")
        base = Base(model, how, lm, tok, max_positions(lm), notes)
        _report(base, verbose)
        return base
    if how == "fallback":
        notes.append(
            f"model: the Hugging Face hub is unreachable, so instead of {model!r} a small OPT is pretrained "
            "here (fallback)"
        )
    base = _small_base(corpus, cache_dir, small or SmallModelConfig(), device, progress, world, special_tokens)
    base.notes[:0] = notes
    if how == "fallback":
        base.source = "fallback " + base.source
    _report(base, verbose)
    return base


def _report(base: Base, verbose: bool) -> None:
    if verbose:
        for note in base.notes:
            print(note)


def small_cache_folder(corpus: Corpus, cache_dir: str | Path, config: SmallModelConfig, special_tokens: bool) -> Path:
    """The cache folder of the small model pretrained on ``corpus`` (keyed by everything that determines it)."""
    from .identity import PRETRAIN_FILES, code_version, text_fingerprint

    pretrain_lines = corpus.pretrain if corpus.pretrain else corpus.train
    key = config_hash(config, corpus.name, text_fingerprint([pretrain_lines]), special_tokens, code_version(PRETRAIN_FILES))
    return Path(cache_dir) / f"small-opt-{key}"


def _small_base(
    corpus: Corpus,
    cache_dir: str | Path,
    config: SmallModelConfig,
    device: str | None,
    progress: bool,
    world: Any = None,
    special_tokens: bool = True,
) -> Base:
    from transformers import OPTForCausalLM, PreTrainedTokenizerFast

    from . import distributed

    world = world if world is not None else distributed.current(device)
    # the pretraining text: the corpus' own pretraining split when it has one (disjoint from everything the
    # recursion sees), else its train split (then every generation restarts from weights that have seen
    # the original blocks: said in the note)
    pretrain_lines = corpus.pretrain if corpus.pretrain else corpus.train
    words = sum(len(x.split()) for x in pretrain_lines)
    if not corpus.pretrain:
        what = "the fine-tuning (train) split itself, as there is no separate pretraining text"
    elif corpus.pretrain_language is not None:
        what = (
            f"{words:,} words of a related language (the same words; {corpus.pretrain_language.config.blend:.0%} "
            "of every word's transitions another language's), disjoint from the fine-tuning, validation and test text"
        )
    elif corpus.language is None:
        what = f"a separate pretraining corpus of {words:,} words (the folder's pretrain.txt)"
    else:
        what = (
            f"a separate pretraining corpus of {words:,} words of the same language, disjoint from the fine-tuning, "
            "validation and test text"
        )
    folder = small_cache_folder(corpus, cache_dir, config, special_tokens)
    name = f"small OPT ({config.layers} layers, width {config.hidden_size})"
    # every process must take the same path: the main process looks, the others follow
    cached = world.broadcast_object((folder / "DONE").exists())
    if cached:
        tok = PreTrainedTokenizerFast.from_pretrained(folder, padding_side="left")
        with quiet_progress():
            lm = OPTForCausalLM.from_pretrained(folder, attn_implementation="sdpa")
        info = json.loads((folder / "pretrain.json").read_text())
        note = f"model: {name}, pretrained here on {what} ({info['summary']}), loaded from the cache ({folder.name})"
        return Base(name, "cache", lm, tok, max_positions(lm), [note])
    # not cached: every process pretrains (the same tokenizer, initial weights and
    # batches everywhere), the main process alone writes the cache
    start = time.perf_counter()
    tok = small_tokenizer(pretrain_lines, config)
    lm = small_opt(config, tok)
    blocks = make_blocks(pretrain_lines, tok, config.block_size, config.pretrain_blocks, special_tokens=special_tokens)
    stats = train(
        lm,
        blocks,
        epochs=config.pretrain_epochs,
        lr=config.pretrain_lr,
        batch_size=config.pretrain_batch_size,
        seed=config.seed,
        device=device,
        warmup=0.05,
        schedule="linear",
        progress="pretraining" if progress else False,
        world=world,
    )
    lm = stats.pop("model").to("cpu")
    summary = (
        f"{sum(p.numel() for p in lm.parameters()) / 1e6:.2f}M parameters, {len(tok)} tokens, "
        f"{config.pretrain_epochs} epochs over {len(blocks)} blocks in {time.perf_counter() - start:.0f} s"
    )
    if world.is_main:
        with atomic_dir(folder) as tmp:
            save_model(lm, tmp)
            tok.save_pretrained(tmp)
            (tmp / "pretrain.json").write_text(json.dumps({"summary": summary, "config": asdict(config)}))
    world.barrier()
    note = f"model: {name} pretrained here on {what} ({summary}), cached ({folder.name})"
    return Base(name, "trained here", lm, tok, max_positions(lm), [note])


# ------------------------------------------------------------------- atomic IO
class quiet_progress:
    """Silence transformers' own progress bars (loading and saving weights) inside a ``with`` block."""

    def __enter__(self) -> None:
        from transformers.utils import logging

        self.was_enabled = logging.is_progress_bar_enabled()
        logging.disable_progress_bar()

    def __exit__(self, *exc: object) -> None:
        from transformers.utils import logging

        if self.was_enabled:
            logging.enable_progress_bar()


def save_model(model: Any, folder: str | Path) -> None:
    """``model.save_pretrained(folder)`` without a progress bar."""
    with quiet_progress():
        model.save_pretrained(folder)


class atomic_dir:
    """Write a folder atomically: fill a temporary sibling, then rename it into place.

    On success a ``DONE`` marker is written last inside the temporary folder
    and the folder replaces ``target`` (an unfinished ``target`` is removed
    first). On an error the temporary folder is removed and ``target`` is left
    as it was, so a folder without ``DONE`` is never taken as finished.
    """

    def __init__(self, target: str | Path, marker: str = "DONE") -> None:
        self.target = Path(target)
        self.marker = marker

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tmp-", dir=self.target.parent))
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        (self.tmp / self.marker).write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
        os.chmod(self.tmp, 0o755)  # mkdtemp makes it private
        if self.target.exists():
            shutil.rmtree(self.target)
        os.replace(self.tmp, self.target)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically (temporary file, then ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes it private
    os.replace(tmp, path)


# --------------------------------------------------------------------- training
SCHEDULES = ("cosine", "linear", "constant")
PRECISIONS = ("no", "bf16", "fp16")


def learning_rates(
    schedule: str,
    lr: float,
    epochs: int,
    steps_per_epoch: int,
    min_lr: float = 1e-6,
    warmup: float = 0.0,
) -> np.ndarray:
    """The learning rate of every optimizer step, as :func:`train` uses it.

    ``"cosine"`` is the authors' recipe (``main.py`` of their curse_recurse
    code): ``CosineAnnealingLR(T_max=epochs, eta_min=min_lr)`` stepped once per
    epoch, so epoch ``e`` (from 0) trains at
    ``min_lr + (lr - min_lr) * (1 + cos(pi * e / epochs)) / 2``;
    ``"linear"`` decays linearly from ``lr`` to 0 over all steps (after a linear
    warm-up over the share ``warmup`` of them, as transformers'
    ``get_linear_schedule_with_warmup``); ``"constant"`` keeps ``lr``.
    The number of steps depends on the global batch only, never on the number
    of processes.
    """
    validate.choice("schedule", schedule, SCHEDULES)
    total = epochs * steps_per_epoch
    step = np.arange(total)
    if schedule == "constant":
        out = np.full(total, lr, dtype=float)
    elif schedule == "cosine":
        epoch = step // max(1, steps_per_epoch)
        out = min_lr + (lr - min_lr) * (1 + np.cos(np.pi * epoch / epochs)) / 2
    else:
        out = lr * np.clip((total - step) / max(1, total - int(warmup * total)), 0.0, 1.0)
    w = int(warmup * total)
    if w and schedule != "linear":
        out[:w] = np.minimum(out[:w], lr * step[:w] / w)
    elif w:
        out[:w] = lr * step[:w] / w
    return out


def resolve_precision(device: torch.device, mixed_precision: str | None) -> str:
    """``"no"`` on a CPU by default; on a GPU ``"bf16"`` where supported, else ``"fp16"``."""
    if mixed_precision is not None:
        return validate.choice("mixed_precision", mixed_precision, PRECISIONS)
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


def _autocast_for(device: torch.device, precision: str):
    if precision == "no":
        return torch.autocast(device.type, enabled=False)
    return torch.autocast(device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def token_losses(logits: torch.Tensor, ids: torch.Tensor, chunk_tokens: int = 4096) -> torch.Tensor:
    """Per-token negative log-likelihoods ``(batch, length - 1)`` in float32, next-token targets.

    ``cross_entropy(..., reduction="none")`` over float32 logits, a few rows at
    a time (at most about ``chunk_tokens`` positions), so that no float32 copy of
    the whole batch's logits over the full vocabulary is ever made (with OPT's
    50,272-token vocabulary that copy is about 0.8 GB for 64 blocks of 64 tokens).
    Keeps the autograd graph (used for training as well as scoring).
    """
    import torch.nn.functional as F

    b, length, vocab = logits.shape
    rows = max(1, chunk_tokens // max(1, length - 1))
    parts = []
    for r in range(0, b, rows):
        lg = logits[r : r + rows, :-1].float()
        parts.append(
            F.cross_entropy(lg.reshape(-1, vocab), ids[r : r + rows, 1:].reshape(-1), reduction="none").view(
                lg.shape[0], length - 1
            )
        )
    return torch.cat(parts) if len(parts) > 1 else parts[0]


class _SummedNextTokenLoss(torch.autograd.Function):
    """The sum of next-token NLLs of ``hidden @ weight.T``, a chunk of rows at a time, the gradient in the same pass.

    The logits of a chunk of ``chunk`` rows are made in one buffer reused by
    every chunk, turned in place into the chunk's losses and, while still in
    the processor's cache, into the chunk's gradients (``softmax - onehot``,
    times the chunk's hidden states and the weight); the whole batch's logits
    over the vocabulary are never held at once. The weight's gradient is
    summed transposed (``hidden.T @ p``, the faster layout of that product on a
    CPU). The backward pass only scales those gradients by the incoming one
    (the output is a scalar sum). The same value and gradients as
    ``cross_entropy(hidden @ weight.T, targets, reduction="sum")`` up to the
    order of float sums (a test compares them).
    """

    @staticmethod
    def forward(ctx, hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, chunk: int) -> torch.Tensor:
        grads = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        total = hidden.new_zeros((), dtype=torch.float32)
        g_hidden = torch.empty_like(hidden) if grads else None
        g_weight_t = hidden.new_zeros((weight.shape[1], weight.shape[0])) if grads else None
        rows = torch.arange(min(chunk, hidden.shape[0]), device=hidden.device)
        buffer = _logits_buffer(hidden, weight, chunk)
        for s in range(0, hidden.shape[0], chunk):
            h, y = hidden[s : s + chunk], targets[s : s + chunk]
            p, norm, nll = _exp_nll_(_chunk_logits(h, weight, buffer), y)
            total += nll.sum()
            if not grads:
                continue
            p.div_(norm[:, None])  # the softmax
            p[rows[: len(y)], y] -= 1.0
            p = p.to(hidden.dtype)
            torch.mm(p, weight, out=g_hidden[s : s + chunk])
            g_weight_t.addmm_(h.t(), p)
        ctx.save_for_backward(*(t for t in (g_hidden, g_weight_t) if t is not None))
        return total

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        g_hidden, g_weight_t = ctx.saved_tensors
        return g_hidden * g, (g_weight_t.t() * g).contiguous(), None, None


#: Rows (tokens) per chunk of :class:`_SummedNextTokenLoss` (fastest on a CPU of 64-2048 for 2,048 tokens, of 128-1024 for 1,239).
LOSS_CHUNK = 256


def opt_head(model: Any) -> torch.nn.Linear | None:
    """An OPT model's head when its logits are ``hidden @ head.weight.T`` (a linear head without bias), else ``None``.

    What the fused loss and scoring (:func:`_fused_loss_applies`) and the beam
    search's own head (:func:`.decoding.beam_search`) stand in for.
    """
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if type(model).__name__ == "OPTForCausalLM" and isinstance(head, torch.nn.Linear) and head.bias is None:
        return head
    return None


def _fused_loss_applies(model: Any, precision: str) -> bool:
    """Whether :func:`summed_next_token_loss` can stand in for the model's head and loss (OPT, float32, no head bias)."""
    return precision == "no" and opt_head(model) is not None


def summed_next_token_loss(model: Any, ids: torch.Tensor, chunk: int = LOSS_CHUNK) -> torch.Tensor:
    """The sum over ``ids`` (``(batch, length)``) of every next-token NLL under an OPT model: training's loss, fused.

    ``model.model.decoder`` gives the hidden states (OPTForCausalLM's own
    forward, less its head), and :class:`_SummedNextTokenLoss` applies the
    head and the loss a chunk at a time. :func:`train` uses it in float32 on
    OPT models (:func:`_fused_loss_applies`); elsewhere it takes the model's
    logits and :func:`token_losses`.
    """
    return _SummedNextTokenLoss.apply(*_head_inputs(model, ids), chunk)


def _head_inputs(model: Any, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """An OPT model's hidden states of every position but the last, flat, the head's weight and the next tokens."""
    hidden = model.model.decoder(input_ids=ids).last_hidden_state[:, :-1]
    return hidden.reshape(-1, hidden.shape[-1]), model.get_output_embeddings().weight, ids[:, 1:].reshape(-1)


def _logits_buffer(hidden: torch.Tensor, weight: torch.Tensor, chunk: int) -> torch.Tensor | None:
    """One chunk's logits, allocated once per call and reused by every chunk (float32 models; else ``None``).

    A fresh two-megabyte tensor per chunk costs the CPU its first touch each
    time: the head's product into a reused buffer takes about two thirds of
    the time at the book's shapes.
    """
    if hidden.dtype != torch.float32 or weight.dtype != torch.float32:
        return None
    return hidden.new_empty((min(chunk, hidden.shape[0]), weight.shape[0]))


def _chunk_logits(h: torch.Tensor, weight: torch.Tensor, buffer: torch.Tensor | None) -> torch.Tensor:
    """``h @ weight.T`` in float32: into ``buffer``'s first rows when there is one."""
    if buffer is None:
        return (h @ weight.t()).float()
    return torch.mm(h, weight.t(), out=buffer[: h.shape[0]])


def _exp_nll_(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each row's NLL of its target (``logsumexp - logit of the target``), overwriting ``logits``.

    Returns ``(p, norm, nll)``: ``p`` is ``logits`` itself, now holding
    ``exp(logits - row max)`` (one exponential serves the loss and, divided by
    ``norm``, the row sums, the softmax), and ``nll`` the rows' losses.
    """
    target = logits.gather(1, targets[:, None]).squeeze(1)
    top = logits.amax(dim=1, keepdim=True)
    p = torch.exp_(logits.sub_(top))
    norm = p.sum(dim=1)
    return p, norm, torch.log(norm) + top.squeeze(1) - target


def next_token_nll(model: Any, ids: torch.Tensor, chunk: int = LOSS_CHUNK) -> torch.Tensor:
    """Every next-token NLL of ``ids`` under an OPT model, ``(batch, length - 1)``: scoring's head and loss, fused.

    The decoder's hidden states of every position but the last (the model's
    own forward, less its head), then the head and ``logsumexp - logit of the
    target`` a chunk of ``chunk`` rows at a time: no logits of the last
    position, no log-softmax over the whole batch (half the time of the
    model's logits and ``cross_entropy`` at the book's shapes). Float32 OPT
    models only (:func:`_fused_loss_applies`); :func:`token_nll` takes it there.
    """
    flat, weight, targets = _head_inputs(model, ids)
    buffer = _logits_buffer(flat, weight, chunk)
    out = torch.empty(flat.shape[0], dtype=torch.float32, device=flat.device)
    for s in range(0, flat.shape[0], chunk):
        out[s : s + chunk] = _exp_nll_(_chunk_logits(flat[s : s + chunk], weight, buffer), targets[s : s + chunk])[2]
    return out.view(ids.shape[0], ids.shape[1] - 1)


def train(
    model: Any,
    blocks: np.ndarray,
    epochs: int,
    lr: float = 2e-5,
    batch_size: int = 128,
    seed: int = 0,
    device: str | None = None,
    weight_decay: float = 0.0,
    warmup: float = 0.0,
    mixed_precision: str | None = None,
    progress: bool | str = False,
    schedule: str = "cosine",
    min_lr: float = 1e-6,
    max_grad_norm: float | None = 1.0,
    valid_blocks: np.ndarray | None = None,
    eval_batch_size: int = 64,
    micro_batch_size: int | None = None,
    world: Any = None,
) -> dict[str, Any]:
    """Fine-tune a causal LM on packed blocks: AdamW, ``epochs`` passes, the authors' recipe by default.

    The recipe of the authors' original script (``main.py`` in their curse_recurse
    repository): AdamW at ``lr`` (2e-5 for OPT-125m), batch 128,
    ``CosineAnnealingLR(T_max=epochs, eta_min=1e-6)`` (``schedule="cosine"``, see
    :func:`learning_rates`; ``"linear"`` is the decay to 0 of later copies of
    that code), and, when ``valid_blocks`` are given, the weights of the epoch
    with the lowest validation loss are kept (their checkpointing on the
    validation loss). Gradients are clipped to norm ``max_grad_norm`` (1.0, as
    the transformers ``Trainer``; ``None`` or 0 for no clipping).

    ``batch_size`` is the *global* batch: with ``P`` processes (``torchrun``,
    ``accelerate launch``) every process takes every ``P``-th block of each
    batch, gradients are summed across processes, and the loss is the mean over
    the whole batch's tokens, so that one step is the same step whatever ``P``;
    the learning-rate schedule has ``epochs * ceil(len(blocks) / batch_size)``
    steps in every case. ``micro_batch_size`` (blocks per forward pass and
    process) accumulates gradients over several passes when a batch does not fit
    in memory. Every process must call this with the same arguments.

    Every block is a full sequence (no padding), the targets are the next
    tokens. The batch order is reproducible from ``seed`` (and the same on every
    process). On a GPU the forward pass runs under bf16 (or fp16, with loss
    scaling) autocast; ``mixed_precision`` = ``"no"``, ``"bf16"`` or ``"fp16"``
    overrides. Returns ``{"model", "loss", "tokens", "seconds", "tokens_per_s",
    "lrs", "losses", "valid_losses", "best_epoch", "steps", "precision"}``: ``lrs``
    the learning rate each optimizer step used, ``losses`` each step's loss
    (mean over the global batch's tokens); ``model`` is the trained model, on
    the device it was trained on.
    """
    from . import distributed

    blocks = np.asarray(blocks)
    validate.integer("epochs", epochs, 1)
    validate.integer("batch_size", batch_size, 1)
    validate.real("lr", lr, 0.0, low_open=True)
    validate.real("min_lr", min_lr, 0.0)
    validate.real("warmup", warmup, 0.0, 1.0, high_open=True)
    validate.real("weight_decay", weight_decay, 0.0)
    if max_grad_norm is not None:
        validate.real("max_grad_norm", max_grad_norm, 0.0)
    if micro_batch_size is not None:
        validate.integer("micro_batch_size", micro_batch_size, 1)
    if blocks.ndim != 2 or blocks.shape[1] < 2 or len(blocks) == 0:
        raise ValueError(f"blocks must be a non-empty 2-D array of sequences of length >= 2, got {blocks.shape}")
    world = world if world is not None else distributed.current(device)
    dev = world.device if device is None else torch.device(device)
    precision = resolve_precision(dev, mixed_precision)
    model.to(dev)
    fused = _fused_loss_applies(model, precision)  # the head and the loss a chunk at a time
    n, length = blocks.shape
    steps_per_epoch = math.ceil(n / batch_size)
    lrs = learning_rates(schedule, lr, epochs, steps_per_epoch, min_lr, warmup)
    params = [p for p in model.parameters() if p.requires_grad]
    # torch's fused AdamW on a CPU: one kernel for every parameter (0.27 ms a step of the book's small OPT against
    # 1.08 ms for its loop over parameters); on a GPU torch's own default (foreach)
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=True if dev.type == "cpu" else None)
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" and dev.type == "cuda" else None
    torch.manual_seed(int(np.random.SeedSequence([seed, 7, world.rank]).generate_state(1)[0]))  # dropout
    data = torch.as_tensor(blocks, dtype=torch.long)
    losses: list[float] = []
    used: list[float] = []
    valid_losses: list[float] = []
    best_epoch, best_state = -1, None
    bar = None
    if progress:
        from ..progress import progress as progress_bar

        bar = progress_bar(
            range(len(lrs)), desc=progress if isinstance(progress, str) else "training", total=len(lrs)
        )
        bar_iter = iter(bar)
    start = time.perf_counter()
    step = 0
    for epoch in range(epochs):
        model.train()
        order = np.random.default_rng([seed, epoch]).permutation(n)
        for b in range(steps_per_epoch):
            batch = order[b * batch_size : (b + 1) * batch_size]
            mine = batch[world.rank :: world.size]
            denominator = len(batch) * (length - 1)  # every token of the global batch
            micro = micro_batch_size or max(1, len(mine))
            total = torch.zeros((), device=dev)
            for m in range(0, len(mine), micro):
                ids = data[mine[m : m + micro]].to(dev, non_blocking=True)
                if fused:
                    loss = summed_next_token_loss(model, ids) / denominator
                else:
                    with _autocast_for(dev, precision):
                        logits = model(input_ids=ids).logits
                    loss = token_losses(logits, ids).sum() / denominator
                (scaler.scale(loss) if scaler is not None else loss).backward()
                total += loss.detach()
            for group in optimizer.param_groups:
                group["lr"] = float(lrs[step])
            if world.distributed:  # one all-reduce of every gradient and the loss
                grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
                flat = torch.cat([g.reshape(-1) for g in grads] + [total.reshape(1)])
                world.all_reduce_(flat)
                offset = 0
                for p, g in zip(params, grads):
                    p.grad = flat[offset : offset + g.numel()].view_as(p).to(p.dtype)
                    offset += g.numel()
                total = flat[-1]
            if scaler is not None:
                scaler.unscale_(optimizer)
            if max_grad_norm:
                torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            used.append(optimizer.param_groups[0]["lr"])  # the rate the step actually used
            losses.append(float(total))
            step += 1
            if bar is not None:
                next(bar_iter, None)
        if valid_blocks is not None:
            v = float(sequence_nll(model, valid_blocks, eval_batch_size, mixed_precision=precision).mean())
            valid_losses.append(v)
            if best_state is None or v < min(valid_losses[:-1], default=math.inf):
                best_epoch = epoch
                if epoch < epochs - 1:  # the last epoch's weights are the model already
                    best_state = {k: t.detach().to("cpu", copy=True) for k, t in model.state_dict().items()}
                else:
                    best_state = None
    if bar is not None and hasattr(bar, "close"):
        bar.close()
    if valid_blocks is not None and best_epoch < epochs - 1 and best_state is not None:
        model.load_state_dict(best_state)
    seconds = time.perf_counter() - start
    model.eval()
    tokens = epochs * blocks.size
    return {
        "model": model,
        "loss": float(np.mean(losses[-max(1, len(losses) // 10) :])),
        "losses": losses,
        "lrs": used,
        "steps": len(lrs),
        "valid_losses": valid_losses,
        "best_epoch": best_epoch if valid_blocks is not None else epochs - 1,
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_s": tokens / max(seconds, 1e-9),
        "precision": precision,
    }


# -------------------------------------------------------------------- scoring
def _device_of(model: Any) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def token_nll(
    model: Any,
    blocks: np.ndarray,
    batch_size: int = 64,
    mixed_precision: str | None = None,
    chunk_tokens: int = 4096,
) -> np.ndarray:
    """Negative log-likelihood (nats) of every token of every block but the first: ``(n, length - 1)`` float32.

    Token ``i`` of a block is predicted from tokens ``0..i-1`` of the same
    block. The forward pass runs under the model device's autocast (bf16/fp16
    on a GPU), the losses are ``cross_entropy(reduction="none")`` of float32
    logits, a few rows at a time (:func:`token_losses`); float32 OPT models
    (a CPU's) take the fused head and loss of :func:`next_token_nll` instead
    (the same numbers up to the order of float sums).
    """
    blocks = np.asarray(blocks)
    if blocks.ndim != 2 or blocks.shape[1] < 2:
        raise ValueError(f"blocks must be a 2-D array of sequences of length >= 2, got shape {blocks.shape}")
    validate.integer("batch_size", batch_size, 1)
    was_training = model.training
    model.eval()
    device = _device_of(model)
    precision = resolve_precision(device, mixed_precision)
    fused = _fused_loss_applies(model, precision)
    out = np.empty((len(blocks), blocks.shape[1] - 1), dtype=np.float32)
    for start in range(0, len(blocks), batch_size):
        ids = torch.as_tensor(blocks[start : start + batch_size], dtype=torch.long, device=device)
        if fused:
            out[start : start + len(ids)] = next_token_nll(model, ids).cpu().numpy()
            continue
        with _autocast_for(device, precision):
            logits = model(input_ids=ids).logits
        out[start : start + len(ids)] = token_losses(logits, ids, chunk_tokens).cpu().numpy()
        del logits
    if was_training:
        model.train()
    return out


def sequence_nll(
    model: Any, blocks: np.ndarray, batch_size: int = 64, mixed_precision: str | None = None
) -> np.ndarray:
    """Mean negative log-likelihood (nats per token) of every block under ``model``.

    The first token of a block is not scored. ``exp`` of the result is the
    per-sequence perplexity (Figure 11 of the paper).
    """
    return token_nll(model, blocks, batch_size, mixed_precision).astype(np.float64).mean(axis=1)


def perplexity(model: Any, blocks: np.ndarray, batch_size: int = 64) -> float:
    """Token-level perplexity of ``blocks``: ``exp`` of the mean NLL over all scored tokens."""
    return float(np.exp(sequence_nll(model, blocks, batch_size).mean()))


def _autocast(device: torch.device):
    return _autocast_for(device, resolve_precision(device, None))


# ------------------------------------------------------------------ generation
@torch.inference_mode()
def continue_blocks(
    model: Any,
    prompts: np.ndarray | Sequence[Sequence[int]],
    new_tokens: int = 64,
    num_beams: int = 5,
    repetition_penalty: float = 3.0,
    batch_size: int = 32,
    pad_token_id: int = 0,
    eos_token_id: int | None = None,
    progress: bool | str = False,
    do_sample: bool = False,
    seed: int | None = None,
    fast_beam: bool = True,
    candidates: int = 1,
) -> np.ndarray:
    """Continue every prompt with exactly ``new_tokens`` tokens by beam search.

    ``model.generate(num_beams=5, min_new_tokens=64, max_new_tokens=64,
    repetition_penalty=3.0)`` as in the authors' original script (``main.py`` of
    their curse_recurse code), and only the continuation (their
    ``outputs[:, 64:]``) is returned, batched:
    prompts are sorted by length (so a batch holds similar lengths), padded on
    the left, and decoded with the KV cache; on a GPU under bf16/fp16 autocast.
    Fixed-length blocks all have the same length, so no padding is needed then.
    ``do_sample=True`` samples (beam-search multinomial sampling with
    ``num_beams > 1``, plain sampling with 1 beam) from the model's whole
    distribution at temperature 1: ``top_k=0`` and ``top_p=1.0`` are passed
    explicitly, since transformers' generation defaults (``top_k=50``) would
    otherwise cut every token outside the 50 likeliest, the rare words first.
    The torch random state is seeded by ``seed``. Returns an ``(n, new_tokens)`` ``int64`` array in the order of
    ``prompts``.

    Beam search and beam sampling (``num_beams > 1``; one beam is
    transformers' greedy search or plain sampling, which penalise logits, not
    log-probabilities) over prompts of one length (the experiment's blocks) run
    :func:`.decoding.beam_search`: the same tokens as ``model.generate``, with
    the prompts encoded once and a key/value cache that grows in place
    (``fast_beam=False`` calls ``model.generate`` instead; prompts of several
    lengths always do).

    ``candidates > 1`` returns that many continuations of every prompt,
    ``(n, candidates, new_tokens)``: the best beams (at most ``num_beams``) or
    independent samples (``num_return_sequences``).
    """
    validate.integer("new_tokens", new_tokens, 1)
    validate.integer("num_beams", num_beams, 1)
    validate.integer("batch_size", batch_size, 1)
    validate.real("repetition_penalty", repetition_penalty, 0.0, low_open=True)
    validate.integer("candidates", candidates, 1, None if do_sample else num_beams)
    if do_sample and seed is not None:
        torch.manual_seed(validate.integer("seed", seed, 0))
    prompts = [np.asarray(p, dtype=np.int64) for p in prompts]
    n = len(prompts)
    out = np.full((n, candidates, new_tokens), pad_token_id, dtype=np.int64)
    if n == 0:
        return out[:, 0] if candidates == 1 else out
    model.eval()
    device = _device_of(model)
    order = np.argsort([len(p) for p in prompts], kind="stable")
    fast = (
        fast_beam
        and num_beams > 1
        and candidates <= num_beams
        and len({len(p) for p in prompts}) == 1
        and decoding.supported()
    )
    starts = range(0, n, batch_size)
    if progress:
        from ..progress import progress as progress_bar

        starts = progress_bar(starts, desc=progress if isinstance(progress, str) else "generating")
    for start in starts:
        idx = order[start : start + batch_size]
        width = max(len(prompts[i]) for i in idx)
        ids = np.full((len(idx), width), pad_token_id, dtype=np.int64)
        mask = np.zeros((len(idx), width), dtype=np.int64)
        for row, i in enumerate(idx):
            ids[row, width - len(prompts[i]) :] = prompts[i]
            mask[row, width - len(prompts[i]) :] = 1
        ids_t = torch.as_tensor(ids, device=device)
        if fast:  # the same tokens as generate() (decoding.beam_search), less work per token
            with _autocast(device):
                found = decoding.beam_search(
                    model, ids_t, new_tokens, num_beams, repetition_penalty, eos_token_id, candidates, do_sample
                )
            out[idx] = decoding.as_numpy(found).reshape(len(idx), candidates, new_tokens)
            continue
        with _autocast(device):
            gen = model.generate(
                input_ids=ids_t,
                attention_mask=torch.as_tensor(mask, device=device),
                num_beams=num_beams,
                min_new_tokens=new_tokens,
                max_new_tokens=new_tokens,
                repetition_penalty=repetition_penalty,
                do_sample=do_sample,
                **(dict(top_k=0, top_p=1.0, temperature=1.0) if do_sample else {}),  # the whole distribution
                **(dict(early_stopping=True) if num_beams > 1 else {}),  # a beam-search flag only
                pad_token_id=pad_token_id,
                eos_token_id=eos_token_id,
                use_cache=True,
                num_return_sequences=candidates,
            )
        cont = gen[:, width:].cpu().numpy().reshape(len(idx), candidates, -1)
        out[idx, :, : cont.shape[2]] = cont
    return out[:, 0] if candidates == 1 else out
