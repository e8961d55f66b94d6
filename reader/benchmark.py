"""Measure the reader's warm latency on the top abstracts of an index.

Run as ``python -m medsearch.reader.benchmark --index DIR``. Retrieval runs first and is not
timed; each question's ``Reader.read`` over its top ``k`` abstracts is timed ``repeats`` times
after one untimed warm-up call, and the median and 90th percentile over all calls are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

# Clinical questions of the kind the reader serves; they need not have answers in the corpus.
QUESTIONS = (
    "What is the first-line treatment for type 2 diabetes?",
    "Does vitamin D supplementation reduce the risk of fractures?",
    "Which gene mutations cause cystic fibrosis?",
    "How does aspirin prevent a second stroke?",
    "What is the effect of statins on LDL cholesterol?",
    "Which cells produce insulin?",
    "What causes antibiotic resistance in bacteria?",
    "How is tuberculosis transmitted?",
    "What is the role of DNA methylation in cancer?",
    "Does smoking increase the risk of rheumatoid arthritis?",
)


def measure_latency(index, reader, questions=QUESTIONS, k: int = 5, repeats: int = 3) -> dict[str, float]:
    """Return median and 90th-percentile milliseconds of ``reader.read`` over each question's top ``k``."""
    hits = [index.search(question, k=k, mode="hybrid") for question in questions]
    reader.read(questions[0], hits[0])

    timings = []
    characters = []
    for question, question_hits in zip(questions, hits):
        characters.append(sum(len(hit.document.text) for hit in question_hits))
        for _ in range(repeats):
            started = time.perf_counter()
            reader.read(question, question_hits)
            timings.append((time.perf_counter() - started) * 1000)
    return {
        "questions": len(questions),
        "k": k,
        "calls": len(timings),
        "median_ms": round(statistics.median(timings), 1),
        "p90_ms": round(float(np.percentile(timings, 90)), 1),
        "mean_characters_read": round(statistics.mean(characters)),
    }


def main() -> None:
    import torch

    from medsearch.reader import Reader
    from medsearch.reader.reader import PRECISIONS
    from medsearch.retriever import Index

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, help="index directory (e.g. of the bundled corpus)")
    parser.add_argument("--reader", default=None, help="QA model name or path; default: the shipped reader")
    parser.add_argument("-k", type=int, default=5, help="abstracts read per question")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per question")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS, help="model precision")
    parser.add_argument("--max-length", type=int, default=None, help="tokens per window; default: the reader's")
    parser.add_argument("--stride", type=int, default=None, help="tokens shared by windows; default: the reader's")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads; default: torch's choice")
    arguments = parser.parse_args()

    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    reader = Reader(arguments.reader, precision=arguments.precision, max_length=arguments.max_length, stride=arguments.stride)
    result = measure_latency(Index.load(arguments.index), reader, k=arguments.k, repeats=arguments.repeats)
    result["precision"] = reader.precision
    result["torch_threads"] = torch.get_num_threads()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
