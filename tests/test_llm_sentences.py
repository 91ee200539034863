"""Chapter 4's computed sentences say what the numbers say, whichever way they came out (collapse_utils.llm.sentences)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from collapse_utils.llm import sentences as S


def curve(*values: float, runs: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``(generations, values)`` with every run equal to ``values``."""
    v = np.asarray(values, dtype=float)
    return np.arange(len(v)), np.tile(v, (runs, 1))


@pytest.mark.parametrize(
    "values, pattern",
    [
        ((10, 20, 25, 30), "rises"),
        ((10, 20, 20.2, 19.9), "levels off"),
        ((10, 20, 15, 14), "falls back"),
        ((10, 10.1, 9.9, 10.05), "flat"),
        ((10, 9, 8, 7), "falls"),
        ((10, 30), "rises"),
    ],
)
def test_rise_pattern_names_every_shape(values, pattern):
    """Bug guarded: a curve that jumps and holds, or rises and falls back, described as 'rising' (the page once said
    errors were 'only passed on' beside a falling curve)."""
    assert S.rise_pattern(values) == pattern


def test_rise_pattern_refuses_what_it_cannot_judge():
    with pytest.raises(ValueError, match="two finite"):
        S.rise_pattern([1.0])
    with pytest.raises(ValueError, match="two finite"):
        S.rise_pattern([1.0, np.nan])


def test_takeaway_says_what_each_recipe_did():
    """Bug guarded: a takeaway that states the paper's finding whatever this run did."""
    up = S.takeaway({"the strict recipe": curve(17, 50, 80, 120), "the authors' recipe": curve(17, 45, 60, 60)}, 58.0)
    assert "from the pretrained model's 58.0 to 17.0" in up
    assert "under the strict recipe it rises generation after generation (17.0 to 120.0)" in up
    assert "under the authors' recipe it rises" in up or "holds" in up
    same = S.takeaway({"the authors' recipe": curve(17, 16.9, 17.1)}, 17.2)
    assert "left the test perplexity near the pretrained model's 17.2" in same and "stays about where" in same
    with pytest.raises(ValueError):
        S.takeaway({}, 1.0)


def test_pretraining_sentence_both_ways():
    """Bugs guarded: 'fine-tuning does the work' printed when the pretrained model already fits the language (the
    page's old setup), or the first epoch reported as a later one."""
    work = S.pretraining_sentence(58.0, [17.0, 18.0, 16.0], [4, 4, 3], 5)
    assert "a factor of 3.4: fine-tuning does the work here" in work and "keeps epoch 5 of 5" in work
    assert "115 before and 34 after" in work
    idle = S.pretraining_sentence(7.7, [7.72, 7.73], [0, 0], 5)
    assert "far less of the work" in idle and "keeps the first of its 5 epochs" in idle
    assert "one epoch (there is no epoch to choose)" in S.pretraining_sentence(58.0, [17.0], [0], 1)


def test_figure10_note_verdicts_and_reasons():
    """Bugs guarded: 'agrees' for a curve that holds or falls back; the anchor explanation given when the kept epochs
    say otherwise."""
    best = {"authors": curve(4, 0, 0, 0), "strict": curve(4, 4, 4, 4)}
    rising = S.figure10_note({"authors": curve(17, 40, 50, 60), "strict": curve(17, 50, 80, 120)}, 58.0,
                             {"authors": curve(4, 4, 4, 4)}, "authors", "strict")  # fmt: skip
    assert "**agrees**" in rising and "anchor" not in rising and "above the pretrained model's level" in rising
    held = S.figure10_note({"authors": curve(17, 57, 58, 58), "strict": curve(17, 50, 80, 120)}, 58.0, best,
                           "authors", "strict")  # fmt: skip
    assert "**agrees in part**" in held and "anchor the recursion to the starting point" in held
    anchored = S.figure10_note({"authors": curve(17, 46, 60, 59)}, 58.0, best, "authors", None)
    assert "**agrees**" in anchored and "anchor the recursion" in anchored
    back = S.figure10_note({"authors": curve(17, 40, 20, 18)}, 58.0, best, "authors", None)
    assert "**does not agree**" in back and "rises and then falls back" in back and "strict" not in back


