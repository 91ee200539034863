"""What chapter 5 compares: the strategies, the share of real data, the families, and their checks.

Every family (Gaussian, Gaussian mixture, VAE, small language model) runs the
same strategies on the same axes. **Generation 0** is the model fitted to the
original (real) data; **generation t + 1** is fitted to the training set that the
strategy builds from generation ``t``'s samples (and, with a share of real data,
real data). The truth is not a generation.

The strategies (:data:`STRATEGIES`), in the book's words:

``"replace"``
    only the latest model's samples (the paper's recursion);
``"accumulate"``
    the original data and every generation's samples, all kept (Gerstgrasser et
    al. 2024): the training set grows by ``n`` a generation;
``"accumulate-subsample"``
    the same pool, subsampled to ``n`` points each generation (Kazdan et al. 2024);
``"fresh"``
    a share ``r`` of each generation's ``n`` points is new real data, drawn from
    the truth (or the real pool) every generation, the rest the latest model's samples;
``"fixed"``
    the same share taken from the one fixed original sample, a new subset each
    generation (no new real information ever arrives);
``"select"``
    a verifier keeps only plausible samples: for every sample the training set
    needs, the latest model writes :data:`CANDIDATES` candidates and the one that
    the generation-0 model finds likeliest is kept (the language model's
    ``select = 1 / CANDIDATES``).

The first three and ``"select"`` use no real data after generation 0 (share 0);
``"fresh"`` and ``"fixed"`` take a share in ``[0, 1]`` (share 0 is ``"replace"``).
All of them are built on :class:`collapse_utils.schedules.DataSchedule`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import validate
from ..schedules import SCHEDULE_NAMES

#: The strategies, in the order the chapter shows them.
STRATEGIES: tuple[str, ...] = ("replace", "accumulate", "accumulate-subsample", "fresh", "fixed", "select")
#: The strategies that take a share of real data.
SHARED: tuple[str, ...] = ("fresh", "fixed")
#: The model families, in the order of the book's chapters.
FAMILIES: tuple[str, ...] = ("gaussian", "gmm", "vae", "llm")
#: The families' names for readers.
FAMILY_NAMES: dict[str, str] = {
    "gaussian": "Gaussian",
    "gmm": "Gaussian mixture",
    "vae": "VAE",
    "llm": "language model",
}
#: Candidates written per kept sample by ``"select"`` (best of this many under the generation-0 model).
CANDIDATES = 2
#: The data schedule (``approach``) of each strategy.
APPROACH: dict[str, int] = {
    "replace": 1,
    "accumulate": 3,
    "accumulate-subsample": 2,
    "fresh": 1,
    "fixed": 1,
    "select": 1,
}
assert {SCHEDULE_NAMES[APPROACH[s]] for s in ("replace", "accumulate", "accumulate-subsample")} == {
    "replace", "accumulate", "accumulate-subsample"
}


def check_strategy(strategy: str) -> str:
    """A strategy's name (one of :data:`STRATEGIES`), or ``ValueError`` naming the choices."""
    return validate.choice("strategy", strategy, STRATEGIES)


def check_family(family: str) -> str:
    """A family's name (one of :data:`FAMILIES`), or ``ValueError`` naming the choices."""
    return validate.choice("family", family, FAMILIES)


def check_share(share: float, name: str = "share") -> float:
    """A share of real data: a number in ``[0, 1]``, or ``ValueError`` naming the range."""
    return validate.probability(name, share)


def check_shares(shares, name: str = "shares") -> tuple[float, ...]:
    """A sorted grid of distinct shares in ``[0, 1]`` that holds 0 (replace) and at least one more."""
    if isinstance(shares, (str, bytes)) or not hasattr(shares, "__iter__"):
        raise ValueError(f"{name} must be a sequence of shares in [0, 1], got {shares!r}")
    values = tuple(check_share(s, f"{name}[{i}]") for i, s in enumerate(shares))
    if len(set(values)) != len(values) or list(values) != sorted(values):
        raise ValueError(f"{name} must be increasing and distinct, got {values!r}")
    if len(values) < 2 or values[0] != 0.0:
        raise ValueError(f"{name} must start at 0 (replace) and hold at least one more share, got {values!r}")
    return values


@dataclass(frozen=True)
class Strategy:
    """One strategy at one share of real data: how every generation's training set is built.

    ``share`` is the share of each generation's new data that is real (0 for
    every strategy but ``"fresh"`` and ``"fixed"``). Build it with :func:`strategy`.
    """

    name: str
    share: float = 0.0

    def __post_init__(self) -> None:
        check_strategy(self.name)
        share = check_share(self.share)
        if self.name not in SHARED and share != 0.0:
            raise ValueError(
                f"share applies to the strategies {', '.join(SHARED)} only; {self.name!r} takes share 0, got {share!r}"
            )
        object.__setattr__(self, "share", share)

    @property
    def approach(self) -> int:
        """The data schedule: 1 replace, 2 accumulate-subsample, 3 accumulate."""
        return APPROACH[self.name]

    @property
    def retention(self) -> float:
        """The share of each generation's new data that is real (the schedules' ``retention``)."""
        return self.share

    @property
    def retained(self) -> str:
        """The kind of retained real data: ``"fresh"`` or ``"fixed"`` (``"fixed"`` where none is retained)."""
        return "fresh" if self.name == "fresh" else "fixed"

    @property
    def candidates(self) -> int:
        """Candidates written per kept sample: :data:`CANDIDATES` under ``"select"``, else 1."""
        return CANDIDATES if self.name == "select" else 1

    @property
    def key(self) -> str:
        """A stable name: ``"replace"``, ``"fresh 0.25"`` (used for seeds and folders)."""
        return f"{self.name} {self.share:g}" if self.name in SHARED else self.name

    @property
    def label(self) -> str:
        """The strategy in readers' words: ``"fresh real data, 25%"``, ``"select (best of 2)"``."""
        if self.name in SHARED:
            return f"{self.name} real data, {100 * self.share:g}%"
        if self.name == "select":
            return f"select (best of {CANDIDATES})"
        return self.name

    def seed_key(self) -> int:
        """A stable integer per strategy and share (runs of different strategies draw independent numbers)."""
        return 10_000 * STRATEGIES.index(self.name) + int(round(1000 * self.share))


def strategy(name: str, share: float = 0.0) -> Strategy:
    """The strategy ``name`` at ``share``; ``"fresh"``/``"fixed"`` at share 0 are ``"replace"``."""
    name = check_strategy(name)
    share = check_share(share)
    if name in SHARED and share == 0.0:
        return Strategy("replace")
    return Strategy(name, share)


def lanes(shares, compare_share: float) -> list[Strategy]:
    """Every strategy the chapter runs for one family: the four without a share, and fresh and fixed at each share.

    ``shares`` is the phase diagram's grid (it starts at 0: replace) and must
    hold ``compare_share``, the share at which fresh and fixed are compared with
    the other strategies. Each strategy appears once.
    """
    grid = check_shares(shares)
    compare_share = check_share(compare_share, "compare_share")
    if compare_share not in grid or compare_share == 0.0:
        raise ValueError(f"compare_share must be a nonzero share of the grid {grid}, got {compare_share!r}")
    out = [Strategy(name) for name in STRATEGIES if name not in SHARED]
    out += [Strategy(kind, s) for kind in SHARED for s in grid if s > 0]
    return out
