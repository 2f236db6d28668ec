"""Derived models: the challenge asks for models trained from scratch, and a base model's licence binds."""

import pytest

from app.licences.catalogue import catalogue_lookup, chain
from app.licences.policy import LicencePolicy
from app.licences.verify import check_licence

NO_FORCED_REVIEW = LicencePolicy.from_config({"base_model_forces_review": False})


@pytest.mark.parametrize(
    "repo, licence",
    [
        ("meta-llama/Llama-2-7b-hf", "llama2"),
        ("meta-llama/Meta-Llama-3-8B", "llama3"),
        ("mistralai/Mistral-7B-v0.1", "apache-2.0"),
        ("google/gemma-7b", "gemma"),
        ("tiiuae/falcon-7b", "apache-2.0"),
        ("bigscience/bloom", "bigscience-bloom-rail-1.0"),
        ("EleutherAI/pythia-1b-deduped", "apache-2.0"),
        ("Qwen/Qwen2.5-7B", "apache-2.0"),
        ("CohereForAI/aya-23-8B", "cc-by-nc-4.0"),
        ("TildeAI/TildeOpen-30b", "cc-by-4.0"),
        ("utter-project/EuroLLM-9B", "apache-2.0"),
        ("https://huggingface.co/Meta-Llama/llama-2-13B-chat-hf", "llama2"),
        ("someone/never-heard-of-it", None),
    ],
)
def test_the_catalogue_knows_the_licences_of_well_known_base_models(repo, licence):
    assert catalogue_lookup(repo) == licence


def relicensed(card, front_matter: str, policy=NO_FORCED_REVIEW, lookup=catalogue_lookup) -> dict:
    return check_licence({"README.md": card(front_matter)}, policy, base_lookup=lookup).to_dict()


@pytest.mark.parametrize(
    "base, declared, expected",
    [
        ("CohereForAI/aya-23-8B", "apache-2.0", "fail"),
        ("CohereForAI/aya-23-8B", "cc-by-nc-4.0", "pass"),
        ("CohereForAI/aya-23-8B", "cc-by-nc-sa-4.0", "pass"),
        ("meta-llama/Llama-2-7b-hf", "apache-2.0", "fail"),
        ("meta-llama/Llama-2-7b-hf", "llama2", "review"),
        ("meta-llama/Meta-Llama-3-8B", "llama3", "review"),
        ("meta-llama/Meta-Llama-3-8B", "other\nlicense_link: https://example.eu/terms", "review"),
        ("google/gemma-7b", "mit", "fail"),
        ("bigscience/bloom", "bigscience-bloom-rail-1.0", "review"),
        ("bigscience/bloom", "mit", "fail"),
        ("mistralai/Mistral-7B-v0.1", "cc-by-nc-4.0", "pass"),
        ("TildeAI/TildeOpen-30b", "mit", "pass"),
        ("someone/never-heard-of-it", "mit", "review"),
    ],
)
def test_a_relicensing_must_be_allowed_by_the_base_models_licence(card, base, declared, expected):
    result = relicensed(card, f"license: {declared}\nbase_model: {base}")
    assert result["verdict"] == expected, result


@pytest.mark.parametrize(
    "base_licence, declared, expected",
    [
        ("cc-by-sa-4.0", "cc-by-4.0", "fail"),
        ("cc-by-sa-4.0", "cc-by-sa-4.0", "pass"),
        ("cc-by-sa-4.0", "GPL-3.0-or-later", "pass"),
        ("cc-by-nc-nd-4.0", "cc-by-nc-nd-4.0", "fail"),
        ("gpl-3.0", "mit", "fail"),
        ("gpl-3.0", "mit OR gpl-3.0", "fail"),
        ("gpl-3.0", "mit AND gpl-3.0", "pass"),
        ("cc-by-nc-4.0", "apache-2.0 OR cc-by-nc-4.0", "fail"),
    ],
)
def test_share_alike_copyleft_and_no_derivative_bases_bind_their_derivatives(card, base_licence, declared, expected):
    result = relicensed(card, f'license: "{declared}"\nbase_model: acme/base', lookup=lambda _: base_licence)
    assert result["verdict"] == expected, result


def test_any_declared_base_model_goes_to_review_because_the_challenge_wants_models_from_scratch(card, policy):
    result = check_licence({"README.md": card("license: mit\nbase_model: TildeAI/TildeOpen-30b")}, policy)
    assert result.to_dict()["verdict"] == "review"
    assert "trained from scratch" in result.reasons[1]
    assert "licensed cc-by-4.0 (base model catalogue)" in result.reasons[2]


def test_the_llama_finetune_relicensed_as_apache_fails_and_says_why(data, policy):
    result = check_licence({"README.md": (data / "README-llama-finetune.md").read_bytes()}, policy)
    assert result.to_dict()["verdict"] == "fail"
    assert "meta-llama/Llama-2-7b-hf is licensed llama2" in result.reasons[-1]
    assert "is not allowed" in result.reasons[-1]


def test_a_list_of_base_models_checks_each_one(card):
    front = "license: apache-2.0\nbase_model:\n- mistralai/Mistral-7B-v0.1\n- CohereForAI/aya-23-8B"
    result = relicensed(card, front)
    assert result["verdict"] == "fail"
    assert len(result["reasons"]) == 3


def test_a_hub_lookup_can_be_plugged_in_before_the_catalogue(card):
    hub = {"acme/from-the-hub": "CC-BY-NC-4.0"}.get
    result = relicensed(card, "license: mit\nbase_model: acme/from-the-hub", lookup=chain(hub, catalogue_lookup))
    assert result["verdict"] == "fail"


def test_a_failing_hub_lookup_sends_the_model_to_review_instead_of_crashing(card):
    def offline(_):
        raise ConnectionError("no network")

    result = relicensed(card, "license: mit\nbase_model: acme/base", lookup=offline)
    assert result["verdict"] == "review"
    assert "could not be looked up" in result["reasons"][-1]


def test_a_base_model_seen_only_in_config_json_goes_to_review(card, policy):
    files = {"README.md": card("license: mit"), "config.json": b'{"_name_or_path": "google/gemma-7b"}'}
    result = check_licence(files, policy).to_dict()
    assert result["verdict"] == "review"
    assert "google/gemma-7b" in result["reasons"][-1]


def test_a_local_path_in_config_json_is_not_a_base_model(card, policy):
    files = {"README.md": card("license: mit"), "config.json": b'{"_name_or_path": "/scratch/run-7/ckpt"}'}
    assert check_licence(files, policy).to_dict()["verdict"] == "pass"
