// scorelab serve: swap server-rendered fragments in place (no framework, no network
// beyond this server). Each interactive form names the URL of its fragment; the page
// URL follows the form (history.replaceState), so every state is a citable link.
"use strict";

function formQuery(form) {
  const params = new URLSearchParams();
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") { if (el.checked) params.append(el.name, el.value); continue; }
    if (el.name.startsWith("set.") && el.dataset.original === el.value) continue;
    if (el.name.startsWith("cut.") && el.value === "") continue;
    params.append(el.name, el.value);
  }
  const unlocked = params.getAll("unlock");
  params.delete("unlock");
  if (unlocked.length) params.set("unlock", unlocked.join(","));
  return params;
}

function evidenceLink() {
  const link = document.getElementById("evidence");
  if (!link) return;
  const url = new URL(window.location.href);
  url.searchParams.set("evidence", "1");
  link.href = url.pathname + url.search;
}

const pending = {};  // one request in flight per target: a newer edit cancels an older one
async function refresh(form, target) {
  const params = formQuery(form);
  const page = window.location.pathname + "?" + params.toString();
  history.replaceState(null, "", page);
  evidenceLink();
  if (pending[target]) pending[target].abort();
  const controller = new AbortController();
  pending[target] = controller;
  const box = document.getElementById(target);
  box.classList.add("busy");
  try {
    const answer = await fetch(form.dataset.fragmentUrl + "?" + params.toString(),
                               {signal: controller.signal, headers: {"Accept": "text/html"}});
    box.innerHTML = await answer.text();
    document.dispatchEvent(new CustomEvent("scorelab:updated", {detail: target}));
  } catch (err) {
    if (err.name !== "AbortError") box.textContent = "The server did not answer: " + err.message;
  } finally {
    box.classList.remove("busy");
  }
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function wireWhatIf() {
  const form = document.getElementById("whatif-form");
  if (!form) return;
  const run = debounce(() => refresh(form, "whatif-result"), 150);
  form.addEventListener("input", (event) => {
    const el = event.target;
    if (el.type === "checkbox" && el.name === "unlock") {
      const field = el.closest(".field");
      const input = field.querySelector("input:not([type=checkbox]), select");
      input.disabled = !el.checked;
      field.classList.toggle("locked", !el.checked);
      if (!el.checked) input.value = input.dataset.original;
    }
    const field = el.closest(".field");
    if (field) {
      const input = field.querySelector("input:not([type=checkbox]), select");
      field.classList.toggle("edited", input.value !== input.dataset.original);
    }
    run();
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  const sweep = document.getElementById("sweep-button");
  if (sweep) {
    sweep.addEventListener("click", () => {
      const fake = {dataset: {fragmentUrl: sweep.dataset.sweepUrl}, elements: form.elements};
      refresh(fake, "sweep-result");
    });
  }
}

function wireCutoffs() {
  const form = document.getElementById("cutoff-form");
  if (!form) return;
  const output = document.getElementById("cutoff-value");
  const run = debounce(() => refresh(form, "cutoff-result"), 80);
  form.addEventListener("input", (event) => {
    if (event.target.matches("[data-autosubmit]")) return;
    if (output) output.textContent = document.getElementById("cutoff").value;
    run();
  });
}

function wireAutosubmit() {
  for (const el of document.querySelectorAll("[data-autosubmit]")) {
    el.addEventListener("change", () => el.form.submit());
  }
}

function wireFilter() {
  const box = document.getElementById("run-filter");
  if (!box) return;
  box.addEventListener("input", () => {
    const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const row of document.querySelectorAll("tr.run-row")) {
      row.hidden = !words.every((w) => row.dataset.search.includes(w));
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  evidenceLink();
  wireWhatIf();
  wireCutoffs();
  wireAutosubmit();
  wireFilter();
});
