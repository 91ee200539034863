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
# # Gaussian resampling error
#
# The simplest generative model there is: a single Gaussian. Fit its mean and variance to $n$ samples, draw
# $n$ new samples from the fit, fit again, and so on. Shumailov et al. {cite}`shumailov2023curse,shumailov2024nature`
# use this recursion to show that model collapse needs no neural network at all: finite samples alone
# (*statistical approximation error*) make every run lose its tails first and, in the end, its whole variance.

# %% tags=["skip-execution", "remove-cell"]
# Colab only: install this book's helper package and its requirements.
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "model-collapse-book @ git+https://github.com/model-collapse-book/model-collapse"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", package])

# %% tags=["remove-input"]
# Set-up: imports, the page's scale (printed below the opening figure) and the main simulation.
import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from collapse_utils import gaussian, live, plotting, profiles, prose, widgets
from collapse_utils.plotting import COLUMN_WIDTH, first_below, plot_band
from collapse_utils.progress import progress
from collapse_utils.schedules import SCHEDULE_NAMES, SCHEDULE_VARIANTS

plotting.style()

# n: samples per generation; schedule_*: the comparison of data schedules; growth_*: the sample-size
# experiment; estimator_runs: the authors' np.std beside the unbiased estimate; theorem_runs: the two-mode
# truth over the main run's generations; categorical_runs: the discrete chain. Everything runs on the CPU:
# the `gpu` profile only goes further (the paper's scale or beyond, a few minutes at most).
# fmt: off
P = profiles.choose(
    quick=dict(explore_n=(10, 100), explore_generations=(100, 1000), n=100, generations=300, runs=500, schedule_generations=200, schedule_runs=100, multiples_runs=100,
               sweep_runs=500, growth_generations=200, growth_runs=1000, functional_n=1000, categorical_runs=1000, estimator_runs=500, theorem_runs=500),
    book=dict(explore_n=(10, 100, 1000), explore_generations=(100, 1000, 5000), n=100, generations=2000, runs=5000, schedule_generations=1000, schedule_runs=300, multiples_runs=200,
              sweep_runs=2000, growth_generations=1000, growth_runs=4000, functional_n=1000, categorical_runs=5000, estimator_runs=2000, theorem_runs=2000),
    paper=dict(explore_n=(10, 100, 1000), explore_generations=(100, 1000, 5000), n=100, generations=10000, runs=10000, schedule_generations=2000, schedule_runs=1000,
               multiples_runs=300, sweep_runs=5000, growth_generations=2000, growth_runs=10000, functional_n=1000,
               categorical_runs=20000, estimator_runs=10000, theorem_runs=10000),
    gpu=dict(explore_n=(10, 100, 1000), explore_generations=(100, 1000, 5000), n=100, generations=10000, runs=20000, schedule_generations=5000, schedule_runs=1000,
             multiples_runs=300, sweep_runs=10000, growth_generations=5000, growth_runs=20000, functional_n=1000,
             categorical_runs=20000, estimator_runs=20000, theorem_runs=20000),
)
# fmt: on
run = gaussian.simulate(P["n"], P["generations"], P["runs"], seed=profiles.seed(0), method="exact")
THIN = 12  # runs drawn one by one, as thin lines (the captions of both figures that draw them say "twelve")
g = run.generation
shown = gaussian.sample_generations(run.generations)  # the generations drawn on logarithmic axes
w2 = gaussian.wasserstein2_sq(run.mean, run.var)
exact_w2 = gaussian.expected_w2_sq(run.n, g)
collapsed = gaussian.collapsed_fraction(run, 0.1)
w2_q = np.quantile(w2[shown], [0.1, 0.5, 0.9, 0.99], axis=1)
every = np.unique(np.r_[np.arange(0, run.generations + 1, max(1, run.generations // 200)), run.generations])
median_w2 = np.median(w2[every], axis=1)  # the typical run's distance, on an even grid of generations

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The whole chapter in one figure. Left: the fitted standard deviation of twelve runs (thin lines), with the median and the 10-90% band over all runs, against the truth's σ = 1. Right: the squared Wasserstein-2 distance between each generation and the truth: the median run with its 10-90% band and 99th percentile, the mean over the simulated runs, and the exact expectation. Runs, generations and n: see *This page ran at* below.", "name": "fig-gauss-key"}, "image": {"alt": "Fitted standard deviations collapsing over generations, and the typical distance from the truth levelling off while its expectation grows"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.3))
ax = axes[0]
for j in range(THIN):
    ax.plot(g, run.std[:, j], lw=0.6, alpha=0.7)
plot_band(ax, shown, run.std[shown].T, color="k", label="median, 10-90% of runs", lw=1.5)
ax.axhline(1.0, color="0.5", ls=":", lw=1, label="truth")
ax.set(xscale="symlog", yscale="log", xlim=(0, run.generations), ylim=(1e-6, 3), xlabel="generation",
       ylabel=r"fitted $\sigma_t$", title="fitted standard deviation")
ax.legend(loc="lower left")
ax = axes[1]
ax.fill_between(shown, w2_q[0], w2_q[2], color="C0", alpha=0.2, lw=0)
ax.plot(shown, w2_q[1], "C0", lw=1.8, label="median run (10-90%)")
ax.plot(shown, w2_q[3], "C0:", lw=1, label="99th percentile")
ax.plot(shown, w2[shown].mean(axis=1), "C1", lw=1.2, label="mean over runs")
ax.plot(g, exact_w2, "k--", lw=1.2, label="exact expectation")
ax.set(xscale="symlog", yscale="log", xlim=(0, run.generations), xlabel="generation", ylabel=r"$W_2^2$ from the truth",
       title=f"distance from the truth, n = {run.n}")
ax.legend(loc="upper left")
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(gaussian.takeaway(run.n, run.runs, collapsed, median_w2, exact_w2[every]))

# %% [markdown]
# This chapter builds the intuition that the later chapters rely on:
#
# 1. {ref}`the recursion <gauss-recursion>`, simulated for thousands of runs at once;
# 2. {ref}`early collapse <gauss-early>`: the model forgets the tails of the original distribution;
# 3. {ref}`late collapse <gauss-late>`: the variance goes to zero, and each run's mean settles;
# 4. {ref}`the paper's theorem <gauss-theorem>` (Theorem 3.1), and why the *expected* distance from the truth
#    grows while the *typical* one does not;
# 5. theory beside simulation, including the paper's first-order Wasserstein formula and its condition on
#    growing sample sizes;
# 6. {ref}`the authors' own simulation <gauss-authors>`, which uses another variance estimate;
# 7. {ref}`the paper's three sources of error <gauss-errors>`, with a truth that is not Gaussian;
# 8. {ref}`three data schedules <gauss-schedules>`, and two ways of keeping original data;
# 9. {ref}`the discrete case <gauss-discrete>`, where collapse is the absorption of a Markov chain;
# 10. {ref}`sliders <gauss-explore>` to explore it all.
#
# Every number in the text below that depends on the run is computed by the code beside it (or printed just
# above it), so the chapter stays true at any seed. This page ran at the scale below (the other scales:
# {doc}`../book/how-to-run`).

# %% tags=["hide-input"]
profiles.report("Chapter 1", P)
prose.show(prose.ran_at([
    ("samples per generation $n$", P["n"], "any $M_i$ (the theory of supplementary section 3.1)"),
    ("generations (main figures)", P["generations"], "$t \\to \\infty$ (theory); 1,000 in the authors' simulation"),
    ("independent runs", P["runs"], "not fixed (theory); 1 per $n$ in the authors' simulation"),
    ("variance estimate", "unbiased, $1/(n-1)$", "unbiased (theory); `np.std`, $1/n$, in the authors' simulation"),
]))

# %% [markdown]
# (gauss-recursion)=
# ## The recursion
#
# The true distribution is $\mathcal N(0, 1)$. It is not a generation: **generation 0** is the Gaussian
# fitted to the original data, $n$ draws of the truth, and **generation $t+1$** is the Gaussian whose mean
# and variance are estimated from $n$ samples of generation $t$:
#
# $$
# x^{(t)}_1, \dots, x^{(t)}_n \sim \mathcal N(\mu_t, \sigma_t^2), \qquad
# \mu_{t+1} = \frac1n \sum_j x^{(t)}_j, \qquad
# \sigma^2_{t+1} = \frac1{n-1} \sum_j \bigl(x^{(t)}_j - \mu_{t+1}\bigr)^2 .
# $$
#
# So generation $t$ is the result of $t+1$ fits. The variance estimate is the *unbiased* one, as in the
# paper's theory (its Theorem 3.1, {ref}`below <gauss-theorem>`), so every single step is as faithful as a
# step can be: $\mathbb E[\sigma^2_{t+1} \mid \sigma^2_t] = \sigma^2_t$. (The authors' own simulation uses
# another estimate; {ref}`a section below <gauss-authors>` runs it.)
#
# For a Gaussian, the mean and the variance of the sample are *sufficient*: we know their exact joint
# distribution given the previous fit, $\mu_{t+1} \sim \mathcal N(\mu_t, \sigma_t^2/n)$ and
# $(n-1)\sigma^2_{t+1}/\sigma^2_t \sim \chi^2_{n-1}$, independently. So we do not need to draw the $n$ points
# at all: `gaussian.simulate(..., method="exact")` draws the two statistics directly, at a cost that does not
# depend on $n$, for all runs at once. (`method="sample"` draws the points; the tests check that both agree in
# distribution.) Three runs of five generations, one row per generation:

# %%
demo = gaussian.simulate(n=100, generations=4, runs=3, seed=profiles.seed(12), method="exact")
print("generation   fitted means (3 runs)        fitted variances (3 runs)")
for t in demo.generation:
    print(f"{t:>10}   {np.array2string(demo.mean[t], precision=3):28s} {np.array2string(demo.var[t], precision=3)}")

# %% [markdown]
# {numref}`fig-gauss-key` came from the same call at the page's scale,
# `gaussian.simulate(P["n"], P["generations"], P["runs"], method="exact")`, made in the page's first cell.
# Below, the fitted mean of twelve of those runs, and the fitted density of one of them.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The fitted mean of twelve runs of the main simulation, generation by generation (the same runs as the thin lines of the opening figure).", "name": "fig-gauss-runs"}, "image": {"alt": "Fitted means of twelve runs against generation"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.8))
for j in range(THIN):
    ax.plot(g, run.mean[:, j], lw=0.8)
ax.set(title=f"fitted mean, {THIN} runs", xlabel="generation", ylabel=r"$\mu_t$")
fig.tight_layout()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The fitted density of one run at a few generations, beside the true density (dotted).", "name": "fig-gauss-density"}, "image": {"alt": "Fitted Gaussian densities of one run at several generations and the true density"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.8))
x = np.linspace(-4, 4, 400)
ax.plot(x, stats.norm.pdf(x), "k:", lw=1.5, label="truth")
snapshots = [t for t in (0, 10, 100, 500, 1000, 2000, 10000) if t <= run.generations]
for t, color in zip(snapshots, plt.cm.viridis(np.linspace(0, 0.9, len(snapshots)))):
    ax.plot(x, stats.norm.pdf(x, run.mean[t, 0], run.std[t, 0]), color=color, label=f"generation {t}")
ax.set(title="the fitted density of one run", xlabel="x", ylim=(0, 2.5))
ax.legend(ncol=2)
fig.tight_layout()

# %% [markdown]
# Each run is a different story, but the model behind them is the same: the mean is a random walk whose steps
# have the size of the current standard deviation, and the standard deviation is a product of random factors,
# which (as we will see) shrinks in the long run. As a run's standard deviation falls, its density narrows
# and its mean takes ever smaller steps.

# %% [markdown]
# (gauss-early)=
# ## Early collapse: the tails
#
# How much of the original distribution's *tails* does the fitted model still cover? For a threshold $c$, the
# model of generation $t$ assigns the mass
# $P_t(|X| > c) = \Phi\bigl(\tfrac{-c-\mu_t}{\sigma_t}\bigr) + 1 - \Phi\bigl(\tfrac{c-\mu_t}{\sigma_t}\bigr)$
# to the region beyond $c$ original standard deviations (`gaussian.tail_mass`). We compare it with the
# truth's, $2(1 - \Phi(c))$: a ratio of 1 means the tail is intact. Which halves first, a tail or the
# variance, is computed below and written into the title of {numref}`fig-gauss-early`. (The medians are
# computed on the generations that the logarithmic axis shows, and at every generation where a curve first
# falls below one half.)

# %%
thresholds = [2.0, 3.0, 4.0]
ratio = {c: gaussian.median_tail_ratio(run, c, shown) for c in thresholds}
median_var = np.median(run.var[shown], axis=1)
half = {c: gaussian.first_crossing(lambda rows, c=c: gaussian.median_tail_ratio(run, c, rows), shown, 0.5)
        for c in thresholds}
half_var = gaussian.first_crossing(lambda rows: np.median(run.var[rows], axis=1), shown, 0.5)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Early collapse: the median run's tail mass beyond 2, 3 and 4 standard deviations of the truth and its variance, each relative to the truth; the dotted line marks one half. The title says which halved first at this seed.", "name": "fig-gauss-early"}, "image": {"alt": "Tail masses and variance of the median run relative to the truth, against generation"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6))
for c, color in zip(thresholds, ["C2", "C1", "C3"]):
    ax.plot(shown, ratio[c], color=color, lw=2, label=rf"tail mass beyond {c:g}$\sigma$")
ax.plot(shown, median_var, "k--", lw=1.5, label="variance")
ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
ax.set_xscale("symlog", linthresh=1)
ax.set(xlim=(0, run.generations), xlabel="generation", ylabel="median run, relative to the truth", ylim=(0, 1.3))
ax.set_title(f"Early collapse: {gaussian.early_collapse_title(half, half_var)}\n(n = {run.n}, {run.runs:,} runs)")
ax.legend(loc="lower left")
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(gaussian.early_collapse_sentence(half, half_var))

# %% [markdown]
# Two effects pull in opposite directions. A narrower model loses tail mass, and the further out the tail,
# the faster: the mass beyond $c$ depends on $\sigma_t$ through $\Phi(-c/\sigma_t)$, which is exponentially
# sensitive to $\sigma_t$ when $c$ is large. The sentence below computes it for a standard deviation 10% too
# small and a mean still at 0 (theory, not the run):

# %% tags=["remove-input"]
shrunk = {c: gaussian.tail_mass(0.0, 0.81, c) / gaussian.tail_mass(0.0, 1.0, c) for c in thresholds}
prose.show(
    "With σ = 0.9 the model keeps "
    + prose.join_words([f"{prose.percent(shrunk[c])} of the mass beyond {c:g}σ" for c in thresholds])
    + ", and 81% of the variance."
)

# %% [markdown]
# But the mean drifts as well, and a model whose mean has moved puts *more* mass into the tail on the side it
# moved to. That gain matters most for the nearer tails, so whether a tail halves before the variance depends on
# how far out it lies; the title of {numref}`fig-gauss-early` and the sentence under it say what happened in this
# run. Where the far tails halve before the variance, the improbable events of the original data are forgotten
# while the bulk still looks fine: this is what the paper calls **early model collapse**.

# %% [markdown]
# (gauss-late)=
# ## Late collapse: the variance goes to zero, each run's mean settles
#
# Over many generations the runs collapse. Below: the distribution of the fitted variance over runs at a few
# generations, the median and the mean over runs, and the fraction of runs whose standard deviation has fallen
# below a threshold.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The fitted variance: its distribution over runs at a few generations (left), and its median and mean over runs beside the theory (right).", "name": "fig-gauss-variance"}, "image": {"alt": "Histograms of the fitted variance at several generations, and its median and mean against generation"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2))
hist_gens = [t for t in (0, 10, 100, 1000, 2000, 10000) if t <= run.generations]
bins = np.logspace(-16, 1, 86)
for t, color in zip(hist_gens, plt.cm.viridis(np.linspace(0, 0.9, len(hist_gens)))):
    axes[0].hist(np.clip(run.var[t], 1e-16, None), bins=bins, histtype="step", color=color, lw=1.5, label=f"gen. {t}")
axes[0].set(xscale="log", xlabel=r"fitted variance (below $10^{-16}$: first bin)", ylabel="runs",
            title="distribution over runs")
axes[0].legend()
axes[1].plot(shown, median_var, label="median over runs")
axes[1].plot(shown, run.var[shown].mean(axis=1), label="mean over runs")
axes[1].axhline(1.0, color="k", ls=":", label=r"$\mathbb{E}[\sigma_t^2] = 1$")
axes[1].plot(g, np.exp(gaussian.expected_log_var(run.n, g)), "k--", lw=1, label=r"$\exp \mathbb{E}[\log \sigma_t^2]$")
axes[1].set(yscale="log", xlabel="generation", title="the variance (theory: black)")
axes[1].legend()
fig.tight_layout()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The share of runs whose fitted standard deviation has fallen below 0.5, 0.1 and 0.01.", "name": "fig-gauss-collapsed"}, "image": {"alt": "Share of collapsed runs against generation for three thresholds"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.8))
for thr in (0.5, 0.1, 0.01):
    ax.plot(g, gaussian.collapsed_fraction(run, thr), label=rf"$\sigma_t < {thr:g}$")
ax.set(xlabel="generation", ylabel="fraction of runs", title="collapsed runs")
ax.legend()
fig.tight_layout()
print(
    f"generation {run.generations}: {prose.percent(collapsed[-1], 1)} of runs have sigma < 0.1, "
    f"median variance {np.median(run.var[-1]):.3g}, mean variance over runs {run.var[-1].mean():.3g}"
)

# %% [markdown]
# ### The paradox of the unbiased estimator
#
# The expected variance stays *exactly* 1 in every generation, since each step is unbiased and
# $\mathbb E[\sigma^2_{t+1}] = \mathbb E\bigl[\mathbb E[\sigma^2_{t+1} \mid \sigma^2_t]\bigr] = \mathbb E[\sigma_t^2]$.
# Yet the typical run collapses. Both are true because the variance is a *product* of independent factors,
# $\sigma_t^2 = \prod_{s=0}^{t} \chi^2_{n-1,s}/(n-1)$ (one per fit), so its logarithm is a random walk:
#
# $$
# \log \sigma_t^2 = \sum_{s=0}^{t} \log \frac{\chi^2_{n-1,s}}{n-1}, \qquad
# \mathbb E \log \frac{\chi^2_{n-1}}{n-1} = \psi\!\left(\tfrac{n-1}{2}\right) + \log\tfrac{2}{n-1} \approx -\tfrac{1}{n-1} < 0 .
# $$
#
# By Jensen's inequality the mean of the log is below the log of the mean: the walk drifts downwards, so
# $\log \sigma_t^2 \to -\infty$ almost surely, in fact linearly in $t$: **in each run the variance shrinks
# geometrically**. The expectation of 1 is held up by ever rarer runs with ever larger variance:
# $\operatorname{Var}[\sigma_t^2] = (1 + \tfrac{2}{n-1})^{t+1} - 1$ explodes. (These formulas are derived
# here from the $\chi^2$ factors.)
#
# (gauss-typical)=
# ### Expected against typical: each run's mean settles
#
# The same holds for the mean. Its steps are $\mathcal N(0, \sigma_t^2/n)$, so
# $\mathbb E[\mu_t^2] = (t+1)/n$ grows without bound, and with it the expected squared Wasserstein-2 distance
# from the truth (the black dashed line of {numref}`fig-gauss-key`). But in each run the steps shrink with
# $\sigma_t$, geometrically, so their sum converges: **each run's mean converges almost surely to a limit
# $\mu_\infty$, and each run's $W_2^2 = \mu_t^2 + (\sigma_t - 1)^2$ stays bounded**, tending to
# $\mu_\infty^2 + 1$. The growing expectation comes from rare runs. How rare can be computed: weighting each
# run by its variance (the weighting that $\mathbb E[\sigma_t^2]$ is the total of) shifts $\log\sigma_t^2$ by a
# computable amount, and a saddle-point formula gives the share of runs beyond it
# (`gaussian.expectation_carriers`, derived here and checked against simulation in the tests).

# %%
carriers = gaussian.expectation_carriers(np.full(run.generations + 1, run.n))
start = run.generations // 2
late_moves = np.abs(run.mean[-1] - run.mean[start])

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Each run's mean settles. Left: each run's fitted mean at the last generation (histogram, log scale), beside the normal density whose variance is the expectation (t + 1)/n. Right: how far each run's mean still moves after generation t, |μ_T - μ_t| (median and 10-90% of runs), beside the distance the expectation alone would suggest, the square root of (T - t)/n.", "name": "fig-gauss-limits"}, "image": {"alt": "Histogram of final means against a wide normal density, and the remaining movement of each run's mean shrinking to zero"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.1))
ax = axes[0]
spread = np.sqrt(gaussian.var_of_mean(run.n, run.generations))
edges = np.linspace(-4 * spread, 4 * spread, 81)
beyond = np.mean(np.abs(run.mean[-1]) > edges[-1])
ax.hist(run.mean[-1], bins=edges, weights=np.full(run.runs, 1 / (run.runs * (edges[1] - edges[0]))), alpha=0.6,
        label="each run's mean" + (f" ({prose.percent(beyond, 1)} beyond)" if beyond else ""))
ax.plot(edges, stats.norm.pdf(edges, 0, spread), "k--", lw=1.2, label=r"$\mathcal{N}(0, (T+1)/n)$")
ax.set(yscale="log", xlabel=rf"$\mu_T$, generation T = {run.generations}", ylabel="density", title="where each run's mean ends")
ax.set_ylim(top=ax.get_ylim()[1] * 30)  # room for the legend above the bars
ax.legend(loc="upper center")
ax = axes[1]
ahead = shown[shown < run.generations]
remaining = np.abs(run.mean[-1] - run.mean[ahead])
lo, med, hi = np.quantile(remaining, [0.1, 0.5, 0.9], axis=1)
ax.fill_between(ahead, lo, hi, color="C0", alpha=0.2, lw=0)
ax.plot(ahead, med, "C0", label=r"$|\mu_T - \mu_t|$, median run")
ax.plot(ahead, np.sqrt((run.generations - ahead) / run.n), "k--", lw=1.2, label=r"$\sqrt{(T-t)/n}$")
ax.set(xscale="symlog", yscale="log", xlim=(0, run.generations), xlabel="generation t", title="how far the mean still moves")
ax.legend(loc="lower left")
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(
    gaussian.typical_sentence(run.generations, exact_w2[-1], w2[-1].mean(), np.median(w2[-1]), np.quantile(w2[-1], 0.9),
                              run.runs)
    + " " + gaussian.mean_limit_sentence(late_moves, run.mean[-1], spread, start, run.generations)
    + " " + gaussian.carriers_sentence(run.generations, carriers.fraction[-1], run.runs)
)

# %% [markdown]
# So "the distance from the truth grows without bound" is true of the expectation only. A typical run
# collapses to a point mass $\delta_{\mu_\infty}$ at a random place and stays there: its squared distance from
# the truth settles at $\mu_\infty^2 + 1$. The expectation keeps growing because ever rarer runs keep their
# variance for longer and wander further.
#
# (gauss-theorem)=
# ## The paper's theorem
#
# The paper states this recursion's fate as its **Theorem 3.1 (Gaussian model collapse)**
# {cite}`shumailov2024nature`. In this chapter's notation (our paraphrase):
#
# > *Assume the original data are sampled from a distribution $\mathcal D_0$, **not necessarily Gaussian**,
# > with non-zero sample variance. Assume every generation is fitted with the **unbiased** sample mean and
# > variance estimators to a **fixed** number $n$ of samples of the previous generation,
# > $X^{(t)}_j \mid \mu_t, \Sigma_t \sim \mathcal N(\mu_t, \Sigma_t)$. Then, as $t \to \infty$,*
# >
# > $$\mathbb E\bigl[W_2^2\bigl(\mathcal N(\mu_t, \Sigma_t), \mathcal D_0\bigr)\bigr] \to \infty
# > \qquad\text{and}\qquad \Sigma_t \xrightarrow{\text{a.s.}} 0 .$$
#
# The Nature version states it for a Gaussian in any dimension: $\mu_t$ a mean vector and $\Sigma_t$ a covariance
# matrix, $W_2$ the Wasserstein-2 distance between $\mathbb R^d$-valued distributions; in one dimension, as in
# this chapter, $\Sigma_t = \sigma_t^2$. Three remarks on what the statement needs and says:
#
# - **$\mathcal D_0$ enters only through generation 0.** After the first fit every generation samples a Gaussian,
#   so a non-Gaussian truth changes only the distribution of $(\mu_0, \sigma_0^2)$. For $W_2$ to be finite,
#   $\mathcal D_0$ must have finite first two moments (implicit in the statement). The chapter's two-mode truth is
#   exactly this case ({ref}`below <gauss-two-mode-theorem>`).
# - **The two conclusions are of different kinds.** The variance goes to zero *almost surely*: in (almost) every
#   run. The distance diverges *in expectation*: as the previous section showed, each run's distance stays bounded.
# - **The estimator matters.** With the unbiased estimate, $\mathbb E[\sigma_t^2]$ stays at the truth's variance
#   and $\mathbb E[\mu_t^2]$ grows like $t/n$. With the maximum-likelihood estimate the expectation behaves
#   differently ({ref}`below <gauss-authors>`).

# %% tags=["remove-input"]
notes = [gaussian.theorem_note(collapsed[-1], gaussian.rise(exact_w2[every]), gaussian.rise(median_w2))]
prose.show(notes[-1])

# %% [markdown]
# ## Theory beside simulation
#
# Everything about this recursion can be computed exactly, so let us check the simulation against it on the
# same axes (generation $t$ is $t+1$ fits):
#
# - **one step**: the sampling distributions of the fitted mean, $\mathcal N(\mu, \sigma^2/n)$, and of the
#   unbiased variance, $\sigma^2 \chi^2_{n-1}/(n-1)$ (textbook results);
# - **the log-variance**: mean $(t+1)\,[\psi(\tfrac{n-1}2) + \log\tfrac2{n-1}]$ and standard deviation
#   $\sqrt{(t+1)\,\psi'(\tfrac{n-1}2)}$ (derived here);
# - **the mean's drift**: $\operatorname{Var}[\mu_t] = (t+1)/n$, since $\mathbb E[\sigma^2_s] = 1$ for all $s$ (derived here).
#
# A curve compared with its theory at every one of thousands of generations strays beyond 3 standard errors
# somewhere by chance alone, so each curve is judged by its largest gap against the level that a correct
# simulation exceeds with probability 1% over that many generations (`gaussian.max_z_level`).

# %%
small = gaussian.simulate(10, min(run.generations, 200), P["runs"], seed=profiles.seed(1), method="sample")
gs = small.generation
mu_theory, sd_theory = gaussian.expected_log_var(small.n, gs), gaussian.sd_log_var(small.n, gs)
m2, se2 = (run.mean**2).mean(axis=1), (run.mean**2).std(axis=1) / np.sqrt(run.runs)
gaps = {
    "the mean of the log-variance": gaussian.largest_gap(small.log_var.mean(axis=1), mu_theory, sd_theory / np.sqrt(small.runs)),
    "the mean's drift": gaussian.largest_gap(m2, gaussian.var_of_mean(run.n, g), se2),
}
k_level = gaussian.max_z_level(len(g))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: the fitted mean and variance of generation 0 over runs (n = 10), with their exact sampling distributions. Right: the log-variance over generations, a random walk with a downward drift, simulation beside theory.", "name": "fig-gauss-walk"}, "image": {"alt": "Sampling distributions of the fitted mean and variance, and the log-variance against generation"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2))
ax = axes[0]
ax.hist(small.var[0], bins=80, density=True, alpha=0.5, label="fitted variance")
xs = np.linspace(1e-3, small.var[0].max(), 400)
ax.plot(xs, gaussian.fitted_var_pdf(xs, 1.0, small.n), "k", label=r"$\chi^2_{n-1}/(n-1)$")
ax.hist(small.mean[0], bins=80, density=True, alpha=0.5, label="fitted mean")
xm = np.linspace(-1.5, 1.5, 400)
ax.plot(xm, gaussian.fitted_mean_pdf(xm, 0.0, 1.0, small.n), "C3", label=r"$\mathcal{N}(0, 1/n)$")
ax.set(title=f"generation 0, n = {small.n}", xlabel="value")
ax.legend()
ax = axes[1]
ax.fill_between(gs, mu_theory - sd_theory, mu_theory + sd_theory, color="k", alpha=0.15, label=r"theory: mean $\pm$ 1 sd")
ax.plot(gs, mu_theory, "k--", label="theory: mean")
ax.plot(gs, small.log_var.mean(axis=1), "C0", label="simulation: mean")
ax.plot(gs, small.log_var.mean(axis=1) + small.log_var.std(axis=1), "C0:", label=r"simulation: $\pm$ 1 sd")
ax.plot(gs, small.log_var.mean(axis=1) - small.log_var.std(axis=1), "C0:")
ax.set(title=r"$\log \sigma_t^2$: a random walk, drifting down", xlabel="generation")
ax.legend()
fig.tight_layout()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The mean drifts: the mean over runs of the squared fitted mean (with two standard errors), beside the theory (t + 1)/n.", "name": "fig-gauss-drift"}, "image": {"alt": "Mean squared fitted mean against generation, simulation and theory"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.0))
ax.plot(g, m2, "C0", label=r"simulation: mean of $\mu_t^2$ ($\pm$ 2 SE)")
ax.fill_between(g, m2 - 2 * se2, m2 + 2 * se2, color="C0", alpha=0.2, lw=0)
ax.plot(g, gaussian.var_of_mean(run.n, g), "k--", label=r"theory: $\mathrm{Var}[\mu_t] = (t+1)/n$")
ax.set(title=f"the mean drifts (n = {run.n})", xlabel="generation")
ax.legend()
fig.tight_layout()

# %% tags=["remove-input"]
expected_carriers = {"the mean of the log-variance": None, "the mean's drift": carriers.fraction * run.runs}
prose.show(gaussian.within_error_sentence({name: z for name, (z, _, _) in gaps.items()}, k_level, points=len(g)))
explanation = gaussian.gap_explanations(gaps, k_level, expected_carriers)
if explanation:
    prose.show(explanation)

# %% [markdown]
# The log-variance is a sum of independent terms with finite variance, so its mean over runs converges fast and
# nothing rare carries it. The mean's drift is another matter: its expectation $(t+1)/n$ is carried, at late
# generations, by the rare runs of {ref}`the section above <gauss-typical>`, so a finite simulation can only fall
# short of it, and its standard errors, computed from the same runs, cannot tell. The sentence above says which
# case this run is in.
#
# ## The Wasserstein-2 distance, and the paper's condition on sample sizes
#
# How far is generation $t$ from the truth? Between Gaussians the Wasserstein-2 distance is explicit,
# $W_2^2 = \mu_t^2 + (\sigma_t - 1)^2$. The paper's supplementary information (section 3.1.1, eq. 6) states, for
# sample sizes $M_i$ (generation $i$ fitted to $M_i$ points), to first order {cite}`shumailov2024nature`:
#
# > $\mathbb E\bigl[W_2^2(\mathcal N(\mu, \sigma^2), \mathcal N(\mu_{n+1}, \sigma^2_{n+1}))\bigr] = \tfrac32\,\sigma^2\bigl(\tfrac1{M_0} + \tfrac1{M_1} + \dots + \tfrac1{M_n}\bigr) + O(2),$
#
# and concludes that the distance stays finite only if $M_i$ grows *superlinearly*. (The paper's $\mu_{n+1}$
# comes from $n+1$ fits: in this book's numbering it is generation $n$.) This chapter derives the exact
# expectation (`gaussian.expected_w2_sq_sizes`): the mean contributes $\sum_{i\le t} 1/M_i$ and the standard
# deviation $2\bigl(1 - \prod_{i\le t} c_{M_i}\bigr)$ with
# $c_M = \mathbb E\sqrt{\chi^2_{M-1}/(M-1)} \approx 1 - \tfrac1{4M}$, which to first order adds
# $\tfrac12 \sum 1/M_i$: together the paper's $\tfrac32$. For a constant $M_i = n$ the exact value is
# $(t+1)/n + 2(1 - c_n^{t+1})$; the first-order formula holds while $t \ll n$ and overshoots once the variance
# term saturates (it cannot exceed 2, the distance of a point mass from $\sigma = 1$).

# %%
const_sizes = np.full(run.generations + 1, run.n)
breakdown = gaussian.first_order_breakdown(run.n, run.generations, tolerance=0.1)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The expected squared Wasserstein-2 distance from the truth: the simulation's mean over runs (with two standard errors), the exact expectation, and the paper's first-order formula; the vertical line marks where the first-order formula is first 10% off.", "name": "fig-gauss-w2"}, "image": {"alt": "Expected squared Wasserstein-2 distance against generation: simulation, exact and first-order formula"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6))
m, se = w2.mean(axis=1), w2.std(axis=1) / np.sqrt(run.runs)
ax.plot(g, m, "C0", label=r"simulation: mean of $W_2^2$ ($\pm$ 2 SE)")
ax.fill_between(g, m - 2 * se, m + 2 * se, color="C0", alpha=0.2, lw=0)
ax.plot(g, exact_w2, "k--", label=r"exact: $(t+1)/n + 2(1-c_n^{t+1})$")
ax.plot(g, gaussian.w2_first_order(const_sizes), "C3:", lw=2, label=r"paper, first order: $\frac{3}{2}(t+1)/n$")
if breakdown is not None:
    ax.axvline(breakdown, color="0.5", lw=1)
    ax.text(breakdown, ax.get_ylim()[1] * 0.9, " first order 10% off", fontsize=9, va="top")
ax.set(xscale="symlog", yscale="log", xlabel="generation", ylabel=r"$\mathbb{E}[W_2^2]$", xlim=(0, run.generations),
       title=f"distance from the truth, n = {run.n}")
ax.legend(loc="upper left")
fig.tight_layout()

# %% tags=["remove-input"]
where = (
    f"generation {breakdown} (about {prose.number(breakdown / run.n, 1)} n)" if breakdown is not None
    else f"no generation up to {run.generations}"
)
z_w2, i_w2, below_w2 = gaussian.largest_gap(m, exact_w2, se)
prose.show(
    f"The first-order formula is first more than 10% off the exact expectation at {where}. "
    + gaussian.within_error_sentence({"the mean of $W_2^2$": z_w2}, k_level, points=len(g))
    + ("" if z_w2 <= k_level else " " + gaussian.gap_explanation(
        "the mean of $W_2^2$", z_w2, k_level, below_w2, carriers.fraction[i_w2] * run.runs))
)
notes.append(gaussian.first_order_note(breakdown, run.n, run.generations, z_w2, k_level))
prose.show(notes[-1])

# %% [markdown]
# Now the paper's condition. We let the sample size **stay constant**, **grow linearly**, $M_i = M_0 (i+1)$, or
# **grow superlinearly**, $M_i = M_0 (i+1)^2$ (`gaussian.sample_sizes`), starting from $M_0 = 10$, and simulate
# each schedule (`gaussian.simulate_sizes`, exact method). $\sum 1/M_i$ diverges for the first two (like $t$ and
# like $\log t$) and converges for the third.

# %%
M0, GG = 10, P["growth_generations"]
growth = {}
for k, name in enumerate(progress(gaussian.GROWTHS, desc="growth")):
    sizes = gaussian.sample_sizes(M0, GG, name)
    r = gaussian.simulate_sizes(sizes, P["growth_runs"], seed=profiles.seed(10 + k))
    d = gaussian.wasserstein2_sq(r.mean, r.var)
    growth[name] = dict(sizes=sizes, mean=d.mean(axis=1), se=d.std(axis=1) / np.sqrt(d.shape[1]),
                        exact=gaussian.expected_w2_sq_sizes(sizes), carriers=gaussian.expectation_carriers(sizes))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The expected squared Wasserstein-2 distance when the sample size stays constant, grows linearly or grows superlinearly: the simulation's mean over runs (bands: two standard errors), the exact expectation (dashed) and the paper's first-order formula (dotted).", "name": "fig-gauss-growth"}, "image": {"alt": "Expected squared Wasserstein-2 distance for constant, linear and superlinear sample sizes"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6))
gg = np.arange(GG + 1)
for (name, gr), color in zip(growth.items(), ["C3", "C1", "C2"]):
    ax.plot(gg, gr["mean"], color=color, label=f"{name}: simulation")
    ax.fill_between(gg, np.maximum(gr["mean"] - 2 * gr["se"], 0.5 * gr["mean"]), gr["mean"] + 2 * gr["se"],
                    color=color, alpha=0.2, lw=0)
    ax.plot(gg, gr["exact"], "--", color=color, lw=1)
    ax.plot(gg, gaussian.w2_first_order(gr["sizes"]), ":", color=color, lw=1.5)
ax.plot([], [], "k--", lw=1, label="exact")
ax.plot([], [], "k:", lw=1.5, label="paper, first order")
ax.set(xscale="symlog", yscale="log", xlabel="generation", ylabel=r"$\mathbb{E}[W_2^2]$", xlim=(0, GG),
       title=f"sample sizes from $M_0$ = {M0}: constant, linear, superlinear")
ax.legend(ncol=2)
fig.tight_layout()

# %% tags=["remove-input"]
k_growth = gaussian.max_z_level(GG + 1)
growth_gaps = {name: gaussian.largest_gap(gr["mean"], gr["exact"], gr["se"]) for name, gr in growth.items()}
prose.show(
    gaussian.growth_sentence({name: gr["exact"] for name, gr in growth.items()}, subject="the exact expectation")
    + " " + gaussian.growth_sentence({name: gr["mean"] for name, gr in growth.items()},
                                     subject="the mean over the simulated runs")
    + " " + gaussian.gap_explanations(
        {f"the simulated mean for {name} sample sizes": gap for name, gap in growth_gaps.items()}, k_growth,
        {f"the simulated mean for {name} sample sizes": gr["carriers"].fraction * P["growth_runs"]
         for name, gr in growth.items()})
)
notes.append(gaussian.growth_note({name: gaussian.rise(gr["exact"]) for name, gr in growth.items()}))
prose.show(notes[-1])

# %% [markdown]
# In theory, only a superlinear growth of the sample size keeps the expected distance bounded, as the paper
# states: $\sum_i 1/M_i$ converges only then, and it bounds the mean's drift. A model trained on its own output
# must be fed ever more data, faster than generations pass, to stay where it started *in expectation*; a typical
# run of the constant schedule settles anyway, at a random distance ({ref}`above <gauss-typical>`).
#
# (gauss-authors)=
# ## The authors' simulation: another variance estimate
#
# The theorem, and this chapter, fit the *unbiased* variance, $\frac1{n-1}\sum_j (x_j - \bar x)^2$. The authors'
# own simulation of this recursion (the notebook `Normals_GMM_experiments.ipynb` of their code
# {cite}`shumailov2023code`) draws `np.random.normal(mu, sigma, n)`, then fits `np.mean(a)` and `np.std(a)`, for
# one run per $n$ in $\{100, 500, 1000, 10000\}$ over 1,000 generations. `np.std` divides by $n$ (its default
# `ddof=0`): the *maximum-likelihood* estimate. Each fit then multiplies the variance by
# $\chi^2_{n-1}/n$ instead of $\chi^2_{n-1}/(n-1)$, which adds $\log(1 - 1/n) \approx -1/n$ to the drift of
# $\log\sigma_t^2$, about as much again as the unbiased drift $\approx -1/(n-1)$. And the expected variance is no
# longer held at 1: $\mathbb E[\sigma_t^2] = ((n-1)/n)^{t+1}$ (`gaussian.simulate(..., estimator="ml")`). Below,
# both estimates at this chapter's $n$, over the authors' 1,000 generations, with many runs instead of one.

# %%
est_generations = min(run.generations, 1000)
estimators = {
    e: gaussian.simulate(run.n, est_generations, P["estimator_runs"], seed=profiles.seed(13), estimator=e)
    for e in ("unbiased", "ml")
}
est_shown = gaussian.sample_generations(est_generations)
est_half = {e: first_below(np.median(r.var, axis=1), 0.5) for e, r in estimators.items()}
est_theory = {e: gaussian.halving_generation(run.n, e) for e in estimators}
est_exact = {e: gaussian.expected_w2_sq(run.n, g, e) for e in estimators}
est_names = {"unbiased": "unbiased, 1/(n-1) (the theory's)", "ml": "maximum likelihood, 1/n (the authors')"}

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The unbiased variance estimate (the paper's theory) against the maximum-likelihood one (the authors' simulation, np.std). Left: the fitted standard deviation, median and 10-90% of runs, with the theory of the median (dashed). Right: the squared Wasserstein-2 distance from the truth, its exact expectation under each estimate (lines) and the simulated mean over runs (dots).", "name": "fig-gauss-estimator"}, "image": {"alt": "Standard deviation and distance from the truth under the unbiased and the maximum-likelihood variance estimates"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2))
for (e, r), color in zip(estimators.items(), ["C0", "C3"]):
    plot_band(axes[0], est_shown, r.std[est_shown].T, color=color, label=est_names[e])
    axes[0].plot(r.generation, np.exp(gaussian.expected_log_var(run.n, r.generation, e) / 2), "--", color=color, lw=1)
    axes[1].plot(g, est_exact[e], color=color, lw=1.5)
    d = gaussian.wasserstein2_sq(r.mean[est_shown], r.var[est_shown]).mean(axis=1)
    axes[1].plot(est_shown[::8], d[::8], "o", color=color, ms=3)
axes[1].plot([], [], "k-", lw=1.5, label="exact expectation")
axes[1].plot([], [], "ko", ms=3, label="mean over runs")
axes[0].set(xscale="symlog", yscale="log", xlim=(0, est_generations), xlabel="generation", ylabel=r"fitted $\sigma_t$",
            title=f"standard deviation, n = {run.n}")
axes[0].legend(loc="lower left")
axes[1].set(xscale="symlog", yscale="log", xlim=(0, run.generations), xlabel="generation",
            ylabel=r"$\mathbb{E}[W_2^2]$", title="expected distance from the truth")
axes[1].legend(loc="upper left")
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(gaussian.estimator_sentence(run.n, est_half, est_theory))
ratio_sim = None if None in est_half.values() else (est_half["unbiased"] + 1) / (est_half["ml"] + 1)
notes.append(gaussian.estimator_note(run.n, ratio_sim, (est_theory["unbiased"] + 1) / (est_theory["ml"] + 1),
                                     gaussian.rise(est_exact["ml"]), gaussian.rise(est_exact["unbiased"])))
prose.show(notes[-1])

# %% [markdown]
# So the authors' code and the paper's theorem describe two different recursions. Both collapse, the
# authors' about twice as early; with `np.std` the expected distance from the truth stays bounded, because the
# expected variance decays and with it the expected size of the mean's steps, so the theorem's first conclusion
# is a property of the unbiased estimate.
#
# (gauss-errors)=
# ## Three kinds of error
#
# The Nature version of the paper names three sources of error that compound over generations
# {cite}`shumailov2024nature`: **statistical approximation error** (finitely many samples), **functional
# expressivity error** (a model family that cannot represent the data) and **functional approximation error**
# (the limits of the learning procedure itself, such as a biased optimiser). The arXiv version
# {cite}`shumailov2023curse` folds expressivity into functional approximation error. The first two are visible
# already in this chapter; the third appears with the trained models of the later chapters.
#
# **Statistical approximation error** comes from the finite sample: with more samples per generation the drift
# per fit, about $-1/(n-1)$ in the log-variance, is smaller, so collapse is slower, but it still comes. In theory
# the median variance halves after about $(n-1)\ln 2$ fits:

# %%
ns = [5, 10, 20, 50, 100, 200, 500]
half_times = []
for k, n_ in enumerate(progress(ns, desc="n")):
    r = gaussian.simulate(n_, int(4 * n_), P["sweep_runs"], seed=profiles.seed(20 + k), method="exact")
    half_times.append(first_below(np.median(r.var, axis=1), 0.5))
theory_half = [gaussian.halving_generation(n_) for n_ in ns]  # generation t is t + 1 fits

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Statistical approximation error: the generation at which the median fitted variance has halved, against the number of samples per generation, simulation beside theory.", "name": "fig-gauss-halving"}, "image": {"alt": "Generation at which the median variance halves, against the sample size"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.2))
ax.plot(ns, half_times, "o-", label=f"simulation (median of {P['sweep_runs']:,} runs)")
ax.plot(ns, theory_half, "k--", label=r"theory: $\ln 2 / |\mathbb{E}\log(\chi^2_{n-1}/(n-1))| - 1$")
ax.set(xscale="log", yscale="log", xlabel="samples per generation n", ylabel="generation",
       title="statistical approximation error: when the median variance has halved")
ax.legend()
fig.tight_layout()

# %% [markdown]
# The static panels below are what {ref}`the slider at the end of the chapter <gauss-explore>` shows for a few
# values of $n$, side by side. Thin lines are single runs; the band holds 80% of the runs.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function at four sample sizes n: single runs, median and 10-90% band of the fitted standard deviation.", "name": "fig-gauss-multiples-n"}, "image": {"alt": "Fitted standard deviation against generation for four sample sizes"}}
fig = widgets.small_multiples(
    gaussian.plot_collapse,
    "n",
    [10, 30, 100, 300],
    fixed=dict(generations=min(1000, P["generations"]), runs=P["multiples_runs"], seed=profiles.seed(2), title=False,
               budget=None),
    ncols=2,
    panel_size=(COLUMN_WIDTH / 2, 2.5),
    suptitle="fitted standard deviation over generations, for four sample sizes n",
)

# %% [markdown]
# **Functional expressivity error** comes from a model family that cannot represent the data. Fit a single
# Gaussian to data from a two-mode mixture: even with plenty of samples, the fit is one bump, and from generation 0
# on the two modes are gone for good; what follows is the same recursion as before. The mixture here,
# $\tfrac12\mathcal N(-a, 1-a^2) + \tfrac12\mathcal N(a, 1-a^2)$ with $a = 0.9$, has mean 0 and variance 1, so the
# best single Gaussian is exactly $\mathcal N(0, 1)$.

# %%
mixture = gaussian.two_mode_mixture(0.9)
fn = gaussian.simulate(P["functional_n"], 50, 200, original=mixture, seed=profiles.seed(3))
sample0 = mixture((P["functional_n"],), np.random.default_rng(profiles.seed(15)))  # one original sample, to show
mass_original = np.mean(np.abs(mixture((200_000,), np.random.default_rng(profiles.seed(4)))) < 0.3)
mass_fit = 1 - np.median(gaussian.tail_mass(fn.mean[0], fn.var[0], 0.3))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Functional expressivity error: one Gaussian fitted to data from two modes, at generations 0, 10 and 50 of one run (left), and the mass the truth and the median run's generation-0 fit put between the modes (right).", "name": "fig-gauss-expressivity"}, "image": {"alt": "A bimodal histogram with single Gaussian fits, and the mass between the modes"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.0), gridspec_kw=dict(width_ratios=[2, 1]))
x = np.linspace(-3.5, 3.5, 500)
axes[0].hist(sample0, bins=60, density=True, alpha=0.4, label="original data")
axes[0].plot(x, gaussian.two_mode_pdf(x, 0.9), "k", label="true density")
for t, color in [(0, "C1"), (10, "C2"), (50, "C3")]:
    axes[0].plot(x, stats.norm.pdf(x, fn.mean[t, 0], fn.std[t, 0]), color=color, label=f"fit, generation {t}")
axes[0].set(title=f"one Gaussian fitted to two modes (n = {fn.n})", xlabel="x")
axes[0].legend(fontsize=9)
axes[1].bar(["truth", "fit\n(gen. 0)"], [mass_original, mass_fit], color=["k", "C1"])
axes[1].set(title=r"mass in $|x| < 0.3$")
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(gaussian.expressivity_sentence(mass_original, mass_fit, 0.3))

# %% [markdown]
# Statistical error is slow and random; expressivity error is immediate and systematic. In the {doc}`next chapter
# <02_gmm>` a mixture model *can* represent two modes, and we will see the statistical error slowly take them
# apart anyway.
#
# (gauss-two-mode-theorem)=
# ### Theorem 3.1 with a truth that is not Gaussian
#
# This two-mode truth is the case the theorem allows for: $\mathcal D_0$ not Gaussian, with finite mean and
# variance. In one dimension the optimal coupling is monotone, so the distance from a Gaussian to it is explicit:
# $W_2^2(\mathcal N(\mu, \sigma^2), \mathcal D_0) = \mu^2 + \sigma^2 + 1 - 2\sigma\kappa$, with
# $\kappa = \mathbb E[Z\,Q_0(\Phi(Z))] < 1$ for the quantile function $Q_0$ of $\mathcal D_0$
# (`gaussian.wasserstein2_sq_to`, derived here). Even $\mathcal N(0, 1)$, the Gaussian that unlimited data would
# fit (the same mean and variance), stays $2(1-\kappa)$ away, and no Gaussian comes closer than $1 - \kappa^2$:
# that is expressivity error. With the unbiased estimate $\mathbb E[\mu_t^2] = (t+1)/n$ and
# $\mathbb E[\sigma_t^2] = 1$ whatever $\mathcal D_0$ (its variance is 1), and
# $\mathbb E[\sigma_t] \le 1$, so $\mathbb E[W_2^2] \ge (t+1)/n + 2(1-\kappa)$, which grows without bound.
# The recursion below starts from the two-mode truth at this chapter's $n$ and runs as many generations as the
# main simulation (generation 0 from actual points, the rest by the exact method).

# %%
two = gaussian.simulate(run.n, run.generations, P["theorem_runs"], original=mixture, seed=profiles.seed(14))
two_w2 = gaussian.wasserstein2_sq_to(two.mean[shown], two.var[shown], mixture)
floor = 2 * (1 - gaussian.normal_score(mixture))
bound = (shown + 1) / two.n + floor
two_collapsed = gaussian.collapsed_fraction(two, 0.1)
two_median = np.median(gaussian.wasserstein2_sq_to(two.mean[every], two.var[every], mixture), axis=1)  # even grid

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Theorem 3.1 with the two-mode truth. Left: the fitted standard deviation (median and 10-90% of runs) and, in orange on the right axis, the share of runs below 0.1. Right: the squared Wasserstein-2 distance to the two-mode truth: the median run with its 10-90% band, the mean over runs, the theory's lower bound on the expectation, and the distance of N(0, 1), the Gaussian that unlimited data would fit (expressivity error).", "name": "fig-gauss-two-mode-theorem"}, "image": {"alt": "Standard deviation collapsing and distance to a two-mode truth, typical against expected"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2))
ax = axes[0]
plot_band(ax, shown, two.std[shown].T, color="C0", label=r"$\sigma_t$, median (10-90%)")
ax.set(xscale="symlog", yscale="log", xlim=(0, two.generations), ylim=(1e-5, 3), xlabel="generation",
       ylabel=r"fitted $\sigma_t$", title="fitted standard deviation")
share_ax = ax.twinx()
share_ax.plot(g, two_collapsed, "C1")
share_ax.set(ylim=(0, 1.05))
share_ax.set_ylabel(r"share of runs with $\sigma_t < 0.1$", color="C1")
share_ax.spines["right"].set_visible(True)
ax.legend(loc="lower left")
ax = axes[1]
lo, med, hi = np.quantile(two_w2, [0.1, 0.5, 0.9], axis=1)
ax.fill_between(shown, lo, hi, color="C0", alpha=0.2, lw=0)
ax.plot(shown, med, "C0", label="median run (10-90%)")
ax.plot(shown, two_w2.mean(axis=1), "C1", label="mean over runs")
ax.plot(shown, bound, "k--", lw=1.2, label="lower bound on the expectation")
ax.axhline(floor, color="0.5", ls=":", lw=1, label=r"$\mathcal{N}(0, 1)$: expressivity error")
ax.set(xscale="symlog", yscale="log", xlim=(0, two.generations), xlabel="generation",
       ylabel=r"$W_2^2$ to the two-mode truth", title="distance to the two-mode truth")
ax.legend(loc="upper left")
fig.tight_layout()

# %% tags=["remove-input"]
two_carriers = gaussian.expectation_carriers(np.full(two.generations + 1, two.n)).fraction[-1] * two.runs
prose.show(gaussian.theorem_sentence(two_collapsed[-1], 0.1, two.generations, two_w2[-1].mean(), np.median(two_w2[-1]),
                                     bound[-1], floor, two_carriers))
notes.append(gaussian.theorem_note(
    two_collapsed[-1], gaussian.rise((every + 1) / two.n + floor), gaussian.rise(two_median),
    subject="Theorem 3.1 with a two-mode truth",
    truth="the two-mode truth", expectation="the lower bound on the expectation"))
prose.show(notes[-1])

# %% [markdown]
# (gauss-schedules)=
# ## Three data schedules, and keeping original data
#
# Shumailov et al.'s theory uses **replacement**: each generation fits only the previous model's samples. The
# authors' notebook also runs a second case, "where data gets saved over time and not thrown away": every
# generation's samples join all earlier ones and the fit (`np.std` again) uses the whole pool
# (`Normals_GMM_experiments.ipynb` {cite}`shumailov2023code`; this book's version fits the unbiased variance).
# Follow-up work names three schedules *replace*, *accumulate-subsample* and *accumulate*, and shows that
# accumulating data avoids collapse {cite}`gerstgrasser2024collapse`; see also {cite}`kazdan2024collapse`. This
# book uses their names as its framing, and keeps the numbers as the API (`approach` in `collapse_utils`):
#
# 1. **replace**: samples of the latest model only (what we did so far);
# 2. **accumulate-subsample**: the latest samples join the pool of all earlier generations' data (the original
#    data included), and the training set is $n$ points subsampled from the pool;
# 3. **accumulate**: the *whole* pool, which grows by $n$ points a generation.
#
# A fourth knob, `retention`, makes a fraction of each generation's new data original data. Approaches 1 and 3
# run with the exact method (the pool is merged through its sufficient statistics); approach 2 needs the actual
# points and runs with the sample method, which stores each run's pool once and draws each training set by index.

# %%
SG, SR, n = P["schedule_generations"], P["schedule_runs"], P["n"]
results = {
    name: gaussian.simulate(n, SG, SR, seed=profiles.seed(5), **kw)
    for name, kw in progress(SCHEDULE_VARIANTS.items(), desc="schedules")
}
label = {name: SCHEDULE_NAMES[kw["approach"]] + (f", retention {kw['retention']:g}" if kw.get("retention") else "")
         for name, kw in SCHEDULE_VARIANTS.items()}

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The data schedules and fresh retention compared: the fitted standard deviation (median and 10-90% band over runs, left) and the median squared Wasserstein-2 distance from the truth (right).", "name": "fig-gauss-schedules"}, "image": {"alt": "Fitted standard deviation and distance from the truth for each data schedule"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.4))
for (name, r), color in zip(results.items(), ["C3", "C1", "C2", "C0", "C4"]):
    plot_band(axes[0], r.generation, r.std.T, color=color, label=label[name])
    axes[1].plot(r.generation, np.median(gaussian.wasserstein2_sq(r.mean, r.var), axis=1), color=color)
axes[0].set(yscale="log", xlabel="generation", ylabel=r"fitted $\sigma_t$ (median, 10-90%)", title=f"n = {n}, {SR:,} runs each")
axes[1].set(yscale="log", xlabel="generation", ylabel=r"median $W_2^2$ from the truth", title="distance from the truth")
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=9)
fig.tight_layout(rect=(0, 0.14, 1, 1))
for name, r in results.items():
    print(
        f"{label[name]:28s} generation {SG}: median sigma {np.median(r.std[-1]):.3f}, "
        f"runs with sigma < 0.5: {prose.percent(np.mean(r.std[-1] < 0.5))}"
    )

# %% tags=["remove-input"]
prose.show(gaussian.schedules_sentence({label[name]: r.std[-1] for name, r in results.items()}))

# %% [markdown]
# What the theory says about each schedule, to read beside {numref}`fig-gauss-schedules`:
#
# - **Replace** collapses, as above.
# - **Accumulate** has a training set that grows, so each new estimate is more precise than the last: the steps
#   of the random walk shrink like $1/t$, their variances sum like $\sum 1/t^2 < \infty$, and the walk converges
#   instead of drifting.
# - **Accumulate-subsample** re-estimates from only $n$ points each generation, so it is noisier than accumulate,
#   but those points come from a pool that changes by a fraction $1/(t+1)$ per generation and still holds the
#   original data. (The pool's synthetic share grows; with a model that makes systematic errors, unlike this exact
#   Gaussian fit, those errors would accumulate in it.)
# - **Retention** pulls every generation back towards the truth.
#
# ### Two kinds of retention
#
# "Keeping original data" means two different things. In this chapter, by default, the retained points are
# **fresh** draws from the true distribution every generation: an unlimited supply of new real data. In
# {doc}`chapter 2 <02_gmm>` and the chapters after it they are a **fixed** set: a random subset, drawn anew each generation, of the
# *one* original sample. Fresh data bring new information every generation; a fixed sample only keeps repeating
# what generation 0 saw, so in theory a run stays near its own generation-0 fit, errors included
# (`retained="fresh"` or `"fixed"` in `gaussian.simulate`).

# %%
kinds = {
    kind: gaussian.simulate(n, SG, SR, retention=0.5, retained=kind, seed=profiles.seed(6))
    for kind in progress(("fresh", "fixed"), desc="retention kinds")
}

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Fresh against fixed retention (half of each generation's data original, replace schedule): the fitted standard deviation over generations (left), and each run's value at the last generation against generation 0 (right).", "name": "fig-gauss-retention-kinds"}, "image": {"alt": "Fitted standard deviation under fresh and fixed retention"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2))
for (kind, r), color in zip(kinds.items(), ["C0", "C1"]):
    plot_band(axes[0], r.generation, r.std.T, color=color, label=kind)
    axes[1].scatter(r.std[0], r.std[-1], s=6, color=color, alpha=0.5, label=kind)
axes[0].set(xlabel="generation", ylabel=r"fitted $\sigma_t$", title=f"retention 0.5, replace, n = {n}")
axes[0].legend()
axes[1].set(xlabel=r"$\sigma$ at generation 0", ylabel=rf"$\sigma$ at generation {SG}", title="each dot a run")
axes[1].legend()
fig.tight_layout()

# %% tags=["remove-input"]
corr = {f"{k} retention": np.corrcoef(r.std[0], r.std[-1])[0, 1] for k, r in kinds.items()}
prose.show(gaussian.retention_kinds_sentence({f"{k} retention": r.std[-1] for k, r in kinds.items()}) + " "
           + gaussian.retention_memory_sentence(corr))

# %% [markdown]
# (Half of each generation's data is retained here, to make the contrast visible.) The static panels below vary
# the schedule and the retention with everything else fixed; {ref}`the slider at the end <gauss-explore>` does
# the same interactively.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function for the three data schedules.", "name": "fig-gauss-multiples-schedule"}, "image": {"alt": "Fitted standard deviation against generation for the three data schedules"}}
fixed = dict(n=n, generations=min(SG, 500), runs=P["multiples_runs"], seed=profiles.seed(7), title=False, budget=None)
fig = widgets.small_multiples(
    gaussian.plot_collapse, "approach", [1, 2, 3], fixed=fixed, ncols=3, panel_size=(COLUMN_WIDTH / 3, 2.4),
    suptitle="fitted standard deviation, by data schedule",
)
for ax, k in zip(fig.axes, (1, 2, 3)):
    ax.set_title(SCHEDULE_NAMES[k], fontsize=10)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function for four fractions of fresh retention, under replace.", "name": "fig-gauss-multiples-retention"}, "image": {"alt": "Fitted standard deviation against generation for four retention fractions"}}
fig = widgets.small_multiples(
    gaussian.plot_collapse, "retention", [0.0, 0.01, 0.1, 0.5], fixed=fixed, ncols=2,
    panel_size=(COLUMN_WIDTH / 2, 2.4), suptitle="fitted standard deviation, by fraction of fresh original data (replace)",
)

# %% [markdown]
# (gauss-discrete)=
# ## Discrete distributions: a Markov chain with absorbing states
#
# For a categorical distribution, "fit" means "count": the next model's probabilities are the frequencies of $n$
# draws (generation 0 counts $n$ draws of the true probabilities). This is the Wright-Fisher model of population
# genetics {cite}`ewens2004mathematical`. A category that gets no draw has probability 0 for ever after, so the
# chain's only absorbing states are distributions on a single point: every run ends as a delta function. Rare
# categories go first: in one generation, a category of probability $p$ is lost with probability $(1-p)^n$. And
# the paper states that each state becomes the absorbing state with probability equal to its original
# probability {cite}`shumailov2024nature`: the frequency of each category is a martingale
# ({ref}`exercise 4 <gauss-exercises>`).

# %%
probs = np.array([0.5, 0.25, 0.12, 0.06, 0.04, 0.02, 0.01])
cat = gaussian.simulate_categorical(probs, n=30, generations=600, runs=P["categorical_runs"], seed=profiles.seed(8))
frequencies, absorbed = cat.absorbing_frequencies()
one = gaussian.simulate_categorical(probs, n=100, generations=0, runs=P["categorical_runs"], seed=profiles.seed(9))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "A discrete distribution resampled: the share of runs in which each category survives (left), and how often each category becomes the absorbing state against its original probability (right).", "name": "fig-gauss-absorbing"}, "image": {"alt": "Survival curves per category and absorbing-state frequencies against original probabilities"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2))
surv = cat.survival()
for i, p in enumerate(probs):
    axes[0].plot(np.arange(surv.shape[0]), surv[:, i], label=f"{p:g}")
axes[0].axhline(0, color="0.7", lw=0.5)
axes[0].set(xscale="symlog", xlabel="generation", ylabel="fraction of runs alive", xlim=(0, surv.shape[0] - 1),
            title=f"survival per category, n = {cat.n}")
axes[0].legend(fontsize=9, ncol=2, loc="upper right", title="original p")
se = np.sqrt(probs * (1 - probs) / max(absorbed, 1))
axes[1].errorbar(probs, frequencies, yerr=2 * se, fmt="o", label=r"simulation ($\pm$ 2 SE)")
axes[1].plot([0, 0.55], [0, 0.55], "k--", lw=1, label="original probability")
axes[1].set(xlabel="original probability p", ylabel="absorbing-state frequency", title=f"{absorbed:,} absorbed runs")
axes[1].legend()
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(gaussian.absorption_sentence(frequencies, probs, absorbed))
notes.append(gaussian.absorbing_note(gaussian.absorbing_gap(frequencies, probs, absorbed), 3.0, absorbed))
prose.show(notes[-1])

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: the probability that a category is lost in one resampling step of n = 100 draws, simulation beside theory. Right: the time to absorption for two categories, its simulated mean and the Kimura-Ohta approximation.", "name": "fig-gauss-absorption-time"}, "image": {"alt": "Probability of losing a category in one step, and a histogram of absorption times"}}
pair = gaussian.simulate_categorical(np.array([0.2, 0.8]), n=100, generations=1000, runs=P["categorical_runs"],
                                     seed=profiles.seed(11))
steps = pair.absorption_time() + 1  # resampling steps from the truth
done = steps[steps > 0]
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.0))
ps = np.linspace(0.001, 0.1, 200)
axes[0].plot(ps, gaussian.loss_probability(ps, 100), "k--", label=r"theory: $(1-p)^n$")
axes[0].plot(probs, (one.counts[0] == 0).mean(axis=0), "o", label="simulation")
axes[0].set(xlabel="probability p of the category", ylabel="P(lost in one step)", title="n = 100 draws", xlim=(0, 0.1))
axes[0].legend()
axes[1].hist(done, bins=60, density=True, alpha=0.6)
expected = gaussian.expected_absorption_time(0.2, 100)
axes[1].axvline(done.mean(), color="C0", label=f"simulated mean {done.mean():.0f}")
axes[1].axvline(expected, color="k", ls="--", label=f"Kimura-Ohta: {expected:.0f}")
axes[1].set(xlabel="resampling steps", title="time to absorption, p = (0.2, 0.8)")
axes[1].legend()
fig.tight_layout()
print(
    f"{prose.percent(np.mean(steps <= 0), 2)} of runs not yet absorbed after {pair.counts.shape[0]} steps; "
    f"category 1 (p = 0.2) won in {prose.percent(np.mean(pair.counts[-1, :, 0] > 0), 1)} of runs (theory: 20%)"
)

