"""Reading lm-eval output folders (results and per-item samples, compressed or not) into per-item values,
and keeping them in the storage: what is read, what is refused, and why."""

import gzip
import hashlib
import json
import stat
from pathlib import Path

import pytest

from evaluation.archive import evaluation_folder, keep
from evaluation.samples import SamplesError, read_run, task_items

STAMP = "2026-01-02T03-04-05.678901"


def write_run(
    folder: Path,
    tasks: dict,
    groups: dict | None = None,
    hashes: dict | None = None,
    reported: dict | None = None,
    compress: bool = False,
) -> Path:
    """An lm-eval output folder: ``tasks`` maps a leaf task to [(doc_id, acc, filter)] lines."""
    out = folder / "model__name"
    out.mkdir(parents=True)
    results = {}
    for task, lines in tasks.items():
        values = [acc for _, acc, f in lines if f == "none"]
        results[task] = {"acc,none": sum(values) / len(values), "acc_stderr,none": 0.1}
    results.update(reported or {})
    raw = {
        "results": results,
        "config": {"model": "hf"},
        "group_subtasks": groups or {},
        "task_hashes": hashes if hashes is not None else {t: f"hash-{t}" for t in tasks},
    }
    (out / f"results_{STAMP}.json").write_text(json.dumps(raw))
    for task, lines in tasks.items():
        text = "".join(
            json.dumps(
                {"doc_id": d, "filter": f, "acc": acc, "doc_hash": f"d{d}", "target_hash": "t", "prompt_hash": f"p{d}"}
            )
            + "\n"
            for d, acc, f in lines
        )
        name = out / f"samples_{task}_{STAMP}.jsonl"
        if compress:
            name.with_name(name.name + ".gz").write_bytes(gzip.compress(text.encode()))
        else:
            name.write_text(text)
    return folder


def lines(*values, filter_name="none"):
    return [(i, float(v), filter_name) for i, v in enumerate(values)]


def test_a_tasks_items_are_read_by_doc_id_with_their_hashes(tmp_path):
    run = read_run(write_run(tmp_path, {"t": lines(1, 0, 1, 1)}))
    items = task_items(run, "t")
    assert items.metric == "acc" and list(items.doc_ids) == [0, 1, 2, 3] and list(items.values) == [1, 0, 1, 1]
    assert items.task_hash == "hash-t" and items.item_hashes[0] == "d0:t" and items.prompt_hashes[2] == "p2"


def test_compressed_samples_read_the_same_as_plain_ones(tmp_path):
    plain = task_items(read_run(write_run(tmp_path / "a", {"t": lines(1, 0, 1)})), "t")
    packed = task_items(read_run(write_run(tmp_path / "b", {"t": lines(1, 0, 1)}, compress=True)), "t")
    assert list(plain.values) == list(packed.values) and list(plain.doc_ids) == list(packed.doc_ids)


def test_only_the_lines_of_the_metrics_filter_are_read(tmp_path):
    folder = write_run(
        tmp_path,
        {"t": lines(1, 1) + lines(0, 0, filter_name="strict-match")},
        reported={"t": {"acc,none": 1.0, "acc,strict-match": 0.0}},
    )
    run = read_run(folder)
    assert list(task_items(run, "t", "acc,strict-match").values) == [0.0, 0.0]
    assert list(task_items(run, "t", "acc").values) == [1.0, 1.0]


def test_a_group_task_is_the_items_of_its_subtasks(tmp_path):
    folder = write_run(
        tmp_path,
        {"g_a": lines(1, 0), "g_b": lines(1, 1, 1)},
        groups={"g": ["g_a", "g_b"]},
        reported={"g": {"acc,none": 0.8}},
    )
    run = read_run(folder)
    items = task_items(run, "g")
    assert items.values.size == 5 and items.values.mean() == pytest.approx(0.8) and len(set(items.doc_ids)) == 5
    assert items.task_hash and items.item_hashes[0].startswith("g_a/")
    assert run.top_level_tasks == ["g"]


