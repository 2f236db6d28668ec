"""Why a run failed, in words a founder understands; and reading the end of a log."""

import pytest

from evaluation.runners.base import RunHandle, explain_failure, read_tail


@pytest.mark.parametrize(
    "code, tail, reason",
    [
        (1, ["torch.OutOfMemoryError: CUDA out of memory."], "the model ran out of GPU memory"),
        (1, ["ValueError: ... set the option `trust_remote_code=True`"], "its own Python code"),
        (1, ["OSError: /m does not appear to have a file named config.json"], "checkpoint is incomplete"),
        (137, ["Killed"], "killed (most likely it ran out of memory)"),
        (2, ["something else"], "exit code 2"),
        (None, [], "without reporting an exit code"),
    ],
)
def test_failures_are_explained(code, tail, reason):
    assert reason in explain_failure(code, tail)


def test_the_tail_of_a_log_keeps_the_last_lines_and_only_the_last_progress_bar_update(tmp_path):
    log = tmp_path / "lm_eval.log"
    log.write_text("".join(f"line {i}\n" for i in range(50)) + "10%\r50%\r100%|done\n")
    tail = read_tail(log, lines=3)
    assert tail == ("line 48", "line 49", "100%|done")
    assert read_tail(tmp_path / "missing.log") == ()


def test_a_handle_survives_a_round_trip_through_plain_data():
    handle = RunHandle("local", "123", "/jobs/1", "98765")
    assert RunHandle.from_dict(handle.to_dict()) == handle
