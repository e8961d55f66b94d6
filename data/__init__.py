"""Corpus input: the document model and the readers for each file format."""

from medsearch.data.document import Document

__all__ = ["Document"]
