"""Evaluate a reader on SQuAD-format data: with the gold context, or end to end after retrieval.

Scores are SQuAD exact match and F1 in percent (see :mod:`medsearch.reader.metrics`), next to the
sentence-overlap baseline of :mod:`medsearch.reader.baseline` on the same questions.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medsearch.data import Document
from medsearch.errors import MedsearchError
from medsearch.reader.baseline import baseline_answer
from medsearch.reader.metrics import best_scores
from medsearch.reader.reader import Reader
from medsearch.reader.squad import QAExample

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaderScores:
    """EM and F1 (percent) of a reader and of the baseline on ``questions`` questions.

    ``retrieval_recall`` (end to end only) is the percentage of questions whose gold context was
    among the retrieved documents; ``seconds`` is the reader's wall time.
    """

    setting: str
    questions: int
    exact_match: float
    f1: float
    baseline_exact_match: float
    baseline_f1: float
    seconds: float
    retrieval_recall: float | None = None


@dataclass(frozen=True)
class Prediction:
    """The reader's best span for one question: ``text`` is "" when it found none."""

    example_id: str
    text: str
    score: float


def predict(
    reader: Reader,
    examples: list[QAExample],
    passages: list[list[tuple[str, str]]] | None = None,
    show_progress: bool = False,
) -> list[Prediction]:
    """Return the best span for each example, ignoring the no-answer threshold.

    ``passages`` gives each example's (doc_id, text) passages; the default is its gold context.
    """
    if passages is None:
        passages = [[(example.context_id, example.context)] for example in examples]
    requests = [(example.question, example_passages) for example, example_passages in zip(examples, passages)]
    answers = reader.read_many(requests, top_k=1, threshold=-math.inf, show_progress=show_progress)
    return [
        Prediction(example.example_id, found[0].text, found[0].score)
        if found
        else Prediction(example.example_id, "", -math.inf)
        for example, found in zip(examples, answers)
    ]


def score_predictions(
    examples: list[QAExample], predictions: list[Prediction], threshold: float = -math.inf
) -> tuple[float, float]:
    """Return mean EM and F1 in percent; a prediction scoring below ``threshold`` counts as "no answer"."""
    if not examples:
        return 0.0, 0.0
    totals = np.zeros(2)
    for example, prediction in zip(examples, predictions):
        text = prediction.text if prediction.score >= threshold else ""
        totals += best_scores(text, [answer for answer, _ in example.answers])
    return float(100 * totals[0] / len(examples)), float(100 * totals[1] / len(examples))


def baseline_scores(examples: list[QAExample]) -> tuple[float, float]:
    """Return EM and F1 (percent) of the sentence-overlap baseline with the gold context."""
    predictions = []
    for example in examples:
        start, end = baseline_answer(example.question, example.context)
        predictions.append(Prediction(example.example_id, example.context[start:end], 0.0))
    return score_predictions(examples, predictions)


def evaluate_gold_context(
    reader: Reader, examples: list[QAExample], setting: str, show_progress: bool = False
) -> ReaderScores:
    """Read each question's gold context (long contexts in windows) and score the best span.

    The no-answer threshold is not applied: every question gets the best span found.
    """
    started = time.perf_counter()
    predictions = predict(reader, examples, show_progress=show_progress)
    seconds = time.perf_counter() - started

    exact, f1 = score_predictions(examples, predictions)
    baseline_exact, baseline_f1 = baseline_scores(examples)
    logger.info("%s: EM %.1f F1 %.1f on %d questions in %.0f s", setting, exact, f1, len(examples), seconds)
    return ReaderScores(setting, len(examples), exact, f1, baseline_exact, baseline_f1, round(seconds, 1))


def evaluate_end_to_end(
    reader: Reader,
    examples: list[QAExample],
    index: Any,
    setting: str,
    k: int = 5,
    mode: str = "hybrid",
    show_progress: bool = False,
) -> ReaderScores:
    """Retrieve ``k`` documents per question from ``index``, read them and score the best span.

    ``index`` is a :class:`medsearch.Index` whose doc_ids are the examples' ``context_id``
    (see :func:`context_documents`). The baseline reads the top retrieved document.
    """
    hits = index.search_many([example.question for example in examples], k=k, mode=mode, show_progress=show_progress)
    passages = [[(hit.doc_id, hit.document.text) for hit in example_hits] for example_hits in hits]
    found = sum(example.context_id in {doc_id for doc_id, _ in passage} for example, passage in zip(examples, passages))

    started = time.perf_counter()
    predictions = predict(reader, examples, passages=passages, show_progress=show_progress)
    seconds = time.perf_counter() - started

    baseline_predictions = []
    for example, passage in zip(examples, passages):
        text = passage[0][1] if passage else ""
        start, end = baseline_answer(example.question, text)
        baseline_predictions.append(Prediction(example.example_id, text[start:end], 0.0))

    exact, f1 = score_predictions(examples, predictions)
    baseline_exact, baseline_f1 = score_predictions(examples, baseline_predictions)
    recall = 100 * found / len(examples) if examples else 0.0
    logger.info("%s: EM %.1f F1 %.1f, gold context retrieved for %.1f%%", setting, exact, f1, recall)
    return ReaderScores(
        setting, len(examples), exact, f1, baseline_exact, baseline_f1, round(seconds, 1), retrieval_recall=recall
    )


