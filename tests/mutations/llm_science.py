"""Mutants of chapter 4's measures, embedded language, saved results and plots (``scripts/mutate.py llm_science``).

The first ones are the earlier list's, moved to where the code now lives; then the kinds issue 23 asked for:
reported numbers not tied to each other (perplexity and NLL, per token and per word, bands and the total, counts
and the data they were counted on), the related pretraining language, the tables the chapter prints. Some are
written to survive (marked "expected to survive").
"""

TESTS = [
    "tests/test_llm_measures.py",
    "tests/test_llm_science.py",
    "tests/test_llm_properties.py",
    "tests/test_llm_chapter.py",
    "tests/test_llm_sentences.py",
]

M = "collapse_utils/llm/measures.py"
S = "collapse_utils/llm/synthetic.py"
P = "collapse_utils/llm/plots.py"
R = "collapse_utils/llm/runner.py"
RS = "collapse_utils/llm/results.py"
T = "collapse_utils/llm/textmetrics.py"
D = "collapse_utils/llm/data.py"
MO = "collapse_utils/llm/model.py"
PR = "collapse_utils/llm/presets.py"
SE = "collapse_utils/llm/sentences.py"

MUTANTS = [
    # per-token and per-word losses
    (M, 'out[:, 1:] = losses(model, blocks, batch_size, mixed_precision="no")',
     'out[:, :-1] = losses(model, blocks, batch_size, mixed_precision="no")',
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
    (MO, "    was_training = model.training\n    model.eval()\n", "    was_training = model.training\n",
     "the judge scores with dropout on (the losses it takes from model.token_nll)"),
    # frequency bands
    (M, 'order = np.argsort(-counts, kind="stable")', 'order = np.argsort(counts, kind="stable")',
     "bands ranked from the wrong end (rare tokens called frequent)"),
    (M, "return BandLoss(float(values.mean()), mean, tokens / n, sums / n",
     "return BandLoss(float(values.mean()), mean, tokens / len(blocks), sums / n",
     "band shares normalised by the number of blocks instead of tokens"),
    (M, "    scored = np.isfinite(tok_nll)\n    which", "    scored = np.ones_like(tok_nll, dtype=bool)\n    which",
     "the unscored first token counts in the band losses"),
    (M, "    band[counts == 0] = 0\n", "",
     "expected survivor: tokens never seen in training not set rare (equivalent: they sort last, past 1 - rare_share)"),
    # word bands and coverage
    (M, "    band[language.tail] = 0\n", "", "the language's tail is not the rare band"),
    (M, "    band[order[before < frequent_mass] + 2] = 2\n", "    band[order[before < frequent_mass]] = 2\n",
     "word bands shifted by the two punctuation entries"),
    (M, "            if ws.scored:\n                seen[ws.word] = True", "            if ws.word >= 0:\n                seen[ws.word] = True",
     "coverage counts the open first word of a fragment (expected to survive: it is a word of the text all the same)"),
    # Figure 11's reference
    (M, "    if shared:\n", "    if shared > 1:\n", "one shared block between reference and training data goes unnoticed"),
    (M, '    check_disjoint(valid_blocks, train_blocks, "Figure 11\'s reference (the validation blocks)")\n', "",
     "Figure 11's reference is not checked against the training blocks"),
    (M, "median, high = np.median(reference), np.quantile(reference, quantile)",
     "median, high = np.median(reference), np.quantile(reference, 1 - quantile)",
     "the reference's upper quantile taken from the wrong side"),
    (R, "    reference = prep.judge.reference(lm)\n", "    reference = prep.judge.reference(prep.base.model)\n",
     "Figure 11's reference scored by the pretrained model instead of generation 0"),
    (M, "        return reference_perplexity(gen0, self.valid_blocks, self.train_blocks, self.batch_size)",
     "        return np.exp(np.nanmean(token_nll(gen0, self.train_blocks[: len(self.valid_blocks)]), axis=1))",
     "Figure 11's reference scored on training blocks"),
    (R, "        fresh = prep.judge.fresh_blocks(len(prep.train_blocks), c.block_size)\n",
     "        fresh = prep.train_blocks\n", "Figure 11's fresh sample is the training blocks"),
    # the writer comparison and sentences
    (M, "inside, outside = band_split(model, ref, band)", "inside, outside = band_split(model, fresh, band)",
     "generation 0 judged against the fresh sample instead of the perfect model with the same decoding"),
    (M, "order = sorted(growth, key=growth.get, reverse=True)", "order = sorted(growth, key=growth.get)",
     "the band that suffered least is named as the one that suffered most"),
    (M, "    return distinct_of([content_words(text) for text in texts], n)",
     "    return distinct_of([text.split() for text in texts], n)", "distinct-n counts heading words"),
    (M, "self.fresh_texts(n, continuation, salt=FRESH_SALT + k))", "self.fresh_texts(n, continuation, salt=FRESH_SALT))",
     "the fresh samples' spread measured against the same sample (0)"),
    (M, "inside, outside = band_split(model, fresh, band)", "inside, outside = band_split(model, fresh, 3 * band)",
     "the sampled writer's band three times wider than the one stated"),
    (M, "        overlap = hi_a >= lo_b", "        overlap = False", "an order claimed where the runs overlap"),
    (M, "    if len({f(change[s]) for s in order}) == 1:", "    if False:", "tied settings ranked as smallest and largest"),
    # the embedded language and the related pretraining language
    (S, "p_end = config.p_final if self.final[u] else config.p_period",
     "p_end = config.p_period if self.final[u] else config.p_final", "sentence-final words swapped with the others"),
    (S, "            text = (pretrain_from or self).write_corpus(words[PRETRAIN], seed=[seed, 7])",
     "            text = (pretrain_from or self).write_corpus(words[PRETRAIN], seed=seed * 1000)",
     "the pretraining corpus written from the fine-tuning split's seed (the same text)"),
    (S, "                seen[i, 0, ctx] = True\n", "", "the perfect-model writer does not penalise the prompt's words"),
    (S, "lp = np.where(seen, lp * penalty, lp)", "lp = np.where(seen, lp / penalty, lp)",
     "the repetition penalty rewards repeats"),
    (S, "            trans = (1.0 - config.blend) * trans + config.blend * other",
     "            trans = config.blend * trans + (1.0 - config.blend) * other",
     "the related language's blend weights swapped (95% the fine-tuning language)"),
    (S, "            other = _successor_rows(np.random.default_rng([config.blend_seed, 2]), n, zipf, config)",
     "            other = _successor_rows(np.random.default_rng(config.seed), n, zipf, config)",
     "the other language drawn from the language's own seed (blending a language with itself)"),
    (S, "        logq = np.where(p > 0, other.log_transition, 0.0)", "        logq = np.where(p > 0, self.log_transition, 0.0)",
     "the cross-entropy is the language's own entropy rate"),
    (S, "        return float(self.stationary @ -np.sum(p * logq, axis=1))",
     "        return float(np.mean(-np.sum(p * logq, axis=1)))", "the cross-entropy not weighted by the stationary law"),
    (R, "    return SyntheticLanguage(config.language).related(config.pretrain_blend, blend_seed=config.language.seed + 1)",
     "    return SyntheticLanguage(config.language).related(1.0, blend_seed=config.language.seed + 1)",
     "the pretraining language ignores the configured blend"),
    (R, '               "pretrain_blend")  # fmt: skip', ")  # fmt: skip",
     "the corpus cache ignores the blend (one experiment gets another's pretraining text)"),
    (D, '        pretrain=texts.get("pretrain"), pretrain_language=pre if pretrain_words else None,',
     "        pretrain=None, pretrain_language=pre if pretrain_words else None,",
     "the synthetic corpus loses its pretraining split (pretraining falls back to the train split)"),
    (MO, "    pretrain_lines = corpus.pretrain if corpus.pretrain else corpus.train\n    words =",
     "    pretrain_lines = corpus.train\n    words =", "the small model pretrained on the fine-tuning split (a hidden anchor)"),
    # the numbers of a generation, tied to each other and to the data they were counted on
    (R, '"test_perplexity": float(np.exp(test_nll)),',
     '"test_perplexity": float(np.exp(measured["test_nll_sum"] / max(1, ctx.test_words))),',
     "the test perplexity per word, beside a loss per token"),
    (R, '"test_nll_per_word": float(measured["test_nll_sum"] / max(1, ctx.test_words)),',
     '"test_nll_per_word": float(measured["test_nll_sum"] / max(1, measured.get("test_words", 1))),',
     "the loss per word divided by the paired words, not the test text's words"),
    (R, '"test_nll_sum": float(per_block.sum() * (length - 1))', '"test_nll_sum": float(per_block.sum() * length)',
     "the summed test loss counts the unscored first token"),
    (R, 'return {"test_nll": float(per_block.mean()),', 'return {"test_nll": float(np.median(per_block)),',
     "the test loss is the median block's"),
    (R, '"test_nll_per_word": float(nll.sum() * (config.block_size - 1) / max(1, words)),',
     '"test_nll_per_word": float(nll.mean() * (config.block_size - 1) / max(1, words)),',
     "the pretrained model's loss per word from the mean, not the total"),
    (R, '"train_ppl_gen0_mean": float(train_ppl.mean()),', '"train_ppl_gen0_mean": float(np.median(train_ppl)),',
     "the mean column holds the median"),
    (R, "metrics = _metrics_row(ctx, setting, run, g, seed, len(blocks), int(is_original.sum()), measured, train_ppl,",
     "metrics = _metrics_row(ctx, setting, run, g, seed, len(prep.train_blocks), int(is_original.sum()), measured, train_ppl,",
     "n_blocks counts the original blocks, not the (accumulated) training set"),
    (R, '"checkpoint": c.checkpoint if g else "real",', '"checkpoint": c.checkpoint,',
     "generation 0 of a strict chain reported as choosing on generated text"),
    (R, "    train_ppl = np.exp(model_mod.sequence_nll(gen0, blocks, c.eval_batch_size))\n"
        "    texts = data_mod.decode_blocks(prep.base.tokenizer, blocks)",
     "    train_ppl = np.exp(model_mod.sequence_nll(gen0, blocks, c.eval_batch_size))\n"
     "    texts = data_mod.decode_blocks(prep.base.tokenizer, prep.train_blocks)",
     "a generation's text measures computed on the original blocks"),
    (R, "            tmetrics.update(prep.judge.written_metrics(data_mod.decode_blocks(prep.base.tokenizer, written)))\n"
        "    metrics = _metrics_row(",
     "            tmetrics.update(prep.judge.written_metrics(data_mod.decode_blocks(prep.base.tokenizer, blocks)))\n"
     "    metrics = _metrics_row(", "the written-text columns measure the training data"),
    (R, '(tmp / "samples.json").write_text(json.dumps(_samples(ctx, np.load(previous / "synthetic.npy"), g)))',
     '(tmp / "samples.json").write_text(json.dumps(_samples(ctx, blocks, g)))',
     "samples show the training blocks (retained originals mixed in), not one lineage"),
    (R, 'np.save(tmp / "blocks.npy", blocks.astype(np.int32))  # what this generation trained on',
     'np.save(tmp / "blocks.npy", prep.train_blocks.astype(np.int32))  # what this generation trained on',
     "the saved training set is not what the generation trained on"),
    (R, "        tmetrics.update(prep.judge.written_metrics(data_mod.decode_blocks(prep.base.tokenizer, written)))\n"
        "    train_ppl = np.load",
     "        tmetrics.update(prep.judge.written_metrics(data_mod.decode_blocks(prep.base.tokenizer, blocks)))\n"
     "    train_ppl = np.load", "generation 0's written-text columns measure the original blocks"),
    (T, "        rep += count - len(set(ngrams(toks, n)))\n        total += count\n    return rep / max(1, total)",
     "        total += count\n    grams = [g for toks in split for g in ngrams(toks, n)]\n"
     "    return (len(grams) - len(set(grams))) / max(1, len(grams))",
     "repetition counts repeats across texts (two identical samples count as repeating)"),
    (T, '        "distinct_3": distinct_of(split, 3),', '        "distinct_3": distinct_of(split, 2),', "distinct-3 holds distinct-2"),
    (T, "        tail_share=language.tail_share(score),", "        tail_share=language.tail_coverage(score),",
     "tail_share holds the tail coverage"),
    # the saved results
    (RS, "        if is_done(p.parent)\n", "", "a generation without DONE read into metrics.csv"),
    (RS, 'table = table.sort_values(["setting", "run", "generation"]).reset_index(drop=True)',
     'table = table.reset_index(drop=True)', "metrics.csv rows in path order (generation 10 before generation 2)"),
    (RS, "            sorted(self.table.loc[self.table[\"setting\"] == setting, \"run\"].unique()) if run is None else [run]",
     "            list(self.table.loc[self.table[\"setting\"] == setting, \"run\"].unique())[::-1] if run is None else [run]",
     "the runs of an array concatenated in reverse order"),
    # plots and tables
    (P, 'wide = t.pivot_table(index="run", columns="generation", values=metric, aggfunc="first")',
     'wide = t.pivot_table(index="generation", columns="run", values=metric, aggfunc="first")',
     "runs and generations swapped in the band plots"),
    (P, "            values = values - values[:, :1]\n", "            values = values + 0.0\n",
     "band losses not relative to generation 0"),
    (P, 'truth = float(np.nanmedian(results.table["test_word_nll_truth"]))',
     'truth = float(np.nanmin(results.table["test_word_nll"]))', "the perfect-model line is the best model's loss"),
    (P, '    return out.set_index(["setting", "generation"]).round(digits)', '    return out.set_index(["setting", "generation"])',
     "table not rounded"),
    (P, "        for values in list(written(sampled).values())[:1]:", "        for values in list(written(results).values())[:1]:",
     "the sampled row read from the beam-search experiment"),
    (P, '            "change": float(np.median(change)) if len(change) else float("nan"),',
     '            "change": float(curve[-1] - curve[0]),',
     "the ablation's change from the median curve, not the median of the runs' changes"),
    (P, '            "epoch kept after generation 0": float(np.nanmedian(epochs[:, 1:])) if epochs.shape[1] > 1 else float("nan"),',
     '            "epoch kept after generation 0": float(np.nanmedian(epochs)) if epochs.shape[1] > 1 else float("nan"),',
     "the epochs kept counted with generation 0's"),
    (P, "    return perplexity_shift(ppl, ppl[0] if ref is None else ref, quantile, fresh=fresh).round(3)",
     "    return perplexity_shift(ppl, ppl[0], quantile, fresh=fresh).round(3)",
     "Figure 11's table measured against generation 0's training data, not the unseen reference"),
    (P, "    return values[:, -1] - values[:, 0] if len(gens) > 1 else None",
     "    return values[:, -1] - values[:, 1] if len(gens) > 1 else None", "growth measured from generation 1"),
    # the computed sentences
    (SE, "    start, scale = c[0], max(abs(c[0]), 1e-12)", "    start, scale = c[0], 1.0",
     "a curve's shape read with an absolute tolerance (another verdict at another perplexity level)"),
    (SE, "    for size in (1, 2):\n        for combo", "    for size in (2, 1):\n        for combo",
     "the ablation names two switches where one sets the recovered apart"),
    (SE, "    tail = last[col] > max(baseline, 0.0) + 0.01 and last[col] >= first_written[col]",
     "    tail = last[col] > max(baseline, 0.0) + 0.01", "a right tail claimed that generation 1 already had"),
    (SE, '    verdict = {"rises": "agrees", "levels off": "partly", "holds": "partly"}.get(pattern, "differs")',
     '    verdict = {"rises": "agrees", "levels off": "agrees", "holds": "partly"}.get(pattern, "differs")',
     "Figure 10 'agrees' with a curve that jumped once and held"),
    # the presets of the variants
    (PR, "settings=tuple(config.settings[:1])).validate()", "settings=tuple(config.settings)).validate()",
     "the sampling experiment changes the settings too, not the decoding alone"),
]
# the ablation's runs on the page (December 7: 2 runs at the book profile)
MUTANTS += [
    (SE, "            f\"{name} ({runs} run{'s' if runs != 1 else ''}): {number(row['generation 0'])} at generation 0, \"",
     "            f\"{name}: {number(row['generation 0'])} at generation 0, \"",
     "the ablation's fewer runs not said on the page"),
]
MUTANTS += [
    # the language's kept word scores (December 7, this session)
    (S, "        key = (text, fragments)\n        kept", "        key = text\n        kept",
     "kept word scores served for the other fragments rule"),
    (S, "            self._scored.move_to_end(key)\n", "",
     "the kept word scores never reordered on use: the texts in use dropped first"),
    (S, "        if len(self._scored) > SCORED_TEXTS:", "        if len(self._scored) > 10**9:",
     "every text's word scores kept (no limit)"),
    (S, "            self._scored.popitem(last=False)", "            self._scored.popitem(last=True)",
     "the newest word scores dropped instead of the oldest"),
    (S, "        scores = tuple(self._word_scores(text, fragments))", "        scores = self._word_scores(text, fragments)",
     "kept word scores handed out as a list a caller could change"),
    (S, '        return {**self.__dict__, "_scored": OrderedDict()}', "        return dict(self.__dict__)",
     "the kept word scores pickled into another process"),
]
MUTANTS += [
    # n-grams by zip, each text split once (December 7, this session)
    (T, "    return zip(*(toks[i:] for i in range(n)))", "    return zip(*(toks[i:] for i in range(max(1, n - 1))))",
     "the n-grams one word short"),
    (T, "        total += max(0, len(toks) - n + 1)", "        total += len(toks)",
     "distinct-n divides by the words, not the n-grams"),
    (T, "    seen: set[tuple[str, ...]] = set()\n    total = 0\n    for toks in split:\n        seen.update",
     "    total = 0\n    for toks in split:\n        seen = set()\n        seen.update",
     "distinct-n counts the last text's distinct n-grams only"),
    (T, "        count = max(0, len(toks) - n + 1)", "        count = len(toks) - n + 1",
     "a text shorter than n counts negative n-grams in the repetition share"),
]
