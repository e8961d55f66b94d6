"""The document model shared by every reader, the indexer and the retriever."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Document:
    """One abstract with its identifiers and optional PubMed metadata.

    ``doc_id`` is the corpus identifier (the PMID for PubMed input, ``_id`` for BEIR).
    ``title`` and ``abstract`` may be empty strings but are never ``None``.
    """

    doc_id: str
    title: str
    abstract: str
    pmid: str | None = None
    year: int | None = None
    journal: str | None = None
    mesh_terms: tuple[str, ...] = field(default_factory=tuple)
    publication_types: tuple[str, ...] = field(default_factory=tuple)
    doi: str | None = None

    @property
    def text(self) -> str:
        """Title and abstract joined by a blank line, as BM25 and the reader see them."""
        if self.title and self.abstract:
            return f"{self.title}\n\n{self.abstract}"
        return self.title or self.abstract
