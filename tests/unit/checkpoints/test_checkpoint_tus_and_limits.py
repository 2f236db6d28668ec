"""The tus header parsing and the limit decisions, pure."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest

from app.checkpoints import tus
from app.checkpoints.limits import SubmissionLimits, limit_problem, size_problem


def test_metadata_values_are_base64_utf8_and_keys_may_have_no_value():
    header = f"filename {base64.b64encode('modèle.json'.encode()).decode()},is_confidential"
    assert tus.parse_metadata(header) == {"filename": "modèle.json", "is_confidential": None}


@pytest.mark.parametrize(
    "header", ["filename !!!", "filename " + base64.b64encode(b"\xff").decode(), "a YQ==,a YQ==", "b@d YQ=="]
)
def test_malformed_metadata_is_a_400(header):
    with pytest.raises(tus.TusError) as caught:
        tus.parse_metadata(header)
    assert caught.value.status == 400


def test_a_sha256_checksum_is_its_32_digest_bytes():
    digest = bytes(range(32))
    assert tus.parse_checksum("sha256 " + base64.b64encode(digest).decode()) == digest
    assert tus.parse_checksum(None) is None
    for bad in ("md5 AAAA", "sha256 AAAA", "sha256"):
        with pytest.raises(tus.TusError):
            tus.parse_checksum(bad)


def test_lengths_are_plain_decimal_numbers():
    assert tus.parse_length("0", "Upload-Offset") == 0
    for bad in (None, "-1", "1e3", " 12", "٣"):
        with pytest.raises(tus.TusError, match="required|whole number"):
            tus.parse_length(bad, "Upload-Length")


def test_a_length_larger_than_the_database_holds_is_too_large():
    assert tus.parse_length(str(tus.MAX_LENGTH), "Upload-Length") == 2**63 - 1
    for big in (str(tus.MAX_LENGTH + 1), "9" * 21, "1" + "0" * 23):
        with pytest.raises(tus.TusError, match="Upload-Length is too large"):
            tus.parse_length(big, "Upload-Length")


def test_expiry_is_an_http_date():
    assert tus.http_date(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "Fri, 02 Jan 2026 03:04:05 GMT"


def test_limits_parse_and_refuse_unknown_or_non_positive_values():
    assert SubmissionLimits.from_config({"submissions_per_day": 1}).submissions_per_day == 1
    for bad in ({"submissions_per_dya": 1}, {"max_bytes_per_submission": 0}, {"upload_expiry_hours": True}):
        with pytest.raises(ValueError):
            SubmissionLimits.from_config(bad)


def test_the_total_limit_is_named_before_the_daily_one():
    limits = SubmissionLimits(submissions_per_day=2, submissions_total=3)
    assert limit_problem(limits, 1, 2) is None
    assert "daily limit (2)" in limit_problem(limits, 2, 2)
    assert "all 3 submissions" in limit_problem(limits, 2, 3)


def test_the_size_limit_counts_the_files_already_announced():
    limits = SubmissionLimits(max_bytes_per_submission=100)
    assert size_problem(limits, 60, 40) is None
    assert "101 bytes" in size_problem(limits, 60, 41)
