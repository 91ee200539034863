"""Like-for-like measures of chapter 4: the model and the truth on the same words, losses by frequency band.

One meaning of *generation* throughout the book: generation 0 is the model
fine-tuned on the original data; generation ``t + 1`` is fine-tuned on data
built from generation ``t``'s outputs (and, with retention, original data).

What this module measures, and why each measure is built the way it is:

* :func:`token_nll` -- the loss of every token of every block (the first token
  of a block has no context and is not scored, as in ``sequence_nll``).
* :func:`pair_words` and :func:`paired_word_losses` -- the model's loss *per
  word* and the true loss *of the same words*. The true chain of the embedded
  language skips headings (their words are drawn at random, not by the chain)
  and the first and cut last words of a fragment; a word is paired when the
  truth scores it and all of its tokens are scored by the model. Both sums run
  over exactly the paired words, so the truth's mean is the loss a *perfect
  model* would have on exactly those tokens.
* :func:`frequency_bands` and :func:`band_losses` -- the test loss split by
  token-frequency band (rare, middle, frequent, by frequency in the original
  training data); the bands' contributions add up to the total loss.
* :func:`word_bands`, :func:`coverage` and :func:`fresh_coverage` -- the share
  of the language's rare (tail), middle and frequent word types that a text
  still uses, beside the same share in a fresh sample of the source of the
  same size (the sampling baseline: a finite sample misses rare words too).
* :func:`reference_perplexity` and :func:`perplexity_shift` -- Figure 11's
  reference: original blocks that the generation-0 model never trained on (the
  validation split), scored by the generation-0 model.
* :func:`writer_comparison` -- does generation 0 write the language? Its
  written blocks beside a fresh sample of the source and beside the *perfect
  model* writing with the same decoding (the true chain under the same beam
  search and repetition penalty), by distinct-n and true NLL per word.

The sentence helpers (:func:`writer_sentence`, :func:`band_sentence`,
:func:`settings_sentence`) write the chapter's run-dependent sentences from
these numbers, whichever way they came out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import validate
from .data import decode_blocks
from .synthetic import SyntheticLanguage
from .textmetrics import distinct_of

BAND_NAMES = ("rare", "middle", "frequent")


# --------------------------------------------------------------------------- token losses
def token_nll(model: Any, blocks: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Negative log-likelihood (nats) of every token of every block under ``model``, in float32.

    Returns an ``(n, L)`` array; column 0 is NaN (the first token of a block
    has no context). ``np.nanmean(token_nll(m, b), axis=1)`` is
    :func:`~collapse_utils.llm.model.sequence_nll`; the losses are
    :func:`~collapse_utils.llm.model.token_nll`'s without autocast.
    """
    from .model import token_nll as losses

    blocks = np.asarray(blocks)
    out = np.full(blocks.shape, np.nan)
    out[:, 1:] = losses(model, blocks, batch_size, mixed_precision="no")
    return out


# --------------------------------------------------------------------------- words and tokens
def token_spans(tokenizer: Any, block: Sequence[int]) -> tuple[str, np.ndarray]:
    """The decoded text of ``block`` and the character span ``[start, end)`` of each of its tokens.

    Spans come from decoding every prefix of the block, so they hold for any
    tokenizer (byte-level BPE included); special tokens (the ``</s>`` that the
    authors' line-by-line tokenisation puts before every line) decode to
    nothing, so their span is empty; a prefix whose decoding is not a
    prefix of the whole text (a token cut inside a multi-byte character) is
    clamped, so that spans stay ordered and cover the text.
    """
    ids = [int(i) for i in block]
    text = tokenizer.decode(ids, skip_special_tokens=True)
    prefixes = tokenizer.batch_decode([ids[: k + 1] for k in range(len(ids))], skip_special_tokens=True)
    ends = np.empty(len(ids), dtype=np.int64)
    for k, prefix in enumerate(prefixes):
        ends[k] = len(prefix) if text.startswith(prefix) else (ends[k - 1] if k else 0)
    ends = np.minimum(np.maximum.accumulate(ends), len(text))
    ends[-1] = len(text)
    starts = np.concatenate([[0], ends[:-1]])
    return text, np.stack([starts, ends], axis=1)


@dataclass
class WordPairing:
    """Which tokens of a set of blocks make up which words that the true chain scores.

    ``token_word[i, k]`` is the index (into ``true_nll``) of the paired word
    that token ``k`` of block ``i`` belongs to, or -1 (headings, blank lines,
    punctuation of the layout, words the truth does not score, words with an
    unscored token).
    """

    token_word: np.ndarray  # (n, L) int64
    true_nll: np.ndarray  # (W,) true NLL of every paired word (nats)
    block: np.ndarray  # (W,) the block each paired word belongs to
    tail: np.ndarray  # (W,) whether the word is in the language's tail
    texts: list[str]

    @property
    def words(self) -> int:
        return int(len(self.true_nll))