def _table(rows):
    cols = ["generation 0", "last generation", "change", "change, 10%", "change, 90%", "pretrained model",
            "epoch kept after generation 0", "runs", "checkpoint", "init", "pretrain_language", "last"]  # fmt: skip
    out = pd.DataFrame([[g0, last, last - g0, last - g0 - 1, last - g0 + 1, 58.0, 0.0, 3, ck, init, lang, 4,
                         max(g0, last) if peak is None else peak]
                        for g0, last, ck, init, lang, *peak_ in rows.values() for peak in [peak_[0] if peak_ else None]],
                       index=list(rows), columns=cols + ["peak"])  # fmt: skip
    out.index.name = "experiment"
    return out


def test_ablation_names_the_switches_that_set_the_recovered_apart():
    """Bugs guarded: a cause named that some non-recovered experiment shares, the cause missed when two switches
    together explain the recovery, or the ablation's fewer runs not said (each experiment's count on the page)."""
    table = _table({
        "authors": (17, 58, "real", "pretrained", "related", 60),
        "strict": (17, 120, "generated", "pretrained", "related"),
        "same": (7.5, 9.0, "real", "pretrained", "same", 11.1),  # rose, then fell back
        "same strict": (7.7, 12, "generated", "pretrained", "same"),
    })
    rec, rest, cause = S.ablation_cause(table)
    assert rec == ["same"] and set(rest) == {"authors", "strict", "same strict"}
    assert set(cause) == {("checkpoint", "real"), ("pretrain_language", "same")}
    table.loc[["same", "same strict"], "runs"] = [2, 1]
    text = S.ablation_sentences(table)
    assert "only with same" in text and "together" in text and "pretraining on the fine-tuning language itself" in text
    assert "authors (3 runs): 17" in text and "; same (2 runs): 7.5" in text and "same strict (1 run): 7.7" in text
    one = _table({"a": (17, 17.5, "real", "pretrained", "same"), "b": (17, 40, "real", "pretrained", "related")})
    assert S.ablation_cause(one)[2] == [("pretrain_language", "same")]
    none = _table({"a": (17, 40, "real", "pretrained", "related"), "b": (17, 60, "last", "previous", "related")})
    assert S.ablation_cause(none)[0] == []
    assert "In none of these experiments does the perplexity come back (end" in S.ablation_sentences(none)
    flat = _table({"a": (17, 17.5, "real", "pretrained", "same"), "b": (17, 17.2, "last", "pretrained", "same")})
    assert "In every one of them" in S.ablation_sentences(flat)


def test_band_note_discusses_either_outcome():
    """Bug guarded: a band result ranked by relative growth alone (the frequent tokens start lowest, so their relative
    growth is largest) and read as contradicting the paper without saying so, or the reverse."""
    rare_both = S.band_note({"rare": 6.0, "middle": 3.0, "frequent": 1.0}, {"rare": 9.0, "middle": 3.5, "frequent": 1.1})
    assert "on either count" in rare_both
    flip = S.band_note({"rare": 6.0, "middle": 3.0, "frequent": 1.0}, {"rare": 7.5, "middle": 3.5, "frequent": 2.0})
    assert "in nats the rare tokens lost most" in flip and "relative to where each band started the frequent" in flip
    head = S.band_note({"rare": 6.0, "middle": 3.0, "frequent": 1.0}, {"rare": 6.1, "middle": 3.2, "frequent": 2.0})
    assert "the frequent tokens lost most even in nats" in head


