"""Chapter 4's pipeline, fast: the authors' recipe, the bugs of issue 13, fallback rules, identity.

Each test that exists to catch a bug names the bug in its docstring. Models
here are micro OPTs (one layer, width 16) so that the whole file runs in
seconds; ``scripts/mutate.py llm`` runs it against the mutants of
``tests/mutations/llm.py``.
"""

from __future__ import annotations

import json
import math
import socket
from unittest import mock
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from collapse_utils.llm import data, distributed, experiment, identity, model
from collapse_utils.llm.experiment import ExperimentConfig, Setting
from collapse_utils.llm.synthetic import LanguageConfig

torch.set_num_threads(1)

MICRO = ExperimentConfig(
    model="small",
    data="synthetic",
    generations=2,
    runs=1,
    settings=(Setting(2, 0.25),),
    block_size=16,
    new_tokens=16,
    num_beams=2,
    lr=3e-3,
    batch_size=4,
    gen_batch_size=16,
    eval_batch_size=16,
    max_train_blocks=12,
    max_valid_blocks=4,
    max_test_blocks=4,
    small=model.SmallModelConfig(
        hidden_size=16,
        ffn_dim=32,
        layers=1,
        heads=2,
        vocab_size=300,
        pretrain_epochs=1,
        pretrain_blocks=24,
        pretrain_batch_size=8,
        max_positions=40,
    ),
    language=LanguageConfig(vocab_size=60),
    synthetic_words=(2500, 400, 400),
    samples=1,
)


class Spy:
    """Wraps a function and records the keyword arguments of every call."""

    def __init__(self, fn):
        self.fn, self.calls = fn, []

    def __call__(self, *args, **kwargs):
        self.calls.append(kwargs)
        return self.fn(*args, **kwargs)


@pytest.fixture(scope="module")
def micro_run(tmp_path_factory):
    """The micro experiment, with every call of ``continue_blocks`` recorded."""
    out = tmp_path_factory.mktemp("micro") / "out"
    spy = Spy(model.continue_blocks)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model, "continue_blocks", spy)
        results = experiment.run_experiment(MICRO, out, verbose=False, progress=False)
    prep = experiment.prepare(MICRO, out, verbose=False)
    return results, prep, spy


def micro_lm(vocab: int = 40, seed: int = 0):
    from transformers import OPTConfig, OPTForCausalLM

    torch.manual_seed(seed)
    cfg = OPTConfig(
        vocab_size=vocab, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, ffn_dim=32,
        max_position_embeddings=64, word_embed_proj_dim=16, dropout=0.0, pad_token_id=0, bos_token_id=1,
        eos_token_id=1,
    )
    return OPTForCausalLM(cfg).eval()


