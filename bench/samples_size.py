"""Bytes an evaluation's kept results and per-item samples take in the storage (issue 16).

1. The demo: the tiny model on the offline suite with the demo challenge's settings (3 tasks, limit 16), run by
   the platform's own command builder, then kept exactly as ingest keeps it (``evaluation.archive.keep``).
2. An estimate for the real suite: lm-eval's own ``hellaswag`` (10-shot, 10,042 items) and ``gsm8k`` (5-shot,
   1,319 items) task definitions, pointed at local copies of the data (``--data``, default ../shared/data), run
   on --limit items with the tiny model; the bytes per item are scaled to the full tasks. The samples hold every
   item's full prompt (few-shot examples included), so the tiny model's short answers change the size little;
   a real model's gsm8k answers (a few hundred characters, twice: one line per filter) add to it.
   zstd's size (its command line, if installed) is printed beside gzip's for comparison.

    .venv/bin/python bench/samples_size.py [--data DIR] [--limit 40]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.archive import keep  # noqa: E402
from evaluation.command import OFFLINE_ENV, EvalSpec, build_command  # noqa: E402
from evaluation.suite import write_suite  # noqa: E402
from evaluation.tinymodel import make_tiny_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REAL = {
    "hellaswag": (10, 10_042, {"validation": "hellaswag_val.jsonl"}),  # few-shot, items, split -> local file
    "gsm8k": (5, 1_319, {"train": "gsm8k_train.jsonl", "test": "gsm8k_test.jsonl"}),
}


def run(argv, env) -> None:
    proc = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stdout[-2000:] + proc.stderr[-3000:])


def kept_sizes(output: Path, storage: Path, evaluation_id: int) -> dict:
    kept = keep([output], storage, evaluation_id)
    return {task: (e["bytes"], e["stored_bytes"], storage / e["file"]) for task, e in kept["samples"].items()} | {
        "results": (sum(e["bytes"] for e in kept["results"]), sum(e["stored_bytes"] for e in kept["results"]), None)
    }


def zstd_bytes(gz: Path | None) -> str:
    if gz is None or not shutil.which("zstd"):
        return "-"
    raw = subprocess.run(["gzip", "-dc", str(gz)], capture_output=True, check=True).stdout
    return str(len(subprocess.run(["zstd", "-3", "-c"], input=raw, capture_output=True, check=True).stdout))


def demo(work: Path, model: Path) -> None:
    suite = work / "suite"
    tasks = write_suite(suite)
    spec = EvalSpec(
        checkpoint=str(model),
        tasks=tuple(tasks),
        output_path=str(work / "demo"),
        include_path=str(suite),
        limit=16,
        batch_size=8,
        num_parameters=150_000,
    )
    command = build_command(spec, lm_eval=(sys.executable, "-m", "lm_eval"))
    run(command.argv, command.env)
    sizes = kept_sizes(work / "demo", work / "storage", 1)
    print(
        "demo suite, tiny model, limit 16 (the demo's settings): bytes as lm-eval wrote them -> kept (gzip 6) [zstd -3]"
    )
    for task, (raw, stored, path) in sorted(sizes.items()):
        print(f"  {task:22} {raw:>10,} -> {stored:>9,}  [{zstd_bytes(path)}]")
    raw, stored = sum(s[0] for s in sizes.values()), sum(s[1] for s in sizes.values())
    print(f"  {'per evaluation':22} {raw:>10,} -> {stored:>9,}")


def real_suite(work: Path, model: Path, data: Path, limit: int) -> None:
    import lm_eval

    tasks_dir = Path(lm_eval.__file__).parent / "tasks"
    include = work / "real-tasks"
    include.mkdir()
    shutil.copy(tasks_dir / "hellaswag" / "utils.py", include / "utils.py")
    for name, (_, _, files) in REAL.items():
        text = (tasks_dir / name / f"{name}.yaml").read_text()
        text = without_tags(text)
        local = ", ".join(f"{split}: {data / file}" for split, file in files.items())
        text = text.replace(f"task: {name}", f"task: local_{name}").replace(
            text.split("dataset_path: ")[1].splitlines()[0], f"json\ndataset_kwargs: {{data_files: {{{local}}}}}"
        )
        (include / f"{name}.yaml").write_text(
            text.replace("training_split: train", "training_split: null") if name == "hellaswag" else text
        )
    print(f"real suite estimate (tiny model, {limit} items each, scaled to the full task):")
    total_raw = total_kept = 0
    for name, (shots, items, _) in REAL.items():
        out = work / f"real-{name}"
        argv = [
            sys.executable,
            "-m",
            "lm_eval",
            "--model",
            "hf",
            "--model_args",
            f"pretrained={model},use_safetensors=True,trust_remote_code=False,dtype=float32,max_length=256",
            "--tasks",
            f"local_{name}",
            "--num_fewshot",
            str(shots),
            "--include_path",
            str(include),
            "--limit",
            str(limit),
            "--batch_size",
            "8",
            "--device",
            "cpu",
            "--seed",
            "0",
            "--output_path",
            str(out),
            "--log_samples",
            "--gen_kwargs",
            "max_gen_toks=32",
        ]
        run(argv, OFFLINE_ENV)
        raw, stored, path = kept_sizes(out, work / "storage", 100 + len(name))[f"local_{name}"]
        scale = items / limit
        total_raw, total_kept = total_raw + raw * scale, total_kept + stored * scale
        print(
            f"  {name:9} {shots:>2}-shot: {raw / limit:>8,.0f} B/item -> {stored / limit:>7,.0f} kept "
            f"[zstd {zstd_bytes(path)} for {limit}]; x {items:,} items = {raw * scale / 1e6:6.1f} MB -> "
            f"{stored * scale / 1e6:5.1f} MB"
        )
    print(f"  both tasks: {total_raw / 1e6:.1f} MB as written -> {total_kept / 1e6:.1f} MB kept per evaluation")


def without_tags(yaml_text: str) -> str:
    """A task YAML without its ``tag:`` list (the local copy must not join the built-in groups) and
    ``dataset_name`` (the local files have none)."""
    out, in_tags = [], False
    for line in yaml_text.splitlines():
        in_tags = line.startswith("tag:") or (in_tags and line.startswith("  - "))
        if not in_tags and not line.startswith("dataset_name"):
            out.append(line)
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lagc-samples-size-") as tmp:
        work = Path(tmp)
        model = make_tiny_model(work / "model", seed=0)
        demo(work, model)
        if (args.data / "hellaswag_val.jsonl").exists():
            real_suite(work, model, args.data.resolve(), args.limit)
        else:
            print(f"no HellaSwag/GSM8K copies under {args.data}: the real-suite estimate is skipped")


if __name__ == "__main__":
    main()
