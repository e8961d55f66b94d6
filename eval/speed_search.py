"""Search speed: BM25 against rank-bm25, warm latency per mode, and the cold start of a query.

* BM25: medsearch's :class:`BM25Index` (bm25s) and rank-bm25's ``BM25Okapi`` score the same
  corpus and queries, both tokenized with medsearch's :class:`BiomedicalTokenizer`, and
  each returns its top k. Query tokenization is timed on both sides. The two run in
  alternating rounds and each rate is the best round's.
* Latency: :meth:`Index.search` one query at a time per mode, leaving out the first call,
  which loads the encoder and fills caches.
* Cold start: ``medsearch query`` as a new Python process (import, load, one query),
  with the process's own peak resident memory.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medsearch.indexer.bm25 import BM25Index
from medsearch.retriever.index import Index

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BM25Comparison:
    """Queries per second of medsearch BM25 and rank-bm25 on the same corpus and queries,
    and the seconds medsearch took to tokenize and index the corpus (0 when given an index)."""

    documents: int
    queries: int
    k: int
    medsearch_qps: float
    rank_bm25_qps: float
    load_before: float
    load_after: float
    build_seconds: float = 0.0

    @property
    def ratio(self) -> float:
        """medsearch queries/s divided by rank-bm25 queries/s."""
        return self.medsearch_qps / self.rank_bm25_qps


@dataclass(frozen=True)
class Latency:
    """Warm single-query latency of one search mode, in milliseconds."""

    mode: str
    queries: int
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class ColdStart:
    """One ``medsearch query`` process: wall-clock seconds and peak resident memory (0 where unknown)."""

    mode: str
    seconds: float
    peak_rss_mb: float


def compare_bm25(
    texts: Sequence[str], queries: Sequence[str], *, k: int = 10, rounds: int = 2, bm25: BM25Index | None = None
) -> BM25Comparison:
    """Time top-``k`` BM25 search of ``queries`` over ``texts`` in medsearch and rank-bm25.

    Args:
        texts: the corpus, one text per document.
        queries: query texts.
        k: results per query.
        rounds: alternating timing rounds; each rate is the best round's.
        bm25: an index of ``texts`` built with the default settings; built here when ``None``.
    """
    from rank_bm25 import BM25Okapi

    started = time.perf_counter()
    if bm25 is None:
        bm25 = BM25Index.build(texts)
    build_seconds = time.perf_counter() - started
    tokenizer = bm25.tokenizer
    reference = BM25Okapi(tokenizer.tokenize_many(texts))

    def search_rank_bm25(query: str) -> np.ndarray:
        scores = reference.get_scores(tokenizer.tokenize(query))
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        return top[np.argsort(-scores[top])]

    load_before = os.getloadavg()[0]
    best = {"medsearch": 0.0, "rank_bm25": 0.0}
    for _ in range(rounds):
        started = time.perf_counter()
        for query in queries:
            bm25.search(query, k)
        best["medsearch"] = max(best["medsearch"], len(queries) / (time.perf_counter() - started))

        started = time.perf_counter()
        for query in queries:
            search_rank_bm25(query)
        best["rank_bm25"] = max(best["rank_bm25"], len(queries) / (time.perf_counter() - started))
    return BM25Comparison(
        documents=len(texts),
        queries=len(queries),
        k=k,
        medsearch_qps=best["medsearch"],
        rank_bm25_qps=best["rank_bm25"],
        load_before=load_before,
        load_after=os.getloadavg()[0],
        build_seconds=build_seconds,
    )


def measure_latency(index: Index, queries: Sequence[str], modes: Sequence[str], *, k: int = 10) -> list[Latency]:
    """Search each query alone in each mode; return p50 and p95 without each mode's first call.

    Raises:
        ValueError: fewer than 2 queries.
    """
    if len(queries) < 2:
        raise ValueError(f"latency needs at least 2 queries (the first is left out), got {len(queries)}")
    results = []
    for mode in modes:
        times = []
        for query in queries:
            started = time.perf_counter()
            index.search(query, k=k, mode=mode)
            times.append((time.perf_counter() - started) * 1000)
        warm = np.asarray(times[1:])
        results.append(
            Latency(mode=mode, queries=len(warm), p50_ms=float(np.percentile(warm, 50)), p95_ms=float(np.percentile(warm, 95)))
        )
        logger.info("Latency %s: p50 %.1f ms, p95 %.1f ms over %d queries", mode, results[-1].p50_ms, results[-1].p95_ms, len(warm))
    return results


# Runs ``medsearch`` with the arguments given and then writes the process's peak resident
# memory to stderr. VmHWM counts only the new program, while the rusage that wait4 reports
# also counts the forked copy of the parent before exec.
_CHILD_PROGRAM = """
import runpy, sys
sys.argv = ["medsearch", *sys.argv[1:]]
try:
    runpy.run_module("medsearch", run_name="__main__")
finally:
    try:
        with open("/proc/self/status") as status:
            peak = [line.split()[1] for line in status if line.startswith("VmHWM:")]
    except OSError:
        peak = []
    sys.stderr.write(f"\\n{PEAK_MARKER} {peak[0] if peak else 0}\\n")
"""
PEAK_MARKER = "MEDSEARCH_PEAK_KB"


def measure_cold_start(index_dir: Path, query: str, mode: str, *, timeout: float = 300.0) -> ColdStart:
    """Run ``medsearch query QUERY --index INDEX_DIR --mode MODE --json`` as a new Python process and time it.

    The peak resident memory comes from the process's ``VmHWM`` (Linux); elsewhere it is 0.

    Raises:
        RuntimeError: the process fails or runs past ``timeout`` seconds.
    """
    arguments = ["query", query, "--index", str(index_dir), "--mode", mode, "--json"]
    program = _CHILD_PROGRAM.replace("{PEAK_MARKER}", PEAK_MARKER)
    command = [sys.executable, "-c", program, *arguments]
    started = time.perf_counter()
    try:
        finished = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"`medsearch {' '.join(arguments)}` ran past {timeout:.0f} s") from None
    seconds = time.perf_counter() - started
    lines = finished.stderr.decode(errors="replace").splitlines()
    peaks = [int(line.split()[1]) for line in lines if line.startswith(PEAK_MARKER)]
    if finished.returncode != 0:
        messages = "\n".join(line for line in lines if not line.startswith(PEAK_MARKER)).strip()
        raise RuntimeError(
            f"`medsearch {' '.join(arguments)}` failed with exit status {finished.returncode}: {messages}"
        )
    peak_kb = peaks[0] if peaks else 0
    return ColdStart(mode=mode, seconds=seconds, peak_rss_mb=peak_kb / 1024)


def index_bytes(index_dir: Path) -> dict[str, int]:
    """Return bytes on disk per part of an index: ``documents``, ``bm25``, ``dense``, ``other``."""
    parts = {"documents": 0, "bm25": 0, "dense": 0, "other": 0}
    for path in index_dir.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(index_dir)
        if relative.parts[0] == "bm25":
            part = "bm25"
        elif path.name.startswith("documents"):
            part = "documents"
        elif path.suffix in (".faiss", ".npy"):
            part = "dense"
        else:
            part = "other"
        parts[part] += path.stat().st_size
    return parts
