"""Corpora for the language-model chapter: the hub, a local folder, or the embedded language.

Three sources, one result (:class:`Corpus`, three splits of raw text in the
wikitext layout):

``"wikitext-2-raw-v1"`` (or any other configuration of ``wikitext``)
    ``datasets.load_dataset("wikitext", name)`` -- the paper's data. Needs the
    Hugging Face hub (or its local cache).
a folder
    ``train.txt``, ``valid.txt`` and ``test.txt`` in the wikitext layout (the
    files of the original wikitext release, for instance).
``"synthetic"``
    the embedded :class:`~collapse_utils.llm.synthetic.SyntheticLanguage`, whose
    distribution is known; written out in the wikitext layout, with (given
    ``pretrain_words``) a pretraining split disjoint from the other three
    (:attr:`Corpus.pretrain`; a folder may hold one as ``pretrain.txt``).

Only the default ``"wikitext-2-raw-v1"`` falls back to the embedded language,
only with ``fallback=True`` and only when the hub is unreachable; a folder that
does not exist, an unknown name, or another wikitext configuration offline is
an error before any work (:func:`resolve_data`). :func:`load_corpus` says which
path it took. Text is then tokenised,
concatenated and cut into equal blocks (:func:`make_blocks`), as in the
authors' code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..hub import HUB_HOST, hub_reachable  # noqa: F401  (re-exported)
from .synthetic import LanguageConfig, SyntheticLanguage

SPLITS = ("train", "valid", "test")
SYNTHETIC = "synthetic"
DEFAULT_DATA = "wikitext-2-raw-v1"
WIKITEXT_NAMES = ("wikitext-2-raw-v1", "wikitext-2-v1", "wikitext-103-raw-v1", "wikitext-103-v1")


def looks_like_path(name: str) -> bool:
    """Whether ``name`` is meant as a local path (``/x``, ``./x``, ``../x``, ``~/x``, ``a/b/c``, ``C:\\x``)."""
    name = str(name)
    return (
        name.startswith(("/", ".", "~", "\\"))
        or name.count("/") >= 2
        or "\\" in name
        or (len(name) > 1 and name[1] == ":")
    )


class HubUnavailable(OSError):
    """The hub cannot be reached (and nothing usable is cached), and no fallback applies."""


def resolve_data(data: str | Path, fallback: bool = True, hub: bool | None = None) -> str:
    """Where ``data`` will come from, decided before any work: ``"synthetic"``, ``"folder"``, ``"hub"`` or ``"fallback"``.

    ``hub`` is the result of :func:`hub_reachable` (probed when ``None`` and needed).

    Raises
    ------
    ValueError
        For a folder that does not exist or an unknown name.
    HubUnavailable
        For a wikitext name when the hub is unreachable and no fallback applies
        (only :data:`DEFAULT_DATA` falls back, and only with ``fallback``).
    """
    name = str(data)
    if name == SYNTHETIC:
        return "synthetic"
    if Path(name).expanduser().is_dir():
        return "folder"
    if looks_like_path(name) or "/" in name:
        raise ValueError(f"data: the folder {name!r} does not exist (expected train.txt, valid.txt, test.txt)")
    if name not in WIKITEXT_NAMES:
        raise ValueError(
            f"data must be 'synthetic', a folder with train.txt, valid.txt and test.txt, or one of "
            f"{', '.join(WIKITEXT_NAMES)}, got {name!r}"
        )
    return hub_or_fallback(
        "data", name, hub, fallback, default=DEFAULT_DATA, only=f"only {DEFAULT_DATA} falls back",
        remedy="give a local folder with train.txt, valid.txt and test.txt, or 'synthetic'",
    )


def hub_or_fallback(
    what: str, name: str, hub: bool | None, fallback: bool, default: str, only: str, remedy: str
) -> str:
    """The last step of :func:`resolve_data` and :func:`.model.resolve_model` for a hub name.

    ``"hub"`` when the hub answers (``hub``: the result of :func:`hub_reachable`,
    probed when ``None``); ``"fallback"`` when it does not, ``fallback`` is on
    and ``name`` is the ``default`` (the only name that falls back); else
    :class:`HubUnavailable`, saying why (``only``: which name falls back) and
    what to give instead (``remedy``).
    """
    if hub is None:
        hub = hub_reachable()
    if hub:
        return "hub"
    if fallback and name == default:
        return "fallback"
    why = "fallback is off (--no-fallback)" if name == default else only
    raise HubUnavailable(
        f"{what}: the Hugging Face hub is unreachable, so {name!r} cannot be downloaded, and {why}; {remedy}"
    )


@dataclass
class Corpus:
    """Three splits of raw text, and where they came from."""

    name: str
    source: str  # "hub", "folder" or "synthetic"
    train: list[str]
    valid: list[str]
    test: list[str]
    language: SyntheticLanguage | None = None  # the known distribution, for the synthetic corpus
    notes: list[str] = field(default_factory=list)
    # text for pretraining the small model, disjoint from train/valid/test (the part OPT's pretraining plays);
    # None: no separate pretraining text (a folder without pretrain.txt, or the hub)
    pretrain: list[str] | None = None
    # the language the pretraining text was written in, when it is not the corpus' own (the embedded language)
    pretrain_language: SyntheticLanguage | None = None

    def split(self, name: str) -> list[str]:
        """The lines of split ``name`` (``train``, ``valid`` or ``test``)."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {name!r}")
        return getattr(self, name)

    def words(self, split: str = "train") -> int:
        """Whitespace-separated words in a split."""
        return sum(len(line.split()) for line in self.split(split))

    def describe(self) -> str:
        sizes = ", ".join(f"{s} {self.words(s):,} words" for s in SPLITS)
        return f"corpus {self.name!r} from the {self.source}: {sizes}"


