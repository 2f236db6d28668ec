"""A checkpoint folder is validated as a whole: files, config, weights and the shard index."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import save_file

from app.checkpoints.validation import validate_checkpoint


class WritesMarkerWhenUnpickled:
    """A real malicious payload: unpickling it writes a file (a stand-in for any command)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_sound_single_file_checkpoint_is_accepted_with_exact_counts(single_file_checkpoint):
    report = validate_checkpoint(single_file_checkpoint)
    assert report.errors == ()
    assert report.ok
    assert report.parameters == 19
    assert dict(report.dtypes) == {"F16": 4, "F32": 15}
    assert [f.name for f in report.files] == [
        "LICENSE",
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    ]
    assert report.total_bytes == sum(p.stat().st_size for p in single_file_checkpoint.iterdir())
    weights = single_file_checkpoint / "model.safetensors"
    by_name = {f.name: f for f in report.files}
    assert by_name["model.safetensors"].sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()


def test_a_sound_sharded_checkpoint_is_accepted_with_the_parameters_of_all_shards(sharded_checkpoint):
    report = validate_checkpoint(sharded_checkpoint)
    assert report.errors == ()
    assert report.parameters == 15
    assert dict(report.dtypes) == {"F16": 5, "F32": 6, "I8": 4}


def test_the_report_dict_has_the_documented_keys(single_file_checkpoint):
    data = validate_checkpoint(single_file_checkpoint).to_dict()
    assert list(data) == ["ok", "parameters", "files", "errors", "dtypes", "total_bytes", "warnings"]
    assert set(data["files"][0]) == {"name", "bytes", "sha256"}
    assert json.loads(json.dumps(data)) == data


def test_a_malicious_pickle_is_refused_without_ever_being_unpickled(single_file_checkpoint, tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(WritesMarkerWhenUnpickled(marker))
    (single_file_checkpoint / "pytorch_model.bin").write_bytes(payload)
    report = validate_checkpoint(single_file_checkpoint)
    assert not report.ok
    assert any(e.startswith("'pytorch_model.bin': pickle-based files") for e in report.errors)
    assert "pytorch_model.bin" not in [f.name for f in report.files]
    assert not marker.exists()


def test_missing_config_and_missing_weights_are_both_errors(tmp_path):
    (tmp_path / "README.md").write_text("hi")
    report = validate_checkpoint(tmp_path)
    assert not report.ok
    assert report.parameters is None
    assert "config.json is missing: the model's configuration is required" in report.errors
    assert any(e.startswith("no weights:") for e in report.errors)


def test_a_config_asking_for_remote_code_is_refused(single_file_checkpoint):
    config = {"architectures": ["LlamaForCausalLM"], "auto_map": {"AutoModelForCausalLM": "modeling_x.X"}}
    (single_file_checkpoint / "config.json").write_text(json.dumps(config))
    errors = validate_checkpoint(single_file_checkpoint).errors
    assert any(e.startswith('config.json: asks for remote code ("auto_map")') for e in errors)


def test_a_tokenizer_config_asking_for_remote_code_is_refused(single_file_checkpoint):
    (single_file_checkpoint / "tokenizer_config.json").write_text(
        json.dumps({"auto_map": {"AutoTokenizer": ["t.T", None]}})
    )
    assert any(
        e.startswith("tokenizer_config.json: asks for remote code")
        for e in validate_checkpoint(single_file_checkpoint).errors
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"architectures": ["MyFancyForCausalLM"]},
            "architecture 'MyFancyForCausalLM' is not one transformers implements natively",
        ),
        ({"model_type": "llama"}, '"architectures" must list the model class'),
        ({"architectures": "LlamaForCausalLM"}, '"architectures" must list the model class'),
    ],
)
def test_a_config_without_a_native_architecture_is_refused(single_file_checkpoint, config, expected):
    (single_file_checkpoint / "config.json").write_text(json.dumps(config))
    assert any(expected in e for e in validate_checkpoint(single_file_checkpoint).errors)


def test_an_invalid_config_json_is_refused(single_file_checkpoint):
    (single_file_checkpoint / "config.json").write_text("{not json")
    assert any(
        e.startswith("config.json: is not valid JSON") for e in validate_checkpoint(single_file_checkpoint).errors
    )


def test_a_truncated_weights_file_is_refused_and_leaves_the_parameters_unknown(single_file_checkpoint):
    weights = single_file_checkpoint / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-3])
    report = validate_checkpoint(single_file_checkpoint)
    assert not report.ok
    assert report.parameters is None
    assert any("(truncated file?)" in e for e in report.errors)


