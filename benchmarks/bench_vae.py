"""Chapter 3: VAEs trained together (stacked weights) against one by one.

    python benchmarks/bench_vae.py                  # 8 seeds, the book profile's VAE (chapter 3), on the CPU
    python benchmarks/bench_vae.py --quick          # a smoke run
    python benchmarks/bench_vae.py --device cuda --mnist-shape   # the gpu profile's shapes on a GPU

Trains one generation of ``--seeds`` VAEs (each on its own images, its own
seed) with :func:`collapse_utils.vae.train_vaes` and with a loop of
:func:`collapse_utils.vae.train_vae`, in the same process, interleaved, and
prints the best time of each, the throughput (training images x epochs per
second, all seeds together) and the ratio. Target (issue 8): at least 4x at 8
seeds on 2 cores. torch runs on ``--threads`` threads (1 by default: the
machine is shared and these small networks run fastest on one thread); the
line of output says so.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from collapse_utils import vae


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=5, help="epochs per timed training (default 5)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--mnist-shape", action="store_true", help="random 28x28 images and the gpu profile's VAE")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 1 repeat")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.quick:
        args.epochs, args.repeats = 2, 1
    if args.mnist_shape:
        rng = np.random.default_rng(0)
        x = (rng.random((10_000, 28, 28)) < 0.15).astype(np.float32)
        config = vae.VAEConfig(latent_dim=16, hidden=(512, 256), epochs=args.epochs, batch_size=128,
                               lr=1e-3, device=args.device)  # fmt: skip
        what = "random 28x28 images, n = 10,000"
    else:
        data = vae.load_images("digits", verbose=False)
        x = data.x_train[:1000]
        config = vae.VAEConfig(latent_dim=8, hidden=(128, 64), epochs=args.epochs, batch_size=32,
                               lr=1e-3, device=args.device)  # fmt: skip
        what = f"scikit-learn digits 8x8, n = {len(x)}"
    seeds = list(range(args.seeds))
    images = [x[np.random.default_rng(s).permutation(len(x))] for s in seeds]
    print(f"{args.seeds} VAEs {config.hidden} latent {config.latent_dim}, batch {config.batch_size}, "
          f"{config.epochs} epochs, on {what}; device {args.device}, torch threads {torch.get_num_threads()}")  # fmt: skip

    def sync():
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    def together():
        vae.train_vaes(images, config, seeds)

    def one_by_one():
        for im, s in zip(images, seeds):
            vae.train_vae(im, config, s)

    vae.train_vaes(images[:2], vae.VAEConfig(**{**config.__dict__, "epochs": 1}), seeds[:2])  # warm up
    wall = {"together": np.inf, "one by one": np.inf}
    cpu = dict(wall)
    for _ in range(args.repeats):
        for name, f in (("one by one", one_by_one), ("together", together)):
            sync()
            start, start_cpu = time.perf_counter(), time.process_time()
            f()
            sync()
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    work = args.seeds * len(x) * config.epochs
    for name in wall:
        print(f"  {name:10s}: {wall[name]:7.2f} s wall, {cpu[name]:7.2f} s CPU; "
              f"{work / wall[name]:9,.0f} images x epochs per wall second")  # fmt: skip
    print(f"  ratio (one by one / together): {wall['one by one'] / wall['together']:.2f}x wall, "
          f"{cpu['one by one'] / cpu['together']:.2f}x CPU time (target >= 4x on 2 cores; the CPU-time ratio "
          f"is the one to trust on a shared machine)")  # fmt: skip


if __name__ == "__main__":
    main()