# %% [markdown]
# The time to absorption has a long right tail; its mean is compared above with the diffusion approximation
# $\mathbb E[T] \approx -2n\,[p\ln p + (1-p)\ln(1-p)]$ {cite}`kimura1969average`. Since each category survives
# with probability equal to its initial share, the *common* outcome is the one that usually remains: collapse
# erases the rare.

# %% [markdown]
# (gauss-explore)=
# ## Explore
#
# The sliders drive `gaussian.plot_collapse`, the function behind every small-multiples figure above. In the
# rendered book they step through frames of that function drawn when the book was built, at the positions that
# the code below lists (`grid`): $n$, generations, schedule and fresh retention. In a running notebook they
# compute at any value when you release them, and offer fixed retention too; there, schedule 2 and fixed
# retention need the actual points, so at their slowest positions (large $n$ and many generations) the slider
# simulates as many of the 200 runs as it can in about a second, and its title says how many.

# %% tags=["remove-input"]
# the running notebook's sliders (any value); the rendered page shows the frames of `grid` below
ipw_controls = dict(
    n=ipw.IntSlider(value=100, min=2, max=1000, step=1, description="n"),
    generations=ipw.IntSlider(value=1000, min=10, max=5000, step=10, description="generations"),
    approach=ipw.Dropdown(options=[(v, k) for k, v in SCHEDULE_NAMES.items()], value=1, description="schedule"),
    retention=ipw.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.01, description="retention"),
    retained=ipw.Dropdown(options=["fresh", "fixed"], value="fresh", description="retained"),
)
prose.show(live.explore_note("01_gaussian"))

