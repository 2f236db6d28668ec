"""Cluster profiles: shipped defaults, TOML overrides, and GPU-hours in each site's unit."""

import pytest

from evaluation.clusters import ClusterProfile, default_profiles, profiles_from_toml


def test_the_shipped_profiles_cover_the_eurohpc_sites_and_the_local_test_cluster():
    profiles = default_profiles()
    assert {"local", "local-slurm", "lumi-g", "leonardo-booster", "mn5-acc", "jupiter-booster"} <= set(profiles)
    assert (profiles["leonardo-booster"].partition, profiles["leonardo-booster"].qos) == ("boost_usr_prod", "normal")
    assert (profiles["mn5-acc"].partition, profiles["mn5-acc"].qos) == ("acc", "acc_ehpc")
    assert profiles["jupiter-booster"].partition_confirmed is False
    local = profiles["local-slurm"]
    assert (local.partition, local.gpus_per_node, local.account) == ("debug", 0, None)


def test_on_lumi_one_gpu_hour_is_one_mi250x_so_a_node_hour_is_four_gpu_hours():
    lumi = default_profiles()["lumi-g"]
    assert lumi.gpu_hours(3600, 8) == 4.0
    assert lumi.gpu_hours(1800, 2) == 0.5
    assert lumi.node_hour_in_gpu_hours() == 4.0


@pytest.mark.parametrize("name", ["leonardo-booster", "mn5-acc", "jupiter-booster"])
def test_on_nvidia_sites_one_gpu_hour_is_one_gpu_for_an_hour(name):
    profile = default_profiles()[name]
    assert profile.gpu_hours(5400, 4) == 6.0
    assert profile.node_hour_in_gpu_hours() == 4.0


def test_a_cpu_only_run_costs_no_gpu_hours():
    assert default_profiles()["local-slurm"].gpu_hours(3600, 0) == 0.0


def test_negative_durations_are_refused():
    with pytest.raises(ValueError):
        default_profiles()["lumi-g"].gpu_hours(-1, 8)


def test_a_toml_section_overrides_only_the_fields_it_names():
    base = default_profiles()
    merged = profiles_from_toml('[clusters.lumi-g]\naccount = "project_465001234"\n', base=base)
    assert merged["lumi-g"].account == "project_465001234"
    assert merged["lumi-g"].gpu_billing_devices == 2 and merged["lumi-g"].env == base["lumi-g"].env


def test_a_new_cluster_can_be_added_from_toml():
    text = """
[clusters.karolina]
display_name = "Karolina GPU"
partition = "qgpu"
gpus_per_node = 8
gpu_gres = "gpu:8"
modules = "Python/3.11"
[clusters.karolina.env]
OMP_NUM_THREADS = 16
"""
    profile = profiles_from_toml(text)["karolina"]
    assert profile.name == "karolina" and profile.modules == ("Python/3.11",)
    assert profile.env == {"OMP_NUM_THREADS": "16"}


@pytest.mark.parametrize(
    "section, message",
    [
        ({"scheduler": "pbs"}, "scheduler"),
        ({"accounting": "guess"}, "accounting"),
        ({"gpu_billing_devices": 0}, "positive"),
        ({"partitoin": "x"}, "unknown settings"),
    ],
)
def test_invalid_profiles_are_refused_with_the_reason(section, message):
    with pytest.raises(ValueError, match=message):
        ClusterProfile.from_config(section, "bad")


def test_profiles_are_frozen():
    profile = default_profiles()["lumi-g"]
    with pytest.raises(Exception):
        profile.account = "x"
    with pytest.raises(TypeError):
        profile.env["X"] = "1"


@pytest.mark.parametrize(
    "name, devices, memory",
    [("lumi-g", 8, 64), ("leonardo-booster", 4, 64), ("mn5-acc", 4, 64), ("jupiter-booster", 4, 96)],
)
def test_each_eurohpc_site_states_its_devices_and_their_memory(name, devices, memory):
    profile = default_profiles()[name]
    assert (profile.gpus_per_node, profile.gpu_memory_gb, profile.max_nodes) == (devices, memory, 16)


def test_profiles_without_gpus_state_no_device_memory_and_one_node():
    for name in ("local", "local-slurm"):
        assert (default_profiles()[name].gpu_memory_gb, default_profiles()[name].max_nodes) == (None, 1)


@pytest.mark.parametrize(
    "section, message",
    [
        ({"max_nodes": 0}, "max_nodes"),
        ({"max_nodes": 2.5}, "max_nodes"),
        ({"max_nodes": True}, "max_nodes"),
        ({"gpu_memory_gb": 0}, "gpu_memory_gb"),
        ({"gpu_memory_gb": "64"}, "gpu_memory_gb"),
    ],
)
def test_impossible_node_limits_and_device_memories_are_refused(section, message):
    with pytest.raises(ValueError, match=message):
        ClusterProfile.from_config(section, "bad")


@pytest.mark.parametrize(
    "name, nodes, hours",
    [("lumi-g", 3, 12.0), ("leonardo-booster", 5, 20.0), ("mn5-acc", 2, 8.0), ("jupiter-booster", 1, 4.0)],
)
def test_a_job_over_several_nodes_is_charged_for_every_device_of_every_node(name, nodes, hours):
    assert default_profiles()[name].job_gpu_hours(3600, nodes) == hours


def test_a_job_holds_at_least_one_node():
    with pytest.raises(ValueError):
        default_profiles()["lumi-g"].job_gpu_hours(3600, 0)
