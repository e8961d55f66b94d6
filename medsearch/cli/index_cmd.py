"""``medsearch index``: build an index from corpus files or the bundled SciFact corpus."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer

from medsearch.cli.app import app, configure_logging, handle_errors
from medsearch.cli.defaults import INDEX_HELP, default_index_path
from medsearch.data import Document, ReadStats, bundled_corpus_path, read_documents
from medsearch.indexer import BM25Config, Encoder, PassageConfig, build_index
from medsearch.indexer.index_types import AUTO_EXACT_MAX_PASSAGES
from medsearch.indexer.manifest import sha256_file

logger = logging.getLogger("medsearch.cli")


@app.command("index")
@handle_errors
def index_command(
    corpus: Annotated[
        Optional[list[Path]],
        typer.Argument(
            help="Corpus files: PubMed/MEDLINE XML (.xml, .xml.gz), JSONL (.jsonl, .jsonl.gz; BEIR "
            "corpus.jsonl layout by default) or Parquet (.parquet). Without any, the bundled "
            "SciFact corpus (5,183 abstracts) is indexed.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help=INDEX_HELP, show_default=False)] = None,
    model: Annotated[
        Optional[str],
        typer.Option(
            help="Bi-encoder: a sentence-transformers model name or local directory. Default: the "
            "bundled all-MiniLM-L6-v2, which needs no network; other names download from the "
            "Hugging Face Hub.",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Passages per encoder forward pass.")] = 32,
    device: Annotated[
        Optional[str], typer.Option(help="Encoder device: cpu or cuda. Default: cuda if available, else cpu.")
    ] = None,
    precision: Annotated[
        str,
        typer.Option(
            help="Encoder arithmetic: auto (fp16 on CUDA, bf16 on CPUs with native bf16 instructions, "
            "else fp32), or fp32, bf16, fp16; fp32 forces full precision."
        ),
    ] = "auto",
    require_abstract: Annotated[
        bool, typer.Option(help="Skip PubMed records without an abstract instead of indexing their title.")
    ] = False,
    id_field: Annotated[str, typer.Option(help="JSONL/Parquet field holding the document id.")] = "_id",
    title_field: Annotated[str, typer.Option(help="JSONL/Parquet field holding the title.")] = "title",
    text_field: Annotated[str, typer.Option(help="JSONL/Parquet field holding the abstract text.")] = "text",
    max_passage_tokens: Annotated[
        Optional[int],
        typer.Option(
            min=16,
            help="Word pieces per passage, title included. Default: the encoder's max_seq_length.",
            show_default=False,
        ),
    ] = None,
    overlap_sentences: Annotated[
        int, typer.Option(min=0, help="Sentences each passage repeats from the previous one.")
    ] = 1,
    bm25_k1: Annotated[float, typer.Option(min=0.0, help="BM25 term-frequency saturation k1.")] = BM25Config.k1,
    bm25_b: Annotated[float, typer.Option(min=0.0, max=1.0, help="BM25 length normalisation b.")] = BM25Config.b,
    index_type: Annotated[
        str,
        typer.Option(
            help="FAISS index of the passage vectors: flat (exact), hnsw, ivfpq, auto (flat up to "
            f"{AUTO_EXACT_MAX_PASSAGES:,} passages, an approximate index above), or a FAISS factory "
            "string such as 'IVF4096,PQ48'."
        ),
    ] = "auto",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing index at --out.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar while encoding.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Build an index: documents in Parquet, BM25, and passage vectors in FAISS."""
    configure_logging(verbose)
    target = out or default_index_path()
    paths = list(corpus) if corpus else [bundled_corpus_path()]
    if not corpus:
        logger.info("No corpus given: indexing the bundled SciFact corpus (%s)", paths[0].name)

    started = time.perf_counter()
    options = {"id_field": id_field, "title_field": title_field, "text_field": text_field}
    inputs = [{"path": str(path), "sha256": sha256_file(path)} for path in _existing(paths)]
    stats = [ReadStats(path=str(path)) for path in paths]
    documents = list(_read_all(paths, stats, require_abstract=require_abstract, **options))
    for stat in stats:
        logger.info(
            "Read %s: %d documents (%d without an abstract)", stat.path, stat.documents, stat.without_abstract
        )

    encoder = Encoder(model, device=device, batch_size=batch_size, precision=precision)
    summary = build_index(
        documents,
        target,
        encoder=encoder,
        bm25_config=BM25Config(k1=bm25_k1, b=bm25_b),
        passage_config=PassageConfig(max_tokens=max_passage_tokens, overlap_sentences=overlap_sentences),
        overwrite=overwrite,
        inputs=[{**entry, "documents": stat.documents} for entry, stat in zip(inputs, stats)],
        show_progress=progress,
        index_type=index_type,
    )
    seconds = time.perf_counter() - started
    typer.echo(
        f"Indexed {summary.documents:,} documents as {summary.passages:,} passages in {seconds:.1f} s "
        f"({summary.documents / seconds:.1f} docs/s); index size {summary.bytes_on_disk / 1e6:.1f} MB "
        f"at {summary.path}"
    )


def _existing(paths: list[Path]) -> list[Path]:
    from medsearch.data.input_file import check_input_path

    return [check_input_path(path) for path in paths]


def _read_all(paths: list[Path], stats: list[ReadStats], **options: object) -> Iterator[Document]:
    for path, stat in zip(paths, stats):
        yield from read_documents(path, stats=stat, **options)  # type: ignore[arg-type]
