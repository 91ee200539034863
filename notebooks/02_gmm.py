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
# # 2. Gaussian mixture models
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
# each generation fits a two-component mixture (scikit-learn's `GaussianMixture`
# {cite}`pedregosa2011scikit`) to the previous generation's samples and draws 1000 new ones; 2000
# generations. The chapter goes:
#
# 1. the original distribution, the model, and what "the tails" mean in 2-D;
# 2. 2000 generations of one run, snapshot by snapshot (the paper's Figure 7);
# 3. six ways to measure the drift, over many seeded runs;
# 4. **early collapse**: the tails go first;
# 5. **late collapse**: the modes merge and the variance vanishes, and why this is chapter 1's Markov chain again;
# 6. *functional approximation error*: a model with too few or too many components;
# 7. the paper's three data schedules, and keeping original data;
# 8. sliders to explore.

# %% tags=["skip-execution", "remove-cell"]
# Colab only: install this book's helper package and its requirements.
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "model-collapse-book @ git+https://github.com/model-collapse-book/model-collapse"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", package])

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from collapse_utils import gaussian, gmm, profiles, widgets
from collapse_utils.schedules import APPROACHES, SCHEDULE_VARIANTS

P = profiles.choose(
    quick=dict(n=300, generations=60, runs=3, snapshots=(0, 5, 10, 15, 20, 35, 60),
               side_generations=40, side_runs=2, schedule_n=100, schedule_generations=30, schedule_runs=2,
               multiples_generations=(0, 10, 30), n_jobs=2, seed=0),
    book=dict(n=1000, generations=2000, runs=16, snapshots=gmm.PAPER_SNAPSHOTS,
              side_generations=300, side_runs=6, schedule_n=300, schedule_generations=200, schedule_runs=4,
              multiples_generations=(0, 100, 300, 1000), n_jobs=2, seed=0),
    paper=dict(n=1000, generations=2000, runs=50, snapshots=gmm.PAPER_SNAPSHOTS,
               side_generations=1000, side_runs=20, schedule_n=1000, schedule_generations=300, schedule_runs=10,
               multiples_generations=(0, 100, 300, 1000), n_jobs=-1, seed=0),
)
if P["n_jobs"] == -1:  # paper profile: every core
    import os

    P["n_jobs"] = os.cpu_count() or 1
profiles.report("Chapter 2", P)
print("scikit-learn GaussianMixture settings:", gmm.GMM_DEFAULTS)
plt.rcParams.update({"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False})
SCALE = f"profile '{profiles.current()}'"

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
# the settings of the authors' published notebook: `tol=1e-5`, `max_iter=2000` (and scikit-learn's default
# `reg_covar=1e-6`, a tiny ridge on every covariance). Two implementation choices of ours, both in
# `collapse_utils/gmm.py`:
#
# - **Warm start.** Each generation's EM starts from the previous generation's mixture (`weights_init`,
#   `means_init`, `precisions_init`), not from a fresh k-means clustering as in the authors' notebook. The data
#   changed only by one round of resampling, so EM converges in a handful of iterations (several times faster
#   than with k-means first), and the components keep their identity across generations. When a component has lost
#   its weight (it expects less than one of the $N$ samples) the next fit starts fresh with k-means instead, so a
#   dead component cannot haunt the run. `init="fresh"` reproduces the authors' choice.
# - **Sampling with our own generator.** New data are drawn with the run's numpy generator rather than with
#   scikit-learn's `sample`, so that every run is reproducible from its seed.
#
# **The tails in 2-D.** In one dimension "the tails" are $|x| > c$. For a 2-D mixture, we call the *tail region*
# $T$ the set where the original density is lowest: $T = \{x : p(x) < \lambda\}$, with $\lambda$ chosen so that
# $p$ puts exactly 1% of its mass there. The **tail mass** of a model is $Q_t(T)$, the probability that $q_t$
# assigns to the original's tail region; at generation 0 it is about 0.01. (It is a quasi-Monte Carlo estimate: a fixed
# Sobol sample of 8192 points, turned into standard normals and pushed through every $q_t$; with these common random
# numbers the estimate moves only when the model does.)

# %%
original = gmm.two_gaussians()
measure = gmm.Measure(original)
data0 = original.sample(P["n"], np.random.default_rng(P["seed"]))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.9))
gmm.plot_mixture(original, ax=axes[0], n_samples=P["n"], seed=P["seed"])
axes[0].set_title(f"original distribution: {P['n']} samples and density contours", fontsize=10)
X, Y, Z = gmm.density_grid(original, *gmm.DEFAULT_LIMITS, points=300)
axes[1].contourf(X, Y, Z, levels=[0, np.exp(measure.log_level)], colors=["C3"], alpha=0.25)
axes[1].contour(X, Y, Z, levels=[np.exp(measure.log_level)], colors="C3", linewidths=1)
gmm.plot_mixture(original, ax=axes[1], n_samples=0)
tail = data0[original.logpdf(data0) < measure.log_level]
axes[1].scatter(tail[:, 0], tail[:, 1], s=10, color="C3", label=f"{len(tail)} of {P['n']} samples in the tail region")
axes[1].set_title(r"the tail region $T = \{p < \lambda\}$ (shaded), $P(T) = 1\%$", fontsize=10)
axes[1].legend(fontsize=8, loc="lower right")
fig.tight_layout()

