"""Clinical text stays on the machine: no network connection, and no document text in logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medsearch import Document, Index, MedsearchError, build_index, read_corpus_file, update_index

TEST_DATA = Path(__file__).resolve().parent / "data"
MARKER = "Zyxwvmarker"

# Runs medsearch commands in one process whose socket functions record the attempt and
# fail, as they would on a machine without network. Prints the attempts and exit codes.
BLOCKED_RUN = r"""
import json, socket, sys

attempts = []

def refuse(name):
    def blocked(*args, **kwargs):
        attempts.append(f"{name} {args!r}"[:300])
        raise OSError(f"network access blocked by the test ({name})")
    return blocked

socket.socket.connect = refuse("socket.connect")
socket.socket.connect_ex = refuse("socket.connect_ex")
socket.socket.sendto = refuse("socket.sendto")
socket.create_connection = refuse("socket.create_connection")
socket.getaddrinfo = refuse("socket.getaddrinfo")

from medsearch.cli import app

codes = []
for arguments in json.loads(sys.argv[1]):
    try:
        result = app(arguments, standalone_mode=False)
        codes.append(result or 0)
    except SystemExit as exit:
        codes.append(exit.code)
print("RESULT " + json.dumps({"attempts": attempts, "codes": codes}))
"""


def reader_available() -> bool:
    try:
        from medsearch.reader import shipped_model_path

        shipped_model_path()
    except (ImportError, MedsearchError):
        return False
    return True


def marker_corpus(path: Path) -> Path:
    records = [
        {"_id": "m1", "title": f"{MARKER} cardiomyopathy in athletes", "text": f"The {MARKER} variant thickens the heart wall."},
        {"_id": "m2", "title": "Statins and muscle pain", "text": "Myalgia was reported by some patients on statins."},
        {"_id": "m3", "title": "Vitamin D and fractures", "text": "Supplements did not prevent fractures in older adults."},
    ]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def test_no_network_and_no_text_in_logs(tmp_path):
    corpus = marker_corpus(tmp_path / "marker.jsonl")
    index = tmp_path / "idx"
    update = TEST_DATA / "pubmed" / "pubmed21n1298-sample.xml.gz"
    commands = [
        ["index", str(corpus), "--out", str(index), "--no-progress"],
        ["index", str(update), "--out", str(index), "--update", "--no-progress"],
        ["verify", "--index", str(index)],
        *[["query", f"{MARKER} heart wall", "--index", str(index), "--mode", mode] for mode in ("bm25", "dense", "hybrid")],
    ]
    if reader_available():
        commands.append(["ask", f"What does the {MARKER} variant do?", "--index", str(index), "-k", "2"])
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"}
    }
    # An empty Hugging Face home: nothing can come from a cache filled by an earlier download.
    environment["HF_HOME"] = str(tmp_path / "hf-home")

    completed = subprocess.run(
        [sys.executable, "-c", BLOCKED_RUN, json.dumps(commands)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=900,
    )

    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.split("RESULT ", 1)[1])
    assert result["codes"] == [0] * len(commands), completed.stderr
    assert result["attempts"] == []
    assert MARKER in completed.stdout  # the query printed the document, so the search did run
    assert MARKER not in completed.stderr  # logs and progress output never show document text


def test_library_logs_no_document_text(tmp_path, encoder, caplog):
    caplog.set_level(logging.DEBUG)
    corpus = read_corpus_file(marker_corpus(tmp_path / "marker.jsonl"))
    revised = read_corpus_file(TEST_DATA / "pubmed" / "pubmed21n1298-sample.xml.gz")
    duplicate = Document("m1", f"{MARKER} revised", f"{MARKER} again")

    build_index([*corpus.documents, duplicate], tmp_path / "idx", encoder=encoder)
    update_index(tmp_path / "idx", [revised], encoder=encoder)
    index = Index.load(tmp_path / "idx", encoder=encoder)
    for mode in ("bm25", "dense", "hybrid"):
        assert index.search(f"{MARKER} revised", k=3, mode=mode)

    above_debug = [record for record in caplog.records if record.levelno > logging.DEBUG]
    assert any("Indexed 3 documents" in record.getMessage() for record in above_debug)
    for record in above_debug:
        assert MARKER not in record.getMessage(), f"{record.name} logged document text at {record.levelname}"


@pytest.mark.parametrize("text", [f"{MARKER} in a title", f"{MARKER}\u0000 with a NUL"])
def test_reader_errors_do_not_quote_text(tmp_path, text):
    from medsearch import InputFormatError, read_documents

    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"_id": "1", "title": text, "text": 5}) + "\n")
    with pytest.raises(InputFormatError) as caught:
        list(read_documents(path))
    assert MARKER not in str(caught.value)
