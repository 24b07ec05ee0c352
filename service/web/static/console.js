// Producer console (/console/{cid}): voting window, jury lock, live votes per second and
// counts, the reveal stepper, ledger verification and the full leaderboard (websocket
// with the admin token). The admin token is kept in sessionStorage only.
import {
  $, api, contestIdFromPath, contestPath, countryName, formatPoints, h, LeaderboardSocket,
  sleep, storageGet, storageSet,
} from "./common.js";
import { flag } from "./flags.js";

const cid = contestIdFromPath();
const TOKEN_KEY = "silkvote.admin";
const CHART_SECONDS = 120;

const state = {
  token: storageGet(sessionStorage, TOKEN_KEY),
  contest: null,
  stats: null,
  lastPoll: null, // {t, total}
  rates: [], // [{t, rate}]
  reveal: { revealed: 0, total: null, steps: [] },
  results: null,
  socket: null,
  polling: false,
};
window.__console = state; // for tests and support

// ---------------------------------------------------------------- helpers

function message(kind, text) {
  const el = $("#action-msg");
  el.textContent = text;
  el.className = `action-msg ${kind}`;
  clearTimeout(message.timer);
  message.timer = setTimeout(() => el.classList.add("hidden"), 6000);
}

const ERROR_TEXT = {
  window_open: "Close audience voting before starting the reveal.",
  reveal_complete: "Every step has been revealed.",
  unauthorized: "The admin token was refused.",
  network: "No connection to the server.",
  not_found: "This contest does not exist.",
};

function explain(res) {
  return ERROR_TEXT[res.error.code] || `${res.error.code}: ${res.error.message}`;
}

async function admin(method, rest, body) {
  const res = await api(method, contestPath(cid, rest), { token: state.token, body });
  if (!res.ok && res.error.code === "unauthorized") signOut("The admin token was refused. Enter it again.");
  return res;
}

