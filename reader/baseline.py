"""The baseline reader: answer with the sentence that shares the most words with the question.

It shows how much of the reader's score comes from simply finding the right sentence.
"""

from __future__ import annotations

from medsearch.reader.metrics import normalize_answer
from medsearch.reader.sentences import sentence_spans

# Question words that carry no topic: they would match any sentence.
STOP_WORDS = frozenset(
    "what which who whom whose when where why how is are was were be been being do does did of in on at to "
    "for by with from and or as that this these those it its there their they he she his her can could may "
    "might should would will shall not no any all some than then into about after before during used use "
    "name type kind".split()
)


def baseline_answer(question: str, context: str) -> tuple[int, int]:
    """Return the character offsets of the sentence of ``context`` with the most question words.

    Words are compared after SQuAD normalisation, without ``STOP_WORDS``, each counted once.
    Ties go to the earliest sentence; a context without sentences gives (0, 0).
    """
    question_words = set(normalize_answer(question).split()) - STOP_WORDS
    best, best_overlap = (0, 0), -1
    for start, end in sentence_spans(context):
        overlap = len(question_words & set(normalize_answer(context[start:end]).split()))
        if overlap > best_overlap:
            best, best_overlap = (start, end), overlap
    return best