def pair_words(language: SyntheticLanguage, tokenizer: Any, blocks: np.ndarray) -> WordPairing:
    """Pair the model's tokens with the words the true chain scores (see the module docstring).

    A word is paired when :meth:`SyntheticLanguage.word_scores` scores it (so
    never a heading word, nor the open first or cut last word of a block) and
    every token overlapping its characters is scored by the model (not token 0).
    """
    blocks = np.asarray(blocks)
    token_word = np.full(blocks.shape, -1, dtype=np.int64)
    true_nll: list[float] = []
    owner: list[int] = []
    tail: list[bool] = []
    texts: list[str] = []
    for i, block in enumerate(blocks):
        text, spans = token_spans(tokenizer, block)
        texts.append(text)
        for ws in language.word_scores(text, fragments=True):
            if not ws.scored:
                continue
            # tokens whose characters overlap the word's characters
            toks = np.flatnonzero((spans[:, 0] < ws.end) & (spans[:, 1] > ws.start))
            if toks.size == 0 or toks[0] == 0 or (token_word[i, toks] >= 0).any():
                continue
            token_word[i, toks] = len(true_nll)
            true_nll.append(ws.nll)
            owner.append(i)
            tail.append(ws.tail)
    return WordPairing(
        token_word, np.asarray(true_nll, dtype=float), np.asarray(owner, dtype=np.int64), np.asarray(tail, bool), texts
    )


@dataclass
class PairedLoss:
    """The model's and the truth's loss per word, on the same words."""

    model_nll: float  # mean over paired words of the model's summed token NLL (nats per word)
    true_nll: float  # mean true NLL of the same words: the loss of a perfect model on them
    words: int
    model_per_word: np.ndarray  # (W,) the model's NLL of every paired word

    @property
    def excess(self) -> float:
        """How far the model is from a perfect model on these words (nats per word, >= 0 in expectation)."""
        return self.model_nll - self.true_nll


def paired_word_losses(pairing: WordPairing, tok_nll: np.ndarray) -> PairedLoss:
    """The model's loss per word (its token losses summed within each paired word) beside the truth's."""
    tok_nll = np.asarray(tok_nll, dtype=float)
    if tok_nll.shape != pairing.token_word.shape:
        raise ValueError(f"tok_nll must have the blocks' shape {pairing.token_word.shape}, got {tok_nll.shape}")
    mask = pairing.token_word >= 0
    if pairing.words == 0:
        return PairedLoss(float("nan"), float("nan"), 0, np.zeros(0))
    per_word = np.bincount(pairing.token_word[mask], weights=tok_nll[mask], minlength=pairing.words)
    return PairedLoss(float(per_word.mean()), float(pairing.true_nll.mean()), pairing.words, per_word)


# --------------------------------------------------------------------------- frequency bands of tokens
@dataclass(frozen=True)
class FrequencyBands:
    """Tokens split into rare, middle and frequent by their frequency in the original training data.

    ``frequent``: the most frequent tokens that together make up the first
    ``frequent_share`` of the training tokens; ``rare``: the least frequent ones
    that make up the last ``rare_share``, and every token never seen in training;
    ``middle``: the rest.
    """

    band: np.ndarray  # (vocab,) 0 rare, 1 middle, 2 frequent
    counts: np.ndarray  # (vocab,) occurrences in the training data
    frequent_share: float
    rare_share: float

    def of(self, blocks: np.ndarray) -> np.ndarray:
        """The band of every token of ``blocks``."""
        return self.band[np.asarray(blocks)]

    def describe(self) -> str:
        sizes = [int((self.band == b).sum()) for b in range(3)]
        seen = self.counts > 0
        types = [int(((self.band == b) & seen).sum()) for b in range(3)]
        return (
            f"token bands by frequency in the original training data: frequent = the {types[2]} most frequent "
            f"token types (the first {self.frequent_share:.0%} of the training tokens), rare = the {types[0]} "
            f"rarest types seen (the last {self.rare_share:.0%}) and {sizes[0] - types[0]} never seen, "
            f"middle = the {types[1]} others"
        )


def frequency_bands(
    blocks: np.ndarray, vocab_size: int, frequent_share: float = 0.5, rare_share: float = 0.1
) -> FrequencyBands:
    """Split the token vocabulary into bands by frequency in ``blocks`` (the original training blocks)."""
    validate.integer("vocab_size", vocab_size, 1)
    validate.real("frequent_share", frequent_share, 0.0, 1.0, low_open=True, high_open=True)
    validate.real("rare_share", rare_share, 0.0, 1.0 - frequent_share, low_open=True, high_open=True)
    blocks = np.asarray(blocks)
    if blocks.size == 0:
        raise ValueError("blocks must hold at least one token")
    if blocks.min() < 0 or blocks.max() >= vocab_size:
        raise ValueError(f"blocks hold token ids outside [0, {vocab_size}), the vocabulary")
    counts = np.bincount(blocks.ravel(), minlength=vocab_size)
    order = np.argsort(-counts, kind="stable")
    before = (np.cumsum(counts[order]) - counts[order]) / counts.sum()  # share of tokens before this type
    band = np.ones(vocab_size, dtype=np.int64)
    band[order[before < frequent_share]] = 2
    band[order[before >= 1.0 - rare_share]] = 0
    band[counts == 0] = 0
    return FrequencyBands(band, counts, float(frequent_share), float(rare_share))


