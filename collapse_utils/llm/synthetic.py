"""A synthetic language with a *known* probability distribution.

Real text has no known distribution, so for wikitext2 we can only judge
generated text by another model (the paper uses the generation-0 model). This
module makes a language whose distribution we know exactly, so that every
generation's text can also be judged by the truth.

The source is a word-level first-order Markov chain:

* a vocabulary of ``vocab_size`` pseudo-words (``"ka"``, ``"lomi"``, ...) with a
  Zipf-like unigram law ``Z(w) ~ 1 / rank(w) ** zipf`` -- a few frequent words
  and a long tail of rare ones (frequent words are short, as in real languages);
* two punctuation words, ``","`` and ``"."``; a sentence ends with ``"."``;
  a share ``final_share`` of the words are *sentence-final*: after them the
  sentence ends with probability ``p_final`` (after any other word with
  ``p_period``), so that, as in real text, where a sentence ends is predictable
  from the words (a language whose sentences end at random loses every ``"."``
  to the repetition penalty of the paper's beam search);
* each word ``u`` has ``successors`` favourite next words (drawn by ``Z``) with
  Dirichlet weights; the next word is one of them with probability
  ``1 - smoothing`` and a draw from ``Z`` with probability ``smoothing``, so
  every word can follow every word (no transition is impossible) and rare
  words appear mostly through that long-tailed draw.

Paragraphs start in the state ``"."`` (the start of a sentence). The corpus is
written in the wikitext layout (`` = Title = `` lines, `` = = Heading = = ``
lines, blank lines between paragraphs), so it goes through the same loaders and
tokenisers as wikitext2 itself.

Knowing the chain, :meth:`SyntheticLanguage.entropy_rate` gives the best
achievable loss (nats per word) and :meth:`SyntheticLanguage.score` the true
log-likelihood of any text, word by word, including how much of the rare
*tail* of the vocabulary it still uses.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import validate

PRETRAIN = "pretrain"
CONSONANTS = "ptkbdgmnlrsvzf"
VOWELS = "aeiou"
PUNCTUATION = (".", ",")

#: How many texts' word scores a language keeps (:meth:`SyntheticLanguage.word_scores`): a generation's
#: measures score the same texts two or three times (their true NLL and word coverage, and the text it writes
#: again as the next generation's training text); a generation's texts are 64-96 blocks.
SCORED_TEXTS = 1024


@dataclass(frozen=True)
class LanguageConfig:
    """Parameters of a :class:`SyntheticLanguage` (all of them fix the distribution)."""

    vocab_size: int = 600
    zipf: float = 1.1
    successors: int = 6
    concentration: float = 0.6
    smoothing: float = 0.1
    p_period: float = 0.03
    p_comma: float = 0.05
    tail_mass: float = 0.1
    final_share: float = 0.15
    p_final: float = 0.5
    seed: int = 1234
    #: share of each word's transitions taken from another language with the same words (its favourite successors
    #: drawn from ``blend_seed``): 0 is this language itself; the book's pretraining language is a blend
    blend: float = 0.0
    blend_seed: int = 1


@dataclass(frozen=True)
class WordScore:
    """One word of a text under the true chain (see :meth:`SyntheticLanguage.word_scores`)."""

    start: int  # character offsets of the word in the text
    end: int
    word: int  # index in the vocabulary; -1 for a word that is not a word of the language
    nll: float  # true negative log-likelihood given the previous word (nats); NaN when not scored
    tail: bool  # whether the word belongs to the tail

    @property
    def scored(self) -> bool:
        return self.word >= 0 and self.nll == self.nll


@dataclass
class TextScore:
    """The true log-likelihood of texts, per text (arrays) and in total."""

    nll: np.ndarray  # per text: mean negative log-likelihood per scored word (nats; NaN if none)
    words: np.ndarray  # per text: number of scored words
    invalid: np.ndarray  # per text: number of words that are not words of the language
    tail_words: np.ndarray  # per text: number of scored words that belong to the tail
    types: set[str]  # the distinct valid words seen in all texts
    impossible: np.ndarray | None = None  # per text: words the chain cannot write after the previous word

    @property
    def mean_nll(self) -> float:
        """Mean true NLL per scored word over all texts (nats)."""
        total = np.nansum(self.nll * self.words)
        return float(total / max(1, self.words.sum()))

    @property
    def invalid_rate(self) -> float:
        """Share of words that are not words of the language."""
        return float(self.invalid.sum() / max(1, self.invalid.sum() + self.words.sum()))

    @property
    def impossible_rate(self) -> float:
        """Share of the words in context that the chain gives probability 0 after the previous word."""
        impossible = 0 if self.impossible is None else int(self.impossible.sum())
        return float(impossible / max(1, impossible + self.words.sum()))


class SyntheticLanguage:
    """A word-level Markov source with a Zipf vocabulary, see the module docstring."""

    def __init__(self, config: LanguageConfig | None = None, **overrides) -> None:
        config = LanguageConfig(**{**asdict(config or LanguageConfig()), **overrides})
        validate.integer("vocab_size", config.vocab_size, 10)
        validate.integer("successors", config.successors, 1, config.vocab_size)
        for name in ("smoothing", "p_period", "p_comma", "tail_mass", "final_share", "p_final", "blend"):
            value = getattr(config, name)
            if not 0.0 <= value < 1.0 and not (name == "blend" and value == 1.0):
                raise ValueError(f"{name} must be in [0, {']' if name == 'blend' else ')'}, got {value!r}")
        if max(config.p_period, config.p_final) + config.p_comma >= 1.0:
            raise ValueError(
                f"p_period + p_comma and p_final + p_comma must be < 1, got p_period={config.p_period}, "
                f"p_final={config.p_final}, p_comma={config.p_comma}"
            )
        self.config = config
        rng = np.random.default_rng(config.seed)
        v = config.vocab_size
        self.words: list[str] = list(PUNCTUATION) + _pseudo_words(v, rng)
        self.index = {w: i for i, w in enumerate(self.words)}
        n = len(self.words)
        zipf = 1.0 / np.arange(1, v + 1) ** config.zipf
        zipf /= zipf.sum()
        self.unigram = zipf  # over content words (index offset 2)
        # transition matrix over all words (punctuation first)
        trans = _successor_rows(rng, n, zipf, config)
        if config.blend > 0:  # another language with the same words: its favourite successors from its own seed
            other = _successor_rows(np.random.default_rng([config.blend_seed, 2]), n, zipf, config)
            trans = (1.0 - config.blend) * trans + config.blend * other
        # sentence-final words (drawn from a separate stream: the rest of the language stays as it was)
        final_rng = np.random.default_rng([config.seed, 1])
        self.final = np.zeros(n, dtype=bool)
        self.final[2:] = final_rng.random(v) < config.final_share
        for u in range(2, n):  # punctuation never follows punctuation
            p_end = config.p_final if self.final[u] else config.p_period
            trans[u, 2:] *= 1.0 - p_end - config.p_comma
            trans[u, 0] = p_end
            trans[u, 1] = config.p_comma
        self.transition = trans
        self.log_transition = np.log(trans, where=trans > 0, out=np.full_like(trans, -np.inf))
        self.stationary = _stationary(trans)
        # the tail: the rarest content words that together carry `tail_mass` of the stationary mass
        order = np.argsort(self.stationary[2:])  # rarest first
        cum = np.cumsum(self.stationary[2:][order]) / self.stationary[2:].sum()
        tail = order[cum <= config.tail_mass] + 2
        self.tail = np.zeros(n, dtype=bool)
        self.tail[tail] = True
        self.tail_word_mass = float(self.stationary[self.tail].sum() / self.stationary.sum())
        self._cdf = np.cumsum(trans, axis=1)
        # the same rows as Python lists: the samplers walk the chain one word at a time, and bisect on a list
        # finds a word in a fraction of np.searchsorted's per-call time (the same index: both search to the right)
        self._cdf_rows = self._cdf.tolist()
        self._scored: OrderedDict[tuple[str, bool], tuple[WordScore, ...]] = OrderedDict()

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_scored": OrderedDict()}  # a copy or another process starts without the scores

    def related(self, blend: float, blend_seed: int = 1) -> SyntheticLanguage:
        """A related language: the same words and frequencies, a share ``blend`` of its transitions another's.

        Plays web text against wikitext-2 in the paper's structure: a model
        pretrained on it knows the words but not which word follows which here.
        ``blend`` must be in ``(0, 1]`` (0 would be this language itself).
        """
        validate.real("blend", blend, 0.0, 1.0, low_open=True)
        if self.config.blend:
            raise ValueError("related: this language is itself a blend; relate the original language instead")
        return SyntheticLanguage(self.config, blend=float(blend), blend_seed=int(blend_seed))

    def cross_entropy(self, other: SyntheticLanguage) -> float:
        """Expected NLL per word (nats) of this language's text under ``other``'s transitions (same words).

        The loss of a perfect model of ``other`` on this language: ``sum_u pi(u)
        sum_w T(u, w) (-log T_other(u, w))``; at least :meth:`entropy_rate`.
        """
        if other.words != self.words:
            raise ValueError("cross_entropy: the two languages must have the same words")
        p = self.transition
        logq = np.where(p > 0, other.log_transition, 0.0)
        return float(self.stationary @ -np.sum(p * logq, axis=1))

    # ------------------------------------------------------------------ truth
    def entropy_rate(self) -> float:
        """The chain's entropy rate in nats per word: the best achievable mean NLL."""
        p = self.transition
        logp = np.where(p > 0, self.log_transition, 0.0)
        h_rows = -np.sum(p * logp, axis=1)
        return float(self.stationary @ h_rows)

    def unigram_entropy(self) -> float:
        """Entropy of the word frequencies alone (nats per word): the loss of a model without context."""
        pi = self.stationary[self.stationary > 0]
        return float(-(pi * np.log(pi)).sum())

    def word_scores(self, text: str, fragments: bool = True) -> tuple[WordScore, ...]:
        """Every whitespace word of ``text`` outside headings, with its true NLL where it is scored.

        The rules of :meth:`score`: headings (lines holding an ``=`` word) and
        blank lines are skipped; a paragraph line starts in the sentence-start
        state ``"."``; a word that is not in the vocabulary is *invalid*
        (``word == -1``) and restarts the context; with ``fragments=True`` the
        first word of an open first line and a possibly cut last word are
        context only. ``nll`` is NaN for a word that is not scored. The
        character offsets let a caller find the tokens of every word (see
        :func:`collapse_utils.llm.measures.paired_word_losses`). The scores of the
        last :data:`SCORED_TEXTS` texts are kept and given again (the language never changes).
        """
        key = (text, fragments)
        kept = self._scored.get(key)
        if kept is not None:
            self._scored.move_to_end(key)
            return kept
        scores = tuple(self._word_scores(text, fragments))
        self._scored[key] = scores
        if len(self._scored) > SCORED_TEXTS:
            self._scored.popitem(last=False)
        return scores

    def _word_scores(self, text: str, fragments: bool) -> list[WordScore]:
        out: list[WordScore] = []
        raw = text.split("\n")
        offsets = np.cumsum([0] + [len(line) + 1 for line in raw[:-1]])
        kept = [(line, int(off)) for line, off in zip(raw, offsets) if line.strip() and "=" not in line.split()]
        first_open = fragments and bool(text) and text[0] != "\n" and bool(kept) and raw[0] == kept[0][0]
        index, logt, tail = self.index, self.log_transition, self.tail
        for j, (line, off) in enumerate(kept):
            spans = [(m.start() + off, m.end() + off, m.group()) for m in re.finditer(r"\S+", line)]
            drop_last = fragments and j == len(kept) - 1 and bool(spans) and not text[-1].isspace()
            prev: int | None = index["."]
            skip_first = False
            if j == 0 and first_open:
                prev = None  # the first word is context only
                skip_first = not text[0].isspace()  # ... and may be cut
            for k, (a, b, tok) in enumerate(spans):
                if (k == 0 and skip_first) or (drop_last and k == len(spans) - 1):
                    continue
                w = index.get(tok, -1)
                if w < 0:
                    out.append(WordScore(a, b, -1, float("nan"), False))
                    prev = None
                    continue
                nll = float(-logt[prev, w]) if prev is not None else float("nan")
                out.append(WordScore(a, b, w, nll, bool(tail[w])))
                prev = w
        return out

    def score(self, texts: Sequence[str], fragments: bool = True) -> TextScore:
        """Score texts word by word under the true chain (the rules of :meth:`word_scores`).

        Headings (lines holding an ``=`` word) and blank lines are skipped. A
        paragraph line starts in the sentence-start state ``"."``. With
        ``fragments=True`` the texts are pieces cut out of running text (such as
        decoded blocks of tokens): the first word of the first line and the last
        word of the last line may be cut, so they only serve as context and are
        not scored (the first word of a fragment is context only, since the word
        before it is unseen). A word that is not in the vocabulary counts as
        *invalid* and restarts the context. A word of the language that the
        chain cannot write after the previous one (probability 0, such as two
        punctuation marks in a row: only a model's text has them) counts as
        *impossible*, apart from the scored words, so that one such pair does
        not make the mean NLL infinite; its word still counts as used.
        """
        m = len(texts)
        nll = np.full(m, np.nan)
        words = np.zeros(m, dtype=np.int64)
        invalid = np.zeros(m, dtype=np.int64)
        impossible = np.zeros(m, dtype=np.int64)
        tail_words = np.zeros(m, dtype=np.int64)
        types: set[str] = set()
        for i, text in enumerate(texts):
            total, count = 0.0, 0
            for ws in self.word_scores(text, fragments):
                if ws.word < 0:
                    invalid[i] += 1
                elif ws.nll == np.inf:
                    impossible[i] += 1
                    types.add(self.words[ws.word])
                elif ws.scored:
                    total += ws.nll
                    count += 1
                    tail_words[i] += ws.tail
                    types.add(self.words[ws.word])
            words[i] = count
            if count:
                nll[i] = total / count
        return TextScore(nll, words, invalid, tail_words, types, impossible)

    def tail_coverage(self, score: TextScore) -> float:
        """Share of the tail's word types that appear at least once in the scored texts."""
        tail_types = {self.words[i] for i in np.flatnonzero(self.tail)}
        return len(tail_types & score.types) / max(1, len(tail_types))

    def tail_share(self, score: TextScore) -> float:
        """Share of the scored words that are tail words, relative to the truth (1 = intact)."""
        return float(score.tail_words.sum() / max(1, score.words.sum()) / self.tail_word_mass)

    # --------------------------------------------------------------- sampling
    def _next_word(self, state: int, rng: np.random.Generator) -> int:
        """The word after ``state``: the inverse of its cumulative row at one uniform draw (the samplers' step)."""
        row = self._cdf_rows[state]
        return min(bisect_right(row, rng.random() * row[-1]), len(self.words) - 1)

    def sample_paragraph(self, rng: np.random.Generator, sentences: int) -> str:
        """Sample ``sentences`` sentences from the chain, starting at a sentence start."""
        out: list[str] = []
        state = 0  # "."
        done = 0
        while done < sentences:
            state = self._next_word(state, rng)
            out.append(self.words[state])
            if state == 0:
                done += 1
            if len(out) > 400 * sentences:  # pragma: no cover - safety net
                break
        return " ".join(out)

    def write_corpus(self, words: int, seed: int | Sequence[int]) -> str:
        """Write about ``words`` words of articles in the wikitext layout."""
        validate.integer("words", words, 1)
        rng = np.random.default_rng(seed)
        lines: list[str] = []
        written = 0
        content = np.arange(2, len(self.words))
        while written < words:
            title = " ".join(self.words[w].capitalize() for w in rng.choice(content, size=rng.integers(1, 4)))
            lines += [f" = {title} = ", ""]
            for section in range(int(rng.integers(1, 4))):
                if section:
                    heading = " ".join(self.words[w] for w in rng.choice(content, size=rng.integers(1, 3)))
                    lines += [f" = = {heading.capitalize()} = = ", ""]
                for _ in range(int(rng.integers(1, 4))):
                    para = self.sample_paragraph(rng, int(rng.integers(2, 7)))
                    written += para.count(" ") + 1
                    lines += [" " + para + " ", ""]
                    if written >= words:
                        break
                if written >= words:
                    break
        return "\n".join(lines) + "\n"

    def write_wikitext_folder(self, folder, words: Sequence[int] = (60_000, 6_000, 6_000), seed: int = 0):
        """Write ``train.txt``, ``valid.txt`` and ``test.txt`` (wikitext layout) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for k, (split, n) in enumerate(zip(("train", "valid", "test"), words)):
            (folder / f"{split}.txt").write_text(self.write_corpus(n, seed=seed * 1000 + k), encoding="utf-8")
        return folder

    def write_splits(
        self, words: Mapping[str, int], seed: int = 0, pretrain_from: SyntheticLanguage | None = None
    ) -> dict[str, str]:
        """Write disjoint splits of the language (wikitext layout), for instance the paper's structure.

        ``words`` maps split names to word counts, for example
        ``{"pretrain": 300_000, "train": 20_000, "valid": 4_000, "test": 4_000}``.
        Split ``k`` (in the order given, not counting ``"pretrain"``) is written
        from the seed ``seed * 1000 + k``, as :func:`~collapse_utils.llm.data.synthetic_corpus`
        does for ``train``, ``valid`` and ``test``; a split named ``"pretrain"``
        is written from its own stream (``[seed, 7]``), and every paragraph of it
        that also occurs in another split is dropped, so that the pretraining
        text shares no paragraph (hence no block of tokens) with the text the
        recursion sees. The pretraining split is written by ``pretrain_from``
        when given (a :meth:`related` language: the paper's structure, where
        OPT's pretraining text is not wikitext-2), else by this language.
        """
        for name, n in words.items():
            validate.integer(f"words[{name!r}]", n, 1)
        out: dict[str, str] = {}
        recursion = [(name, n) for name, n in words.items() if name != PRETRAIN]
        for k, (name, n) in enumerate(recursion):
            out[name] = self.write_corpus(n, seed=seed * 1000 + k)
        if PRETRAIN in words:
            seen = {line for text in out.values() for line in text.split("\n") if line.strip() and "=" not in line.split()}
            text = (pretrain_from or self).write_corpus(words[PRETRAIN], seed=[seed, 7])
            lines = [line for line in text.split("\n") if line not in seen]
            out = {PRETRAIN: "\n".join(lines), **out}
        return out

    # ---------------------------------------------------------------- writers
    def words_of(self, text: str) -> list[int]:
        """The vocabulary indices of the valid words of ``text`` outside headings, in order."""
        lines = [ln for ln in text.split("\n") if ln.strip() and "=" not in ln.split()]
        return [self.index[t] for ln in lines for t in ln.split() if t in self.index]

    def continue_texts(
        self,
        prompts: Sequence[str],
        new_words: int,
        num_beams: int = 5,
        repetition_penalty: float = 3.0,
        sample: bool = False,
        seed: int = 0,
    ) -> list[str]:
        """The *perfect model* as a writer: continue every prompt by ``new_words`` words of the true chain.

        With ``sample=False``, the paper's decoding at the word level, as
        ``transformers`` does it: a beam search of ``num_beams`` beams over
        the true log-probabilities, where the log-probability of every word
        already in the prompt or in the beam is multiplied by
        ``repetition_penalty`` (``RepetitionPenaltyLogitsProcessor`` on the
        log-softmax scores: a repeated word of probability ``p`` weighs
        ``p ** penalty``); the best beam is kept. With ``sample=True``, plain
        sampling from the chain (a fresh sample of the source that continues
        the prompt). The chain starts in the state of the prompt's last valid
        word (the sentence start for a prompt without one).

        This is the reference for what a model that had learned the language
        *exactly* would write with the experiment's decoding: the text a model
        writes is judged against it, and against a fresh sample of the source.
        """
        validate.integer("new_words", new_words, 1)
        validate.integer("num_beams", num_beams, 1)
        validate.real("repetition_penalty", repetition_penalty, 0.0, low_open=True)
        rng = np.random.default_rng(seed)
        contexts = [self.words_of(p) for p in prompts]
        if sample:
            out = []
            for ctx in contexts:
                state, words = (ctx[-1] if ctx else 0), []
                for _ in range(new_words):
                    state = self._next_word(state, rng)
                    words.append(state)
                out.append(" " + " ".join(self.words[w] for w in words))
            return out
        return [" " + " ".join(self.words[w] for w in seq) for seq in self._beam(contexts, new_words, num_beams, repetition_penalty)]

    def _beam(self, contexts: list[list[int]], new_words: int, beams: int, penalty: float, chunk: int = 64):
        """Best beam of a batched beam search with a repetition penalty (see :meth:`continue_texts`)."""
        v = len(self.words)
        logt = np.where(np.isfinite(self.log_transition), self.log_transition, -1e9)
        result: list[list[int]] = []
        for start in range(0, len(contexts), chunk):
            part = contexts[start : start + chunk]
            n = len(part)
            seen = np.zeros((n, 1, v), dtype=bool)
            for i, ctx in enumerate(part):
                seen[i, 0, ctx] = True
            seen = np.repeat(seen, beams, axis=1)
            last = np.array([ctx[-1] if ctx else 0 for ctx in part])[:, None].repeat(beams, axis=1)
            score = np.full((n, beams), -np.inf)
            score[:, 0] = 0.0  # all beams start as one
            seqs = np.zeros((n, beams, 0), dtype=np.int64)
            for _ in range(new_words):
                lp = logt[last]  # (n, beams, v)
                lp = np.where(seen, lp * penalty, lp)
                flat = (score[:, :, None] + lp).reshape(n, -1)
                top = np.argsort(-flat, axis=1, kind="stable")[:, :beams]
                score = np.take_along_axis(flat, top, axis=1)
                origin, word = top // v, top % v
                seqs = np.concatenate([np.take_along_axis(seqs, origin[:, :, None], axis=1), word[:, :, None]], axis=2)
                seen = np.take_along_axis(seen, origin[:, :, None], axis=1)
                np.put_along_axis(seen, word[:, :, None], True, axis=2)
                last = word
            result += [list(map(int, row)) for row in seqs[:, 0]]
        return result

    def describe(self) -> str:
        """One line: vocabulary, entropy rate, tail."""
        return (
            f"synthetic Markov language: {len(self.words)} words (Zipf exponent {self.config.zipf}), "
            f"entropy rate {self.entropy_rate():.3f} nats/word (perplexity {np.exp(self.entropy_rate()):.1f}), "
            f"tail = {int(self.tail.sum())} rarest words carrying {self.tail_word_mass:.1%} of the mass"
        )


def _successor_rows(rng: np.random.Generator, n: int, zipf: np.ndarray, config: LanguageConfig) -> np.ndarray:
    """Every word's next-word probabilities before punctuation: favourite successors plus Zipf smoothing."""
    v = config.vocab_size
    trans = np.zeros((n, n))
    for u in range(n):
        fav = rng.choice(v, size=config.successors, replace=False, p=zipf)
        weights = rng.dirichlet(np.full(config.successors, config.concentration))
        row = config.smoothing * zipf.copy()
        row[fav] += (1.0 - config.smoothing) * weights
        trans[u, 2:] = row
    return trans


def _pseudo_words(v: int, rng: np.random.Generator) -> list[str]:
    """``v`` distinct pronounceable words; frequent (low-rank) words are shorter."""
    syllables = [c + vow for c in CONSONANTS for vow in VOWELS]
    out: list[str] = []
    seen: set[str] = set()
    for rank in range(v):
        length = 1 + int(rank >= 40) + int(rank >= 400) + int(rng.random() < 0.3)
        while True:
            word = "".join(rng.choice(syllables, size=length))
            if word not in seen:
                break
            length += 1 if rng.random() < 0.2 else 0
        seen.add(word)
        out.append(word)
    return out


def _stationary(trans: np.ndarray, iterations: int = 2000, tol: float = 1e-13) -> np.ndarray:
    """Stationary distribution of a row-stochastic matrix by power iteration."""
    pi = np.full(trans.shape[0], 1.0 / trans.shape[0])
    for _ in range(iterations):
        new = pi @ trans
        if np.abs(new - pi).sum() < tol:
            return new
        pi = new
    return pi


def word_ngrams(texts: Iterable[str], n: int) -> list[list[tuple[str, ...]]]:
    """The word ``n``-grams of each text (whitespace tokenisation)."""
    out = []
    for text in texts:
        toks = text.split()
        out.append([tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)])
    return out
