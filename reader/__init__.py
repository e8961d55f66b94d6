"""Extractive question answering: find answer spans to a question in retrieved abstracts.

Typical use::

    from medsearch.reader import Reader

    reader = Reader()  # the model shipped with medsearch; or any Hugging Face QA model name or path
    question = "What lowers LDL cholesterol?"
    for answer in reader.read(question, index.search(question, k=5)):
        print(answer.doc_id, answer.text, answer.score)
"""

from __future__ import annotations

from medsearch.reader.answers import Answer
from medsearch.reader.metrics import best_scores, exact_match, f1_score, normalize_answer
from medsearch.reader.reader import Reader, ReaderSettings, shipped_model_path
from medsearch.reader.squad import QAExample, Source, parse_source, read_squad, split_by_context

__all__ = [
    "Answer",
    "QAExample",
    "Reader",
    "ReaderSettings",
    "Source",
    "best_scores",
    "exact_match",
    "f1_score",
    "normalize_answer",
    "parse_source",
    "read_squad",
    "shipped_model_path",
    "split_by_context",
]
