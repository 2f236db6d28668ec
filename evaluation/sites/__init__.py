"""Evaluation at the supercomputer sites: the platform's side of the site agents (evaluation/agent).

A site is registered with a token (`flask sites add`); its agent heartbeats, is leased the evaluations of the
challenges whose `[evaluation] runner = "sites"` (`dispatch.py`, a scheduler step), fetches their files
(`bundle.py` for the task suite), reports every state change and uploads the results (`api.py`), which are
ingested through `evaluation.ingest` like the scheduler's own (`services.py`). The pure rules are in
`rules.py`.
"""
