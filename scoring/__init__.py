"""The pure scoring core: normalisation, aggregation, the judges' rubric, the ranking, and the
paired comparisons of runs item by item (``paired``, ``separation``, ``significance``).

Standard library only, except numpy in the paired comparisons; entry points gather the
inputs, call these functions and store what they decide.
"""

from scoring.aggregate import (
    INCOMPLETE_RANKS_AFTER_COMPLETE,
    BenchmarkScore,
    EntryScores,
    FinalScore,
    StderrNote,
    TaskResult,
    benchmark_score,
    final_score,
    score_entry,
    stderr_note,
)
from scoring.config import (
    ConfigError,
    RankingPolicy,
    ScoreWeights,
    ScoringConfig,
    TaskSpec,
    parse_benchmark_tasks,
)
from scoring.normalise import NormalisedScore, normalise
from scoring.ranking import RankedEntry, rank_entries
from scoring.rubric import (
    Criterion,
    JudgesScore,
    Rubric,
    judges_score,
    validate_rubric_scores,
    weighted_rubric_score,
)

__all__ = [
    "INCOMPLETE_RANKS_AFTER_COMPLETE",
    "BenchmarkScore",
    "ConfigError",
    "Criterion",
    "EntryScores",
    "FinalScore",
    "JudgesScore",
    "NormalisedScore",
    "RankedEntry",
    "RankingPolicy",
    "Rubric",
    "ScoreWeights",
    "ScoringConfig",
    "StderrNote",
    "TaskResult",
    "TaskSpec",
    "benchmark_score",
    "final_score",
    "judges_score",
    "normalise",
    "parse_benchmark_tasks",
    "rank_entries",
    "score_entry",
    "stderr_note",
    "validate_rubric_scores",
    "weighted_rubric_score",
]
