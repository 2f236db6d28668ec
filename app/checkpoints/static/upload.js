// A small tus 1.0 client for the submission page: one upload per file, sequential chunks, each with its
// sha256 (Upload-Checksum) when the browser offers WebCrypto, pause and resume, and resumption after a reload
// (the upload URL is remembered in localStorage per submission, file name, size and modification time).
(function () {
  "use strict";
  const box = document.getElementById("uploader");
  if (!box) return;
  const TUS = "1.0.0";
  const endpoint = box.dataset.endpoint;
  const submission = box.dataset.submission;
  const csrf = box.dataset.csrf;
  const chunkBytes = () => parseInt(box.dataset.chunkBytes, 10);
  const input = document.getElementById("files");
  const startButton = document.getElementById("upload-start");
  const pauseButton = document.getElementById("upload-pause");
  const resumeButton = document.getElementById("upload-resume");
  const overall = document.getElementById("upload-overall");
  const overallText = document.getElementById("upload-overall-text");
  const list = document.getElementById("upload-files");
  const status = document.getElementById("upload-status");
  const finaliseButton = document.getElementById("finalise");
  const finaliseHint = document.getElementById("finalise-hint");
  let jobs = [];
  let paused = false;
  let running = false;

  function b64(text) {
    const bytes = new TextEncoder().encode(text);
    let binary = "";
    bytes.forEach((b) => { binary += String.fromCharCode(b); });
    return btoa(binary);
  }

  async function checksum(buffer) {
    if (!(window.crypto && window.crypto.subtle)) return null; // not a secure context: no WebCrypto
    const digest = new Uint8Array(await window.crypto.subtle.digest("SHA-256", buffer));
    let binary = "";
    digest.forEach((b) => { binary += String.fromCharCode(b); });
    return "sha256 " + btoa(binary);
  }

  async function problemText(response) {
    try { return (await response.json()).detail || response.statusText; } catch (e) { return response.statusText; }
  }

  function storageKey(file) {
    return ["lagc-tus", submission, file.name, file.size, file.lastModified].join(":");
  }

  function show() {
    let done = 0, total = 0;
    jobs.forEach((job) => {
      done += job.offset; total += job.file.size;
      job.bar.max = Math.max(job.file.size, 1);
      job.bar.value = job.file.size ? job.offset : 1;
      // A share, not a byte count: sizes are written by the server's one formatter (the list above reloads).
      job.text.textContent = `${job.file.size ? Math.floor((100 * job.offset) / job.file.size) : 100} % ${job.state}`;
      job.text.title = `${job.offset.toLocaleString()} of ${job.file.size.toLocaleString()} bytes`;
    });
    overall.max = Math.max(total, 1);
    overall.value = total ? done : (jobs.length ? 1 : 0);
    overallText.textContent = total ? `${Math.floor((100 * done) / total)} %` : "";
    startButton.disabled = running;
    pauseButton.disabled = !running || paused;
    resumeButton.disabled = !paused;
    if (finaliseButton) { // ready once every chosen file is in (or, before choosing, when the server says so)
      const ready = jobs.length ? jobs.every((job) => job.offset >= job.file.size)
        : finaliseButton.dataset.ready === "1";
      finaliseButton.disabled = running || !ready;
      finaliseHint.hidden = !finaliseButton.disabled;
    }
  }

  function request(method, url, headers, body) {
    return fetch(url, { method, body, credentials: "same-origin",
      headers: Object.assign({ "Tus-Resumable": TUS, "X-CSRFToken": csrf }, headers) });
  }

  async function locate(job) {
    const remembered = localStorage.getItem(storageKey(job.file));
    if (remembered) {
      const head = await request("HEAD", remembered, {});
      if (head.ok) { job.url = remembered; job.offset = parseInt(head.headers.get("Upload-Offset"), 10); return; }
      localStorage.removeItem(storageKey(job.file));
    }
    const created = await request("POST", endpoint, {
      "Upload-Length": String(job.file.size),
      "Upload-Metadata": `filename ${b64(job.file.name)},submission ${b64(submission)}`,
    });
    if (created.status !== 201) throw new Error(`${job.file.name}: ${await problemText(created)}`);
    job.url = created.headers.get("Location");
    job.offset = 0;
    localStorage.setItem(storageKey(job.file), job.url);
  }

  async function sendChunk(job) {
    const buffer = await job.file.slice(job.offset, job.offset + chunkBytes()).arrayBuffer();
    const headers = { "Upload-Offset": String(job.offset), "Content-Type": "application/offset+octet-stream" };
    const sum = await checksum(buffer);
    if (sum) headers["Upload-Checksum"] = sum;
    const response = await request("PATCH", job.url, headers, buffer);
    if (response.status === 204) { job.offset = parseInt(response.headers.get("Upload-Offset"), 10); return; }
    if (response.status === 409 || response.status === 460 || response.status === 423) {
      const head = await request("HEAD", job.url, {}); // re-synchronise, then send again
      if (head.ok) { job.offset = parseInt(head.headers.get("Upload-Offset"), 10); return; }
    }
    throw new Error(`${job.file.name}: ${await problemText(response)}`);
  }

  async function upload(job) {
    if (!job.url) { job.state = "(starting)"; show(); await locate(job); }
    while (job.offset < job.file.size && !paused) {
      job.state = "(uploading)"; show();
      await sendChunk(job);
    }
    if (job.offset >= job.file.size) { job.state = "✓ uploaded"; localStorage.removeItem(storageKey(job.file)); }
    else { job.state = "(paused)"; }
    show();
  }

  async function run() {
    running = true; paused = false; status.textContent = "Uploading…"; show();
    try {
      for (const job of jobs) {
        if (paused) break;
        await upload(job);
      }
      status.textContent = paused ? "Paused. Press Resume to continue from the last confirmed byte."
        : "Every file is uploaded. Press Finalise to have the checkpoint checked.";
    } catch (error) {
      status.textContent = `Stopped: ${error.message}. Press Resume to try again.`;
      paused = true;
    }
    running = false; show();
  }

  function prepare() {
    list.replaceChildren();
    jobs = Array.from(input.files).map((file) => {
      const item = document.createElement("li");
      const label = document.createElement("span");
      const bar = document.createElement("progress");
      const text = document.createElement("span");
      label.textContent = file.name + " ";
      text.className = "muted";
      item.dataset.file = file.name;
      item.append(label, bar, " ", text);
      list.append(item);
      return { file, bar, text, url: null, offset: 0, state: "" };
    });
    show();
  }

  input.addEventListener("change", prepare);
  startButton.addEventListener("click", () => { if (!jobs.length) prepare(); if (jobs.length) run(); });
  pauseButton.addEventListener("click", () => { paused = true; status.textContent = "Pausing after this chunk…"; show(); });
  resumeButton.addEventListener("click", () => {
    if (running) { paused = false; status.textContent = "Uploading…"; show(); } else { run(); }
  });
  show();
})();
