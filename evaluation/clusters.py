"""Cluster profiles as data: where an evaluation runs and how that site counts GPU-hours.

The defaults ship in ``clusters.toml`` next to this file; a deployment overrides them with its own
``[clusters.NAME]`` sections (only the fields that differ, e.g. the project's account).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

DEFAULTS_FILE = Path(__file__).with_name("clusters.toml")
SCHEDULERS = ("slurm", "local")
ACCOUNTING = ("auto", "sacct", "jobcomp")


@dataclass(frozen=True)
class ClusterProfile:
    """One place evaluations run. ``gpus_per_node`` counts the devices Slurm allocates (GCDs on LUMI),
    ``gpu_memory_gb`` is the memory of one such device (in GB of 10^9 bytes, as data sheets state it) and
    ``max_nodes`` the most nodes one evaluation may take (the layout planner refuses a model needing more)."""

    name: str
    display_name: str = ""
    scheduler: str = "slurm"
    account: str | None = None
    partition: str | None = None
    qos: str | None = None
    debug_qos: str | None = None
    partition_confirmed: bool = True
    gpus_per_node: int = 0
    gpu_gres: str | None = None
    gpu_memory_gb: float | None = None
    max_nodes: int = 1
    cpus_per_task: int = 1
    mem: str | None = None
    wall_time_limit: int = 60
    gpu_billing_devices: int = 1
    modules: tuple[str, ...] = ()
    container: str | None = None
    container_exec: str = "singularity exec"
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    accounting: str = "auto"
    jobcomp_path: str | None = None
    lm_eval: tuple[str, ...] = ("lm_eval",)
    vllm_min_parameters: int = 3_000_000_000
    work_dir: str | None = None  # job folders, on a filesystem the compute nodes share (default: the instance's)

    def __post_init__(self):
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"cluster {self.name}: scheduler must be one of {SCHEDULERS}, not {self.scheduler!r}")
        if self.accounting not in ACCOUNTING:
            raise ValueError(f"cluster {self.name}: accounting must be one of {ACCOUNTING}")
        if self.gpu_billing_devices < 1 or self.wall_time_limit < 1:
            raise ValueError(f"cluster {self.name}: gpu_billing_devices and wall_time_limit must be positive")
        if isinstance(self.max_nodes, bool) or not isinstance(self.max_nodes, int) or self.max_nodes < 1:
            raise ValueError(f"cluster {self.name}: max_nodes must be a whole number of nodes, at least 1")
        memory = self.gpu_memory_gb
        if memory is not None and (isinstance(memory, bool) or not isinstance(memory, (int, float)) or memory <= 0):
            raise ValueError(f"cluster {self.name}: gpu_memory_gb must be a positive number of GB per device")

    @classmethod
    def from_config(cls, data: Mapping[str, Any], name: str | None = None) -> "ClusterProfile":
        """Build a profile from a ``[clusters.NAME]`` TOML section (a dict); unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"cluster {name or data.get('name')}: unknown settings {sorted(unknown)}")
        values = dict(data)
        if name is not None:
            values["name"] = name
        for key in ("modules", "lm_eval"):
            if key in values:
                values[key] = _as_tuple(values[key])
        if "env" in values:
            values["env"] = MappingProxyType({str(k): str(v) for k, v in values["env"].items()})
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON) that ``from_config`` takes back: how a lease tells a site's agent the profile."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out.update(modules=list(self.modules), lm_eval=list(self.lm_eval), env=dict(self.env))
        return out

    def gpu_hours(self, elapsed_seconds: float, gpus_requested: int) -> float:
        """GPU-hours in this site's billing unit (on LUMI one GPU-hour is one MI250X, i.e. two GCDs)."""
        if elapsed_seconds < 0 or gpus_requested < 0:
            raise ValueError("elapsed time and GPU count cannot be negative")
        return elapsed_seconds / 3600.0 * gpus_requested / self.gpu_billing_devices

    def job_gpu_hours(self, elapsed_seconds: float, nodes: int = 1) -> float:
        """GPU-hours of a job holding ``nodes`` whole nodes for this long: every device of every node counts."""
        if nodes < 1:
            raise ValueError("a job holds at least one node")
        return self.gpu_hours(elapsed_seconds, self.gpus_per_node * nodes)

    def node_hour_in_gpu_hours(self) -> float:
        """How many billed GPU-hours one hour of a full node costs."""
        return self.gpu_hours(3600.0, self.gpus_per_node)


def _as_tuple(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def profiles_from_toml(text: str, base: Mapping[str, ClusterProfile] | None = None) -> dict[str, ClusterProfile]:
    """Profiles from the ``[clusters.*]`` sections of a TOML text, each overriding the base profile of its name."""
    sections = tomllib.loads(text).get("clusters", {})
    out = dict(base or {})
    for name, section in sections.items():
        inherited = _fields(out[name]) if name in out else {}
        out[name] = ClusterProfile.from_config({**inherited, **section}, name)
    return out


def _fields(profile: ClusterProfile) -> dict[str, Any]:
    return {f.name: getattr(profile, f.name) for f in fields(profile) if f.name != "name"}


def default_profiles() -> dict[str, ClusterProfile]:
    """The profiles shipped with the platform (``evaluation/clusters.toml``)."""
    return profiles_from_toml(DEFAULTS_FILE.read_text(encoding="utf-8"))


def load_profiles(path: str | Path | None = None) -> dict[str, ClusterProfile]:
    """The shipped profiles, overridden by the ``[clusters.*]`` sections of the TOML file at path (if any)."""
    profiles = default_profiles()
    if path is not None:
        profiles = profiles_from_toml(Path(path).read_text(encoding="utf-8"), base=profiles)
    return profiles


def parse_clusters_section(section: Mapping[str, Any]) -> dict[str, ClusterProfile]:
    """The ``[clusters.*]`` sections of a challenge file: the clusters it uses, each a shipped profile with
    the challenge's overrides (e.g. its ``account``), or a whole new profile; ValueError names the problem.

    ``[clusters.lumi-g]`` with no keys simply says "this challenge uses LUMI-G as shipped".
    """
    if not isinstance(section, Mapping):
        raise ValueError("clusters must be tables, e.g. [clusters.lumi-g]")
    shipped = default_profiles()
    out = {}
    for name, overrides in section.items():
        if not isinstance(overrides, Mapping):
            raise ValueError(f"clusters.{name} must be a table")
        inherited = _fields(shipped[name]) if name in shipped else {}
        out[name] = ClusterProfile.from_config({**inherited, **overrides}, name)
    return out
