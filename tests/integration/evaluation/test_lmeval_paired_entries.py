"""Real lm-eval on the tiny model, twice with different few-shot settings (the session's shared run pair),
through the whole path: the runs' samples kept in the storage as the scheduler keeps them, the two entries
on the board, the comparison on the scorecard and from the compare API, which equals `scores paired` on the
two lm-eval output folders."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from evaluation.results import load_results
from tests.factories import World, kept_samples
from tests.helpers import page_text

from ._platform import challenge_text, make_challenge

pytestmark = pytest.mark.lmeval
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def entries(two_runs, suite, db, make_user, settings):
    """The challenge scoring the suite; one team per run, its evaluation's results and kept samples."""
    suite_dir, tasks = suite
    metric = {t: load_results(two_runs[0]["results_file"]).task(t).first_metric() for t in tasks}  # acc, exact_match
    with db() as session:
        challenge = make_challenge(session, challenge_text(suite_dir, tasks=[f"{t}:{metric[t]}" for t in tasks]))
        slug, challenge_id = challenge.slug, challenge.id
    world = World(db, challenge_id, make_user("runner@example.eu"), submission_defaults={"source": "hub"})
    ids = {}
    for shots, name in ((0, "Zero-shot"), (2, "Two-shot")):
        report = two_runs[shots]
        results = load_results(report["results_file"])
        scores = {t: results.task(t).metrics()[metric[t]] for t in tasks}
        ids[name] = world.entry(name, scores)
        from evaluation.models import Evaluation

        with db() as session:
            ev = session.exec(select(Evaluation).where(Evaluation.team_id == ids[name])).one()
            kept_samples(session, ev.id, settings.storage_dir, metric, output=Path(report["job_dir"]) / "output")
    world.refresh(settings.storage_dir)
    return slug, ids


def test_the_kept_samples_of_two_real_runs_compare_on_the_scorecard_and_the_api_as_scores_paired_does(
    client, entries, two_runs, settings
):
    slug, ids = entries
    api = client.get(f"/api/v1/leaderboard/compare?challenge={slug}&a=Zero-shot&b=Two-shot")
    assert api.status_code == 200, api.get_data(as_text=True)
    data = api.get_json()
    folders = [str(Path(two_runs[shots]["job_dir"]) / "output") for shots in (0, 2)]
    env = {**os.environ, "DATABASE_URL": settings.database_url, "LAGC_INSTANCE_DIR": str(settings.instance_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "scores", "paired", *folders, "--challenge", slug],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    paired = json.loads(proc.stdout)
    for key in ("tasks", "overall", "runs", "seed", "resamples"):
        assert data[key] == paired[key], key  # the kept folders compare exactly as the job's output folders
    card = page_text(client.get(f"/leaderboard/{slug}/entries/{ids['Zero-shot']}"))
    section = card[card.index('id="h-paired"') :]
    assert "Two-shot" in section[: section.index("</section>")] and "95% interval" in section
    board = json.loads(client.get(f"/api/v1/leaderboard?challenge={slug}").data)["rows"]
    top = board[0]  # whichever scored higher; the board tests the pair with the same function as the API
    assert top["paired"]["next"]["team"] == ({"Zero-shot", "Two-shot"} - {top["team"]}).pop()
    assert top["paired"]["next"]["p"] == pytest.approx(data["overall"]["p_value"], rel=1e-3)