def random_blocks(n: int, length: int = 12, vocab: int = 40, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(2, vocab, size=(n, length))


# ---------------------------------------------------------------- the six bugs of issue 13
def test_retained_blocks_are_original_by_content():
    """Bugs guarded: the retained share keeps the is_original flags but synthetic blocks (issue 13); the kept blocks'
    own continuations also kept (the authors' pairing: a kept batch is not rewritten); the same subset every
    generation where the authors' shuffled loader draws a new one."""
    from collapse_utils.schedules import DataSchedule

    original = np.arange(40 * 4).reshape(40, 4)
    written = -np.arange(40 * 4).reshape(40, 4) - 1  # continuations of every original block, row by row
    sched = DataSchedule(original, 1, 0.1)
    subsets = []
    for g in range(6):
        rng = np.random.default_rng(g)
        kept = sched.choose_retained(rng)
        others = np.setdiff1d(np.arange(40), kept)
        blocks = sched.next_training_set(written[others], rng, retained=kept)
        flags = sched.last_is_original
        assert len(blocks) == 40 and flags.sum() == 4 and flags[:4].all()
        np.testing.assert_array_equal(blocks[flags], original[kept])
        np.testing.assert_array_equal(blocks[~flags], written[others])  # the other blocks' continuations
        subsets.append(tuple(kept))
    assert len(set(subsets)) > 1
    with pytest.raises(ValueError, match="distinct"):
        sched.next_training_set(written[:36], np.random.default_rng(0), retained=np.array([1, 1, 2, 3]))
    assert ExperimentConfig().retained_blocks == "random"  # the authors' default


def _original_rows(blocks: np.ndarray, original: np.ndarray) -> np.ndarray:
    """The index in ``original`` of every row of ``blocks`` (-1 where it is not an original block)."""
    lookup = {row.tobytes(): i for i, row in enumerate(np.asarray(original, dtype=np.int64))}
    return np.array([lookup.get(np.asarray(row, dtype=np.int64).tobytes(), -1) for row in blocks])


def test_retained_blocks_in_the_run_are_original(micro_run):
    """Bugs guarded: the retained blocks of a generation are synthetic although flagged original (issue 13); the same
    retained blocks in every generation (the authors draw a fresh random subset)."""
    results, prep, _ = micro_run
    setting = MICRO.settings[0].name
    ppl0 = results.array("train_ppl", setting, 0)
    kept = []
    for g in (1, 2):
        flags = results.array("is_original", setting, g)
        blocks = np.load(results.output / setting / "run0" / f"gen{g}" / "blocks.npy")
        rows = _original_rows(blocks, prep.train_blocks)
        assert flags.sum() == round(0.25 * len(flags)) and flags[: flags.sum()].all()
        assert (rows[flags] >= 0).all() and (rows[~flags] == -1).all()
        # a retained block is scored by generation 0 exactly as the original block it is
        np.testing.assert_allclose(results.array("train_ppl", setting, g)[flags], ppl0[rows[flags]], rtol=1e-5)
        kept.append(set(rows[flags]))
    assert kept[0] != kept[1]


def _gen_blocks(results, prep, g: int) -> np.ndarray:
    return np.load(results.output / MICRO.settings[0].name / "run0" / f"gen{g}" / "blocks.npy")


def test_figure_11_is_scored_by_generation_0(micro_run):
    """Bug: Figure 11's perplexities are scored by the current model instead of generation 0 (issue 13)."""
    from transformers import AutoModelForCausalLM

    results, prep, _ = micro_run
    folder = results.output / MICRO.settings[0].name / "run0"
    blocks = _gen_blocks(results, prep, 2)
    saved = results.array("train_ppl", MICRO.settings[0].name, 2)
    gen0 = AutoModelForCausalLM.from_pretrained(folder / "gen0" / "model")
    gen2 = AutoModelForCausalLM.from_pretrained(folder / "gen2" / "model")
    np.testing.assert_allclose(saved, np.exp(model.sequence_nll(gen0, blocks)), rtol=1e-4)
    assert not np.allclose(saved, np.exp(model.sequence_nll(gen2, blocks)), rtol=1e-3)


def test_continue_blocks_asks_for_the_papers_beam_search(monkeypatch):
    """Bugs: greedy decoding instead of beam search; no repetition penalty; prompt kept with the data (issue 13)."""
    lm = micro_lm()
    spy = Spy(lm.generate)
    monkeypatch.setattr(lm, "generate", spy)
    prompts = random_blocks(3)
    out = model.continue_blocks(lm, prompts, new_tokens=5, batch_size=8, pad_token_id=0, eos_token_id=1,
                                fast_beam=False)  # fmt: skip
    kw = spy.calls[0]
    assert kw["num_beams"] == 5 and kw["repetition_penalty"] == 3.0 and kw["do_sample"] is False
    assert kw["min_new_tokens"] == kw["max_new_tokens"] == 5
    full = lm.generate(**kw)
    np.testing.assert_array_equal(out, full[:, prompts.shape[1] :].numpy())  # the continuation alone
    fast = model.continue_blocks(lm, prompts, new_tokens=5, batch_size=8, pad_token_id=0, eos_token_id=1)
    np.testing.assert_array_equal(fast, out)  # the fast search writes the same tokens


def test_beam_search_and_penalty_change_the_text():
    """Bugs: greedy decoding instead of beam search; repetition penalty ignored (issue 13)."""
    lm = micro_lm(seed=3)
    prompts = random_blocks(6, seed=1)
    kw = dict(new_tokens=10, batch_size=8, pad_token_id=0, eos_token_id=1)
    beam = model.continue_blocks(lm, prompts, num_beams=5, repetition_penalty=3.0, **kw)
    greedy = model.continue_blocks(lm, prompts, num_beams=1, repetition_penalty=3.0, **kw)
    plain = model.continue_blocks(lm, prompts, num_beams=5, repetition_penalty=1.0, **kw)
    assert (beam != greedy).any() and (beam != plain).any()


def test_sampling_draws_from_the_whole_distribution():
    """Bug: ``do_sample`` left to transformers' defaults, which keep only the 50 likeliest tokens
    (``top_k=50``): "sampling at temperature 1" would never write a rare word.

    A model whose next-token distribution is nearly flat over 300 tokens (the
    logits fall by 0.001 per token, so that the top-50 cut has 50 tokens to
    keep) must write far more than 50 different tokens in 20 x 40 draws (about
    280 expected).
    """
    lm = micro_lm(vocab=300, seed=0)
    with torch.no_grad():  # the final layer norm outputs e_0 whatever the input, so the logits are W[:, 0]
        norm = lm.model.decoder.final_layer_norm
        norm.weight.zero_()
        norm.bias.zero_()
        norm.bias[0] = 1.0
        lm.lm_head.weight[:, 0] = -0.001 * torch.arange(300, dtype=torch.float32)
    prompts = random_blocks(20, vocab=300)
    out = model.continue_blocks(lm, prompts, new_tokens=40, num_beams=1, repetition_penalty=1.0, batch_size=20,
                                pad_token_id=0, eos_token_id=None, do_sample=True, seed=0)  # fmt: skip
    assert len(np.unique(out)) > 150


def test_the_run_writes_data_with_the_configured_search(micro_run):
    """Bugs: the runner decodes greedily or without the repetition penalty (issue 13)."""
    _, _, spy = micro_run
    assert len(spy.calls) == MICRO.generations
    for kw in spy.calls:
        assert kw["num_beams"] == MICRO.num_beams and kw["repetition_penalty"] == MICRO.repetition_penalty
        assert kw["new_tokens"] == MICRO.continuation
    paper = ExperimentConfig()
    assert (paper.num_beams, paper.repetition_penalty, paper.continuation) == (5, 3.0, 64)


def test_cosine_schedule_is_the_authors():
    """Bug: no learning-rate decay (constant rate) (issue 13; issue 9: CosineAnnealingLR(T_max=epochs, eta_min=1e-6))."""
    lrs = model.learning_rates("cosine", 2e-5, epochs=5, steps_per_epoch=3)
    expect = [1e-6 + (2e-5 - 1e-6) * (1 + math.cos(math.pi * e / 5)) / 2 for e in range(5)]
    np.testing.assert_allclose(lrs, np.repeat(expect, 3))
    lin = model.learning_rates("linear", 1.0, epochs=2, steps_per_epoch=2)
    np.testing.assert_allclose(lin, [1.0, 0.75, 0.5, 0.25])
    assert ExperimentConfig().schedule == "cosine" and ExperimentConfig().min_lr == 1e-6


def test_training_uses_the_schedule():
    """Bug: the optimizer keeps the initial learning rate (no decay) (issue 13)."""
    lm = micro_lm()
    stats = model.train(lm, random_blocks(8), epochs=3, lr=1e-2, batch_size=4, seed=0, device="cpu")
    np.testing.assert_allclose(stats["lrs"], model.learning_rates("cosine", 1e-2, 3, 2))
    assert stats["lrs"][-1] < stats["lrs"][0] and stats["steps"] == 6


def test_the_run_trains_with_a_decaying_rate(micro_run):
    """Bug: the runner trains every generation at a constant rate, or with the wrong epochs (issue 13)."""
    results, _, _ = micro_run
    lrs = np.load(results.output / MICRO.settings[0].name / "run0" / "gen1" / "lrs.npy")
    assert len(lrs) == 2 * 3  # 2 epochs of 12 / 4 batches
    np.testing.assert_allclose(lrs, model.learning_rates("cosine", MICRO.lr, 2, 3))


def test_every_generation_has_its_own_seed(micro_run):
    """Bug: the same seed for every generation (issue 13)."""
    results, _, _ = micro_run
    seeds = results.table["seed"].tolist()
    assert len(set(seeds)) == len(seeds)
    assert experiment.derived_seed(0, 0, 0, 1) != experiment.derived_seed(0, 0, 0, 2)
    assert experiment.derived_seed(0, 0, 1, 1) != experiment.derived_seed(0, 0, 0, 1)


# ---------------------------------------------------------------- training details
@pytest.mark.parametrize("fused", [True, False])
def test_gradient_accumulation_is_the_same_step(fused):
    """Bug: the loss of a micro-batch is not divided by the whole batch's tokens (accumulation off), on either path
    of the loss: the fused one (OPT in float32, the CPU's) or the model's own logits (a GPU's autocast)."""
    blocks = random_blocks(8)
    with mock.patch.object(model, "_fused_loss_applies", lambda *a: fused):
        a = model.train(micro_lm(), blocks, epochs=1, lr=1e-2, batch_size=8, device="cpu", max_grad_norm=None)
        b = model.train(micro_lm(), blocks, epochs=1, lr=1e-2, batch_size=8, micro_batch_size=3, device="cpu",
                        max_grad_norm=None)
    for p, q in zip(a["model"].parameters(), b["model"].parameters()):
        torch.testing.assert_close(p, q, rtol=1e-3, atol=2e-5)  # Adam amplifies rounding of tiny gradients
    assert a["losses"][0] == pytest.approx(b["losses"][0], rel=1e-5)


def test_gradient_clipping():
    """Bug: gradients are not clipped (the max_grad_norm option ignored)."""
    blocks = random_blocks(8)
    before = [p.detach().clone() for p in micro_lm().parameters()]
    clipped = model.train(micro_lm(), blocks, epochs=1, lr=1e-2, batch_size=8, device="cpu", max_grad_norm=1e-12)
    free = model.train(micro_lm(), blocks, epochs=1, lr=1e-2, batch_size=8, device="cpu", max_grad_norm=None)
    moved_clipped = max(float((p.detach() - q).abs().max()) for p, q in zip(clipped["model"].parameters(), before))
    moved_free = max(float((p.detach() - q).abs().max()) for p, q in zip(free["model"].parameters(), before))
    assert moved_clipped < 1e-4 < moved_free
    assert ExperimentConfig().max_grad_norm == 1.0


def test_best_validation_checkpoint_is_kept():
    """Bug: the last epoch's weights are kept although an earlier epoch had a lower validation loss."""
    blocks = random_blocks(8)
    valid = random_blocks(4, seed=5)
    stats = model.train(micro_lm(), blocks, epochs=3, lr=2.0, batch_size=8, device="cpu", schedule="constant",
                        valid_blocks=valid, max_grad_norm=None)
    best = int(np.argmin(stats["valid_losses"]))
    assert stats["best_epoch"] == best
    assert model.sequence_nll(stats["model"], valid).mean() == pytest.approx(stats["valid_losses"][best], rel=1e-5)
    assert min(stats["valid_losses"]) < stats["valid_losses"][-1]  # the test means something


def test_token_losses_match_a_direct_computation():
    """Bugs: the scored targets are shifted wrongly, or the chunks lose or repeat rows (on the fused path a CPU takes,
    a chunk of any size, and on the model's logits a GPU takes); scoring never takes the fused path (half the speed,
    silently)."""
    lm = micro_lm()
    blocks = random_blocks(7)
    ids = torch.as_tensor(blocks)
    with torch.no_grad():
        logp = torch.log_softmax(lm(input_ids=ids).logits.double(), -1)
    direct = -logp[:, :-1].gather(-1, ids[:, 1:, None]).squeeze(-1).numpy()
    calls = []
    real = model.next_token_nll
    with mock.patch.object(model, "next_token_nll", lambda *a, **k: calls.append(1) or real(*a, **k)):
        np.testing.assert_allclose(model.token_nll(lm, blocks, batch_size=3), direct, rtol=1e-5)
        np.testing.assert_allclose(model.sequence_nll(lm, blocks, batch_size=4), direct.mean(1), rtol=1e-5)
    assert len(calls) == 3 + 2  # the fused path, batch after batch
    for chunk in (1, 7, 256):
        with torch.no_grad():
            np.testing.assert_allclose(model.next_token_nll(lm, ids, chunk=chunk), direct, rtol=1e-5)
    with mock.patch.object(model, "_fused_loss_applies", lambda *a: False):  # the model's own logits
        np.testing.assert_allclose(model.token_nll(lm, blocks, batch_size=3, chunk_tokens=20), direct, rtol=1e-5)


@pytest.mark.parametrize("chunk", [1, 7, 256])
def test_fused_training_loss_matches_cross_entropy_and_its_gradients(chunk):
    """Bugs: the fused loss drops or repeats the rows of a last, shorter chunk; its targets are shifted wrongly (the
    current token, not the next); its gradient forgets the ``- 1`` at the target (softmax alone) or the hidden
    states' share; the backward pass ignores the incoming gradient (a loss divided by the token count trains at
    the wrong rate)."""
    lm = micro_lm()
    lm.model.decoder.layers[0].fc1.weight.data.normal_()  # a model whose every row differs
    ids = torch.as_tensor(random_blocks(5, length=11))
    a = model.summed_next_token_loss(lm, ids, chunk=chunk) / 37.0
    a.backward()
    fused = [p.grad.clone() for p in lm.parameters()]
    lm.zero_grad(set_to_none=True)
    logits = lm(input_ids=ids).logits[:, :-1]
    b = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                                          reduction="sum") / 37.0  # fmt: skip
    b.backward()
    assert a.item() == pytest.approx(b.item(), rel=1e-6)
    for f, p in zip(fused, lm.parameters()):
        np.testing.assert_allclose(f.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_training_takes_the_fused_loss_on_a_cpu_and_the_same_steps():
    """Bugs: the fused loss is never taken (the speed is lost silently), or training with it takes other steps than
    with the model's logits (a different loss, mean or denominator)."""
    blocks = random_blocks(12)
    calls = []
    real = model.summed_next_token_loss

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    with mock.patch.object(model, "summed_next_token_loss", spy):
        fused = model.train(micro_lm(), blocks, epochs=2, lr=1e-2, batch_size=5, device="cpu")
    assert len(calls) == fused["steps"] == 6
    with mock.patch.object(model, "_fused_loss_applies", lambda *a: False):
        plain = model.train(micro_lm(), blocks, epochs=2, lr=1e-2, batch_size=5, device="cpu")
    np.testing.assert_allclose(fused["losses"], plain["losses"], rtol=1e-5)
    assert not model._fused_loss_applies(micro_lm(), "bf16")  # autocast keeps the model's own head and loss


@pytest.fixture
def one_process_group():
    """A gloo process group of one process, so that a World can claim to be rank 0 of 2."""
    import torch.distributed as dist

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dist.init_process_group("gloo", rank=0, world_size=1, init_method=f"tcp://127.0.0.1:{port}")
    yield
    dist.destroy_process_group()


def test_schedule_does_not_depend_on_the_number_of_processes(one_process_group):
    """Bug: the step count is divided by the number of processes (the rate reaches 0 after 1/P of training)."""
    world = distributed.World(rank=0, size=2)
    blocks = random_blocks(10)
    stats = model.train(micro_lm(), blocks, epochs=2, lr=1e-2, batch_size=4, device="cpu", world=world,
                        schedule="linear")
    assert stats["steps"] == 2 * 3
    np.testing.assert_allclose(stats["lrs"], model.learning_rates("linear", 1e-2, 2, 3))
    assert stats["tokens"] == 2 * blocks.size  # tokens of the global batches


def test_two_trainings_with_different_precisions_in_one_process():
    """Bug: a second training call with another precision raises 'AcceleratorState has already been initialized'."""
    blocks = random_blocks(4)
    a = model.train(micro_lm(), blocks, epochs=1, lr=1e-3, batch_size=4, device="cpu", mixed_precision="no")
    b = model.train(micro_lm(), blocks, epochs=1, lr=1e-3, batch_size=4, device="cpu", mixed_precision="bf16")
    assert (a["precision"], b["precision"]) == ("no", "bf16")


# ---------------------------------------------------------------- settings, sources, identity
def test_setting_names_are_unique_and_reversible():
    """Bug: Setting(1, 0.0) and Setting(1, 0.004) share the folder 1ep-0pct."""
    settings = [Setting(1, 0.0), Setting(1, 0.004), Setting(10, 0.1), Setting(5, 1 / 3), Setting(1, 1.0)]
    names = [s.name for s in settings]
    assert len(set(names)) == len(names)
    assert [Setting.from_name(n) for n in names] == settings
    with pytest.raises(ValueError, match="settings must differ"):
        replace(MICRO, settings=(Setting(1, 0.1), Setting(1, 0.1))).validate()


def test_only_the_default_hub_names_fall_back():
    """Bug: a mistyped path, an unknown data name or --no-fallback silently falls back to the embedded path."""
    assert data.resolve_data("wikitext-2-raw-v1", True, hub=False) == "fallback"
    assert data.resolve_data("wikitext-2-raw-v1", True, hub=True) == "hub"
    with pytest.raises(data.HubUnavailable, match="fallback is off"):
        data.resolve_data("wikitext-2-raw-v1", False, hub=False)
    with pytest.raises(data.HubUnavailable, match="only wikitext-2-raw-v1"):
        data.resolve_data("wikitext-103-raw-v1", True, hub=False)
    with pytest.raises(ValueError, match="data must be"):
        data.resolve_data("wikitext-3", True, hub=True)
    with pytest.raises(ValueError, match="does not exist"):
        data.resolve_data("./no/such/folder", True, hub=True)
    assert model.resolve_model(model.HUB_MODEL, True, hub=False) == "fallback"
    assert model.resolve_model(model.HUB_MODEL, True, hub=True) == "hub"
    with pytest.raises(data.HubUnavailable, match="only the default"):
        model.resolve_model("facebook/opt-350m", True, hub=False)
    with pytest.raises(data.HubUnavailable, match="fallback is off"):
        model.resolve_model(model.HUB_MODEL, False, hub=False)
    with pytest.raises(ValueError, match="does not exist"):
        model.resolve_model("/a/mistyped/path", True, hub=False)
    assert model.resolve_model("small", False, hub=False) == "small"


def test_every_numeric_option_is_validated():
    """Bug: --repetition-penalty inf (or a NaN learning rate) runs a whole experiment."""
    for change, name in [
        (dict(repetition_penalty=math.inf), "repetition_penalty"),
        (dict(repetition_penalty=0.0), "repetition_penalty"),
        (dict(lr=math.nan), "lr"),
        (dict(max_grad_norm=math.inf), "max_grad_norm"),
        (dict(min_lr=1.0), "min_lr"),
        (dict(batch_size=0), "batch_size"),
        (dict(schedule="step"), "schedule"),
        (dict(retained_blocks="last"), "retained_blocks"),
        (dict(settings=(Setting(1, math.nan),)), "retention"),
        (dict(eval_batch_size=0), "eval_batch_size"),
    ]:
        with pytest.raises(ValueError, match=name):
            replace(MICRO, **change).validate()


def test_identity_differences_are_named(tmp_path):
    """Bug: resuming into a folder of another model, data or code version goes on silently."""
    ident = {"model": {"loaded": "a", "weights": "1"}, "data": {"text": "x"}, "code": "c1"}
    (tmp_path / "identity.json").write_text(json.dumps(ident))
    identity.check_identity(tmp_path, ident)  # the same: passes
    other = {"model": {"loaded": "a", "weights": "1"}, "data": {"text": "y"}, "code": "c2"}
    with pytest.raises(ValueError, match=r"data\.text: 'x' in the folder, 'y' now") as err:
        identity.check_identity(tmp_path, other)
    assert "code: 'c1' in the folder, 'c2' now" in str(err.value) and "model" not in str(err.value).split(":", 1)[1]
    # the same characters, split differently between the splits (or lines), are other data
    assert identity.text_fingerprint([["ab"], ["c"]]) != identity.text_fingerprint([["a"], ["bc"]])
    lm = micro_lm()
    fp = identity.weights_fingerprint(lm)
    with torch.no_grad():
        next(lm.parameters())[0, 0] += 1e-3
    assert identity.weights_fingerprint(lm) != fp


def test_resume_with_other_data_is_refused(micro_run, tmp_path):
    """Bug: a folder written with one corpus is resumed with another (the identity is not checked)."""
    results, _, _ = micro_run
    changed = replace(MICRO, language=replace(MICRO.language, seed=99))
    # same folder, another configuration: refused before any work, naming the field
    with pytest.raises(ValueError, match="language.seed"):
        experiment.run_experiment(changed, results.output, verbose=False, progress=False)
    ident = json.loads((results.output / "identity.json").read_text())
    assert ident["model"]["requested"] == "small" and ident["data"]["source"] == "synthetic"
    assert ident["code"] == identity.code_version() and len(ident["data"]["text"]) == 16


def test_fresh_moves_the_old_folder_aside(tmp_path):
    """Bug: --fresh deletes results, or does not start afresh."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "config.json").write_text("{}")
    moved = identity.move_aside(out)
    assert not out.exists() and (moved / "config.json").exists() and "replaced-" in moved.name


def test_gpu_profile_validates_and_fits_a_t4():
    """Issue 14: the gpu profile is OPT-125m on wikitext2, the paper's settings, >= 3 generations, >= 2 runs."""
    gpu = experiment.profile_config("gpu")
    assert (gpu.model, gpu.data) == ("facebook/opt-125m", "wikitext-2-raw-v1")
    assert gpu.settings == experiment.PAPER_SETTINGS and gpu.generations >= 3 and gpu.runs >= 2
    paper = ExperimentConfig()
    for name in ("lr", "batch_size", "num_beams", "repetition_penalty", "block_size", "schedule", "min_lr"):
        assert getattr(gpu, name) == getattr(paper, name), name
    assert experiment.estimate_seconds(gpu, "T4") <= 60 * 60
    assert experiment.estimate_seconds(gpu, "H100") < experiment.estimate_seconds(gpu, "T4")
    assert experiment.estimate_seconds(replace(gpu, runs=4), "T4") > experiment.estimate_seconds(gpu, "T4")
    assert "T4" in experiment.estimate_line(gpu) and "estimate" in experiment.estimate_line(gpu)
    with pytest.raises(ValueError, match="device_name"):
        experiment.estimate_seconds(gpu, "TPU")


def test_resume_with_another_code_version_is_refused(micro_run, tmp_path):
    """Bug: the identity of an output folder (model, data, code version) is recorded but not checked on resume."""
    import shutil

    results, _, _ = micro_run
    out = tmp_path / "copy"
    out.mkdir()
    shutil.copy(results.output / "config.json", out / "config.json")
    ident = json.loads((results.output / "identity.json").read_text())
    ident["code"] = "0123456789ab"
    (out / "identity.json").write_text(json.dumps(ident))
    with pytest.raises(ValueError, match="code: '0123456789ab' in the folder"):
        experiment.run_experiment(MICRO, out, verbose=False, progress=False, cache_dir=results.output / "cache")
    assert not (out / "metrics.csv").exists()
