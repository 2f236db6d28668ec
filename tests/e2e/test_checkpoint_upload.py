"""Uploading a tiny checkpoint through the submission page, pausing and resuming once, until it is accepted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pagecheck import DESKTOP, PHONE
from tests.e2e.signin import sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    from evaluation.tinymodel import make_tiny_model

    folder = tmp_path_factory.mktemp("tiny")
    make_tiny_model(folder, seed=7)
    return sorted(str(p) for p in folder.iterdir() if p.is_file())


def test_an_entrant_uploads_pauses_resumes_and_sees_the_checkpoint_accepted(page, server, tiny_checkpoint, artifacts):
    sign_in(page, server, "aurora@demo.lagc.eu")
    page.goto(server + "/c/demo/submissions")
    expect(page.locator("tr[data-status=accepted]", has_text="Tiny GPT-2 (demo)")).to_be_visible()
    page.get_by_label("Label (e.g. the model's name and version)").fill("Aurora tiny, through the browser")
    page.get_by_role("button", name="Start the submission").click()
    expect(page.get_by_role("heading", name="Upload the checkpoint's files")).to_be_visible()
    finalise = page.get_by_role("button", name="Finalise: every file is uploaded")
    expect(finalise).to_be_disabled()  # nothing uploaded yet
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_disabled()
    page.set_viewport_size(PHONE)  # for a reviewer: the upload page on a phone
    page.screenshot(path=str(artifacts / "phone-upload.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.locator("#uploader").evaluate("box => { box.dataset.chunkBytes = '8192'; }")  # many small chunks
    page.get_by_label("Checkpoint files (choose them all at once)").set_input_files(tiny_checkpoint)
    page.get_by_role("button", name="Upload", exact=True).click()
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.locator("#upload-status")).to_contain_text("Paused", timeout=20_000)
    overall = page.locator("#upload-overall")
    assert float(overall.get_attribute("value")) < float(overall.get_attribute("max"))
    expect(finalise).to_be_disabled()  # half sent
    page.get_by_role("button", name="Resume", exact=True).click()
    expect(page.locator("#upload-status")).to_contain_text("Every file is uploaded", timeout=60_000)
    finalise.click()
    expect(page.locator("#submission-status")).to_have_text("accepted", timeout=60_000)
    expect(page.get_by_role("heading", name="Files (pinned)")).to_be_visible()
    expect(page.locator("table.files")).to_contain_text("model.safetensors")
