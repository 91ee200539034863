"""An experiment's saved results: the tidy table ``metrics.csv`` and the per-block arrays of every generation.

Every finished generation is a folder ``output/<setting>/run<k>/gen<g>/`` with
the marker ``DONE`` (see :mod:`.runner`); :func:`write_table` collects their
``metrics.json`` into ``output/metrics.csv`` and :func:`load_results` reads a
folder back as :class:`Results` (finished or not).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import identity as identity_mod
from .config import ExperimentConfig, Setting, settings_from_pairs  # noqa: F401  (re-exported)
from .model import atomic_write_text

RESULTS_ENV = "COLLAPSE_LLM_RESULTS"


def gen_dir(output: Path, setting: Setting, run: int, generation: int) -> Path:
    """The folder of one finished generation."""
    return Path(output) / setting.name / f"run{run}" / f"gen{generation}"


def is_done(folder: Path) -> bool:
    """A generation is finished when its folder holds the ``DONE`` marker."""
    return (Path(folder) / "DONE").is_file()


def write_table(output: str | Path) -> pd.DataFrame:  # noqa: F821
    """Collect every finished generation's ``metrics.json`` into ``output/metrics.csv`` (atomically)."""
    import pandas as pd

    output = Path(output)
    rows = [
        json.loads(p.read_text())
        for p in sorted(output.glob("*/run*/gen*/metrics.json"))
        if is_done(p.parent)
    ]
    table = pd.DataFrame(rows)
    if len(table):
        table = table.sort_values(["setting", "run", "generation"]).reset_index(drop=True)
    atomic_write_text(output / "metrics.csv", table.to_csv(index=False))
    return table


@dataclass
class Results:
    """Saved results of an experiment: the tidy table and the per-block arrays."""

    output: Path
    config: ExperimentConfig
    table: Any  # pandas.DataFrame, one row per (setting, run, generation)
    notes: list[str]
    base: dict[str, Any] = field(default_factory=dict)  # how well the pretrained model fits (base.json)

    @property
    def settings(self) -> list[str]:
        return list(dict.fromkeys(self.table["setting"])) if len(self.table) else []

    def label(self, setting: str) -> str:
        return str(self.table.loc[self.table["setting"] == setting, "label"].iloc[0])

    def generations(self, setting: str | None = None) -> list[int]:
        t = self.table if setting is None else self.table[self.table["setting"] == setting]
        return sorted(int(g) for g in t["generation"].unique())

    def array(self, name: str, setting: str, generation: int, run: int | None = None) -> np.ndarray:
        """A per-block array (``train_ppl``, ``true_nll``, ``is_original``), all runs concatenated by default."""
        runs = (
            sorted(self.table.loc[self.table["setting"] == setting, "run"].unique()) if run is None else [run]
        )
        parts = []
        for r in runs:
            path = self.output / setting / f"run{r}" / f"gen{generation}" / f"{name}.npy"
            if path.exists():
                parts.append(np.load(path))
        if not parts:
            raise KeyError(f"no {name}.npy for setting {setting!r}, generation {generation}")
        return np.concatenate(parts)

    def samples(self, setting: str, generation: int, run: int = 0) -> list[dict[str, Any]]:
        path = self.output / setting / f"run{run}" / f"gen{generation}" / "samples.json"
        return json.loads(path.read_text())

    def describe(self) -> str:
        c = self.config
        return (
            f"{self.output}: model {c.model}, data {c.data}, {len(self.table)} finished generations "
            f"({c.runs} runs x {len(c.settings)} settings x {c.generations + 1} generations planned)"
        )


def perplexity_shift(results: Results, quantile: float = 0.99):
    """How each generation's training blocks sit against the original blocks, under the generation-0 model.

    Per setting and generation (all runs together): the median perplexity, the
    share of blocks above the original blocks' median (0.5 for the original
    data), and the share above their ``quantile`` (the paper's long right
    tail: sequences the first model would hardly produce). A DataFrame.
    """
    import pandas as pd

    rows = []
    for setting in results.settings:
        original = results.array("train_ppl", setting, 0)
        median, high = np.median(original), np.quantile(original, quantile)
        for g in results.generations(setting):
            ppl = results.array("train_ppl", setting, g)
            rows.append(
                {
                    "setting": setting,
                    "generation": g,
                    "median_perplexity": float(np.median(ppl)),
                    "above_original_median": float(np.mean(ppl > median)),
                    f"above_original_q{round(quantile * 100)}": float(np.mean(ppl > high)),
                    "max_perplexity": float(ppl.max()),
                }
            )
    return pd.DataFrame(rows)


def load_results(output: str | Path) -> Results:
    """Load the saved results of an experiment (finished or not) from its output folder."""
    import pandas as pd

    output = Path(output)
    cfg_path = output / "config.json"
    if not cfg_path.exists():
        raise ValueError(f"results: {output} holds no config.json (not an experiment's output folder)")
    config = ExperimentConfig.from_json(json.loads(cfg_path.read_text()))
    csv = output / "metrics.csv"
    table = pd.read_csv(csv) if csv.exists() and csv.stat().st_size > 1 else write_table(output)
    notes_path = output / "notes.txt"
    notes = notes_path.read_text().splitlines() if notes_path.exists() else []
    base_path = output / "base.json"
    base = json.loads(base_path.read_text()) if base_path.exists() else {}
    return Results(output, config, table, notes, base)


def saved_results_path() -> Path | None:
    """The folder of a larger run's saved results to plot instead, from ``COLLAPSE_LLM_RESULTS`` (or None)."""
    value = os.environ.get(RESULTS_ENV, "").strip()
    return Path(value).expanduser() if value else None


def default_output(config: ExperimentConfig, root: str | Path = "runs/llm") -> Path:
    """An output folder keyed by the configuration and the code: ``runs/llm/<model>-<data>-<hash>-<code>``.

    With the code version (:func:`identity.code_version`) in the name, a change
    of the code that computes the results starts a new folder instead of
    resuming one it cannot continue.
    """
    tag = Path(config.model).name.replace("/", "-")
    data = Path(config.data).name
    return Path(root) / f"{tag}-{data}-{config.key()}-{identity_mod.code_version()}"


