"""Chapter 5: what keeps models from collapsing, across the four families of chapters 1-4.

**Generations.** Generation 0 is the model fitted to the original (real) data;
generation ``t + 1`` is fitted to the training set that a *strategy* builds from
generation ``t``'s samples (and, with a share of real data, real data). The truth
is not a generation.

Modules
-------
:mod:`.strategies`
    the strategies (replace, accumulate, accumulate-subsample, fresh and fixed
    real data at a share, select) and the checks of their names and shares;
:mod:`.loop`
    one recursion loop for every strategy of a family (on the shared data schedules);
:mod:`.families`
    chapters 1-3's models as families of that loop;
:mod:`.run`
    every strategy for one family: :func:`run_gaussian`, :func:`run_mixture`, :func:`run_vae`;
:mod:`.llm`
    chapter 4's language model under every strategy: :func:`run_llm`;
:mod:`.results`
    :class:`FamilyResult` (distances normalised by generation 0's), the band, the
    cheapest share, the summary table;
:mod:`.theory`
    the Gaussian's exact recursion, Bertrand et al.'s condition, Gerstgrasser et al.'s factor;
:mod:`.notes`
    what each follow-up work predicts for a family, and whether the run agrees;
:mod:`.sentences`
    the chapter's computed sentences;
:mod:`.plots`
    the chapter's figures and the function behind its slider.
"""

from .loop import best_of, recursion, synthetic_data
from . import plots
from .notes import WORKS, Note, notes_markdown, theory_notes, verdict_counts
from .results import BAND, RISE, FamilyResult, check_band, summary_table
from .llm import run_llm
from .run import child_seed, run_gaussian, run_mixture, run_vae
from .sentences import cheapest_sentence, findings, gaussian_theory_sentence, phase_sentence, strategies_sentence, takeaway
from .strategies import (
    CANDIDATES,
    FAMILIES,
    FAMILY_NAMES,
    SHARED,
    STRATEGIES,
    Strategy,
    check_family,
    check_share,
    check_shares,
    check_strategy,
    lanes,
    strategy,
)
from .theory import GERSTGRASSER_FACTOR, bertrand_share, exact_boundary, exact_cheapest_share, mean_error
