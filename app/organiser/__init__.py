"""The organiser console: challenge configuration editing, dashboards, the audit log and baselines."""
