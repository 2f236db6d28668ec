"""The award chain notices edited, removed and reordered records."""

import hashlib
from dataclasses import replace

from app.prizes.chain import GENESIS_HASH, ChainRecord, next_record, record_hash, verify_chain


def build_chain(n=4):
    records = []
    for i in range(n):
        payload = {"entry": f"team-{i}", "amount_cents": 25_000_000, "note": "café"}
        records.append(next_record(records, f"award-{i}", payload))
    return records


def test_the_genesis_record_hashes_zeros_a_newline_and_canonical_json():
    expected = hashlib.sha256(("0" * 64 + '\n{"a":1,"b":"é"}').encode("utf-8")).hexdigest()
    assert record_hash(GENESIS_HASH, {"b": "é", "a": 1}) == expected


def test_the_hash_does_not_depend_on_key_order():
    assert record_hash(GENESIS_HASH, {"a": 1, "b": 2}) == record_hash(GENESIS_HASH, {"b": 2, "a": 1})


def test_each_record_carries_the_hash_of_the_one_before_it():
    records = build_chain()
    assert records[0].prev_hash == GENESIS_HASH
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]


def test_an_untouched_chain_is_intact():
    check = verify_chain(build_chain())
    assert check.ok and check.problems == []


def test_an_empty_chain_is_intact():
    assert verify_chain([]).ok


def test_an_edited_payload_is_named_by_index_and_id():
    records = build_chain()
    records[2] = replace(records[2], payload={**records[2].payload, "amount_cents": 99_000_000})
    check = verify_chain(records)
    assert not check.ok
    assert len(check.problems) == 1
    assert "record 2 ('award-2')" in check.problems[0]
    assert "edited payload" in check.problems[0]


def test_an_edited_payload_with_a_recomputed_hash_breaks_the_next_link():
    records = build_chain()
    payload = {**records[1].payload, "amount_cents": 1}
    records[1] = ChainRecord("award-1", payload, records[1].prev_hash, record_hash(records[1].prev_hash, payload))
    check = verify_chain(records)
    assert not check.ok
    assert "record 2 ('award-2')" in check.problems[0]
    assert "broken link" in check.problems[0]


def test_a_removed_record_is_noticed_at_the_record_after_it():
    records = build_chain()
    del records[1]
    check = verify_chain(records)
    assert not check.ok
    assert "record 1 ('award-2')" in check.problems[0]
    assert "missing" in check.problems[0]


def test_a_removed_first_record_is_noticed():
    check = verify_chain(build_chain()[1:])
    assert "record 0 ('award-1')" in check.problems[0]
    assert "does not start at genesis" in check.problems[0]


def test_a_reordered_pair_is_named_as_out_of_order():
    records = build_chain()
    records[1], records[2] = records[2], records[1]
    check = verify_chain(records)
    assert not check.ok
    assert "record 1 ('award-2')" in check.problems[0]
    assert "reordered" in check.problems[0]


def test_a_record_cut_off_the_end_is_noticed_against_the_known_head_hash():
    records = build_chain()
    head = records[-1].hash
    assert verify_chain(records, head_hash=head).ok
    check = verify_chain(records[:-1], head_hash=head)
    assert not check.ok
    assert "missing from its end" in check.problems[0]


def test_a_payload_that_is_no_longer_json_counts_as_edited():
    records = build_chain(1)
    records[0] = replace(records[0], payload={"amount": float("nan")})
    assert "edited payload" in verify_chain(records).problems[0]
