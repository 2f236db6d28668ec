"""A stand-in for the lm_eval command line, for scheduler tests that need a job but not a model.

It reads the checkpoint folder from --model_args and behaves as the file `behaviour` there says:
"ok" (write a results file and per-item samples), "sleep N" (wait N seconds, then write them), "fail" (exit 3
with a log line), "missing" (exit 0, write nothing), "corrupt" (exit 0, write a results file that is not JSON).
"""

import json
import sys
import time
from pathlib import Path


def arg(name):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


def main():
    checkpoint = Path(arg("--model_args").split(",")[0].split("=", 1)[1])
    behaviour = (checkpoint / "behaviour").read_text().split() if (checkpoint / "behaviour").exists() else ["ok"]
    print("fake lm_eval starting", behaviour, flush=True)
    if behaviour[0] == "sleep":
        time.sleep(float(behaviour[1]))
    if behaviour[0] == "fail":
        print("RuntimeError: something in the model went wrong", flush=True)
        return 3
    if behaviour[0] == "missing":
        return 0
    out = Path(arg("--output_path")) / "fake-model"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results_2026-01-01T00-00-00.json"
    if behaviour[0] == "corrupt":
        path.write_text("{not json")
        return 0
    tasks = arg("--tasks").split(",")
    shots = int(arg("--num_fewshot") or 0)
    results = {
        t: {
            "alias": t,
            "acc,none": 0.25 + 0.125 * i,
            "acc_stderr,none": 0.01 * (i + 1),
            "exact_match,none": 0.5,
            "exact_match_stderr,none": "N/A",
        }
        for i, t in enumerate(tasks)
    }
    path.write_text(
        json.dumps(
            {
                "results": results,
                "versions": {t: 1.0 for t in tasks},
                "n-shot": {t: shots for t in tasks},
                "n-samples": {t: {"original": 48, "effective": 8} for t in tasks},
                "task_hashes": {t: f"hash-{t}" for t in tasks},
                "lm_eval_version": "0.0-fake",
                "transformers_version": "0.0-fake",
                "total_evaluation_time_seconds": "1.5",
                "config": {
                    "model": "hf",
                    "model_args": arg("--model_args"),
                    "batch_size": arg("--batch_size"),
                    "device": "cpu",
                    "model_dtype": "torch.float32",
                    "limit": arg("--limit"),
                    "random_seed": 0,
                    "numpy_seed": 0,
                    "torch_seed": 0,
                    "fewshot_seed": 0,
                },
            }
        )
    )
    for t, body in results.items():  # per-item lines whose means are the reported values, as lm-eval writes
        lines = [
            json.dumps(
                {
                    "doc_id": d,
                    "filter": "none",
                    "acc": float(d < body["acc,none"] * 8),
                    "exact_match": float(d < 4),
                    "doc_hash": f"doc-{d}",
                    "prompt_hash": f"prompt-{d}",
                    "target_hash": f"target-{d}",
                }
            )
            for d in range(8)
        ]
        (out / f"samples_{t}_2026-01-01T00-00-00.jsonl").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
