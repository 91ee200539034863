# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Gaussian mixture models
#
# A single Gaussian, as in chapter 1, has one bump and nothing else to lose but its width. The
# paper's second experiment {cite}`shumailov2023curse,shumailov2024nature` makes the model a little
# richer: a **mixture of two Gaussians**, fitted by expectation-maximisation (EM)
# {cite}`dempster1977em`, to data that really do come from two well-separated Gaussians. Now the model
# *can* represent the data exactly, every generation is fitted by maximum likelihood, and yet the
# recursion forgets: first the tails, then the width of each mode, and in the end one of the two
# modes altogether.
#
# The setup is the paper's: 2-D data, so that we can look at them; $N = 1000$ samples per generation;
# each generation fits a two-component mixture with the estimator of scikit-learn's `GaussianMixture`
# {cite}`pedregosa2011scikit` to the previous generation's samples and draws 1000 new ones; 2000
# generations. The chapter goes:
#
# 1. the original distribution, the model, and what "the tails" mean in 2-D;
# 2. 2000 generations, snapshot by snapshot (the paper's Figure 7);
# 3. several ways to measure the drift, over many seeded runs;
# 4. **early collapse**: the tails go first;
# 5. **late collapse**: the modes merge and the variance vanishes, and why this is chapter 1's Markov chain again;
# 6. the paper's three errors: a model with too few or too many components, and the fitting procedure itself;
# 7. data schedules (replace, accumulate-subsample, accumulate) and keeping original data;
# 8. sliders to explore.
#
# Every number in the text below that depends on the run is computed by the code beside it (or printed just
# above it), so the chapter stays true at any seed.

# %% tags=["skip-execution", "remove-cell"]
# Colab only: install this book's helper package and its requirements.
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "model-collapse-book @ git+https://github.com/model-collapse-book/model-collapse"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", package])

# %%
import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np

from collapse_utils import gaussian, gmm, live, plotting, profiles, prose, widgets
from collapse_utils.plotting import COLUMN_WIDTH, first_below, plot_band
from collapse_utils.schedules import APPROACHES, SCHEDULE_VARIANTS

plotting.style()


def grid(generations: int, dense: int, every: int) -> list[int]:
    """Measure every generation up to `dense`, then every `every` generations (measuring costs more than fitting)."""
    return sorted(set(range(min(dense, generations) + 1)) | set(range(0, generations + 1, every)) | {generations})


P = profiles.choose(
    quick=dict(n=300, generations=60, runs=8, snapshots=(0, 5, 10, 15, 20, 35, 60), dense=60, every=1,
               side_generations=40, side_runs=4, schedule_n=100, schedule_generations=30, schedule_runs=4,
               init_n=100, init_generations=60, init_runs=4, multiples_generations=(0, 10, 30), slider_budget=1.5,
               explore_generations=(0, 10, 30)),
    book=dict(n=1000, generations=2000, runs=64, snapshots=gmm.PAPER_SNAPSHOTS, dense=100, every=10,
              side_generations=250, side_runs=16, schedule_n=200, schedule_generations=150, schedule_runs=16,
              init_n=200, init_generations=600, init_runs=16, multiples_generations=(0, 100, 300, 600),
              slider_budget=1.5, explore_generations=(0, 30, 100, 300)),
    paper=dict(n=1000, generations=2000, runs=64, snapshots=gmm.PAPER_SNAPSHOTS, dense=200, every=5,
               side_generations=1000, side_runs=32, schedule_n=500, schedule_generations=300, schedule_runs=32,
               init_n=1000, init_generations=2000, init_runs=32, multiples_generations=(0, 100, 300, 1000),
               slider_budget=1.5, explore_generations=(0, 30, 100, 300)),
    gpu=dict(n=1000, generations=2000, runs=128, snapshots=gmm.PAPER_SNAPSHOTS, dense=200, every=5,
             side_generations=1000, side_runs=32, schedule_n=500, schedule_generations=300, schedule_runs=32,
             init_n=1000, init_generations=2000, init_runs=32, multiples_generations=(0, 100, 300, 1000),
             slider_budget=1.5, explore_generations=(0, 30, 100, 300)),
)
profiles.report("Chapter 2", P, device="CPU (batched EM, numpy and torch.bmm: all runs at once)")
print("EM settings (the authors' scikit-learn settings):", gmm.GMM_DEFAULTS)
SCALE = f"profile '{profiles.current()}'"
prose.show(prose.ran_at([
    ("samples per generation", P["n"], "1000"),
    ("generations", P["generations"], "2000 (Figure 7)"),
    ("runs in the main figures", P["runs"], "1 (Figure 7)"),
]))

