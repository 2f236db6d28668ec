"""The gateway transport's exact ssh and rsync argument lists, its retries and its file commands, with the
subprocess runner replaced by a recorder (the real server is in tests/integration/evaluation/test_ssh_gateway.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from evaluation.agent.settings import AgentSettingsError, from_args
from evaluation.runners.ssh import (
    SiteUnreachable,
    SshTarget,
    SshTransport,
    control_command,
    rsync_command,
    ssh_command,
)

TARGET = SshTarget(
    host="lagc@login.example.eu",
    known_hosts=Path("/gw/known_hosts"),
    control_dir=Path("/gw/ssh"),
    port=2222,
    identity=Path("/gw/id_ed25519"),
)
OPTIONS = [
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "UserKnownHostsFile=/gw/known_hosts",
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "PreferredAuthentications=publickey",
    "-o",
    "PasswordAuthentication=no",
    "-o",
    "KbdInteractiveAuthentication=no",
    "-o",
    "ControlMaster=auto",
    "-o",
    "ControlPath=/gw/ssh/cm",
    "-o",
    "ControlPersist=600",
    "-o",
    "ConnectTimeout=20",
    "-o",
    "ServerAliveInterval=15",
    "-o",
    "ServerAliveCountMax=3",
    "-o",
    "ForwardAgent=no",
    "-o",
    "ForwardX11=no",
    "-o",
    "RequestTTY=no",
    "-o",
    "IdentitiesOnly=yes",
    "-i",
    "/gw/id_ed25519",
    "-p",
    "2222",
]


def test_every_command_goes_over_the_one_master_connection_in_batch_mode_with_the_host_key_checked():
    assert ssh_command(TARGET, "squeue -h") == ["ssh", *OPTIONS, "lagc@login.example.eu", "--", "squeue -h"]
    assert control_command(TARGET, "check") == ["ssh", *OPTIONS, "-O", "check", "lagc@login.example.eu"]


def test_without_a_key_or_port_ssh_uses_its_own_defaults():
    bare = SshTarget(host="login", known_hosts=Path("/k"), control_dir=Path("/c"))
    argv = ssh_command(bare, "true")
    assert "-i" not in argv and "-p" not in argv and "IdentitiesOnly=yes" not in argv
    assert argv[-3:] == ["login", "--", "true"]


def test_rsync_puts_resumably_and_fetches_by_checksum_over_the_same_connection():
    shell = "ssh " + " ".join(OPTIONS)  # one argument: rsync splits it at the spaces
    assert rsync_command(TARGET, "/gw/work/models/ab", "/scratch/p/lagc/models/ab", fetch=False) == [
        "rsync",
        "--archive",
        "--protect-args",
        "--partial-dir=.rsync-partial",
        "--timeout=120",
        "-e",
        shell,
        "/gw/work/models/ab/",
        "lagc@login.example.eu:/scratch/p/lagc/models/ab/",
    ]
    assert rsync_command(TARGET, "/scratch/p/lagc/jobs/7/attempt-1", "/gw/work/fetched/7-1", fetch=True) == [
        "rsync",
        "--archive",
        "--protect-args",
        "--partial-dir=.rsync-partial",
        "--checksum",
        "--timeout=120",
        "-e",
        shell,
        "lagc@login.example.eu:/scratch/p/lagc/jobs/7/attempt-1/",
        "/gw/work/fetched/7-1/",
    ]


class Recorder:
    """Answers each call with the next of ``codes`` (the connection check answers ``check``)."""

    def __init__(self, codes, check=0, stdout="", stderr=""):
        self.codes, self.check, self.stdout, self.stderr, self.calls = list(codes), check, stdout, stderr, []

    def __call__(self, argv, **kwargs):
        self.calls.append((argv, kwargs))
        code = self.check if "-O" in argv else self.codes.pop(0)
        return subprocess.CompletedProcess(argv, code, self.stdout, self.stderr)


def _transport(tmp_path, recorder, sleeps):
    target = SshTarget(host="login", known_hosts=tmp_path / "k", control_dir=tmp_path / "ssh")
    return SshTransport(target, execute=recorder, sleep=sleeps.append, rng=lambda: 1.0)


def test_a_slurm_command_is_quoted_for_the_remote_shell_and_its_own_failure_is_its_answer(tmp_path):
    recorder, sleeps = Recorder([1], stderr="sbatch: error"), []
    proc = _transport(tmp_path, recorder, sleeps).run(["sbatch", "--parsable", "/p/a b/run.sh"])
    assert proc.returncode == 1 and sleeps == [] and len(recorder.calls) == 1
    assert recorder.calls[0][0][-1] == "sbatch --parsable '/p/a b/run.sh'"
    assert recorder.calls[0][1]["stdin"] == subprocess.DEVNULL  # ssh never reads the agent's own input
    assert (tmp_path / "ssh").stat().st_mode & 0o777 == 0o700


def test_a_lost_connection_is_retried_with_growing_backoff_then_reported_as_unreachable(tmp_path):
    recorder, sleeps = Recorder([255, 255, 255, 255], check=255, stderr="Connection refused"), []
    with pytest.raises(SiteUnreachable, match="Connection refused"):
        _transport(tmp_path, recorder, sleeps).run(["squeue"])
    assert sleeps == [1.0, 2.0, 4.0]


def test_a_connection_back_after_one_failure_answers_the_command(tmp_path):
    recorder, sleeps = Recorder([255, 0], check=255), []
    assert _transport(tmp_path, recorder, sleeps).run(["squeue"]).returncode == 0 and sleeps == [1.0]


def test_a_remote_255_over_a_live_connection_is_the_commands_own(tmp_path):
    recorder, sleeps = Recorder([255], check=0), []
    assert _transport(tmp_path, recorder, sleeps).run(["false"]).returncode == 255 and sleeps == []


def test_file_commands_name_a_missing_file_and_write_whole_through_a_renamed_temporary(tmp_path):
    recorder, sleeps = Recorder([66, 0]), []
    transport = _transport(tmp_path, recorder, sleeps)
    with pytest.raises(FileNotFoundError):
        transport.read_bytes("/s/jobs/1/exitcode", tail=10)
    assert recorder.calls[0][0][-1] == "test -f /s/jobs/1/exitcode || exit 66; tail -c 10 -- /s/jobs/1/exitcode"
    transport.write_bytes("/s/jobs/1/run.sh", b"#!/bin/bash\n")
    argv, kwargs = recorder.calls[1]
    assert (
        argv[-1] == "mkdir -p -- /s/jobs/1 && cat > /s/jobs/1/.run.sh.gateway.tmp && "
        "mv -f -- /s/jobs/1/.run.sh.gateway.tmp /s/jobs/1/run.sh"
    )
    assert kwargs["input"] == b"#!/bin/bash\n"


def test_a_control_folder_too_long_for_a_socket_is_refused_with_the_fix(tmp_path):
    with pytest.raises(ValueError, match="shorter --workdir"):
        SshTransport(SshTarget(host="h", known_hosts=tmp_path / "k", control_dir=Path("/" + "x" * 87)))


def _gateway_args(tmp_path, *extra):
    (tmp_path / "known_hosts").write_text("[h]:22 ssh-ed25519 AAAA\n")
    return ["--platform", "https://p.example.eu", "--site", "mn5", "--workdir", str(tmp_path / "w"), *extra]


def test_the_gateway_mode_needs_a_known_hosts_file_and_the_sites_own_folder(tmp_path):
    env = {"LAGC_SITE_TOKEN": "t"}
    with pytest.raises(AgentSettingsError, match="known-hosts"):
        from_args(_gateway_args(tmp_path, "--ssh", "lagc@login", "--site-dir", "/gpfs/p/lagc"), env)
    with pytest.raises(AgentSettingsError, match="site-dir"):
        from_args(_gateway_args(tmp_path, "--ssh", "lagc@login", "--known-hosts", str(tmp_path / "known_hosts")), env)
    with pytest.raises(AgentSettingsError, match="go with --ssh"):
        from_args(_gateway_args(tmp_path, "--ssh-port", "22"), env)
    settings = from_args(
        _gateway_args(
            tmp_path,
            "--ssh",
            "lagc@login",
            "--ssh-port",
            "2222",
            "--known-hosts",
            str(tmp_path / "known_hosts"),
            "--site-dir",
            "/gpfs/p/lagc",
        ),
        env,
    )
    assert (settings.ssh, settings.ssh_port, settings.site_dir) == ("lagc@login", 2222, Path("/gpfs/p/lagc"))
    assert settings.jobs_root == Path("/gpfs/p/lagc/jobs") and settings.workdir == (tmp_path / "w").resolve()
