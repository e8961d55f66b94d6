# Two entry points for a fresh machine:
#   make demo   create .venv, install medsearch, index the bundled SciFact corpus, run two queries
#               and read the top abstracts of a question for answer spans
#   make test   create .venv, install medsearch with its test extras, run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INDEX ?= indexes/scifact

.PHONY: demo test test-quick install clean

$(BIN)/medsearch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU wheel of torch first, so that the dependency range installs nothing more.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/medsearch

install: $(BIN)/medsearch

demo: install
	$(BIN)/medsearch index --out $(INDEX) --overwrite
	$(BIN)/medsearch query "vitamin D supplementation and bone fractures in the elderly" --index $(INDEX) -k 5
	$(BIN)/medsearch query "Does smoking increase the risk of rheumatoid arthritis?" --index $(INDEX) -k 5 --mode hybrid
	$(BIN)/medsearch query "Which cells produce insulin?" --index $(INDEX) --answer

test: install
	$(BIN)/pytest

test-quick: install
	$(BIN)/pytest -m "not quality"

clean:
	rm -rf $(VENV) indexes build dist *.egg-info
