"""TOTP codes (RFC 6238) and recovery codes: pure rules."""

from datetime import datetime, timedelta, timezone

from app.accounts import totp

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890", the RFC 6238 test key
AT_59 = datetime.fromtimestamp(59, timezone.utc)


def test_codes_match_the_rfc_6238_test_vector():
    assert totp.step_at(AT_59) == 1
    assert totp.code_at(RFC_SECRET, 1) == "287082"


def test_a_code_is_accepted_one_step_either_side_and_not_further():
    code = totp.code_at(RFC_SECRET, 1)
    assert totp.accepted_step(RFC_SECRET, code, AT_59 + timedelta(seconds=30), None) == 1
    assert totp.accepted_step(RFC_SECRET, code, AT_59 + timedelta(seconds=60), None) is None


def test_a_code_for_a_step_already_used_is_refused():
    code = totp.code_at(RFC_SECRET, 1)
    assert totp.accepted_step(RFC_SECRET, code, AT_59, last_used_step=1) is None
    assert totp.accepted_step(RFC_SECRET, code, AT_59, last_used_step=0) == 1


def test_typed_spaces_are_ignored_and_other_shapes_refused():
    assert totp.accepted_step(RFC_SECRET, "287 082", AT_59, None) == 1
    assert totp.accepted_step(RFC_SECRET, "28708", AT_59, None) is None
    assert totp.accepted_step(RFC_SECRET, "abcdef", AT_59, None) is None


def test_recovery_codes_are_distinct_and_their_digest_ignores_case_and_dashes():
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10
    assert totp.recovery_digest(codes[0]) == totp.recovery_digest(codes[0].upper().replace("-", " "))


def test_demo_secrets_are_stable_per_address():
    assert totp.demo_secret("Judge@demo.lagc.eu") == totp.demo_secret("judge@demo.lagc.eu")
    assert totp.demo_secret("a@x.eu") != totp.demo_secret("b@x.eu")