# %%
grid = dict(n=list(P["explore_n"]), generations=list(P["explore_generations"]), approach=[1, 2, 3], retention=[0.0, 0.1])
FRAME_RUNS = 12  # runs per frame of the rendered page (54 frames, each simulated in full); a running notebook: 200
live.explore(
    gaussian.plot_collapse,
    grid=grid,
    controls=ipw_controls,
    fixed=dict(runs=200, seed=profiles.seed(0)),
    start=dict(n=100, generations=1000 if 1000 in grid["generations"] else grid["generations"][0]),
    alt="Fitted standard deviation over generations: single runs, median and 10-90% band",
    value_labels=dict(approach=SCHEDULE_NAMES),
    caption="Fitted standard deviation over generations at the chosen sample size, number of generations, schedule "
            f"and retention of fresh data: single runs, the median and the 10-90% band of {FRAME_RUNS} runs, each "
            "simulated in full (a running notebook simulates 200, as many as time allows).",
    name="fig-gauss-explore",
    param_labels=dict(approach="schedule", retention="fresh retention"),
    book_fixed=dict(runs=FRAME_RUNS),
)

# %% [markdown]
# ## Summary
#
# - Recursively fitting a Gaussian to its own samples is a random walk of the parameters. The log-variance drifts
#   down by about $1/(n-1)$ per fit, so in each run the variance shrinks geometrically and **runs collapse** to a
#   point almost surely, even though the unbiased estimator keeps the *expected* variance at exactly 1.
# - **Early collapse**: a narrower model loses its far tails fastest; {numref}`fig-gauss-early` shows, at this
#   seed, which tails halve before the variance (the nearer tails can gain mass as the mean drifts).
# - **Expected against typical**: the mean's expected square grows like $(t+1)/n$, so the *expected* distance
#   from the truth grows without bound (the paper's Theorem 3.1, which allows any truth with finite variance); yet
#   each run's mean converges and each run's distance settles. The expectation is carried by ever rarer runs,
#   which a finite simulation cannot contain. The paper's first-order
#   $\mathbb E[W_2^2] = \tfrac32\sigma^2\sum_i 1/M_i$ holds while $t \ll n$; in theory only sample sizes that grow
#   superlinearly keep the expectation finite.
# - **The estimator matters**: the authors' simulation uses `np.std` (maximum likelihood), which collapses about
#   twice as fast and keeps the expected distance bounded.
# - Three errors (Nature's names): statistical approximation error slows down linearly in $n$ but does not stop;
#   functional expressivity error (one Gaussian for two modes) loses structure at once and leaves a floor on the
#   distance; functional approximation error comes with the learning procedures of the later chapters.
# - The schedules: replace collapses; accumulate does not; accumulate-subsample is noisier; retention of fresh
#   data pulls the runs back to the truth, retention of a fixed sample ties each run to its start.
# - For discrete distributions, collapse is absorption in a Markov chain: rare categories are lost first, with
#   probability $(1-p)^n$ per step, and each category ends as the absorbing state with probability equal to its
#   original probability.

