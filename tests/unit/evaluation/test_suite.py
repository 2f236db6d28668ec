"""The generated offline benchmark suite."""

import json
from pathlib import Path

import yaml

from evaluation.suite import TASK_NAMES, gen_docs, mc_docs, write_suite, yesno_docs


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_suite_writes_three_tasks_with_data_and_yaml(tmp_path):
    assert write_suite(tmp_path) == list(TASK_NAMES)
    for name in TASK_NAMES:
        docs = [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        assert 30 <= len(docs) <= 50
        config = yaml.safe_load((tmp_path / f"{name}.yaml").read_text())
        assert config["task"] == name and config["dataset_path"] == "json"


def test_yaml_files_point_at_the_data_with_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_suite("relative-suite")
    config = yaml.safe_load((tmp_path / "relative-suite" / "lagc_capitals_mc.yaml").read_text())
    data_file = Path(config["dataset_kwargs"]["data_files"]["test"])
    assert data_file.is_absolute() and data_file.exists()


def test_the_same_seed_writes_the_same_bytes_and_another_seed_other_data(tmp_path):
    write_suite(tmp_path / "a", seed=1)
    write_suite(tmp_path / "b", seed=1)
    write_suite(tmp_path / "c", seed=2)
    a, b, c = (_files(tmp_path / x) for x in "abc")
    assert {k: v for k, v in a.items() if k.endswith("jsonl")} == {k: v for k, v in b.items() if k.endswith("jsonl")}
    assert a["lagc_capitals_mc.jsonl"] != c["lagc_capitals_mc.jsonl"]


def test_every_multiple_choice_document_has_four_distinct_choices_and_a_valid_label():
    for doc in mc_docs(0):
        assert len(set(doc["choices"])) == 4 and 0 <= doc["label"] < 4


def test_the_yes_no_task_has_both_answers_and_the_generation_task_has_answers():
    labels = [doc["label"] for doc in yesno_docs(0)]
    assert 0 < sum(labels) < len(labels)
    assert all(doc["answer"] for doc in gen_docs(0))


def test_questions_come_in_four_european_languages():
    assert {doc["lang"] for doc in mc_docs(0)} == {"en", "de", "fr", "it"}
