"""Models for the language-model chapter: OPT from the hub, or a small OPT trained here.

* :func:`load_base` gives the "pretrained" starting point of every generation:
  ``AutoModelForCausalLM.from_pretrained("facebook/opt-125m")`` and its
  tokenizer when the hub is reachable, else (with ``fallback``) a small
  ``OPTConfig`` model *pretrained here* on the corpus' train split, with a
  byte-level BPE tokenizer trained by ``tokenizers``; the small model is cached
  under a folder keyed by a hash of everything that determines it.
* :func:`train` fine-tunes with AdamW and a linear learning-rate decay on
  packed blocks (a plain torch loop driven by ``accelerate.Accelerator``, so it
  runs unchanged on a CPU, a GPU, in mixed precision or under
  ``accelerate launch``).
* :func:`continue_blocks` writes the synthetic data: a batched beam search
  that continues every block.
* :func:`sequence_nll` and :func:`perplexity` score blocks.
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

from .data import HUB_ERRORS, Corpus, HubUnavailable, _short, hub_reachable, make_blocks

HUB_MODEL = "facebook/opt-125m"
SMALL = "small"


@dataclass(frozen=True)
class SmallModelConfig:
    """A small OPT and its pretraining, used when ``facebook/opt-125m`` is unavailable."""

    vocab_size: int = 1024  # of the byte-level BPE tokenizer (256 bytes + merges + 3 special tokens)
    hidden_size: int = 128
    layers: int = 2
    heads: int = 4
    ffn_dim: int = 512
    max_positions: int = 256
    dropout: float = 0.1
    pretrain_epochs: int = 3
    pretrain_blocks: int | None = None  # None: the whole train split
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
def train_tokenizer(lines: Sequence[str], vocab_size: int = 1024) -> Any:
    """Train a byte-level BPE tokenizer on ``lines`` and wrap it for transformers.

    Special tokens follow OPT: ``<pad>`` (id 0 here), ``</s>`` (begin and end
    of sequence) and ``<unk>``; nothing is added when encoding, and the
    tokenizer pads on the left (for batched generation).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator((line for line in lines if line.strip()), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="</s>",
        eos_token="</s>",
        unk_token="<unk>",
        padding_side="left",
    )


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


def load_base(
    model: str,
    corpus: Corpus,
    cache_dir: str | Path,
    small: SmallModelConfig | None = None,
    fallback: bool = True,
    device: str | None = None,
    verbose: bool = True,
    progress: bool = False,
) -> Base:
    """The pretrained starting point: a hub model, or the small OPT (trained or cached).

    ``model`` is a hub name (``"facebook/opt-125m"``), a local folder holding
    a saved model and tokenizer, or ``"small"``. A hub name that cannot be
    loaded falls back to the small model when ``fallback`` is true (the path
    taken is printed and kept in :attr:`Base.notes`).
    """
    notes: list[str] = []
    if model != SMALL:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        local = Path(model).is_dir()
        try:
            if not local and not hub_reachable():
                raise HubUnavailable("the Hugging Face hub (huggingface.co) is unreachable")
            tok = AutoTokenizer.from_pretrained(model, padding_side="left")
            lm = AutoModelForCausalLM.from_pretrained(model, attn_implementation="sdpa", dtype=torch.float32)
            notes.append(f"model: {model} ({'local folder' if local else 'Hugging Face hub'})")
            base = Base(model, "hub" if not local else "folder", lm, tok, max_positions(lm), notes)
            _report(base, verbose)
            return base
        except HUB_ERRORS as err:
            if local or not fallback:
                raise
            notes.append(
                f"model: could not load {model!r} ({type(err).__name__}: {_short(err)}); "
                "fell back to a small OPT trained here from scratch"
            )
    base = _small_base(corpus, cache_dir, small or SmallModelConfig(), device, progress)
    base.notes[:0] = notes
    _report(base, verbose)
    return base


def _report(base: Base, verbose: bool) -> None:
    if verbose:
        for note in base.notes:
            print(note)