def evaluate_sources(
    reader: Reader,
    specs: list[str],
    *,
    end_to_end: bool = False,
    k: int = 5,
    mode: str = "hybrid",
    seed: int = 0,
    show_progress: bool = False,
) -> list[ReaderScores]:
    """Score ``reader`` on each SQuAD-format source spec (``PATH[@questions=N,split=...]``).

    Every spec is scored with the gold context. With ``end_to_end`` it is also scored after
    retrieval. All contexts of the file are then indexed in a temporary folder, not only those of
    the selected questions, so that retrieval meets distractors. The top ``k`` documents of
    ``mode`` are read per question.

    Raises:
        MedsearchError: for a spec that is not valid or a mode that is not a retrieval mode.
        InputFormatError: for a file that is not SQuAD JSON.
    """
    from medsearch.reader.squad import load_source, parse_source

    if mode not in ("bm25", "dense", "hybrid"):
        raise MedsearchError(f"unknown retrieval mode {mode!r}; choose one of bm25, dense, hybrid")
    sources = [parse_source(spec) for spec in specs]
    scores = []
    for source, spec in zip(sources, specs):
        examples, _ = load_source(source, seed=seed)
        scores.append(evaluate_gold_context(reader, examples, setting=f"{spec} (gold context)", show_progress=show_progress))
        if end_to_end:
            scores.append(_end_to_end_on_file(reader, source, examples, spec, k=k, mode=mode, show_progress=show_progress))
    return scores


def _end_to_end_on_file(
    reader: Reader, source: Any, examples: list[QAExample], spec: str, *, k: int, mode: str, show_progress: bool
) -> ReaderScores:
    from medsearch.indexer import build_index
    from medsearch.reader.squad import read_squad
    from medsearch.retriever import Index

    documents = context_documents(read_squad(source.path))
    with tempfile.TemporaryDirectory(prefix="medsearch-eval-reader-") as folder:
        build_index(documents, Path(folder) / "index", show_progress=show_progress)
        index = Index.load(Path(folder) / "index")
        return evaluate_end_to_end(
            reader,
            examples,
            index,
            setting=f"{spec} (top {k} {mode}, {len(documents)} contexts)",
            k=k,
            mode=mode,
            show_progress=show_progress,
        )


def context_documents(examples: list[QAExample]) -> list[Document]:
    """Return one :class:`Document` per distinct context (doc_id = ``context_id``, no title)."""
    documents: dict[str, Document] = {}
    for example in examples:
        documents.setdefault(example.context_id, Document(doc_id=example.context_id, title="", abstract=example.context))
    return list(documents.values())


def choose_threshold(examples: list[QAExample], predictions: list[Prediction]) -> tuple[float, float]:
    """Return the no-answer threshold that maximises F1, and that F1 (percent).

    Meant for data with unanswerable questions (SQuAD 2.0 layout): a question is answered when its
    best span scores at least the threshold. Candidates are -inf and every predicted score; ties
    keep the lowest threshold.
    """
    order = sorted(range(len(examples)), key=lambda index: -predictions[index].score)
    # Threshold above every score: only unanswerable questions score.
    total = sum(1.0 for example in examples if example.is_impossible)
    best_threshold, best_total = math.inf, total
    for index in order:
        example, prediction = examples[index], predictions[index]
        golds = [answer for answer, _ in example.answers]
        _, answered_f1 = best_scores(prediction.text, golds)
        _, unanswered_f1 = best_scores("", golds)
        total += answered_f1 - unanswered_f1
        if total >= best_total:
            best_threshold, best_total = prediction.score, total
    return best_threshold, 100 * best_total / max(1, len(examples))


def write_scores_table(scores: list[ReaderScores], path: str | Path | None = None) -> str:
    """Format scores as a Markdown table (and write it to ``path`` when given)."""
    lines = [
        "| setting | questions | EM | F1 | baseline EM | baseline F1 | gold context retrieved | reader seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for score in scores:
        recall = f"{score.retrieval_recall:.1f}%" if score.retrieval_recall is not None else "-"
        lines.append(
            f"| {score.setting} | {score.questions} | {score.exact_match:.1f} | {score.f1:.1f} | "
            f"{score.baseline_exact_match:.1f} | {score.baseline_f1:.1f} | {recall} | {score.seconds:.0f} |"
        )
    table = "\n".join(lines) + "\n"
    if path is not None:
        Path(path).write_text(table, encoding="utf-8")
    return table
