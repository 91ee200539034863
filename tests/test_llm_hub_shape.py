"""The hub path without a hub: an OPT-125m-shaped local model folder on a local wikitext-format folder.

``facebook/opt-125m`` on ``wikitext-2-raw-v1`` goes through
``AutoTokenizer.from_pretrained`` / ``AutoModelForCausalLM.from_pretrained`` and
wikitext's three splits; here the same code path runs on a folder saved with
OPT-125m's configuration (12 layers, width 768, 12 heads, vocabulary 50272,
random weights) and a byte-level BPE tokenizer trained locally, and a folder
of ``train.txt``, ``valid.txt`` and ``test.txt`` (issues 13 and 14).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from collapse_utils.llm import data, local_models, model
from collapse_utils.llm.__main__ import main


@pytest.mark.slow
def test_opt125m_shaped_folder_runs_one_generation(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nothing may reach for the hub
    torch.set_num_threads(2)
    wiki = local_models.write_wikitext_folder(tmp_path / "wiki", words=(2500, 400, 400))
    corpus = data.load_corpus(str(wiki), verbose=False)
    folder = local_models.write_opt125m_folder(tmp_path / "opt-125m-shaped", corpus.train, tokenizer_vocab=600)
    cfg = json.loads((folder / "config.json").read_text())
    assert (cfg["num_hidden_layers"], cfg["hidden_size"], cfg["num_attention_heads"], cfg["vocab_size"]) == (
        12, 768, 12, 50272,
    )
    out = tmp_path / "run"
    args = [
        "--profile", "gpu", "--model", str(folder), "--data", str(wiki), "--generations", "1", "--runs", "1",
        "--setting", "1:0", "--block-size", "16", "--new-tokens", "4", "--batch-size", "4",
        "--micro-batch-size", "2", "--gen-batch-size", "4", "--max-train-blocks", "4", "--max-valid-blocks", "2",
        "--max-test-blocks", "2", "--keep-models", "first", "--device", "cpu", "--quiet", "--output", str(out),
    ]
    assert main(args) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "(local folder)" in printed and "profile 'gpu'" in printed and "estimated time" in printed
    table = pd.read_csv(out / "metrics.csv")
    assert list(table["generation"]) == [0, 1] and np.isfinite(table["test_perplexity"]).all()
    written = np.load(out / "1ep-keep0.0" / "run0" / "gen0" / "synthetic.npy")
    assert written.shape == (4, 4) and written.max() < 50272
    ident = json.loads((out / "identity.json").read_text())
    assert ident["model"]["source"] == "folder" and ident["data"]["source"] == "folder"
    base = model.load_base(str(folder), corpus, tmp_path / "cache", verbose=False)
    assert base.model.config.vocab_size == 50272 and base.tokenizer.padding_side == "left"
    from collapse_utils.llm.identity import tokenizer_fingerprint

    assert ident["model"]["tokenizer"] == tokenizer_fingerprint(base.tokenizer)
