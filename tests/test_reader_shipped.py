"""Tests of the reader model shipped in medsearch/reader/model (loaded once per session)."""

from __future__ import annotations

import json

import pytest
from safetensors import safe_open

from medsearch.reader import Reader, shipped_model_path
from medsearch.reader.reader import READER_CONFIG

MAX_SHIPPED_BYTES = 50 * 1024 * 1024


@pytest.fixture(scope="session")
def shipped_reader() -> Reader:
    return Reader(device="cpu")


def test_shipped_files_present_and_small():
    directory = shipped_model_path()

    weights = directory / "model.safetensors"
    record = json.loads((directory / "training.json").read_text())
    settings = json.loads((directory / READER_CONFIG).read_text())

    assert weights.stat().st_size <= MAX_SHIPPED_BYTES
    with safe_open(str(weights), framework="pt") as handle:
        assert {str(handle.get_tensor(name).dtype) for name in handle.keys()} == {"torch.float16"}
    assert (directory / "tokenizer.json").is_file()
    assert record["finished"] is True
    assert record["config"]["seed"] is not None
    assert all(len(entry["sha256"]) == 64 for entry in record["data"])
    assert "no_answer_threshold" in settings
    assert settings["calibration"]["data"]["sha256"]


def test_shipped_reader_answers_hand_written_passage(shipped_reader):
    passages = [
        ("p1", "Hypertension is common in older adults. Regular exercise lowers blood pressure modestly."),
        (
            "p2",
            "Guidelines for type 2 diabetes agree on one point: metformin is the first-line drug treatment, "
            "started together with changes in diet and exercise.",
        ),
    ]

    answers = shipped_reader.read("What is the first-line drug treatment for type 2 diabetes?", passages, top_k=3)

    assert answers, "the shipped reader found no answer above its threshold"
    assert answers[0].doc_id == "p2"
    assert "metformin" in answers[0].text.lower()
    assert dict(passages)["p2"][answers[0].start : answers[0].end] == answers[0].text


def test_shipped_reader_settings_come_from_config(shipped_reader):
    settings = json.loads((shipped_model_path() / READER_CONFIG).read_text())

    assert shipped_reader.settings.no_answer_threshold == settings["no_answer_threshold"]
    assert shipped_reader.settings.max_length == settings["max_length"]