@dataclass
class BandLoss:
    """The loss on a set of blocks split by frequency band.

    ``mean[b]`` is the mean NLL of the band's tokens; ``contribution[b]`` the
    band's share of the total: ``sum(contribution) == total``.
    """

    total: float
    mean: np.ndarray  # (3,) nats per token of the band (NaN for an empty band)
    share: np.ndarray  # (3,) share of the scored tokens in the band
    contribution: np.ndarray  # (3,) = share * mean (0 for an empty band)
    tokens: np.ndarray  # (3,) scored tokens in the band

    def as_dict(self, prefix: str = "test_nll") -> dict[str, float]:
        out = {f"{prefix}_total": self.total}
        for b, name in enumerate(BAND_NAMES):
            out[f"{prefix}_{name}"] = float(self.mean[b])
            out[f"{prefix}_{name}_contribution"] = float(self.contribution[b])
            out[f"{prefix}_{name}_share"] = float(self.share[b])
        return out


def band_losses(tok_nll: np.ndarray, blocks: np.ndarray, bands: FrequencyBands) -> BandLoss:
    """Split the mean token loss of ``blocks`` (``tok_nll`` from :func:`token_nll`) by frequency band."""
    tok_nll = np.asarray(tok_nll, dtype=float)
    blocks = np.asarray(blocks)
    if tok_nll.shape != blocks.shape:
        raise ValueError(f"tok_nll must have the blocks' shape {blocks.shape}, got {tok_nll.shape}")
    scored = np.isfinite(tok_nll)
    which = bands.of(blocks)[scored]
    values = tok_nll[scored]
    n = values.size
    if n == 0:
        raise ValueError("no scored token (blocks of length >= 2 are needed)")
    tokens = np.bincount(which, minlength=3).astype(float)
    sums = np.bincount(which, weights=values, minlength=3)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(tokens > 0, sums / np.maximum(tokens, 1), np.nan)
    return BandLoss(float(values.mean()), mean, tokens / n, sums / n, tokens.astype(np.int64))


# --------------------------------------------------------------------------- word types: coverage
def word_bands(language: SyntheticLanguage, frequent_mass: float = 0.5) -> np.ndarray:
    """The band of every word of the language by its true frequency: 0 rare (the tail), 1 middle, 2 frequent.

    The tail is the language's own (the rarest words carrying ``tail_mass`` of
    the mass); frequent are the most common content words carrying the first
    ``frequent_mass`` of the content mass; punctuation is -1 (in no band).
    """
    validate.real("frequent_mass", frequent_mass, 0.0, 1.0, low_open=True, high_open=True)
    pi = language.stationary[2:] / language.stationary[2:].sum()
    order = np.argsort(-pi, kind="stable")
    before = np.cumsum(pi[order]) - pi[order]
    band = np.ones(len(language.words), dtype=np.int64)
    band[:2] = -1
    band[order[before < frequent_mass] + 2] = 2
    band[language.tail] = 0
    return band


def coverage(language: SyntheticLanguage, texts: Sequence[str], bands: np.ndarray | None = None) -> np.ndarray:
    """Share of the word types of each band (rare, middle, frequent) that occur in ``texts`` (scored words)."""
    bands = word_bands(language) if bands is None else bands
    seen = np.zeros(len(language.words), dtype=bool)
    for text in texts:
        for ws in language.word_scores(text, fragments=True):
            if ws.scored:
                seen[ws.word] = True
    return np.array([seen[bands == b].mean() if (bands == b).any() else np.nan for b in range(3)])


def scored_words(language: SyntheticLanguage, texts: Sequence[str]) -> int:
    """How many words of ``texts`` the true chain scores."""
    return int(language.score(texts).words.sum())


