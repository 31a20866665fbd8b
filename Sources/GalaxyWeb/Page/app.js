// The upload page: talks to the JSON API with the bearer token kept in sessionStorage (cleared
// when the tab closes). No framework, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const classes = ["Elliptical", "Spiral", "BarredSpiral", "Ambiguous"];
let token = sessionStorage.getItem("galaxy.token") || "";
let galleryClass = "";
let lastPredictionCount = -1;

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (token) h["Authorization"] = "Bearer " + token;
  return h;
}

async function api(path, options) {
  const response = await fetch(path, Object.assign({}, options, { headers: headers((options || {}).headers) }));
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : null;
  if (!response.ok && response.status !== 202) {
    const message = body && body.error ? body.error.message : response.status + " " + response.statusText;
    throw new Error(message);
  }
  return body;
}

// Images need the Authorization header too, so they are fetched and shown as blob URLs.
async function imageURL(path) {
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) throw new Error("image " + response.status);
  return URL.createObjectURL(await response.blob());
}

function classColor(name) { return `var(--${classes.includes(name) ? name : "Ambiguous"})`; }

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- token ---------------------------------------------------------------------------------

$("token").value = token;
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("galaxy.token", token);
  refreshAll();
});

async function refreshAll() {
  $("token-state").textContent = "";
  try {
    await Promise.all([loadGallery(), loadModels(), loadBatches()]);
    $("token-state").textContent = token ? "✓" : "";
    startEvents();
  } catch (error) {
    $("token-state").textContent = error.message;
    $("token-state").className = "error";
  }
}

// ---- uploads -------------------------------------------------------------------------------

