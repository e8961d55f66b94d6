"""Markdown tables for the speed and scale benchmarks, with each target and whether it was met."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata

from medsearch.eval.speed import Machine, ScaleReport, SpeedReport
from medsearch.eval.speed_search import Latency

SPEED_HEADING = "Speed"
SCALE_HEADING = "Speed at scale"
REPORTED_PACKAGES = ("medsearch", "torch", "sentence-transformers", "transformers", "faiss-cpu", "bm25s", "rank-bm25")

# The targets the benchmark reports against.
ENCODING_RATIO_TARGET = 3.0
BM25_RATIO_TARGET = 50.0
SCALE_DOCUMENTS_TARGET = 1_000_000
SCALE_BM25_QPS_TARGET = 50.0
ANN_RECALL_TARGET = 0.95
ANN_SPEEDUP_TARGET = 10.0
HYBRID_P50_MS_TARGET = 15.0
SCALE_HYBRID_P50_MS_TARGET = 30.0


def format_speed(report: SpeedReport) -> str:
    """Return the Markdown of a :func:`run_speed` report: machine, tables and targets."""
    parts = [_machine(report.machine, report.command, report.load_after)]
    targets: list[list[str]] = []

    if report.encoding is not None:
        encoding = report.encoding
        parts.append(
            f"Encoding: {encoding.documents:,} SciFact documents per round, {len(encoding.plain_rates)} "
            f"alternating rounds (1-minute load {encoding.load_before:.1f} before, {encoding.load_after:.1f} after).\n\n"
            + table(
                ["encoder", "texts encoded", "docs/s (median)", "docs/s per round"],
                [
                    ["plain SentenceTransformer.encode (fp32, batch 32, truncated)", f"{encoding.documents:,}",
                     f"{encoding.plain_docs_per_second:.1f}", _rates(encoding.plain_rates)],
                    [f"medsearch passages ({encoding.precision})", f"{encoding.passages:,} passages",
                     f"{encoding.medsearch_docs_per_second:.1f}", _rates(encoding.medsearch_rates)],
                ],
            )
        )
        targets.append(_target(f"encoding >= {ENCODING_RATIO_TARGET:g}x plain docs/s", f"{encoding.ratio:.2f}x",
                               encoding.ratio >= ENCODING_RATIO_TARGET))

    if report.bm25 is not None:
        bm25 = report.bm25
        parts.append(
            f"BM25 top {bm25.k} over {bm25.documents:,} SciFact documents, {bm25.queries} test queries, both "
            f"tokenized by medsearch (load {bm25.load_before:.1f} before, {bm25.load_after:.1f} after).\n\n"
            + table(
                ["engine", "queries/s"],
                [["medsearch (bm25s)", f"{bm25.medsearch_qps:,.0f}"],
                 ["rank-bm25 BM25Okapi.get_scores + top k", f"{bm25.rank_bm25_qps:,.1f}"]],
            )
            + f"\n\nmedsearch tokenized and indexed the {bm25.documents:,} documents in {bm25.build_seconds:.1f} s."
        )
        targets.append(_target(f"BM25 >= {BM25_RATIO_TARGET:g}x rank-bm25 q/s", f"{bm25.ratio:.0f}x",
                               bm25.ratio >= BM25_RATIO_TARGET))

    if report.latency:
        parts.append(
            f"Warm latency, one query per call, first call left out; index of {report.index_documents:,} "
            f"documents, dense index {report.index_type}.\n\n" + _latency_table(report.latency)
        )
        hybrid = _mode(report.latency, "hybrid")
        if hybrid is not None:
            targets.append(_target(f"hybrid p50 <= {HYBRID_P50_MS_TARGET:g} ms warm ({report.index_documents:,} docs)",
                                   f"{hybrid.p50_ms:.1f} ms", hybrid.p50_ms <= HYBRID_P50_MS_TARGET))

    if report.cold_starts:
        parts.append(
            "Cold start of `medsearch query` as a new process (import, load, one query) and its peak "
            "resident memory.\n\n"
            + table(
                ["mode", "seconds", "peak RSS (MB)"],
                [[cold.mode, f"{cold.seconds:.2f}", f"{cold.peak_rss_mb:,.0f}"] for cold in report.cold_starts],
            )
        )

    if report.index_parts:
        total = sum(report.index_parts.values())
        documents = max(report.index_documents, 1)
        rows = [[part, f"{size:,}", f"{size / documents:,.0f}"] for part, size in report.index_parts.items()]
        rows.append(["total", f"{total:,}", f"{total / documents:,.0f}"])
        parts.append("Index size on disk.\n\n" + table(["part", "bytes", "bytes per document"], rows))

    parts.append(f"Peak resident memory of the benchmark process: {report.peak_rss_mb:,.0f} MB.")
    if targets:
        parts.append(table(["target", "measured", "met"], targets))
    return "\n\n".join(parts) + "\n"


def format_scale(report: ScaleReport) -> str:
    """Return the Markdown of a :func:`run_scale` report: machine, tables and targets."""
    parts = [_machine(report.machine, report.command, report.load_after)]
    targets: list[list[str]] = []
    full_scale = report.bm25 is not None and report.bm25.documents >= SCALE_DOCUMENTS_TARGET
    scale_note = "" if full_scale else f" (measured below {SCALE_DOCUMENTS_TARGET:,} documents)"

    if report.bm25 is not None:
        bm25 = report.bm25
        parts.append(
            f"BM25 over {bm25.documents:,} synthetic documents of real PubMed sentences, built from token ids "
            "(so the build time leaves out tokenization) and loaded memory-mapped; "
            f"{bm25.queries} SciFact test queries, top 10 (load {bm25.load_average:.1f}).\n\n"
            + table(
                ["documents", "build (s)", "on disk (MB)", "bytes per document", "load (s)", "queries/s"],
                [[f"{bm25.documents:,}", f"{bm25.build_seconds:.0f}", f"{bm25.bytes_on_disk / 1e6:,.0f}",
                  f"{bm25.bytes_on_disk / bm25.documents:,.0f}", f"{bm25.load_seconds:.2f}",
                  f"{bm25.queries_per_second:,.0f}"]],
            )
        )
        targets.append(_target(f"BM25 >= {SCALE_BM25_QPS_TARGET:g} q/s memory-mapped at 1M docs{scale_note}",
                               f"{bm25.queries_per_second:,.0f} q/s", bm25.queries_per_second >= SCALE_BM25_QPS_TARGET))

    if report.ann:
        first = report.ann[0]
        parts.append(
            f"Approximate search over {first.num_vectors:,} vectors ({report.real_vectors:,} real all-MiniLM-L6-v2 "
            "SciFact passage vectors, the rest synthetic), recall@10 against exact search over the SciFact "
            "queries, one query per call on one FAISS thread.\n\n"
            + table(
                ["index", "search params", "build (s)", "bytes/vector", "recall@10", "q/s", "exact q/s", "speedup"],
                [[result.factory, _params(result.search_params), f"{result.build_seconds:.0f}",
                  f"{result.bytes_per_vector:,.0f}", f"{result.recall_at_10:.4f}", f"{result.queries_per_second:,.0f}",
                  f"{result.exact_queries_per_second:,.1f}", f"{result.speedup:.1f}x"] for result in report.ann],
            )
        )
        meeting = [r for r in report.ann if r.recall_at_10 >= ANN_RECALL_TARGET and r.speedup >= ANN_SPEEDUP_TARGET]
        best = max(report.ann, key=lambda r: (r.recall_at_10 >= ANN_RECALL_TARGET, r.speedup))
        reported = meeting[0] if meeting else best
        targets.append(_target(
            f"ANN recall@10 >= {ANN_RECALL_TARGET} at >= {ANN_SPEEDUP_TARGET:g}x exact at 1M vectors{scale_note}",
            f"{reported.factory}: {reported.recall_at_10:.3f} at {reported.speedup:.1f}x", bool(meeting)))

    if report.latency:
        parts.append(
            f"Warm latency on the synthetic index (dense index {report.latency_index_type}, BM25 memory-mapped), "
            "one query per call, first call left out.\n\n" + _latency_table(report.latency)
        )
        hybrid = _mode(report.latency, "hybrid")
        if hybrid is not None:
            targets.append(_target(f"hybrid p50 <= {SCALE_HYBRID_P50_MS_TARGET:g} ms at 1M docs{scale_note}",
                                   f"{hybrid.p50_ms:.1f} ms", hybrid.p50_ms <= SCALE_HYBRID_P50_MS_TARGET))

    parts.append(f"Peak resident memory of the benchmark process: {report.peak_rss_mb:,.0f} MB.")
    if targets:
        parts.append(table(["target", "measured", "met"], targets))
    return "\n\n".join(parts) + "\n"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Format a Markdown table; every column after the first is right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def package_versions() -> str:
    """Return ``name version`` of each package in :data:`REPORTED_PACKAGES`, comma-separated."""
    versions = []
    for name in REPORTED_PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return ", ".join(versions)


def _machine(machine: Machine, command: str, load_after: float) -> str:
    return (
        f"`{command}`\n\n"
        f"{machine.date}; {machine.cpu}, {machine.cores} cores; 1-minute load average {machine.load_before:.1f} "
        f"at the start and {load_after:.1f} at the end (the benchmark's own threads count in it); Python {machine.python}; "
        f"{package_versions()}; GPU: {machine.accelerator}."
    )


def _latency_table(latency: Sequence[Latency]) -> str:
    return table(
        ["mode", "queries", "p50 (ms)", "p95 (ms)"],
        [[entry.mode, str(entry.queries), f"{entry.p50_ms:.1f}", f"{entry.p95_ms:.1f}"] for entry in latency],
    )


def _mode(latency: Sequence[Latency], mode: str) -> Latency | None:
    return next((entry for entry in latency if entry.mode == mode), None)


def _target(name: str, measured: str, met: bool) -> list[str]:
    return [name, measured, "yes" if met else "no"]


def _rates(rates: Sequence[float]) -> str:
    return ", ".join(f"{rate:.1f}" for rate in rates)


def _params(params: dict[str, float]) -> str:
    return ",".join(f"{name}={value}" for name, value in params.items()) or "-"
