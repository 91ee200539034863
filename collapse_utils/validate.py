"""One set of argument validators, used by every module of the package.

Each validator checks one parameter *before any work is done* and either
returns the value in a canonical type or raises :class:`ValueError` with a
message that names the parameter and its accepted range, for example::

    >>> integer("runs", 0, minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: runs must be an integer >= 1, got 0

Rules shared by all validators:

* ``bool`` is never a number (``runs=True`` is rejected, not taken as 1);
* numpy scalars are accepted where their Python counterparts are
  (``np.int64(3)``, ``np.float32(1e-3)``) and returned as Python ``int``/``float``;
* floats must be finite unless ``allow_inf=True``; NaN is always rejected;
* strings are never numbers (``"3"`` is rejected).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Sequence, TypeVar

import numpy as np

T = TypeVar("T")

__all__ = [
    "integer",
    "real",
    "probability",
    "choice",
    "boolean",
    "integer_list",
    "range_text",
]


def _bound(value: float) -> str:
    """A bound as written: integers in full (``1000003``), reals in short form (``0.001``)."""
    return str(value) if isinstance(value, (numbers.Integral, np.integer)) else f"{value:g}"


def range_text(minimum: float | None, maximum: float | None, low_open: bool = False, high_open: bool = False) -> str:
    """Human-readable range, such as ``">= 1"``, ``"in [0, 1]"`` or ``"in (0, inf)"``."""
    if minimum is None and maximum is None:
        return "any value"
    if maximum is None:
        return f"{'>' if low_open else '>='} {_bound(minimum)}"
    if minimum is None:
        return f"{'<' if high_open else '<='} {_bound(maximum)}"
    return f"in {'(' if low_open else '['}{_bound(minimum)}, {_bound(maximum)}{')' if high_open else ']'}"


def _is_int(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """Validate an integer parameter (``minimum <= value <= maximum``) and return it as ``int``.

    Integral floats (``3.0``) are rejected too: a parameter that counts things is
    given as an integer.
    """
    if not _is_int(value):
        raise ValueError(f"{name} must be an integer {range_text(minimum, maximum)}, got {value!r}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {range_text(minimum, maximum)}, got {value!r}")
    return value


def real(
    name: str,
    value: Any,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """Validate a real parameter and return it as ``float``.

    ``low_open``/``high_open`` exclude the bounds (``real("lr", x, 0, low_open=True)``
    means ``lr > 0``). Infinite values are rejected unless ``allow_inf``; NaN always.
    """
    what = f"{name} must be a {'' if allow_inf else 'finite '}number {range_text(minimum, maximum, low_open, high_open)}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise ValueError(f"{what}, got {value!r}")
    out = float(value)
    if math.isnan(out) or (math.isinf(out) and not allow_inf):
        raise ValueError(f"{what}, got {value!r}")
    if minimum is not None and (out < minimum or (low_open and out == minimum)):
        raise ValueError(f"{what}, got {value!r}")
    if maximum is not None and (out > maximum or (high_open and out == maximum)):
        raise ValueError(f"{what}, got {value!r}")
    return out


def probability(name: str, value: Any) -> float:
    """A fraction in ``[0, 1]``, returned as ``float``."""
    return real(name, value, 0.0, 1.0)


def choice(name: str, value: T, choices: Iterable[T]) -> T:
    """``value`` must be one of ``choices`` (compared with ``==``, bools never match numbers)."""
    options = list(choices)
    for option in options:
        if isinstance(value, (bool, np.bool_)) != isinstance(option, (bool, np.bool_)):
            continue
        try:
            if value == option:
                return option
        except Exception:  # noqa: BLE001 - unhashable or odd types simply do not match
            continue
    raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")


def boolean(name: str, value: Any) -> bool:
    """A flag: ``True`` or ``False`` (numpy booleans too), never ``0``/``1`` or a string."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def integer_list(
    name: str, values: Any, minimum: int | None = None, maximum: int | None = None
) -> list[int]:
    """A sequence of integers in range (for example generation numbers to keep).

    A bare integer is rejected with a message that says to wrap it in a list,
    since ``keep=5`` is ambiguous (generation 5, or 5 generations?).
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray, set, frozenset)):
        raise ValueError(
            f"{name} must be a sequence of integers {range_text(minimum, maximum)} "
            f"(for one value write [{values!r}]), got {values!r}"
        )
    return [integer(f"{name}[{i}]", v, minimum, maximum) for i, v in enumerate(values)]
