"""Damaged index files: named in a MedsearchError with the rebuild command, never a traceback.

Also checks that nothing in an index directory is unpickled.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medsearch import Index, MedsearchError, build_index, read_documents
from medsearch.cli import app
from medsearch.errors import IndexFileError
from medsearch.indexer.manifest import MANIFEST_FILENAME, sha256_file

TEST_DATA = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()

INDEX_FILES = [
    "documents.parquet",
    "dense.faiss",
    "passage_docs.npy",
    "bm25/data.csc.index.npy",
    "bm25/indices.csc.index.npy",
    "bm25/indptr.csc.index.npy",
    "bm25/params.index.json",
    "bm25/vocab.index.json",
    "bm25/tokenizer.json",
]


@pytest.fixture(scope="module")
def index_path(tmp_path_factory, encoder) -> Path:
    path = tmp_path_factory.mktemp("integrity") / "idx"
    documents = list(read_documents(TEST_DATA / "scifact-50.jsonl"))[:20]
    build_index(documents, path, encoder=encoder, index_type="flat")
    return path


@pytest.fixture
def copy(index_path, tmp_path) -> Path:
    target = tmp_path / "idx"
    shutil.copytree(index_path, target)
    return target


def flip_byte(path: Path, offset: int) -> None:
    """Change one byte in place, keeping the file size."""
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0xFF
    path.write_bytes(bytes(data))


def record_in_manifest(index: Path, name: str) -> None:
    """Make the manifest match a replaced file, as an attacker with write access could."""
    manifest = json.loads((index / MANIFEST_FILENAME).read_text())
    path = index / name
    manifest["files"][name] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
    (index / MANIFEST_FILENAME).write_text(json.dumps(manifest))


def test_verify_intact_index(index_path):
    result = runner.invoke(app, ["verify", "--index", str(index_path)])
    assert result.exit_code == 0, result.output
    assert f"Index {index_path} is intact: 9 files" in result.output
    assert "match their SHA-256 checksums; 20 documents" in result.output


@pytest.mark.parametrize("name", INDEX_FILES)
def test_verify_names_altered_file(copy, name):
    flip_byte(copy / name, offset=(copy / name).stat().st_size // 2)

    result = runner.invoke(app, ["verify", "--index", str(copy)])

    assert result.exit_code == 1
    message = result.output.strip()
    assert message.startswith("Error: 1 index files are damaged or altered")
    assert f"{copy / name} has another SHA-256 than the manifest records" in message
    assert f"medsearch index CORPUS... --out {copy} --overwrite" in message
    assert "Traceback" not in result.output


def test_verify_lists_every_damaged_file(copy):
    flip_byte(copy / "dense.faiss", offset=500)
    (copy / "passage_docs.npy").write_bytes(b"")
    result = runner.invoke(app, ["verify", "--index", str(copy)])
    assert result.exit_code == 1
    assert "2 index files are damaged or altered" in result.output
    assert "dense.faiss has another SHA-256" in result.output
    assert "passage_docs.npy has 0 bytes" in result.output


def test_load_with_verify_names_file(copy):
    flip_byte(copy / "dense.faiss", offset=-1)
    Index.load(copy)  # The last float changed and the structure is intact, so only the checksum detects it.
    with pytest.raises(IndexFileError, match=r"dense\.faiss has another SHA-256"):
        Index.load(copy, verify=True)


@pytest.mark.parametrize("name", INDEX_FILES)
@pytest.mark.parametrize("where", ["header", "middle", "end"])
def test_same_size_damage_never_crashes(copy, encoder, name, where):
    path = copy / name
    size = path.stat().st_size
    offset = {"header": min(10, size - 1), "middle": size // 2, "end": size - 1}[where]
    flip_byte(path, offset)

    try:
        index = Index.load(copy, encoder=encoder)
        for mode in ("bm25", "dense", "hybrid"):
            index.search("DNA methylation in blood cells", k=5, mode=mode)
    except MedsearchError as error:
        assert str(copy) in str(error)
        assert "rebuild the index with `medsearch index CORPUS... --out" in str(error)


@pytest.mark.parametrize(
    ("name", "offset"),
    [
        ("dense.faiss", 40),  # the vector count: FAISS would allocate what it claims
        ("dense.faiss", 5),  # the dimension
        ("passage_docs.npy", 60),  # the shape in the .npy header
        ("bm25/indices.csc.index.npy", 200),  # a posting's document row
        ("bm25/indptr.csc.index.npy", 200),  # a column pointer
    ],
)
def test_structural_damage_named_at_load(copy, name, offset):
    flip_byte(copy / name, offset)
    with pytest.raises(IndexFileError, match=re.escape(name.split("/")[-1])):
        Index.load(copy)


def test_cli_query_on_damaged_index(copy):
    flip_byte(copy / "passage_docs.npy", offset=60)
    result = runner.invoke(app, ["query", "insulin", "--index", str(copy), "--mode", "bm25"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1
    assert "passage_docs.npy" in lines[0]
    assert "--overwrite" in lines[0]


def test_cli_query_on_truncated_index(copy):
    path = copy / "bm25" / "vocab.index.json"
    path.write_bytes(path.read_bytes()[:50])
    result = runner.invoke(app, ["query", "insulin", "--index", str(copy), "--mode", "bm25"])
    assert result.exit_code == 1
    assert f"index file {path} has 50 bytes" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(files={"../../etc/passwd": {"bytes": 1, "sha256": "0"}}), "points outside the index"),
        (lambda m: m.update(counts=[]), "'counts' is not an object"),
        (lambda m: m["files"].update({"dense.faiss": {"bytes": "many"}}), "lacks its size or SHA-256"),
        (lambda m: m["bm25"].update(k1="high"), "BM25 settings in the manifest"),
    ],
    ids=["path-traversal", "counts-type", "file-entry", "bm25-settings"],
)
def test_altered_manifest_rejected(copy, change, message):
    manifest = json.loads((copy / MANIFEST_FILENAME).read_text())
    change(manifest)
    (copy / MANIFEST_FILENAME).write_text(json.dumps(manifest))
    with pytest.raises(IndexFileError, match=message):
        Index.load(copy)


# --- no pickle ---------------------------------------------------------------------------


class Payload:
    """Unpickling this creates a marker file: proof that a loader ran code from the index."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


@pytest.mark.parametrize("name", ["passage_docs.npy", "bm25/indices.csc.index.npy", "bm25/data.csc.index.npy"])
@pytest.mark.parametrize("verify", [False, True])
def test_planted_pickle_rejected(copy, tmp_path, name, verify):
    marker = tmp_path / "pickle-was-loaded"
    np.save(copy / name, np.array([Payload(marker)], dtype=object), allow_pickle=True)
    record_in_manifest(copy, name)

    with pytest.raises(IndexFileError, match=re.escape(name.split("/")[-1])):
        Index.load(copy, verify=verify)

    assert not marker.exists()


def test_no_loader_allows_pickle():
    """No module that reads index files may unpickle: audit the source for the usual entry points."""
    forbidden = re.compile(r"allow_pickle\s*=\s*True|import pickle|pickle\.load|torch\.load|joblib|dill")
    for folder in ("indexer", "retriever"):
        for source in (REPO / folder).glob("*.py"):
            assert not forbidden.search(source.read_text()), f"{source} may load a pickle"
