"""Read SQuAD-format question-answering files and select parts of them.

A SQuAD file is ``{"data": [{"title": ..., "paragraphs": [{"context": ..., "qas": [...]}]}]}``;
each question has an ``id``, a ``question``, ``answers`` (``text`` + character ``answer_start``)
and, in SQuAD 2.0 layout, ``is_impossible``. COVID-QA paragraphs also carry a ``document_id``.

A *source spec* names a file and, optionally, which part of it to use:
``PATH@questions=2000,split=train,repeat=2`` (see :func:`parse_source`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path

from medsearch.errors import InputFormatError, MedsearchError

logger = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
DEFAULT_SPLIT_SEED = 13


@dataclass(frozen=True)
class QAExample:
    """One question over one context.

    ``answers`` holds ``(text, start)`` pairs whose character offsets were checked against
    ``context``; it is empty only when ``is_impossible`` is true.
    """

    example_id: str
    question: str
    context: str
    context_id: str
    answers: tuple[tuple[str, int], ...]
    is_impossible: bool = False


@dataclass(frozen=True)
class Source:
    """A SQuAD file and the part of it to use.

    ``questions``: keep a seeded random subsample of this many questions (None keeps all).
    ``split``: keep only this part (train, dev or test) of the seeded 80/10/10 split by context.
    ``repeat``: how many times each training example is shown per pass over the data.
    """

    path: Path
    questions: int | None = None
    split: str | None = None
    repeat: int = 1

    def describe(self) -> str:
        """Return the spec string that :func:`parse_source` reads back into this source."""
        options = []
        if self.questions is not None:
            options.append(f"questions={self.questions}")
        if self.split is not None:
            options.append(f"split={self.split}")
        if self.repeat != 1:
            options.append(f"repeat={self.repeat}")
        return str(self.path) + ("@" + ",".join(options) if options else "")


def parse_source(spec: str) -> Source:
    """Parse ``PATH[@key=value,...]`` with keys ``questions``, ``split`` and ``repeat``.

    Raises:
        MedsearchError: for an unknown key or a value that is not valid.
    """
    path_text, _, option_text = spec.partition("@")
    options: dict[str, str] = {}
    for item in filter(None, option_text.split(",")):
        key, separator, value = item.partition("=")
        if not separator or key not in ("questions", "split", "repeat"):
            raise MedsearchError(
                f"invalid option {item!r} in data spec {spec!r}; use PATH@questions=N,split=train|dev|test,repeat=N"
            )
        options[key] = value

    split = options.get("split")
    if split is not None and split not in SPLITS:
        raise MedsearchError(f"invalid split {split!r} in data spec {spec!r}; choose one of {', '.join(SPLITS)}")
    try:
        questions = int(options["questions"]) if "questions" in options else None
        repeat = int(options.get("repeat", "1"))
    except ValueError:
        raise MedsearchError(f"questions and repeat must be whole numbers in data spec {spec!r}") from None
    if (questions is not None and questions < 1) or repeat < 1:
        raise MedsearchError(f"questions and repeat must be at least 1 in data spec {spec!r}")
    return Source(path=Path(path_text), questions=questions, split=split, repeat=repeat)


def context_id_of(context: str) -> str:
    """Return a stable id for a context: the first 12 hex digits of its SHA-1."""
    return hashlib.sha1(context.encode("utf-8")).hexdigest()[:12]


def read_squad(path: str | Path) -> list[QAExample]:
    """Read every question of a SQuAD v1.1 or v2.0 file, in file order.

    Answers whose ``answer_start`` does not point at their ``text`` are dropped, and so is a
    question left with no answer that is not marked impossible; both are counted in one WARNING.

    Raises:
        InputFormatError: if the file is missing, is not JSON or lacks the SQuAD keys.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as handle:
            payload = json.load(handle)
        articles = payload["data"]
    except FileNotFoundError:
        raise InputFormatError(path, "file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputFormatError(path, f"not a JSON file: {error}") from None
    except (KeyError, TypeError):
        raise InputFormatError(path, 'not a SQuAD file: expected a top-level {"data": [...]}') from None

    examples: list[QAExample] = []
    bad_offsets = 0
    dropped_questions = 0
    try:
        for article in articles:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                context_id = str(paragraph.get("document_id") or context_id_of(context))
                for qa in paragraph["qas"]:
                    answers = []
                    for answer in qa.get("answers", []):
                        text, start = answer["text"], int(answer["answer_start"])
                        if text and context[start : start + len(text)] == text:
                            answers.append((text, start))
                        else:
                            bad_offsets += 1
                    impossible = bool(qa.get("is_impossible", False))
                    if not answers and not impossible:
                        dropped_questions += 1
                        continue
                    examples.append(
                        QAExample(
                            example_id=str(qa["id"]),
                            question=qa["question"],
                            context=context,
                            context_id=context_id,
                            answers=tuple(answers) if not impossible else (),
                            is_impossible=impossible,
                        )
                    )
    except (KeyError, TypeError, ValueError) as error:
        raise InputFormatError(path, f"not a SQuAD file: missing or invalid field {error}") from None

    if bad_offsets:
        logger.warning(
            "%s: dropped %d answers whose answer_start does not match their text, and %d questions left "
            "without an answer",
            path,
            bad_offsets,
            dropped_questions,
        )
    logger.info("Read %d questions over %d contexts from %s", len(examples), _count_contexts(examples), path)
    return examples


def split_by_context(
    examples: list[QAExample], split: str, seed: int = DEFAULT_SPLIT_SEED
) -> tuple[list[QAExample], list[str]]:
    """Keep the questions whose context falls in ``split`` of a seeded 80/10/10 split by context.

    Questions on one context always land in the same split, so a test split never shares a
    paragraph with training. Returns the kept questions and the sorted context ids of the split.
    """
    if split not in SPLITS:
        raise MedsearchError(f"invalid split {split!r}; choose one of {', '.join(SPLITS)}")

    context_ids = sorted({example.context_id for example in examples})
    random.Random(seed).shuffle(context_ids)
    train_end = round(len(context_ids) * SPLIT_FRACTIONS[0])
    dev_end = train_end + round(len(context_ids) * SPLIT_FRACTIONS[1])
    bounds = {"train": (0, train_end), "dev": (train_end, dev_end), "test": (dev_end, len(context_ids))}
    low, high = bounds[split]

    chosen = set(context_ids[low:high])
    return [example for example in examples if example.context_id in chosen], sorted(chosen)


def load_source(source: Source, seed: int = DEFAULT_SPLIT_SEED) -> tuple[list[QAExample], dict[str, object]]:
    """Read a source's file and apply its split and subsample.

    The split always uses ``DEFAULT_SPLIT_SEED`` so that training and evaluation agree on it;
    ``seed`` only draws the ``questions`` subsample. Returns the examples and a record of what
    was kept (file, SHA-256, counts, split context ids) for a training or evaluation report.
    """
    examples = read_squad(source.path)
    record: dict[str, object] = {
        "path": str(source.path),
        "spec": source.describe(),
        "sha256": file_sha256(source.path),
        "questions_in_file": len(examples),
    }

    if source.split is not None:
        examples, context_ids = split_by_context(examples, source.split)
        record["split"] = source.split
        record["split_seed"] = DEFAULT_SPLIT_SEED
        record["split_context_ids"] = context_ids

    if source.questions is not None and source.questions < len(examples):
        examples = random.Random(seed).sample(examples, source.questions)
        record["subsample_seed"] = seed

    record["questions"] = len(examples)
    record["contexts"] = _count_contexts(examples)
    record["repeat"] = source.repeat
    return examples, record


def file_sha256(path: str | Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _count_contexts(examples: list[QAExample]) -> int:
    return len({example.context_id for example in examples})
