"""Read and write TREC run files: one ``query_id Q0 doc_id rank score tag`` line per result.

This is the run format of trec_eval and of pyserini/Anserini. Both functions accept plain and
``.gz`` paths. Scores are written with ``repr`` so that reading a file back gives the same floats
and therefore the same tie order in evaluation.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from medsearch.errors import InputFormatError, MedsearchError
from medsearch.eval._files import open_text, read_lines

logger = logging.getLogger(__name__)

__all__ = ["read_run", "write_run"]

RUN_FIELDS = 6


def write_run(
    path: str | Path,
    results: Mapping[str, Sequence[tuple[str, float]]],
    tag: str,
) -> int:
    """Write ranked results as a TREC run file and return the number of lines written.

    Args:
        path: the output file; a name ending in ``.gz`` is gzip-compressed. The parent folder
            must exist. An existing file is overwritten.
        results: ``query_id -> [(doc_id, score), ...]`` already in rank order, which in medsearch
            is sorted by ``(-score, doc_id)``. Ranks 1, 2, ... are assigned in the given order.
            A query with an empty list writes no line, so it is missing when the file is read back.
        tag: the run name in the sixth column, without whitespace.

    Raises:
        MedsearchError: an id or the tag is empty or contains whitespace, a score is not finite,
            or a document appears twice in one query's list. Nothing is written in that case.
    """
    path = Path(path)
    _check_token(tag, field="run tag")
    lines = []

    for query_id, ranked in results.items():
        _check_token(query_id, field="query id")
        seen: set[str] = set()

        for rank, (doc_id, score) in enumerate(ranked, start=1):
            _check_token(doc_id, field=f"doc id for query {query_id!r}")
            if doc_id in seen:
                raise MedsearchError(
                    f"doc id {doc_id!r} appears twice in the results of query {query_id!r}; "
                    "a run lists each document at most once per query"
                )
            seen.add(doc_id)

            score = float(score)
            if not math.isfinite(score):
                raise MedsearchError(
                    f"score {score!r} of doc {doc_id!r} for query {query_id!r} is not finite; "
                    "trec_eval cannot rank it"
                )
            lines.append(f"{query_id} Q0 {doc_id} {rank} {score!r} {tag}\n")

    empty = sum(1 for ranked in results.values() if len(ranked) == 0)
    if empty:
        logger.warning(
            "%d of %d queries have no results and get no line in %s; "
            "evaluation will count them as missing from the run",
            empty,
            len(results),
            path,
        )

    with open_text(path, "wt") as handle:
        handle.writelines(lines)
    logger.info("Wrote %d results for %d queries to %s", len(lines), len(results) - empty, path)
    return len(lines)


def read_run(path: str | Path) -> dict[str, dict[str, float]]:
    """Read a TREC run file into ``run[query_id][doc_id] = score``.

    Lines are ``query_id Q0 doc_id rank score tag``, separated by any whitespace like
    trec_eval reads them. The second column is not checked. The rank column must be an integer
    but is otherwise ignored: evaluation orders documents by score, as trec_eval does. Blank lines
    are skipped.

    Raises:
        InputFormatError: the file is missing or empty, or a line has the wrong number of fields,
            a rank that is not an integer, a score that is not a finite number, or a
            ``(query_id, doc_id)`` pair seen on an earlier line. The message names the line.
    """
    path = Path(path)
    run: dict[str, dict[str, float]] = {}
    first_line: dict[tuple[str, str], int] = {}
    num_lines = 0

    for line_number, line in read_lines(path):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != RUN_FIELDS:
            raise InputFormatError(
                path,
                f"expected {RUN_FIELDS} fields 'query_id Q0 doc_id rank score tag', "
                f"found {len(fields)}: {line.strip()!r}",
                line=line_number,
            )

        query_id, _, doc_id, rank, score_text, _ = fields
        try:
            int(rank)
        except ValueError:
            raise InputFormatError(
                path, f"rank {rank!r} is not an integer", line=line_number
            ) from None
        score = _parse_score(path, score_text, line_number)

        key = (query_id, doc_id)
        if key in first_line:
            raise InputFormatError(
                path,
                f"doc {doc_id!r} is listed twice for query {query_id!r} "
                f"(first on line {first_line[key]}); remove the duplicate",
                line=line_number,
            )
        first_line[key] = line_number

        run.setdefault(query_id, {})[doc_id] = score
        num_lines += 1

    if not run:
        raise InputFormatError(path, "contains no run lines")
    logger.info("Read %d results for %d queries from %s", num_lines, len(run), path)
    return run


def _parse_score(path: Path, text: str, line_number: int) -> float:
    try:
        score = float(text)
    except ValueError:
        raise InputFormatError(path, f"score {text!r} is not a number", line=line_number) from None
    if not math.isfinite(score):
        raise InputFormatError(
            path, f"score {text!r} is not finite; trec_eval cannot rank it", line=line_number
        )
    return score


def _check_token(value: str, *, field: str) -> None:
    if not isinstance(value, str) or not value or any(char.isspace() for char in value):
        raise MedsearchError(
            f"{field} {value!r} must be a non-empty string without whitespace "
            "so that the run file stays six columns per line"
        )