def fresh_coverage(
    language: SyntheticLanguage, words: int, seed: int, bands: np.ndarray | None = None, repeats: int = 3
) -> np.ndarray:
    """The sampling baseline of :func:`coverage`: a fresh sample of the source with ``words`` scored words.

    Mean over ``repeats`` samples (seeds ``seed``, ``seed + 1``, ...). A text of
    finite length misses rare words even when it comes from the source itself;
    a generation's coverage is read against this.
    """
    validate.integer("words", words, 1)
    validate.integer("repeats", repeats, 1)
    bands = word_bands(language) if bands is None else bands
    out = []
    for r in range(repeats):
        rng = np.random.default_rng([seed, r])
        paragraphs, n = [], 0
        while n < words:
            para = language.sample_paragraph(rng, 3).split()
            paragraphs.append(" " + " ".join(para[: words - n]))
            n += len(para[: words - n])
        out.append(coverage(language, ["\n".join(paragraphs)], bands))
    return np.mean(out, axis=0)


# --------------------------------------------------------------------------- Figure 11's reference
def check_disjoint(reference: np.ndarray, trained: np.ndarray, what: str = "reference blocks") -> None:
    """Raise ``ValueError`` when a block of ``reference`` also occurs in ``trained`` (the training blocks)."""
    reference, trained = np.asarray(reference), np.asarray(trained)
    if reference.shape[1:] != trained.shape[1:]:
        return  # blocks of different lengths cannot coincide
    seen = {row.tobytes() for row in np.ascontiguousarray(trained)}
    shared = sum(row.tobytes() in seen for row in np.ascontiguousarray(reference))
    if shared:
        raise ValueError(f"{what}: {shared} of {len(reference)} blocks also occur in the training blocks")


def reference_perplexity(
    gen0: Any, valid_blocks: np.ndarray, train_blocks: np.ndarray, batch_size: int = 64
) -> np.ndarray:
    """Figure 11's reference: the perplexity of every validation block under the generation-0 model.

    The validation blocks are original text that generation 0 never trained on,
    so their perplexity is what the first model gives to *unseen* real text (the
    original training blocks, which it fitted for several epochs, would look too
    likely). Raises ``ValueError`` when a validation block occurs among the
    training blocks.
    """
    check_disjoint(valid_blocks, train_blocks, "Figure 11's reference (the validation blocks)")
    return np.exp(np.nanmean(token_nll(gen0, valid_blocks, batch_size), axis=1))


def perplexity_shift(
    ppl: Mapping[int, np.ndarray], reference: np.ndarray, quantile: float = 0.99, fresh: np.ndarray | None = None
):
    """How each generation's training blocks sit against the reference, under the generation-0 model.

    ``ppl`` maps a generation to the perplexities of its training blocks; the
    reference is :func:`reference_perplexity`. A table with named, readable
    columns: the median perplexity, and the shares of blocks above the
    reference's median (0.5 for text like the reference) and above its
    ``quantile`` (1 - quantile for text like the reference): the bulk moving
    left shows as the first falling, the paper's long right tail as the second
    rising. ``fresh`` (a fresh sample of the source as large as a training set,
    scored the same way) adds the sampling baseline of both shares: what text of
    the source itself shows in a sample of that size.
    """
    import pandas as pd

    validate.real("quantile", quantile, 0.5, 1.0, high_open=True)
    reference = np.asarray(reference, dtype=float)
    median, high = np.median(reference), np.quantile(reference, quantile)
    q = round(quantile * 100)
    rows = [
        {
            "generation": int(g),
            "median perplexity": float(np.median(v)),
            "share above the reference median": float(np.mean(np.asarray(v) > median)),
            f"share above the reference's {q}th percentile": float(np.mean(np.asarray(v) > high)),
        }
        for g, v in sorted(ppl.items())
    ]
    def row(name: str, values: np.ndarray) -> dict[str, Any]:
        values = np.asarray(values, dtype=float)
        return {
            "generation": name,
            "median perplexity": float(np.median(values)),
            "share above the reference median": float(np.mean(values > median)),
            f"share above the reference's {q}th percentile": float(np.mean(values > high)),
        }

    head = [row("reference", reference)] + ([row("a fresh sample of the source", fresh)] if fresh is not None else [])
    return pd.DataFrame(head + rows)


# --------------------------------------------------------------------------- does generation 0 write the language?
def content_words(text: str) -> list[str]:
    """The whitespace words of ``text`` outside heading lines."""
    return [t for line in text.split("\n") if "=" not in line.split() for t in line.split()]


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct word ``n``-grams over all texts (outside headings) divided by all ``n``-grams (1 = no repeats)."""
    return distinct_of([content_words(text) for text in texts], n)


WRITER_COLUMNS = ("distinct words", "distinct 2-grams", "distinct 3-grams", "true NLL per word")
IMPOSSIBLE_COLUMN = "impossible word pairs"
WRITTEN_KEYS = ("written_distinct_1", "written_distinct_2", "written_distinct_3", "written_true_nll",
                "written_impossible")
"""The table's columns for :data:`WRITER_COLUMNS` and :data:`IMPOSSIBLE_COLUMN` of the text a generation wrote."""
"""Shown beside :data:`WRITER_COLUMNS` but not compared by relative bands (the source's own share is 0)."""


