"""Stand-ins for the hub, built locally: an OPT-125m-shaped model folder and a wikitext-format folder.

The hub path of the pipeline (``facebook/opt-125m`` on ``wikitext-2-raw-v1``)
is ``AutoTokenizer.from_pretrained`` / ``AutoModelForCausalLM.from_pretrained``
on a folder plus wikitext's three splits. Without a hub, the same code path runs
on local folders of the same shape:

* :func:`write_opt125m_folder` saves an ``OPTForCausalLM`` with OPT-125m's
  configuration (12 layers, width 768, 12 heads, feed-forward 3072, 2048
  positions, vocabulary 50272) and *random* weights, with a byte-level BPE
  tokenizer trained here by ``tokenizers`` (OPT's own tokenizer is GPT-2's
  byte-level BPE with 50265 tokens; ours is smaller, and the embedding keeps
  OPT's 50272 rows, so every forward pass and beam-search step costs what
  OPT-125m's does);
* :func:`write_wikitext_folder` writes ``train.txt``, ``valid.txt`` and
  ``test.txt`` of the embedded language in the wikitext layout.

Used by the tests (the hub path without a hub) and by ``benchmarks/bench_llm.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import validate
from .synthetic import LanguageConfig, SyntheticLanguage

OPT125M_SHAPE = dict(
    vocab_size=50272,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    ffn_dim=3072,
    max_position_embeddings=2048,
    word_embed_proj_dim=768,
)


def write_wikitext_folder(
    folder: str | Path,
    words: Sequence[int] = (20_000, 2_000, 2_000),
    language: LanguageConfig | None = None,
    seed: int = 0,
) -> Path:
    """Write ``words`` words of the embedded language as ``train.txt``, ``valid.txt``, ``test.txt``."""
    if len(words) != 3:
        raise ValueError(f"words must be 3 counts (train, valid, test), got {words!r}")
    for i, n in enumerate(words):
        validate.integer(f"words[{i}]", n, 1)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lang = SyntheticLanguage(language)
    for k, (split, n) in enumerate(zip(("train", "valid", "test"), words)):
        (folder / f"{split}.txt").write_text(lang.write_corpus(n, seed=seed * 1000 + k), encoding="utf-8")
    return folder


def write_opt125m_folder(
    folder: str | Path,
    lines: Sequence[str],
    tokenizer_vocab: int = 2048,
    seed: int = 0,
    layers: int | None = None,
) -> Path:
    """Save an OPT-125m-shaped model with random weights and a locally trained tokenizer in ``folder``.

    ``lines`` train the byte-level BPE tokenizer (``tokenizer_vocab`` tokens,
    OPT's special tokens). ``layers`` overrides the 12 layers (for a cheaper
    model of the same width and vocabulary); ``None`` keeps OPT-125m's shape.
    Returns ``folder``, loadable by ``AutoModelForCausalLM.from_pretrained``.
    """
    import torch
    from transformers import OPTConfig, OPTForCausalLM

    from .model import save_model, train_tokenizer

    validate.integer("tokenizer_vocab", tokenizer_vocab, 300, OPT125M_SHAPE["vocab_size"])
    folder = Path(folder)
    tok = train_tokenizer(lines, tokenizer_vocab)
    shape = dict(OPT125M_SHAPE)
    if layers is not None:
        shape["num_hidden_layers"] = validate.integer("layers", layers, 1)
    cfg = OPTConfig(
        **shape,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    torch.manual_seed(seed)
    lm = OPTForCausalLM(cfg)
    save_model(lm, folder)
    tok.save_pretrained(folder)
    return folder


def parameters(model: Any) -> int:
    """Number of parameters of a torch model (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters())
