"""Diversity of a generation's text, and its truth-based measures on the embedded language."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct word ``n``-grams over all texts divided by all ``n``-grams (1 = no repeats)."""
    grams: list[tuple[str, ...]] = []
    for text in texts:
        toks = text.split()
        grams += [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
    return len(set(grams)) / max(1, len(grams))


def repetition(texts: Sequence[str], n: int = 4) -> float:
    """Share of word ``n``-grams that repeat an earlier ``n``-gram *of the same text* (0 = none)."""
    rep = total = 0
    for text in texts:
        toks = text.split()
        grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
        rep += len(grams) - len(set(grams))
        total += len(grams)
    return rep / max(1, total)


def text_metrics(
    texts: Sequence[str], language: Any | None = None
) -> tuple[dict[str, float], np.ndarray | None]:
    """Diversity of texts and, for the synthetic language, their truth-based measures.

    Returns ``(metrics, per_text_true_nll)``; the second is ``None`` without a language.
    """
    m = {
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        "distinct_3": distinct_n(texts, 3),
        "repetition_4": repetition(texts, 4),
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


