"""JSON Lines reader: BEIR SciFact sample, configurable fields, repairs and line-numbered errors."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsearch.data import Document, ReadStats, read_jsonl
from medsearch.errors import InputFormatError

SCIFACT_50 = Path(__file__).resolve().parent / "data" / "scifact-50.jsonl"


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_all(path: Path, **kwargs) -> tuple[list[Document], ReadStats]:
    stats = ReadStats()
    documents = list(read_jsonl(path, stats=stats, **kwargs))
    return documents, stats


def test_scifact_sample():
    documents, stats = read_all(SCIFACT_50)

    assert stats.records_read == 50
    assert stats.documents == 50
    assert stats.without_abstract == 0
    assert len({document.doc_id for document in documents}) == 50
    # File order is kept.
    assert documents[0].doc_id == "4983"
    assert documents[0].title.startswith("Microstructural development of human newborn cerebral white matter")
    by_id = {document.doc_id: document for document in documents}
    adar = by_id["5953485"]
    assert adar.title == "ADAR1 Forms a Complex with Dicer to Promote MicroRNA Processing and RNA-Induced Gene Silencing"
    assert adar.abstract.startswith("Adenosine deaminases acting on RNA (ADARs) are involved in RNA editing")
    assert len(adar.abstract) == 974
    assert adar.pmid is None
    assert adar.year is None


def test_sample_matches_json_module():
    expected = [json.loads(line) for line in SCIFACT_50.read_text(encoding="utf-8").splitlines()]

    documents = list(read_jsonl(SCIFACT_50))

    assert [document.doc_id for document in documents] == [record["_id"] for record in expected]
    assert [document.title for document in documents] == [record["title"] for record in expected]
    assert [document.abstract for document in documents] == [record["text"] for record in expected]


def test_gzip_matches_plain(tmp_path):
    compressed = tmp_path / "corpus.jsonl.gz"
    compressed.write_bytes(gzip.compress(SCIFACT_50.read_bytes()))

    assert list(read_jsonl(compressed)) == list(read_jsonl(SCIFACT_50))


def test_custom_field_names_and_int_ids(tmp_path):
    path = write_lines(
        tmp_path / "custom.jsonl",
        [
            json.dumps({"pmid": 123, "heading": "First", "body": "Alpha text.", "metadata": {"x": 1}}),
            json.dumps({"pmid": "abc", "heading": "Second", "body": None}),
        ],
    )

    documents = list(read_jsonl(path, id_field="pmid", title_field="heading", text_field="body"))

    assert documents == [
        Document(doc_id="123", title="First", abstract="Alpha text."),
        Document(doc_id="abc", title="Second", abstract=""),
    ]


def test_blank_lines_bom_and_crlf(tmp_path):
    path = tmp_path / "windows.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"_id": "1", "title": "T1", "text": "A1"}\r\n'
        b"\r\n"
        b"   \n"
        b'{"_id": "2", "title": "T2", "text": "A2"}'
    )

    documents, stats = read_all(path)

    assert [document.doc_id for document in documents] == ["1", "2"]
    assert documents[1].abstract == "A2"
    assert stats.records_read == 2


def test_control_characters_stripped(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="medsearch")
    path = write_lines(
        tmp_path / "control.jsonl",
        [
            json.dumps({"_id": "1", "title": "Nul\u0000 title", "text": "Tab\tkept,\u0007bell and \u0096dash gone"}),
            json.dumps({"_id": "2", "title": "Clean", "text": "Line\nbreak kept"}),
            json.dumps({"_id": "3", "title": "Surrogate \ud800 here", "text": "x"}),
        ],
    )

    documents = list(read_jsonl(path))

    assert documents[0].title == "Nul title"
    assert documents[0].abstract == "Tab\tkept,bell and dash gone"
    assert documents[1].abstract == "Line\nbreak kept"
    assert documents[2].title == "Surrogate  here"
    assert any("control characters from the title or text of 2 records" in m for m in caplog.messages)


def test_missing_title_field_warns(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="medsearch")
    path = write_lines(tmp_path / "notitle.jsonl", [json.dumps({"_id": "1", "text": "Only text."})])

    [document] = read_jsonl(path)

    assert document.title == ""
    assert document.abstract == "Only text."
    assert any("1 records have no 'title' field" in message for message in caplog.messages)


def test_require_abstract(tmp_path):
    path = write_lines(
        tmp_path / "mixed.jsonl",
        [json.dumps({"_id": "1", "title": "T", "text": ""}), json.dumps({"_id": "2", "title": "T", "text": "A"})],
    )

    documents, stats = read_all(path, require_abstract=True)

    assert [document.doc_id for document in documents] == ["2"]
    assert stats.without_abstract == 1
    assert stats.skipped_without_abstract == 1


def test_empty_title_and_text_skipped(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="medsearch")
    path = write_lines(
        tmp_path / "empty.jsonl",
        [json.dumps({"_id": "1", "title": "", "text": ""}), json.dumps({"_id": "2", "title": None, "text": "A"})],
    )

    documents, stats = read_all(path)

    assert [document.doc_id for document in documents] == ["2"]
    assert stats.skipped_empty == 1
    assert stats.records_read == 2
    assert any("skipped 1 records whose title and abstract are both empty" in m for m in caplog.messages)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected_message"),
    [
        ('{"_id": "2", "title": "T"', "invalid JSON"),
        ('["2", "T", "A"]', "expected a JSON object, got an array"),
        ('"just a string"', "expected a JSON object, got a string"),
        ('{"id": "2", "title": "T", "text": "A"}', "--id-field"),
        ('{"_id": true, "title": "T", "text": "A"}', "must be a string or an integer, got bool"),
        ('{"_id": 2.5, "title": "T", "text": "A"}', "must be a string or an integer, got float"),
        ('{"_id": "  ", "title": "T", "text": "A"}', "is empty"),
        ('{"_id": "a\\tb", "title": "T", "text": "A"}', "ids must be printable text"),
        ('{"_id": "\\ud800", "title": "T", "text": "A"}', "ids must be printable text"),
        ('{"_id": "2", "title": "T", "text": ["A"]}', "'text' must be a string or null, got list"),
        ('{"_id": "2", "name": "T", "body": "A"}', "--title-field and --text-field"),
    ],
)
def test_bad_line_reports_line_number(tmp_path, line, expected_message):
    path = write_lines(tmp_path / "bad.jsonl", [json.dumps({"_id": "1", "title": "T", "text": "A"}), "", line])

    with pytest.raises(InputFormatError) as caught:
        list(read_jsonl(path))

    assert caught.value.line == 3
    assert caught.value.path == str(path)
    assert expected_message in str(caught.value)


def test_missing_id_message_lists_fields(tmp_path):
    path = write_lines(tmp_path / "noid.jsonl", [json.dumps({"doc": "1", "title": "T", "text": "A"})])

    with pytest.raises(InputFormatError, match=r"no '_id' field \(fields: doc, title, text\)"):
        list(read_jsonl(path))


def test_non_utf8_line(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"_id": "1", "title": "ok", "text": "ok"}\n{"_id": "2", "title": "caf\xe9", "text": "x"}\n')

    with pytest.raises(InputFormatError, match="invalid UTF-8 \\(byte 0xe9") as caught:
        list(read_jsonl(path))

    assert caught.value.line == 2


def test_truncated_gzip(tmp_path):
    data = gzip.compress(SCIFACT_50.read_bytes())
    path = tmp_path / "truncated.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(InputFormatError, match="gzip stream is truncated or damaged") as caught:
        list(read_jsonl(path))

    assert caught.value.line is not None
    assert caught.value.line > 1


def test_error_message_without_document_text(tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", ['{"_id": "1", "title": "Confidential words", "text": ["x"]}'])

    with pytest.raises(InputFormatError) as caught:
        list(read_jsonl(path))

    assert "Confidential" not in str(caught.value)


# --- fuzzing --------------------------------------------------------------------------------

_FUZZ_SEED = b"".join(SCIFACT_50.read_bytes().splitlines(keepends=True)[:2])


@st.composite
def mutated_jsonl(draw) -> bytes:
    data = bytearray(_FUZZ_SEED)
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip" and data:
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif action == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=32))]
        else:
            data[position:position] = draw(
                st.sampled_from([b"\n", b'"', b"{", b"}", b"\\u0000", b"\\ud800", b"\x00", b"\xff", b"null", b"[1]"])
            )
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(mutated_jsonl(), st.binary(max_size=200)))
def test_fuzzed_jsonl_gives_documents_or_input_error(tmp_path, data):
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)

    try:
        documents = list(read_jsonl(path))
    except InputFormatError:
        return
    for document in documents:
        assert document.doc_id.strip()
        assert document.title or document.abstract
        # Every yielded id and text can be written out as UTF-8.
        document.doc_id.encode("utf-8")
        document.text.encode("utf-8")
