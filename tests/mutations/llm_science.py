"""Mutants of chapter 4's measures, embedded language and plots (``scripts/mutate.py llm_science``)."""

TESTS = ["tests/test_llm_measures.py", "tests/test_llm_science.py"]

M = "collapse_utils/llm/measures.py"
S = "collapse_utils/llm/synthetic.py"
P = "collapse_utils/llm/plots.py"

MUTANTS = [
    # per-token and per-word losses
    (M, "out[start : start + len(ids), 1:] = nll", "out[start : start + len(ids), :-1] = nll",
     "token losses shifted by one position (the unscored first token gets a loss)"),
    (M, "toks = np.flatnonzero((spans[:, 0] < ws.end) & (spans[:, 1] > ws.start))",
     "toks = np.flatnonzero((spans[:, 0] >= ws.start) & (spans[:, 1] <= ws.end))",
     "a word's tokens looked for strictly inside it (a token with its leading space is missed)"),
    (M, "            if not ws.scored:\n                continue\n            # tokens",
     "            if ws.word < 0:\n                continue\n            # tokens",
     "words the truth does not score (open first word) are paired"),
    (M, "return PairedLoss(float(per_word.mean()), float(pairing.true_nll.mean())",
     "return PairedLoss(float(tok_nll[mask].mean()), float(pairing.true_nll.mean())",
     "the model's loss per token reported as per word"),
    (S, 'kept = [(line, int(off)) for line, off in zip(raw, offsets) if line.strip() and "=" not in line.split()]',
     "kept = [(line, int(off)) for line, off in zip(raw, offsets) if line.strip()]",
     "the truth scores heading words (drawn at random, not by the chain)"),
    (M, "    starts = np.concatenate([[0], ends[:-1]])", "    starts = ends.copy()",
     "token spans are empty, so no token is found inside any word"),
    # frequency bands
    (M, "order = np.argsort(-counts, kind=\"stable\")", "order = np.argsort(counts, kind=\"stable\")",
     "bands ranked from the wrong end (rare tokens called frequent)"),
    (M, "return BandLoss(float(values.mean()), mean, tokens / n, sums / n",
     "return BandLoss(float(values.mean()), mean, tokens / len(blocks), sums / n",
     "band shares normalised by the number of blocks instead of tokens"),
    (M, "    scored = np.isfinite(tok_nll)\n    which", "    scored = np.ones_like(tok_nll, dtype=bool)\n    which",
     "the unscored first token counts in the band losses"),
    # word bands and coverage
    (M, "    band[language.tail] = 0\n", "",
     "the language's tail is not the rare band"),
    (M, "    band[order[before < frequent_mass] + 2] = 2\n", "    band[order[before < frequent_mass]] = 2\n",
     "word bands shifted by the two punctuation entries"),
    # Figure 11's reference
    (M, "    if shared:\n", "    if shared > 1:\n", "one shared block between reference and training data goes unnoticed"),
    (M, '    check_disjoint(valid_blocks, train_blocks, "Figure 11\'s reference (the validation blocks)")\n', "",
     "Figure 11's reference is not checked against the training blocks"),
    (M, "median, high = np.median(reference), np.quantile(reference, quantile)",
     "median, high = np.median(reference), np.quantile(reference, 1 - quantile)",
     "the reference's upper quantile taken from the wrong side"),
    # the writer comparison and sentences
    (M, "inside = [c for c in WRITER_COLUMNS if np.isfinite(ref[c]) and within_band(model[c], ref[c], band)]",
     "inside = [c for c in WRITER_COLUMNS if np.isfinite(ref[c]) and within_band(model[c], fresh[c], band)]",
     "generation 0 judged against the fresh sample instead of the perfect model with the same decoding"),
    (M, "order = sorted(growth, key=growth.get, reverse=True)", "order = sorted(growth, key=growth.get)",
     "the band that suffered least is named as the one that suffered most"),
    (M, "toks = content_words(text)\n        grams", "toks = text.split()\n        grams",
     "distinct-n counts heading words"),
    # the embedded language
    (S, "p_end = config.p_final if self.final[u] else config.p_period",
     "p_end = config.p_period if self.final[u] else config.p_final",
     "sentence-final words swapped with the others"),
    (S, "            text = self.write_corpus(words[PRETRAIN], seed=[seed, 7])",
     "            text = self.write_corpus(words[PRETRAIN], seed=seed * 1000)",
     "the pretraining corpus written from the fine-tuning split's seed (the same text)"),
    (S, "                seen[i, 0, ctx] = True\n", "",
     "the perfect-model writer does not penalise the prompt's words"),
    (S, "lp = np.where(seen, lp * penalty, lp)", "lp = np.where(seen, lp / penalty, lp)",
     "the repetition penalty rewards repeats"),
    # plots and tables
    (P, 'wide = t.pivot_table(index="run", columns="generation", values=metric, aggfunc="first")',
     'wide = t.pivot_table(index="generation", columns="run", values=metric, aggfunc="first")',
     "runs and generations swapped in the band plots"),
    (P, "            values = values - values[:, :1]\n", "",
     "band losses not relative to generation 0"),
    (P, 'truth = float(np.nanmedian(results.table["test_word_nll_truth"]))',
     'truth = float(np.nanmin(results.table["test_word_nll"]))',
     "the perfect-model line is the best model's loss, not the truth's"),
    (P, "    return out.set_index([\"setting\", \"generation\"]).round(digits)",
     "    return out.set_index([\"setting\", \"generation\"])", "table not rounded"),
    (P, 'f"{blocks} training blocks of {c.block_size} tokens"',
     'f"{blocks} training blocks of {c.block_size} tokens; {results.output}"',
     "a run folder path in the provenance line"),
]
