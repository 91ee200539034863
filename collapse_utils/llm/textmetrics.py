"""Diversity of a generation's text, and its truth-based measures on the embedded language."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .. import validate


def ngrams(toks: Sequence[str], n: int) -> Iterator[tuple[str, ...]]:
    """The word ``n``-grams of ``toks`` in order (``tuple(toks[i : i + n])`` for every ``i``), none when shorter."""
    return zip(*(toks[i:] for i in range(n)))


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct word ``n``-grams over all texts divided by all ``n``-grams (1 = no repeats)."""
    return distinct_of([text.split() for text in texts], n)


def distinct_of(split: Sequence[Sequence[str]], n: int) -> float:
    """:func:`distinct_n` of texts already split into words (one list per text), so that they are split once."""
    validate.integer("n", n, 1)
    seen: set[tuple[str, ...]] = set()
    total = 0
    for toks in split:
        seen.update(ngrams(toks, n))
        total += max(0, len(toks) - n + 1)
    return len(seen) / max(1, total)


def repetition(texts: Sequence[str], n: int = 4) -> float:
    """Share of word ``n``-grams that repeat an earlier ``n``-gram *of the same text* (0 = none)."""
    return _repetition([text.split() for text in texts], n)


def _repetition(split: Sequence[Sequence[str]], n: int) -> float:
    """:func:`repetition` of texts already split into words."""
    validate.integer("n", n, 1)
    rep = total = 0
    for toks in split:
        count = max(0, len(toks) - n + 1)
        rep += count - len(set(ngrams(toks, n)))
        total += count
    return rep / max(1, total)


def text_metrics(
    texts: Sequence[str], language: Any | None = None
) -> tuple[dict[str, float], np.ndarray | None]:
    """Diversity of texts and, for the synthetic language, their truth-based measures.

    Returns ``(metrics, per_text_true_nll)``; the second is ``None`` without a language.
    """
    split = [text.split() for text in texts]
    m = {
        "distinct_1": distinct_of(split, 1),
        "distinct_2": distinct_of(split, 2),
        "distinct_3": distinct_of(split, 3),
        "repetition_4": _repetition(split, 4),
    }
    if language is None:
        return m, None
    score = language.score(texts)
    m.update(
        true_nll=score.mean_nll,
        invalid_words=score.invalid_rate,
        impossible_pairs=score.impossible_rate,
        tail_coverage=language.tail_coverage(score),
        tail_share=language.tail_share(score),
    )
    return m, score.nll


