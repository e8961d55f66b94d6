"""Read test collections: queries (BEIR JSONL or ``query_id<TAB>text``) and qrels (BEIR or TREC).

Formats, each plain or ``.gz``:

* BEIR ``queries.jsonl``: one JSON object per line with ``_id``, ``text`` and optionally
  ``metadata.split`` (SciFact mixes its train and test queries in one file).
* Query TSV, including NFCorpus ``*.queries``: ``query_id<TAB>text``, no header row.
* BEIR qrels TSV: header row ``query-id<TAB>corpus-id<TAB>score``, then one judgment per line.
* TREC qrels: ``query_id iteration doc_id relevance``, whitespace separated, no header.

Relevance values are integers and may be 0 or negative (judged, not relevant).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

from medsearch.errors import InputFormatError
from medsearch.eval._files import read_lines

logger = logging.getLogger(__name__)

__all__ = ["read_qrels", "read_queries"]

BEIR_QRELS_HEADER = ("query-id", "corpus-id", "score")


def read_queries(path: str | Path, split: str | None = None) -> dict[str, str]:
    """Read queries into ``{query_id: text}``, in file order.

    The format follows the name: ``.jsonl`` (or ``.jsonl.gz``) is BEIR JSONL, anything else is
    ``query_id<TAB>text``.

    Args:
        path: the query file.
        split: keep only BEIR queries whose ``metadata.split`` equals this value, for example
            ``"test"``. ``None`` keeps every query.

    Raises:
        InputFormatError: the file is missing or has no queries, a line is malformed, a query id
            repeats, a text is empty, or ``split`` is given but the file has no split metadata or
            no query of that split. The message names the line where one applies.
    """
    path = Path(path)
    is_jsonl = path.name.removesuffix(".gz").endswith(".jsonl")

    if is_jsonl:
        queries = _read_beir_queries(path, split)
    elif split is not None:
        raise InputFormatError(
            path,
            f"split {split!r} was requested, but only BEIR .jsonl query files carry split "
            "metadata; drop the split or use a file that has one split",
        )
    else:
        queries = _read_tsv_queries(path)

    if not queries:
        raise InputFormatError(path, "contains no queries")
    logger.info("Read %d queries from %s", len(queries), path)
    return queries


def read_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """Read relevance judgments into ``qrels[query_id][doc_id] = relevance``.

    A first line equal to ``query-id corpus-id score`` (BEIR's header) selects the three-column
    BEIR layout; otherwise every line must have TREC's four columns. The TREC iteration column is
    ignored. Blank lines are skipped.

    Raises:
        InputFormatError: the file is missing or has no judgments, a line has the wrong number of
            fields, a relevance is not an integer, or a ``(query_id, doc_id)`` pair repeats.
    """
    path = Path(path)
    qrels: dict[str, dict[str, int]] = {}
    first_line: dict[tuple[str, str], int] = {}
    layout: str | None = None
    num_judgments = 0

    for line_number, line in read_lines(path):
        fields = line.split()
        if not fields:
            continue
        if layout is None:
            layout = "beir" if tuple(fields) == BEIR_QRELS_HEADER else "trec"
            if layout == "beir":
                continue

        query_id, doc_id, relevance_text = _split_judgment(path, fields, layout, line_number)
        try:
            relevance = int(relevance_text)
        except ValueError:
            raise InputFormatError(
                path,
                f"relevance {relevance_text!r} is not an integer; trec_eval reads integer grades",
                line=line_number,
            ) from None

        key = (query_id, doc_id)
        if key in first_line:
            raise InputFormatError(
                path,
                f"doc {doc_id!r} is judged twice for query {query_id!r} "
                f"(first on line {first_line[key]}); keep one judgment",
                line=line_number,
            )
        first_line[key] = line_number

        qrels.setdefault(query_id, {})[doc_id] = relevance
        num_judgments += 1

    if not qrels:
        raise InputFormatError(path, "contains no relevance judgments")
    logger.info(
        "Read %d judgments for %d queries from %s (%s layout)",
        num_judgments,
        len(qrels),
        path,
        "BEIR" if layout == "beir" else "TREC",
    )
    return qrels


def _split_judgment(
    path: Path, fields: list[str], layout: str, line_number: int
) -> tuple[str, str, str]:
    if layout == "beir":
        if len(fields) != 3:
            raise InputFormatError(
                path,
                f"expected 3 fields 'query-id corpus-id score' after the BEIR header, "
                f"found {len(fields)}",
                line=line_number,
            )
        return fields[0], fields[1], fields[2]

    if len(fields) != 4:
        raise InputFormatError(
            path,
            f"expected 4 fields 'query_id iteration doc_id relevance' (TREC qrels), "
            f"found {len(fields)}; a BEIR qrels file must start with the header "
            f"'query-id<TAB>corpus-id<TAB>score'",
            line=line_number,
        )
    return fields[0], fields[2], fields[3]


def _read_tsv_queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    first_line: dict[str, int] = {}

    for line_number, line in read_lines(path):
        if not line.strip():
            continue
        query_id, tab, text = line.partition("\t")
        query_id = query_id.strip()
        text = text.strip()
        if not tab or not query_id:
            raise InputFormatError(
                path, "expected 'query_id<TAB>text'; this line has no tab", line=line_number
            )
        _add_query(path, queries, first_line, query_id, text, line_number)

    return queries


def _read_beir_queries(path: Path, split: str | None) -> dict[str, str]:
    queries: dict[str, str] = {}
    first_line: dict[str, int] = {}
    split_counts: Counter[str | None] = Counter()

    for line_number, line in read_lines(path):
        if not line.strip():
            continue
        record = _parse_json_object(path, line, line_number)
        query_id = record.get("_id")
        text = record.get("text")
        if isinstance(query_id, int) and not isinstance(query_id, bool):
            query_id = str(query_id)
        if not isinstance(query_id, str) or not query_id.strip():
            raise InputFormatError(
                path, f"'_id' must be a non-empty string, found {query_id!r}", line=line_number
            )
        if not isinstance(text, str):
            raise InputFormatError(
                path, f"'text' must be a string, found {text!r}", line=line_number
            )

        metadata = record.get("metadata")
        query_split = metadata.get("split") if isinstance(metadata, dict) else None
        split_counts[query_split] += 1
        if split is not None and query_split is None:
            raise InputFormatError(
                path,
                f"split {split!r} was requested, but query {query_id!r} has no 'metadata.split'; "
                "drop the split to read every query",
                line=line_number,
            )
        if split is not None and query_split != split:
            continue

        _add_query(path, queries, first_line, query_id.strip(), text.strip(), line_number)

    if split is not None:
        _check_split(path, split, split_counts, kept=len(queries))
    return queries


def _parse_json_object(path: Path, line: str, line_number: int) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputFormatError(path, f"invalid JSON ({error.msg})", line=line_number) from None
    if not isinstance(record, dict):
        raise InputFormatError(
            path, f"expected a JSON object, found {type(record).__name__}", line=line_number
        )
    return record


def _add_query(
    path: Path,
    queries: dict[str, str],
    first_line: dict[str, int],
    query_id: str,
    text: str,
    line_number: int,
) -> None:
    if query_id in first_line:
        raise InputFormatError(
            path,
            f"query id {query_id!r} repeats (first on line {first_line[query_id]})",
            line=line_number,
        )
    if not text:
        raise InputFormatError(
            path, f"query {query_id!r} has an empty text", line=line_number
        )
    first_line[query_id] = line_number
    queries[query_id] = text


def _check_split(path: Path, split: str, split_counts: Counter[str | None], kept: int) -> None:
    if kept == 0:
        available = sorted(str(name) for name in split_counts if name is not None)
        raise InputFormatError(
            path, f"no query has split {split!r}; the file has splits {available}"
        )
    logger.info(
        "Kept %d of %d queries with split %r from %s",
        kept,
        sum(split_counts.values()),
        split,
        path,
    )
