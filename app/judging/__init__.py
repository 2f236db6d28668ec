"""Judging: judges' assignments, conflicts and recusal, rubric score sheets, the lock, and scorecards."""