def _shift(last_median, last_tail, fresh=0.01, gen1_tail=0.0):
    return pd.DataFrame([
        {"generation": "reference", "median perplexity": 20.0, "share above the reference median": 0.5,
         "share above the reference's 99th percentile": 0.01},
        {"generation": "a fresh sample of the source", "median perplexity": 21.0, "share above the reference median": 0.52,
         "share above the reference's 99th percentile": fresh},
        {"generation": 0, "median perplexity": 12.0, "share above the reference median": 0.1,
         "share above the reference's 99th percentile": 0.0},
        {"generation": 1, "median perplexity": 8.0, "share above the reference median": 0.05,
         "share above the reference's 99th percentile": gen1_tail},
        {"generation": 2, "median perplexity": last_median, "share above the reference median": 0.05,
         "share above the reference's 99th percentile": last_tail},
    ])  # fmt: skip


def test_figure11_note_judges_the_bulk_and_the_tail_against_the_baseline():
    """Bugs guarded: a right tail claimed where the share above the 99th percentile is the fresh sample's own, or
    'agrees' where only the bulk moved."""
    assert "**agrees**" in S.figure11_note(_shift(6.0, 0.08))
    part = S.figure11_note(_shift(6.0, 0.0))
    assert "**agrees in part**" in part and "does not grow" in part and "sampling" in part
    assert "**does not agree**" in S.figure11_note(_shift(25.0, 0.015, fresh=0.02))


def test_repetition_and_real_text_notes_both_ways():
    """Bug guarded: a fixed sentence about repetition or real text that the numbers contradict."""
    assert "more repetitive than" in S.repetition_note([0.7, 0.8], [0.2, 0.3], "10% kept", "none kept")
    assert "less repetitive than" in S.repetition_note([0.1], [0.3], "10% kept", "none kept")
    assert "about as repetitive as" in S.repetition_note([0.2], [0.21], "10% kept", "none kept")
    assert "rises generation after generation" in S.real_text_note(curve(30, 45, 60)[1], 80.0, "docstrings")
    assert "stays about where" in S.real_text_note(curve(30, 30.2, 29.9)[1], 80.0, "docstrings")


# --------------------------------------------------------------------------- properties (hypothesis, fixed budgets)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FAST = settings(max_examples=40, deadline=None, derandomize=True)
steps = st.lists(st.floats(0.05, 0.5), min_size=1, max_size=5)


@FAST
@given(st.floats(1.0, 500.0), steps, st.floats(0.01, 100.0))
def test_rise_pattern_reads_shapes_relative_to_their_level(start, ups, scale):
    """Bugs guarded: tolerances in absolute units (a curve read differently at another perplexity level), a steady
    rise called levelling off, a fall back missed after the peak, a fall below generation 0 called flat."""
    rising = start * np.cumprod([1.0, *[1 + u for u in ups]])
    assert S.rise_pattern(rising) == "rises"
    assert S.rise_pattern(rising * scale) == "rises"
    assert S.rise_pattern(rising[::-1]) == "falls"
    assert S.rise_pattern(np.full(4, start)) == S.rise_pattern(np.full(4, start * scale)) == "flat"
    back = np.concatenate([rising, [rising[-1] * 0.8, start * 1.01]])
    assert S.rise_pattern(back) == S.rise_pattern(back * scale) == "falls back"
    held = np.concatenate([[start, start * 1.5], np.full(len(ups), start * 1.5 * 1.01)])
    assert S.rise_pattern(held) == S.rise_pattern(held * scale) == "levels off"


switch_values = st.tuples(st.sampled_from(["real", "generated", "last"]), st.sampled_from(["pretrained", "previous"]),
                          st.sampled_from(["related", "same"]))  # fmt: skip


