"""Run one or several experiments as a graph of small steps, in this process or in worker processes.

:func:`run_many` takes experiments (each a configuration and an output folder)
and cuts them into steps: generation 0 of every ``(epochs, run)`` that some
chain needs (:func:`.runner.run_gen0`; shared by every chain and experiment
with the same generation 0), the data it writes per decoding
(:func:`.runner.write_gen0`), and every later generation of every chain
(:func:`.runner.run_generation`), each waiting for the step it needs. With
``workers > 1`` on a CPU the steps run in that many processes of one torch
thread each, the ready step whose chain has the most work left first, so both
cores stay busy to the end of the whole call (not of each experiment). Every
step reads what it needs from disk and writes its folder atomically, so an
interrupted call loses only the steps in flight: the same call again goes on
from there. Under ``torchrun`` or ``accelerate launch`` every process takes
part in every step (the steps run one after another, in the same order
everywhere), and the main process alone writes.

Before any step, every experiment is checked (parameters, sources, an output
folder of another configuration, model, data or code), and the small models
that are not in the cache are pretrained: one in every worker at once when
there are several (the steps of experiments whose model is ready take the
workers left, and an experiment's steps join as soon as its model is in the
cache), or one in all the workers together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import distributed
from . import identity as identity_mod
from . import runner
from .config import ExperimentConfig
from .results import Results, gen_dir, is_done, load_results, write_table


@dataclass(frozen=True)
class Job:
    """One experiment of a call: its name, configuration and output folder."""

    name: str
    config: ExperimentConfig
    output: Path


# every process keeps the contexts it built (prepared data and models), per experiment
_CONTEXTS: dict[str, runner.Context] = {}


def _context(job: Job, cache_dir: Path, device: str | None, world: distributed.World | None = None,
             prep: runner.Prepared | None = None) -> runner.Context:  # fmt: skip
    key = f"{job.output}:{job.config.key()}"
    if key not in _CONTEXTS:
        world = world or distributed.current(device)
        if world.device.type == "cpu":
            torch.set_num_threads(1)
        prep = prep or runner.prepare(job.config, job.output, verbose=False, cache_dir=cache_dir, world=world)
        _CONTEXTS[key] = runner.Context(job.config, job.output, cache_dir, world, prep)
    return _CONTEXTS[key]


def _execute(task: tuple, job: Job, cache_dir: Path, device: str | None, progress: bool = False) -> tuple:
    """Run one step (in whichever process); returns the task."""
    kind = task[0]
    if kind == "pretrain":  # fill the cache with the small model (prepare pretrains it when missing)
        if torch.device(device or "cpu").type == "cpu":
            torch.set_num_threads(1)
        runner.prepare(job.config, job.output, verbose=False, cache_dir=cache_dir)
        return task
    ctx = _context(job, cache_dir, device)
    if kind == "gen0":
        runner.run_gen0(ctx, task[2], task[3], progress=progress)
    elif kind == "write0":
        runner.write_gen0(ctx, task[2], task[3], task[4])
    else:
        _, _, si, run, g = task
        runner.run_generation(ctx, job.config.settings[si], run, g, progress=progress)
    return task


#: A worker's garbage-collection thresholds (Python's default is ``(700, 10, 10)``): its steps make few cycles.
WORKER_GC_THRESHOLD = (20_000, 20, 20)


def _warm() -> None:
    """A worker's first call: import what its steps need (transformers' OPT modelling) while the caller prepares.

    A pool starts its processes at its first submissions; without this they
    would start, and spend their seconds of imports, only once the caller has
    checked every experiment and found the small models to pretrain.

    Then the worker's garbage collector leaves the imported modules' objects
    alone (``gc.freeze``: about 370,000 objects that every full collection
    walked) and collects less often (:data:`WORKER_GC_THRESHOLD`): its time
    in a book-profile call fell from about 1.1 s to 0.5 s a worker. A worker
    is this module's own process, so the caller's collector is untouched.
    """
    import gc

    from transformers import AutoModelForCausalLM, OPTForCausalLM, PreTrainedTokenizerFast  # noqa: F401

    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLD)


def _pretrain_rank(rank: int, size: int, port: int, config: ExperimentConfig, output: str, cache_dir: str) -> None:
    """One of ``size`` processes that pretrain the small model together (gloo on the CPU), then leave."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=size)
    try:
        world = distributed.World(rank=rank, size=size, local_rank=rank, device=torch.device("cpu"))
        runner.prepare(config, output, verbose=False, cache_dir=cache_dir, world=world)
    finally:
        dist.destroy_process_group()


