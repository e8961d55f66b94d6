"""Crash safety of a build: chunks saved as it goes, SIGKILL, then --resume."""

from __future__ import annotations

import itertools
import json
import logging
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from medsearch import Document, Index, MedsearchError, build_index, bundled_corpus_path, read_documents
from medsearch.indexer.checkpoint import CHECKPOINT_FILENAME, CHUNKS_DIRNAME, work_directory
from medsearch.indexer.lock import lock_path
from medsearch.indexer.update import _stored_vectors

CHUNK_DOCS = 25
NUM_DOCS = 150
QUERIES = ["DNA methylation", "stem cells in glioma", "vitamin D and bone fractures", "insulin resistance"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[Document]]:
    """The first 150 abstracts of the bundled SciFact corpus as a JSONL file."""
    documents = list(itertools.islice(read_documents(bundled_corpus_path()), NUM_DOCS))
    path = tmp_path_factory.mktemp("corpus") / "scifact-150.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for document in documents:
            handle.write(json.dumps({"_id": document.doc_id, "title": document.title, "text": document.abstract}) + "\n")
    return path, documents


def index_command(corpus: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "medsearch", "index", str(corpus), "--out", str(out),
        "--chunk-docs", str(CHUNK_DOCS), "--precision", "fp32", "--index-type", "flat", "--no-progress", *extra,
    ]


def saved_chunks(out: Path) -> list[Path]:
    return sorted((work_directory(out) / CHUNKS_DIRNAME).glob("chunk-*.npz"))