g0 = gmm.fit_mixture(data0, 2, seed=P["seed"])
print(f"generation 0 fit to {P['n']} original samples: weights {np.round(np.sort(g0.weights), 3)}, "
      f"means {np.round(g0.means, 2).tolist()}, squared L2 distance to p: {gmm.l2_sq(g0, original):.2e}, "
      f"EM iterations: {g0.n_iter}")

# %% [markdown]
# With $N$ original points, the fit of generation 0 is very close to the truth. Everything that follows is what the
# recursion does to it.

# %% [markdown]
# ## 2. The recursion, snapshot by snapshot
#
# Generation 0 fits the original data; generation $t+1$ fits $N$ samples of generation $t$. The shared loop
# `schedules.run_generations` drives every run (the same loop as in chapter 1, so data schedules and retention
# below come for free). We simulate many independent runs in parallel (joblib); run $r$ is seeded with the
# $r$-th child of `np.random.SeedSequence(seed)`, so results do not depend on the number of workers.

# %%
run = gmm.simulate(n=P["n"], generations=P["generations"], runs=P["runs"], seed=P["seed"],
                   snapshots=P["snapshots"], n_jobs=P["n_jobs"], progress="runs")
print(f"{run.describe()}: {run.seconds:.0f} s on {P['n_jobs']} worker(s) ({SCALE})")

# %%
fig, axes = plt.subplots(2, 4, figsize=(14, 6.4))
axes = axes.ravel()
gmm.plot_mixture(original, ax=axes[0], n_samples=P["n"], seed=P["seed"])
axes[0].set_title("original distribution", fontsize=10)
for ax, t in zip(axes[1:], P["snapshots"]):
    model = run.snapshots[0][t]
    gmm.plot_mixture(model, ax=ax, n_samples=P["n"], seed=t, original=original)
    ax.scatter(model.means[:, 0], model.means[:, 1], marker="x", color="k", s=30 + 60 * model.weights)
    ax.set_title(f"generation {t}", fontsize=10)
inset = axes[len(P["snapshots"])].inset_axes([0.03, 0.04, 0.42, 0.42])
gmm.plot_mixture(model, ax=inset, n_samples=P["n"], seed=t, limits=gmm.zoom_limits(model), levels=None, point_size=2)
inset.set_xticks([])
inset.set_yticks([])
inset.text(0.03, 0.97, "magnified", transform=inset.transAxes, fontsize=7, va="top")
inset.spines[["top", "right"]].set_visible(True)
fig.suptitle(f"Run 0: {P['n']} samples of each generation's mixture (coloured by component), its density "
             f"contours, and the original's (dashed) ({SCALE})", fontsize=10)
