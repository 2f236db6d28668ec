"""``flask scores paired DIR_A DIR_B``: the JSON it prints for two lm-eval output folders, the challenge's
weighting with ``--challenge``, and a clear message with a non-zero exit for every bad input."""

import json
from pathlib import Path

import pytest

from scoring.aggregate import TaskResult, benchmark_score
from scoring.config import TaskSpec

STAMP = "2026-03-04T05-06-07.000001"


def lm_eval_folder(root: Path, tasks: dict[str, tuple[str, list[float]]], task_hash: str = "h") -> Path:
    """An lm-eval output folder: ``tasks`` maps a task to (its metric key, the per-item values)."""
    out = root / "model"
    out.mkdir(parents=True)
    results, hashes = {}, {}
    for task, (key, values) in tasks.items():
        results[task] = {key: sum(values) / len(values), key.replace(",", "_stderr,", 1): 0.01}
        hashes[task] = f"{task_hash}-{task}"
        metric, _, filter_name = key.partition(",")
        (out / f"samples_{task}_{STAMP}.jsonl").write_text(
            "".join(
                json.dumps(
                    {
                        "doc_id": i,
                        "filter": filter_name,
                        metric: v,
                        "doc_hash": f"d{i}",
                        "target_hash": "t",
                        "prompt_hash": "p",
                    }
                )
                + "\n"
                for i, v in enumerate(values)
            )
        )
    (out / f"results_{STAMP}.json").write_text(
        json.dumps({"results": results, "config": {"model": "hf"}, "task_hashes": hashes})
    )
    return root


A = {
    "hellaswag": ("acc_norm,none", [1, 1, 0, 1, 1, 0, 1, 1]),
    "gsm8k": ("exact_match,strict-match", [1, 0, 1, 1]),
    "extra": ("f1,none", [0.5, 0.25]),
}
B = {
    "hellaswag": ("acc_norm,none", [1, 0, 0, 1, 0, 0, 1, 0]),
    "gsm8k": ("exact_match,strict-match", [0, 0, 1, 0]),
    "extra": ("f1,none", [0.75, 0.25]),
}


@pytest.fixture
def folders(tmp_path):
    return str(lm_eval_folder(tmp_path / "a", A)), str(lm_eval_folder(tmp_path / "b", B))


def run(app, *args):
    return app.test_cli_runner().invoke(args=["scores", "paired", *args])


def test_the_comparison_of_two_folders_is_printed_as_json(app, folders):
    result = run(app, *folders)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["tasks"]) == {"hellaswag", "gsm8k", "extra"}
    hellaswag = data["tasks"]["hellaswag"]
    assert (hellaswag["metric"], hellaswag["n"], hellaswag["a"], hellaswag["b"]) == ("acc_norm", 8, 0.75, 0.375)
    assert hellaswag["difference"] == 0.375 and hellaswag["p_value"] == 0.25  # 3 right in A only: 2 / 2^3
    assert data["tasks"]["gsm8k"]["metric"] == "exact_match,strict-match"
    assert "sign-flip" in data["tasks"]["extra"]["method"]
    assert data["overall"]["difference"] == pytest.approx((0.375 + 0.5 - 0.125) / 3, abs=1e-9)  # unweighted
    assert data["seed"] == 0 and data["resamples"] == 10_000 and len(data["runs"]["a"]) == 64


def test_the_same_folders_and_seed_print_byte_identical_json(app, folders):
    first, again = run(app, *folders, "--seed", "5"), run(app, *folders, "--seed", "5")
    assert first.output == again.output and json.loads(first.output)["seed"] == 5
    assert run(app, *folders, "--seed", "6").output != first.output


def test_with_a_challenge_the_overall_is_its_weighted_normalised_benchmark_score(app, folders, challenge):
    result = run(app, *folders, "--challenge", challenge)  # the fixture is the slug
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["tasks"]) == {"hellaswag", "gsm8k"}  # the suite's tasks both folders have
    suite = [
        TaskSpec("hellaswag", "hellaswag", 10, "acc_norm", 1.0, 0.25),
        TaskSpec("gsm8k", "gsm8k", 5, "exact_match,strict-match", 1.0, 0.0),
    ]
    score = {
        name: benchmark_score(suite, {t: TaskResult(sum(v) / len(v)) for t, (_, v) in run_.items() if t != "extra"})
        for name, run_ in (("a", A), ("b", B))
    }
    assert data["overall"]["a"] == pytest.approx(score["a"].value, abs=1e-9)
    assert data["overall"]["difference"] == pytest.approx(score["a"].value - score["b"].value, abs=1e-9)
    assert any("covers 2 of the suite's" in note for note in data["notes"])


def test_tasks_and_a_metric_can_be_chosen(app, folders):
    data = json.loads(run(app, *folders, "--tasks", "extra", "--metric", "f1").output)
    assert list(data["tasks"]) == ["extra"] and data["overall"]["difference"] == -0.125


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tasks", "nope"], "unknown task nope"),
        (["--metric", "bleu"], "has no metric bleu"),
        (["--challenge", "no-such-challenge"], "no challenge 'no-such-challenge'"),
        (["--resamples", "5"], "5 is not in the range"),
    ],
)
def test_bad_options_get_a_clear_message_and_a_non_zero_exit(app, folders, args, message):
    result = run(app, *folders, *args)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (ValueError, KeyError))


def test_a_folder_without_results_or_samples_is_refused_with_a_reason(app, folders, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run(app, folders[0], str(empty))
    assert result.exit_code == 1 and "no results file (results_*.json)" in result.output
    next(Path(folders[1]).rglob("samples_gsm8k_*")).unlink()
    result = run(app, *folders)
    assert result.exit_code == 1 and "task gsm8k has no per-item results" in result.output
    assert run(app, folders[0], str(tmp_path / "missing")).exit_code == 2  # click: the folder does not exist


def test_runs_of_another_task_version_are_refused(app, tmp_path):
    a = lm_eval_folder(tmp_path / "a", {"hellaswag": A["hellaswag"]})
    b = lm_eval_folder(tmp_path / "b", {"hellaswag": B["hellaswag"]}, task_hash="other")
    samples = next(b.rglob("samples_*"))
    samples.write_text(samples.read_text().replace('"target_hash": "t"', '"target_hash": "changed"'))
    result = run(app, str(a), str(b))
    assert result.exit_code == 1 and "cannot be compared item by item" in result.output
    assert "8 of the 8 shared items are other documents or targets" in result.output