const drop = $("drop");
["dragenter", "dragover"].forEach((n) => drop.addEventListener(n, (e) => { e.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((n) => drop.addEventListener(n, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
drop.addEventListener("drop", (e) => upload([...e.dataTransfer.files]));
$("files").addEventListener("change", (e) => { upload([...e.target.files]); e.target.value = ""; });

function upload(files) {
  files.filter((f) => f.type === "image/jpeg" || /\.jpe?g$/i.test(f.name) || true).forEach(uploadOne);
}

async function uploadOne(file) {
  const card = $("result-template").content.firstElementChild.cloneNode(true);
  card.querySelector(".name").textContent = file.name;
  card.querySelector(".original").src = URL.createObjectURL(file);
  card.querySelector(".class").textContent = "scoring…";
  $("results").prepend(card);
  const started = performance.now();
  try {
    const result = await api("/v1/predictions", { method: "POST", body: file, headers: { "Content-Type": "image/jpeg" } });
    const roundTrip = performance.now() - started;
    showResult(card, result, roundTrip);
    card.querySelector(".crop").src = await imageURL(`/v1/images/${result.id}/input.png`);
  } catch (error) {
    card.querySelector(".class").textContent = "rejected";
    card.querySelector(".class").classList.add("error");
    card.querySelector(".meta").textContent = error.message;
    card.querySelector(".meta").classList.add("error");
  }
}

function showResult(card, result, roundTrip) {
  card.dataset.imageId = result.id;
  const title = card.querySelector(".class");
  if (result.status !== "done") {
    title.textContent = result.status;
    card.querySelector(".meta").textContent = result.error || `image ${result.id} is ${result.status}; it appears in the gallery once scored`;
    return;
  }
  title.textContent = result.class;
  title.style.color = classColor(result.class);
  card.querySelector(".label").textContent = result.label;
  const bars = card.querySelector(".bars");
  const sorted = Object.entries(result.probabilities).sort((a, b) => b[1] - a[1]);
  // The six most likely labels; the rest share what is left.
  for (const [label, p] of sorted.slice(0, 6)) {
    bars.append(el("span", {}, label));
    const bar = el("div", { class: "bar" });
    const fill = el("i");
    fill.style.width = (100 * p).toFixed(1) + "%";
    fill.style.background = label === result.label ? classColor(result.class) : "";
    bar.append(fill);
    bars.append(bar);
    bars.append(el("span", { class: "v" }, (100 * p).toFixed(1) + "%"));
  }
  const t = result.timings || {};
  const model = result.model ? `${result.model.name}${result.model.precision === "bf16" ? " (bf16)" : ""}` : "?";
  const parts = [`image ${result.id}`, `model ${model}`];
  if (t.inference_ms != null) parts.push(`inference ${t.inference_ms.toFixed(1)} ms`);
  parts.push(`round trip ${roundTrip.toFixed(0)} ms`);
  card.querySelector(".meta").textContent = parts.join(" · ");
}

// ---- gallery -------------------------------------------------------------------------------

$("filters").addEventListener("click", (e) => {
  if (e.target.tagName !== "BUTTON") return;
  galleryClass = e.target.dataset.class;
  for (const b of $("filters").children) b.classList.toggle("on", b === e.target);
  loadGallery();
});

async function loadGallery() {
  const query = galleryClass ? `?limit=24&class=${encodeURIComponent(galleryClass)}` : "?limit=24";
  const { predictions } = await api("/v1/predictions" + query);
  const gallery = $("gallery");
  gallery.replaceChildren();
  if (predictions.length === 0) gallery.append(el("p", { class: "muted" }, "No predictions yet."));
  for (const p of predictions) {
    const tile = el("div", { class: "tile", title: `image ${p.id}: ${p.label} (${(100 * p.probabilities[p.label]).toFixed(0)}%)` });
    const img = el("img", { alt: p.class });
    const caption = el("span");
    const dot = el("i", { class: "dot" });
    dot.style.background = classColor(p.class);
    caption.append(dot, document.createTextNode(`${p.class} · ${p.label}`));
    tile.append(img, caption);
    gallery.append(tile);
    imageURL(`/v1/images/${p.id}`).then((u) => { img.src = u; }).catch(() => {});
  }
}

// ---- models and batches --------------------------------------------------------------------

async function loadModels() {
  const { models } = await api("/v1/models");
  const body = $("models");
  body.replaceChildren();
  for (const m of models) {
    const row = el("tr");
    const name = el("td");
    name.append(el("div", {}, m.name), el("div", { class: "muted" }, m.sha256.slice(0, 12)));
    const status = el("td");
    status.append(el("span", { class: "badge " + (m.active ? "active" : m.status) }, m.active ? "active" : m.status));
    const action = el("td");
    if (!m.active && m.status === "ready") {
      const button = el("button", { class: "small ghost" }, "Activate");
      button.addEventListener("click", async () => {
        button.disabled = true;
        try { await api(`/v1/models/${m.id}/activate`, { method: "POST" }); } catch (e) { alert(e.message); }
        loadModels(); loadBatches();
      });
      action.append(button);
    }
    row.append(name, status, el("td", {}, String(m.predictions)), action);
    body.append(row);
  }
}

function renderBatches(batches) {
  const box = $("batches");
  box.replaceChildren();
  if (batches.length === 0) box.append(el("p", { class: "muted" }, "No batches yet."));
  for (const b of batches) {
    const finished = b.done + b.failed;
    const percent = b.total === 0 ? 100 : (100 * finished) / b.total;
    const row = el("div", { class: "batch" });
    row.append(el("span", {}, `#${b.id} · ${b.selection} · ${b.model_name}`));
    const right = el("span", { class: "muted" }, `${finished}/${b.total} · ${b.status}`);
    if (b.status === "running") {
      const cancel = el("button", { class: "small ghost" }, "Cancel");
      cancel.addEventListener("click", async () => {
        try { await api(`/v1/batches/${b.id}/cancel`, { method: "POST" }); } catch (e) { alert(e.message); }
        loadBatches();
      });
      right.append(" ", cancel);
    }
    const bar = el("div", { class: "progress" });
    const fill = el("i");
    fill.style.width = percent.toFixed(1) + "%";
    bar.append(fill);
    row.append(right, bar);
    box.append(row);
  }
}

async function loadBatches() {
  const { batches } = await api("/v1/batches");
  renderBatches(batches.slice(0, 6));
}

$("start-batch").addEventListener("click", async () => {
  try {
    await api("/v1/batches", { method: "POST", body: JSON.stringify({ selection: "unscored" }), headers: { "Content-Type": "application/json" } });
  } catch (e) { alert(e.message); }
  loadBatches();
});

// ---- live status (server-sent events over fetch, so the token goes in a header) --------------

let eventsAbort = null;

async function startEvents() {
  if (eventsAbort) eventsAbort.abort();
  const controller = new AbortController();
  eventsAbort = controller;
  while (!controller.signal.aborted) {
    try {
      const response = await fetch("/v1/events", { headers: headers(), signal: controller.signal });
      if (!response.ok) throw new Error("events " + response.status);
      $("s-conn").textContent = "live";
      $("s-conn").className = "chip on";
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) onStatus(JSON.parse(data));
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    $("s-conn").textContent = "offline";
    $("s-conn").className = "chip off";
    await new Promise((r) => setTimeout(r, 3000));
  }
}

function onStatus(status) {
  if (status.error) return;
  for (const key of ["queued", "scoring", "predictions", "failed", "daemons"]) $("s-" + key).textContent = status[key];
  renderBatches(status.batches.slice(0, 6));
  if (status.predictions !== lastPredictionCount) {
    if (lastPredictionCount >= 0) { loadGallery().catch(() => {}); loadModels().catch(() => {}); }
    lastPredictionCount = status.predictions;
  }
}

if (token) refreshAll();
