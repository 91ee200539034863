"""Chapter 3: the sentences computed from the runs, each on both outcomes.

The runs here are made by hand, so that each sentence is checked on the
outcome it states and on the opposite one.
"""

from __future__ import annotations

import numpy as np
import pytest

from collapse_utils import vae

CONFIG = vae.VAEConfig(latent_dim=8, hidden=(16,), epochs=1)


def fake_run(seed=0, hist=None, generations=3, **series) -> vae.VAERun:
    g = generations + 1
    hist = np.full((g, 10), 0.1) if hist is None else np.asarray(hist, dtype=float)
    values = {name: np.asarray(series.get(name, np.ones(g)), dtype=float) for name in vae.SERIES if name != "entropy"}
    return vae.VAERun(
        retention=0.0, approach=1, seed=seed, config=CONFIG, side=8, class_hist=hist,
        entropy=vae.class_entropy(hist), grid=np.zeros((g, 1, 8, 8)),
        composition=[{"original": 1, "synthetic": 0}] * g, **values,
    )  # fmt: skip


def losing(first: int, at: int, second: int | None = None, at2: int = 3) -> np.ndarray:
    """A class history in which digit ``first`` falls to 0 at generation ``at`` (and ``second`` at ``at2``)."""
    hist = np.full((4, 10), 0.1)
    hist[at:, first] = 0.0
    if second is not None:
        hist[at2:, second] = 0.0
    return hist / hist.sum(axis=1, keepdims=True)


def test_first_lost_says_every_seed_only_when_every_seed_agrees():
    """Bug (issue 10): "the 5 was lost first in every seed" typed in while some seeds lost another digit first."""
    agree = [fake_run(0, losing(5, 1, 2)), fake_run(1, losing(5, 2))]
    text = vae.first_lost_sentence(agree)
    assert text.startswith("In every one of the 2 seeds the first digit to fall below 1% of the samples was the 5")
    assert "(at generations 1 and 2)" in text
    differ = [fake_run(0, losing(5, 1)), fake_run(1, losing(7, 1)), fake_run(2, losing(5, 2)), fake_run(3)]
    text = vae.first_lost_sentence(differ)
    assert "every" not in text and text.startswith("The first digit to fall below 1% of the samples differs")
    assert "the 5 in seeds 0 and 2" in text and "the 7 in seed 1" in text and "no digit at all in seed 3" in text
    assert vae.first_lost_sentence([fake_run(0), fake_run(1)]).startswith("No digit fell below 1%")


def test_first_lost_names_ties_within_a_seed():
    tie = losing(3, 2, 4, 2)
    assert vae.first_lost(fake_run(0, tie)) == ((3, 4), 2)
    assert "were the 3 and the 4" in vae.first_lost_sentence([fake_run(0, tie)])


def test_never_lost_on_both_outcomes():
    """Bug: "the 8 was never lost" stated although some seed lost it."""
    runs = [fake_run(0, losing(5, 1)), fake_run(1, losing(7, 1))]
    text = vae.never_lost_sentence(runs)
    assert text.startswith("8 digits (the 0, the 1, the 2") and "were never lost" in text
    assert "in all 2 seeds" in text and "the 5" not in text
    few = vae.never_lost_sentence([fake_run(0, losing(5, 1)), fake_run(1, np.eye(10)[[0, 0, 0, 0]] * 0.5 + np.eye(10)[[1] * 4] * 0.5)])
    assert few == "The 0 and the 1 were never lost (never below 1%), in all 2 seeds."
    everything = np.zeros((4, 10))
    everything[:, 0] = 1.0
    everything[0] = 0.1
    lost_all = fake_run(0, everything)
    lost_all.class_hist[-1] = np.full(10, 0.0)
    lost_all.class_hist[-1, 1] = 1.0  # the 0 goes at the very end, the 1 earlier
    lost_all.class_hist[1:3, 1] = 0.0
    text = vae.never_lost_sentence([lost_all])
    assert text == "Every digit fell below 1% of the samples at some generation, in every seed."
    text = vae.never_lost_sentence([fake_run(0, losing(5, 1)), lost_all])
    assert text.startswith("No digit stayed above 1% of the samples in every seed; the most persistent were")
    assert "never lost in 1 of 2 seeds" in text


def test_active_dims_sentence_reports_the_runs_not_a_typed_number():
    """Bug (issue 10): "from about 7 of 8" typed beside a printout of 8.0 and a plotted median of 6."""
    runs = [fake_run(s, active_dims=[8, 6, 4, d]) for s, d in enumerate([2, 3, 1])]
    text = vae.active_dims_sentence(runs)
    assert text.startswith("The encoders use a median of 8 of 8 latent dimensions at generation 0")
    assert "(across the 3 seeds: 8) and 2 at generation 3 (1 to 3): fewer than at the start." in text
    same = vae.active_dims_sentence([fake_run(0, active_dims=[5, 5, 5, 5])])
    assert "median of 5 of 8" in same and same.endswith("as many as at the start.")
    assert vae.active_dims_sentence([fake_run(0, active_dims=[3, 5, 5, 6])]).endswith("more than at the start.")


