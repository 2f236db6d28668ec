"""Upload a 2 GiB safetensors file through gunicorn with tus, in chunks, and compare with sha256sum.

    .venv/bin/python bench/upload_throughput.py [--gib 2] [--chunk-mib 64] [--min-ratio 0.5]

Targets (issue 4): upload throughput at least half of `sha256sum` on the same file and machine (raise the
bar with --min-ratio), and the web workers' peak memory grows by less than 100 MiB (the server streams; it
never holds a file). Wall time decides the ratio; the CPU seconds of sha256sum, the workers and this client
are printed beside it, because on a shared machine they say what the code costs apart from the load.
The client sends `Upload-Checksum: sha256` with every chunk, hashing the next chunk while the current one
uploads, so the server verifies every chunk as it would for a real script. Exits 1 when a target is missed.
Everything lives in a temporary folder that is deleted at the end.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def write_safetensors(path: Path, total_bytes: int) -> None:
    """A valid safetensors file of about `total_bytes`: one U8 tensor, random data repeated in 64 MiB blocks."""
    header = b""
    for _ in range(2):  # the header's own length changes the data size once
        size = total_bytes - 8 - len(header)
        header = json.dumps({"weight": {"dtype": "U8", "shape": [size], "data_offsets": [0, size]}}).encode()
    block = os.urandom(64 * MIB)
    with open(path, "wb") as handle:
        handle.write(len(header).to_bytes(8, "little") + header)
        remaining = total_bytes - 8 - len(header)
        while remaining:
            handle.write(block[: min(len(block), remaining)])
            remaining -= min(len(block), remaining)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_instance(env: dict) -> str:
    """Migrate, load the demo (an eligible team), and return an API token of its entrant."""
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for args in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run(flask + args, env=env, cwd=ROOT, check=True, capture_output=True)
    code = (
        "import app.models; from app.settings import Settings; from app.db import make_engine, session_scope;"
        "from app.accounts.services import find_user, issue_token;"
        "engine = make_engine(Settings.from_env().database_url)\n"
        "with session_scope(engine) as s: print(issue_token(s, find_user(s, 'aurora@demo.lagc.eu'), 'bench')[1])"
    )
    made = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    if made.returncode:
        raise SystemExit(f"could not issue a token:\n{made.stderr}")
    return made.stdout.strip().splitlines()[-1]


class MemoryWatch:
    """Samples the RSS of gunicorn's workers every 20 ms; reports the largest growth over their baseline."""

    def __init__(self, master: psutil.Process):
        self.workers = master.children()
        self.baseline = {w.pid: w.memory_info().rss for w in self.workers}
        self.peak = dict(self.baseline)
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            for worker in self.workers:
                self.peak[worker.pid] = max(self.peak[worker.pid], worker.memory_info().rss)
            time.sleep(0.02)

    def stop(self) -> tuple[float, float]:
        """(largest RSS growth, largest VmHWM minus baseline RSS), in MiB."""
        self.running = False
        self.thread.join()
        growth = max(self.peak[pid] - self.baseline[pid] for pid in self.baseline) / MIB
        hwm = max(_vm_hwm(pid) - self.baseline[pid] for pid in self.baseline) / MIB
        return growth, hwm


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def read_and_hash(path: Path, offset: int, size: int) -> tuple[bytes, str]:
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(size)
    return data, "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def start_submission(base: str, token: str) -> int:
    """A new submission for the bench's entrant."""
    response = requests.post(
        f"{base}/api/v1/challenges/demo/submissions",
        json={"label": "bench"},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.json()["id"]


def warm_up(base: str, token: str, submission: int, work: Path) -> None:
    """A small upload over several parallel connections, so both workers have run every code path once."""
    small = work / "warm.safetensors"
    write_safetensors(small, 4 * MIB)
    upload(base, token, submission, small, MIB, "tokenizer.json")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: upload(base, token, submission, small, MIB, f"LICENSE-{_}"), range(4)))