def pretrain_together(job: Job, cache_dir: Path, processes: int, stall_seconds: float | None = None) -> None:
    """Pretrain ``job``'s small model in ``processes`` processes at once, sharing every batch (all CPU cores busy).

    The global batch and the schedule are those of one process (:func:`.model.train`);
    the gradients are summed across processes, so the weights equal a single
    process' up to the order of float sums. The main one writes the cache.
    ``stall_seconds`` is :func:`run_many`'s hang guard for this one step: when
    the processes have not all ended by then, they are killed and
    :class:`StepStalled` names the pretraining (``None``: no limit).
    """
    import multiprocessing
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(target=_pretrain_rank, args=(rank, processes, port, job.config, str(job.output), str(cache_dir)))
        for rank in range(processes)
    ]
    for p in procs:
        p.start()
    _join_all(procs, stall_seconds, f"pretraining for {job.name!r} in {processes} processes")
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"pretraining the small model in {processes} processes failed (exit codes {failed})")


def _join_all(procs: list[Any], stall_seconds: float | None, what: str) -> None:
    """Wait for every process of ``procs``; when they have not all ended within ``stall_seconds``, kill them all.

    Raises :class:`StepStalled` naming ``what`` in that case (a rank stuck in a
    collective would otherwise hold the call, and the build, forever).
    """
    import time

    deadline = None if stall_seconds is None else time.monotonic() + stall_seconds
    for p in procs:
        p.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    if any(p.is_alive() for p in procs):
        for p in procs:
            if p.is_alive():
                p.kill()
        for p in procs:
            p.join()
        raise StepStalled(f"{what} did not end within {stall_seconds:g} s; its processes were stopped")


def _small_cache_missing(config: ExperimentConfig, output: Path, cache_dir: Path, sources: dict[str, str]) -> str | None:
    """The cache folder of a small model this experiment must pretrain, or ``None`` (cached, or not a small model)."""
    if sources["model"] not in ("small", "fallback"):
        return None
    from dataclasses import replace

    from . import model as model_mod

    corpus = runner.load_corpus(config, {"reachable": True, "unreachable": False}.get(sources["hub"]))
    small = replace(config.small, block_size=config.block_size)
    folder = model_mod.small_cache_folder(corpus, cache_dir, small, config.tokenization == "lines")
    return None if (folder / "DONE").exists() else str(folder)


def run_many(
    jobs: Mapping[str, tuple[ExperimentConfig, str | Path]],
    cache_dir: str | Path | None = None,
    workers: int = 1,
    verbose: bool = True,
    progress: bool = True,
    device: str | None = None,
    fresh: bool = False,
    stop_after: int | None = None,
    stall_seconds: float | None = None,
) -> dict[str, Results]:
    """Run (or resume) several experiments together; returns their :class:`Results` by name.

    ``jobs`` maps a name to ``(config, output folder)``. ``cache_dir`` holds the
    small pretrained models and the shared generations 0 (default: the first
    output folder's ``cache``); experiments may share it. ``workers > 1`` runs
    the steps in that many processes (on a CPU; one process under
    ``torchrun``). ``stop_after`` stops after that many newly computed
    generations (to simulate an interruption in tests). ``fresh=True`` moves
    existing output folders aside (``<output>.replaced-<time>``).
    ``stall_seconds`` (with ``workers > 1``) is the hang guard of a long call:
    when no step (a pretraining or a generation) ends within that many seconds,
    the workers are stopped and :class:`StepStalled` names the steps that were
    running (finished steps stay on disk; the next call resumes after them).

    Raises ``ValueError`` (or :class:`.data.HubUnavailable`) before any work for
    bad input: invalid parameters, a missing folder, an unknown name, a hub
    name offline without fallback, or an output folder that holds the results
    of another configuration, model, data or code version (naming the
    differences).
    """
    if not jobs:
        raise ValueError("jobs must name at least one experiment")
    from .. import validate

    validate.integer("workers", workers, 1)
    if stall_seconds is not None:
        validate.real("stall_seconds", stall_seconds, 0, low_open=True)
    plan = [Job(name, config.validate(), Path(output)) for name, (config, output) in jobs.items()]
    outputs = [str(j.output.resolve()) for j in plan]
    if len(set(outputs)) != len(outputs):
        raise ValueError("every experiment of a call needs its own output folder")
    cache = Path(cache_dir) if cache_dir is not None else plan[0].output / "cache"
    world = distributed.current(device)
    verbose = verbose and world.is_main
    sources = {}
    for job in plan:  # bad input stops here, before any work
        sources[job.name] = runner.check_sources(job.config)
    if fresh and world.is_main:
        for job in plan:
            moved = identity_mod.move_aside(job.output)
            if moved is not None and verbose:
                print(f"output: the old folder was moved to {moved}")
    world.barrier()
    for job in plan:
        runner.check_output(job.output, job.config)
    threads = torch.get_num_threads()
    pool = None
    finished = False  # every step of the call ended: the workers hold no work and may exit on their own
    try:
        parallel = workers > 1 and world.size == 1
        if parallel:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            for _ in range(workers):  # start every worker now: they import while this process prepares
                pool.submit(_warm)
        # the small models to pretrain: several at once in the workers when there are several
        missing: dict[str, list[Job]] = {}
        if parallel:
            for job in plan:
                folder = _small_cache_missing(job.config, job.output, cache, sources[job.name])
                if folder is not None:
                    missing.setdefault(folder, []).append(job)
        pretraining: dict[Any, list[Job]] = {}  # a pretraining in a worker -> the experiments that wait for it
        if len(missing) > 1:  # several small models: one per worker, and the other experiments' steps meanwhile
            for jobs_of in missing.values():
                pretraining[pool.submit(_execute, ("pretrain", jobs_of[0].name), jobs_of[0], cache, device)] = jobs_of
        elif missing and world.device.type == "cpu":  # one: every worker takes part in each of its steps
            pretrain_together(next(iter(missing.values()))[0], cache, workers, stall_seconds)
        if world.device.type == "cpu" and any(s["model"] in ("small", "fallback") for s in sources.values()):
            torch.set_num_threads(1)  # pretraining here, and scoring: see runner.small_model_threads
        printed: set[str] = set()
        summaries: dict[str, dict[str, Any]] = {}

        def start(jobs: list[Job]) -> dict[tuple, _Task]:
            """Prepare ``jobs`` (their models are in the cache) in this process; their steps still to do."""
            for job in jobs:
                _prepare(job, cache, device, world, sources[job.name], progress, verbose, printed, summaries)
            return _graph(jobs, cache, device, world)

        waiting = {j.name for jobs_of in pretraining.values() for j in jobs_of}
        graph = start([j for j in plan if j.name not in waiting])
        done = _run_graph(graph, plan, cache, device, pool, workers, progress and world.is_main, stop_after,
                          stall_seconds, pretraining=pretraining, start=start)  # fmt: skip
        if world.is_main:
            for job in plan:
                write_table(job.output)
        world.barrier()
        if verbose and done:
            print(f"computed {done} generation{'s' if done != 1 else ''} in this call")
        finished = True
    except StepStalled:
        if pool is not None:  # a stalled worker would never let shutdown(wait=True) return
            _stop_workers(pool)
            pool = None
        raise
    finally:
        if pool is not None:  # after an error, wait for the steps in flight (they finish their folders or stop)
            pool.shutdown(wait=not finished, cancel_futures=True)
        torch.set_num_threads(threads)
    return {job.name: load_results(job.output) for job in plan}


