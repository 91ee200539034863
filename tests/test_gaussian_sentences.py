"""Chapter 1's computed sentences and "against the paper" notes: every branch, with the numbers they print.

A sentence that explains an outcome picks its explanation from the computed verdict; each test gives it both
outcomes. Each test names the bug it guards against.
"""

import numpy as np
import pytest

from collapse_utils import gaussian as G


def flat_then(level, n=101):
    return np.concatenate([np.linspace(0.1, level, n // 2), np.full(n - n // 2, level)])


def test_scientific_numbers_for_readers():
    """Bugs guarded: tiny or huge numbers printed as 0.0 or 1234567.0, a mantissa of 10.0, or a negative
    zero."""
    assert G.scientific(8.4e-49) == "$8.4 \\times 10^{-49}$"
    assert G.scientific(1.19e48, 0) == "$10^{48}$"
    assert G.scientific(9.96e-7) == "$10^{-6}$"  # 9.96 rounds to 10.0: one more power of ten
    assert G.scientific(123456) == "$1.2 \\times 10^{5}$"
    assert G.scientific(0.5) == "0.5" and G.scientific(-0.001) == "$-1.0 \\times 10^{-3}$"
    assert G.scientific(-0.0001 * 0) == "0.0" and G.scientific(float("nan")) == "n/a"
    assert G.scientific(250.4) == "250"


def test_rise_and_levels_off():
    """Bug guarded: the growth over the second half measured from the first point, or with the sign
    flipped."""
    assert G.rise([1.0, 5.0, 2.0, 2.2, 3.0]) == pytest.approx(0.5)
    assert G.rise([5.0, 4.0, 3.0, 2.0, 1.0]) == pytest.approx(-2 / 3)
    assert G.levels_off(flat_then(3.0)) and not G.levels_off(np.linspace(1, 10, 101))


def test_takeaway_both_ways():
    """Bugs guarded: a takeaway that says "collapses" and "carried by rare runs" whatever the run did."""
    collapsed = np.r_[np.zeros(50), np.linspace(0.1, 0.99, 51)]
    s = G.takeaway(100, 5000, collapsed, flat_then(1.6), np.linspace(0.01, 22, 101))
    first, second = s.split("  \n")
    assert "a Gaussian collapses:" in first and "fell below 0.1 at generation 73" in first
    assert "99% of the 5,000 runs" in first
    assert "levelled off near 1.60" in second and "grew to 22.0" in second and "rarer runs" in second
    # nothing collapsed yet, and both curves growing: no claim of collapse, no rare runs
    s = G.takeaway(100, 500, np.zeros(101), np.linspace(0.1, 1.2, 101), np.linspace(0.1, 4.1, 101))
    assert "has not collapsed in any run yet" in s and "still above 0.1" in s
    assert "still grew" in s and "rare" not in s
    s = G.takeaway(100, 500, np.r_[np.zeros(90), np.full(11, 0.3)], flat_then(2.0), flat_then(2.5))
    assert "collapses in some runs, not yet in most" in s and "levelled off too" in s and "rare" not in s


def test_carriers_sentence_both_ways():
    """Bug guarded: "the mean over runs cannot show the expectation" printed when the runs do hold its
    carriers."""
    rare = G.carriers_sentence(2000, 1.1e-10, 5000)
    assert "one run in" in rare and "cannot show" in rare and "$5.5 \\times 10^{-7}$" in rare
    common = G.carriers_sentence(300, 0.007, 500)
    assert "0.7% of runs" in common and "enough for their mean" in common and "3.5" in common
    with pytest.raises(ValueError, match="fraction"):
        G.carriers_sentence(1, 1.5, 10)


def test_gap_explanation_picks_the_reason_from_the_verdict():
    """Bug guarded: the rare-run explanation given to any curve off its theory (one above it, a log-variance,
    or one whose carriers the runs do hold), or an explanation when nothing is off."""
    assert "nothing to explain" in G.gap_explanation("the mean", 2.0, 4.0, True, 1e-9)
    rare = G.gap_explanation("the mean's drift", 6.0, 4.0, True, 1e-9)
    assert rare.startswith("The mean's drift falls below its theory") and "finite number of runs" in rare
    for below, carriers in [(False, 1e-9), (True, None), (True, 12.0)]:
        other = G.gap_explanation("the mean's drift", 6.0, 4.0, below, carriers)
        assert "rare runs do not explain" in other and "6.0 standard errors" in other
    many = G.gap_explanations(
        {"a": (1.0, 0, True), "b": (9.0, 2, True)}, 4.0, {"a": None, "b": np.array([1, 1, 1e-8])}
    )
    assert many.startswith("B falls below") and "A falls" not in many and "A is off" not in many
    assert G.gap_explanations({"a": (1.0, 0, True)}, 4.0, {"a": None}) == ""


def test_within_error_sentence_names_the_level_and_points():
    """Bug guarded: a fixed level of 3 SE judged over thousands of generations (chance alone crosses it)."""
    s = G.within_error_sentence({"a": 1.0, "b": 2.0}, G.max_z_level(2001), points=2001)
    assert s.startswith("Every simulated curve (a and b) lies within 4.6 standard errors")
    assert "2,001 generations" in s
    s = G.within_error_sentence({"a": 1.0, "b": 4.5}, 4.0, points=201)
    assert "Outside 4.0 standard errors of its theory somewhere: b (up to 4.5 SE); within them: a" in s


def test_growth_sentence_formats_changes_without_negative_zero():
    """Bug guarded: "-0%" for a curve that shrank by a hair, or the subject fixed to one curve."""
    flat = np.r_[np.linspace(0, 1, 50), np.full(50, 1.0) - np.linspace(0, 1e-5, 50)]
    rising = np.linspace(0.1, 2, 100)
    s = G.growth_sentence({"superlinear": flat, "constant": rising}, subject="the exact expectation")
    assert s.startswith(
        "Over the second half of the generations, the exact expectation levels off for superlinear"
    )
    assert "-0%" not in s and "still grows for constant (+" in s
    assert "still grows" not in G.growth_sentence({"superlinear": flat})


def test_typical_and_mean_limit_sentences():
    """Bug guarded: the typical run's numbers swapped with the expectation's, or the movement of the mean
    taken from the start of the run."""
    s = G.typical_sentence(2000, 22.0, 18.6, 1.66, 9.45, 5000)
    assert "exact $\\mathbb E[W_2^2]$ is 22.00" in s and "5,000 simulated runs is 18.60" in s
    assert "median run's $W_2^2$ is 1.66" in s and "below 9.45" in s
    moves = np.r_[np.full(90, 0.004), np.full(10, 0.5)]
    m = G.mean_limit_sentence(moves, np.linspace(-1, 1, 100), 4.47, 1000, 2000)
    assert m.startswith("Between generations 1000 and 2000") and "moved by $4.00 \\times 10^{-3}$" in m
    assert "would suggest 4.47" in m and "has settled near its limit" in m
    moving = G.mean_limit_sentence(np.full(100, 0.29), np.linspace(-1.5, 1.5, 100), 1.73, 150, 300)
    assert "is still moving" in moving and "settled" not in moving


def test_estimator_sentence_and_note_both_ways():
    """Bugs guarded: the ratio of halving generations counted in generations instead of fits, a missing
    halving reported as a number, and a note that calls the authors' estimator's expectation unbounded when it
    levels off (or bounded when it grows)."""
    theory = {"unbiased": G.halving_generation(100), "ml": G.halving_generation(100, "ml")}
    s = G.estimator_sentence(100, {"unbiased": 68, "ml": 34}, theory)
    assert "generation 67 in theory" in s and "at 33 with" in s and "1.99 times as fast" in s
    assert "Simulated: generation 68 against 34, 1.97 times as fast." in s
    missing = G.estimator_sentence(100, {"unbiased": None, "ml": 34}, theory)
    assert "the unbiased median did not halve" in missing
    bounded = G.estimator_note(100, 1.97, 1.99, 0.0, 0.86)
    assert bounded.verdict == "partly" and "levels off" in bounded and "+86%" in bounded
    grows = G.estimator_note(100, 1.97, 1.99, 0.3, 0.9)
    assert grows.verdict == "agrees" and "still grows (+30%" in grows
    none = G.estimator_note(100, None, 1.99, 0.0, 0.9)
    assert none.verdict == "differs" and "did not halve" in none


def test_theorem_note_and_sentence_both_ways():
    """Bugs guarded: a verdict typed in rather than computed, a typical distance called settled when it grows,
    and a mean below the theory's bound explained by rare runs the simulation does hold."""
    agrees = G.theorem_note(0.99, 0.86, 0.03)
    assert agrees.verdict == "agrees" and agrees.startswith("> **Against the paper** (Theorem 3.1)")
    assert "does not grow: it settles (+3%" in agrees
    partly = G.theorem_note(
        0.29,
        0.9,
        0.27,
        subject="Theorem 3.1 with a two-mode truth",
        truth="the two-mode truth",
        expectation="the lower bound on the expectation",
    )
    assert partly.verdict == "partly" and "grows as well (+27%)" in partly and "lower bound" in partly
    assert G.theorem_note(0.1, 0.0, 0.0).verdict == "differs"
    base = (0.99, 0.1, 2000, 6.4, 1.66)
    below_rare = G.theorem_sentence(*base, 20.07, 0.057, 1e-6)
    assert "falls below that bound: here too" in below_rare and "99% of runs" in below_rare
    assert "rare runs do not explain" in G.theorem_sentence(*base, 20.07, 0.057, 12.0)
    above = G.theorem_sentence(*base, 3.0, 0.057, 1e-6)
    assert "falls below" not in above and "0.057 is the distance of N(0, 1)" in above


def test_first_order_growth_absorbing_notes_compute_their_verdicts():
    """Bug guarded: notes whose verdicts do not follow their checks."""
    assert G.first_order_note(None, 100, 200, 1.0, 4.0).verdict == "agrees"
    part = G.first_order_note(276, 100, 2000, 1.0, 4.5)
    assert part.verdict == "partly" and "until generation 275 (about 2.8 n)" in part
    assert "5.0 standard errors off" in G.first_order_note(276, 100, 2000, 5.0, 4.5)
    ok = G.growth_note({"constant": 0.98, "linear": 0.13, "superlinear": 0.0})
    assert ok.verdict == "agrees" and "superlinear 0%" in ok
    assert G.growth_note({"constant": 0.98, "linear": 0.01, "superlinear": 0.2}).verdict == "partly"
    assert G.absorbing_note(2.0, 3.0, 5000).verdict == "agrees"
    bad = G.absorbing_note(4.2, 3.0, 5000)
    assert bad.verdict == "differs" and "4.2 standard errors" in bad and "5,000" in bad
    summary = G.paper_summary([ok, bad])
    assert summary == (
        "Against the paper: the paper's condition on sample sizes, agrees; "
        "the paper's absorbing states, does not agree."
    )
    with pytest.raises(ValueError):
        G.paper_summary([])


def test_expressivity_and_retention_memory_sentences_both_ways():
    """Bugs guarded: "more" printed where the fit puts less mass, and a retention kind said to remember its
    start whatever its correlation."""
    assert "2.9 times more" in G.expressivity_sentence(0.082, 0.236, 0.3)
    assert "2.0 times less" in G.expressivity_sentence(0.2, 0.1, 0.3)
    s = G.retention_memory_sentence({"fixed retention": 0.72, "fresh retention": -0.08})
    assert "with fixed retention (0.72), each run's last σ remembers its first" in s
    assert "with fresh retention (-0.08), the runs forget" in s
    s = G.retention_memory_sentence({"fixed retention": 0.1, "fresh retention": 0.0})
    assert "remembers" not in s and "fixed retention (0.10) and fresh retention (0.00)" in s


def test_early_collapse_title_and_sentence_both_ways():
    """Bug guarded: a title that claims the tails go first whatever the data show."""
    tails_first = G.early_collapse_title({2.0: 30, 3.0: 10, 4.0: 5}, 20)
    assert tails_first == "the tails beyond 3σ and 4σ halve before the variance; beyond 2σ, not"
    assert (
        G.early_collapse_title({2.0: 30, 3.0: 25}, 20) == "the variance halves before any of these tails does"
    )
    assert G.early_collapse_title({3.0: 5}, None) == "the tail beyond 3σ halves before the variance"