# %% [markdown]
# ## 1. The original distribution and the model
#
# The original distribution $p$ is an equal mixture of two 2-D Gaussians whose means are 5 apart
# (`gmm.two_gaussians()`), each with about unit variance and a tilt of its own:
#
# $$
# p(x) = \tfrac12\,\mathcal N\bigl(x;\ (-2.5, 0),\ \Sigma_1\bigr) + \tfrac12\,\mathcal N\bigl(x;\ (2.5, 0),\ \Sigma_2\bigr).
# $$
#
# **The model** of generation $t$ is a two-component mixture $q_t$ with full covariances, fitted by EM with
# the settings of the authors' published notebook: `tol=1e-5` (EM stops when the mean log-likelihood per sample
# changes by less than that), `max_iter=2000`, and scikit-learn's default `reg_covar=1e-6`, a tiny ridge on every
# covariance. **Generation 0** is the mixture fitted to the original data; generation $t+1$ is fitted to samples of
# generation $t$. Three implementation choices of ours, all in `collapse_utils/gmm/`:
#
# - **All runs at once.** scikit-learn fits one mixture at a time. `gmm.simulate` runs the same estimator, step for
#   step (the same E-step, M-step, `reg_covar`, stopping rule and iteration count), over every run of an experiment
#   at once, each run stopping when it has converged. The tests check it against scikit-learn itself: from the same
#   start, the fitted parameters agree to $10^{-6}$ relative (in practice to rounding), and the collapse statistics
#   agree in distribution. `benchmarks/bench_gmm.py` measures the speed-up; we spend it on 64 runs instead of a handful.
#   `backend="sklearn"` runs scikit-learn itself, run by run.
# - **Warm start.** Each generation's EM starts from the previous generation's mixture, not from a fresh k-means
#   clustering as in the authors' notebook. The data changed only by one round of resampling, so EM needs few
#   iterations, and the components keep their identity across generations. When a component has lost its weight (it
#   expects less than one of the $N$ samples) the next fit starts from k-means instead. `init="fresh"` is the authors'
#   choice; section 6 puts the two side by side.
# - **Sampling with our own generator.** New data are drawn with numpy generators seeded from the chapter's seed rather
#   than with scikit-learn's `sample`, so that every run is reproducible.
#
# **The tails in 2-D.** In one dimension "the tails" are $|x| > c$. For a 2-D mixture, we call the *tail region*
# $T$ the set where the original density is lowest: $T = \{x : p(x) < \lambda\}$, with $\lambda$ chosen so that
# $p$ puts exactly 1% of its mass there. The **tail mass** of a model is $Q_t(T)$, the probability that $q_t$
# assigns to the original's tail region; at generation 0 it is about 0.01. (It is a quasi-Monte Carlo estimate: a fixed
# Sobol sample of 8192 points, turned into standard normals and pushed through every $q_t$; with these common random
# numbers the estimate moves only when the model does.)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The original distribution: a mixture of two Gaussians, its samples and density (left), and the tail region T, the 1% of its mass where its density is lowest (right).", "name": "fig-gmm-original"}, "image": {"alt": "Samples and density of a two-component Gaussian mixture, and its low-density tail region"}}
original = gmm.two_gaussians()
measure = gmm.Measure(original)
data0 = original.sample(P["n"], np.random.default_rng(profiles.seed(0)))
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 2.9))
gmm.plot_mixture(original, ax=axes[0], n_samples=P["n"], seed=profiles.seed(0))
axes[0].set_title(f"original: {P['n']} samples, density")
X, Y, Z = gmm.density_grid(original, *gmm.DEFAULT_LIMITS, points=300)
axes[1].contourf(X, Y, Z, levels=[0, np.exp(measure.log_level)], colors=["C3"], alpha=0.25)
axes[1].contour(X, Y, Z, levels=[np.exp(measure.log_level)], colors="C3", linewidths=1)
gmm.plot_mixture(original, ax=axes[1], n_samples=0)
tail = data0[original.logpdf(data0) < measure.log_level]
axes[1].scatter(tail[:, 0], tail[:, 1], s=10, color="C3", label=f"{len(tail)} of {P['n']} samples in $T$")
axes[1].set_title(r"tail region $T = \{p < \lambda\}$, $P(T) = 1\%$")
axes[1].legend(loc="lower right")
fig.tight_layout()

g0 = gmm.fit_mixture(data0, 2, seed=profiles.seed(0))
print(f"generation 0 fit to {P['n']} original samples: weights {np.round(np.sort(g0.weights), 3)}, "
      f"means {np.round(g0.means, 2).tolist()}, squared L2 distance to p: {gmm.l2_sq(g0, original):.2e}, "
      f"EM iterations: {g0.n_iter}")

# %% [markdown]
# With $N$ original points, the fit of generation 0 is very close to the truth. Everything that follows is what the
# recursion does to it.

# %% [markdown]
# ## 2. The recursion, snapshot by snapshot
#
# Generation 0 fits the original data; generation $t+1$ fits $N$ samples of generation $t$. All runs go through the
# data schedules of `collapse_utils.schedules` (the same as in chapter 1, so the schedules and retention of section 7
# come for free). Measuring a generation costs more than fitting it, so long runs are measured at every generation
# early on and on a coarser grid later (the profile's `dense` and `every`).

# %%
run = gmm.simulate(n=P["n"], generations=P["generations"], runs=P["runs"], seed=profiles.seed(0),
                   snapshots=P["snapshots"], measure_at=grid(P["generations"], P["dense"], P["every"]),
                   progress="generations")
print(f"{run.describe()}: {run.seconds:.0f} s ({SCALE})")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Figure 7 at this scale: one run's samples (coloured by component) and fitted density at several generations, over the original's contours (dashed).", "name": "fig-gmm-figure7"}, "image": {"alt": "Eight panels of samples and fitted densities of a mixture at successive generations"}}
fig, axes = plt.subplots(2, 4, figsize=(COLUMN_WIDTH, 3.9))
axes = axes.ravel()
gmm.plot_mixture(original, ax=axes[0], n_samples=P["n"], seed=profiles.seed(0), point_size=2)
axes[0].set_title("original")
for ax, t in zip(axes[1:], P["snapshots"]):
    model = run.snapshots[0][t]
    gmm.plot_mixture(model, ax=ax, n_samples=P["n"], seed=profiles.seed(t), original=original, point_size=2)
    ax.scatter(model.means[:, 0], model.means[:, 1], marker="x", color="k", s=20 + 40 * model.weights)
    ax.set_title(f"generation {t}")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
inset = axes[len(P["snapshots"])].inset_axes([0.03, 0.04, 0.45, 0.45])
gmm.plot_mixture(model, ax=inset, n_samples=P["n"], seed=profiles.seed(t), limits=gmm.zoom_limits(model), levels=None,
                 point_size=1)
inset.set_xticks([])
inset.set_yticks([])
inset.spines[["top", "right"]].set_visible(True)
fig.suptitle(f"Run 0: samples (coloured by component), density, original's contours dashed ({SCALE})")
fig.tight_layout()

