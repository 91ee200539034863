"""Chapter 2: recursive fitting of Gaussian mixture models, all runs at once.

Two original distributions: the book's two well-separated 2-D Gaussians
(:func:`two_gaussians`, our reading of the paper's "two artificially-generated
Gaussians") and the authors' single 2-D standard-normal blob
(:func:`single_blob`, what their notebook ``Normals_GMM_experiments.ipynb``
draws), to which two components are fitted. **Generation 0** is the mixture
fitted to ``n`` samples of it (the original data); **generation t + 1** is fitted to the
training set that the data schedule (:class:`collapse_utils.schedules.DataSchedule`)
builds from ``n`` samples of generation ``t`` (and, with retention, part of
the original data). The true distribution is not a generation; it is kept
separately (``GMMRuns.original``).

Layout
------
:mod:`.mixture`
    :class:`Mixture` (one mixture), :class:`MixtureBatch` (one per run, every
    method vectorised over runs) and the closed-form squared L2 distance.
:mod:`.em`
    scikit-learn's ``GaussianMixture`` estimator (full covariances,
    ``reg_covar``, ``tol`` on the change of the per-sample mean
    log-likelihood, ``max_iter``), batched over runs with per-run convergence,
    initialised by k-means (scikit-learn's default) or warm-started from the
    previous generation; and the reference path through scikit-learn itself.
:mod:`.measures`
    :class:`Measure`: what is recorded about every generation's mixtures.
:mod:`.recursion`
    :func:`simulate` (many runs of the recursion, ``backend="batched"`` by
    default or ``"sklearn"``) and the weights' Wright-Fisher chain.
:mod:`.sentences`
    The sentences the chapter computes from its runs, the checks of the
    paper's Figure 7 claims and the chapter's findings.
:mod:`.plots`
    Figures (the paper's Figure 7 on either setup, :func:`plot_figure7`), and
    :func:`plot_final_generation`, the function behind the slider.

Fitting
-------
By default (``init="warm"``) each generation's EM starts from the previous
generation's mixture: the data changed only by one round of resampling, so EM
needs few iterations, and the components keep their identity from one
generation to the next (how much faster this is, the chapter measures).
``init="fresh"`` runs k-means first at every generation, as the authors'
notebook does with scikit-learn (the chapter runs the authors' single blob
so). A warm start whose previous mixture has a component that expects less
than one sample (``weight * n < 1``) is replaced by a fresh one, and a fit
that fails numerically is retried from k-means with a larger ``reg_covar``, so
degenerate fits never crash a run.

Sampling does not use scikit-learn's ``sample`` (which has its own random
state): every generation's samples come from the run's numpy generator, so a
whole simulation is reproducible from its seed, and the two backends see the
same data randomness.

Measures
--------
:class:`Measure` computes, for every measured generation's mixtures ``q_t``:

``l2_sq``
    the squared L2 distance ``int (q_t - q_0)^2 dx`` to the run's generation
    0 in closed form (the authors' measure of drift; :func:`l2_sq`);
``l2_sq_true``
    the same distance to the true original density ``p``;
``heldout_loglik``
    the mean log-likelihood under ``q_t`` of a fixed held-out sample of the
    original distribution;
``tail_loglik``
    the same for a fixed held-out sample of the original's *rare events*:
    original points that fall in the tail region ``T`` defined below;
``total_var``
    the total variance (trace of the covariance) of ``q_t``;
``mean_distance``
    the distance between the means of the two heaviest components;
``valley``
    the lowest density of ``q_t`` on the segment between those two means,
    relative to the lower of the densities at the two means (at most 1: one
    mode along that line; near 0: two separated clusters);
``weights``, ``min_weight``
    the mixture weights, sorted from largest to smallest, and the smallest;
``tail_mass``
    the mass that ``q_t`` assigns to the *tails of the original*: the region
    ``T = {x : p(x) < lambda}`` where ``lambda`` is chosen so that
    ``P_p(T) = tail_alpha`` (1% by default; :func:`tail_level`). It is
    estimated by quasi-Monte Carlo with common random numbers: a fixed,
    scrambled Sobol base sample (a uniform for the component and standard
    normals for the point) is pushed through every ``q_t``, so the estimate
    changes only when the model does. (The chapter compares it with an
    estimate from a 32 times larger base sample.)
"""

from .em import BACKENDS, GMM_DEFAULTS, INITS
from .measures import METRICS, Measure, tail_level
from .mixture import Mixture, MixtureBatch, gaussian_overlaps, l2_distance, l2_sq, single_blob, two_gaussians
from .plots import (
    BLOB_LIMITS,
    DEFAULT_LIMITS,
    density_grid,
    magnified_components,
    plot_figure7,
    plot_final_generation,
    plot_measures,
    plot_mixture,
    plot_setups,
    zoom_limits,
)
from .recursion import (
    PAPER_SNAPSHOTS,
    SCHEDULE_NAMES,
    GMMRuns,
    absorbed_fraction,
    chain_band,
    fit_mixture,
    schedule_name,
    simulate,
    wright_fisher_absorption_cdf,
)
from .sentences import (
    MERGED_DISTANCE,
    SPLIT_LEVEL,
    absorption_sentence,
    chain_sentence,
    components_sentence,
    drift_sentence,
    estimate_check_sentence,
    figure7_checks,
    figure7_note,
    figure7_verdict,
    findings,
    fit_sentence,
    last_generation_sentence,
    merge_times,
    retention_sentence,
    schedules_sentence,
    setups_sentence,
    split_times,
    tail_rise_sentence,
    takeaway,
    warm_fresh_sentence,
)

__all__ = [
    "MERGED_DISTANCE",
    "SPLIT_LEVEL",
    "BACKENDS",
    "BLOB_LIMITS",
    "DEFAULT_LIMITS",
    "GMM_DEFAULTS",
    "INITS",
    "METRICS",
    "PAPER_SNAPSHOTS",
    "SCHEDULE_NAMES",
    "absorbed_fraction",
    "absorption_sentence",
    "chain_band",
    "chain_sentence",
    "components_sentence",
    "density_grid",
    "drift_sentence",
    "estimate_check_sentence",
    "figure7_checks",
    "figure7_note",
    "figure7_verdict",
    "findings",
    "fit_mixture",
    "fit_sentence",
    "gaussian_overlaps",
    "GMMRuns",
    "l2_distance",
    "l2_sq",
    "last_generation_sentence",
    "magnified_components",
    "Measure",
    "merge_times",
    "Mixture",
    "MixtureBatch",
    "plot_figure7",
    "plot_final_generation",
    "plot_measures",
    "plot_mixture",
    "plot_setups",
    "retention_sentence",
    "schedule_name",
    "schedules_sentence",
    "setups_sentence",
    "simulate",
    "single_blob",
    "split_times",
    "tail_level",
    "tail_rise_sentence",
    "takeaway",
    "two_gaussians",
    "warm_fresh_sentence",
    "wright_fisher_absorption_cdf",
    "zoom_limits",
]