@FAST
@given(st.lists(st.tuples(switch_values, st.booleans()), min_size=2, max_size=6))
def test_the_ablations_cause_sets_the_recovered_apart_and_is_smallest(rows):
    """Bugs guarded: a cause that some experiment that did not recover shares, that one recovered experiment lacks,
    two switches named where one suffices, or no cause named where one or two switches set the recovered apart."""
    import itertools

    table = _table({f"e{i}": (17, 17.1 if ok else 40, *sw) for i, (sw, ok) in enumerate(rows)})
    rec, rest, cause = S.ablation_cause(table)
    assert rec == [f"e{i}" for i, (_, ok) in enumerate(rows) if ok]
    names = ("checkpoint", "init", "pretrain_language")
    values = {f"e{i}": set(zip(names, sw)) for i, (sw, _) in enumerate(rows)}

    def separates(combo):
        return all(set(combo) <= values[n] for n in rec) and not any(set(combo) <= values[n] for n in rest)

    if not rec or not rest:
        assert cause == []
        return
    candidates = [c for size in (1, 2) for c in itertools.combinations(sorted(set.union(*values.values())), size)]
    if cause:
        assert separates(cause)
        assert len(cause) == 1 or not any(separates(c) for c in candidates if len(c) == 1)
    else:
        assert not any(separates(c) for c in candidates)


@FAST
@given(st.floats(1.0, 40.0), st.floats(0.0, 0.2), st.floats(0.0, 0.05), st.floats(0.0, 0.2))
def test_figure11_verdict_follows_its_two_checks(last_median, last_tail, fresh, gen1_tail):
    """Bugs guarded: the verdict not following its two stated checks (the bulk left of the reference's median; a tail
    above the fresh sample's share by more than a point and not below generation 1's)."""
    note = S.figure11_note(_shift(last_median, last_tail, fresh=fresh, gen1_tail=gen1_tail))
    left = last_median < 20.0
    tail = last_tail > fresh + 0.01 and last_tail >= gen1_tail
    verdict = {2: "**agrees**", 1: "**agrees in part**", 0: "**does not agree**"}[left + tail]
    assert verdict in note
    assert ("moves left" in note) == left and ("right tail grows" in note) == tail


def test_a_step_down_within_the_runs_noise_is_not_a_fall_back():
    """Bugs guarded: a plateau of five noisy runs called 'falls back' (the page then says the run disagrees with
    the paper because of noise: seed 1 of the book profile, 97.5 -> 89.8 with runs spread over 89-108); a real fall
    (far beyond the runs' spread) excused as noise; the noise of a median taken as the runs' spread itself, or as 0."""
    plateau = np.array([[21.8, 70.1, 89.1, 90.1, 89.8], [21.8, 74.2, 108.1, 105.9, 93.3],
                        [21.7, 70.4, 93.6, 83.4, 89.3], [21.7, 65.7, 97.5, 94.7, 89.1],
                        [21.7, 64.6, 98.0, 101.1, 103.0]])  # fmt: skip
    c = S.medians(plateau)
    assert S.rise_pattern(c) == "falls back"  # the median alone: 97.5 -> 89.8 is 8% down
    assert S.rise_pattern(c, noise=S.median_noise(plateau)) == "holds"
    e = S.median_noise(plateau)
    assert e.shape == (5,) and e[0] < 0.1 and 2 < e[2] < 6  # 1.2533 sd / sqrt(5): about 3.7 at generation 2
    assert np.allclose(S.median_noise(plateau[:1]), 0.0)
    fall = plateau.copy()
    fall[:, 4] = fall[:, 2] * 0.6  # every run 40% below its generation-2 value
    assert S.rise_pattern(S.medians(fall), noise=S.median_noise(fall)) == "falls back"
    rising = plateau.copy()
    rising[:, 3:] = rising[:, 2:3] + np.array([[10.0, 20.0]])
    assert S.rise_pattern(S.medians(rising), noise=S.median_noise(rising)) == "rises"
    with pytest.raises(ValueError, match="one value per generation"):
        S.rise_pattern(c, noise=[1.0, 2.0])
    curves = {"the authors' recipe": (np.arange(5), plateau), "the strict recipe": (np.arange(5), plateau)}
    note = S.figure10_note(curves, 65.2, {}, "the authors' recipe", "the strict recipe")
    assert "agrees in part" in note and "holds near its peak" in note and "falls back" not in note
    assert "holds near its peak" in S.takeaway(curves, 65.2)
