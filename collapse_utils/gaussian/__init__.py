"""Chapter 1: recursive fitting of a single Gaussian, simulated and in theory.

**Generations.** The true distribution, N(0, 1) by default, is *not* a
generation: it is kept apart (:attr:`GaussianRun.true_mean`,
:attr:`GaussianRun.true_var`). Generation 0 is the Gaussian whose mean and
*unbiased* variance are estimated from ``n`` draws of the true distribution
(the *original data*); generation ``t + 1`` is the Gaussian fitted to the
training set that the data schedule (:mod:`collapse_utils.schedules`) builds
from samples of generation ``t``. So generation ``t`` is the result of
``t + 1`` fits, and the theory functions below count that way.

Two simulation methods, which agree in distribution (the tests check it):

``method="exact"``
    For a Gaussian, the fitted mean and variance of ``m`` points are
    *sufficient*: ``mean ~ N(mu, s2 / m)`` and ``(m - 1) var / s2 ~ chi2(m - 1)``,
    independently. Drawing these directly costs O(1) per run and generation,
    whatever ``n``. Schedules 1 (replace) and 3 (accumulate) and fresh
    retention are covered (pooled data are merged through their counts, means
    and sums of squares).
``method="sample"``
    Draws the actual points (O(n) per run and generation). Needed for
    schedule 2 (accumulate-subsample: subsampling a pool needs the points),
    for *fixed* retention and for non-Gaussian original data (functional
    expressivity error). Schedule 2 stores each run's pool once, in float32,
    and draws each training set by index.

``method="auto"`` (the default) takes ``exact`` where it applies.

**Retention** comes in the two kinds of :data:`collapse_utils.schedules.RETENTION_KINDS`:
``retained="fresh"`` (the default of this chapter) draws the retained points
afresh from the true distribution every generation (unlimited real data, which
keeps the exact method exact); ``retained="fixed"`` takes them, without
replacement, from the one original sample of generation 0, as chapters 2-4 do.

Layout
------
:mod:`.distributions`
    The true distributions (samplers): N(0, 1) and a two-mode mixture.
:mod:`.variates`
    Fast exact float32 normal and Gamma variates behind the exact method.
:mod:`.simulation`
    :class:`GaussianRun`, :func:`simulate` (both methods, the three schedules,
    both kinds of retention) and :func:`simulate_sizes`.
:mod:`.measures`
    Tail mass, squared Wasserstein-2 distance, the share of collapsed runs.
:mod:`.theory`
    Exact moments of the recursion, the paper's first-order formula, sample-size rules.
:mod:`.categorical`
    Resampling a categorical distribution (a Wright-Fisher chain).
:mod:`.sentences`
    The chapter's computed sentences.
:mod:`.plots`
    :func:`plot_collapse`, the function behind the slider, and the time-limited simulation.

Every public name is importable from the package itself (``gaussian.simulate``).
"""

from .categorical import (
    CategoricalRun,
    absorbing_gap,
    expected_absorption_time,
    loss_probability,
    simulate_categorical,
)
from .distributions import (
    Sampler,
    normal_score,
    standard_normal,
    two_mode_cdf,
    two_mode_mixture,
    two_mode_pdf,
)
from .measures import (
    _check_array,  # noqa: F401  (private, kept importable for tests)
    collapsed_fraction,
    first_crossing,
    largest_gap,
    max_z_level,
    median_tail_ratio,
    sample_generations,
    tail_mass,
    wasserstein2_sq,
    wasserstein2_sq_to,
)
from .plots import (
    DISPLAY_POINTS,
    SAMPLE_SECONDS_PER_GENERATION,
    SAMPLE_SECONDS_PER_POINT,
    affordable_runs,
    plot_collapse,
    simulate_within,
)
from .sentences import (
    Note,
    absorbing_note,
    absorption_sentence,
    carriers_sentence,
    early_collapse_events,
    early_collapse_sentence,
    early_collapse_title,
    estimator_note,
    estimator_sentence,
    expressivity_sentence,
    first_order_note,
    gap_explanation,
    gap_explanations,
    growth_note,
    growth_sentence,
    levels_off,
    mean_limit_sentence,
    paper_summary,
    retention_kinds_sentence,
    retention_memory_sentence,
    rise,
    schedules_sentence,
    scientific,
    takeaway,
    theorem_note,
    theorem_sentence,
    typical_sentence,
    within_error_sentence,
)
from .simulation import (
    ESTIMATORS,
    EXACT_BLOCK_VALUES,
    METHODS,
    POOL_VALUES,
    GaussianRun,
    _merge,  # noqa: F401  (private, kept importable for tests)
    simulate,
    simulate_sizes,
)
from .theory import (
    GROWTHS,
    Carriers,
    expectation_carriers,
    expected_var,
    halving_generation,
    expected_log_var,
    expected_std_factor,
    expected_w2_sq,
    expected_w2_sq_sizes,
    first_order_breakdown,
    fitted_mean_pdf,
    fitted_var_pdf,
    log_var_drift,
    sample_sizes,
    sd_log_var,
    var_of_mean,
    var_of_var,
    w2_first_order,
)

__all__ = [
    "absorbing_gap",
    "absorbing_note",
    "absorption_sentence",
    "affordable_runs",
    "Carriers",
    "carriers_sentence",
    "CategoricalRun",
    "collapsed_fraction",
    "DISPLAY_POINTS",
    "early_collapse_events",
    "early_collapse_sentence",
    "early_collapse_title",
    "estimator_note",
    "estimator_sentence",
    "ESTIMATORS",
    "EXACT_BLOCK_VALUES",
    "expectation_carriers",
    "expected_absorption_time",
    "expected_log_var",
    "expected_std_factor",
    "expected_var",
    "expected_w2_sq",
    "expected_w2_sq_sizes",
    "expressivity_sentence",
    "first_crossing",
    "first_order_breakdown",
    "first_order_note",
    "fitted_mean_pdf",
    "fitted_var_pdf",
    "gap_explanation",
    "gap_explanations",
    "GaussianRun",
    "growth_note",
    "growth_sentence",
    "GROWTHS",
    "halving_generation",
    "largest_gap",
    "levels_off",
    "log_var_drift",
    "loss_probability",
    "max_z_level",
    "mean_limit_sentence",
    "median_tail_ratio",
    "METHODS",
    "normal_score",
    "Note",
    "paper_summary",
    "plot_collapse",
    "POOL_VALUES",
    "retention_kinds_sentence",
    "retention_memory_sentence",
    "rise",
    "sample_generations",
    "SAMPLE_SECONDS_PER_GENERATION",
    "SAMPLE_SECONDS_PER_POINT",
    "sample_sizes",
    "Sampler",
    "schedules_sentence",
    "scientific",
    "sd_log_var",
    "simulate",
    "simulate_categorical",
    "simulate_sizes",
    "simulate_within",
    "standard_normal",
    "tail_mass",
    "takeaway",
    "theorem_note",
    "theorem_sentence",
    "two_mode_cdf",
    "two_mode_mixture",
    "two_mode_pdf",
    "typical_sentence",
    "var_of_mean",
    "var_of_var",
    "w2_first_order",
    "wasserstein2_sq",
    "wasserstein2_sq_to",
    "within_error_sentence",
]