def text_profile(language: SyntheticLanguage | None, texts: Sequence[str]) -> dict[str, float]:
    """Distinct-1/2/3 and, with a language, the true NLL per word and the share of impossible word pairs.

    The NLL is over the word pairs the chain can write; the pairs it cannot
    (probability 0, see :meth:`SyntheticLanguage.score`) are the last column.
    """
    split = [content_words(text) for text in texts]
    out = {name: distinct_of(split, n) for name, n in zip(WRITER_COLUMNS[:3], (1, 2, 3))}
    score = language.score(texts) if language is not None else None
    out[WRITER_COLUMNS[3]] = score.mean_nll if score is not None else float("nan")
    out[IMPOSSIBLE_COLUMN] = score.impossible_rate if score is not None else float("nan")
    return out


def writer_comparison(language: SyntheticLanguage, written: Mapping[str, Sequence[str]]):
    """A table: one row per writer (``{"name": texts}``), the columns of :func:`text_profile`, rounded."""
    import pandas as pd

    rows = [{"text": name, **text_profile(language, texts)} for name, texts in written.items()]
    return pd.DataFrame(rows).set_index("text").round(3)


def within_band(value: float, reference: float, band: float) -> bool:
    """Whether ``value`` lies within ``band`` (a relative tolerance, 0.2 = 20%) of ``reference``."""
    validate.real("band", band, 0.0, low_open=True)
    return bool(abs(value - reference) <= band * abs(reference))


def band_split(model: Mapping[str, float], reference: Mapping[str, float], band: float) -> tuple[list[str], list[str]]:
    """The measures of :data:`WRITER_COLUMNS` where ``model`` lies within ``band`` of ``reference``, and the others
    (a measure the reference lacks, NaN, is in neither)."""
    scored = [c for c in WRITER_COLUMNS if np.isfinite(reference[c])]
    inside = [c for c in scored if within_band(model[c], reference[c], band)]
    return inside, [c for c in scored if c not in inside]


def writer_sentence(table, model_row: str, reference_row: str, fresh_row: str, band: float) -> str:
    """Say whether the model writes like the perfect model with the same decoding, and how both compare to the source.

    ``table`` is :func:`writer_comparison`'s; the sentence names the measures
    inside the band and those outside it, whichever way the run went.
    """
    model, ref, fresh = table.loc[model_row], table.loc[reference_row], table.loc[fresh_row]
    inside, outside = band_split(model, ref, band)
    from ..prose import join_words

    if not outside:
        first = (
            f"On every measure ({join_words(inside)}), {model_row} lies within {band:.0%} of {reference_row}: "
            "it writes the language as a model that knew it exactly would with the same decoding."
        )
    elif not inside:
        first = (
            f"On no measure does {model_row} lie within {band:.0%} of {reference_row} "
            f"({join_words(outside)} all differ by more): the collapse below starts from a model that writes "
            "the language worse than the decoding alone explains."
        )
    else:
        first = (
            f"{model_row.capitalize()} lies within {band:.0%} of {reference_row} in {join_words(inside)}, "
            f"but not in {join_words(outside)}."
        )
    nll_c = WRITER_COLUMNS[3]
    shift = "below" if ref[nll_c] < fresh[nll_c] else "above"
    second = (
        f" The decoding itself moves the text away from the source: even {reference_row} writes text whose "
        f"true NLL per word is {shift} that of {fresh_row} ({ref[nll_c]:.2f} against {fresh[nll_c]:.2f} nats) "
        f"and with {ref['distinct 2-grams'] / max(fresh['distinct 2-grams'], 1e-12):.0%} of its share of "
        "distinct 2-grams."
    )
    return first + second


def band_sentence(
    first: Mapping[str, float], last: Mapping[str, float], generation: int, setting: str | None = None
) -> str:
    """Which frequency band's test loss grew most (relative to generation 0) by ``generation``.

    ``first`` and ``last`` map band names to the mean loss at generation 0 and
    at ``generation``; the sentence ranks the bands by relative growth, so it
    says whether the rare tokens were hurt first, whichever way it went.
    """
    growth = {b: (last[b] - first[b]) / abs(first[b]) for b in BAND_NAMES if np.isfinite(first[b]) and np.isfinite(last[b])}
    if not growth:
        return "No band holds scored tokens in both generations."
    order = sorted(growth, key=growth.get, reverse=True)
    from ..prose import percent

    parts = [f"{b} tokens {percent(growth[b], signed=True)}" for b in order]  # never "-0%"
    lead = order[0]
    verdict = (
        "the rare tokens, the tail, suffered most, as the paper's account of collapse predicts"
        if lead == "rare"
        else f"the {lead} tokens suffered most, not the rare ones"
    )
    where = f"With {setting}, from" if setting else "From"
    return (
        f"{where} generation 0 to generation {generation}, the mean test loss changed by "
        f"{join_words_local(parts)}: {verdict}."
    )