def test_trajectory_sentence_follows_the_median():
    runs = [fake_run(0, confidence=[0.9, 0.5, 0.6, 0.8]), fake_run(1, confidence=[0.9, 0.6, 0.7, 0.8])]
    text = vae.trajectory_sentence(runs, "confidence")
    assert text == (
        "The median classifier confidence goes from 0.90 at generation 0 to 0.80 "
        "at generation 3, through a low of 0.55 at generation 1."
    )
    falling = vae.trajectory_sentence([fake_run(0, frechet=[1, 2, 3, 4])], "frechet", fmt=".0f")
    assert "from 1 at generation 0 to 4 at generation 3." in falling and "through" not in falling
    with pytest.raises(ValueError, match="metric must be one of"):
        vae.trajectory_sentence(runs, "fid")


def test_ordering_sentence_on_both_outcomes():
    """Bug: "the more real data, the closer to real images" stated whichever way the runs went."""
    def group(final):
        return [fake_run(0, feature_var=[1, 0.9, 0.8, final])]

    ordered = vae.ordering_sentence(
        {"without real data": group(0.2), "with retention 0.1": group(0.5), "with retention 0.5": group(0.9)},
        "feature_var", higher_is_closer=True,
    )  # fmt: skip
    assert "0.20 (without real data), 0.50 (with retention 0.1) and 0.90 (with retention 0.5)" in ordered
    assert ordered.endswith("brings the samples closer to the real images.")
    reversed_ = vae.ordering_sentence({"a": group(0.9), "b": group(0.2)}, "feature_var", higher_is_closer=True)
    assert "order is reversed" in reversed_
    mixed = vae.ordering_sentence({"a": group(0.2), "b": group(0.9), "c": group(0.5)}, "feature_var", True)
    assert mixed.endswith("at this scale they are not ordered from a to c.")
    level = vae.ordering_sentence({"a": group(0.001), "b": group(0.003), "c": group(0.2)}, "feature_var", True)
    assert "0.00 (a), 0.00 (b) and 0.20 (c)" in level and "(a and b are level at this precision)" in level
    assert "at this precision the groups are level" in vae.ordering_sentence(
        {"a": group(0.001), "b": group(0.002)}, "feature_var", True
    )
    lower = vae.ordering_sentence({"a": group(0.9), "b": group(0.2)}, "feature_var", higher_is_closer=False)
    assert lower.endswith("brings the samples closer to the real images.")
    with pytest.raises(ValueError, match="higher_is_closer must be True or False"):
        vae.ordering_sentence({"a": group(0.9), "b": group(0.2)}, "feature_var", 1)


def test_decode_sentence_says_which_went_first_whichever_it_was():
    """Bug: "training on means collapses faster" stated whichever way the runs went."""
    means = [fake_run(0, feature_var=[1, 0.4, 0.2, 0.1])]
    draws = [fake_run(0, feature_var=[1, 0.9, 0.45, 0.3])]
    never = [fake_run(0)]
    text = vae.decode_sentence({"decoder means": means, "Bernoulli draws": draws})
    assert text == (
        "Trained on decoder means, the median variety (feature variance relative to real images) falls below 50% "
        "of its generation-0 value at generation 1; trained on Bernoulli draws, only at generation 2."
    )
    swapped = vae.decode_sentence({"decoder means": draws, "Bernoulli draws": means})
    assert swapped.startswith("Trained on Bernoulli draws,") and "trained on decoder means, only at generation 2" in swapped
    one = vae.decode_sentence({"decoder means": draws, "Bernoulli draws": never})
    assert one.startswith("Trained on decoder means,") and "at generation 2; trained on Bernoulli draws, it stays" in one
    assert "for all 3 generations" in one
    assert vae.decode_sentence({"a": never, "b": never}).startswith("Within 3 generations the median variety")
    assert "at the same generation, 1" in vae.decode_sentence({"a": means, "b": means})
    assert vae.first_generation_below(means, "feature_var", 0.5) == 1
    with pytest.raises(ValueError, match="groups must hold two groups"):
        vae.decode_sentence({"a": means})


def test_binarisation_sentence_measures_the_shift():
    """Bug: the binarisation of generation 1's training data described but not measured (or measured on the wrong images)."""

    class Judge:
        def measure_images(self, images):
            return {"frechet": 10.0 if set(np.unique(images)) <= {0.0, 1.0} else 0.5}

    grey = np.zeros((40, 8, 8), dtype=np.float32)
    grey[:, :, :4] = 0.5  # half of the pixels grey, the rest 0
    runs = [fake_run(0, frechet=[2.0, 3, 4, 5]), fake_run(1, frechet=[4.0, 3, 4, 5])]
    text = vae.binarisation_sentence(Judge(), grey, runs, seed=0)
    assert text.startswith("50% of the pixels of the real training images are grey")
    assert "moves a pixel by 0.25 on average" in text
    assert "Fréchet distance of 10.0 from real images: 20.0 times the real-against-real floor (0.5)" in text
    assert text.endswith("and 3.33 times the distance of generation 0's own samples (3.0).")
    binary = vae.binarise(np.full((2, 8, 8), 0.25, dtype=np.float32), np.random.default_rng(1))
    assert set(np.unique(binary)) <= {0.0, 1.0}
    big = vae.binarise(np.full((200, 8, 8), 0.25, dtype=np.float32), np.random.default_rng(1))
    assert big.mean() == pytest.approx(0.25, abs=0.01)
