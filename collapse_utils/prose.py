"""Sentences written by the code beside them.

The book types no run-dependent number or outcome into its prose. A sentence
that depends on the run is built by a helper from the run's results and shown
with :func:`show`, which renders Markdown in the built book and in a running
notebook alike (a MyST ``{glue}`` role would show as raw markup on Colab).
Helpers that state an order of events (:func:`order_of_events`) say what
happened at this seed, whichever way it went.
"""

from __future__ import annotations

from typing import Mapping, Sequence


def show(markdown: str) -> str:
    """Display ``markdown`` as a Markdown output (and return it, for tests)."""
    try:
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython ships with the kernel
        print(markdown)
    else:
        display(Markdown(markdown))
    return markdown


def join_words(items: Sequence[str], conjunction: str = "and") -> str:
    """``["a"]`` -> ``a``; ``["a", "b"]`` -> ``a and b``; ``["a", "b", "c"]`` -> ``a, b and c``."""
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def order_of_events(times: Mapping[str, int | float | None], unit: str = "generation") -> str:
    """Say in which order events happened, from ``{event: time or None}``.

    ``None`` means "did not happen within the run". Ties are reported as such.
    For example ``{"the 3σ tail halves": 4, "the variance halves": 9}`` gives
    ``"the 3σ tail halves first (generation 4), then the variance halves (generation 9)"``.
    """
    happened = sorted(((t, e) for e, t in times.items() if t is not None), key=lambda p: p[0])
    missing = [e for e, t in times.items() if t is None]
    parts: list[str] = []
    i = 0
    while i < len(happened):
        t = happened[i][0]
        group = [e for tt, e in happened if tt == t]
        i += len(group)
        when = f"{unit} {t:g}" if isinstance(t, float) else f"{unit} {t}"
        if not parts:
            verb = "together first" if len(group) > 1 else "first"
            parts.append(f"{join_words(group)} {verb} ({when})")
        else:
            parts.append(f"then {join_words(group)}{' together' if len(group) > 1 else ''} ({when})")
    text = ", ".join(parts)
    if missing:
        tail = f"{join_words(missing, 'or')} not within the run"
        text = f"{text}; {tail}" if text else f"none happened within the run: {tail}"
    return text