def join_words_local(items: Sequence[str]) -> str:
    from ..prose import join_words

    return join_words(items)


def settings_sentence(
    change: Mapping[str, float],
    labels: Mapping[str, str],
    metric: str = "the test perplexity",
    ranges: Mapping[str, tuple[float, float]] | None = None,
    digits: int = 1,
) -> str:
    """Rank the settings by how much ``metric`` changed from generation 0 to the last (median over runs).

    ``change`` maps a setting to its change; ``labels`` to its readable label;
    ``ranges`` (optional) to the 10-90% range of the change over runs
    (:func:`~collapse_utils.llm.plots.growth_ranges`): when the ranges of the
    smallest and the largest change overlap, the sentence says the runs cannot
    rank them. Changes equal at the printed precision (``digits`` decimals)
    are said to be the same.
    """
    validate.integer("digits", digits, 0, 6)

    def f(x: float) -> str:
        return f"{x:+.{digits}f}"

    if not change:
        return "No setting has finished."
    order = sorted(change, key=change.get)
    if len(order) == 1:
        return f"From generation 0 to the last, {metric} changed by {f(change[order[0]])} ({labels[order[0]]})."
    if len({f(change[s]) for s in order}) == 1:
        text = (
            f"From generation 0 to the last, {metric} (median over runs) changed by the same "
            f"{f(change[order[0]])} with {join_words_local([labels[s] for s in order])}."
        )
    else:
        parts = [f"{f(change[s])} with {labels[s]}" for s in order]
        text = (
            f"From generation 0 to the last, {metric} (median over runs) changed by {join_words_local(parts)} "
            "(smallest to largest)."
        )
    if ranges and order[0] in ranges and order[-1] in ranges:
        (lo_a, hi_a), (lo_b, hi_b) = ranges[order[0]], ranges[order[-1]]
        overlap = hi_a >= lo_b
        text += (
            f" Over runs (10-90%), {labels[order[0]]} ranged from {f(lo_a)} to {f(hi_a)} and "
            f"{labels[order[-1]]} from {f(lo_b)} to {f(hi_b)}: "
            + ("the ranges overlap, so these runs do not settle the order." if overlap
               else "the ranges do not overlap.")  # fmt: skip
        )
    return text


