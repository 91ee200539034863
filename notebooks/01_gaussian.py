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
# # 1. Gaussian resampling error
#
# The simplest generative model there is: a single Gaussian. Fit its mean and
# variance to $n$ samples, draw $n$ new samples from the fit, fit again, and so on.
# Shumailov et al. {cite}`shumailov2023curse,shumailov2024nature` use exactly this
# recursion to show that model collapse needs no neural network at all: finite
# samples alone (*statistical approximation error*) make every run lose its tails
# first and, in the end, its whole variance.
#
# This chapter builds the intuition that the later chapters rely on:
#
# 1. the recursion, simulated for thousands of runs at once;
# 2. **early collapse**: the tails of the original distribution go first;
# 3. **late collapse**: the variance goes to zero and the mean wanders off;
# 4. theory beside simulation, on the same axes;
# 5. the paper's two sources of error: *statistical* and *functional* approximation;
# 6. the paper's three data schedules, and keeping some original data;
# 7. the discrete case, where collapse is the absorption of a Markov chain;
# 8. sliders to explore it all.

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
from scipy import stats

from collapse_utils import gaussian, profiles, widgets
from collapse_utils.schedules import APPROACHES, SCHEDULE_VARIANTS

# n: samples per generation; schedule_*: the comparison of data schedules below
# fmt: off
P = profiles.choose(
    quick=dict(n=100, generations=300, runs=1000, schedule_generations=200,
               schedule_runs=100, functional_n=1000, categorical_runs=2000, seed=0),
    book=dict(n=100, generations=2000, runs=5000, schedule_generations=1000,
              schedule_runs=300, functional_n=1000, categorical_runs=10000, seed=0),
    paper=dict(n=100, generations=10000, runs=10000, schedule_generations=2000,
               schedule_runs=1000, functional_n=1000, categorical_runs=20000, seed=0),
)
# fmt: on
profiles.report("Chapter 1", P)
plt.rcParams.update({"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False})

# %% [markdown]
# ## The recursion
#
# Generation 0 is the original distribution $\mathcal N(0, 1)$. Generation $t+1$ is the
# Gaussian whose mean and variance are estimated from $n$ samples of generation $t$:
#
# $$
# x^{(t)}_1, \dots, x^{(t)}_n \sim \mathcal N(\mu_t, \sigma_t^2), \qquad
# \mu_{t+1} = \frac1n \sum_j x^{(t)}_j, \qquad
# \sigma^2_{t+1} = \frac1{n-1} \sum_j \bigl(x^{(t)}_j - \mu_{t+1}\bigr)^2 .
# $$
#
# As in the paper, the variance estimate is the *unbiased* one, so every single step
# is as faithful as a step can be: $\mathbb E[\sigma^2_{t+1} \mid \sigma^2_t] = \sigma^2_t$.
#
# For a Gaussian, the mean and the variance of the sample are *sufficient*: we know
# their exact joint distribution given the previous fit,
# $\mu_{t+1} \sim \mathcal N(\mu_t, \sigma_t^2/n)$ and
# $(n-1)\sigma^2_{t+1}/\sigma^2_t \sim \chi^2_{n-1}$, independently. So we do not need to
# draw the $n$ points at all: `gaussian.simulate(..., method="exact")` draws the two
# statistics directly, at a cost that does not depend on $n$, for all runs at once.
# (`method="sample"` draws the points; the tests check that both agree in distribution.)

# %%
run = gaussian.simulate(P["n"], P["generations"], P["runs"], seed=P["seed"], method="exact")
print(f"simulated {run.runs} runs x {run.generations} generations, n = {run.n} ({run.method} method)")

fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
g = run.generation
for j in range(12):
    axes[0].plot(g, run.mean[:, j], lw=0.8)
    axes[1].plot(g, run.std[:, j], lw=0.8)
axes[0].set(title="fitted mean, 12 runs", xlabel="generation", ylabel=r"$\mu_t$")
axes[1].set(
    title="fitted standard deviation, 12 runs", xlabel="generation", ylabel=r"$\sigma_t$", yscale="log"
)
x = np.linspace(-4, 4, 400)
snapshots = [t for t in (0, 10, 100, 500, 1000, 2000, 10000) if t <= run.generations]
for t, color in zip(snapshots, plt.cm.viridis(np.linspace(0, 0.9, len(snapshots)))):
    axes[2].plot(x, stats.norm.pdf(x, run.mean[t, 0], run.std[t, 0]), color=color, label=f"gen {t}")
axes[2].set(title="the fitted density of run 0", xlabel="x", ylim=(0, 2.5))
axes[2].legend(fontsize=8)
fig.suptitle(f"{run.runs} runs, n = {run.n} samples per generation (profile '{profiles.current()}')")
fig.tight_layout()

# %% [markdown]
# Each run is a different story, but all of them go the same way: the mean wanders,
# and the standard deviation shrinks, slowly at first and then by orders of magnitude.
# The density of a single run gets narrower and drifts away from the origin.

# %% [markdown]
# ## Early collapse: the tails go first
#
# How much of the original distribution's *tails* does the fitted model still cover?
# For a threshold $c$, the model of generation $t$ assigns the mass
# $P_t(|X| > c) = \Phi\bigl(\tfrac{-c-\mu_t}{\sigma_t}\bigr) + 1 - \Phi\bigl(\tfrac{c-\mu_t}{\sigma_t}\bigr)$
# to the region beyond $c$ original standard deviations (`gaussian.tail_mass`). We compare it
# with the original's, $2(1 - \Phi(c))$: a ratio of 1 means the tail is intact.

# %%
thresholds = [2.0, 3.0, 4.0]
ratio = {c: gaussian.tail_mass(run.mean, run.var, c) / gaussian.tail_mass(0.0, 1.0, c) for c in thresholds}
median_var = np.median(run.var, axis=1)


fig, ax = plt.subplots(figsize=(8, 4))
for c, color in zip(thresholds, ["C2", "C1", "C3"]):
    ax.plot(
        g,
        np.median(ratio[c], axis=1),
        color=color,
        lw=2,
        label=rf"tail mass beyond {c:g}$\sigma$ (median run)",
    )
ax.plot(g, median_var, "k--", lw=1.5, label="variance (median run)")
ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
ax.set_xscale("symlog", linthresh=1)
ax.set(
    xlim=(0, run.generations),
    xlabel="generation",
    ylabel="relative to the original",
    ylim=(0, 1.3),
    title=f"Early collapse: tails vanish before the bulk changes (n = {run.n}, {run.runs} runs)",
)
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()

half = {c: gaussian.first_below(np.median(ratio[c], axis=1), 0.5) for c in thresholds}
half_var = gaussian.first_below(median_var, 0.5)


def describe(t: int | None) -> str:
    return f"generation {t}" if t is not None else f"beyond generation {run.generations}"


for c in thresholds:
    print(f"the median run has lost half of its mass beyond {c:g} sigma at {describe(half[c])}")
print(f"the median run has lost half of its variance at {describe(half_var)}")

# %% [markdown]
# The further out the tail, the sooner it goes: the median run loses half of its mass
# beyond $3\sigma$, and even more so beyond $4\sigma$, well before it loses half of its variance (the numbers above are computed from
# this run). The reason is that the tail mass depends on $\sigma_t$ through the Gaussian's tail,
# $\Phi(-c/\sigma_t)$, which is exponentially sensitive to small changes in $\sigma_t$ when $c$ is large.
# This is the paper's **early model collapse**: the model still looks fine in the bulk, but the
# improbable events of the original data are already being forgotten.

# %% [markdown]
# ## Late collapse: the variance goes to zero, the mean drifts
#
# Over many generations every run collapses. Below: the distribution of the fitted variance over runs
# at a few generations, the median and the mean over runs, and the fraction of runs whose standard
# deviation has fallen below 0.1, a tenth of the original.

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
hist_gens = [t for t in (1, 10, 100, 1000, 2000, 10000) if t <= run.generations]
bins = np.logspace(-16, 1, 86)
for t, color in zip(hist_gens, plt.cm.viridis(np.linspace(0, 0.9, len(hist_gens)))):
    axes[0].hist(
        np.clip(run.var[t], 1e-16, None),
        bins=bins,
        histtype="step",
        color=color,
        lw=1.5,
        label=f"gen {t}",
    )
axes[0].set(
    xscale="log",
    xlabel=r"fitted variance $\sigma_t^2$ (below $10^{-16}$: first bin)",
    ylabel="runs",
    title="distribution over runs",
)
axes[0].legend(fontsize=8)
axes[1].plot(g, median_var, label="median over runs")
axes[1].plot(g, run.var.mean(axis=1), label="mean over runs")
axes[1].axhline(1.0, color="k", ls=":", label=r"$\mathbb{E}[\sigma_t^2] = 1$ (theory)")
axes[1].plot(
    g,
    np.exp(gaussian.expected_log_var(run.n, g)),
    "k--",
    lw=1,
    label=r"$\exp \mathbb{E}[\log \sigma_t^2]$ (theory)",
)
axes[1].set(yscale="log", xlabel="generation", title="the variance: median and mean")
axes[1].legend(fontsize=8)
for thr in (0.5, 0.1, 0.01):
    axes[2].plot(g, gaussian.collapsed_fraction(run, thr), label=rf"$\sigma_t < {thr:g}$")
axes[2].set(xlabel="generation", ylabel="fraction of runs", title="collapsed runs")
axes[2].legend(fontsize=8)
fig.tight_layout()
print(
    f"generation {run.generations}: {100 * gaussian.collapsed_fraction(run, 0.1)[-1]:.1f}% of runs have sigma < 0.1, "
    f"median variance {median_var[-1]:.3g}, mean variance over runs {run.var[-1].mean():.3g}"
)

# %% [markdown]
# ### The paradox of the unbiased estimator
#
# The expected variance stays *exactly* 1 in every generation, since each step is unbiased and
# $\mathbb E[\sigma^2_{t+1}] = \mathbb E\bigl[\mathbb E[\sigma^2_{t+1} \mid \sigma^2_t]\bigr] = \mathbb E[\sigma_t^2]$.
# Yet almost every run collapses. Both are true because the variance is a *product* of independent
# factors, $\sigma_t^2 = \prod_{s<t} \chi^2_{n-1,s}/(n-1)$, so its logarithm is a random walk:
#
# $$
# \log \sigma_t^2 = \sum_{s<t} \log \frac{\chi^2_{n-1,s}}{n-1}, \qquad
# \mathbb E \log \frac{\chi^2_{n-1}}{n-1} = \psi\!\left(\tfrac{n-1}{2}\right) + \log\tfrac{2}{n-1} \approx -\tfrac{1}{n-1} < 0 .
# $$
#
# By Jensen's inequality the mean of the log is below the log of the mean: the walk drifts downwards,
# so $\log \sigma_t^2 \to -\infty$ almost surely. The expectation of 1 is held up by ever rarer runs with
# ever larger variance: $\operatorname{Var}[\sigma_t^2] = (1 + \tfrac{2}{n-1})^t - 1$ explodes. With a
# finite number of runs we never see those runs, which is why the empirical mean above falls too.
# (These formulas are derived here from the $\chi^2$ factors; the paper proves the almost-sure collapse.)

# %% [markdown]
# ## Theory beside simulation
#
# Everything about this recursion can be computed exactly, so let us check the simulation against it
# on the same axes:
#
# - **one step**: the sampling distributions of the fitted mean, $\mathcal N(\mu, \sigma^2/n)$, and of the
#   unbiased variance, $\sigma^2 \chi^2_{n-1}/(n-1)$ (textbook results);
# - **the log-variance**: mean $t\,[\psi(\tfrac{n-1}2) + \log\tfrac2{n-1}]$ and standard deviation
#   $\sqrt{t\,\psi'(\tfrac{n-1}2)}$ (derived here);
# - **the mean's drift**: $\operatorname{Var}[\mu_t] = t/n$, since $\mathbb E[\sigma^2_s] = 1$ for all $s$ (derived here);
# - **the Wasserstein-2 distance** from the original,
#   $W_2^2 = \mu_t^2 + (\sigma_t - 1)^2$, whose expectation is exactly
#   $t/n + 2(1 - c_n^t)$ with $c_n = \mathbb E\sqrt{\chi^2_{n-1}/(n-1)}$ (derived here). The paper proves that
#   $\mathbb E[W_2^2] \to \infty$ and bounds it below by the mean's drift, $\sigma^2 (1/M_0 + \dots + 1/M_{t-1})$
#   for sample sizes $M_i$, i.e. $t/n$ here {cite}`shumailov2024nature`.

# %%
small = gaussian.simulate(10, min(run.generations, 200), P["runs"], seed=P["seed"] + 1, method="sample")
fig, axes = plt.subplots(2, 2, figsize=(12, 7.5))
ax = axes[0, 0]
ax.hist(small.var[1], bins=80, density=True, alpha=0.5, label="simulated (sample method)")
xs = np.linspace(1e-3, small.var[1].max(), 400)
ax.plot(xs, gaussian.fitted_var_pdf(xs, 1.0, small.n), "k", label=r"$\chi^2_{n-1}/(n-1)$")
ax.hist(small.mean[1], bins=80, density=True, alpha=0.5, label="fitted mean")
xm = np.linspace(-1.5, 1.5, 400)
ax.plot(xm, gaussian.fitted_mean_pdf(xm, 0.0, 1.0, small.n), "C3", label=r"$\mathcal{N}(0, 1/n)$")
ax.set(title=f"one step from N(0, 1), n = {small.n}", xlabel="value")
ax.legend(fontsize=8)

ax = axes[0, 1]
gs = small.generation
mu, sd = gaussian.expected_log_var(small.n, gs), gaussian.sd_log_var(small.n, gs)
ax.fill_between(gs, mu - sd, mu + sd, color="k", alpha=0.15, label=r"theory: mean $\pm$ 1 sd")
ax.plot(gs, mu, "k--", label="theory: mean")
ax.plot(gs, small.log_var.mean(axis=1), "C0", label="simulation: mean")
ax.plot(gs, small.log_var.mean(axis=1) + small.log_var.std(axis=1), "C0:", label=r"simulation: $\pm$ 1 sd")
ax.plot(gs, small.log_var.mean(axis=1) - small.log_var.std(axis=1), "C0:")
ax.set(title=r"$\log \sigma_t^2$ is a random walk with negative drift", xlabel="generation")
ax.legend(fontsize=8)


def mc_band(ax, values: np.ndarray, color: str, label: str) -> None:
    """Mean over runs with a band of 2 Monte Carlo standard errors."""
    m, se = values.mean(axis=1), values.std(axis=1) / np.sqrt(values.shape[1])
    ax.plot(g, m, color=color, label=label)
    ax.fill_between(g, m - 2 * se, m + 2 * se, color=color, alpha=0.2, lw=0)


ax = axes[1, 0]
mc_band(ax, run.mean**2, "C0", r"simulation: mean of $\mu_t^2$ ($\pm$ 2 SE)")
ax.plot(g, gaussian.var_of_mean(run.n, g), "k--", label=r"theory: $\mathrm{Var}[\mu_t] = t/n$")
ax.set(title=f"the mean drifts (n = {run.n})", xlabel="generation")
ax.legend(fontsize=8)

ax = axes[1, 1]
w2 = gaussian.wasserstein2_sq(run.mean, run.var)
mc_band(ax, w2, "C0", r"simulation: mean of $W_2^2$ ($\pm$ 2 SE)")
ax.plot(g, gaussian.expected_w2_sq(run.n, g), "k--", label=r"exact: $t/n + 2(1-c_n^t)$")
ax.plot(g, gaussian.paper_w2_lower_bound(run.n, g), "C3:", label=r"paper's lower bound: $t/n$")
ax.set(title="Wasserstein-2 distance from the original", xlabel="generation", ylabel=r"$\mathbb{E}[W_2^2]$")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# The simulation sits on the theory in every panel, within its Monte Carlo error. Two things stand out:
# the *typical* run collapses at the pace of the log-variance's drift, about $1/(n-1)$ per generation; and
# the distance from the original grows without bound: early on through the variance (the $2(1-c_n^t)$
# term saturates at 2 as $\sigma_t \to 0$), later through the mean's random walk.
#
# Look at the late generations of the bottom panels: the bands widen and the simulated curves level off.
# This is the paradox again. Once almost every simulated run has collapsed, its mean stops moving; the
# expectation $t/n$ keeps growing only thanks to runs whose variance is still large, runs so rare that
# a few thousand simulations do not contain them.

# %% [markdown]
# ## Two kinds of error
#
# The paper names three sources of error that compound over generations; two of them are visible
# already in this chapter (the third, *functional expressivity*, is about what a model can represent at all,
# and the learning procedure's own error appears in the later chapters).
#
# **Statistical approximation error** comes from the finite sample: with more samples per generation
# the drift per generation, about $-1/(n-1)$ in the log-variance, is smaller, so collapse is slower, but it
# still comes. The generation at which the median variance has halved is about $(n-1)\ln 2$:

# %%
ns = [5, 10, 20, 50, 100, 200, 500]
half_times = []
for n_ in ns:
    r = gaussian.simulate(n_, int(4 * n_), 2000, seed=P["seed"], method="exact")
    half_times.append(gaussian.first_below(np.median(r.var, axis=1), 0.5))
theory_half = [np.log(0.5) / gaussian.expected_log_var(n_, 1) for n_ in ns]
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.plot(ns, half_times, "o-", label="simulation (median of 2000 runs)")
ax.plot(ns, theory_half, "k--", label=r"theory: $\ln 2 / |\mathbb{E}\log(\chi^2_{n-1}/(n-1))|$")
ax.set(
    xscale="log",
    yscale="log",
    xlabel="samples per generation n",
    ylabel="generations",
    title="statistical error: when the median variance has halved",
)
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# The static panels below are what the slider at the end of the chapter shows for a few values of $n$
# (a rendered page has no kernel to move a slider). Grey lines are single runs; the band holds 80% of
# the runs.

# %%
fig = widgets.small_multiples(
    gaussian.plot_collapse,
    "n",
    [10, 30, 100, 300],
    fixed=dict(generations=min(1000, P["generations"]), runs=300, seed=P["seed"], title=False),
    suptitle="fitted standard deviation over generations, for four sample sizes n",
)

# %% [markdown]
# **Functional approximation error** comes from the model being unable to represent the data. Fit a single
# Gaussian to data from a two-mode mixture: even with plenty of samples, the fit is one bump, and
# from generation 1 on the two modes are gone for good; what follows is the same recursion as before.
# The mixture here, $\tfrac12\mathcal N(-a, 1-a^2) + \tfrac12\mathcal N(a, 1-a^2)$ with $a = 0.9$, has
# mean 0 and variance 1, so the best single Gaussian is exactly $\mathcal N(0, 1)$.

# %%
mixture = gaussian.two_mode_mixture(0.9)
fn = gaussian.simulate(P["functional_n"], 50, 200, original=mixture, seed=P["seed"], keep_samples=True)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
x = np.linspace(-3.5, 3.5, 500)
axes[0].hist(fn.samples[0, 0], bins=60, density=True, alpha=0.4, label="original data (generation 0)")
axes[0].plot(x, gaussian.two_mode_pdf(x, 0.9), "k", label="original density")
for t, color in [(1, "C1"), (10, "C2"), (50, "C3")]:
    axes[0].plot(x, stats.norm.pdf(x, fn.mean[t, 0], fn.std[t, 0]), color=color, label=f"fit, generation {t}")
axes[0].set(title=f"one Gaussian fitted to two modes (n = {fn.n})", xlabel="x")
axes[0].legend(fontsize=8)
mass_original = np.mean(np.abs(mixture((200_000,), np.random.default_rng(1))) < 0.3)
mass_fit = gaussian.tail_mass(fn.mean[1], fn.var[1], 0.3)
axes[1].bar(["original", "fit (gen 1)"], [mass_original, 1 - np.median(mass_fit)], color=["k", "C1"])
axes[1].set(title=r"mass in the gap between the modes, $|x| < 0.3$")
fig.tight_layout()
print(f"mass near 0: original {mass_original:.3f}, single-Gaussian fit {1 - np.median(mass_fit):.3f}")

# %% [markdown]
# The single Gaussian puts most of its mass exactly where the original has almost none, and has lost
# the two modes at once, whatever $n$. Statistical error is slow and random; functional error is
# immediate and systematic. In the next chapter a mixture model *can* represent two modes, and we will
# see the statistical error slowly take them apart anyway.

# %% [markdown]
# ## Three data schedules, and keeping original data
#
# The paper trains each generation in one of three ways (`approach` in `collapse_utils`):
#
# 1. on samples of the latest model only (what we did so far);
# 2. on the latest samples mixed with the data of all earlier generations (the original data included),
#    the mix *subsampled* back to $n$ points;
# 3. on the *whole* accumulated mix, which grows by $n$ points a generation.
#
# A fourth knob, `retention`, replaces a fraction of each generation's new data by fresh original data.
# Approaches 1 and 3 run with the exact method (the accumulated mix is pooled through its sufficient
# statistics); approach 2 needs the actual points and runs with the sample method.

# %%
SG, SR, n = P["schedule_generations"], P["schedule_runs"], P["n"]
variants = SCHEDULE_VARIANTS
results = {name: gaussian.simulate(n, SG, SR, seed=P["seed"], **kw) for name, kw in variants.items()}
fig, axes = plt.subplots(1, 2, figsize=(13, 4))
for (name, r), color in zip(results.items(), ["C3", "C1", "C2", "C0", "C4"]):
    lo, med, hi = np.quantile(r.std, [0.1, 0.5, 0.9], axis=1)
    axes[0].plot(r.generation, med, color=color, label=f"{name} ({r.method})")
    axes[0].fill_between(r.generation, lo, hi, color=color, alpha=0.12)
    axes[1].plot(
        r.generation, np.median(gaussian.wasserstein2_sq(r.mean, r.var), axis=1), color=color, label=name
    )
axes[0].set(
    yscale="log",
    xlabel="generation",
    ylabel=r"fitted $\sigma_t$ (median, 10-90%)",
    title=f"n = {n}, {SR} runs per variant",
)
axes[1].set(
    yscale="log",
    xlabel="generation",
    ylabel=r"median $W_2^2$ from the original",
    title="distance from the original",
)
axes[0].legend(fontsize=8)
fig.tight_layout()
for name, r in results.items():
    print(
        f"{name:28s} generation {SG}: median sigma {np.median(r.std[-1]):.3f}, "
        f"runs with sigma < 0.5: {100 * np.mean(r.std[-1] < 0.5):.0f}%"
    )

# %% [markdown]
# - **Approach 1** collapses, as above.
# - **Approach 2** does not drift to zero here either, but it is noisier than approach 3: each generation
#   re-estimates from only $n$ points, yet those points come from a pool that changes by a fraction
#   $1/(t+1)$ per generation and still holds the original data, so the pool, and with it the fit, stays
#   put. (The pool's synthetic share grows; with a model that makes systematic errors, unlike this
#   exact Gaussian fit, those errors would accumulate in it.)
# - **Approach 3** does not collapse: the training set grows, so each new estimate is more precise than the
#   last, the steps of the random walk shrink like $1/t$, and their sum converges. This matches the
#   follow-up finding that *accumulating* data avoids collapse {cite}`gerstgrasser2024collapse`.
# - **Retention** anchors the recursion: with even a small fraction of fresh original data every
#   generation, the variance settles around a stable level instead of drifting to zero
#   {cite}`bertrand2023stability`.
#
# The static panels below vary the schedule and the retention with everything else fixed; the slider at
# the end does the same interactively.

# %%
fixed = dict(n=n, generations=min(SG, 500), runs=min(SR, 200), seed=P["seed"], title=False)
fig = widgets.small_multiples(
    gaussian.plot_collapse,
    "approach",
    [1, 2, 3],
    fixed=fixed,
    suptitle="fitted standard deviation, by data schedule",
)
fig = widgets.small_multiples(
    gaussian.plot_collapse,
    "retention",
    [0.0, 0.01, 0.1, 0.5],
    fixed=fixed,
    suptitle="fitted standard deviation, by retention (approach 1)",
)

# %% [markdown]
# ## Discrete distributions: a Markov chain with absorbing states
#
# For a categorical distribution, "fit" means "count": the next model's probabilities are the
# frequencies of $n$ draws. This is the Wright-Fisher model of population genetics
# {cite}`ewens2004mathematical`. A category that gets no draw has probability 0 for ever after, so the
# chain's only absorbing states are distributions on a single point: every run ends as a delta function.
# Rare categories go first: in one generation, a category of probability $p$ is lost with probability
# $(1-p)^n$.

# %%
probs = np.array([0.5, 0.25, 0.12, 0.06, 0.04, 0.02, 0.01])
cat = gaussian.simulate_categorical(
    probs, n=100, generations=400, runs=P["categorical_runs"] // 4, seed=P["seed"]
)
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for i, p in enumerate(probs):
    axes[0].plot(cat.alive[:, :, i].mean(axis=1), label=f"p = {p:g}")
axes[0].set(
    xlabel="generation",
    ylabel="fraction of runs where it survives",
    title="rare categories vanish first",
)
axes[0].legend(fontsize=8)

one = gaussian.simulate_categorical(
    probs, n=100, generations=1, runs=P["categorical_runs"], seed=P["seed"] + 1
)
ps = np.linspace(0.001, 0.1, 200)
axes[1].plot(ps, gaussian.loss_probability(ps, 100), "k--", label=r"theory: $(1-p)^n$")
axes[1].plot(probs, (one.counts[1] == 0).mean(axis=0), "o", label="simulation")
axes[1].set(
    xlabel="probability p of the category",
    ylabel="P(lost in one generation)",
    title="n = 100 draws",
    xlim=(0, 0.1),
)
axes[1].legend(fontsize=8)

two = gaussian.simulate_categorical(
    np.array([0.2, 0.8]), n=100, generations=1500, runs=P["categorical_runs"], seed=P["seed"] + 2
)
times = two.absorption_time()
done = times[times > 0]
axes[2].hist(done, bins=60, density=True, alpha=0.6)
axes[2].axvline(done.mean(), color="C0", label=f"simulated mean {done.mean():.0f}")
axes[2].axvline(
    gaussian.expected_absorption_time(0.2, 100),
    color="k",
    ls="--",
    label=f"Kimura-Ohta: {gaussian.expected_absorption_time(0.2, 100):.0f}",
)
axes[2].set(xlabel="generation", title="time to absorption, two categories (0.2, 0.8)")
axes[2].legend(fontsize=8)
fig.tight_layout()
print(
    f"{100 * np.mean(times < 0):.2f}% of runs not yet absorbed after {two.counts.shape[0] - 1} generations; "
    f"category 1 (p = 0.2) won in {100 * np.mean(two.counts[-1, :, 0] > 0):.1f}% of runs (theory: 20%)"
)

# %% [markdown]
# The time to absorption has a long right tail, and its mean agrees with the diffusion approximation
# $\mathbb E[T] \approx -2n\,[p\ln p + (1-p)\ln(1-p)]$ {cite}`kimura1969average`. Each category survives
# with probability equal to its initial share, so the *common* outcome is the one that remains: collapse
# erases the rare.

# %% [markdown]
# ## Explore
#
# The slider drives `gaussian.plot_collapse`, the function behind every small-multiples figure above
# (move it in a running notebook; the rendered page shows its first frame).

# %%
ipw_controls = dict(
    n=ipw.IntSlider(value=100, min=2, max=1000, step=1, description="n"),
    generations=ipw.IntSlider(value=500, min=10, max=5000, step=10, description="generations"),
    approach=ipw.Dropdown(
        options=[(f"{k}: {v}", k) for k, v in APPROACHES.items()], value=1, description="schedule"
    ),
    retention=ipw.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.01, description="retention"),
    runs=ipw.fixed(200),
)
ui = widgets.interactive_plot(gaussian.plot_collapse, **ipw_controls)
ui

# %% [markdown]
# ## Summary
#
# - Recursively fitting a Gaussian to its own samples is a random walk of the parameters. The log-variance
#   drifts down by about $1/(n-1)$ per generation, so **every run collapses** to a point, even though the
#   unbiased estimator keeps the *expected* variance at exactly 1.
# - **Tails go first** (early collapse): the mass beyond $3\sigma$ halves long before the variance does.
# - **The mean drifts** with variance $t/n$, so the distance from the original grows without bound (late collapse).
# - More samples per generation slow collapse down linearly in $n$ but do not stop it (statistical error);
#   a model that cannot represent the data loses structure at once (functional error).
# - **Accumulating** all data (approach 3) or **retaining** some original data each generation prevents collapse;
#   subsampling the mix (approach 2) is stable here too, only noisier.
# - For discrete distributions, collapse is absorption in a Markov chain: rare categories are lost first,
#   with probability $(1-p)^n$ per generation.
#
# ## Exercises
#
# 1. Replace the unbiased variance by the maximum-likelihood one ($1/n$ instead of $1/(n-1)$). How does the
#    drift of $\log \sigma_t^2$ change? Predict it before you simulate.
#
# :::{admonition} Solution
# :class: dropdown
# Each factor is multiplied by $(n-1)/n$, which adds $\log(1 - 1/n) \approx -1/n$ to the drift: collapse is
# about twice as fast, and now even the expected variance shrinks, $\mathbb E[\sigma_t^2] = ((n-1)/n)^t$.
# :::
#
# 2. Under approach 3, the training set at generation $t$ holds $n(t+1)$ points. Argue why the variance of
#    $\log \sigma^2_t$ stays bounded. Check it with `gaussian.simulate(..., approach=3)`.
#
# :::{admonition} Solution
# :class: dropdown
# The new data of generation $t$ are a fraction $1/(t+1)$ of the pool, so the fit changes by a step of size
# $O(1/t)$ with random sign. The variances of the steps sum like $\sum 1/t^2 < \infty$, so the walk converges
# instead of drifting. `np.log(run.var).std(axis=1)` levels off.
# :::
#
# 3. With retention $r$, what is the smallest $r$ that keeps the median $\sigma_t$ above 0.5 after 1000
#    generations for $n = 100$? Use the slider or a loop over `retention`.
#
# :::{admonition} Solution
# :class: dropdown
# Very little suffices: the original points pull every generation back towards $\mathcal N(0,1)$ while the
# downward drift is only about $1/(n-1)$ per generation. A loop such as
# `[np.median(gaussian.simulate(100, 1000, 500, retention=r, seed=0).std[-1]) for r in (0, 0.01, 0.02, 0.05)]`
# shows that already one retained point in a hundred holds the median well above 0.5.
# :::
#
# 4. For the categorical chain with two categories of probability $p$ and $1-p$, show that the probability
#    that the first category is the one that survives is $p$.
#
# :::{admonition} Solution
# :class: dropdown
# The frequency of the first category is a martingale ($\mathbb E[\text{count}_{t+1}/n \mid \text{count}_t] = \text{count}_t/n$)
# that ends at 0 or 1. By optional stopping its expected final value equals its initial value $p$, which is
# the probability of ending at 1.
# :::
