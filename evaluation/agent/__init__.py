"""The site agent: runs on a supercomputer's login node (or a gateway), pulls evaluations from the platform
over HTTPS and runs them on the site's own Slurm. ``python -m evaluation.agent --help``.

It imports no web framework, no database code and nothing of ``app`` (an import-linter contract keeps that
true), so a site installs only what it needs.
"""
