"""The speed benchmark behind ``medsearch bench speed``: every measurement in one process run.

:func:`run_speed` measures, on the bundled SciFact corpus and its test queries, encoding
throughput against plain sentence-transformers, BM25 against rank-bm25, warm latency per
search mode, the cold start of ``medsearch query`` and index size. :func:`run_scale`
measures a synthetic corpus of ``num_docs`` documents built from real PubMed sentences:
memory-mapped BM25, approximate vector search against exact search, and hybrid latency.
:mod:`medsearch.eval.speed_report` formats both as Markdown.
"""

from __future__ import annotations

import logging
import os
import platform
import resource
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from medsearch.data import bundled_corpus_path, bundled_queries_path, read_documents
from medsearch.data.document import Document
from medsearch.errors import MedsearchError
from medsearch.eval.speed_ann import AnnResult, build_ann, evaluate_ann, exact_top_k
from medsearch.eval.speed_encoding import EncodingResult, measure_encoding
from medsearch.eval.speed_scale import ScaleBM25Result, assemble_index, measure_scale_bm25, sentence_pool
from medsearch.eval.speed_search import (
    BM25Comparison,
    ColdStart,
    Latency,
    compare_bm25,
    index_bytes,
    measure_cold_start,
    measure_latency,
)
from medsearch.eval.speed_vectors import index_vectors, pad_with_synthetic
from medsearch.eval.topics import read_queries
from medsearch.indexer.build import build_index
from medsearch.indexer.dense import DenseIndex
from medsearch.indexer.encoder import Encoder
from medsearch.indexer.index_types import resolve_index_spec
from medsearch.retriever.index import MODES, Index

logger = logging.getLogger(__name__)

LATENCY_MODES = ("bm25", "dense", "hybrid")
COLD_START_QUERY = "vitamin D supplementation and fracture risk"


@dataclass(frozen=True)
class Machine:
    """The machine, time and load of one benchmark run."""

    cpu: str
    cores: int
    python: str
    date: str
    load_before: float
    accelerator: str

    @classmethod
    def current(cls) -> Machine:
        """Describe this machine now."""
        return cls(
            cpu=_cpu_model(),
            cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0,
            python=platform.python_version(),
            date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            load_before=os.getloadavg()[0],
            accelerator=_accelerator(),
        )


@dataclass
class SpeedReport:
    """Everything :func:`run_speed` measured; a part that was not run is ``None`` or empty."""

    machine: Machine
    command: str
    encoding: EncodingResult | None = None
    bm25: BM25Comparison | None = None
    latency: list[Latency] = field(default_factory=list)
    cold_starts: list[ColdStart] = field(default_factory=list)
    index_documents: int = 0
    index_parts: dict[str, int] = field(default_factory=dict)
    index_type: str = ""
    peak_rss_mb: float = 0.0
    load_after: float = 0.0


@dataclass
class ScaleReport:
    """Everything :func:`run_scale` measured."""

    machine: Machine
    command: str
    bm25: ScaleBM25Result | None = None
    ann: list[AnnResult] = field(default_factory=list)
    real_vectors: int = 0
    latency: list[Latency] = field(default_factory=list)
    latency_index_type: str = ""
    peak_rss_mb: float = 0.0
    load_after: float = 0.0


def scifact_test_queries() -> list[str]:
    """Return the 300 SciFact test claims bundled with medsearch."""
    return list(read_queries(bundled_queries_path(), split="test").values())


def run_speed(
    *,
    command: str,
    encode_docs: int = 200,
    rounds: int = 2,
    precision: str = "auto",
    index_dir: Path | None = None,
    latency_queries: int = 100,
    skip_encoding: bool = False,
    work_dir: Path | None = None,
) -> SpeedReport:
    """Run the SciFact speed benchmark.

    Args:
        command: the command line, recorded in the report.
        encode_docs: SciFact documents (a seeded random sample) for the encoding comparison,
            and for the index built when ``index_dir`` is ``None``.
        rounds: alternating rounds of each comparison.
        precision: the medsearch encoder's precision (``auto``, ``fp32``, ``bf16``, ``fp16``).
        index_dir: an index to time searches on, e.g. one of the whole SciFact corpus;
            ``None`` builds one over the ``encode_docs`` sample in ``work_dir``.
        latency_queries: test queries timed per mode.
        skip_encoding: leave out the encoding comparison.
        work_dir: where a built index goes; ``None`` uses a temporary directory.
    """
    report = SpeedReport(machine=Machine.current(), command=command)
    documents = list(read_documents(bundled_corpus_path()))
    queries = scifact_test_queries()
    sample = _sample(documents, encode_docs)
    encoder = Encoder(precision=precision)

    if not skip_encoding:
        report.encoding = measure_encoding(sample, encoder, rounds=rounds)

    report.bm25 = compare_bm25([document.text for document in documents], queries, rounds=rounds)

    with tempfile.TemporaryDirectory(dir=work_dir) as scratch:
        if index_dir is None:
            index_dir = Path(scratch) / "index"
            logger.info("Building an index over %d SciFact documents for the search timings", len(sample))
            build_index(sample, index_dir, encoder=encoder)
        index = Index.load(index_dir, encoder=encoder)
        report.index_documents = len(index)
        report.index_type = index.dense.index_type
        report.index_parts = index_bytes(index_dir)
        report.latency = measure_latency(index, queries[: latency_queries + 1], LATENCY_MODES)
        del index
        report.cold_starts = [measure_cold_start(index_dir, COLD_START_QUERY, mode) for mode in ("bm25", "hybrid")]

    report.peak_rss_mb = _peak_rss_mb()
    report.load_after = os.getloadavg()[0]
    return report


