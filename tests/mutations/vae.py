"""Mutants of chapter 3's package (collapse_utils/vae/): plausible bugs the tests must catch."""

TESTS = ["tests/test_vae.py", "tests/test_vae_batch.py", "tests/test_vae_sentences.py"]

M = "collapse_utils/vae/model.py"
J = "collapse_utils/vae/judge.py"
R = "collapse_utils/vae/recursion.py"
D = "collapse_utils/vae/data.py"
S = "collapse_utils/vae/sentences.py"

MUTANTS = [
    # the bugs listed in issue 7
    (M, "kl = 0.5 * (mu.pow(2)", "kl = 1.0 * (mu.pow(2)", "KL term doubled"),
    (M, "z = mu + noise * torch.exp(0.5 * logvar)", "z = mu + noise * torch.exp(logvar)",
     "reparameterisation with the variance instead of the standard deviation"),
    (M, "z = mu + noise * torch.exp(0.5 * logvar)", "z = mu + 0 * noise", "no reparameterisation noise"),
    (M, "images = (rng.random(images.shape, dtype=np.float32) < images)",
     "images = (rng.random(images.shape, dtype=np.float32) > images)", "inverted Bernoulli draws (photo-negatives)"),
    (M, "return int((mu.var(axis=0, ddof=1) > threshold).sum())",
     "return int((mu.var(axis=0, ddof=1) < threshold).sum())", "active_dims inverted"),
    (M, "decode = self.config.decode if decode is None else", 'decode = "bernoulli" if decode is None else',
     "config.decode ignored"),
    (J, '"confidence": float(probs.max(axis=1).mean())', '"confidence": float(logits.max(axis=1).mean())',
     "confidence computed as the maximum logit"),
    (R, "fit=lambda data, rng: train_vae(data, config, rng)", "fit=lambda data, rng: train_vae(x, config, rng)",
     "every generation trains on the real images (no recursion)"),
    # more of the same kind
    (M, "noises = torch.randn((len(data), config.latent_dim), generator=noise_gen,",
     "noises = 0 * torch.randn((len(data), config.latent_dim), generator=noise_gen,",
     "train_vae trains without reparameterisation noise"),
    (M, "z = rng.standard_normal((m, self.latent_dim))", "z = rng.random((m, self.latent_dim))",
     "latents drawn uniformly instead of from the prior N(0, I)"),
    (M, "if device != \"cpu\" and not torch.cuda.is_available():", "if False:",
     "device='cuda' accepted on a machine without CUDA"),
    (M, 'set_("lr", validate.real("lr", self.lr, 0.0, low_open=True))', 'set_("lr", float(self.lr))',
     "lr=True taken as 1"),
    (M, "torch.randn((n, config.latent_dim), generator=g, device=device",
     "torch.randn((n, config.latent_dim), generator=noise_gens[0], device=device",
     "stacked VAEs share one noise stream"),
    (M, "torch.stack([torch.randperm(n, generator=g) for g in orders])",
     "torch.stack([torch.randperm(n, generator=orders[0]) for g in orders])",
     "stacked VAEs share one mini-batch order"),
    (M, "layer.weight.copy_(w[j].t())", "layer.weight.copy_(w[0].t())", "unstacking mixes up the members' weights"),
    (J, "stats.entropy(h, base=2, axis=-1)", "stats.entropy(h, axis=-1)", "class entropy in nats, not bits"),
    (J, "np.trace(cov2) - 2 * cross", "np.trace(cov2) - cross", "Fréchet distance without the factor 2"),
    (J, "np.bincount(logits.argmax(axis=1)", "np.bincount(logits.argmin(axis=1)", "class histogram of the least likely digit"),
    (J, '"feature_var": float(np.trace(cov)) / self.ref_feature_var', '"feature_var": float(np.trace(cov))',
     "feature variety not relative to real images"),
    (J, 'model.sample(self.n_eval, rng, decode="mean")', 'model.sample(self.n_eval, rng, decode="bernoulli")',
     "the judge measures Bernoulli draws instead of decoder means"),
    (R, "data[j] = schedules[j].next_training_set(synthetic, rngs[j])", "data[j] = schedules[j].original",
     "the batch trains every generation on the real images (no recursion)"),
    (R, "synthetic = fitted[j].sample(schedules[j].n_synthetic, rngs[j])",
     "synthetic = fitted[j].sample(schedules[j].n_synthetic, rngs[0])", "runs of the batch share one generator"),
    (D, "location = MNIST_ID if mnist_path is None else mnist_path", "location = MNIST_ID",
     "the local MNIST folder ignored (hub only)"),
    (D, ".astype(np.float32) / 255.0", ".astype(np.float32) / 256.0", "MNIST scaled by 256"),
    (D, "if mnist_path is None and not hub_reachable():", "if mnist_path is None and False:",
     "an unreachable hub is tried anyway (no quick fallback)"),
    (S, "    if len(groups) == 1:\n        (ds,) = groups", "    if len(groups) >= 1:\n        ds = next(iter(groups))",
     "'in every seed' said although the seeds disagree"),
    (S, 'trend = "fewer than" if last < first', 'trend = "fewer than" if last > first',
     "active dimensions sentence says fewer when there are more"),
    (S, "steps = np.diff(shown) if higher_is_closer else -np.diff(shown)", "steps = np.diff(shown)",
     "ordering sentence ignores which direction is closer"),
    (S, "key=lambda p: p[1])", "key=lambda p: -p[1])", "decode sentence names the slower variant first"),
    (S, "always = [d for d, c in kept.items() if c == len(runs)]", "always = [d for d, c in kept.items() if c >= 1]",
     "'never lost' said of a digit that some seed lost"),
    (M, "data.index_select(0, (index + offsets).reshape(-1))", "data.index_select(0, index.reshape(-1))",
     "every stacked VAE trains on the first member's images"),
]