/** Two taps to confirm a dangerous action (a dialog would block the page). */
function confirmButton(button, label, armedLabel, action) {
  let armed = null;
  button.addEventListener("click", async () => {
    if (!armed) {
      button.textContent = armedLabel;
      button.classList.add("armed");
      armed = setTimeout(() => {
        armed = null;
        button.textContent = label;
        button.classList.remove("armed");
      }, 5000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.textContent = label;
    button.classList.remove("armed");
    await action();
  });
}

function describeStep(step, { short = false } = {}) {
  if (!step) return "";
  if (step.body === "televote") {
    const to = step.to || Object.keys(step.points || {})[0];
    const pts = typeof step.points === "object" && step.points !== null ? step.points[to] : step.points;
    return `Televote → ${countryName(to)}: ${formatPoints(pts)} points`;
  }
  const entries = Object.entries(step.points || {});
  const body = step.body === "combined" ? "Votes" : "Jury";
  const head = `${body} of ${countryName(step.from)}`;
  if (short || !entries.length) return head;
  const [topCountry, topPts] = entries[0];
  return `${head}: ${formatPoints(topPts)} → ${countryName(topCountry)}`
    + (entries.length > 1 ? ` (${entries.slice(1).map(([c, p]) => `${formatPoints(p)} ${c}`).join(", ")})` : "");
}

// ---------------------------------------------------------------- rendering

function renderContest() {
  const c = state.contest;
  if (!c) return;
  $("#contest-name").textContent = `${c.name} · ${c.id}`;
  const windowState = state.stats?.window || state.results?.window || c.window;
  const ws = $("#window-state");
  ws.dataset.state = windowState;
  ws.textContent = windowState === "open" ? "OPEN" : "CLOSED";
  $("#open-window").disabled = windowState === "open";
  $("#close-window").disabled = windowState === "closed";
  const locked = Boolean(c.jury_locked || state.results?.jury_locked); // the lock is one-way
  const js = $("#jury-state");
  js.dataset.state = locked ? "locked" : "unlocked";
  js.textContent = locked ? "LOCKED" : "Ballots open";
  $("#lock-jury").disabled = locked;
}

function renderCounts() {
  const stats = state.stats;
  if (!stats) return;
  $("#accepted-total").textContent = String(stats.accepted_total);
  const countries = state.contest?.voting_countries || Object.keys(stats.by_country || {});
  const max = Math.max(1, ...countries.map((c) => stats.by_country?.[c] || 0));
  const rows = [...countries]
    .sort((a, b) => (stats.by_country?.[b] || 0) - (stats.by_country?.[a] || 0) || a.localeCompare(b))
    .map((code) => {
      const n = stats.by_country?.[code] || 0;
      const fill = h("div", { class: "barfill" });
      fill.style.width = `${(n / max) * 100}%`;
      return h("tr", { dataset: { country: code } },
        h("td", { class: "code" }, flag(code), " ", code),
        h("td", {}, h("div", { class: "barbox" }, fill)),
        h("td", { class: "n" }, String(n)));
    });
  $("#country-counts").replaceChildren(...rows);
}

function drawChart() {
  const canvas = $("#rate-chart");
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 800;
  const height = canvas.clientHeight || 220;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const pad = { l: 44, r: 10, t: 12, b: 22 };
  const w = width - pad.l - pad.r;
  const hgt = height - pad.t - pad.b;
  const now = performance.now() / 1000;
  const points = state.rates.filter((p) => now - p.t <= CHART_SECONDS);
  const peak = Math.max(1, ...points.map((p) => p.rate));
  const niceMax = niceCeil(peak);
  // grid and labels
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#a8add0";
  ctx.strokeStyle = "rgba(255,255,255,0.08)";
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i += 1) {
    const y = pad.t + hgt - (hgt * i) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.l, y);
    ctx.lineTo(pad.l + w, y);
    ctx.stroke();
    const tick = (niceMax * i) / 4;
    ctx.fillText(niceMax < 4 ? tick.toFixed(2).replace(/\.?0+$/, "") : String(Math.round(tick)), 6, y + 4);
  }
  for (const secs of [0, 30, 60, 90, 120]) {
    const x = pad.l + w - (w * secs) / CHART_SECONDS;
    ctx.fillText(secs ? `-${secs}s` : "now", Math.min(x - 10, pad.l + w - 24), height - 6);
  }
  if (points.length < 2) return;
  const xOf = (t) => pad.l + w - (w * (now - t)) / CHART_SECONDS;
  const yOf = (r) => pad.t + hgt - (hgt * r) / niceMax;
  ctx.beginPath();
  points.forEach((p, i) => (i ? ctx.lineTo(xOf(p.t), yOf(p.rate)) : ctx.moveTo(xOf(p.t), yOf(p.rate))));
  ctx.strokeStyle = "#ffb703";
  ctx.lineWidth = 2.5;
  ctx.stroke();
  ctx.lineTo(xOf(points[points.length - 1].t), pad.t + hgt);
  ctx.lineTo(xOf(points[0].t), pad.t + hgt);
  ctx.closePath();
  ctx.fillStyle = "rgba(255,183,3,0.18)";
  ctx.fill();
}

function niceCeil(value) {
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= value) return m * exp;
  return 10 * exp;
}

function renderReveal() {
  const r = state.reveal;
  const total = state.results?.reveal_total ?? r.total;
  const revealed = Math.max(r.revealed, state.results?.revealed ?? 0);
  $("#reveal-progress").textContent = total ? `${revealed} of ${total} shown` : `${revealed} shown`;
  const fullSteps = state.results?.full ? state.results.reveal : null;
  const next = fullSteps && fullSteps.length > revealed ? fullSteps[revealed] : null;
  const preview = $("#reveal-next-preview");
  const done = total !== null && total !== undefined && total > 0 && revealed >= total;
  if (done) {
    preview.replaceChildren(h("span", { class: "label" }, "Next"), "Reveal complete — final result on air.");
  } else if (next) {
    preview.replaceChildren(h("span", { class: "label" }, `Next: step ${revealed + 1}`), describeStep(next));
  } else {
    preview.replaceChildren(h("span", { class: "label" }, "Next"),
      total ? `Step ${revealed + 1} of ${total}` : "Close voting (and lock the jury) to start the reveal.");
  }
  $("#reveal-next").disabled = done;
  const steps = (r.steps || []).slice().reverse();
  $("#reveal-steps").replaceChildren(...steps.map((step) => h(
    "li", { value: step.step, dataset: { step: step.step } }, describeStep(step),
  )));
}