# %% [markdown]
# This is our version of the paper's Figure 7: the same generations, 0, 50, 100, 150, 200, 350 and 2000 (in the book,
# paper and gpu profiles; the quick profile shows a shorter run). The paper describes its figure as a model that first
# fits the data very well, whose picture of the distribution has clearly changed by generation 50, and which by
# generation 2000 has converged to a state with very little variance. The crosses mark the components' means (their
# size grows with the weight); the inset of the last panel magnifies what is left, with contours relative to its peak.
# What happens to run 0 is one story among many; the next section measures all runs.

# %% [markdown]
# ## 3. Measuring the drift
#
# `gmm.Measure` records these about every measured generation's mixture $q_t$:
#
# - the **squared $L^2$ distance** to generation 0, $\int (q_t - q_0)^2\,dx$: the authors' measure of drift. It has a
#   closed form because the product of two Gaussian densities integrates to a Gaussian density,
#   $\int \mathcal N(x; a, A)\,\mathcal N(x; b, B)\,dx = \mathcal N(a; b, A + B)$, so for mixtures
#   $q = \sum_i \alpha_i \mathcal N(a_i, A_i)$ and $q' = \sum_j \beta_j \mathcal N(b_j, B_j)$
#
#   $$
#   \int (q - q')^2 = \sum_{i,i'} \alpha_i \alpha_{i'} \mathcal N(a_i; a_{i'}, A_i + A_{i'})
#   + \sum_{j,j'} \beta_j \beta_{j'} \mathcal N(b_j; b_{j'}, B_j + B_{j'})
#   - 2 \sum_{i,j} \alpha_i \beta_j \mathcal N(a_i; b_j, A_i + B_j);
#   $$
#
# - the **held-out log-likelihood**: the mean of $\log q_t(x)$ over a fixed sample of 2000 *original* points that no
#   model ever trains on. It asks: how plausible does the model find real data?
# - the same for the original's **rare events**: a fixed held-out sample of 2000 original points *from the tail region*
#   $T$;
# - the **total variance**, the trace of $q_t$'s covariance (the spread of both modes *and* their distance);
# - the **distance between the two components' means**;
# - the **weight of the lighter component**;
# - the **tail mass** $Q_t(T)$ defined above, relative to the original's 1%;
# - and, as a by-product, the number of EM iterations each fit took.
#
# Solid lines are medians over runs, bands hold the middle 80% of the runs, thin lines are single runs; dotted lines
# mark the original distribution's value.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Measuring the drift: the L2 distance to generation 0, the held-out log-likelihood of original points and of tail points, and the mass the model puts on the tail region, over generations (median, 10-90% band and single runs).", "name": "fig-gmm-drift"}, "image": {"alt": "Four panels of distance and likelihood measures against generation"}}
g = run.generation
fig = gmm.plot_measures(run, [
    ("l2_sq", r"$\int (q_t - q_0)^2$", "log", None, "L2 distance to gen. 0"),
    ("heldout_loglik", "nats", "symlog", None, "held-out log-lik."),
    ("tail_loglik", "nats", "symlog", None, "log-lik. of tail points"),
    ("tail_mass", r"$Q_t(T)$ / 1%", "symlog", 1.0, "tail mass"),
], suptitle=f"{run.describe()} ({SCALE})")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The shape of the fitted mixtures: total variance, distance between the component means, the lighter component's weight, and EM iterations per fit, over generations (median, 10-90% band and single runs; dotted: the original's values).", "name": "fig-gmm-shape"}, "image": {"alt": "Four panels of shape measures against generation"}}
fig = gmm.plot_measures(run, [
    ("total_var", "total variance", "log", original.total_variance(), "total variance"),
    ("mean_distance", "distance", "linear", 5.0, "distance between means"),
    ("min_weight", "weight", "linear", 0.5, "lighter weight"),
    ("n_iter", "iterations", "linear", None, "EM iterations per fit"),
], suptitle=f"{run.describe()} ({SCALE})")
for t in sorted({0, 50, 200, 500, run.generations} & set(g.tolist())):
    print(f"generation {t:5d}: median L2^2 to gen 0 {np.median(run.at('l2_sq', t)):9.3g}, held-out log-lik "
          f"{np.median(run.at('heldout_loglik', t)):10.4g} (tail points {np.median(run.at('tail_loglik', t)):10.4g}), "
          f"total variance {np.median(run.at('total_var', t)):7.3g}, mean distance {np.median(run.at('mean_distance', t)):5.2f}, "
          f"tail mass / {run.tail_alpha:.0%} {np.median(run.at('tail_mass', t)) / run.tail_alpha:5.2f}")
print(f"EM iterations per fit: median {np.median(run.metrics['n_iter']):g}, 90% quantile "
      f"{np.quantile(run.metrics['n_iter'], 0.9):g}, most {run.metrics['n_iter'].max()} (warm start)")

# %% [markdown]
# Every measure tells the same story at its own pace. The $L^2$ distance to generation 0 grows by orders of
# magnitude; it keeps growing long after the picture has stopped changing much, because a narrow density has a
# large $\int q_t^2$: the distance rewards *concentration* as much as *displacement*. The held-out log-likelihood
# of real data falls, slowly at first and then catastrophically, as real points land where the shrunken model
# puts almost no density. The total variance, the distance between the means and the weights stay near their
# original values for hundreds of generations and then, run by run, give way. The printout above says how many EM
# iterations the warm start needed.
#
# The tail mass $Q_t(T)$ is the odd one out:

# %% tags=["hide-input"]
early = g <= min(run.generations, 200)
ratio = run.metrics["tail_mass"][:, early] / run.tail_alpha
prose.show(gmm.tail_rise_sentence(g[early], np.median(ratio, axis=0), np.quantile(ratio, 0.9, axis=0)))
check_at = 50 if 50 in run.snapshots[0] else max(run.snapshots[0])
models = gmm.MixtureBatch.stack([s[check_at] for s in run.snapshots])
big = gmm.Measure(original, n_tail=32 * 8192)
prose.show(gmm.estimate_check_sentence(check_at, float(np.median(measure.tail_mass(models))),
                                       float(np.median(big.tail_mass(models))), 8192, 32 * 8192))