def upload(base: str, token: str, submission: int, path: Path, chunk: int, name: str = "model.safetensors") -> float:
    """Upload `path` with tus in `chunk`-byte PATCHes to `submission`; returns the upload's seconds."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    size = path.stat().st_size
    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"filename": name, "submission": str(submission)}.items()
    )
    started = time.perf_counter()
    created = http.post(f"{base}/api/v1/uploads", headers={**TUS, "Upload-Length": str(size), "Upload-Metadata": meta})
    url = created.headers["Location"]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        upcoming = pool.submit(read_and_hash, path, 0, chunk)
        for offset in range(0, size, chunk):
            data, checksum = upcoming.result()
            if offset + chunk < size:
                upcoming = pool.submit(read_and_hash, path, offset + chunk, chunk)
            response = http.patch(
                url,
                data=data,
                headers={
                    **TUS,
                    "Upload-Offset": str(offset),
                    "Upload-Checksum": checksum,
                    "Content-Type": "application/offset+octet-stream",
                },
            )
            assert response.status_code == 204, (response.status_code, response.text)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--chunk-mib", type=int, default=64)
    parser.add_argument("--min-ratio", type=float, default=0.5, help="upload / sha256sum throughput to reach")
    args = parser.parse_args()
    total = int(args.gib * 1024 * MIB)
    with tempfile.TemporaryDirectory(prefix="lagc-bench-") as folder:
        work = Path(folder)
        try:
            return run(work, total, args.chunk_mib * MIB, args.min_ratio)
        finally:
            subprocess.run(["chmod", "-R", "u+w", str(work)], check=False)


def run(work: Path, total: int, chunk: int, min_ratio: float) -> int:
    path = work / "model.safetensors"
    write_safetensors(path, total)
    started, children = time.perf_counter(), os.times()
    subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)
    sha256sum_seconds = time.perf_counter() - started
    sha256sum_cpu = (
        os.times().children_user + os.times().children_system - children.children_user - children.children_system
    )
    port = free_port()
    env = {**os.environ, "LAGC_INSTANCE_DIR": str(work / "instance"), "LAGC_ENV": "development"}
    env.pop("DATABASE_URL", None)
    token = prepare_instance(env)
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "300",
            "app:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base)
        submission = start_submission(base, token)
        warm_up(base, token, submission, work)
        watch = MemoryWatch(psutil.Process(gunicorn.pid))
        cpu_before, own_before = _cpu_seconds(watch.workers), os.times()
        upload_seconds = upload(base, token, submission, path, chunk)
        server_cpu = _cpu_seconds(watch.workers) - cpu_before
        own = os.times()
        client_cpu = own.user + own.system - own_before.user - own_before.system
        growth, hwm = watch.stop()
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
    return report(
        total,
        chunk,
        (sha256sum_seconds, sha256sum_cpu),
        (upload_seconds, server_cpu, client_cpu),
        (growth, hwm),
        min_ratio,
    )


def _wait_for(base: str) -> None:
    """Wait until gunicorn answers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/api/v1/challenges", timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.2)


def _cpu_seconds(workers: list[psutil.Process]) -> float:
    return sum(w.cpu_times().user + w.cpu_times().system for w in workers)


def report(
    total: int,
    chunk: int,
    sha: tuple[float, float],
    up: tuple[float, float, float],
    memory: tuple[float, float],
    min_ratio: float,
) -> int:
    """Print the table; 0 when both targets are met. CPU seconds show the cost apart from the machine's load."""
    (sha_s, sha_cpu), (upload_s, server_cpu, client_cpu), (growth, hwm) = sha, up, memory
    sha_rate, upload_rate = total / MIB / sha_s, total / MIB / upload_s
    ratio = upload_rate / sha_rate
    rows = [
        ("file", f"{total / MIB / 1024:.2f} GiB safetensors"),
        ("chunk", f"{chunk // MIB} MiB"),
        ("sha256sum", f"{sha_s:.2f} s  ({sha_rate:.0f} MiB/s)"),
        ("tus upload via gunicorn", f"{upload_s:.2f} s  ({upload_rate:.0f} MiB/s)"),
        ("upload / sha256sum", f"{ratio:.2f}  (target >= {min_ratio:.2f})"),
        ("CPU seconds", f"sha256sum {sha_cpu:.2f} s, gunicorn workers {server_cpu:.2f} s, client {client_cpu:.2f} s"),
        ("worker peak RSS growth", f"{growth:.1f} MiB  (target < 100)"),
        ("worker VmHWM - baseline RSS", f"{hwm:.1f} MiB  (VmHWM includes start-up peaks)"),
    ]
    for name, value in rows:
        print(f"{name:<30} {value}")
    ok = ratio >= min_ratio and growth < 100
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