function renderBoard() {
  const results = state.results;
  if (!results) return;
  $("#board-phase").textContent = `${results.phase || ""} · seq ${results.__seq ?? ""}`;
  const votesByEntry = {};
  for (const row of Object.values(results.votes || {})) {
    for (const [entry, n] of Object.entries(row)) votesByEntry[entry] = (votesByEntry[entry] || 0) + n;
  }
  const lines = [...(results.scoreboard || [])].sort((a, b) => a.place - b.place);
  $("#board").replaceChildren(...lines.map((line) => h(
    "tr", { dataset: { country: line.country, place: line.place } },
    h("td", {}, String(line.place)),
    h("td", {}, h("span", { class: "who" }, flag(line.country), countryName(line.country))),
    h("td", {}, formatPoints(line.jury)),
    h("td", {}, formatPoints(line.televote)),
    h("td", { class: "total" }, formatPoints(line.total)),
    h("td", {}, String(votesByEntry[line.country] || 0)),
  )));
}

// ---------------------------------------------------------------- data

async function loadContest() {
  const res = await api("GET", contestPath(cid));
  if (res.ok) {
    // Keep a lock seen here even if this read raced with it (the lock is one-way).
    const locked = Boolean(state.contest?.jury_locked);
    state.contest = res.data;
    state.contest.jury_locked = res.data.jury_locked || locked;
  }
  return res;
}

async function loadReveal() {
  const res = await admin("GET", "/reveal");
  if (res.ok) {
    state.reveal = { revealed: res.data.revealed, total: res.data.total ?? null, steps: res.data.steps || [] };
    renderReveal();
  }
}

async function pollStats() {
  if (state.polling) return;
  state.polling = true;
  let round = 0;
  while (state.token) {
    const started = performance.now();
    round += 1;
    if (round % 5 === 0) await loadContest(); // jury lock and name, changed elsewhere
    const res = await admin("GET", "/stats");
    if (res.ok) {
      const t = performance.now() / 1000;
      const total = res.data.accepted_total;
      if (state.lastPoll) {
        const dt = t - state.lastPoll.t;
        const rate = dt > 0 ? Math.max(0, (total - state.lastPoll.total) / dt) : 0;
        state.rates.push({ t, rate });
        state.rates = state.rates.filter((p) => t - p.t <= CHART_SECONDS + 2);
        $("#rate-now").textContent = rate.toFixed(rate < 10 ? 1 : 0);
      }
      state.lastPoll = { t, total };
      state.stats = res.data;
      renderCounts();
      renderContest();
    }
    drawChart();
    await sleep(Math.max(100, 1000 - (performance.now() - started)));
  }
  state.polling = false;
}

function startSocket() {
  if (state.socket) state.socket.stop();
  state.socket = new LeaderboardSocket(cid, {
    token: state.token,
    onResults: (results, msg) => {
      results.__seq = msg.seq;
      state.results = results;
      if (results.revealed > state.reveal.revealed) loadReveal();
      renderBoard();
      renderReveal();
      renderContest();
    },
    onState: (s) => {
      const pill = $("#ws-state");
      pill.textContent = s === "live" ? "live" : s;
      pill.className = `pill ${s === "live" ? "open" : s === "unauthorized" ? "closed" : "pending"}`;
    },
  }).start();
}

// ---------------------------------------------------------------- actions

async function setWindow(open) {
  const res = await admin("POST", "/window", { state: open ? "open" : "closed" });
  if (res.ok) {
    state.contest.window = res.data.window;
    if (state.stats) state.stats.window = res.data.window;
    message("ok", open ? "Voting is open." : "Voting is closed.");
  } else message("error", explain(res));
  renderContest();
}

