"""medsearch: biomedical literature retrieval with BM25, dense and hybrid search."""

from medsearch.errors import MedsearchError

__version__ = "0.1.0"

__all__ = ["MedsearchError", "__version__"]
