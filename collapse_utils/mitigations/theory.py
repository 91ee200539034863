"""Theory beside the runs: exact results for the Gaussian, the conditions of follow-up work, and computed notes.

**The Gaussian, exactly.** For chapter 1's recursion (truth N(0, 1), ``n`` points a
generation, mean and unbiased variance fitted) the expected squared error of the
fitted mean, ``V_t = E[mu_t^2]``, and the expected fitted variance,
``S_t = E[sigma_t^2]``, follow a linear recursion under every strategy that keeps a
share ``r`` of real data (``k = round(r n)`` real points and ``m = n - k`` samples of
generation ``t - 1``; derived here):

* fresh real data: ``V_t = k/n^2 + (m/n)^2 V_{t-1} + m S_{t-1}/n^2``;
* fixed real data (a new subset of the one original sample every generation):
  ``V_t = 1/n + D_t`` with ``D_t = k (n - k)/n^3 + (m/n)^2 D_{t-1} + m S_{t-1}/n^2``, ``D_0 = 0``
  (the original sample's own error never averages away);
* both: ``S_t = (k + m (S_{t-1} + V_{t-1}) - n V_t) / (n - 1)``;
* accumulate (the whole pool, ``N_t = n (t + 1)`` points): ``V_t = V_{t-1} + S_{t-1} / (n (t + 1)^2)`` and
  ``S_t = S_{t-1} (1 - n / (N_t (N_t - 1)))``: ``V_t <= (pi^2/6) V_0``, the Gaussian
  case of Gerstgrasser et al.'s bound;

with ``V_0 = 1/n`` and ``S_0 = 1``. Replace is share 0 (``V_t = (t + 1)/n``, ``S_t = 1``).
:func:`mean_error` computes them; :func:`exact_boundary` reads off where ``V_t / V_0``
leaves a band.

**Bertrand et al. 2024** (Theorem 1): retraining on real data plus a ratio ``lambda``
of generated data is stable near the optimum ``theta*`` when
``lambda (1 + L eps / alpha) < 1/2``, where ``eps`` measures how far the best model of
the family is from the truth and ``L``, ``alpha`` are smoothness and strong-concavity
constants of the likelihood. For a family that contains the truth (``eps = 0``: the
Gaussian, a two-component mixture of a two-component truth) the condition is
``lambda < 1/2``, a share of real data ``1 / (1 + lambda) > 2/3``
(:func:`bertrand_share`): a sufficient condition, not a necessary one.
"""

from __future__ import annotations

import numpy as np

from .. import validate
from ..schedules import n_retained
from .strategies import SHARED, check_share

#: Gerstgrasser et al.'s factor: under accumulate the error stays below pi^2/6 times generation 0's.
GERSTGRASSER_FACTOR = float(np.pi**2 / 6)


def mean_error(n: int, generations: int, kind: str, share: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``(E[mu_t^2], E[sigma_t^2])`` for ``t = 0..generations`` (see the module docstring).

    ``kind`` is ``"replace"``, ``"accumulate"``, ``"fresh"`` or ``"fixed"``
    (``share`` of real data for the last two; share 0 is replace).
    """
    n = validate.integer("n", n, 2)
    generations = validate.integer("generations", generations, 0)
    kind = validate.choice("kind", kind, ("replace", "accumulate", *SHARED))
    share = check_share(share)
    if kind not in SHARED and share:
        raise ValueError(f"share applies to fresh and fixed only, got share={share!r} for {kind!r}")
    k = n_retained(n, share) if kind in SHARED else 0
    m = n - k
    V = np.empty(generations + 1)
    S = np.empty(generations + 1)
    V[0], S[0] = 1.0 / n, 1.0
    D = 0.0
    for t in range(1, generations + 1):
        if kind == "accumulate":
            N = n * (t + 1)
            V[t] = V[t - 1] + S[t - 1] / (n * (t + 1) ** 2)
            S[t] = S[t - 1] * (1.0 - n / (N * (N - 1.0)))
            continue
        if kind == "fixed":
            D = k * (n - k) / n**3 + (m / n) ** 2 * D + m * S[t - 1] / n**2
            V[t] = 1.0 / n + D
        else:
            V[t] = k / n**2 + (m / n) ** 2 * V[t - 1] + m * S[t - 1] / n**2
        S[t] = (k + m * (S[t - 1] + V[t - 1]) - n * V[t]) / (n - 1)
    return V, S


def exact_boundary(n: int, generations: int, kind: str, shares, band: float) -> np.ndarray:
    """For each share, the first generation whose exact ``E[mu_t^2] / E[mu_0^2]`` exceeds ``band`` (NaN: none).

    ``kind`` is ``"fresh"`` or ``"fixed"`` (share 0 is replace).
    """
    band = validate.real("band", band, 1.0, low_open=True)
    kind = validate.choice("kind", kind, SHARED)
    out = np.full(len(shares), np.nan)
    for i, s in enumerate(shares):
        V, _ = mean_error(n, generations, kind if s > 0 else "replace", s)
        over = np.flatnonzero(V / V[0] > band)
        if over.size:
            out[i] = over[0]
    return out


def exact_cheapest_share(n: int, generations: int, kind: str, band: float, tol: float = 1e-3) -> float | None:
    """The smallest share (to ``tol``) whose exact mean-error ratio stays within ``band`` up to ``generations``.

    Found by bisection (a larger share of real data never makes the ratio larger);
    ``None`` if even share 1 leaves the band.
    """
    band = validate.real("band", band, 1.0, low_open=True)
    tol = validate.real("tol", tol, 0.0, 1.0, low_open=True)
    kind = validate.choice("kind", kind, SHARED)

    def inside(s: float) -> bool:
        V, _ = mean_error(n, generations, kind if s > 0 else "replace", s)
        return bool(np.all(V / V[0] <= band))

    if not inside(1.0):
        return None
    if inside(0.0):
        return 0.0
    lo, hi = 0.0, 1.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if inside(mid) else (mid, hi)
    return hi


def bertrand_share(eps_term: float = 0.0) -> float:
    """The share of real data above which Bertrand et al.'s condition ``lambda (1 + L eps / alpha) < 1/2`` holds.

    ``eps_term`` is ``L eps / alpha`` (0 for a family that contains the truth).
    ``lambda`` is the ratio of generated to real data, so the share is
    ``1 / (1 + lambda)`` with ``lambda = 1 / (2 (1 + eps_term))``.
    """
    eps_term = validate.real("eps_term", eps_term, 0.0)
    lam = 0.5 / (1.0 + eps_term)
    return 1.0 / (1.0 + lam)
