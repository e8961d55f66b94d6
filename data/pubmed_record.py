"""Field extraction from one parsed PubMed/MEDLINE citation element.

Paths follow the NLM PubMed DTD (``pubmed_250101.dtd``; older versions use the same
names for the fields read here). Every path is anchored at ``MedlineCitation`` or
``PubmedData`` so that identifiers inside ``CommentsCorrectionsList`` and
``ReferenceList`` (PMIDs and DOIs of other articles) are never picked up.
"""

from __future__ import annotations

import re

from lxml import etree

from medsearch.data.document import Document
from medsearch.data.text import normalize_whitespace

MATHML_NAMESPACE = "{http://www.w3.org/1998/Math/MathML}"

# A year on its own: "1998 Dec-1999 Jan" gives 1998, "1947-1948" gives 1947.
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


class CitationError(ValueError):
    """A citation element lacks a field that the DTD requires (the caller adds file and line)."""


def element_text(element: etree._Element | None) -> str:
    """Return the text of ``element`` with inline markup removed and whitespace normalised.

    Text inside ``<i>``, ``<sup>``, ``<sub>``, ``<b>``, ``<u>`` and MathML is kept, so
    ``r<sup>2</sup>`` becomes ``r2``. Inside MathML, whitespace-only text between elements is
    indentation and is dropped, so a formula reads ``V.O2max`` rather than ``V . O 2 m a x``,
    while the content of a leaf element such as ``<mml:mtext> </mml:mtext>`` is kept.
    Comments, processing instructions and unexpanded entity references contribute no text.
    Returns an empty string for ``None``.
    """
    if element is None:
        return ""
    parts: list[str] = []
    _collect_text(element, parts, in_math=False)
    return normalize_whitespace("".join(parts))


def _collect_text(element: etree._Element, parts: list[str], *, in_math: bool) -> None:
    # Only elements have a str tag; comments, processing instructions and entity
    # references have a factory function as their tag.
    if isinstance(element.tag, str):
        in_math = in_math or element.tag.startswith(MATHML_NAMESPACE)
        is_leaf = len(element) == 0
        _append_text(parts, element.text, in_math=in_math and not is_leaf)

    for child in element:
        _collect_text(child, parts, in_math=in_math)
        _append_text(parts, child.tail, in_math=in_math)


def _append_text(parts: list[str], text: str | None, *, in_math: bool) -> None:
    if text and not (in_math and text.isspace()):
        parts.append(text)


def abstract_text(article: etree._Element | None) -> str:
    """Join the ``AbstractText`` parts of ``Article/Abstract``, each prefixed with its ``Label``.

    A structured abstract reads ``"BACKGROUND: ... METHODS: ..."``. Parts are joined by
    one space, and parts without text are left out.
    """
    if article is None:
        return ""
    parts = []
    for section in article.iterfind("Abstract/AbstractText"):
        text = element_text(section)
        label = normalize_whitespace(section.get("Label", ""))
        if text and label:
            parts.append(f"{label}: {text}")
        elif text:
            parts.append(text)
    return " ".join(parts)


def publication_year(article: etree._Element | None) -> int | None:
    """Return the year of ``PubDate/Year``, else the first year in ``PubDate/MedlineDate``, else ``ArticleDate/Year``."""
    if article is None:
        return None
    candidates = (
        article.findtext("Journal/JournalIssue/PubDate/Year"),
        article.findtext("Journal/JournalIssue/PubDate/MedlineDate"),
        article.findtext("ArticleDate/Year"),
    )
    for candidate in candidates:
        match = _YEAR.search(candidate or "")
        if match:
            return int(match.group(1))
    return None


def article_doi(citation: etree._Element, pubmed_data: etree._Element | None) -> str | None:
    """Return the DOI from ``PubmedData/ArticleIdList``, else from a valid ``Article/ELocationID``."""
    if pubmed_data is not None:
        for article_id in pubmed_data.iterfind("ArticleIdList/ArticleId"):
            doi = normalize_whitespace(article_id.text or "")
            if article_id.get("IdType") == "doi" and doi:
                return doi

    for location in citation.iterfind("Article/ELocationID"):
        doi = normalize_whitespace(location.text or "")
        if location.get("EIdType") == "doi" and location.get("ValidYN") != "N" and doi:
            return doi
    return None


def _texts(parent: etree._Element, path: str) -> tuple[str, ...]:
    texts = (element_text(element) for element in parent.iterfind(path))
    return tuple(text for text in texts if text)


def citation_to_document(citation: etree._Element, pubmed_data: etree._Element | None = None) -> Document:
    """Build a Document from a ``MedlineCitation`` element and its sibling ``PubmedData``, if any.

    ``doc_id`` and ``pmid`` are the text of ``MedlineCitation/PMID``. The title is
    ``ArticleTitle``, or ``VernacularTitle`` when ``ArticleTitle`` is empty. The journal
    is ``Journal/Title``, or ``MedlineJournalInfo/MedlineTA`` when that is missing.

    Raises:
        CitationError: the citation has no ``PMID``.
    """
    pmid = normalize_whitespace(citation.findtext("PMID") or "")
    if not pmid:
        raise CitationError("MedlineCitation has no PMID, which the PubMed DTD requires")

    article = citation.find("Article")
    title = ""
    journal = ""
    if article is not None:
        title = element_text(article.find("ArticleTitle")) or element_text(article.find("VernacularTitle"))
        journal = element_text(article.find("Journal/Title"))
    journal = journal or element_text(citation.find("MedlineJournalInfo/MedlineTA"))

    return Document(
        doc_id=pmid,
        title=title,
        abstract=abstract_text(article),
        pmid=pmid,
        year=publication_year(article),
        journal=journal or None,
        mesh_terms=_texts(citation, "MeshHeadingList/MeshHeading/DescriptorName"),
        publication_types=_texts(citation, "Article/PublicationTypeList/PublicationType"),
        doi=article_doi(citation, pubmed_data),
    )