fig.tight_layout()

# %% [markdown]
# This is our version of the paper's Figure 7: the same generations, 0, 50, 100, 150, 200, 350 and 2000 (in the book
# and paper profiles; the quick profile shows a shorter run). The paper describes its figure as a model that first
# fits the data very well, whose picture of the distribution has clearly changed by generation 50, and which by
# generation 2000 has converged to a state with very little variance. The crosses mark the components' means (their size grows
# with the weight); the inset of the last panel magnifies what is left, with contours relative to its peak. What happens to
# run 0 is one story among many; the next section measures all runs.

# %% [markdown]
# ## 3. Measuring the drift
#
# `gmm.Measure` records these about every generation's mixture $q_t$, all cheap enough to compute 2000 times a run:
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
# Solid lines are medians over runs, bands hold 80% of the runs, thin lines are single runs.

# %%
g = run.generation
panels = [
    ("l2_sq", r"$\int (q_t - q_0)^2$", "log", None),
    ("heldout_loglik", "nats", "symlog", None),
    ("tail_loglik", "nats", "symlog", None),
    ("total_var", "total variance", "log", original.total_variance()),
    ("mean_distance", "distance between the means", "linear", 5.0),
    ("min_weight", "weight of the lighter component", "linear", 0.5),
    ("tail_mass", r"tail mass $Q_t(T)$ / 1%", "symlog", 1.0),
    ("n_iter", "EM iterations", "linear", None),
]
fig, axes = plt.subplots(2, 4, figsize=(18, 7))
for ax, (name, label, scale, reference) in zip(axes.ravel(), panels):
    values = run.metrics[name] / (run.tail_alpha if name == "tail_mass" else 1.0)
    gmm.plot_band(ax, g, values, lines=min(run.runs, 16))
    ax.set(xlabel="generation", ylabel=label, yscale=scale, title=gmm.METRICS[name])
    ax.title.set_fontsize(9)
    if reference is not None:
        ax.axhline(reference, color="k", ls=":", lw=1)
axes[0, 1].set_yscale("symlog", linthresh=10)
axes[0, 2].set_yscale("symlog", linthresh=10)
axes[1, 2].set_yscale("symlog", linthresh=1)
fig.suptitle(f"{run.describe()} ({SCALE}); dotted: the original distribution", fontsize=10)
fig.tight_layout()
for t in sorted({0, 50, 200, 500, run.generations} & set(g)):
    print(f"generation {t:5d}: median L2^2 to gen 0 {run.median('l2_sq')[t]:9.3g}, "
          f"held-out log-lik {run.median('heldout_loglik')[t]:10.4g} (tail points {run.median('tail_loglik')[t]:10.4g}), total variance {run.median('total_var')[t]:7.3g}, "
          f"mean distance {run.median('mean_distance')[t]:5.2f}, tail mass / 1% {run.median('tail_mass')[t] / run.tail_alpha:5.2f}")

# %% [markdown]
# Every measure tells the same story at its own pace. The $L^2$ distance to generation 0 grows by orders of
# magnitude; it keeps growing long after the picture has stopped changing much, because a narrow density has a
# large $\int q_t^2$: the distance rewards *concentration* as much as *displacement*. The held-out log-likelihood
# of real data falls, slowly at first and then catastrophically, as real points land where the shrunken model
# puts almost no density. The total variance, the distance between the means and the weights stay near their
# original values for hundreds of generations and then, run by run, give way. EM needs only a few iterations per
# generation from its warm start.
#
# The tail mass $Q_t(T)$ is the odd one out: in the first generations its median *rises* above 1, and a few runs put
# many times the original's 1% there. Both are properties of the models, not of the estimate (a check with a 25 times
# larger Monte Carlo sample, made while writing this chapter, shows the same early rise). The region
# $\{p \geq \lambda\}$ is, of all regions holding 99% of $p$, the smallest; a model that has moved a little, rotated a
# little or widened a little spills mass out of it into $T$. Later the shrinking of the components wins and empties
# $T$. A run whose component wanders off into the original's empty space (a thin line far above the rest) puts its
# mass where the original had none: that, too, is forgetting what the data looked like.

