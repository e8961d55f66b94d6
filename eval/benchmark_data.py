"""The test collections of the retrieval benchmark: SciFact and NFCorpus in a data directory.

Expected layout under the data directory:

* ``scifact/corpus.jsonl``, ``scifact/queries.jsonl`` (BEIR, ``metadata.split`` is ``train``
  or ``test``) and ``scifact/qrels/{train,test}.tsv``.
* ``nfcorpus/test.docs`` (``MED-id<TAB>text``), ``nfcorpus/test.titles.queries`` and
  ``nfcorpus/test.2-1-0.qrel`` (TREC qrels, grades 2, 1 and 0), as in the original NFCorpus
  release (Boteva et al., ECIR 2016).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from medsearch.data.document import Document
from medsearch.data.readers import read_documents
from medsearch.errors import InputFormatError, MedsearchError
from medsearch.eval._files import read_lines
from medsearch.eval.topics import read_qrels, read_queries

logger = logging.getLogger(__name__)

__all__ = ["COLLECTIONS", "BenchmarkCollection", "nfcorpus", "read_nfcorpus_docs", "scifact"]


@dataclass(frozen=True)
class BenchmarkCollection:
    """A corpus with one split's queries and qrels.

    Attributes:
        name: the collection name, also used for the cached index directory.
        corpus_path, queries_path, qrels_path: the files read.
        split: the BEIR ``metadata.split`` of the queries kept, or ``None`` for all.
        note: how the corpus and queries were prepared, for the benchmark report.
        read_corpus: the reader that yields the documents of ``corpus_path``.
    """

    name: str
    corpus_path: Path
    queries_path: Path
    qrels_path: Path
    split: str | None
    note: str
    read_corpus: Callable[[Path], Iterator[Document]]

    def documents(self) -> list[Document]:
        """Read the corpus.

        Raises:
            InputFormatError: the corpus file is missing or malformed.
        """
        return list(self.read_corpus(self.corpus_path))

    def queries(self) -> dict[str, str]:
        """Read ``{query_id: text}`` of the split.

        Raises:
            InputFormatError: the query file is missing or malformed.
        """
        return read_queries(self.queries_path, split=self.split)

    def qrels(self) -> dict[str, dict[str, int]]:
        """Read ``qrels[query_id][doc_id] = grade``.

        Raises:
            InputFormatError: the qrels file is missing or malformed.
        """
        return read_qrels(self.qrels_path)


def scifact(data_dir: str | Path, split: str = "test") -> BenchmarkCollection:
    """Return SciFact (Wadden et al., EMNLP 2020) in the BEIR layout: 5,183 abstracts.

    Raises:
        MedsearchError: a file of the collection is missing under ``data_dir``.
    """
    root = Path(data_dir) / "scifact"
    return _checked(
        BenchmarkCollection(
            name="scifact",
            corpus_path=root / "corpus.jsonl",
            queries_path=root / "queries.jsonl",
            qrels_path=root / "qrels" / f"{split}.tsv",
            split=split,
            note="BEIR layout: title and abstract; the claims of the split are the queries",
            read_corpus=read_documents,
        )
    )


def nfcorpus(data_dir: str | Path) -> BenchmarkCollection:
    """Return the NFCorpus test split: 3,162 documents, 325 title queries, graded qrels.

    Raises:
        MedsearchError: a file of the collection is missing under ``data_dir``.
    """
    root = Path(data_dir) / "nfcorpus"
    return _checked(
        BenchmarkCollection(
            name="nfcorpus",
            corpus_path=root / "test.docs",
            queries_path=root / "test.titles.queries",
            qrels_path=root / "test.2-1-0.qrel",
            split=None,
            note=(
                "original release: the documents are already lower-cased, with stop words, "
                "numbers and punctuation removed. The queries are the NutritionFacts page titles. "
                "Qrels grades: 2 for a direct link, 1 for an indirect one"
            ),
            read_corpus=read_nfcorpus_docs,
        )
    )


COLLECTIONS: dict[str, Callable[[Path], BenchmarkCollection]] = {"scifact": scifact, "nfcorpus": nfcorpus}
"""The benchmark's collections by name, each built from a data directory (test split)."""


def read_nfcorpus_docs(path: str | Path) -> Iterator[Document]:
    """Yield the documents of an NFCorpus ``*.docs`` file: ``doc_id<TAB>text`` per line.

    The text has title and abstract run together, so it becomes the abstract and the title
    stays empty. Blank lines are skipped; a line with an empty text is skipped too, and a
    WARNING gives the count.

    Raises:
        InputFormatError: the file is missing, or a line has no tab or no doc id.
    """
    path = Path(path)
    without_text = 0
    for line_number, line in read_lines(path):
        if not line.strip():
            continue
        doc_id, separator, text = line.partition("\t")
        if not separator or not doc_id.strip():
            raise InputFormatError(path, "expected doc_id<TAB>text", line=line_number)
        if not text.strip():
            without_text += 1
            continue
        yield Document(doc_id=doc_id.strip(), title="", abstract=text.strip())
    if without_text:
        logger.warning("%s: skipped %d documents with an empty text", path, without_text)


def _checked(collection: BenchmarkCollection) -> BenchmarkCollection:
    for path in (collection.corpus_path, collection.queries_path, collection.qrels_path):
        if not path.is_file():
            raise MedsearchError(
                f"{collection.name} file {path} not found; pass --data with the directory that "
                f"contains {collection.name}/ (see the module docstring of medsearch.eval.benchmark_data)"
            )
    return collection