def _small_base(
    corpus: Corpus, cache_dir: str | Path, config: SmallModelConfig, device: str | None, progress: bool
) -> Base:
    from transformers import OPTForCausalLM, PreTrainedTokenizerFast

    key = config_hash(config, corpus.name, corpus.words("train"), corpus.train[:50])
    folder = Path(cache_dir) / f"small-opt-{key}"
    name = f"small OPT ({config.layers} layers, width {config.hidden_size})"
    if (folder / "DONE").exists():
        tok = PreTrainedTokenizerFast.from_pretrained(folder, padding_side="left")
        with quiet_progress():
            lm = OPTForCausalLM.from_pretrained(folder, attn_implementation="sdpa")
        info = json.loads((folder / "pretrain.json").read_text())
        note = f"model: {name}, pretrained here ({info['summary']}), loaded from the cache {folder}"
        return Base(name, "cache", lm, tok, max_positions(lm), [note])
    start = time.perf_counter()
    tok = train_tokenizer(corpus.train, config.vocab_size)
    lm = small_opt(config, tok)
    blocks = make_blocks(corpus.train, tok, config.block_size, config.pretrain_blocks)
    stats = train(
        lm,
        blocks,
        epochs=config.pretrain_epochs,
        lr=config.pretrain_lr,
        batch_size=config.pretrain_batch_size,
        seed=config.seed,
        device=device,
        warmup=0.05,
        progress="pretraining" if progress else False,
    )
    lm = stats.pop("model")
    summary = (
        f"{sum(p.numel() for p in lm.parameters()) / 1e6:.2f}M parameters, {len(tok)} tokens, "
        f"{config.pretrain_epochs} epochs over {len(blocks)} blocks in {time.perf_counter() - start:.0f} s"
    )
    with atomic_dir(folder) as tmp:
        save_model(lm, tmp)
        tok.save_pretrained(tmp)
        (tmp / "pretrain.json").write_text(json.dumps({"summary": summary, "config": asdict(config)}))
    note = f"model: {name} pretrained here ({summary}), cached in {folder}"
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
def _accelerator(device: str | None, mixed_precision: str | None = None):
    from accelerate import Accelerator

    cpu = device == "cpu" or (device is None and not torch.cuda.is_available())
    if mixed_precision is None:
        mixed_precision = "no"
        if not cpu and torch.cuda.is_available():
            mixed_precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return Accelerator(cpu=cpu, mixed_precision=mixed_precision)


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
) -> dict[str, Any]:
    """Fine-tune a causal LM on packed blocks: AdamW, linear decay to 0, ``epochs`` passes.

    Every block is a full sequence (no padding), the labels are the inputs
    (the model shifts them). The batch order is reproducible from ``seed``.
    Runs through an ``accelerate.Accelerator``: on a GPU in bf16 (or fp16)
    mixed precision, and data-parallel under ``accelerate launch``.
    Returns ``{"model", "loss", "tokens", "seconds", "tokens_per_s"}`` where
    ``model`` is the trained (unwrapped, CPU-independent) model.
    """
    from torch.utils.data import DataLoader, TensorDataset
    from transformers import get_linear_schedule_with_warmup

    accelerator = _accelerator(device, mixed_precision)
    torch.manual_seed(seed)
    data = TensorDataset(torch.as_tensor(np.asarray(blocks), dtype=torch.long))
    loader = DataLoader(
        data,
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
        drop_last=False,
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = max(1, epochs * math.ceil(len(data) / batch_size / accelerator.num_processes))
    schedule = get_linear_schedule_with_warmup(optimizer, int(warmup * steps), steps)
    model, optimizer, loader, schedule = accelerator.prepare(model, optimizer, loader, schedule)
    model.train()
    losses: list[float] = []
    start = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=progress if isinstance(progress, str) else "training", leave=False)
    tokens = 0
    for _ in range(epochs):
        for (batch,) in loader:
            out = model(input_ids=batch, labels=batch)
            accelerator.backward(out.loss)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(out.loss.detach()))
            tokens += batch.numel() * accelerator.num_processes
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - start
    model = accelerator.unwrap_model(model)
    model.eval()
    return {
        "model": model,
        "loss": float(np.mean(losses[-max(1, len(losses) // 10) :])) if losses else float("nan"),
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_s": tokens / max(seconds, 1e-9),
    }


# -------------------------------------------------------------------- scoring
def _device_of(model: Any) -> torch.device:
    return next(model.parameters()).device


def _autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast(
            "cuda", dtype=torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        )
    return torch.autocast("cpu", enabled=False)


@torch.no_grad()
def sequence_nll(model: Any, blocks: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Mean negative log-likelihood (nats per token) of every block under ``model``.

    Token ``i`` of a block is predicted from tokens ``0..i-1`` of the same
    block; the first token of a block is not scored. ``exp`` of the result is
    the per-sequence perplexity (Figure 11 of the paper).
    """
    blocks = np.asarray(blocks)
    if blocks.ndim != 2 or blocks.shape[1] < 2:
        raise ValueError(f"blocks must be a 2-D array of sequences of length >= 2, got shape {blocks.shape}")
    model.eval()
    device = _device_of(model)
    out = np.empty(len(blocks))
    for start in range(0, len(blocks), batch_size):
        ids = torch.as_tensor(blocks[start : start + batch_size], dtype=torch.long, device=device)
        with _autocast(device):
            logits = model(input_ids=ids).logits
        logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
        nll = -logp.gather(-1, ids[:, 1:, None]).squeeze(-1)
        out[start : start + len(ids)] = nll.mean(dim=1).cpu().numpy()
    return out


def perplexity(model: Any, blocks: np.ndarray, batch_size: int = 64) -> float:
    """Token-level perplexity of ``blocks``: ``exp`` of the mean NLL over all scored tokens."""
    return float(np.exp(sequence_nll(model, blocks, batch_size).mean()))


# ------------------------------------------------------------------ generation
@torch.no_grad()
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
) -> np.ndarray:
    """Continue every prompt with exactly ``new_tokens`` tokens by beam search.

    ``model.generate(num_beams, min_new_tokens=max_new_tokens=new_tokens,
    repetition_penalty, do_sample=False)`` as in the authors' code, batched:
    prompts are sorted by length (so a batch holds similar lengths), padded on
    the left, and decoded with the KV cache; on a GPU under bf16/fp16 autocast.
    Fixed-length blocks all have the same length, so no padding is needed then.
    Returns an ``(n, new_tokens)`` ``int64`` array in the order of ``prompts``.
    """
    prompts = [np.asarray(p, dtype=np.int64) for p in prompts]
    n = len(prompts)
    out = np.full((n, new_tokens), pad_token_id, dtype=np.int64)
    if n == 0:
        return out
    model.eval()
    device = _device_of(model)
    order = np.argsort([len(p) for p in prompts], kind="stable")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=progress if isinstance(progress, str) else "generating", leave=False)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        width = max(len(prompts[i]) for i in idx)
        ids = np.full((len(idx), width), pad_token_id, dtype=np.int64)
        mask = np.zeros((len(idx), width), dtype=np.int64)
        for row, i in enumerate(idx):
            ids[row, width - len(prompts[i]) :] = prompts[i]
            mask[row, width - len(prompts[i]) :] = 1
        ids_t = torch.as_tensor(ids, device=device)
        with _autocast(device):
            gen = model.generate(
                input_ids=ids_t,
                attention_mask=torch.as_tensor(mask, device=device),
                num_beams=num_beams,
                min_new_tokens=new_tokens,
                max_new_tokens=new_tokens,
                repetition_penalty=repetition_penalty,
                do_sample=False,
                early_stopping=True,
                pad_token_id=pad_token_id,
                eos_token_id=eos_token_id,
                use_cache=True,
            )
        cont = gen[:, width:].cpu().numpy()
        out[idx, : cont.shape[1]] = cont
        if bar is not None:
            bar.update(len(idx))
    if bar is not None:
        bar.close()
    return out
