"""What an output folder holds results of: the model and data actually loaded, and the code.

A run asks for a model and data by name (``facebook/opt-125m``,
``wikitext-2-raw-v1``) but may get something else (the embedded language and
the small model, by fallback) or a changed thing under the same name (another
local folder at the same path, edited code). The output folder therefore
records, in ``identity.json``, what was *resolved*:

* the model: its name or path, where it came from, and fingerprints of its
  weights and its tokenizer;
* the data: its name, source and a fingerprint of its text;
* the code: a hash of the sources that compute the results
  (:func:`code_version`).

Resuming into a folder whose identity differs stops with an error naming every
difference (:func:`check_identity`); ``fresh=True`` (``--fresh``) moves the old
folder aside and starts again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

PACKAGE = Path(__file__).resolve().parents[1]  # collapse_utils/
# the sources that compute results (the configuration presets, estimates, plots, results loading and the command line
# do not change any number; tests check that every other module of the package is listed)
CODE_FILES = (
    "llm/config.py",
    "llm/data.py",
    "llm/decoding.py",
    "llm/distributed.py",
    "llm/measures.py",
    "llm/model.py",
    "llm/runner.py",
    "llm/synthetic.py",
    "llm/textmetrics.py",
    "llm/workers.py",
    "schedules.py",
    "validate.py",
)


#: the sources that pretrain the small model (its cache survives changes of the rest)
PRETRAIN_FILES = ("llm/data.py", "llm/distributed.py", "llm/model.py", "llm/synthetic.py", "validate.py")


@functools.cache
def code_version(files: tuple[str, ...] = CODE_FILES) -> str:
    """A 12-character hash of the sources that compute the results (:data:`CODE_FILES`, every one of them).

    Read once per process: the version of the code this process imported
    (sources edited during a run do not change the keys of its results).
    """
    h = hashlib.sha256()
    for name in files:
        h.update(name.encode())
        h.update((PACKAGE / name).read_bytes())  # a missing file is an error, not a silent change of the hash
    return h.hexdigest()[:12]


def weights_fingerprint(model: Any) -> str:
    """A 16-character hash of a torch model's parameters and buffers (names, shapes, dtypes, values)."""
    import torch

    h = hashlib.blake2b(digest_size=8)
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """A 16-character hash of a tokenizer's vocabulary, merges and special tokens."""
    h = hashlib.blake2b(digest_size=8)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        h.update(backend.to_str().encode())
    else:  # a slow tokenizer
        h.update(json.dumps(sorted(tokenizer.get_vocab().items())).encode())
    h.update(json.dumps({k: str(v) for k, v in sorted(tokenizer.special_tokens_map.items())}).encode())
    h.update(str(getattr(tokenizer, "padding_side", "")).encode())
    return h.hexdigest()


def text_fingerprint(splits: Iterable[Iterable[str]]) -> str:
    """A 16-character hash of the text of several splits (each a sequence of lines)."""
    h = hashlib.blake2b(digest_size=8)
    for lines in splits:
        for line in lines:
            h.update(line.encode("utf-8"))
        h.update(b"\x00split\x00")
    return h.hexdigest()


def blocks_fingerprint(blocks: np.ndarray) -> str:
    """A 16-character hash of an array of token ids."""
    a = np.ascontiguousarray(blocks, dtype=np.int64)
    return hashlib.blake2b(a.tobytes() + str(a.shape).encode(), digest_size=8).hexdigest()


def differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Human-readable differences between two nested dictionaries (``key: old -> new``)."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        name = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            out += differences(a, b, name + ".")
        elif a != b:
            out.append(f"{name}: {a!r} in the folder, {b!r} now")
    return out


def check_identity(output: Path, identity: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming every difference between ``identity`` and the folder's ``identity.json``.

    A folder without ``identity.json`` passes (a new folder).
    """
    path = Path(output) / "identity.json"
    if not path.exists():
        return
    old = json.loads(path.read_text())
    diff = differences(old, identity)
    if diff:
        raise ValueError(
            f"output {str(output)!r} holds results of another model, data or code version: "
            + "; ".join(diff)
            + ". Resume with what made them, or start afresh (fresh=True, --fresh: the old folder is moved "
            "aside), or choose another output folder"
        )


def move_aside(output: Path) -> Path | None:
    """Rename an existing output folder to ``<name>.replaced-<time>`` (returns the new path, or None)."""
    output = Path(output)
    if not output.exists():
        return None
    target = output.with_name(f"{output.name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}")
    k = 1
    while target.exists():
        target = output.with_name(f"{output.name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}-{k}")
        k += 1
    output.rename(target)
    return target
