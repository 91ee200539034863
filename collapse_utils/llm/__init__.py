"""Chapter 4: model collapse of language models (OPT-125m on wikitext2, or their small stand-ins).

Modules
-------
:mod:`~collapse_utils.llm.synthetic`
    a synthetic language with a known distribution (the offline default data);
:mod:`~collapse_utils.llm.data`
    corpora (hub, local folder, synthetic) and 64-token blocks;
:mod:`~collapse_utils.llm.model`
    the pretrained starting point, fine-tuning, beam-search continuation, perplexity;
:mod:`~collapse_utils.llm.experiment`
    the resumable generational experiment, its tidy metrics table and its time estimate;
:mod:`~collapse_utils.llm.identity`
    what an output folder holds: the model, data and code version actually used;
:mod:`~collapse_utils.llm.distributed`
    one process or many (``torchrun``, ``accelerate launch``);
:mod:`~collapse_utils.llm.plots`
    the chapter's figures (Figures 10 and 11 of the paper and more).

Run ``python -m collapse_utils.llm --help`` for the command line.
"""

from .data import Corpus, load_corpus, make_blocks, read_wikitext_folder, synthetic_corpus
from .experiment import (
    ExperimentConfig,
    Results,
    Setting,
    default_output,
    estimate_seconds,
    load_results,
    profile_config,
    run_experiment,
    saved_results_path,
)
from .model import (
    SmallModelConfig,
    continue_blocks,
    learning_rates,
    load_base,
    perplexity,
    sequence_nll,
    token_nll,
    train,
    train_tokenizer,
)
from .synthetic import LanguageConfig, SyntheticLanguage

__all__ = [
    "Corpus",
    "ExperimentConfig",
    "LanguageConfig",
    "Results",
    "Setting",
    "SmallModelConfig",
    "SyntheticLanguage",
    "continue_blocks",
    "default_output",
    "estimate_seconds",
    "learning_rates",
    "load_base",
    "load_corpus",
    "load_results",
    "make_blocks",
    "perplexity",
    "profile_config",
    "read_wikitext_folder",
    "run_experiment",
    "saved_results_path",
    "sequence_nll",
    "synthetic_corpus",
    "token_nll",
    "train",
    "train_tokenizer",
]
