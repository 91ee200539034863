"""Mutants of chapter 4's pipeline (collapse_utils/llm: model, experiment, data, identity, the CLI).

The first six are the bugs of issue 13 that once left the language-model tests green.
"""

TESTS = ["tests/test_llm_pipeline.py", "tests/test_llm_cli.py"]

E = "collapse_utils/llm/experiment.py"
M = "collapse_utils/llm/model.py"
D = "collapse_utils/llm/data.py"
I = "collapse_utils/llm/identity.py"
C = "collapse_utils/llm/__main__.py"

MUTANTS = [
    # the six bugs of issue 13
    (E, "        blocks[keep] = original[keep]\n", "", "the retained blocks keep the flags but the synthetic text"),
    (
        E,
        "train_ppl = np.exp(model_mod.sequence_nll(gen0, blocks, config.eval_batch_size))",
        "train_ppl = np.exp(model_mod.sequence_nll(lm, blocks, config.eval_batch_size))",
        "Figure 11 scored by the current model instead of generation 0",
    ),
    (M, "                num_beams=num_beams,\n", "                num_beams=1,\n", "greedy decoding instead of beam search"),
    (
        M,
        "                repetition_penalty=repetition_penalty,\n",
        "                repetition_penalty=1.0,\n",
        "no repetition penalty",
    ),
    (M, 'group["lr"] = float(lrs[step])', 'group["lr"] = lr', "no learning-rate decay"),
    (
        E,
        "seed = derived_seed(config.seed, si, run, g)",
        "seed = derived_seed(config.seed, si, run)",
        "the same seed for every generation",
    ),
    # the runner
    (E, "num_beams=1 if sample else config.num_beams,", "num_beams=1,", "the runner decodes greedily"),
    (
        E,
        "repetition_penalty=1.0 if sample else config.repetition_penalty,",
        "repetition_penalty=1.0,",
        "the runner drops the penalty",
    ),
    (E, "                epochs=setting.epochs,\n", "                epochs=1,\n", "every setting trains one epoch"),
    (
        E,
        'keep = np.arange(k) if retained == "first" else',
        'keep = np.arange(n - k, n) if retained == "first" else',
        "the retained blocks are not the first ones (the authors' index limit)",
    ),
    (E, "blocks = np.array(previous, copy=True)", "blocks = previous", "the previous generation's data changed in place"),
    (
        E,
        'return f"{self.epochs}ep-keep{float(self.retention)!r}"',
        'return f"{self.epochs}ep-{round(self.retention * 100):d}pct"',
        "setting folder names rounded to whole percents (not unique, not reversible)",
    ),
    (E, "    identity_mod.check_identity(output, ident)\n", "", "the identity is not checked on resume"),
    (
        E,
        'v.real("repetition_penalty", self.repetition_penalty, 0.0, low_open=True)',
        'v.real("repetition_penalty", self.repetition_penalty, 0.0, low_open=True, allow_inf=True)',
        "an infinite repetition penalty accepted",
    ),
    (E, "        seconds += config.runs * (", "        seconds += (", "the time estimate ignores the runs"),
    (E, "    min_lr: float = 1e-6\n    max_grad_norm", "    min_lr: float = 0.0\n    max_grad_norm", "cosine to 0, not to 1e-6"),
    # training and scoring
    (
        M,
        "out = min_lr + (lr - min_lr) * (1 + np.cos(np.pi * epoch / epochs)) / 2",
        "out = min_lr + (lr - min_lr) * (1 + np.cos(np.pi * step / total)) / 2",
        "cosine annealed per step instead of per epoch (not the authors' T_max=epochs)",
    ),
    (M, "loss = token_losses(logits, ids).sum() / denominator", "loss = token_losses(logits, ids).mean()", "each micro-batch's loss is its own mean"),
    (
        M,
        "steps_per_epoch = math.ceil(n / batch_size)\n",
        "steps_per_epoch = math.ceil(n / batch_size / world.size)\n",
        "the step count divided by the number of processes",
    ),
    (M, "                torch.nn.utils.clip_grad_norm_(params, max_grad_norm)\n", "                pass\n", "no gradient clipping"),
    (M, "        model.load_state_dict(best_state)\n", "        pass\n", "the best-validation checkpoint is not restored"),
    (
        M,
        "ids[r : r + rows, 1:].reshape(-1)",
        "ids[r : r + rows, :-1].reshape(-1)",
        "the scored targets are the inputs, not the next tokens",
    ),
    (M, "        cont = gen[:, width:].cpu().numpy()", "        cont = gen[:, width - 1 : -1].cpu().numpy()", "the prompt's last token kept with the data"),
    (
        M,
        "                min_new_tokens=new_tokens,\n",
        "                min_new_tokens=0,\n",
        "continuations may stop before 64 tokens",
    ),
    (M, '"model", model, hub, fallback, default=HUB_MODEL,', '"model", model, hub, fallback, default=model,',
     "any hub name falls back to the small model"),
    (M, "    if looks_like_path(model):", "    if False:", "a mistyped local model path is taken for a hub name"),
    # data and identity
    (D, '"data", name, hub, fallback, default=DEFAULT_DATA,', '"data", name, hub, fallback, default=name,',
     "any wikitext name falls back to the embedded language"),
    (D, '    if looks_like_path(name) or "/" in name:', "    if False:", "a missing data folder is taken for a name"),
    (I, "        elif a != b:\n", "        elif False:\n", "identity differences are not reported"),
    (I, '        h.update(b"\\x00split\\x00")\n', "", "the text fingerprint ignores where splits end"),
    (
        I,
        'h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")',
        'h.update(b"")',
        "the weights fingerprint ignores the values",
    ),
    # the command line
    (C, "    if args.profile:\n        why =", "    if False:\n        why =", "the header names the environment's profile, not --profile"),
    (C, "    except (ValueError, OSError) as err:", "    except ValueError as err:", "the hub unreachable ends in a traceback"),
    (C, 'if text.strip().lower() in ("none", "off", "0", "0.0"):', "if False:", "--max-grad-norm none is not accepted"),
    # decoding
    (M, "**(dict(top_k=0, top_p=1.0, temperature=1.0) if do_sample else {}),", "**({}),",
     "sampling left to transformers' top_k=50 default: rare words never written"),
]
