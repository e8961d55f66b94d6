"""The benchmark's parts on 50 real SciFact abstracts: data files, index cache, tuning, report."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from medsearch import BM25Config, HybridConfig, Index, build_index, read_documents
from medsearch.errors import InputFormatError, MedsearchError
from medsearch.eval import evaluate, read_qrels, read_queries, results_to_run, search_queries
from medsearch.eval.benchmark import main
from medsearch.eval.benchmark_data import nfcorpus, read_nfcorpus_docs, scifact
from medsearch.eval.benchmark_report import markdown_table, replace_section
from medsearch.eval.index_cache import documents_digest, ensure_index
from medsearch.eval.tuning import TOP_K, TuningGrid, fusion_trials, tune_bm25
from medsearch.indexer.manifest import MANIFEST_FILENAME

TEST_DATA = Path(__file__).resolve().parent / "data"
CORPUS = TEST_DATA / "scifact-50.jsonl"
QUERIES = TEST_DATA / "scifact-queries-8.jsonl"
QRELS = TEST_DATA / "scifact-qrels-8.tsv"


@pytest.fixture(scope="module")
def index_path(tmp_path_factory, encoder) -> Path:
    path = tmp_path_factory.mktemp("index") / "scifact50"
    build_index(read_documents(CORPUS), path, encoder=encoder)
    return path


@pytest.fixture(scope="module")
def index(index_path, encoder) -> Index:
    return Index.load(index_path, encoder=encoder)


@pytest.fixture(scope="module")
def queries() -> dict[str, str]:
    return read_queries(QUERIES, split="test")


@pytest.fixture(scope="module")
def qrels() -> dict[str, dict[str, int]]:
    return read_qrels(QRELS)


@pytest.fixture
def restored_logging():
    """Undo the logging set-up that the command's main() applies, so later tests see records."""
    saved = {}
    for name in ("medsearch", "medsearch.eval.evaluate", "medsearch.eval.index_runs"):
        logger = logging.getLogger(name)
        saved[name] = (logger.handlers[:], logger.level, logger.propagate)
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_nfcorpus_docs_read_as_abstracts(tmp_path, caplog):
    path = tmp_path / "test.docs"
    path.write_text("MED-1\tstatin breast cancer survival\n\nMED-2\t \nMED-3\tvitamin d bone fracture")
    documents = list(read_nfcorpus_docs(path))
    assert [document.doc_id for document in documents] == ["MED-1", "MED-3"]
    assert documents[0].title == ""
    assert documents[0].abstract == "statin breast cancer survival"
    assert "skipped 1 documents with an empty text" in caplog.text


def test_nfcorpus_line_without_tab_rejected(tmp_path):
    path = tmp_path / "test.docs"
    path.write_text("MED-1\tfine text\nMED-2 no tab here\n")
    with pytest.raises(InputFormatError, match=r"test.docs:2: expected doc_id<TAB>text"):
        list(read_nfcorpus_docs(path))


def test_missing_collection_file_named(tmp_path):
    with pytest.raises(MedsearchError, match=r"scifact file .*corpus.jsonl not found; pass --data"):
        scifact(tmp_path)
    with pytest.raises(MedsearchError, match=r"nfcorpus file .*test.docs not found"):
        nfcorpus(tmp_path)