# %% [markdown]
# ## 4. Early collapse: the tails go first
#
# Put the measures on one scale, each relative to generation 0, and compare when the median run has lost half of it.
# For the likelihoods, "relative to generation 0" is the likelihood ratio per point, $\exp(\overline{\log q_t} -
# \overline{\log q_0})$: how much less plausible the model finds the same real points than it did at first.

# %%
relative = {
    "likelihood of rare original events (points in T)": np.exp(run.metrics["tail_loglik"] - run.metrics["tail_loglik"][0]),
    "likelihood of typical original data": np.exp(run.metrics["heldout_loglik"] - run.metrics["heldout_loglik"][0]),
    "total variance": run.metrics["total_var"] / run.metrics["total_var"][0],
    "distance between the means": run.metrics["mean_distance"] / run.metrics["mean_distance"][0],
}
fig, ax = plt.subplots(figsize=(9, 4.2))
halves = {}
for (name, values), color in zip(relative.items(), ["C3", "C1", "C0", "C2"]):
    med = np.nanmedian(values, axis=1)
    ax.plot(g, med, color=color, lw=2, label=name)
    halves[name] = gmm.first_below(med, 0.5)
ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
ax.set_xscale("symlog", linthresh=10)
ax.set(xlim=(0, run.generations), ylim=(0, 1.6), xlabel="generation", ylabel="median run, relative to generation 0",
       title=f"Early collapse: the tails go first ({run.describe()}, {SCALE})")
ax.title.set_fontsize(9)
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
for name, t in halves.items():
    print(f"{name:50s} halved at " + (f"generation {t}" if t is not None else f"no generation up to {run.generations}"))

# %% [markdown]
# The order is the paper's **early model collapse**: the model forgets the improbable events of the original
# distribution first, while typical data, the overall spread and the two modes are still in place. The mechanism is the one
# of chapter 1, now inside each component: a Gaussian fitted by maximum likelihood to its own samples sees its
# covariance shrink in the typical run (in 2-D, the maximum-likelihood covariance of $N_k$ points has a
# log-determinant that is on average about $5/N_k$ below the true one, and here $N_k \approx N/2$ points per component),
# and the mass in the tails is exponentially sensitive to that width. A rare point lies many standard deviations out,
# where the log-density falls like the squared distance over the variance, so the same shrinkage costs it far more
# log-likelihood than a point near a mode.

# %% [markdown]
# ## 5. Late collapse: the modes merge and the variance vanishes
#
# Late collapse is more dramatic. Here is the last generation of **every** run:

# %%
cols = min(run.runs, 6)
rows = int(np.ceil(run.runs / cols))
fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.1 * rows), squeeze=False)
for r, ax in enumerate(axes.ravel()):
    if r >= run.runs:
        ax.set_visible(False)
        continue
    model = run.snapshots[r][run.generations]
    gmm.plot_mixture(model, ax=ax, n_samples=P["n"], seed=r, original=original, point_size=2)
    ax.set_title(f"run {r}: weights {np.max(model.weights):.2f}/{np.min(model.weights):.2f}", fontsize=8)
    ax.tick_params(labelsize=6)
fig.suptitle(f"Generation {run.generations} of each run ({run.describe()}, {SCALE})", fontsize=10)
fig.tight_layout()

# %% [markdown]
# Two things have happened. Each mode has shrunk to a tiny cloud (the within-component variance keeps drifting down,
# as in chapter 1). What shrinks is the *determinant* of a component's covariance: its eigenvalues random-walk, so a
# component can also end up as a needle, vanishingly thin across and long along, reaching into regions where the
# original had no mass at all. And in many runs the two modes have become one: both components sit on the same spot. How do
# two modes 5 units apart merge, when the means themselves barely move?
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
# Against the runs:

# %%
lost = [gmm.first_below(run.metrics["min_weight"][:, r] * run.n, 1.0) for r in range(run.runs)]
merged = [gmm.first_below(run.metrics["mean_distance"][:, r], 2.5) for r in range(run.runs)]
expected = gaussian.expected_absorption_time(0.5, run.n)
absorbed = gmm.wright_fisher_absorption_cdf(run.n, 0.5, run.generations)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for r in range(run.runs):
    axes[0].plot(g, run.metrics["min_weight"][:, r], lw=0.8)
axes[0].set(xlabel="generation", ylabel="weight of the lighter component",
            title="the weights random-walk until a mode is lost")
axes[1].step(g, [np.mean([m is not None and m <= t for m in lost]) for t in g], where="post", color="C3",
             label="runs where a component expects < 1 sample (a mode is lost)")
axes[1].step(g, [np.mean([m is not None and m <= t for m in merged]) for t in g], where="post", color="C0", ls="--",
             label="runs whose means are closer than 2.5 (half the original distance)")
axes[1].plot(g, absorbed, "k", lw=1.5, label=f"two-category chain of chapter 1, N = {run.n}: P(absorbed), exact")
band = stats.binom.ppf([[0.025], [0.975]], run.runs, absorbed[None, :]) / run.runs
axes[1].fill_between(g, band[0], band[1], color="k", alpha=0.1, lw=0,
                     label=f"95% of the fractions that {run.runs} runs of the chain would give")
axes[1].axvline(expected, color="k", ls=":", lw=1, label=rf"its mean absorption time, $2N\ln 2$ = {expected:.0f}")
axes[1].set(xlabel="generation", ylabel="fraction of runs", ylim=(0, 1.05), title=f"modes merged ({run.runs} runs, {SCALE})")
axes[1].legend(fontsize=7, loc="lower right")
fig.tight_layout()
for r in range(run.runs):
    print(f"run {r:2d}: a component first expected < 1 sample at " + (f"generation {lost[r]}" if lost[r] is not None else "never")
          + ", means closer than 2.5 from " + (f"generation {merged[r]}" if merged[r] is not None else "never"))
print(f"{sum(m is not None for m in merged)} of {run.runs} runs have merged their modes by generation {run.generations}; "
      f"the two-category chain is absorbed by then with probability {absorbed[-1]:.2f}")

# %% [markdown]
# The merge comes right after the lighter component has lost its last sample (compare the two columns printed above):
# losing a mode *is* the absorption of the weights' chain. How well do the times follow the chain's exact curve? The
# grey band shows where the fraction of absorbed runs would fall 95% of the time if the weights were exactly the chain,
# for this number of runs (pointwise: the fractions of successive generations are strongly correlated, so one unlucky
# sample of runs stays off for a while). In the book profile's 16 runs the modes were lost earlier than the chain
# predicts, at the upper edge of the band for several hundred generations; Exercise 4 repeats the comparison with more
# runs and another seed, and there the chain fits closely. Note also how skewed the absorption
# time is: its mean, $2N\ln 2$, lies well to the right of its median. (In the quick profile the runs are too short for any
# merge.)
#
# This is the paper's **late model collapse** in a model that can represent the data perfectly: the mixture converges
# to a distribution that bears little resemblance to the original, a single mode with very little variance.
# Collapse does not need a weak model: it needs only finite samples, fed back.

# %% [markdown]
# ## 6. Functional approximation error: the wrong number of components
#
# The paper distinguishes the *statistical* error of finite samples (everything so far) from the *functional*
# error of a model class that cannot represent the data. The same recursion, with one component (too few: it cannot
# hold two modes) and with three (too many: it can, with one to spare), beside the right model:

# %%
side = {k: gmm.simulate(n=P["n"], generations=P["side_generations"], runs=P["side_runs"], n_components=k,
                        seed=P["seed"] + 1, snapshots=[0, P["side_generations"]], n_jobs=P["n_jobs"],
                        progress=f"{k} component(s)")
        for k in (1, 2, 3)}