# %% [markdown]
# Where the tail mass rises, the rise is a property of the models, not of the estimate (the second sentence compares
# it with an estimate from a much larger sample). The region $\{p \geq \lambda\}$ is, of all regions holding 99% of
# $p$, the smallest; a model that has moved a little, rotated a little or widened a little spills mass out of it into
# $T$. Later the shrinking of the components wins and empties $T$. A run whose component wanders off into the
# original's empty space (a thin line far above the rest) puts its mass where the original had none: that, too, is
# forgetting what the data looked like.

# %% [markdown]
# ## 4. Early collapse: the tails go first
#
# Put the measures on one scale, each relative to generation 0, and compare when the median run has lost half of it.
# For the likelihoods, "relative to generation 0" is the likelihood ratio per point, $\exp(\overline{\log q_t} -
# \overline{\log q_0})$: how much less plausible the model finds the same real points than it did at first.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "When the median run loses half: each measure of the median run relative to generation 0, over generations.", "name": "fig-gmm-half"}, "image": {"alt": "Measures of the median run relative to generation 0, against generation"}}
relative = {
    "likelihood of rare original events (points in T)": np.exp(run.metrics["tail_loglik"] - run.metrics["tail_loglik"][:, :1]),
    "likelihood of typical original data": np.exp(run.metrics["heldout_loglik"] - run.metrics["heldout_loglik"][:, :1]),
    "total variance": run.metrics["total_var"] / run.metrics["total_var"][:, :1],
    "distance between the means": run.metrics["mean_distance"] / run.metrics["mean_distance"][:, :1],
}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.4))
halves = {}
for (name, values), color in zip(relative.items(), ["C3", "C1", "C0", "C2"]):
    med = np.nanmedian(values, axis=0)
    ax.plot(g, med, color=color, lw=2, label=name)
    t = first_below(med, 0.5)
    halves[f"the {name}"] = None if t is None else int(g[t])
ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
ax.set_xscale("symlog", linthresh=10)
ax.set(xlim=(0, run.generations), ylim=(0, 1.6), xlabel="generation", ylabel="median run, relative to gen. 0",
       title=f"When does the median run lose half? ({run.runs} runs, {SCALE})")
ax.legend(loc="lower left")
fig.tight_layout()

# %% tags=["hide-input"]
prose.show("In the median run, halving: " + prose.order_of_events(halves) + ".")

# %% [markdown]
# The paper's **early model collapse** is the model forgetting the improbable events of the original distribution
# first, while typical data, the overall spread and the two modes are still in place; the sentence above says in
# which order the halvings came in these runs. The mechanism is the one of chapter 1, now inside each component: a
# Gaussian fitted by maximum likelihood to its own samples sees its covariance shrink in the typical run (in 2-D, the
# maximum-likelihood covariance of $N_k$ points has a log-determinant that is on average about $5/N_k$ below the true
# one, and here $N_k \approx N/2$ points per component), and the mass in the tails is exponentially sensitive to that
# width. A rare point lies many standard deviations out, where the log-density falls like the squared distance over
# the variance, so the same shrinkage costs it far more log-likelihood than a point near a mode.

# %% [markdown]
# ## 5. Late collapse: the modes merge and the variance vanishes
#
# Late collapse is more dramatic. Here is the last generation of 16 runs:

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The last generation of several runs, each with its two components' weights above the panel.", "name": "fig-gmm-last"}, "image": {"alt": "Grid of fitted mixtures at the last generation for several runs"}}
shown = min(run.runs, 16)
cols = min(shown, 4)
rows = int(np.ceil(shown / cols))
fig, axes = plt.subplots(rows, cols, figsize=(COLUMN_WIDTH, 1.55 * rows + 0.5), squeeze=False)
for r, ax in enumerate(axes.ravel()):
    if r >= shown:
        ax.set_visible(False)
        continue
    model = run.snapshots[r][run.generations]
    gmm.plot_mixture(model, ax=ax, n_samples=P["n"], seed=profiles.seed(r), original=original, point_size=1.5)
    ax.set_title(f"{np.max(model.weights):.2f} / {np.min(model.weights):.2f}")
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"Generation {run.generations} of runs 0-{shown - 1}: the weights above each panel ({SCALE})")
fig.tight_layout()

# %% [markdown]
# Two things have happened. Each mode has shrunk to a tiny cloud (the within-component variance keeps drifting down,
# as in chapter 1). What shrinks is the *determinant* of a component's covariance: its eigenvalues random-walk, so a
# component can also end up as a needle, vanishingly thin across and long along, reaching into regions where the
# original had no mass at all. And in many runs the two modes have become one: both components sit on the same spot. How
# do two modes 5 units apart merge, when the means themselves barely move?
#
# Through the **weights**. When the modes are well separated, the fitted weight of a component is just the fraction
# of the $N$ samples that fell into its mode, and those fractions are redrawn every generation: a binomial draw with
# the current weight as its probability. That is exactly the categorical chain of chapter 1 (the Wright-Fisher
# model), with two categories. It wanders until one mode gets no samples at all, and then that mode is gone for
# good: the component that was left without data re-initialises (with k-means, or in the authors' notebook at every
# generation anyway) on the surviving mode and splits it in two. From then on the distance between the "two"
# components is tiny, and the total variance, which was dominated by the distance between the modes, collapses with them.
#
# For the two-category chain the probability of absorption by generation $t$ can be computed exactly, by pushing the
# distribution of the count through the $(N+1) \times (N+1)$ binomial transition matrix
# (`gmm.wright_fisher_absorption_cdf`); its mean, in the diffusion approximation, is
# $-2N[\tfrac12\ln\tfrac12 + \tfrac12\ln\tfrac12] = 2N\ln 2$ generations for a 50/50 split {cite}`kimura1969average`.
# Against the runs, taking the first generation at which a run's two means are closer than 2.5 (half the original
# distance) as the moment its modes have merged (measured on the grid of section 2, so a time is known to within the
# grid's spacing):

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The weights random-walk until a mode is lost: the lighter component's weight in single runs (top) and the share of runs whose modes have merged, beside the Wright-Fisher chain (bottom).", "name": "fig-gmm-weights"}, "image": {"alt": "Lighter component weight of single runs and the share of merged runs against generation"}}
merged = [None if (t := first_below(run.metrics["mean_distance"][r], 2.5)) is None else int(g[t])
          for r in range(run.runs)]
