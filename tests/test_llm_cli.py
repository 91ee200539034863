"""Chapter 4's command line: one-line errors with exit status 2 before any work, --help, the header."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from collapse_utils.llm import data
from collapse_utils.llm.__main__ import build_parser, config_from_args, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def offline(monkeypatch):
    """The hub unreachable, whatever the network here."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "/a/mistyped/path"], "does not exist"),
        (["--model", "./mistyped"], "does not exist"),
        (["--data", "wikitext-103-raw-v1"], "only wikitext-2-raw-v1 falls back"),
        (["--data", "wikitext-3"], "data must be"),
        (["--data", "no/such/folder"], "does not exist"),
        (["--no-fallback", "--profile", "paper"], "fallback is off"),
        (["--model", "gpt2"], "only the default"),
        (["--repetition-penalty", "inf"], "repetition_penalty"),
        (["--repetition-penalty", "nan"], "repetition_penalty"),
        (["--lr", "-1"], "lr"),
        (["--beams", "0"], "num_beams"),
        (["--retention", "2"], "retention"),
        (["--max-grad-norm", "inf"], "max_grad_norm"),
        (["--min-lr", "5"], "min_lr"),
        (["--setting", "1:0", "--setting", "1:0.004", "--new-tokens", "0"], "new_tokens"),
    ],
)
def test_user_errors_are_one_line_with_status_2(args, message, tmp_path, capsys, offline):
    """Bugs: a mistyped path or unknown data silently falls back; --repetition-penalty inf runs; a traceback."""
    out = tmp_path / "out"
    assert main(["--profile", "quick", "--quiet", "--output", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err and "Traceback" not in err
    assert not out.exists()  # nothing was done


def test_help_has_no_none_defaults():
    """Bug: --help printed '(default: None)' after every option."""
    text = build_parser().format_help()
    assert "(default: None)" not in text and "--no-fallback" in text and "--fresh" in text


def test_header_names_the_profile_asked_for(tmp_path, capsys, monkeypatch, offline):
    """Bug: --profile quick printed a header saying profile 'book'."""
    monkeypatch.setenv("COLLAPSE_PROFILE", "book")
    main(["--profile", "quick", "--data", "wikitext-3", "--output", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert "profile 'quick', chosen by --profile" in out and "profile 'book'" not in out


def test_settings_and_options_reach_the_config():
    """Bug guarded: an option parsed and then dropped on its way to the configuration (the run ignores it)."""
    args = build_parser().parse_args(
        ["--profile", "quick", "--setting", "1:0", "--setting", "1:0.004", "--schedule", "linear",
         "--max-grad-norm", "none", "--no-best-checkpoint", "--retained-blocks", "first",
         "--decoding", "sample", "--accumulate", "--init", "previous", "--select", "0.5",
         "--tokenization", "text", "--pretrain-language", "same"]
    )
    config = config_from_args(args)
    assert config.decoding == "sample" and config.data_schedule == "accumulate"
    assert [s.name for s in config.settings] == ["1ep-keep0.0", "1ep-keep0.004"]
    assert config.schedule == "linear" and config.max_grad_norm is None and config.checkpoint == "last"
    assert config.retained_blocks == "first" and config.init == "previous" and config.select == 0.5
    assert config.tokenization == "text" and config.pretrain_language == "same"
    strict = config_from_args(build_parser().parse_args(["--profile", "quick", "--recipe", "strict"]))
    assert strict.checkpoint == "generated" and strict.recipe == "strict"
    schedule = config_from_args(build_parser().parse_args(["--profile", "quick", "--data-schedule",
                                                           "accumulate-subsample"]))  # fmt: skip
    assert schedule.data_schedule == "accumulate-subsample"


def test_module_entry_point_exits_2(tmp_path):
    """Bug: expected user errors end in a traceback (checked through ``python -m``)."""
    proc = subprocess.run(
        [sys.executable, "-m", "collapse_utils.llm", "--profile", "quick", "--model", "/a/mistyped/path",
         "--output", str(tmp_path / "o")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "Traceback" not in proc.stderr


def test_gpu_profile_offline_falls_back_at_gpu_size(offline, capsys):
    """Issue 14: under the gpu profile an unreachable hub means the embedded path at GPU size, not a failure."""
    from collapse_utils.llm import experiment

    gpu = experiment.profile_config("gpu")
    assert experiment.check_sources(gpu) == {"data": "fallback", "model": "fallback", "hub": "unreachable"}
    assert gpu.small.layers >= 6 and gpu.synthetic_words[0] >= 1_000_000  # the stand-ins at GPU size
    assert gpu.fallback_lr > gpu.lr  # the small model's own fine-tuning rate, not OPT-125m's 2e-5
    corpus = data.load_corpus(gpu.data, synthetic_words=(2000, 300, 300))
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "hub is unreachable" in out[0] and corpus.source == "fallback synthetic"