fig, axes = plt.subplots(2, 3, figsize=(13, 6.2))
for j, (k, r) in enumerate(side.items()):
    for i, t in enumerate([0, r.generations]):
        gmm.plot_mixture(r.snapshots[0][t], ax=axes[i, j], n_samples=P["n"], seed=t, original=original)
        axes[i, j].set_title(f"{k} component{'s' * (k > 1)}, generation {t}", fontsize=10)
fig.suptitle(f"Run 0 of each model ({SCALE})", fontsize=10)
fig.tight_layout()

fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for (k, r), color in zip(side.items(), ["C3", "C0", "C2"]):
    gmm.plot_band(axes[0], r.generation, r.metrics["l2_sq_true"], color, label=f"{k} component{'s' * (k > 1)}")
    gmm.plot_band(axes[1], r.generation, -r.metrics["heldout_loglik"], color)
    gmm.plot_band(axes[2], r.generation, r.metrics["tail_mass"] / r.tail_alpha, color)
axes[0].set(yscale="log", xlabel="generation", title=r"squared $L^2$ distance to the original $p$")
axes[1].set(yscale="log", xlabel="generation", title="minus the held-out log-likelihood (lower is better)")
axes[2].set(xlabel="generation", title="tail mass / 1%")
axes[0].legend(fontsize=8)
fig.suptitle(f"{P['side_runs']} runs x {P['side_generations']} generations per model, n = {P['n']} ({SCALE})", fontsize=10)
fig.tight_layout()
for k, r in side.items():
    print(f"{k} component(s): median L2^2 to the original at generation 0 {r.median('l2_sq_true')[0]:.4f}, "
          f"at generation {r.generations} {r.median('l2_sq_true')[-1]:.4f}; "
          f"held-out log-lik {r.median('heldout_loglik')[0]:.3f} -> {r.median('heldout_loglik')[-1]:.3f} ({r.seconds:.0f} s)")

# %% [markdown]
# - **One component** is wrong from generation 0: a single wide Gaussian puts its peak in the empty gap between the
#   modes. The distance to the original is large at once, and that error is *systematic*: more data would not
#   reduce it. After that, the recursion is chapter 1's single-Gaussian walk.
# - **Three components** represent the data with one to spare, which splits one of the modes: as good as two at
#   generation 0. But each component is now fitted to fewer points, and the statistical drift of a component's
#   covariance is about $5/N_k$ per generation: the fewer points $N_k$ per component, the faster it shrinks. So the spare
#   component is no protection, quite the opposite.
# - **Two components** start closest and drift for the reasons of sections 4 and 5.
#
# Functional error is immediate and does not compound much; statistical error starts small and compounds. After a few
# hundred generations the right model need not even be the better one: compare the printed distances at the last
# generation.

# %% [markdown]
# ## 7. Data schedules and keeping original data
#
# The paper considers three ways of building each generation's training set (`approach`, shared with chapter 1):
#
# 1. the latest model's samples only (everything above);
# 2. the latest samples mixed with all earlier generations' data, the original included, subsampled back to $N$;
# 3. the whole accumulated mix, growing by $N$ points a generation.
#
# and `retention`, a fraction of each generation's new data taken from the original data instead of the model.
# The paper's own GMM experiment uses approach 1; the other schedules here are this book's extension. To see the
# difference within a few hundred generations we use fewer samples per generation (collapse is faster with small
# $N$) and fewer generations, since approach 3 refits a training set that grows without bound (its cost grows
# quadratically with the number of generations).

# %%
variants = SCHEDULE_VARIANTS
sched = {name: gmm.simulate(n=P["schedule_n"], generations=P["schedule_generations"], runs=P["schedule_runs"],
                            seed=P["seed"] + 2, n_jobs=P["n_jobs"], progress=name, **kw)
         for name, kw in variants.items()}
