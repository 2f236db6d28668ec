"""`flask prizes split FILE.json`, driven through click's test runner."""

import json

import pytest
from click.testing import CliRunner

from app.prizes.cli import cli


@pytest.fixture
def run_split(tmp_path):
    def run(data, raw=None):
        path = tmp_path / "split.json"
        path.write_text(raw if raw is not None else json.dumps(data), encoding="utf-8")
        return CliRunner().invoke(cli, ["split", str(path)])

    return run


def entry(id, rank, score=1.0, **extra):
    return {"id": id, "rank": rank, "score": score, "eligible": True, "licence": "pass", **extra}


def test_the_2024_split_prints_four_quarters_of_one_million_euro(run_split):
    result = run_split(
        {
            "pool_cents": 100_000_000,
            "max_winners": 4,
            "policy": "fixed",
            "entries": [entry("d", 4), entry("a", 1), entry("c", 3), entry("b", 2)],
        }
    )
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["awards"] == [
        {"id": i, "rank": r, "amount_cents": 25_000_000} for i, r in [("a", 1), ("b", 2), ("c", 3), ("d", 4)]
    ]
    assert (printed["total_cents"], printed["unawarded_cents"]) == (100_000_000, 0)


def test_the_printed_split_lists_excluded_entries_with_their_reasons(run_split):
    result = run_split(
        {
            "pool_cents": 100,
            "max_winners": 4,
            "policy": "rank_weighted",
            "weights": [40, 30, 20, 10],
            "entries": [
                entry("a", 1),
                entry("b", 2),
                entry("c", 3),
                entry("x", 2, licence="review"),
                entry("y", 5, eligible=False, forfeited=True),
            ],
        }
    )
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == {
        "policy": "rank_weighted",
        "awards": [
            {"id": "a", "rank": 1, "amount_cents": 45},
            {"id": "b", "rank": 2, "amount_cents": 33},
            {"id": "c", "rank": 3, "amount_cents": 22},
        ],
        "total_cents": 100,
        "unawarded_cents": 0,
        "excluded": [
            {"id": "x", "reason": "licence still under review"},
            {"id": "y", "reason": "not eligible for the prize; prize forfeited"},
        ],
    }


def test_decimal_scores_in_the_file_are_read_exactly(run_split):
    result = run_split(
        {
            "pool_cents": 300,
            "max_winners": 2,
            "policy": "score_proportional",
            "entries": [entry("a", 1, score=0.2), entry("b", 2, score=0.1)],
        }
    )
    assert [a["amount_cents"] for a in json.loads(result.stdout)["awards"]] == [200, 100]


def test_a_tie_at_the_cut_off_exits_one_and_names_the_tied_entries(run_split):
    result = run_split(
        {
            "pool_cents": 100,
            "max_winners": 1,
            "policy": "equal",
            "entries": [entry("b", 1), entry("a", 1)],
        }
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["tied"] == ["a", "b"]
    assert "break the tie" in result.stderr


def test_invalid_input_exits_two_and_says_what_is_wrong_on_stderr(run_split):
    result = run_split(
        {
            "pool_cents": -5,
            "max_winners": 2,
            "policy": "lottery",
            "entries": [entry("a", 1), {"id": "b", "rank": 2}],
        }
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "'score'" in result.stderr and "'eligible'" in result.stderr


def test_problems_found_by_the_split_itself_also_exit_two(run_split):
    result = run_split({"pool_cents": -5, "max_winners": 0, "policy": "lottery", "entries": []})
    assert result.exit_code == 2
    assert "pool_cents" in result.stderr and "max_winners" in result.stderr and "lottery" in result.stderr


def test_a_file_that_is_not_json_exits_two(run_split):
    result = run_split(None, raw="{not json")
    assert result.exit_code == 2
    assert "not valid JSON" in result.stderr


def test_a_missing_file_exits_two(tmp_path):
    result = CliRunner().invoke(cli, ["split", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr
