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
    ) + " (see [How to run this book](../book/how-to-run.md) for the others):"
    table = ["| | this page | the paper |", "| --- | --- | --- |"]
    table += [f"| {what} | {here} | {paper} |" for what, here, paper in rows]
    return "\n".join([head, "", *table])


# ----------------------------------------------------------------- numbers for readers
def number(x: float, digits: int = 1, signed: bool = False) -> str:
    """``x`` rounded to ``digits`` decimals for a sentence, never a negative zero.

    ``number(-0.004, 2)`` is ``"0.00"``, not ``"-0.00"``; with ``signed`` a
    positive value gets a ``+`` and a value that rounds to zero gets no sign
    (``"+1.5"``, ``"-1.5"``, ``"0.0"``). Thousands are grouped (``"12,345.0"``).
    NaN is written ``"n/a"``.
    """
    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits!r}")
    x = float(x)
    if x != x:
        return "n/a"
    rounded = round(x, digits)
    if rounded == 0:
        rounded = 0.0  # drops the sign of -0.0
    text = f"{rounded:,.{digits}f}"
    return f"+{text}" if signed and rounded > 0 else text


def percent(share: float, digits: int = 0, signed: bool = False) -> str:
    """A share (0.123) as a percentage for a sentence (``"12%"``), never ``"-0%"``.

    With ``signed``, changes read ``"+12%"`` or ``"-12%"`` and a change that
    rounds to zero reads ``"0%"``. A nonzero share that rounds to zero is written
    ``"<0.5%"`` (or ``">-0.5%"``, at ``digits=0``), so that a small effect is not
    printed as none.
    """
    value = 100 * float(share)
    if value != value:
        return "n/a"
    text = number(value, digits, signed)
    if value != 0 and round(value, digits) == 0:
        bound = number(0.5 * 10 ** -digits, digits + 1)
        return f"<{bound}%" if value > 0 else f">-{bound}%"
    return f"{text}%"


# --------------------------------------------------------------- the paper, beside the run
VERDICTS = {
    "agrees": "agrees",
    "partly": "agrees in part",
    "differs": "does not agree",
}


def paper_note(subject: str, verdict: str, text: str) -> str:
    """The book's one "against the paper" note, as Markdown (show it with :func:`show`).

    ``subject`` names what is compared (``"the paper's Figure 7"``); ``verdict`` is
    ``"agrees"``, ``"partly"`` or ``"differs"`` and must come from a computed
    check, never be typed in; ``text`` says what was found and, where the run does
    not agree, the measured reason (scale, data, decoding). Every chapter uses
    this one helper, so the notes look the same everywhere: a quotation block
    that opens with **Against the paper**.
    """
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    if not subject.strip() or not text.strip():
        raise ValueError("subject and text must be non-empty")
    body = text.strip()
    return f"> **Against the paper** ({subject}): this run **{VERDICTS[verdict]}**. {body}"


def verdict_of(checks: Sequence[bool]) -> str:
    """``"agrees"`` when every check holds, ``"differs"`` when none does, else ``"partly"``."""
    checks = [bool(c) for c in checks]
    if not checks:
        raise ValueError("checks must hold at least one result")
    if all(checks):
        return "agrees"
    return "differs" if not any(checks) else "partly"


def findings(items: Sequence[str], lead: str = "**What this run found.**") -> str:
    """A chapter's computed summary: ``lead`` and one bullet per computed finding, as Markdown."""
    items = [str(i).strip() for i in items if str(i).strip()]
    if not items:
        raise ValueError("items must hold at least one finding")
    return "\n".join([lead, "", *[f"- {i}" for i in items]])
