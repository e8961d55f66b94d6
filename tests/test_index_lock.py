"""One writer per index, stale locks, and readers while a build replaces the index."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medsearch import Document, Index, build_index, read_corpus_file, update_index
from medsearch.cli import app
from medsearch.errors import IndexLockedError
from medsearch.indexer import swap
from medsearch.indexer.lock import IndexLock, lock_path

TEST_DATA = Path(__file__).resolve().parent / "data"

HOLD_LOCK = """
import sys, time
from medsearch.indexer.lock import IndexLock
lock = IndexLock(sys.argv[1])
lock.acquire()
print("locked", flush=True)
time.sleep(120)
"""

VERSION_A = [Document("a1", "Aspirin", "Aspirin lowers fever."), Document("a2", "Asthma", "Inhalers help.")]
VERSION_B = [Document("b1", "Beta blockers", "They slow the heart."), Document("b2", "Bone", "Calcium helps.")]


@pytest.fixture
def lock_holder(tmp_path):
    """A separate process that holds the writer lock of ``tmp_path / "idx"``."""
    target = tmp_path / "idx"
    process = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(target)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    yield target, process
    process.kill()
    process.wait()


def test_second_writer_gets_holder_pid(lock_holder, encoder):
    target, holder = lock_holder
    with pytest.raises(IndexLockedError, match=rf"index .*idx is locked by PID {holder.pid}, which is building"):
        build_index(VERSION_A, target, encoder=encoder)
    assert not target.exists()


def test_update_while_locked(lock_holder, encoder, tmp_path):
    target, holder = lock_holder
    corpus_file = read_corpus_file(TEST_DATA / "pubmed" / "pubmed21n1298-sample.xml.gz")
    with pytest.raises(IndexLockedError, match=f"locked by PID {holder.pid}"):
        update_index(target, [corpus_file], encoder=encoder)


def test_cli_second_writer_message(lock_holder):
    target, holder = lock_holder
    result = CliRunner().invoke(
        app, ["index", str(TEST_DATA / "scifact-50.jsonl"), "--out", str(target), "--no-progress"]
    )
    assert result.exit_code == 1
    assert f"Error: index {target} is locked by PID {holder.pid}" in result.output


def test_lock_released_when_holder_is_killed(lock_holder, encoder, caplog):
    target, holder = lock_holder
    holder.kill()
    holder.wait()
    caplog.set_level(logging.INFO, logger="medsearch")

    build_index(VERSION_A, target, encoder=encoder)

    assert Index.load(target).documents.doc_ids == ["a1", "a2"]
    assert f"left by PID {holder.pid}, which has exited" in caplog.text
    assert not lock_path(target).exists()


def test_stale_lock_file_of_dead_pid(tmp_path, encoder):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    target = tmp_path / "idx"
    lock_path(target).write_text(f"{dead.stdout.strip()}\n")

    build_index(VERSION_A, target, encoder=encoder)

    assert Index.load(target).documents.doc_ids == ["a1", "a2"]
    assert not lock_path(target).exists()


def test_lock_in_one_process_excludes_another_handle(tmp_path):
    with IndexLock(tmp_path / "idx"):
        with pytest.raises(IndexLockedError, match="is locked by PID"):
            IndexLock(tmp_path / "idx").acquire()
    with IndexLock(tmp_path / "idx"):
        pass


@pytest.mark.parametrize("atomic_exchange", [True, False], ids=["exchange", "two-renames"])
def test_readers_see_a_complete_index_during_rebuilds(tmp_path, encoder, monkeypatch, atomic_exchange):
    if not atomic_exchange:
        monkeypatch.setattr(swap, "_exchange", lambda first, second: False)
    target = tmp_path / "idx"
    build_index(VERSION_A, target, encoder=encoder)
    versions = {("a1", "a2"), ("b1", "b2")}
    seen: list[tuple[str, ...]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read_repeatedly():
        while not stop.is_set():
            try:
                index = Index.load(target)
                seen.append(tuple(index.documents.doc_ids))
                index.search("heart", k=2, mode="bm25")
            except Exception as error:  # the test reports every failure below
                errors.append(error)

    reader = threading.Thread(target=read_repeatedly)
    reader.start()
    try:
        for documents in (VERSION_B, VERSION_A, VERSION_B, VERSION_A):
            build_index(documents, target, encoder=encoder, overwrite=True)
    finally:
        stop.set()
        reader.join()

    assert errors == []
    assert seen
    assert set(seen) <= versions
    assert sorted(path.name for path in tmp_path.iterdir()) == ["idx"]


def test_replace_directory_leaves_no_residue(tmp_path):
    target, new = tmp_path / "idx", tmp_path / "new"
    target.mkdir()
    (target / "old.txt").write_text("old")
    new.mkdir()
    (new / "new.txt").write_text("new")

    swap.replace_directory(new, target)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["idx"]
    assert [path.name for path in target.iterdir()] == ["new.txt"]