def read_wikitext_folder(folder: str | Path, name: str | None = None) -> Corpus:
    """Read ``train.txt``, ``valid.txt`` and ``test.txt`` (wikitext layout) from ``folder``.

    Lines keep their trailing newline, as in the hub's ``wikitext`` dataset.
    The layout (`` = Title = `` lines, `` = = Heading = = `` lines, blank
    lines, ``<unk>`` and `` @-@ `` in the non-raw release) is kept as is: the
    model learns it like any other text.

    Raises
    ------
    ValueError
        If the folder or one of the files is missing, or a split holds no text.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"data: {str(folder)!r} is not a folder (expected train.txt, valid.txt, test.txt)")
    texts = {}
    for split in SPLITS:
        path = folder / f"{split}.txt"
        if not path.is_file():
            raise ValueError(f"data: the folder {str(folder)!r} has no {split}.txt")
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if not any(line.strip() for line in lines):
            raise ValueError(f"data: {str(path)!r} is empty (the {split} split needs text)")
        texts[split] = lines
    corpus = Corpus(name or folder.name, "folder", texts["train"], texts["valid"], texts["test"])
    if (folder / "pretrain.txt").is_file():  # optional: text to pretrain the small model on
        corpus.pretrain = (folder / "pretrain.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    return corpus


def synthetic_corpus(
    words: Sequence[int] = (60_000, 6_000, 6_000),
    language: LanguageConfig | SyntheticLanguage | None = None,
    seed: int = 0,
    pretrain_words: int | None = None,
    pretrain_language: LanguageConfig | SyntheticLanguage | None = None,
) -> Corpus:
    """The embedded language's corpus: ``words`` words for train, valid and test.

    With ``pretrain_words``, also a pretraining corpus of that many words that
    shares no paragraph with the three splits
    (:meth:`SyntheticLanguage.write_splits`), written by ``pretrain_language``
    (a related language: the paper's structure) or, without it, by the
    language itself.
    """
    lang = language if isinstance(language, SyntheticLanguage) else SyntheticLanguage(language)
    pre = pretrain_language
    if pre is not None and not isinstance(pre, SyntheticLanguage):
        pre = SyntheticLanguage(pre)
    if pre is not None and pre.words != lang.words:
        raise ValueError("pretrain_language must share the fine-tuning language's words (a related language)")
    sizes = dict(zip(SPLITS, words))
    if pretrain_words:
        sizes["pretrain"] = pretrain_words
    texts = {k: v.splitlines(keepends=True) for k, v in lang.write_splits(sizes, seed=seed, pretrain_from=pre).items()}
    return Corpus(
        SYNTHETIC, "synthetic", texts["train"], texts["valid"], texts["test"], language=lang,
        pretrain=texts.get("pretrain"), pretrain_language=pre if pretrain_words else None,
    )


def load_hub_wikitext(name: str = "wikitext-2-raw-v1", probe: bool = True) -> Corpus:
    """``datasets.load_dataset("wikitext", name)`` as a :class:`Corpus`.

    Raises :class:`HubUnavailable` at once when ``probe`` finds no hub (instead
    of the half minute of retries of ``datasets``).
    """
    import datasets

    if probe and not hub_reachable():
        raise HubUnavailable(
            f"the Hugging Face hub (huggingface.co) is unreachable; cannot download {name!r} "
            "(give a local folder with train.txt, valid.txt and test.txt instead)"
        )
    ds = datasets.load_dataset("wikitext", name)
    splits = [list(ds[s]["text"]) for s in ("train", "validation", "test")]
    return Corpus(name, "hub", *splits)


def load_corpus(
    data: str | Path = DEFAULT_DATA,
    fallback: bool = True,
    synthetic_words: Sequence[int] = (60_000, 6_000, 6_000),
    language: LanguageConfig | None = None,
    seed: int = 0,
    verbose: bool = True,
    hub: bool | None = None,
    pretrain_words: int | None = None,
    pretrain_language: LanguageConfig | SyntheticLanguage | None = None,
) -> Corpus:
    """Load ``data``: a wikitext configuration name, a folder, or ``"synthetic"``.

    :func:`resolve_data` decides the path (and raises before any work); the
    path taken is printed (``verbose``) and stored in :attr:`Corpus.notes`.
    """
    data_str = str(data)
    how = resolve_data(data_str, fallback, hub)
    if how == "synthetic":
        corpus = synthetic_corpus(synthetic_words, language, seed, pretrain_words, pretrain_language)
        corpus.notes.append("data: the embedded synthetic language (known distribution)")
    elif how == "folder":
        corpus = read_wikitext_folder(Path(data_str).expanduser())
        corpus.notes.append(f"data: local folder {data_str}")
    elif how == "hub":
        corpus = load_hub_wikitext(data_str, probe=False)
        corpus.notes.append(f"data: {data_str} from the Hugging Face hub (datasets.load_dataset)")
    else:
        corpus = synthetic_corpus(synthetic_words, language, seed, pretrain_words, pretrain_language)
        corpus.notes.append(
            f"data: the Hugging Face hub is unreachable, so instead of {data_str!r} the embedded synthetic "
            "language is used (fallback)"
        )
        corpus.source = "fallback synthetic"
    for split in SPLITS:
        if not any(line.strip() for line in corpus.split(split)):
            raise ValueError(f"data: the {split} split of {corpus.name!r} is empty")
    if verbose:
        for note in corpus.notes:
            print(note)
    return corpus


def _short(err: BaseException, limit: int = 160) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def make_blocks(
    lines: Sequence[str],
    tokenizer: Any,
    block_size: int,
    max_blocks: int | None = None,
    special_tokens: bool = False,
) -> np.ndarray:
    """Tokenise ``lines``, concatenate the tokens and cut them into blocks.

    As in the authors' code (``preprocess_datasets`` in their ``dataset.py``, and
    ``run_clm``'s ``group_texts``): every line is tokenised on its own, the ids
    are concatenated, and the remainder that does not fill a last block is
    dropped. With ``special_tokens`` (the authors' ``tokenizer(text)`` call)
    every line gets the tokenizer's own special tokens (OPT's ``</s>`` before
    each line) and empty lines are kept, each one a lone ``</s>``: a blank line
    of a text file (``"\n"``) is an empty row, as in the hub's ``wikitext``
    dataset. Without, empty lines are dropped and no special token is added.
    Returns an ``(n_blocks, block_size)`` ``int64`` array. ``max_blocks`` keeps
    the first blocks only.
    """
    if block_size < 2:
        raise ValueError(f"block_size must be an integer >= 2, got {block_size!r}")
    if special_tokens:
        lines = ["" if line in ("\n", "\r\n") else line for line in lines]
    else:
        lines = [line for line in lines if line]
    if max_blocks is not None:  # tokenise only as much text as needed (about 8 characters per token at most)
        budget, keep = max_blocks * block_size * 8, []
        for line in lines:
            keep.append(line)
            budget -= max(1, len(line))
            if budget <= 0:
                break
        lines = keep
    ids: list[int] = []
    batch = 2000
    for start in range(0, len(lines), batch):
        enc = tokenizer(list(lines[start : start + batch]), add_special_tokens=special_tokens)["input_ids"]
        for seq in enc:
            ids.extend(seq)
    n = len(ids) // block_size
    if max_blocks is not None:
        n = min(n, max_blocks)
    if n == 0:
        raise ValueError(f"the text holds {len(ids)} tokens, fewer than one block of block_size={block_size}")
    return np.asarray(ids[: n * block_size], dtype=np.int64).reshape(n, block_size)


def decode_blocks(tokenizer: Any, blocks: Any) -> list[str]:
    """The text of every block, without special tokens (the ``</s>`` of the authors' line-by-line tokenisation)."""
    return tokenizer.batch_decode(np.asarray(blocks).tolist(), skip_special_tokens=True)
