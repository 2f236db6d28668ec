"""What one follow cycle costs on the real local Slurm cluster (SLURM_CONF): N held jobs in flight (plus up to
F finished jobs the controller already forgot, read from the jobcomp file), followed the old way (one
``scontrol show job -o ID`` per job, the jobcomp file read per forgotten job) and batched
(``SlurmRunner.poll_many``: one ``squeue`` per chunk of 500 ids, the jobcomp file read once). Reports the
Slurm commands each runs and the seconds (median and max over several rounds). The held jobs never start and
are cancelled at the end.

    eval "$(bash scripts/services/all.sh start)"; .venv/bin/python bench/slurm_follow_batch.py [--jobs 50]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.clusters import default_profiles  # noqa: E402
from evaluation.runners.base import RunHandle  # noqa: E402
from evaluation.runners.slurm import SlurmError, SlurmRunner  # noqa: E402
from evaluation.runners.slurm_states import (  # noqa: E402
    find_in_jobcomp,
    job_from_key_values,
    parse_key_values,
    parse_sbatch_job_id,
)


class CountingRun:
    """The real subprocess.run, counting the commands."""

    def __init__(self):
        self.calls = 0

    def __call__(self, args, **kwargs):
        self.calls += 1
        return subprocess.run(args, **kwargs)


def per_job_cycle(runner: SlurmRunner, handles: list[RunHandle]) -> dict:
    """The follow cycle as it was: one scontrol call per job, the jobcomp file read per forgotten job."""
    statuses = {}
    for handle in handles:
        proc = runner._slurm("scontrol", "show", "job", "-o", handle.job_id, check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            job = job_from_key_values(parse_key_values(proc.stdout.splitlines()[0]), "scontrol")
        elif "Invalid job id" in proc.stderr:
            _, location = runner.accounting()
            job = find_in_jobcomp(Path(location).read_text(errors="replace"), handle.job_id)
        else:
            raise SlurmError(proc.stderr)
        statuses[handle] = runner._status(handle, job)
    return statuses


def measure(cycle, runner: SlurmRunner, run: CountingRun, handles, rounds: int):
    seconds, commands, states = [], [], None
    for _ in range(rounds):
        before = run.calls
        started = time.perf_counter()
        statuses = cycle(runner, handles)
        seconds.append(time.perf_counter() - started)
        commands.append(run.calls - before)
        states = sorted(s.scheduler_state or s.state for s in statuses.values())
    return seconds, commands, states


def forgotten_jobs(location: str, limit: int) -> list[str]:
    known = set(
        subprocess.run(
            ["squeue", "-h", "--states=all", "-o", "%i"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    ids = [
        line.split()[0].removeprefix("JobId=")
        for line in Path(location).read_text().splitlines()
        if line.startswith("JobId=")
    ]
    return [job_id for job_id in dict.fromkeys(reversed(ids)) if job_id.isdigit() and job_id not in known][:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50, help="held jobs in flight")
    parser.add_argument("--forgotten", type=int, default=10, help="finished jobs the controller forgot, at most")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    run = CountingRun()
    runner = SlurmRunner(default_profiles()["local-slurm"], run=run)
    _, location = runner.accounting()
    submitted: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lagc-bench-follow-") as tmp:
        try:
            for i in range(args.jobs):
                out = subprocess.run(
                    [
                        "sbatch",
                        "--parsable",
                        "--hold",
                        "--job-name",
                        f"lagc-bench-follow-{i}",
                        "-o",
                        "/dev/null",
                        "--wrap",
                        "true",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=tmp,
                ).stdout
                submitted.append(parse_sbatch_job_id(out))
            old = forgotten_jobs(location, args.forgotten) if location else []
            handles = [RunHandle("slurm", job_id, tmp, "local-slurm") for job_id in submitted + old]
            rows = [("per job (scontrol show job)", per_job_cycle), ("batched (poll_many)", SlurmRunner.poll_many)]
            results = {label: measure(cycle, runner, run, handles, args.rounds) for label, cycle in rows}
        finally:
            for i in range(0, len(submitted), 500):
                subprocess.run(["scancel", *submitted[i : i + 500]], capture_output=True)
    per_states, batch_states = (results[label][2] for label, _ in rows)
    assert per_states == batch_states, "the two ways disagree about the jobs' states"
    print(f"{len(submitted)} held jobs + {len(old)} forgotten jobs (jobcomp), {args.rounds} rounds")
    print(f"{'follow cycle':30}{'commands':>10}{'median s':>10}{'max s':>8}")
    for label, _ in rows:
        seconds, commands, _ = results[label]
        print(f"{label:30}{max(commands):>10}{statistics.median(seconds):10.3f}{max(seconds):8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