def _prepare(job: Job, cache: Path, device: str | None, world: distributed.World, sources: dict[str, str],
             progress: bool, verbose: bool, printed: set[str], summaries: dict[str, dict[str, Any]]) -> None:
    """Prepare one experiment in this process: its data, model and notes, its folder's records and base summary."""
    prep = runner.prepare(job.config, job.output, verbose=False, progress=progress and world.is_main,
                          cache_dir=cache, world=world, sources=sources)  # fmt: skip
    ident = prep.identity()
    identity_mod.check_identity(job.output, ident)
    if verbose:
        for note in prep.notes:
            if note not in printed:
                print(note)
                printed.add(note)
    if world.is_main:
        runner.record(job.output, job.config, ident, prep.notes)
        if not (job.output / "base.json").exists():
            from . import model as model_mod
            from .model import atomic_write_text

            # experiments that share their base model, data, blocks, seed and decoding share the summary
            blocks = [identity_mod.blocks_fingerprint(b) for b in (prep.train_blocks, prep.test_blocks)]
            key = model_mod.config_hash(ident, runner.write_key(job.config), job.config.eval_batch_size,
                                        job.config.seed, blocks)  # fmt: skip
            if key not in summaries:
                summaries[key] = runner.base_summary(prep)
            atomic_write_text(job.output / "base.json", json.dumps(summaries[key], indent=1))
    world.barrier()
    _context(job, cache, device, world, prep)  # this process' context (the inline path uses it)


class StepStalled(TimeoutError):
    """No step of a :func:`run_many` call ended within its ``stall_seconds``: a hang, not a long computation."""


def _describe(key: tuple, job: Job) -> str:
    """A step in words, for example ``generation 3 of run 1 of 'the strict recipe', setting 1``."""
    if key and key[0] == "gen":
        _, name, setting, run, g = key
        return f"generation {g} of run {run} of {name!r}, setting {setting + 1}"
    if key and key[0] == "pretrain":
        return f"pretraining for {job.name!r}"
    return f"step {key[0]} of {job.name!r}"