# --------------------------------------------------------------------------- one judge per experiment
class Judge:
    """Everything a generation is measured against, prepared once per experiment.

    Built from the original blocks (``train_blocks``: the fine-tuning set of
    generation 0; ``valid_blocks``: original text no model trains on; ``test_blocks``:
    Figure 10's test set) and, for the embedded language, the true chain:

    * :meth:`model_metrics` -- a model's test loss (token perplexity, the loss by
      frequency band, and on the embedded language the per-word loss beside a
      perfect model's on the same words);
    * :meth:`data_metrics` -- a generation's training text: word-type coverage by
      band beside the coverage of a fresh sample of the source of the same size
      (as many blocks of as many tokens, cut by the same tokenizer);
    * :meth:`reference` -- Figure 11's reference (the validation blocks under the
      generation-0 model);
    * :meth:`writer_profiles` -- a fresh sample of the source and the perfect model
      writing with the experiment's decoding, as continuations of the original
      blocks (the references for "does generation 0 write the language?").
    """

    def __init__(
        self,
        tokenizer: Any,
        train_blocks: np.ndarray,
        valid_blocks: np.ndarray,
        test_blocks: np.ndarray,
        language: SyntheticLanguage | None = None,
        seed: int = 0,
        batch_size: int = 64,
        special_tokens: bool = False,
    ) -> None:
        self.tokenizer = tokenizer
        self.special_tokens = special_tokens  # fresh samples are cut into blocks as the experiment's text is
        self.train_blocks = np.asarray(train_blocks)
        self.valid_blocks = np.asarray(valid_blocks)
        self.test_blocks = np.asarray(test_blocks)
        self.language = language
        self.seed = seed
        self.batch_size = batch_size
        self.bands = frequency_bands(self.train_blocks, max(len(tokenizer), int(self.train_blocks.max()) + 1))
        self.pairing = pair_words(language, tokenizer, self.test_blocks) if language is not None else None
        self.word_band = word_bands(language) if language is not None else None
        self._baseline: np.ndarray | None = None

    # ------------------------------------------------------------------ models
    def model_metrics(self, lm: Any) -> tuple[dict[str, float], np.ndarray]:
        """``(metrics, test_nll per block)`` of a model on the test blocks (see the class docstring)."""
        tn = token_nll(lm, self.test_blocks, self.batch_size)
        per_block = np.nanmean(tn, axis=1)
        out = band_losses(tn, self.test_blocks, self.bands).as_dict("test_nll")
        if self.pairing is not None:
            pl = paired_word_losses(self.pairing, tn)
            out.update(test_word_nll=pl.model_nll, test_word_nll_truth=pl.true_nll, test_words=pl.words)
        return out, per_block

    def reference(self, gen0: Any) -> np.ndarray:
        """Figure 11's reference: the validation blocks' perplexity under ``gen0`` (unseen by it in training)."""
        return reference_perplexity(gen0, self.valid_blocks, self.train_blocks, self.batch_size)

    # -------------------------------------------------------------------- text
    def fresh_texts(self, blocks: int, block_size: int, salt: int = 11) -> list[str]:
        """A fresh sample of the source cut into ``blocks`` blocks of ``block_size`` tokens (decoded)."""
        return decode_blocks(self.tokenizer, self.fresh_blocks(blocks, block_size, salt))

    def fresh_blocks(self, blocks: int, block_size: int, salt: int = 19) -> np.ndarray:
        """A fresh sample of the source cut into ``blocks`` blocks of ``block_size`` tokens (token ids)."""
        from .data import make_blocks

        if self.language is None:
            raise ValueError("a fresh sample needs the embedded language (a known source)")
        words = max(200, int(blocks * block_size * 1.3))
        while True:
            text = self.language.write_corpus(words, seed=[self.seed, salt])
            cut = make_blocks(text.splitlines(keepends=True), self.tokenizer, block_size,
                              special_tokens=self.special_tokens)  # fmt: skip
            if len(cut) >= blocks:
                return cut[:blocks]
            words *= 2

    def baseline(self) -> np.ndarray:
        """Coverage by band of a fresh sample as large as the training set (computed once)."""
        if self._baseline is None:
            n, size = self.train_blocks.shape
            self._baseline = coverage(self.language, self.fresh_texts(n, size, salt=13), self.word_band)
        return self._baseline

    def data_metrics(self, texts: Sequence[str]) -> dict[str, float]:
        """Word-type coverage by band of a generation's training text, with the sampling baseline."""
        if self.language is None:
            return {}
        cov, base = coverage(self.language, texts, self.word_band), self.baseline()
        out: dict[str, float] = {}
        for b, name in enumerate(BAND_NAMES):
            out[f"coverage_{name}"] = float(cov[b])
            out[f"coverage_{name}_baseline"] = float(base[b])
        return out

    def written_metrics(self, texts: Sequence[str]) -> dict[str, float]:
        """Distinct-n and true NLL per word of the text a model wrote (``written_*`` columns)."""
        prof = text_profile(self.language, texts)
        return {k: float(prof[c]) for k, c in zip(WRITTEN_KEYS, (*WRITER_COLUMNS, IMPOSSIBLE_COLUMN))}

    def fresh_spread(
        self, continuation: int, samples: int = 5, first: Mapping[str, float] | None = None
    ) -> dict[str, float]:
        """How far fresh samples of the source of one size lie from each other, per :data:`WRITER_COLUMNS`.

        The largest relative difference between the writer table's fresh sample
        (as many blocks of ``continuation`` tokens as there are training blocks;
        pass its profile as ``first`` when :meth:`writer_profiles` has it, so it
        is not drawn and scored again) and ``samples - 1`` others of the same
        size: the scale of the sampling noise against which a band around the
        fresh sample is read.
        """
        validate.integer("samples", samples, 2)
        if self.language is None:
            return {}
        n = len(self.train_blocks)
        if first is None:
            first = text_profile(self.language, self.fresh_texts(n, continuation, salt=FRESH_SALT))
        profiles = [text_profile(self.language, self.fresh_texts(n, continuation, salt=FRESH_SALT + k))
                    for k in range(1, samples)]  # fmt: skip
        return {
            c: float(max(abs(p[c] - first[c]) / max(abs(first[c]), 1e-12) for p in profiles))
            for c in WRITER_COLUMNS
        }

    def writer_profiles(
        self, continuation: int, num_beams: int, repetition_penalty: float, sample: bool = False
    ) -> dict[str, dict[str, float]]:
        """The references for generation 0's writing, with readable names (:data:`WRITER_COLUMNS`).

        ``"a fresh sample of the source"``: as many blocks of ``continuation``
        tokens as there are training blocks; ``"the perfect model"``: the true
        chain continuing every original block with the experiment's decoding
        (:meth:`SyntheticLanguage.continue_texts`), as many words as the fresh
        blocks hold on average.
        """
        if self.language is None:
            return {}
        n = len(self.train_blocks)
        fresh = self.fresh_texts(n, continuation, salt=FRESH_SALT)
        words = max(1, round(np.mean([len(content_words(t)) for t in fresh])))
        prompts = decode_blocks(self.tokenizer, self.train_blocks)
        perfect = self.language.continue_texts(
            prompts, words, num_beams=num_beams, repetition_penalty=repetition_penalty, sample=sample,
            seed=self.seed,
        )
        return {
            FRESH_ROW: text_profile(self.language, fresh),
            PERFECT_ROW: text_profile(self.language, perfect),
        }