def kill_after_first_chunk(corpus: Path, out: Path, log: Path) -> int:
    """Start a build in a subprocess, SIGKILL it once its first chunk is saved; return its PID."""
    with log.open("wb") as stderr:
        process = subprocess.Popen(index_command(corpus, out), stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 600
        while not saved_chunks(out):
            assert process.poll() is None, f"the build exited with {process.returncode}: {log.read_text()}"
            assert time.monotonic() < deadline, "no chunk was saved within 600 s"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    return process.pid


def test_sigkill_then_resume_equals_clean_build(corpus, tmp_path, encoder, monkeypatch, caplog):
    corpus_path, documents = corpus
    out = tmp_path / "idx"
    killed_pid = kill_after_first_chunk(corpus_path, out, tmp_path / "killed.log")

    finished = len(saved_chunks(out))
    assert not out.exists()
    assert 1 <= finished < NUM_DOCS // CHUNK_DOCS
    assert (work_directory(out) / CHECKPOINT_FILENAME).is_file()
    assert lock_path(out).is_file()  # left by the killed process, whose flock the kernel released

    monkeypatch.setattr(encoder, "precision", "fp32")
    caplog.set_level(logging.INFO, logger="medsearch")
    with pytest.raises(MedsearchError, match="pass --resume to continue it or --no-resume to discard it"):
        build_index(documents, out, encoder=encoder, chunk_docs=CHUNK_DOCS)
    assert f"left by PID {killed_pid}, which has exited" in caplog.text
    with pytest.raises(MedsearchError, match=r"other input or settings \(different: documents"):
        build_index(documents[:-1], out, encoder=encoder, chunk_docs=CHUNK_DOCS, resume=True)
    assert len(saved_chunks(out)) == finished

    resumed = subprocess.run(index_command(corpus_path, out, "--resume"), capture_output=True, text=True)

    assert resumed.returncode == 0, resumed.stderr
    assert f"{finished} of {NUM_DOCS // CHUNK_DOCS} chunks are already encoded" in resumed.stderr
    encoded = re.search(r"Encoded (\d+) chunks of up to 25 documents in [\d.]+ s; reused (\d+) chunks", resumed.stderr)
    assert encoded, resumed.stderr
    assert int(encoded.group(1)) == NUM_DOCS // CHUNK_DOCS - finished
    assert int(encoded.group(2)) == finished
    assert not work_directory(out).exists()
    assert not lock_path(out).exists()

    clean = tmp_path / "clean"
    build_index(documents, clean, encoder=encoder, chunk_docs=CHUNK_DOCS, index_type="flat")
    after_resume, uninterrupted = Index.load(out, encoder=encoder), Index.load(clean, encoder=encoder)
    assert after_resume.documents.doc_ids == uninterrupted.documents.doc_ids
    rows = list(range(NUM_DOCS))
    assert after_resume.documents.get_many(rows) == uninterrupted.documents.get_many(rows)
    np.testing.assert_array_equal(after_resume.dense.passage_docs, uninterrupted.dense.passage_docs)
    np.testing.assert_allclose(_stored_vectors(after_resume.dense), _stored_vectors(uninterrupted.dense), atol=1e-6)
    for query in QUERIES:
        for mode in ("bm25", "dense", "hybrid"):
            expected = uninterrupted.search(query, k=10, mode=mode)
            actual = after_resume.search(query, k=10, mode=mode)
            assert [hit.doc_id for hit in actual] == [hit.doc_id for hit in expected]
            np.testing.assert_allclose([h.score for h in actual], [h.score for h in expected], atol=1e-5)


def failing_after(encoder, calls: int):
    """An encode_documents that fails after ``calls`` calls, and its call counter."""
    original = type(encoder).encode_documents.__get__(encoder)
    count = {"calls": 0}

    def encode(texts):
        count["calls"] += 1
        if count["calls"] > calls:
            raise RuntimeError("encoder crashed")
        return original(texts)

    return encode, count


def small_corpus(corpus) -> list[Document]:
    return corpus[1][:30]


def test_failed_build_keeps_chunks_for_resume(corpus, tmp_path, encoder, monkeypatch, caplog):
    documents = small_corpus(corpus)
    out = tmp_path / "idx"
    encode, _ = failing_after(encoder, calls=1)
    monkeypatch.setattr(encoder, "encode_documents", encode)

    with pytest.raises(RuntimeError, match="encoder crashed"):
        build_index(documents, out, encoder=encoder, chunk_docs=10)

    assert len(saved_chunks(out)) == 1
    assert "The build stopped with 1 of 3 chunks encoded" in caplog.text
    assert not lock_path(out).exists()

    encode, count = failing_after(encoder, calls=99)
    monkeypatch.setattr(encoder, "encode_documents", encode)
    summary = build_index(documents, out, encoder=encoder, chunk_docs=10, resume=True)

    assert count["calls"] == 2
    assert summary.documents == 30
    assert not work_directory(out).exists()


def test_no_resume_discards_unfinished_build(corpus, tmp_path, encoder, monkeypatch, caplog):
    documents = small_corpus(corpus)
    out = tmp_path / "idx"
    encode, _ = failing_after(encoder, calls=1)
    monkeypatch.setattr(encoder, "encode_documents", encode)
    with pytest.raises(RuntimeError):
        build_index(documents, out, encoder=encoder, chunk_docs=10)

    encode, count = failing_after(encoder, calls=99)
    monkeypatch.setattr(encoder, "encode_documents", encode)
    caplog.set_level(logging.INFO, logger="medsearch")
    build_index(documents, out, encoder=encoder, chunk_docs=10, resume=False)

    assert count["calls"] == 3
    assert "Discarded the unfinished build" in caplog.text


def test_resume_other_settings_named(corpus, tmp_path, encoder, monkeypatch):
    documents = small_corpus(corpus)
    out = tmp_path / "idx"
    encode, _ = failing_after(encoder, calls=1)
    monkeypatch.setattr(encoder, "encode_documents", encode)
    with pytest.raises(RuntimeError):
        build_index(documents, out, encoder=encoder, chunk_docs=10)

    with pytest.raises(MedsearchError, match=r"different: chunk_docs 10 -> 15, chunks 3 -> 2"):
        build_index(documents, out, encoder=encoder, chunk_docs=15, resume=True)


def test_damaged_chunk_encoded_again(corpus, tmp_path, encoder, monkeypatch, caplog):
    documents = small_corpus(corpus)
    out = tmp_path / "idx"
    encode, _ = failing_after(encoder, calls=2)
    monkeypatch.setattr(encoder, "encode_documents", encode)
    with pytest.raises(RuntimeError):
        build_index(documents, out, encoder=encoder, chunk_docs=10)
    first, second = saved_chunks(out)
    first.write_bytes(first.read_bytes()[:100])

    encode, count = failing_after(encoder, calls=99)
    monkeypatch.setattr(encoder, "encode_documents", encode)
    build_index(documents, out, encoder=encoder, chunk_docs=10, resume=True)

    assert count["calls"] == 2  # the damaged first chunk and the never-finished third
    assert "chunk-000000.npz is invalid" in caplog.text


def test_resume_without_unfinished_build_starts_over(corpus, tmp_path, encoder, caplog):
    caplog.set_level(logging.INFO, logger="medsearch")
    summary = build_index(small_corpus(corpus)[:5], tmp_path / "idx", encoder=encoder, resume=True)
    assert summary.documents == 5
    assert "No unfinished build to resume" in caplog.text


def test_resume_and_update_not_combined(tmp_path):
    from typer.testing import CliRunner

    from medsearch.cli import app

    result = CliRunner().invoke(app, ["index", "x.jsonl", "--out", str(tmp_path), "--update", "--resume"])
    assert result.exit_code == 1
    assert "--update cannot be combined with --overwrite, --resume or --no-resume" in result.output


def test_chunk_option_hidden_from_help():
    from typer.testing import CliRunner

    from medsearch.cli import app

    result = CliRunner().invoke(app, ["index", "--help"])
    assert "--resume" in result.output
    assert "--chunk-docs" not in result.output
