"""``medsearch index``: build an index from corpus files or the bundled SciFact corpus, or update one."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from medsearch.cli.app import app, configure_logging, handle_errors
from medsearch.cli.defaults import INDEX_HELP, default_index_path
from medsearch.data import bundled_corpus_path
from medsearch.errors import MedsearchError
from medsearch.indexer import BM25Config, Encoder, PassageConfig, build_index
from medsearch.indexer.changes import CorpusFile, apply_changes, read_corpus_file
from medsearch.indexer.index_types import AUTO_EXACT_MAX_PASSAGES
from medsearch.indexer.manifest import Manifest, sha256_file
from medsearch.indexer.passage_vectors import ENCODE_CHUNK_DOCS
from medsearch.indexer.update import UpdateSummary, applied_input, update_index

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
            "else fp32), or fp32, bf16, fp16; fp32 forces full precision. --update uses the index's "
            "precision instead."
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
    update: Annotated[
        bool,
        typer.Option(
            help="Apply CORPUS to the existing index at --out instead of building a new one: add new "
            "documents, replace those whose id exists (the newest version wins), and delete the PMIDs "
            "of PubMed DeleteCitation blocks. Files applied before (same SHA-256) are skipped. Only new "
            "and changed documents are encoded, with the index's model and precision."
        ),
    ] = False,
    resume: Annotated[
        Optional[bool],
        typer.Option(
            "--resume/--no-resume",
            help="--resume continues a build of --out that was killed or failed, without encoding "
            "its finished chunks again (same CORPUS and options needed); --no-resume discards it. "
            "Default: stop with an error if such a build exists.",
            show_default=False,
        ),
    ] = None,
    chunk_docs: Annotated[
        int, typer.Option(min=1, hidden=True, help="Documents encoded, and saved for --resume, per chunk.")
    ] = ENCODE_CHUNK_DOCS,
    progress: Annotated[bool, typer.Option(help="Show a progress bar while encoding.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Build an index: documents in Parquet, BM25, and passage vectors in FAISS; or update one."""
    configure_logging(verbose)
    target = out or default_index_path()
    reader_options = {
        "id_field": id_field,
        "title_field": title_field,
        "text_field": text_field,
        "require_abstract": require_abstract,
    }
    if update:
        if not corpus:
            raise MedsearchError("--update needs the corpus files to apply, such as PubMed update files")
        if overwrite or resume is not None:
            raise MedsearchError("--update cannot be combined with --overwrite, --resume or --no-resume")
        _update(
            target,
            corpus,
            reader_options,
            model=model,
            device=device,
            batch_size=batch_size,
            chunk_docs=chunk_docs,
            progress=progress,
        )
        return

    paths = list(corpus) if corpus else [bundled_corpus_path()]
    if not corpus:
        logger.info("No corpus given: indexing the bundled SciFact corpus (%s)", paths[0].name)

    started = time.perf_counter()
    files = [read_corpus_file(path, **reader_options) for path in paths]
    documents = apply_changes([], files).documents

    encoder = Encoder(model, device=device, batch_size=batch_size, precision=precision)
    summary = build_index(
        documents,
        target,
        encoder=encoder,
        bm25_config=BM25Config(k1=bm25_k1, b=bm25_b),
        passage_config=PassageConfig(max_tokens=max_passage_tokens, overlap_sentences=overlap_sentences),
        overwrite=overwrite,
        inputs=[corpus_file.manifest_entry() for corpus_file in files],
        show_progress=progress,
        resume=resume,
        chunk_docs=chunk_docs,
        index_type=index_type,
    )
    seconds = time.perf_counter() - started
    typer.echo(
        f"Indexed {summary.documents:,} documents as {summary.passages:,} passages in {seconds:.1f} s "
        f"({summary.documents / seconds:.1f} docs/s); index size {summary.bytes_on_disk / 1e6:.1f} MB "
        f"at {summary.path}"
    )


def _update(
    target: Path,
    paths: list[Path],
    reader_options: dict[str, Any],
    *,
    model: str | None,
    device: str | None,
    batch_size: int,
    chunk_docs: int,
    progress: bool,
) -> None:
    manifest = Manifest.read(target)
    files: list[CorpusFile] = []
    for path in paths:
        digest = sha256_file(path) if path.is_file() else None
        entry = applied_input(manifest, digest) if digest else None
        if entry is not None:
            when = f" on {entry['applied']}" if entry.get("applied") else ""
            typer.echo(f"Skipped {path}: a file with the same SHA-256 was already applied to {target}{when}")
            continue
        files.append(read_corpus_file(path, sha256=digest, **reader_options))
    if not files:
        typer.echo(f"Nothing to update: every input file was applied to {target} before; the index is unchanged")
        return

    encoder = Encoder(
        model or manifest.encoder["name"],
        device=device,
        batch_size=batch_size,
        precision=manifest.encoder.get("precision", "fp32"),
    )
    summary = update_index(target, files, encoder=encoder, chunk_docs=chunk_docs, show_progress=progress)
    typer.echo(_update_message(summary))


def _update_message(summary: UpdateSummary) -> str:
    if not summary.changed:
        return f"Nothing to update: every input file was applied to {summary.path} before; the index is unchanged"
    counts = summary.counts
    return (
        f"Updated {summary.path} in {summary.seconds:.1f} s: {counts.added:,} documents added, "
        f"{counts.replaced:,} replaced, {counts.deleted:,} deleted ({counts.deletions_not_found:,} deleted ids "
        f"were not in the index); encoded {summary.encoded_documents:,} new or changed documents. "
        f"The index holds {summary.documents:,} documents as {summary.passages:,} passages"
    )