async function lockJury() {
  const res = await admin("POST", "/jury/lock");
  if (res.ok) {
    state.contest.jury_locked = true;
    if (state.results) state.results.jury_locked = true;
    message("ok", "Jury ballots are locked.");
  } else message("error", explain(res));
  renderContest();
}

async function revealNext() {
  const button = $("#reveal-next");
  button.disabled = true;
  const res = await admin("POST", "/reveal/next");
  if (res.ok) {
    state.reveal = {
      revealed: res.data.revealed,
      total: res.data.total ?? state.reveal.total,
      steps: res.data.steps || [...state.reveal.steps, res.data.step].filter(Boolean),
    };
    message("ok", `Step ${res.data.revealed}: ${describeStep(res.data.step)}`);
  } else message("error", explain(res));
  button.disabled = false;
  renderReveal();
}

async function verify() {
  const box = $("#verify-result");
  box.replaceChildren("Checking…");
  box.dataset.ok = "";
  const res = await admin("POST", "/verify");
  if (!res.ok) {
    box.replaceChildren(explain(res));
    return;
  }
  const v = res.data;
  box.dataset.ok = String(Boolean(v.ok));
  const children = [
    h("div", { class: "verdict" }, v.ok ? "✓ Live tallies match the ledger" : "✗ Differences found"),
    h("div", { class: "muted" }, `ledger ${v.ledger_total ?? "?"} · live ${v.live_total ?? "?"}`
      + ` · ${new Date().toLocaleTimeString()}`),
  ];
  const diffs = v.differences || [];
  if (diffs.length) {
    children.push(h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "From"), h("th", {}, "Entry"), h("th", {}, "Live"), h("th", {}, "Ledger"))),
      h("tbody", {}, ...diffs.slice(0, 50).map((d) => h("tr", {},
        h("td", {}, d.country), h("td", {}, d.entry), h("td", {}, String(d.live)), h("td", {}, String(d.ledger)))))));
  }
  box.replaceChildren(...children);
}

// ---------------------------------------------------------------- auth

function signOut(reason) {
  state.token = null;
  storageSet(sessionStorage, TOKEN_KEY, null);
  if (state.socket) state.socket.stop();
  state.socket = null;
  $("#console").classList.add("hidden");
  $("#sign-out").classList.add("hidden");
  $("#auth").classList.remove("hidden");
  const err = $("#auth-error");
  err.textContent = reason || "";
  err.classList.toggle("hidden", !reason);
}

async function unlock(token) {
  const res = await api("GET", contestPath(cid, "/stats"), { token });
  if (!res.ok) {
    const err = $("#auth-error");
    err.textContent = res.error.code === "unauthorized" ? "That token was refused." : explain(res);
    err.classList.remove("hidden");
    return false;
  }
  state.token = token;
  storageSet(sessionStorage, TOKEN_KEY, token);
  $("#auth").classList.add("hidden");
  $("#console").classList.remove("hidden");
  $("#sign-out").classList.remove("hidden");
  await loadContest();
  renderContest();
  loadReveal();
  startSocket();
  pollStats();
  return true;
}

async function main() {
  $("#overlay-link").href = `/overlay/${encodeURIComponent(cid)}`;
  const res = await loadContest();
  if (!res.ok) {
    $("#contest-name").textContent = res.error.code === "not_found" ? `Contest ${cid} not found` : explain(res);
  } else renderContest();
  $("#auth-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("#admin-token").value.trim();
    if (token && (await unlock(token))) $("#admin-token").value = "";
  });
  $("#sign-out").addEventListener("click", () => signOut(null));
  $("#open-window").addEventListener("click", () => setWindow(true));
  $("#close-window").addEventListener("click", () => setWindow(false));
  confirmButton($("#lock-jury"), "Lock jury ballots", "Tap again to lock", lockJury);
  $("#reveal-next").addEventListener("click", revealNext);
  $("#verify").addEventListener("click", verify);
  window.addEventListener("resize", drawChart);
  if (!state.token) signOut(null);
  else if (!(await unlock(state.token))) signOut("The saved admin token was refused; enter it again.");
}

main();