expected = gaussian.expected_absorption_time(0.5, run.n)
absorbed = gmm.wright_fisher_absorption_cdf(run.n, 0.5, run.generations)[g]
band = gmm.chain_band(absorbed, run.runs)
fraction_merged = gmm.absorbed_fraction(merged, g)
fig, axes = plt.subplots(2, 1, figsize=(COLUMN_WIDTH, 5.6), sharex=True)
for r in range(min(run.runs, 16)):
    axes[0].plot(g, run.metrics["min_weight"][r], lw=0.7)
axes[0].set(ylabel="lighter weight", title=f"the weights random-walk until a mode is lost ({min(run.runs, 16)} runs)")
axes[1].step(g, fraction_merged, where="post", color="C3", label="runs whose means are closer than 2.5")
axes[1].plot(g, absorbed, "k", lw=1.5, label=f"two-category chain, N = {run.n}: P(absorbed)")
axes[1].fill_between(g, band[0], band[1], color="k", alpha=0.1, lw=0, label=f"95% of the chain's fractions, {run.runs} runs")
if expected <= run.generations:
    axes[1].axvline(expected, color="k", ls=":", lw=1, label=rf"mean absorption time $2N\ln 2$ = {expected:.0f}")
axes[1].set(xlabel="generation", ylabel="fraction of runs", ylim=(0, 1.05), title=f"modes merged ({run.runs} runs, {SCALE})")
axes[1].legend(loc="upper left", fontsize=9)
fig.tight_layout()
print(f"{sum(m is not None for m in merged)} of {run.runs} runs had their means closer than 2.5 (half the original "
      f"distance) by generation {run.generations}; the two-category chain is absorbed by then with probability "
      f"{absorbed[-1]:.2f}")

# %% tags=["hide-input"]
prose.show(gmm.chain_sentence(fraction_merged, band, g, run.runs))

# %% [markdown]
# Losing a mode *is* the absorption of the weights' chain; the merge of the means follows it once the component left
# without data has been re-fitted onto the survivor, so the merge times lag the chain's absorption a little. The grey
# band shows where the fraction of absorbed runs would fall 95% of the time if the weights were exactly the chain, for
# this number of runs; it is pointwise, and the fractions of successive generations are strongly correlated, so one
# unlucky sample of runs stays off for a while. Note also how
# skewed the absorption time is: its mean, $2N\ln 2$, lies well to the right of its median. (Short runs, as in the
# quick profile, end before most merges.)
#
# This is the paper's **late model collapse** in a model that can represent the data perfectly: the mixture converges
# to a distribution that bears little resemblance to the original, a single mode with very little variance.
# Collapse does not need a weak model: it needs only finite samples, fed back.

# %% [markdown]
# ## 6. The three errors: components and fitting
#
# The Nature version of the paper {cite}`shumailov2024nature` names three sources of error: **statistical
# approximation error** (finitely many samples: everything so far), **functional expressivity error** (a model family
# that cannot represent the data) and **functional approximation error** (the limits of the learning procedure itself,
# such as the optimiser or its initialisation). The arXiv version {cite}`shumailov2023curse` folds expressivity into
# functional approximation error. A mixture lets us switch each on and off.
#
# **Functional expressivity error.** The same recursion with one component (too few: it cannot hold two modes) and with
# three (too many: it can, with one to spare), beside the right model:

# %%
side = {k: gmm.simulate(n=P["n"], generations=P["side_generations"], runs=P["side_runs"], n_components=k,
                        seed=profiles.seed(1), snapshots=[0, P["side_generations"]],
                        measure_at=grid(P["side_generations"], P["dense"], 2 * P["every"]),
                        progress=f"{k} component(s)")
        for k in (1, 2, 3)}

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Misspecified and overspecified models: run 0 with one, two and three components, at generation 0 and at the last generation.", "name": "fig-gmm-components"}, "image": {"alt": "Six panels of fitted mixtures with one, two and three components"}}
fig, axes = plt.subplots(2, 3, figsize=(COLUMN_WIDTH, 3.9))
for j, (k, r) in enumerate(side.items()):
    for i, t in enumerate([0, r.generations]):
        gmm.plot_mixture(r.snapshots[0][t], ax=axes[i, j], n_samples=P["n"], seed=profiles.seed(t), original=original,
                         point_size=2)
        axes[i, j].set_title(f"{k} comp., generation {t}")
        axes[i, j].set_xticks([])
        axes[i, j].set_yticks([])
fig.suptitle(f"Run 0 of each model ({SCALE})")
fig.tight_layout()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "One, two and three components compared over generations: the L2 distance to the original, minus the held-out log-likelihood, and the tail mass (median and 10-90% band).", "name": "fig-gmm-components-measures"}, "image": {"alt": "Three panels comparing models with one, two and three components against generation"}}
fig, axes = plt.subplots(1, 3, figsize=(COLUMN_WIDTH, 2.8))
for (k, r), color in zip(side.items(), ["C3", "C0", "C2"]):
    plot_band(axes[0], r.generation, r.metrics["l2_sq_true"], color, label=f"{k} comp.")
    plot_band(axes[1], r.generation, -r.metrics["heldout_loglik"], color)
    plot_band(axes[2], r.generation, r.metrics["tail_mass"] / r.tail_alpha, color)