def _stop_workers(pool: Any) -> None:
    """Kill a process pool's workers (they may be stuck) and let the pool go without waiting."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _wait_some(futures: list[Any], stall_seconds: float | None, names: list[str]) -> set[Any]:
    """The futures that end first; :class:`StepStalled` (naming ``names``) if none ends in time."""
    from concurrent.futures import FIRST_COMPLETED, wait

    done, _ = wait(futures, timeout=stall_seconds, return_when=FIRST_COMPLETED)
    if not done:
        raise StepStalled(f"no step ended within {stall_seconds:g} s; still running: {', '.join(names)}")
    return done


@dataclass
class _Task:
    key: tuple
    job: Job
    deps: set[tuple]
    weight: float  # the work left in its chain: ready tasks with more go first


def _graph(plan: list[Job], cache: Path, device: str | None, world: distributed.World) -> dict[tuple, _Task]:
    """Every step still to do, with the steps it waits for (finished steps are left out)."""
    tasks: dict[tuple, _Task] = {}

    def add(key: tuple, job: Job, deps: set[tuple], weight: float) -> tuple:
        """A shared step once, with the largest weight of the chains that wait for it."""
        task = tasks.setdefault(key, _Task(key, job, deps & set(tasks), weight))
        task.weight = max(task.weight, weight)
        return key

    for job in plan:
        c = job.config
        ctx = _context(job, cache, device, world)
        for si, setting in enumerate(c.settings):
            for run in range(c.runs):
                work = [setting.epochs + 2] * (c.generations + 1)  # about two epochs' worth of writing and measuring
                chain: set[tuple] = set()
                if not is_done(gen_dir(job.output, setting, run, 0)):
                    key = runner.gen0_key(ctx.prep, setting.epochs, run)
                    shared = cache / "gen0" / key
                    first: set[tuple] = set()
                    if not is_done(shared):
                        first = {add(("gen0", key, setting.epochs, run), job, set(), sum(work) + 2)}
                    wanted = ["train", "valid"] if c.checkpoint == "generated" else ["train"]
                    writes = {
                        add(("write0", key, setting.epochs, run, what, runner.write_key(c)), job, first, sum(work) + 1)
                        for what in (wanted if c.generations else [])
                        if not is_done(runner.written_folder(shared, c, what))
                    }
                    chain = writes or first
                for g in range(c.generations + 1):
                    folder = gen_dir(job.output, setting, run, g)
                    if is_done(folder):
                        if g > 0:
                            runner.check_resumed(ctx, setting, run, g)
                        continue
                    key = ("gen", job.name, si, run, g)
                    tasks[key] = _Task(key, job, set(chain), sum(work[g:]))
                    chain = {key}
    return tasks


def _generations_left(jobs: list[Job]) -> int:
    """How many generations of ``jobs`` are not finished on disk (what a call will compute)."""
    return sum(
        not is_done(gen_dir(job.output, setting, run, g))
        for job in jobs
        for setting in job.config.settings
        for run in range(job.config.runs)
        for g in range(job.config.generations + 1)
    )


def _run_graph(graph: dict[tuple, _Task], plan: list[Job], cache: Path, device: str | None, pool: Any,
               workers: int, progress: bool, stop_after: int | None, stall_seconds: float | None = None,
               pretraining: dict[Any, list[Job]] | None = None, start: Any = None) -> int:  # fmt: skip
    """Run the steps of ``graph`` in dependency order; returns how many generations were computed.

    With a pool, :class:`StepStalled` when no running step ends within
    ``stall_seconds``. ``pretraining`` maps pretrainings already submitted to
    the pool to the experiments that wait for their model: each occupies a
    worker like a step, and when it ends ``start(jobs)`` prepares those
    experiments and returns their steps, which join the graph (the other
    experiments' steps run meanwhile).
    """
    from ..progress import progress as progress_bar

    pending = dict(graph)
    finished: set[tuple] = set()
    computed = 0
    later = [j for jobs_of in (pretraining or {}).values() for j in jobs_of]
    total = sum(1 for k in graph if k[0] == "gen") + _generations_left(later)
    bar = progress_bar(range(total), desc="generations") if progress and total else None
    ticks = iter(bar) if bar is not None else None

    order = {key: i for i, key in enumerate(graph)}  # experiments, settings, runs, generations: as planned

    def ready() -> list[_Task]:
        out = [t for t in pending.values() if t.deps <= finished]
        if pool is None:  # one chain after another, as planned (what a resume test expects)
            return sorted(out, key=lambda t: order[t.key])
        return sorted(out, key=lambda t: -t.weight)

    def done(task: _Task) -> None:
        nonlocal computed
        finished.add(task.key)
        if task.key[0] == "gen":
            computed += 1
            if ticks is not None:
                next(ticks, None)

    try:
        if pool is None:  # inline: one step after another (every process of a torchrun group alike)
            while pending:
                if stop_after is not None and computed >= stop_after:
                    break
                task = ready()[0]
                del pending[task.key]
                _execute(task.key, task.job, cache, device)
                done(task)
            return computed
        running: dict[Any, _Task] = {}
        models: dict[Any, list[Job]] = dict(pretraining or {})
        for future, jobs_of in models.items():
            running[future] = _Task(("pretrain", jobs_of[0].name), jobs_of[0], set(), float("inf"))
        while pending or running:
            for task in ready():  # a worker whose step ended while this process prepared an experiment is free
                if sum(not f.done() for f in running) >= workers:
                    break
                steps = sum(t.key[0] != "pretrain" for t in running.values())
                if stop_after is not None and computed + steps >= stop_after and task.key[0] == "gen":
                    continue
                del pending[task.key]
                running[pool.submit(_execute, task.key, task.job, cache, device)] = task
            if not running:
                break
            names = [_describe(t.key, t.job) for t in running.values()]
            finished_now = _wait_some(list(running), stall_seconds, names)
            for future in finished_now:
                task = running.pop(future)
                future.result()  # an error in a step stops the call (finished steps stay on disk)
                if future in models:  # a small model is in the cache: its experiments' steps join
                    pending.update(start(models.pop(future)))
                    continue
                done(task)
        return computed
    finally:
        if bar is not None and hasattr(bar, "close"):
            bar.close()

