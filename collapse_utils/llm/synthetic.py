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

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..schedules import check_count

CONSONANTS = "ptkbdgmnlrsvzf"
VOWELS = "aeiou"
PUNCTUATION = (".", ",")


@dataclass(frozen=True)
class LanguageConfig:
    """Parameters of a :class:`SyntheticLanguage` (all of them fix the distribution)."""

    vocab_size: int = 600
    zipf: float = 1.1
    successors: int = 6
    concentration: float = 0.6
    smoothing: float = 0.1
    p_period: float = 0.08
    p_comma: float = 0.05
    tail_mass: float = 0.1
    seed: int = 1234


@dataclass
class TextScore:
    """The true log-likelihood of texts, per text (arrays) and in total."""

    nll: np.ndarray  # per text: mean negative log-likelihood per scored word (nats; NaN if none)
    words: np.ndarray  # per text: number of scored words
    invalid: np.ndarray  # per text: number of words that are not words of the language
    tail_words: np.ndarray  # per text: number of scored words that belong to the tail
    types: set[str]  # the distinct valid words seen in all texts

    @property
    def mean_nll(self) -> float:
        """Mean true NLL per scored word over all texts (nats)."""
        total = np.nansum(self.nll * self.words)
        return float(total / max(1, self.words.sum()))

    @property
    def invalid_rate(self) -> float:
        """Share of words that are not words of the language."""
        return float(self.invalid.sum() / max(1, self.invalid.sum() + self.words.sum()))


class SyntheticLanguage:
    """A word-level Markov source with a Zipf vocabulary, see the module docstring."""

    def __init__(self, config: LanguageConfig | None = None, **overrides) -> None:
        config = LanguageConfig(**{**asdict(config or LanguageConfig()), **overrides})
        check_count("vocab_size", config.vocab_size, 10)
        check_count("successors", config.successors, 1)
        for name in ("smoothing", "p_period", "p_comma", "tail_mass"):
            value = getattr(config, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")
        if config.p_period + config.p_comma >= 1.0:
            raise ValueError("p_period + p_comma must be < 1")
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
        content = 1.0 - config.p_period - config.p_comma
        trans = np.zeros((n, n))
        for u in range(n):
            fav = rng.choice(v, size=config.successors, replace=False, p=zipf)
            weights = rng.dirichlet(np.full(config.successors, config.concentration))
            row = config.smoothing * zipf.copy()
            row[fav] += (1.0 - config.smoothing) * weights
            trans[u, 2:] = content * row
            if u >= 2:  # punctuation never follows punctuation
                trans[u, 0] = config.p_period
                trans[u, 1] = config.p_comma
            else:
                trans[u, 2:] /= trans[u, 2:].sum()
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

    def score(self, texts: Sequence[str], fragments: bool = True) -> TextScore:
        """Score texts word by word under the true chain.

        Headings (lines holding an ``=`` word) and blank lines are skipped. A
        paragraph line starts in the sentence-start state ``"."``. With
        ``fragments=True`` the texts are pieces cut out of running text (such as
        decoded blocks of tokens): the first word of the first line and the last
        word of the last line may be cut, so they only serve as context and are
        not scored (the first word of a fragment is context only, since the word
        before it is unseen). A word that is not in the vocabulary counts as
        *invalid* and restarts the context.
        """
        m = len(texts)
        nll = np.full(m, np.nan)
        words = np.zeros(m, dtype=np.int64)
        invalid = np.zeros(m, dtype=np.int64)
        tail_words = np.zeros(m, dtype=np.int64)
        types: set[str] = set()
        index, logt, tail = self.index, self.log_transition, self.tail
        for i, text in enumerate(texts):
            lines = [ln for ln in text.split("\n") if ln.strip() and "=" not in ln.split()]
            # a fragment's first line continues text we do not see, unless the fragment starts a new line
            first_open = (
                fragments
                and bool(text)
                and text[0] != "\n"
                and bool(lines)
                and (text.split("\n")[0] == lines[0])
            )
            total, count = 0.0, 0
            for j, line in enumerate(lines):
                toks = line.split()
                if fragments and j == len(lines) - 1 and toks and not text[-1].isspace():
                    toks = toks[:-1]  # the last word may be cut
                prev: int | None = index["."]
                if j == 0 and first_open:
                    prev = None  # the first word is context only
                    if not text[0].isspace():
                        toks = toks[1:]  # ... and may be cut
                for k, tok in enumerate(toks):
                    w = index.get(tok)
                    if w is None:
                        invalid[i] += 1
                        prev = None
                        continue
                    if prev is not None:
                        total -= logt[prev, w]
                        count += 1
                        tail_words[i] += tail[w]
                        types.add(tok)
                    prev = w
            words[i] = count
            if count:
                nll[i] = total / count
        return TextScore(nll, words, invalid, tail_words, types)

    def tail_coverage(self, score: TextScore) -> float:
        """Share of the tail's word types that appear at least once in the scored texts."""
        tail_types = {self.words[i] for i in np.flatnonzero(self.tail)}
        return len(tail_types & score.types) / max(1, len(tail_types))

    def tail_share(self, score: TextScore) -> float:
        """Share of the scored words that are tail words, relative to the truth (1 = intact)."""
        return float(score.tail_words.sum() / max(1, score.words.sum()) / self.tail_word_mass)

    # --------------------------------------------------------------- sampling
    def sample_paragraph(self, rng: np.random.Generator, sentences: int) -> str:
        """Sample ``sentences`` sentences from the chain, starting at a sentence start."""
        out: list[str] = []
        state = 0  # "."
        done = 0
        cdf = self._cdf
        while done < sentences:
            state = int(np.searchsorted(cdf[state], rng.random() * cdf[state, -1], side="right"))
            state = min(state, len(self.words) - 1)
            out.append(self.words[state])
            if state == 0:
                done += 1
            if len(out) > 400 * sentences:  # pragma: no cover - safety net
                break
        return " ".join(out)

    def write_corpus(self, words: int, seed: int) -> str:
        """Write about ``words`` words of articles in the wikitext layout."""
        check_count("words", words, 1)
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
        from pathlib import Path

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for k, (split, n) in enumerate(zip(("train", "valid", "test"), words)):
            (folder / f"{split}.txt").write_text(self.write_corpus(n, seed=seed * 1000 + k), encoding="utf-8")
        return folder

    def describe(self) -> str:
        """One line: vocabulary, entropy rate, tail."""
        return (
            f"synthetic Markov language: {len(self.words)} words (Zipf exponent {self.config.zipf}), "
            f"entropy rate {self.entropy_rate():.3f} nats/word (perplexity {np.exp(self.entropy_rate()):.1f}), "
            f"tail = {int(self.tail.sum())} rarest words carrying {self.tail_word_mass:.1%} of the mass"
        )


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