fig, axes = plt.subplots(1, 3, figsize=(15, 3.9))
for (name, r), color in zip(sched.items(), ["C3", "C1", "C2", "C0", "C4"]):
    gmm.plot_band(axes[0], r.generation, -r.metrics["heldout_loglik"], color, label=name)
    gmm.plot_band(axes[1], r.generation, r.metrics["tail_mass"] / r.tail_alpha, color)
    gmm.plot_band(axes[2], r.generation, r.metrics["l2_sq"], color)
axes[0].set(xlabel="generation", yscale="log", title="minus the held-out log-likelihood (lower is better)")
axes[1].set(xlabel="generation", title="tail mass / 1%")
axes[2].set(xlabel="generation", yscale="log", title=r"$\int (q_t - q_0)^2$")
axes[0].legend(fontsize=8)
fig.suptitle(f"{P['schedule_runs']} runs x {P['schedule_generations']} generations per schedule, "
             f"n = {P['schedule_n']} ({SCALE})", fontsize=10)
fig.tight_layout()
for name, r in sched.items():
    print(f"{name:28s} generation {r.generations}: median held-out log-lik {r.median('heldout_loglik')[-1]:8.3f} "
          f"(generation 0: {r.median('heldout_loglik')[0]:.3f}), tail mass / 1% {r.median('tail_mass')[-1] / r.tail_alpha:4.2f} "
          f"({r.seconds:.0f} s)")

# %% [markdown]
# The picture is chapter 1's. Training on the latest samples alone (approach 1) forgets; keeping the original data
# in play, whether by accumulating everything (approach 3) {cite}`gerstgrasser2024collapse`, by subsampling a pool that
# still holds it (approach 2), or by mixing a fraction of fresh original data into every generation (retention)
# {cite}`bertrand2023stability`, holds the model much closer to where it started. Even a retention of 1%, three original
# points a generation at this $N$, slows the collapse down by a large factor, though it does not stop the held-out
# likelihood from sliding. The printout gives the numbers of this run; read the figure at its stated scale: with few
# runs the bands are wide.

# %% [markdown]
# ## 8. Explore
#
# The slider below drives `gmm.plot_final_generation`: it runs one recursion with the chosen samples per generation,
# generations and retention, and draws the last generation over the original's contours. First, the same function at a
# few values, because a rendered page has no kernel to move a slider:

# %%
fig = widgets.small_multiples(
    gmm.plot_final_generation, "generations", list(P["multiples_generations"]),
    fixed=dict(n=300, seed=P["seed"], title=False), panel_size=(3.4, 2.7),
    suptitle=f"one run with n = 300 samples per generation, after a number of generations ({SCALE})",
)
fig = widgets.small_multiples(
    gmm.plot_final_generation, "retention", [0.0, 0.05, 0.2, 0.5],
    fixed=dict(n=300, generations=max(P["multiples_generations"]), seed=P["seed"], title=False), panel_size=(3.4, 2.7),
    suptitle=f"the same run after {max(P['multiples_generations'])} generations, keeping a share of original data ({SCALE})",
)

# %% [markdown]
# (With the same seed, the panels over `generations` are one and the same run stopped at different points.) Move the
# sliders in a running notebook; small $n$ and many generations collapse fastest. The schedule menu leaves out approach
# 3, whose ever-growing training set makes every refit slower.

# %%
import ipywidgets as ipw

ui = widgets.interactive_plot(
    gmm.plot_final_generation,
    n=ipw.IntSlider(value=300, min=50, max=2000, step=50, description="samples n"),
    generations=ipw.IntSlider(value=100, min=0, max=2000, step=10, description="generations"),
    retention=ipw.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.01, description="retention"),
    approach=ipw.Dropdown(options=[(f"{k}: {v}", k) for k, v in APPROACHES.items() if k != 3], value=1,
                          description="schedule"),
    seed=ipw.IntSlider(value=0, min=0, max=20, description="seed"),
)
ui