def test_a_symlink_is_refused_and_never_followed(single_file_checkpoint, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    (single_file_checkpoint / "LICENSE.txt").symlink_to(secret)
    report = validate_checkpoint(single_file_checkpoint)
    assert "'LICENSE.txt': is a symbolic link; symlinks are not accepted" in report.errors
    assert "LICENSE.txt" not in [f.name for f in report.files]


def test_a_symlinked_checkpoint_folder_is_refused(single_file_checkpoint, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(single_file_checkpoint)
    assert validate_checkpoint(link).errors == (f"{link}: not a folder",)


def test_a_subfolder_and_an_unknown_file_are_refused_by_name(single_file_checkpoint):
    (single_file_checkpoint / "original").mkdir()
    (single_file_checkpoint / "modeling_evil.py").write_text("import os")
    errors = validate_checkpoint(single_file_checkpoint).errors
    assert "'original': subfolders are not accepted; the checkpoint must be one flat folder" in errors
    assert any(e.startswith("'modeling_evil.py': not an accepted checkpoint file") for e in errors)


def test_several_weight_files_without_an_index_are_refused(sharded_checkpoint):
    (sharded_checkpoint / "model.safetensors.index.json").unlink()
    errors = validate_checkpoint(sharded_checkpoint).errors
    assert any(e.startswith("weights must be one file named model.safetensors") for e in errors)


def edit_index(folder, change):
    """Apply `change` to the weight_map of the folder's index."""
    path = folder / "model.safetensors.index.json"
    index = json.loads(path.read_text())
    change(index["weight_map"])
    path.write_text(json.dumps(index))


def test_an_index_naming_a_missing_shard_is_refused(sharded_checkpoint):
    edit_index(sharded_checkpoint, lambda m: m.update({"d.weight": "model-00003-of-00003.safetensors"}))
    errors = validate_checkpoint(sharded_checkpoint).errors
    assert (
        "model.safetensors.index.json: weight_map names shard 'model-00003-of-00003.safetensors', which was not uploaded"
        in errors
    )


def test_an_index_placing_a_tensor_in_a_shard_that_lacks_it_is_refused(sharded_checkpoint):
    edit_index(sharded_checkpoint, lambda m: m.update({"z.weight": "model-00002-of-00002.safetensors"}))
    errors = validate_checkpoint(sharded_checkpoint).errors
    assert errors == (
        "model.safetensors.index.json: weight_map puts tensor 'z.weight' in model-00002-of-00002.safetensors, which has no such tensor",
    )


def test_a_shard_the_index_does_not_list_is_refused(sharded_checkpoint):
    save_file({"extra": np.zeros(1, dtype=np.uint8)}, str(sharded_checkpoint / "model-extra.safetensors"))
    errors = validate_checkpoint(sharded_checkpoint).errors
    assert "model-extra.safetensors: not listed in model.safetensors.index.json's weight_map" in errors


def test_a_tensor_stored_in_two_shards_is_refused(sharded_checkpoint):
    save_file({"c.weight": np.ones(5, dtype=np.float16)}, str(sharded_checkpoint / "model-00001-of-00002.safetensors"))
    save_file({"c.weight": np.ones(5, dtype=np.float16)}, str(sharded_checkpoint / "model-00002-of-00002.safetensors"))
    errors = validate_checkpoint(sharded_checkpoint).errors
    assert any(
        "tensor 'c.weight' is in both model-00001-of-00002.safetensors and model-00002-of-00002.safetensors" in e
        for e in errors
    )


def test_missing_model_card_licence_and_tokenizer_are_only_warnings(sharded_checkpoint):
    (sharded_checkpoint / "tokenizer.json").unlink()
    report = validate_checkpoint(sharded_checkpoint)
    assert report.ok
    assert len(report.warnings) == 3


def test_the_missing_licence_warning_points_at_the_model_card_not_at_a_form_field(sharded_checkpoint):
    warning = next(w for w in validate_checkpoint(sharded_checkpoint).warnings if w.startswith("no LICENSE"))
    assert "form" not in warning
    assert "`license:` field of the model card (README.md)" in warning


def test_the_validator_imports_neither_torch_nor_transformers():
    code = (
        "import sys, app.checkpoints.validation, app.checkpoints.filenames; "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