def test_replace_section_keeps_other_sections(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    replace_section(path, "Speed", "fast")
    replace_section(path, "Retrieval quality", "first")
    assert path.read_text() == "# Benchmarks\n\n## Speed\n\nfast\n\n## Retrieval quality\n\nfirst\n"

    replace_section(path, "Speed", "faster\n\n### Detail\n\nmore")
    assert path.read_text() == (
        "# Benchmarks\n\n## Speed\n\nfaster\n\n### Detail\n\nmore\n\n## Retrieval quality\n\nfirst\n"
    )
    replace_section(path, "Retrieval quality", "second")
    assert path.read_text().endswith("## Retrieval quality\n\nsecond\n")
    assert path.read_text().count("## Speed") == 1


def test_markdown_table_alignment():
    table = markdown_table(["name", "value"], [["a", "1.0"]])
    assert table == "| name | value |\n| --- | ---: |\n| a | 1.0 |"


def test_bm25_trial_equals_index_search(index, queries, qrels):
    config = BM25Config(k1=1.2, b=0.75)
    (trial,) = tune_bm25(index, queries, qrels, [config.k1], [config.b])
    assert trial.config == config

    # The same setting built the ordinary way and searched through Index.search_many.
    rebuilt = build_index(read_documents(CORPUS), index.path.parent / "k1-1.2", encoder=index.encoder, bm25_config=config)
    searched = search_queries(Index.load(rebuilt.path, encoder=index.encoder), queries, mode="bm25", top_k=TOP_K)
    expected = evaluate(results_to_run(searched), qrels, ["ndcg@10", "recall@100"]).means
    assert trial.means["ndcg@10"] == pytest.approx(expected["ndcg@10"], abs=1e-12)
    assert trial.means["recall@100"] == pytest.approx(expected["recall@100"], abs=1e-12)


@pytest.mark.parametrize(
    "config",
    [
        HybridConfig(depth=10, rrf_k=20, bm25_weight=1.5),
        HybridConfig(depth=30, bm25_weight=0.3, dense_weight=0.7, fusion="convex"),
    ],
)
def test_fusion_trial_equals_hybrid_search(index, queries, qrels, config):
    bm25 = search_queries(index, queries, mode="bm25", top_k=50)
    dense = search_queries(index, queries, mode="dense", top_k=50)
    (trial,) = fusion_trials(bm25, dense, qrels, [config])

    hybrid_index = Index(
        index.path, index.manifest, index.documents, index.bm25, index.dense, encoder=index.encoder, hybrid=config
    )
    # k=10 keeps depth=max(k, config.depth) equal to config.depth, as TOP_K does for the grid.
    searched = search_queries(hybrid_index, queries, mode="hybrid", top_k=10)
    expected = evaluate(results_to_run(searched), qrels, ["ndcg@10"]).means["ndcg@10"]
    assert trial.ndcg == pytest.approx(expected, abs=1e-12)


def test_grid_rejects_depth_below_top_k():
    with pytest.raises(ValueError, match="at least TOP_K"):
        TuningGrid(depths=(TOP_K - 1,))


def test_grid_covers_both_fusions():
    configs = TuningGrid(rrf_k=(10, 60), rrf_bm25_weights=(1.0,), convex_bm25_weights=(0.3,), depths=(100, 200)).hybrid_configs()
    assert [(config.fusion, config.rrf_k, config.depth) for config in configs[:4]] == [
        ("rrf", 10, 100), ("rrf", 10, 200), ("rrf", 60, 100), ("rrf", 60, 200)
    ]
    assert [(config.fusion, config.bm25_weight, config.dense_weight) for config in configs[4:]] == [
        ("convex", 0.3, 0.7), ("convex", 0.3, 0.7)
    ]


def test_cache_reused_then_bm25_refreshed(tmp_path, encoder, queries):
    documents = list(read_documents(CORPUS))[:20]
    target = tmp_path / "cache" / "scifact"
    assert ensure_index(documents, target, encoder=encoder) is True
    assert ensure_index(documents, target, encoder=encoder) is False

    config = BM25Config(k1=1.5, b=0.8)
    assert ensure_index(documents, target, encoder=encoder, bm25_config=config) is False
    manifest = json.loads((target / MANIFEST_FILENAME).read_text())
    assert (manifest["bm25"]["k1"], manifest["bm25"]["b"]) == (1.5, 0.8)

    # The refreshed BM25 part scores exactly as a fresh build with the same settings.
    fresh = build_index(documents, tmp_path / "fresh", encoder=encoder, bm25_config=config)
    refreshed_hits = Index.load(target, encoder=encoder).search_many(list(queries.values()), k=10, mode="bm25")
    fresh_hits = Index.load(fresh.path, encoder=encoder).search_many(list(queries.values()), k=10, mode="bm25")
    assert any(refreshed_hits)
    for refreshed, built in zip(refreshed_hits, fresh_hits):
        assert [(hit.doc_id, hit.score) for hit in refreshed] == [(hit.doc_id, hit.score) for hit in built]


def test_cache_rebuilt_for_other_documents(tmp_path, encoder):
    documents = list(read_documents(CORPUS))
    target = tmp_path / "scifact"
    ensure_index(documents[:10], target, encoder=encoder)
    assert ensure_index(documents[:12], target, encoder=encoder) is True
    assert Index.load(target, encoder=encoder).documents.doc_ids == [document.doc_id for document in documents[:12]]


def test_cache_rebuilt_when_damaged(tmp_path, encoder):
    documents = list(read_documents(CORPUS))[:5]
    target = tmp_path / "scifact"
    ensure_index(documents, target, encoder=encoder)
    (target / "dense.faiss").write_bytes(b"broken")
    assert ensure_index(documents, target, encoder=encoder) is True
    assert len(Index.load(target, encoder=encoder)) == 5


def test_digest_depends_on_content():
    documents = list(read_documents(CORPUS))[:3]
    assert documents_digest(documents) == documents_digest(list(documents))
    assert documents_digest(documents) != documents_digest(documents[::-1])
    assert documents_digest(documents) != documents_digest(documents[:2])


def test_benchmark_command_writes_section(tmp_path, capsys, restored_logging):
    data = tmp_path / "data"
    (data / "scifact" / "qrels").mkdir(parents=True)
    shutil.copy(CORPUS, data / "scifact" / "corpus.jsonl")
    shutil.copy(QUERIES, data / "scifact" / "queries.jsonl")
    shutil.copy(QRELS, data / "scifact" / "qrels" / "test.tsv")
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n## Speed\n\nkept\n")

    arguments = ["--data", str(data), "--out", str(out), "--collections", "scifact", "--index-cache", str(tmp_path / "cache")]
    assert main(arguments) == 0

    printed = capsys.readouterr().out
    assert "scifact hybrid" in printed
    page = out.read_text()
    assert "## Speed\n\nkept\n" in page
    assert "## Retrieval quality" in page
    assert "| scifact | hybrid |" in page
    assert "| 8 |" in page
    assert "--collections scifact" in page


def test_benchmark_command_unknown_collection(capsys, restored_logging):
    with pytest.raises(SystemExit):
        main(["--collections", "trec-covid", "--no-out"])
    assert "unknown collection 'trec-covid'" in capsys.readouterr().err