axes[0].set(yscale="log", xlabel="generation", title=r"$\int (q_t - p)^2$")
axes[1].set(yscale="log", xlabel="generation", title="minus held-out log-lik.")
axes[2].set(xlabel="generation", title="tail mass / 1%")
axes[0].legend()
fig.suptitle(f"{P['side_runs']} runs x {P['side_generations']} generations per model, n = {P['n']} ({SCALE})")
fig.tight_layout()
for k, r in side.items():
    print(f"{k} component(s): median L2^2 to the original at generation 0 {np.median(r.at('l2_sq_true', 0)):.4f}, "
          f"at generation {r.generations} {np.median(r.at('l2_sq_true', r.generations)):.4f}; held-out log-lik "
          f"{np.median(r.at('heldout_loglik', 0)):.3f} -> {np.median(r.at('heldout_loglik', r.generations)):.3f} "
          f"({r.seconds:.0f} s)")

# %% [markdown]
# - **One component** is wrong from generation 0: a single wide Gaussian puts its peak in the empty gap between the
#   modes. The distance to the original is large at once, and that error is *systematic*: more data would not
#   reduce it. This is functional expressivity error. After that, the recursion is chapter 1's single-Gaussian walk.
# - **Three components** represent the data with one to spare, which splits one of the modes: at generation 0 about
#   as good as two (compare the printed distances). But each component is now fitted to fewer points, and the statistical drift of a component's
#   covariance is about $5/N_k$ per generation: the fewer points $N_k$ per component, the faster it shrinks. So the spare
#   component is no protection against statistical error.
# - **Two components** start closest and drift for the reasons of sections 4 and 5.
#
# Expressivity error is there from generation 0; statistical error starts small and compounds. Whether
# after a few hundred generations the right model is still the better one, the printed distances at the last
# generation say for this run.
#
# **Functional approximation error: the fitting procedure.** Our EM starts every generation from the previous
# mixture; the authors' notebook re-initialises scikit-learn's `GaussianMixture` from k-means at every generation. Both
# maximise the same likelihood, but EM only finds a local optimum, and where it ends depends on where it starts. The
# two settings below share their data randomness (the same seed draws the same uniforms and normals), on a smaller $N$
# so that late collapse comes within reach. The authors' setting runs as `init="fresh"` on the batched path: k-means
# then EM at every generation, the estimator of scikit-learn's `GaussianMixture`, which the tests compare with
# scikit-learn itself in distribution (`backend="sklearn"` runs scikit-learn, run by run).

# %%
inits = {init: gmm.simulate(n=P["init_n"], generations=P["init_generations"], runs=P["init_runs"], init=init,
                            seed=profiles.seed(3), measure_at=grid(P["init_generations"], 50, 5), progress=init)
         for init in ("warm", "fresh")}

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The warm start against the authors' setting (k-means every generation): distance between the means, total variance and the lighter weight over generations (median and 10-90% band).", "name": "fig-gmm-init"}, "image": {"alt": "Three panels comparing warm-started and re-initialised EM against generation"}}
labels = {"warm": "warm start (this book)", "fresh": "k-means every generation (the authors')"}
fig, axes = plt.subplots(1, 3, figsize=(COLUMN_WIDTH, 2.8))
for (init, r), color in zip(inits.items(), ["C0", "C1"]):
    plot_band(axes[0], r.generation, r.metrics["mean_distance"], color, label=labels[init])
    plot_band(axes[1], r.generation, r.metrics["total_var"], color)
    plot_band(axes[2], r.generation, r.metrics["min_weight"], color)
axes[0].set(xlabel="generation", title="distance between means")
axes[1].set(xlabel="generation", yscale="log", title="total variance")
axes[2].set(xlabel="generation", title="lighter weight")
axes[0].legend(fontsize=9, loc="lower left")
fig.suptitle(f"{P['init_runs']} runs x {P['init_generations']} generations, n = {P['init_n']}, each init ({SCALE})")
fig.tight_layout()

# %% tags=["hide-input"]
prose.show(gmm.warm_fresh_sentence(inits["warm"], inits["fresh"]))

# %% [markdown]
# What to expect, and what to compare with the sentence above. While both modes are alive and well separated, EM
# finds the same optimum from either start, so the two settings should differ little. The difference is in *late*
# collapse. With the warm start, a component whose mode has lost its samples is re-initialised only when it expects
# less than one sample; until then it can linger as a thin sliver with a tiny weight. With k-means at every generation
# the clustering is redone from scratch and two clusters are always found, so once a mode is lost the survivor is
# split in two at once and the "distance between the means" can drop sooner. The weights' chain, and with it the time
# at which a mode is lost, is a property of the samples rather than of the optimiser, so it should agree in
# distribution between the two settings.

# %% [markdown]
# ## 7. Data schedules and keeping original data
#
# The paper's theory replaces each generation's data with the latest model's samples; its supplementary experiments
# also fit a fixed-size sample of the pooled data and the whole pool. This book calls the three schedules by the names
# of the follow-up works (Gerstgrasser et al. 2024 {cite}`gerstgrasser2024collapse`; Kazdan et al. 2024, *Collapse or
# Thrive?*), and keeps `approach=1|2|3` as the code's parameter:
#
# 1. **replace**: the latest model's samples only (everything above);
# 2. **accumulate-subsample**: the latest samples mixed with all earlier generations' data, the original included,
#    subsampled back to $N$;
# 3. **accumulate**: the whole accumulated mix, growing by $N$ points a generation.
#
# and **retention**, a fraction of each generation's new data taken from the original data instead of the model.
# Chapter 2's retention is **fixed**: the retained points are a subsample of the one original sample of $N$ points,
# not fresh draws from the true distribution (chapter 1 shows both kinds). To see the difference within a few hundred
# generations we use fewer samples per generation (collapse is faster with small $N$) and fewer generations, since
# accumulate refits a training set that grows without bound.

