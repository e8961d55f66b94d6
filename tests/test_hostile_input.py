"""Hostile and broken input, end to end: a clear error or a sane index, never a damaged one.

The readers' own tests cover each malformation in detail (tests/test_data_*.py). Here each
one goes through ``medsearch index``, as a new build over an existing index and as an
update of it, and the existing index must come out byte for byte unchanged.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medsearch import Document, Index, MedsearchError, build_index, read_documents
from medsearch.cli import app
from medsearch.indexer.lock import lock_path
from medsearch.indexer.passages import split_passages

TEST_DATA = Path(__file__).resolve().parent / "data"
runner = CliRunner()

XML_HEADER = '<?xml version="1.0" encoding="utf-8"?>\n'


def article(pmid: str, title: str = "A title.", abstract: str = "An abstract.") -> str:
    return (
        f"<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><Article><ArticleTitle>{title}</ArticleTitle>"
        f"<Abstract><AbstractText>{abstract}</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>\n"
    )


def jsonl(*records: dict) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


# name -> (file name, content, expected fragment of the one-line error)
BROKEN_INPUTS = {
    "xml-unclosed-tag-mid-file": (
        "unclosed.xml",
        (XML_HEADER + "<PubmedArticleSet>\n" + article("1") + "<PubmedArticle><MedlineCitation><PMID>2</PMID>"
         "<Article><ArticleTitle>Open title\n" + article("3") + "</PubmedArticleSet>\n").encode(),
        "invalid XML",
    ),
    "xml-declared-utf8-latin1-bytes": (
        "latin1.xml",
        (XML_HEADER + "<PubmedArticleSet>\n" + article("1", title="Caf\u00e9 au lait") + "</PubmedArticleSet>\n").encode("latin-1"),
        "invalid XML",
    ),
    "xml-nul-byte": (
        "nul.xml",
        (XML_HEADER + "<PubmedArticleSet>\n" + article("1", title="Nul\x00byte") + "</PubmedArticleSet>\n").encode(),
        "invalid XML",
    ),
    "xml-control-character-reference": (
        "control.xml",
        (XML_HEADER + "<PubmedArticleSet>\n" + article("1", title="Bell&#7;") + "</PubmedArticleSet>\n").encode(),
        "invalid XML",
    ),
    "xml-not-xml": ("binary.xml", bytes(range(256)) * 4, "invalid XML"),
    "jsonl-non-utf8-bytes": (
        "cp1252.jsonl",
        b'{"_id": "1", "title": "ok", "text": "fine"}\n{"_id": "2", "title": "Caf\xe9", "text": "x"}\n',
        ":2: invalid UTF-8 (byte 0xe9",
    ),
    "jsonl-missing-id-field": (
        "noid.jsonl",
        jsonl({"_id": "1", "title": "t", "text": "x"}, {"pmid": "2", "title": "t", "text": "x"}),
        ":2: record has no '_id' field (fields: pmid, title, text)",
    ),
    "jsonl-nul-in-id": (
        "nulid.jsonl",
        jsonl({"_id": "a\u0000b", "title": "t", "text": "x"}),
        "contains a tab, line break, control character or lone surrogate",
    ),
    "jsonl-truncated-line": ("truncated.jsonl", b'{"_id": "1", "title": "t", "text": "cut', ":1: invalid JSON"),
    "jsonl-nested-too-deep": ("deep.jsonl", b"[" * 100_000 + b"\n", ":1:"),
    "jsonl-only-empty-records": (
        "empty-records.jsonl",
        jsonl({"_id": "1", "title": "", "text": ""}, {"_id": "2", "title": None, "text": None}),
        "no documents to index",
    ),
}


@pytest.fixture(scope="module")
def existing_index(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "idx"
    corpus = tmp_path_factory.mktemp("hostile-corpus") / "five.jsonl"
    corpus.write_bytes(b"".join(line + b"\n" for line in (TEST_DATA / "scifact-50.jsonl").read_bytes().splitlines()[:5]))
    result = runner.invoke(app, ["index", str(corpus), "--out", str(path), "--no-progress"])
    assert result.exit_code == 0, result.output
    return path


def snapshot(index: Path) -> dict[str, bytes]:
    return {str(path.relative_to(index)): path.read_bytes() for path in index.rglob("*") if path.is_file()}


def assert_one_line_error(result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    assert fragment in errors[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", sorted(BROKEN_INPUTS))
@pytest.mark.parametrize("command", ["rebuild", "update"])
def test_broken_input_leaves_index_intact(existing_index, tmp_path, case, command):
    name, content, fragment = BROKEN_INPUTS[case]
    corpus = tmp_path / name
    corpus.write_bytes(content)
    before = snapshot(existing_index)
    doc_ids = Index.load(existing_index).documents.doc_ids
    flag = "--overwrite" if command == "rebuild" else "--update"

    result = runner.invoke(app, ["index", str(corpus), "--out", str(existing_index), flag, "--no-progress"])

    if case == "jsonl-only-empty-records" and command == "update":
        # Nothing to add or delete is no error for an update: it records the file and keeps the documents.
        assert result.exit_code == 0, result.output
        assert "0 documents added, 0 replaced, 0 deleted" in result.output
        assert Index.load(existing_index).documents.doc_ids == doc_ids
        return
    assert_one_line_error(result, fragment)
    assert snapshot(existing_index) == before
    assert runner.invoke(app, ["verify", "--index", str(existing_index)]).exit_code == 0
    assert sorted(path.name for path in existing_index.parent.iterdir()) == ["idx"]
    assert not lock_path(existing_index).exists()


def test_control_characters_removed_with_warning(tmp_path, caplog):
    corpus = tmp_path / "control.jsonl"
    corpus.write_bytes(
        jsonl(
            {"_id": "1", "title": "Zebra\u0000fish\u001b[31m heart", "text": "Cardio\u0007myocytes \u007fdivide."},
            {"_id": "2", "title": "Clean title", "text": "Clean text."},
        )
    )
    result = runner.invoke(app, ["index", str(corpus), "--out", str(tmp_path / "idx"), "--no-progress"])
    assert result.exit_code == 0, result.output

    stored = Index.load(tmp_path / "idx").documents.get(0)
    assert stored.title == "Zebrafish[31m heart"
    assert stored.abstract == "Cardiomyocytes divide."
    assert "removed NUL or other control characters from the title or text of 1 records" in result.output


def test_duplicate_ids_in_one_file_last_wins(tmp_path):
    corpus = tmp_path / "dups.jsonl"
    corpus.write_bytes(
        jsonl(
            {"_id": "1", "title": "First version", "text": "a."},
            {"_id": "2", "title": "Other", "text": "b."},
            {"_id": "1", "title": "Second version", "text": "c."},
            {"_id": "1", "title": "Third version", "text": "d."},
        )
    )
    result = runner.invoke(app, ["index", str(corpus), "--out", str(tmp_path / "idx"), "--no-progress"])
    assert result.exit_code == 0, result.output

    index = Index.load(tmp_path / "idx")
    assert index.documents.doc_ids == ["1", "2"]
    assert index.documents.get(0).title == "Third version"
    assert "WARNING: 2 documents repeated an id seen before in the same input file" in result.output


def test_empty_titles_and_abstracts(tmp_path):
    corpus = tmp_path / "gaps.jsonl"
    corpus.write_bytes(
        jsonl(
            {"_id": "title-only", "title": "Only a title about sepsis", "text": ""},
            {"_id": "text-only", "title": "", "text": "Only an abstract about sepsis."},
            {"_id": "nothing", "title": "", "text": ""},
            {"_id": "nulls", "title": None, "text": None},
        )
    )
    result = runner.invoke(app, ["index", str(corpus), "--out", str(tmp_path / "idx"), "--no-progress"])
    assert result.exit_code == 0, result.output

    index = Index.load(tmp_path / "idx")
    assert index.documents.doc_ids == ["title-only", "text-only"]
    assert "skipped 2 records whose title and abstract are both empty" in result.output
    assert {hit.doc_id for hit in index.search("sepsis", k=5, mode="bm25")} == {"title-only", "text-only"}


@pytest.mark.parametrize(
    ("declared", "encoding", "expected_title"),
    [
        ("ISO-8859-1", "latin-1", "Caf\u00e9 au lait"),  # declared correctly: decoded correctly
        ("ISO-8859-1", "utf-8", "Caf\u00c3\u00a9 au lait"),  # declared wrongly: mojibake, but no error
    ],
)
def test_declared_single_byte_encoding(tmp_path, declared, encoding, expected_title):
    path = tmp_path / "declared.xml"
    text = f'<?xml version="1.0" encoding="{declared}"?>\n<PubmedArticleSet>\n' + article("1", title="Caf\u00e9 au lait")
    path.write_bytes((text + "</PubmedArticleSet>\n").encode(encoding))
    assert [document.title for document in read_documents(path)] == [expected_title]


def test_external_entity_not_in_index(tmp_path, encoder):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-PASSWORD")
    path = tmp_path / "xxe.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        "<PubmedArticleSet>\n" + article("1", title="Leak &xxe; here") + "</PubmedArticleSet>\n"
    )
    build_index(read_documents(path), tmp_path / "idx", encoder=encoder)

    for file in (tmp_path / "idx").rglob("*"):
        if file.is_file():
            assert b"TOPSECRET" not in file.read_bytes(), file


def test_megabyte_abstract_splits_in_bounded_time(encoder):
    abstract = " ".join(document.abstract for document in read_documents(TEST_DATA / "scifact-50.jsonl"))
    abstract = (abstract + " ") * (1_000_000 // len(abstract) + 1)
    abstract = abstract[:1_000_000]

    started = time.perf_counter()
    passages = split_passages("A title", abstract, max_tokens=encoder.max_seq_length, count_tokens=encoder.count_tokens)
    seconds = time.perf_counter() - started

    # Measured at 2-4 s on a 2-core CPU shared with other jobs; a quadratic splitter would take hours.
    assert seconds < 60
    assert 500 < len(passages) < 5000
    for passage in passages[::50]:
        assert encoder.count_tokens(passage) <= encoder.max_seq_length - 2


def test_megabyte_word_without_spaces(encoder):
    passages = split_passages("T", "x" * 1_000_000, max_tokens=encoder.max_seq_length, count_tokens=encoder.count_tokens)
    assert len(passages) == 1


def test_long_abstract_indexed_and_found(tmp_path, encoder):
    filler = "Hospital staffing rotas and parking permits were discussed at length by the committee. "
    needle = "Metformin lowers hepatic glucose output in type 2 diabetes."
    documents = [Document("long", "Minutes", filler * 600 + needle), Document("short", "Note", "Parking again.")]
    assert len(documents[0].abstract) > 50_000

    build_index(documents, tmp_path / "idx", encoder=encoder)
    index = Index.load(tmp_path / "idx", encoder=encoder)

    assert index.manifest.counts["passages"] > 30
    assert index.search("metformin hepatic glucose output", k=1, mode="dense")[0].doc_id == "long"
    assert index.search("metformin hepatic glucose output", k=1, mode="bm25")[0].doc_id == "long"


# --- queries -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def index(tmp_path_factory, encoder) -> Index:
    path = tmp_path_factory.mktemp("queries") / "idx"
    build_index(list(read_documents(TEST_DATA / "scifact-50.jsonl"))[:20], path, encoder=encoder)
    return Index.load(path, encoder=encoder)


@pytest.mark.parametrize(
    "query",
    [
        "insulin\u0000 resistance",
        "\u0001\u0002\u001b[31m",
        "?!.,;:()[]{}",
        "\u200b\u200b",
        "\ufeff",
        "\u0633\u0631\u0637\u0627\u0646 \u0627\u0644\u0631\u0626\u0629",
        "e\u0301\u0301\u0301\u0301",
        "a" * 10_000,
        " ".join(f"term{number}" for number in range(3000)),
        "DNA " * 2500,
        "%s %d {0} ${HOME} $(rm -rf /) `id`",
        "../../etc/passwd",
    ],
    ids=[
        "nul", "control", "punctuation", "zero-width-space", "bom", "arabic", "combining-marks",
        "one-10k-token", "3000-distinct-terms", "one-term-2500-times", "format-and-shell", "path",
    ],
)
@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_hostile_query_gives_results_or_nothing(index, query, mode):
    hits = index.search(query, k=5, mode=mode)
    assert len(hits) <= 5
    if mode != "bm25":
        assert len(hits) == 5  # dense search ranks every document
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_lone_surrogate_query_rejected(index, mode):
    with pytest.raises(MedsearchError, match=r"query 1 is not valid Unicode text \('\\udcff' at character 6"):
        index.search("tumor \udcff growth", k=5, mode=mode)


@pytest.mark.parametrize("query", ["", " ", "\t\n", "\u3000"])
def test_blank_query_rejected(index, query):
    with pytest.raises(MedsearchError, match="query 1 is empty"):
        index.search(query, k=5)


def test_cli_query_with_undecodable_argument(existing_index):
    # Python passes a command-line byte that is not UTF-8 (here 0xff) as the lone surrogate U+DCFF.
    result = runner.invoke(app, ["query", "tumor \udcff", "--index", str(existing_index), "--mode", "bm25"])
    assert_one_line_error(result, "is not valid Unicode text")


def test_cli_json_output_with_emoji_and_markup(existing_index, caplog):
    caplog.set_level(logging.WARNING)
    query = "<b>DNA</b> \U0001f9ec \"quoted\" \u80ba\u764c"
    result = runner.invoke(app, ["query", query, "--index", str(existing_index), "--json", "--mode", "bm25"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output[result.output.index("{"):])
    assert document["query"] == query