# %% [markdown]
# ## Summary
#
# - A Gaussian mixture fitted recursively to its own samples collapses even though it can represent the original
#   distribution exactly: finite samples (statistical approximation error) are enough.
# - **Early collapse**: the model first forgets the original's rare events (the likelihood of real points from the
#   original's low-density region falls first and fastest), while typical data, the overall spread and the two modes
#   are still in place. The mass on the original's tail region can even rise at first, as the model wobbles, before the
#   shrinking components empty it.
# - **Late collapse**: each mode shrinks towards a point; and the weights perform the categorical (Wright-Fisher) walk
#   of chapter 1 until one mode gets no samples, after which both components sit on the survivor. The result is a
#   single mode with very little variance, as in the paper's Figure 7.
# - The closed-form squared $L^2$ distance $\int (q_t - q_0)^2$ tracks the drift, and grows with concentration as much
#   as with displacement.
# - Too few components is a systematic error from generation 0 (functional approximation error); too many makes the
#   statistical error worse, since each component is fitted to fewer points.
# - Keeping original data in the training set, by accumulation, subsampling a pool or retention, holds the model near
#   the original.
#
# ## Exercises
#
# 1. Run the recursion with the authors' initialisation, `gmm.simulate(..., init="fresh")` (k-means at every
#    generation), for a few runs of a few hundred generations, and compare its measures with the warm start's. Do you
#    expect a difference? Why is "fresh" several times slower?
#
# :::{admonition} Solution
# :class: dropdown
# Both maximise the same likelihood on the same data; when the modes are well separated EM finds the same optimum from
# either start, so the measures agree in distribution (up to the run-to-run noise). Differences can appear once a
# component has collapsed or the modes overlap, where EM has several optima and k-means picks one afresh every
# generation. The cost is k-means: scikit-learn runs a full k-means clustering before EM, while the warm start needs
# only a few EM iterations from an answer that is already nearly right.
# :::
#
# 2. Is the point midway between the two modes in the original's tail region $T$? Compare $p(0, 0)$ with the level
#    $\lambda$ (`np.exp(gmm.tail_level(p))`) for `p = gmm.two_gaussians(separation=s)` and a few separations $s$.
#    What does the answer mean for the "tails" that collapse forgets first?
#
# :::{admonition} Solution
# :class: dropdown
# For $s = 5$ (this chapter) the midpoint is not in $T$: $p(0,0) \approx 0.0032$, about 2.6 times $\lambda \approx 0.0012$.
# For $s = 6$ it is ($p(0,0) \approx 0.0005 < \lambda \approx 0.0010$), and for larger separations the whole gap between the
# modes joins $T$. (Values from 200 000 Monte Carlo samples for $\lambda$.) So in a mixture the low-density regions are not
# only the outskirts: the *valleys between modes* are tails too, and a collapsing model empties them as well.
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
# 4. Is the weight of a component really the categorical chain? Compare the fraction of runs that have lost a mode with
#    `gmm.wright_fisher_absorption_cdf` using more runs than in section 5, for example
#    `gmm.simulate(n=1000, generations=800, runs=40, seed=11, n_jobs=2)` (about 1.5 minutes on 2 cores), at generations
#    400, 620 and 800. Also compare the spread of the weights, $\mathbb E[(w_t - \tfrac12)^2]$, with the chain's
#    $\tfrac14\bigl(1 - (1 - 1/N)^{t+1}\bigr)$ (valid before absorption matters).
#
# :::{admonition} Solution
# :class: dropdown
# With `lost = [gmm.first_below(r.metrics["min_weight"][:, j] * 1000, 1.0) for j in range(40)]`, this seed gave 7.5%,
# 22.5% and 32.5% of runs that had lost a mode by generations 400, 620 and 800, against the chain's exact 7.4%, 21.7% and
# 33.6%; the mean squared deviation of the lighter weight from $\tfrac12$ at generation 100 was 0.026 against the
# chain's 0.024. The weights of a well-separated mixture follow the chain: fitting by EM adds essentially no noise to
# the count of the samples that fell into each mode.
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