# %%
sched = {gmm.schedule_name(**kw): gmm.simulate(n=P["schedule_n"], generations=P["schedule_generations"],
                                               runs=P["schedule_runs"], seed=profiles.seed(2), progress=name,
                                               measure_at=grid(P["schedule_generations"], 50, 5), **kw)
         for name, kw in SCHEDULE_VARIANTS.items()}

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The data schedules and fixed retention compared: minus the held-out log-likelihood, the tail mass, and the L2 distance to generation 0 (median and 10-90% band).", "name": "fig-gmm-schedules"}, "image": {"alt": "Three panels comparing data schedules and retention against generation"}}
fig, axes = plt.subplots(1, 3, figsize=(COLUMN_WIDTH, 3.2))
for (name, r), color in zip(sched.items(), ["C3", "C1", "C2", "C0", "C4"]):
    plot_band(axes[0], r.generation, -r.metrics["heldout_loglik"], color, label=name)
    plot_band(axes[1], r.generation, r.metrics["tail_mass"] / r.tail_alpha, color)
    plot_band(axes[2], r.generation, r.metrics["l2_sq"], color)
axes[0].set(xlabel="generation", yscale="log", title="minus held-out log-lik.")
axes[1].set(xlabel="generation", title="tail mass / 1%")
axes[2].set(xlabel="generation", yscale="log", title=r"$\int (q_t - q_0)^2$")
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=9)
fig.suptitle(f"{P['schedule_runs']} runs x {P['schedule_generations']} generations per schedule, "
             f"n = {P['schedule_n']} ({SCALE})")
fig.tight_layout(rect=(0, 0.2, 1, 1))
for name, r in sched.items():
    print(f"{name:36s} generation {r.generations}: median held-out log-lik "
          f"{np.median(r.at('heldout_loglik', r.generations)):8.3f} (generation 0: {np.median(r.at('heldout_loglik', 0)):.3f}), "
          f"tail mass / {r.tail_alpha:.0%} {np.median(r.at('tail_mass', r.generations)) / r.tail_alpha:4.2f} "
          f"({r.seconds:.0f} s)")

# %% tags=["hide-input"]
prose.show(f"For scale: {gmm.retention_sentence(P['schedule_n'], 0.01)}, and "
           f"{gmm.retention_sentence(P['schedule_n'], 0.1)}.")

# %% [markdown]
# The picture is chapter 1's. Training on the latest samples alone (replace) forgets; keeping the original data in
# play, whether by accumulating everything (accumulate) {cite}`gerstgrasser2024collapse`, by subsampling a pool that
# still holds it (accumulate-subsample), or by mixing a fixed share of the original data into every generation
# (retention) {cite}`bertrand2023stability`, holds the model closer to where it started. Read the printed numbers,
# not the prose, for how much closer at this scale: the bands show how far the runs spread.

# %% [markdown]
# ## 8. Explore
#
# The sliders below drive `gmm.plot_final_generation`: it runs **one** recursion with the chosen samples per
# generation, generations, retention and schedule, and draws the last generation over the original's contours. First,
# the same function at a few values:

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function: one run stopped after a few numbers of generations.", "name": "fig-gmm-multiples-generations"}, "image": {"alt": "One fitted mixture shown after several numbers of generations"}}
fig = widgets.small_multiples(
    gmm.plot_final_generation, "generations", list(P["multiples_generations"]),
    fixed=dict(n=300, seed=profiles.seed(0), title=False), panel_size=(COLUMN_WIDTH / 4, 1.9),
    suptitle=f"one run, n = 300, after a number of generations ({SCALE})",
)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function: the same run with four fractions of fixed retention.", "name": "fig-gmm-multiples-retention"}, "image": {"alt": "One fitted mixture at the last generation for four retention fractions"}}
fig = widgets.small_multiples(
    gmm.plot_final_generation, "retention", [0.0, 0.05, 0.2, 0.5],
    fixed=dict(n=300, generations=max(P["multiples_generations"]), seed=profiles.seed(0), title=False),
    panel_size=(COLUMN_WIDTH / 4, 1.9),
    suptitle=f"the same run after {max(P['multiples_generations'])} generations, fixed retention ({SCALE})",
)

# %% [markdown]
# (With the same seed, the panels over `generations` are one and the same run stopped at different points.) In the
# rendered book the sliders step through frames drawn when the book was built (two values of $n$, a few numbers of
# generations, retention 0 or 0.1, two schedules); in a running notebook they compute any position, and the seed too.
# Each position is computed when the slider is released; a position that would take longer than the profile's
# `slider_budget` seconds (small $n$ needs many EM iterations per generation) stops at the generation it has reached,
# and the title says so. The schedule menu
# leaves out accumulate, whose ever-growing training set makes every refit slower.

# %%
prose.show(live.explore_note("02_gmm"))
live.explore(
    gmm.plot_final_generation,
    grid=dict(n=[100, 1000], generations=list(P["explore_generations"]), retention=[0.0, 0.1], approach=[1, 2]),
    controls=dict(
        n=ipw.IntSlider(value=300, min=50, max=2000, step=50, description="samples n"),
        generations=ipw.IntSlider(value=100, min=0, max=2000, step=10, description="generations"),
        retention=ipw.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.01, description="retention"),
        approach=ipw.Dropdown(options=[(gmm.schedule_name(k), k) for k in APPROACHES if k != 3], value=1,
                              description="schedule"),
        seed=ipw.IntSlider(value=profiles.seed(0), min=profiles.seed(0), max=profiles.seed(0) + 20, description="seed"),
    ),
    fixed=dict(time_budget=P["slider_budget"], seed=profiles.seed(0)),
    start=dict(n=1000, generations=P["explore_generations"][-1]),
    alt="The last generation of one run: samples and fitted density over the original's contours",
    value_labels=dict(approach={k: gmm.schedule_name(k) for k in (1, 2)}),
    caption="The last generation of one run at the chosen sample size, number of generations, retention and "
            "schedule: its samples and fitted density over the original mixture's contours.",
    name="fig-gmm-explore",
    param_labels=dict(approach="schedule"),
)