FRESH_ROW = "a fresh sample of the source"
FRESH_SALT = 17
"""The salt of the writer table's fresh sample (:meth:`Judge.writer_profiles`); :meth:`Judge.fresh_spread` draws
its others with the next salts."""
PERFECT_ROW = "the perfect model with the same decoding"


def sampled_writer_sentence(table, model_row: str, fresh_row: str, band: float,
                            spread: Mapping[str, float] | None = None, who: str = "generation 0") -> str:  # fmt: skip
    """Say whether the model, sampling at temperature 1, writes like a fresh sample of the source, either way.

    Compares ``model_row`` with ``fresh_row`` of :func:`writer_comparison`'s
    (or :func:`~collapse_utils.llm.plots.writer_table`'s) table on every
    measure of :data:`WRITER_COLUMNS` within the relative ``band``; ``spread``
    (:meth:`Judge.fresh_spread`) says how far fresh samples of that size lie
    from each other; the share of impossible word pairs is quoted when the
    table has it. ``who`` names the model in the sentence.
    """
    from ..prose import join_words

    model, fresh = table.loc[model_row], table.loc[fresh_row]
    inside, outside = band_split(model, fresh, band)
    gaps = {c: (model[c] - fresh[c]) / max(abs(fresh[c]), 1e-12) for c in inside + outside}
    worst = max(gaps, key=lambda c: abs(gaps[c]))
    if not outside:
        first = (
            f"Sampling at temperature 1, {who} writes text within {band:.0%} of {fresh_row} on "
            f"every measure ({join_words(inside)}; the largest difference: {gaps[worst]:+.0%} in {worst}): "
            "the model has learned to write the language."
        )
    elif not inside:
        first = (
            f"Sampling at temperature 1, {who} writes text outside {band:.0%} of {fresh_row} "
            f"on every measure ({join_words([f'{c} {gaps[c]:+.0%}' for c in outside])}): the model has not learned "
            "to write the language, and what follows starts from its errors."
        )
    else:
        first = (
            f"Sampling at temperature 1, {who} writes text within {band:.0%} of {fresh_row} in "
            f"{join_words(inside)}, but not in {join_words([f'{c} ({gaps[c]:+.0%})' for c in outside])}."
        )
    parts = [first]
    if spread:
        top = max(spread.values())
        parts.append(f"Fresh samples of this size differ from each other by up to {top:.0%} on these measures.")
    if IMPOSSIBLE_COLUMN in table.columns and np.isfinite(model.get(IMPOSSIBLE_COLUMN, np.nan)):
        per = model[IMPOSSIBLE_COLUMN] * 10_000
        parts.append(
            f"About {per:.0f} in 10,000 of its word pairs are pairs the language never writes (two punctuation "
            "marks in a row, say); the source writes none."
            if per >= 0.5
            else "None of its word pairs is one the language never writes."
        )
    return " ".join(parts)


def decoding_sentence(table, fresh_row: str, paper_row: str, plain_row: str, sample_row: str, band: float = 0.1) -> str:
    """What the decoding does to a perfect model's text, from :func:`writer_comparison`'s table, either way.

    Compares the paper's beam search (``paper_row``), beam search without a
    repetition penalty (``plain_row``) and sampling (``sample_row``) with a
    fresh sample of the source (``fresh_row``) by true NLL per word and
    distinct 2-grams.
    """
    nll, d2 = WRITER_COLUMNS[3], WRITER_COLUMNS[1]
    fresh, paper, plain, sample = (table.loc[r] for r in (fresh_row, paper_row, plain_row, sample_row))

    def side(row) -> str:
        if within_band(row[nll], fresh[nll], band):
            return f"about as likely as the source's ({row[nll]:.2f} against {fresh[nll]:.2f} nats per word)"
        word = "likelier" if row[nll] < fresh[nll] else "less likely"
        return f"{word} than the source's ({row[nll]:.2f} against {fresh[nll]:.2f} nats per word)"

    parts = [
        f"With the paper's decoding, even the perfect model writes text {side(paper)}, with "
        f"{paper[d2] / max(fresh[d2], 1e-12):.0%} of the source's share of distinct 2-grams.",
        f"Without the repetition penalty its text is {side(plain)}, with "
        f"{plain[d2] / max(fresh[d2], 1e-12):.0%} of the source's share of distinct 2-grams"
        + (" (it repeats itself more than with the penalty)." if plain[d2] < paper[d2] else "."),
        f"Sampling writes text {side(sample)}, with {sample[d2] / max(fresh[d2], 1e-12):.0%} of its share of "
        "distinct 2-grams.",
    ]
    return " ".join(parts)
