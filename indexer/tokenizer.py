"""A BM25 tokenizer for biomedical text.

Biomedical names join letters, digits and Greek letters with hyphens ("covid-19", "il-6",
"tnf-α"). Splitting them apart loses the name, while keeping only the whole form misses
queries that write the parts, so the tokenizer emits both: the whole compound and each
part. Other words are lower-cased, stop words dropped, and the rest stemmed with the
Snowball English stemmer (PyStemmer).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import Stemmer

# A word is a run of letters (any script, Greek included) and digits; a token is words
# joined by hyphens or en dashes. Apostrophes end a word, so "crohn's" yields "crohn".
_WORD = r"[^\W_]+"
_TOKEN_PATTERN = re.compile(rf"{_WORD}(?:[-‐‑–]{_WORD})*")
_HYPHENS = re.compile(r"[-‐‑–]")

# The English stop words of the Lucene/Anserini analyser plus a few function words that
# carry no topic in abstracts. Kept short on purpose: "not" and "no" are dropped too,
# as Lucene does, because BM25 ignores word order anyway.
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(
    """a an and are as at be but by for if in into is it no not of on or such that the their
    then there these they this to was will with""".split()
)


@dataclass(frozen=True)
class BiomedicalTokenizer:
    """Turn text into BM25 terms.

    Args:
        stem: apply the Snowball English stemmer to each term that is letters only.
        stop_words: terms dropped after lower-casing; compounds are never dropped.
        split_compounds: emit the parts of a hyphenated compound beside the whole.
    """

    stem: bool = True
    stop_words: frozenset[str] = ENGLISH_STOP_WORDS
    split_compounds: bool = True
    _stemmer: Stemmer.Stemmer = field(
        default_factory=lambda: Stemmer.Stemmer("english"), repr=False, compare=False
    )

    def normalize(self, text: str) -> str:
        """Apply Unicode NFKC and lower-case; NFKC folds the micro sign into Greek mu."""
        return unicodedata.normalize("NFKC", text).lower()

    def tokenize(self, text: str) -> list[str]:
        """Return the terms of ``text`` in order, compounds followed by their parts."""
        terms: list[str] = []
        for match in _TOKEN_PATTERN.finditer(self.normalize(text)):
            token = match.group()
            if _HYPHENS.search(token) is None:
                self._append_word(token, terms)
                continue
            terms.append(_HYPHENS.sub("-", token))
            if self.split_compounds:
                for part in _HYPHENS.split(token):
                    self._append_word(part, terms)
        return terms

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        """Tokenize each text; see :meth:`tokenize`."""
        return [self.tokenize(text) for text in texts]

    def config(self) -> dict[str, object]:
        """Settings to store in an index manifest, so queries get the same analysis."""
        return {
            "name": "biomedical",
            "stem": self.stem,
            "stop_words": sorted(self.stop_words),
            "split_compounds": self.split_compounds,
        }

    @classmethod
    def from_config(cls, config: dict[str, object]) -> BiomedicalTokenizer:
        """Rebuild the tokenizer saved by :meth:`config`."""
        return cls(
            stem=bool(config["stem"]),
            stop_words=frozenset(config["stop_words"]),  # type: ignore[arg-type]
            split_compounds=bool(config["split_compounds"]),
        )

    def _append_word(self, word: str, terms: list[str]) -> None:
        if word in self.stop_words:
            return
        if self.stem and word.isalpha():
            word = self._stemmer.stemWord(word)
        terms.append(word)