# %% [markdown]
# ## Summary
#
# - A Gaussian mixture fitted recursively to its own samples collapses even though it can represent the original
#   distribution exactly: finite samples (statistical approximation error) are enough.
# - **Early collapse**: the model forgets the original's rare events first (section 4 computes the order in which the
#   measures halve), while typical data, the overall spread and the two modes are still in place. The mass on the
#   original's tail region can even rise at first, as the model wobbles, before the shrinking components empty it.
# - **Late collapse**: each mode shrinks towards a point; and the weights perform the categorical (Wright-Fisher) walk
#   of chapter 1 until one mode gets no samples, after which both components sit on the survivor. The result is a
#   single mode with very little variance, as in the paper's Figure 7.
# - The closed-form squared $L^2$ distance $\int (q_t - q_0)^2$ tracks the drift, and grows with concentration as much
#   as with displacement.
# - Too few components is a systematic error from generation 0 (functional expressivity error); too many makes the
#   statistical error worse, since each component is fitted to fewer points. How EM is started (functional
#   approximation error) can change what a lost mode leaves behind; section 6 compares the two starts.
# - Keeping original data in the training set, by accumulation, subsampling a pool or fixed retention, holds the model
#   nearer the original.
#
# ## Exercises
#
# 1. Run the scikit-learn path, `gmm.simulate(..., backend="sklearn", init="fresh")`, for a few runs of a few dozen
#    generations, and the batched path with the same arguments. Why do the two agree run by run with `init="warm"`
#    but only in distribution with `init="fresh"`? Time both.
#
# :::{admonition} Solution
# :class: dropdown
# Both backends draw the data with the same generators, so with a warm start they fit the same data from the same
# start, and EM is deterministic: the runs agree to rounding. A fresh start runs k-means, which draws its own random
# numbers (scikit-learn's k-means++ with its `random_state`, the batched version with its own generator); both find
# the same optimum on well-separated data, but not always the same one once the modes overlap or a component has
# collapsed, and one different fit changes every later generation. `benchmarks/bench_gmm.py` times the two paths.
# :::
#
# 2. Is the point midway between the two modes in the original's tail region $T$? Compare $p(0, 0)$ with the level
#    $\lambda$ (`np.exp(gmm.tail_level(p))`) for `p = gmm.two_gaussians(separation=s)` and a few separations $s$.
#    What does the answer mean for the "tails" that collapse forgets first?
#
# :::{admonition} Solution
# :class: dropdown
# For $s = 5$ (this chapter) the midpoint is not in $T$: $p(0,0) \approx 0.0032$, about 2.6 times $\lambda \approx 0.0012$.
# For $s = 6$ it is ($p(0,0) \approx 0.0005 < \lambda \approx 0.0011$), and for larger separations the whole gap between the
# modes joins $T$. (These are properties of the distributions, with $\lambda$ from 400 000 Monte Carlo samples at a fixed
# seed.) So in a mixture the low-density regions are not only the outskirts: the *valleys between modes* are tails too,
# and a collapsing model empties them as well.
# :::
#
# 3. Using the Wright-Fisher picture of section 5, predict how the time until the modes merge scales with $N$, and
#    how it changes if the original weights are $0.9/0.1$ instead of $0.5/0.5$. Check with
#    `gmm.simulate(original=gmm.two_gaussians(weight=0.9), ...)` at a small $N$.
#
# :::{admonition} Solution
# :class: dropdown
# The mean absorption time of the two-category chain is $-2N[p\ln p + (1-p)\ln(1-p)]$: linear in $N$, and for
# $p = 0.9$ it is $0.65N$ instead of $1.39N$, about half as long. Unlike the 50/50 case, the light mode is almost always
# the one that is lost (it survives with probability $0.1$).
# :::
#
# 4. Is the weight of a component really the categorical chain? Compare the fraction of runs whose modes have merged with
#    `gmm.wright_fisher_absorption_cdf` using more runs than in section 5, for example
#    `gmm.simulate(n=1000, generations=800, runs=256, seed=11, measure_at=range(0, 801, 5))`, at generations
#    400, 620 and 800. Also compare the spread of the weights, $\mathbb E[(w_t - \tfrac12)^2]$, with the chain's
#    $\tfrac14\bigl(1 - (1 - 1/N)^{t+1}\bigr)$ (valid before absorption matters).
#
# :::{admonition} Solution
# :class: dropdown
# With `merged = [first_below(r.metrics["mean_distance"][j], 2.5) for j in range(256)]` (indices into
# `r.generation`), count the runs merged by each generation and compare with the chain's exact probabilities; with 256
# runs the binomial spread of a fraction near one half is about $\pm 0.06$ (two standard errors). If the weights
# follow the chain, the simulated fractions fall within that spread at most generations, and the mean squared
# deviation of the lighter weight from $\tfrac12$ follows the chain's formula. When the modes are well separated,
# fitting by EM adds essentially no noise to the count of the samples that fell into each mode, so that is what to
# expect; what your seed gives is the answer to the exercise.
# :::
#
# 5. The squared $L^2$ distance to generation 0 keeps growing after the picture has stopped changing. Show that a single
#    2-D Gaussian with covariance $\sigma^2 I$ has $\int q^2 = 1/(4\pi\sigma^2)$, and explain the growth of
#    $\int (q_t - q_0)^2$ in late generations.
#
# :::{admonition} Solution
# :class: dropdown
# By the product formula, $\int \mathcal N(x; \mu, \sigma^2 I)^2\,dx = \mathcal N(\mu; \mu, 2\sigma^2 I) = 1/(2\pi \cdot 2\sigma^2)$.
# Once $q_t$ no longer overlaps $q_0$, $\int (q_t - q_0)^2 = \int q_t^2 + \int q_0^2$, and $\int q_t^2$ grows like
# $1/\sigma_t^2$ as the components keep shrinking: the distance measures concentration.
# :::