def run_scale(
    *,
    command: str,
    num_docs: int,
    pubmed_files: list[Path],
    vectors_index: Path,
    ann_types: tuple[str, ...] = ("ivfpq", "hnsw"),
    latency_type: str = "auto",
    param_grid: tuple[dict[str, float], ...] = (),
    latency_queries: int = 100,
    work_dir: Path | None = None,
) -> ScaleReport:
    """Run the scale benchmark over ``num_docs`` synthetic documents.

    Args:
        command: the command line, recorded in the report.
        num_docs: synthetic documents (BM25) and vectors (dense).
        pubmed_files: PubMed XML files whose abstracts supply the sentences.
        vectors_index: an index with a flat FAISS file whose passage vectors are the real
            part of the vectors (see :mod:`medsearch.eval.speed_vectors`).
        ann_types: approximate index types compared with exact search.
        latency_type: index type of the dense part of the hybrid latency index; an index
            built for ``ann_types`` with the same factory string is reused.
        param_grid: search-parameter settings measured besides each type's defaults; a
            setting applies to the types whose parameters it names.
        latency_queries: test queries timed per mode.
        work_dir: where the BM25 index is written; ``None`` uses a temporary directory.

    Raises:
        MedsearchError: no PubMed file, or no abstract in them.
    """
    if not pubmed_files:
        raise MedsearchError("the scale benchmark needs PubMed XML files for its sentences; pass --pubmed FILE")
    report = ScaleReport(machine=Machine.current(), command=command)
    queries = scifact_test_queries()
    encoder = Encoder()
    pool = sentence_pool(
        document for path in pubmed_files for document in read_documents(path, require_abstract=True)
    )
    if not pool.sentences:
        raise MedsearchError(f"no abstract found in {', '.join(map(str, pubmed_files))}")

    with tempfile.TemporaryDirectory(dir=work_dir) as scratch:
        bm25_dir = Path(scratch)
        report.bm25, corpus, title_rows = measure_scale_bm25(pool, num_docs, queries, bm25_dir)
        del corpus

        real = index_vectors(vectors_index)
        report.real_vectors = min(len(real), num_docs)
        vectors = pad_with_synthetic(real, num_docs)
        del real
        query_vectors = encoder.encode_queries(queries)
        flat, truth = exact_top_k(vectors, query_vectors)
        rows = np.arange(num_docs, dtype=np.int64)
        latency_factory = resolve_index_spec(latency_type, num_vectors=num_docs, dim=vectors.shape[1]).factory
        dense = None
        for index_type in ann_types:
            spec, ann_index, seconds = build_ann(index_type, vectors)
            grid = [params for params in param_grid if _applies(params, spec.search_params)]
            report.ann.extend(evaluate_ann(spec, ann_index, seconds, flat, truth, query_vectors, param_grid=grid))
            if spec.factory == latency_factory:
                dense = DenseIndex(ann_index, rows, spec.factory, spec.search_params, requested_type=spec.requested)
            del ann_index
        del flat

        if dense is None:
            dense = DenseIndex.build(vectors, rows, index_type=latency_type)
        del vectors
        report.latency_index_type = dense.index_type
        index = assemble_index(pool, title_rows, bm25_dir, dense, encoder)
        report.latency = measure_latency(index, queries[: latency_queries + 1], MODES)

    report.peak_rss_mb = _peak_rss_mb()
    report.load_after = os.getloadavg()[0]
    return report


def _applies(params: dict[str, float], defaults: dict[str, float]) -> bool:
    return bool(params) and set(params) <= set(defaults)


def _sample(documents: list[Document], count: int) -> list[Document]:
    if count >= len(documents):
        return documents
    rows = np.sort(np.random.default_rng(0).choice(len(documents), size=count, replace=False))
    return [documents[row] for row in rows.tolist()]


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _accelerator() -> str:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return "none (torch sees no CUDA device)"


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine() or "unknown CPU"