# %% tags=["remove-input"]
prose.show(prose.findings([
    gaussian.takeaway(run.n, run.runs, collapsed, median_w2, exact_w2[every]).replace("  \n", " "),
    gaussian.early_collapse_sentence(half, half_var),
    gaussian.typical_sentence(run.generations, exact_w2[-1], w2[-1].mean(), np.median(w2[-1]),
                              np.quantile(w2[-1], 0.9), run.runs),
    gaussian.estimator_sentence(run.n, est_half, est_theory),
    gaussian.theorem_sentence(two_collapsed[-1], 0.1, two.generations, two_w2[-1].mean(), np.median(two_w2[-1]),
                              bound[-1], floor, two_carriers),
    gaussian.growth_sentence({name: gr["exact"] for name, gr in growth.items()}, subject="the exact expectation"),
    gaussian.schedules_sentence({label[name]: r.std[-1] for name, r in results.items()}),
    gaussian.absorption_sentence(frequencies, probs, absorbed),
    gaussian.paper_summary(notes),
]))

# %% [markdown]
# (gauss-exercises)=
# ## Exercises
#
# 1. With the maximum-likelihood variance ($1/n$ instead of $1/(n-1)$, the authors' `np.std`), show that the
#    expected squared distance from the truth tends to 2 instead of growing without bound. Check it with
#    `gaussian.expected_w2_sq(n, t, estimator="ml")` and a simulation with `estimator="ml"`.
#
# :::{admonition} Solution
# :class: dropdown
# Each fit multiplies the expected variance by $q = (n-1)/n$, so $\mathbb E[\sigma_t^2] = q^{t+1} \to 0$ and
# $\mathbb E[\sigma_t] \to 0$. The mean's steps have expected squares $\mathbb E[\sigma_s^2]/n$, so
# $\mathbb E[\mu_t^2] = \frac1n\sum_{s=0}^{t} q^s \to \frac{1}{n(1-q)} = 1$. Hence
# $\mathbb E[W_2^2] = \mathbb E[\mu_t^2] + \mathbb E[\sigma_t^2] + 1 - 2\,\mathbb E[\sigma_t] \to 1 + 0 + 1 - 0 = 2$.
# :::
#
# 2. Under accumulate (approach 3), the training set at generation $t$ holds $n(t+1)$ points. Argue why the
#    variance of $\log \sigma^2_t$ stays bounded. Check it with `gaussian.simulate(..., approach=3)`.
#
# :::{admonition} Solution
# :class: dropdown
# The new data of generation $t$ are a fraction $1/(t+1)$ of the pool, so the fit changes by a step of size
# $O(1/t)$ with random sign. The variances of the steps sum like $\sum 1/t^2 < \infty$, so the walk converges
# instead of drifting. `np.log(run.var).std(axis=1)` levels off.
# :::
#
# 3. With fresh retention $r$, what is the smallest $r$ that keeps the median $\sigma_t$ above 0.5 after 1000
#    generations for $n = 100$? The page's slider offers only $r = 0$ and $0.1$: use a loop over `retention` (or
#    the slider of a running notebook, which takes any value).
#
# :::{admonition} Solution
# :class: dropdown
# Run `[np.median(gaussian.simulate(100, 1000, 500, retention=r).std[-1]) for r in (0, 0.01, 0.02, 0.05)]`.
# The original points pull every generation back towards $\mathcal N(0,1)$ while the downward drift is only about
# $1/(n-1)$ per generation, so a small $r$ suffices; the loop tells you how small at this $n$.
# :::
#
# 4. For the categorical chain with two categories of probability $p$ and $1-p$, show that the probability that
#    the first category is the one that survives is $p$.
#
# :::{admonition} Solution
# :class: dropdown
# The frequency of the first category is a martingale ($\mathbb E[\text{count}_{t+1}/n \mid \text{count}_t] = \text{count}_t/n$,
# and generation 0's expected frequency is $p$) that ends at 0 or 1. By optional stopping its expected final value
# equals its initial value $p$, which is the probability of ending at 1.
# :::
