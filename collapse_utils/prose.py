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


def show(markdown: str) -> None:
    """Display ``markdown`` as a Markdown output.

    Returns ``None``, so that a ``prose.show(...)`` at the end of a cell is not shown a
    second time as the cell's value. (Test the helper that writes the sentence.)
    """
    try:
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython ships with the kernel
        print(markdown)
    else:
        display(Markdown(markdown))


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


def ran_at(rows: Sequence[tuple[str, object, object]], profile: str | None = None) -> str:
    """The "This page ran at" note: this run's scale beside the paper's, as a Markdown table.

    ``rows`` are ``(what, here, paper)``, for example
    ``("runs", P["runs"], "1 (Figure 7)")``. Shown at the top of every chapter with
    :func:`show`, so a reader sees at once how far the page's scale is from the paper's.
    """
    from . import profiles

    if not rows:
        raise ValueError("rows must hold at least one (what, here, paper) row")
    for row in rows:
        if len(row) != 3:
            raise ValueError(f"each row is (what, here, paper), got {row!r}")
    name = profiles.current() if profile is None else profile
    offset = profiles.seed_offset()
    head = f"**This page ran at** the `{name}` profile" + (
        f" with seeds shifted by `COLLAPSE_SEED={offset}`" if offset else ""
    ) + " (see *How to run this book* for the others):"
    table = ["| | this page | the paper |", "| --- | --- | --- |"]
    table += [f"| {what} | {here} | {paper} |" for what, here, paper in rows]
    return "\n".join([head, "", *table])