def test_items_that_do_not_add_up_to_the_reported_score_are_refused(tmp_path):
    folder = write_run(tmp_path, {"t": lines(1, 0)}, reported={"t": {"acc,none": 0.9}})
    with pytest.raises(SamplesError, match="is not the reported 0.900000"):
        task_items(read_run(folder), "t")


def test_a_run_without_samples_says_to_log_them(tmp_path):
    folder = write_run(tmp_path, {"t": lines(1, 0)})
    next(folder.rglob("samples_*")).unlink()
    with pytest.raises(SamplesError, match="no per-item results .* run lm-eval with --log_samples"):
        task_items(read_run(folder), "t")


def test_unknown_tasks_metrics_and_folders_are_named(tmp_path):
    run = read_run(write_run(tmp_path / "run", {"t": lines(1)}))
    with pytest.raises(SamplesError, match="task u is not in"):
        task_items(run, "u")
    with pytest.raises(SamplesError, match="has no metric f1"):
        task_items(run, "t", "f1")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SamplesError, match="no results file"):
        read_run(tmp_path / "empty")
    with pytest.raises(SamplesError, match="is not a folder"):
        read_run(tmp_path / "missing")


def test_a_corpus_level_metric_cannot_be_compared_item_by_item(tmp_path):
    folder = write_run(tmp_path, {"t": lines(1)})
    path = next(folder.rglob("samples_*"))
    path.write_text(json.dumps({"doc_id": 0, "filter": "none", "acc": ["ref", "pred"]}) + "\n")
    with pytest.raises(SamplesError, match="corpus-level metric"):
        task_items(read_run(folder), "t")


def test_two_results_files_reporting_one_task_are_refused(tmp_path):
    folder = write_run(tmp_path, {"t": lines(1)})
    results = next(folder.rglob("results_*.json"))
    results.with_name("results_2027-01-01T00-00-00.json").write_bytes(results.read_bytes())
    with pytest.raises(SamplesError, match="reported by two results files"):
        read_run(folder)


def test_the_run_id_is_the_hash_of_its_results_wherever_the_folder_lives(tmp_path):
    first = read_run(write_run(tmp_path / "a", {"t": lines(1, 0)}))
    moved = read_run(write_run(tmp_path / "b" / "deeper", {"t": lines(1, 0)}))
    other = read_run(write_run(tmp_path / "c", {"t": lines(1, 1)}))
    assert first.run_id == moved.run_id != other.run_id


def test_keeping_copies_results_unchanged_and_gzips_samples_with_their_sha256(tmp_path):
    out = write_run(tmp_path / "job" / "output", {"t": lines(1, 0, 1), "u": lines(0, 1)})
    kept = keep([out], tmp_path / "storage", 12)
    folder = evaluation_folder(tmp_path / "storage", 12)
    assert kept["folder"] == "evaluations/12" and folder.is_dir()
    for task in ("t", "u"):
        original = next(out.rglob(f"samples_{task}_*")).read_bytes()
        entry = kept["samples"][task]
        stored = tmp_path / "storage" / entry["file"]
        assert gzip.decompress(stored.read_bytes()) == original
        assert entry["sha256"] == hashlib.sha256(original).hexdigest() and entry["bytes"] == len(original)
        assert stat.S_IMODE(stored.stat().st_mode) == 0o444 and stored.stat().st_size == entry["stored_bytes"]
    [results] = kept["results"]
    assert (tmp_path / "storage" / results["file"]).read_bytes() == next(out.rglob("results_*")).read_bytes()
    assert task_items(read_run(folder), "t").values.tolist() == [1.0, 0.0, 1.0]  # the kept folder reads back


def test_keeping_gives_the_same_bytes_every_time_and_replaces_an_unfinished_earlier_copy(tmp_path):
    out = write_run(tmp_path / "job" / "output", {"t": lines(1, 0, 1)})
    first = keep([out], tmp_path / "storage", 3)
    stored = tmp_path / "storage" / first["samples"]["t"]["file"]
    before = stored.read_bytes()
    again = keep([out], tmp_path / "storage", 3)
    assert again == first and stored.read_bytes() == before
    assert [p.name for p in (tmp_path / "storage" / "evaluations").iterdir()] == ["3"]  # no temporary folder left
