"""The wheel contains every subpackage and the bundled corpus, and works without the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out), str(REPO)],
        check=True,
        cwd=out,
    )
    (path,) = out.glob("medsearch-*.whl")
    return path


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in (
        "medsearch/__init__.py",
        "medsearch/cli/__init__.py",
        "medsearch/data/pubmed.py",
        "medsearch/indexer/build.py",
        "medsearch/retriever/index.py",
        "medsearch/eval/metrics.py",
        "medsearch/data/bundled/scifact-corpus.jsonl.gz",
        "medsearch/data/bundled/SOURCES.md",
        "medsearch/py.typed",
    ):
        assert module in names
    assert not any(name.startswith("tests/") for name in names)


def test_installed_wheel_imports_and_runs(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True,
    )
    script = (
        "import medsearch, medsearch.indexer, medsearch.retriever, medsearch.eval, medsearch.data\n"
        "print(medsearch.indexer.__file__)\n"
        "docs = list(medsearch.read_documents(medsearch.bundled_corpus_path()))\n"
        "print(len(docs))\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, check=True
    )
    module_path, count = result.stdout.split()
    assert module_path.startswith(str(target))
    assert count == "5183"

    help_text = subprocess.run(
        [sys.executable, "-m", "medsearch", "--help"], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert help_text.returncode == 0, help_text.stderr
    assert "index" in help_text.stdout
