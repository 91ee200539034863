"""One family's distances under every strategy, normalised, and what the chapter reads off them.

:class:`FamilyResult` holds, for one family, every strategy's distances from the
truth, ``(runs, generations + 1)`` (generation 0 first). The chapter reads them on
one scale: the **ratio to generation 0**, every distance divided by the median over
runs of the generation-0 distance (the same reference for every strategy of the
family, :attr:`FamilyResult.reference`). Generation 0 is the model fitted to the
original (real) data; the truth is not a generation.

The band: a strategy **stays within the band** when its median ratio is at most
``band`` at every generation (for runs of more than :data:`SMOOTH_ABOVE` generations the
median ratio is first averaged over windows of ``generations / SMOOTH_ABOVE`` generations,
so that the noise of one generation's median cannot decide); it is **still rising**
when its median ratio grew by more than ``rise`` (relative) over the second half of
the generations. The **cheapest share** of a kind (fresh or fixed) is the smallest
share of the grid at which that kind stays within the band. :meth:`FamilyResult.average`
is the median ratio averaged over generations 1 to the last: how far a strategy
was from the truth along the way, not only at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .. import validate
from .strategies import FAMILY_NAMES, SHARED, STRATEGIES, Strategy, check_family, check_share, check_shares, strategy

#: The default band: a distance at most this many times generation 0's.
BAND = 2.0
#: Runs of more generations than this judge the band on the median ratio averaged over windows of
#: ``generations // SMOOTH_ABOVE`` generations.
SMOOTH_ABOVE = 20
#: A median ratio that grew by more than this (relative) over the second half of the generations is still rising.
RISE = 0.1


def check_band(band: float) -> float:
    """A band: a ratio to generation 0 greater than 1."""
    return validate.real("band", band, 1.0, low_open=True)


@dataclass
class FamilyResult:
    """Every strategy's distances from the truth for one family.

    Parameters
    ----------
    family:
        One of :data:`.strategies.FAMILIES`.
    measure:
        The distance in readers' words (``"squared Wasserstein-2 distance to the truth"``).
    distances:
        ``{Strategy: (runs, generations + 1)}``; every strategy has the same
        generations (the number of runs may differ between strategies).
    shares:
        The phase diagram's grid of shares (starts at 0: replace); fresh and fixed
        must be present at every nonzero share.
    compare_share:
        The share at which fresh and fixed are compared with the other strategies.
    scale:
        What ran, in readers' words (for captions).
    extra:
        Family-specific results (the Gaussian's exact theory, say).
    """

    family: str
    measure: str
    distances: dict[Strategy, np.ndarray]
    shares: tuple[float, ...]
    compare_share: float
    scale: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.family = check_family(self.family)
        self.shares = check_shares(self.shares)
        self.compare_share = check_share(self.compare_share, "compare_share")
        if self.compare_share not in self.shares or self.compare_share == 0:
            raise ValueError(f"compare_share must be a nonzero share of {self.shares}, got {self.compare_share!r}")
        arrays = {}
        lengths = set()
        for s, d in self.distances.items():
            if not isinstance(s, Strategy):
                raise ValueError(f"distances must be keyed by Strategy, got {s!r}")
            a = np.asarray(d, dtype=float)
            if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 2:
                raise ValueError(f"distances[{s.key!r}] must be (runs, generations + 1) with at least 2 columns, got {a.shape}")
            if np.isnan(a).any() or (a < 0).any():
                raise ValueError(f"distances[{s.key!r}] must be non-negative numbers (no NaN)")
            lengths.add(a.shape[1])
            arrays[s] = a
        if len(lengths) != 1:
            raise ValueError(f"every strategy must have the same generations, got lengths {sorted(lengths)}")
        needed = [Strategy(n) for n in STRATEGIES if n not in SHARED] + [
            Strategy(k, s) for k in SHARED for s in self.shares if s > 0
        ]
        missing = [s.key for s in needed if s not in arrays]
        if missing:
            raise ValueError(f"distances lack the strategies {missing}")
        self.distances = arrays
        start = np.concatenate([a[:, 0] for a in arrays.values()])
        self.reference = float(np.median(start))
        if not self.reference > 0:
            raise ValueError("the median generation-0 distance must be positive to normalise by it")

    # ------------------------------------------------------------------ access
    @property
    def name(self) -> str:
        """The family in readers' words."""
        return FAMILY_NAMES[self.family]

    @property
    def generations(self) -> int:
        """The last generation."""
        return next(iter(self.distances.values())).shape[1] - 1

    @property
    def generation(self) -> np.ndarray:
        return np.arange(self.generations + 1)

    def get(self, name: str, share: float = 0.0) -> Strategy:
        """The strategy ``name`` at ``share`` (``"fresh"``/``"fixed"`` at 0 are replace), checked to have run."""
        s = strategy(name, share)
        if s not in self.distances:
            raise ValueError(f"strategy {s.key!r} did not run for the {self.name}; shares: {self.shares}")
        return s

    def compared(self) -> list[Strategy]:
        """The strategies of the main comparison: the four without a share, fresh and fixed at ``compare_share``."""
        return [self.get(n, self.compare_share if n in SHARED else 0.0) for n in STRATEGIES]

    def ratio(self, s: Strategy) -> np.ndarray:
        """Distances divided by the reference, ``(runs, generations + 1)``."""
        return self.distances[s] / self.reference

    def median(self, s: Strategy) -> np.ndarray:
        """Median ratio over runs at every generation."""
        return np.median(self.ratio(s), axis=0)

    def final(self, s: Strategy) -> float:
        """Median ratio at the last generation."""
        return float(self.median(s)[-1])

    def smoothed(self, s: Strategy) -> np.ndarray:
        """The median ratio, averaged over windows of ``generations // SMOOTH_ABOVE`` generations (generation 0
        apart); the median itself for runs of at most :data:`SMOOTH_ABOVE` generations."""
        m = self.median(s)
        width = max(1, self.generations // SMOOTH_ABOVE)
        if width == 1:
            return m
        later = m[1:]
        kernel = np.ones(width) / width
        return np.concatenate([m[:1], np.convolve(later, kernel, mode="valid")])

    def within_band(self, s: Strategy, band: float = BAND) -> bool:
        """Whether the (smoothed, :meth:`smoothed`) median ratio stays at or below ``band`` at every generation."""
        return bool(np.all(self.smoothed(s) <= check_band(band)))

    def late(self, s: Strategy) -> np.ndarray:
        """Every run's ratio averaged over the second half of the generations (the last one alone for one generation)."""
        r = self.ratio(s)
        start = max(1, (self.generations + 1) // 2)
        return r[:, start:].mean(axis=1)

    def average(self, s: Strategy) -> float:
        """The median ratio averaged over generations 1 to the last."""
        return float(np.mean(self.median(s)[1:]))

    def rising(self, s: Strategy, rise: float = RISE) -> bool:
        """Whether the median ratio grew by more than ``rise`` (relative) over the second half of the generations."""
        rise = validate.real("rise", rise, 0.0)
        m = self.median(s)
        mid = m[self.generations // 2]
        return bool(m[-1] > (1.0 + rise) * mid)

    def phase(self, kind: str) -> np.ndarray:
        """Median ratio for every share of the grid (rows) and generation (columns), for ``"fresh"`` or ``"fixed"``."""
        kind = validate.choice("kind", kind, SHARED)
        return np.stack([self.median(self.get(kind, s)) for s in self.shares])

    def cheapest_share(self, kind: str, band: float = BAND) -> float | None:
        """The smallest share of the grid at which ``kind`` stays within the band (``None``: no share does)."""
        kind = validate.choice("kind", kind, SHARED)
        for s in self.shares:
            if self.within_band(self.get(kind, s), band):
                return s
        return None

    def runs(self, s: Strategy) -> int:
        return self.distances[s].shape[0]


def check_results(results: Any) -> list[FamilyResult]:
    """A non-empty sequence (or mapping's values) of :class:`FamilyResult`, one per family."""
    items = list(results.values()) if isinstance(results, Mapping) else list(results)
    if not items or not all(isinstance(r, FamilyResult) for r in items):
        raise ValueError("results must be a non-empty sequence of FamilyResult")
    families = [r.family for r in items]
    if len(set(families)) != len(families):
        raise ValueError(f"results must hold one FamilyResult per family, got {families}")
    return items


def _cell(result: FamilyResult, s: Strategy, band: float, rise: float) -> str:
    from ..prose import number

    value = result.final(s)
    where = "within the band" if result.within_band(s, band) else "outside the band"
    trend = ", still rising" if result.rising(s, rise) else ""
    digits = 2 if value < 10 else 0
    return f"{number(value, digits)} ({where}{trend})"


def summary_table(results: Sequence[FamilyResult], band: float = BAND, rise: float = RISE):
    """The chapter's summary: family by strategy, the last generation's median ratio, band and trend.

    One row per family; a column per compared strategy (its median distance
    after the last generation, as a multiple of generation 0's, whether it stayed
    within the band at every generation and whether it was still rising at the
    end) and, for fresh and fixed real data, the cheapest share of the grid that
    stayed within the band. A pandas DataFrame without an index column to show.
    """
    import pandas as pd

    items = check_results(results)
    band = check_band(band)
    rows = []
    for r in items:
        row: dict[str, str] = {"family": r.name}
        for s in r.compared():
            row[s.label if s.name not in SHARED else f"{s.name} real data, {100 * r.compare_share:g}%"] = _cell(
                r, s, band, rise
            )
        for kind in SHARED:
            cheapest = r.cheapest_share(kind, band)
            row[f"cheapest share, {kind}"] = "none of the grid" if cheapest is None else f"{100 * cheapest:g}%"
        row["generations"] = str(r.generations)
        rows.append(row)
    return pd.DataFrame(rows)
