"""The gateway transport against the real OpenSSH server on localhost (scripts/services/ssh.sh): files and
folders go both ways over one master connection; an unknown host key or an unknown client key is refused,
never accepted, and an unreachable site is reported as such after the backoff."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from evaluation.runners.ssh import SiteUnreachable, SshTarget, SshTransport

pytestmark = [pytest.mark.ssh]


@pytest.fixture
def control_dir():
    folder = Path(tempfile.mkdtemp(prefix="gwt-", dir="/tmp"))  # short: a socket path is limited
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _transport(ssh_site, control_dir: Path, **changes) -> SshTransport:
    host, port, key, known_hosts = ssh_site
    target = SshTarget(
        **{
            "host": host,
            "port": port,
            "identity": key,
            "known_hosts": known_hosts,
            "control_dir": control_dir / "ssh",
            **changes,
        }
    )
    return SshTransport(target, retries=1, backoff_base=0.01)


def test_files_and_folders_travel_both_ways_over_one_master_connection(ssh_site, control_dir, tmp_path):
    transport = _transport(ssh_site, control_dir)
    try:
        site = tmp_path / "site"
        transport.write_bytes(site / "jobs" / "1" / "run.sh", b"#!/bin/bash\necho hi\n")
        assert transport.connected() and (control_dir / "ssh" / "cm").is_socket()
        assert transport.read_bytes(site / "jobs" / "1" / "run.sh", tail=8) == b"echo hi\n"
        assert transport.exists(site / "jobs" / "1") and not transport.exists(site / "nothing")
        with pytest.raises(FileNotFoundError):
            transport.read_bytes(site / "nothing")
        local = tmp_path / "staged"
        (local / "sub").mkdir(parents=True)
        (local / "sub" / "weights.safetensors").write_bytes(bytes(range(256)) * 1000)
        transport.put_folder(local, site / "models" / "abc")
        assert (site / "models" / "abc" / "sub" / "weights.safetensors").read_bytes() == bytes(range(256)) * 1000
        back = transport.fetch_folder(site / "jobs", tmp_path / "fetched")
        assert (back / "1" / "run.sh").read_bytes() == b"#!/bin/bash\necho hi\n"
        transport.remove(site / "jobs" / "1" / "run.sh")
        assert not (site / "jobs" / "1" / "run.sh").exists()
        assert transport.run(["printf", "%s", "a b"]).stdout == "a b"  # quoted for the remote shell
    finally:
        transport.close()
    assert not transport.connected()


def test_a_host_key_other_than_the_known_one_is_refused_and_never_learnt(ssh_site, control_dir):
    host, port, _, _ = ssh_site
    other = control_dir / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    known = control_dir / "known_hosts"
    known.write_text(f"[{host}]:{port} {' '.join(Path(f'{other}.pub').read_text().split()[:2])}\n")
    before = known.read_text()
    with pytest.raises(SiteUnreachable, match="verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED"):
        _transport(ssh_site, control_dir, known_hosts=known).run(["true"])
    assert known.read_text() == before


def test_a_client_key_the_site_does_not_know_is_refused_without_a_prompt(ssh_site, control_dir):
    stranger = control_dir / "stranger_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    with pytest.raises(SiteUnreachable, match="Permission denied"):
        _transport(ssh_site, control_dir, identity=stranger).run(["true"])


def test_a_site_that_does_not_answer_is_unreachable_after_the_backoff(ssh_site, control_dir):
    with pytest.raises(SiteUnreachable, match="refused"):
        _transport(ssh_site, control_dir, port=1).run(["squeue"])
