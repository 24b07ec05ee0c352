// Producer console (/console/{cid}): voting window, jury lock, live votes per second and
// counts, the jury desk (console-jury.js), the reveal stepper with the overlay's
// hide-scores mode, ledger verification and the full leaderboard (websocket with the
// admin token), and results visibility, read tokens and voids (console-integrity.js).
// The admin token is kept in sessionStorage only. Texts: console-i18n.js (14
// languages, the #lang switcher), re-rendered in place on a switch.
import {
  $, api, contestIdFromPath, contestPath, formatPoints, h, LeaderboardSocket,
  sleep, storageGet, storageSet,
} from "./common.js";
import { confirmButton } from "./console-confirm.js";
import { countryText, mountLanguage, t, tr } from "./console-i18n.js";
import { renderSeal, retranslateVerify, verify } from "./console-ledger.js";
import { mountIntegrity } from "./console-integrity.js";
import { JuryDesk } from "./console-jury.js";
import { mountRehearsal, retranslateRehearsal } from "./console-rehearsal.js";
import { flag } from "./flags.js";
import { describeStep } from "./onair.js";
import { drawRateChart } from "./console-chart.js";
import { countdownText } from "./schedule.js";

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
  desk: null,
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

function explain(res) {
  const key = `console.error.${res.error.code}`;
  return tr().has(key) ? t(key) : t("console.error.other", res.error);
}

async function admin(method, rest, body) {
  const res = await api(method, contestPath(cid, rest), { token: state.token, body });
  if (!res.ok && res.error.code === "unauthorized") signOut(t("console.token_refused_again"));
  return res;
}

// ---------------------------------------------------------------- rendering

function renderContest() {
  const c = state.contest;
  if (!c) return;
  $("#contest-name").textContent = `${c.name} · ${c.id}`;
  const windowState = state.stats?.window || state.results?.window || c.window;
  const ws = $("#window-state");
  ws.dataset.state = windowState;
  ws.textContent = t(windowState === "open" ? "console.window_open" : "console.window_closed");
  // Once the reveal has started the server refuses to reopen (409 reveal_started).
  const revealStarted = Math.max(c.revealed || 0, state.results?.revealed || 0, state.reveal.revealed) > 0;
  $("#open-window").disabled = windowState === "open" || revealStarted;
  $("#window-note").classList.toggle("hidden", !revealStarted);
  $("#close-window").disabled = windowState === "closed";
  // Follow the server's hide-scores mode when it changes (another console), never
  // undoing a click whose answer has not come back yet. Until the mode is known the
  // switch takes no click: the first results would undo it.
  const hidden = state.results ? Boolean(state.results.hide_scores) : null;
  $("#hide-scores").disabled = hidden === null;
  if (hidden !== null && hidden !== state.hideSeen) {
    state.hideSeen = hidden;
    $("#hide-scores").checked = hidden;
  }
  renderCountdown();
  const locked = Boolean(c.jury_locked || state.results?.jury_locked); // the lock is one-way
  const js = $("#jury-state");
  js.dataset.state = locked ? "locked" : "unlocked";
  js.textContent = t(locked ? "console.jury_locked" : "console.jury_open");
  $("#lock-jury").disabled = locked;
  renderSeal(state.results?.seal, windowState === "closed" && locked);
}

/** The countdown to the scheduled close (or open), from the freshest view of it. */
function renderCountdown() {
  const c = state.contest;
  if (!c) return;
  const r = state.results;
  const windowState = state.stats?.window || r?.window || c.window;
  const opensAt = r && "opens_at" in r ? r.opens_at : c.opens_at;
  const closesAt = r && "closes_at" in r ? r.closes_at : c.closes_at;
  const text = countdownText(windowState, opensAt, closesAt, (key, vars) => t(key.replace("common.", "console."), vars));
  const el = $("#window-countdown");
  if (el.textContent !== text) el.textContent = text;
}
setInterval(() => tr() && renderCountdown(), 500);

async function sealLedger() {
  const res = await admin("POST", "/seal");
  if (res.ok) {
    if (state.results) state.results.seal = res.data;
    message("ok", t("console.sealed_msg", res.data));
  } else message("error", explain(res));
  renderContest();
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
  drawRateChart($("#rate-chart"), state.rates, CHART_SECONDS);
}

function renderReveal() {
  const r = state.reveal;
  const total = state.results?.reveal_total ?? r.total;
  const revealed = Math.max(r.revealed, state.results?.revealed ?? 0);
  $("#reveal-progress").textContent = t(total ? "console.shown_of" : "console.shown", { n: revealed, total });
  const fullSteps = state.results?.full ? state.results.reveal : null;
  const next = fullSteps && fullSteps.length > revealed ? fullSteps[revealed] : null;
  const preview = $("#reveal-next-preview");
  const done = total !== null && total !== undefined && total > 0 && revealed >= total;
  const label = (text) => h("span", { class: "label" }, text);
  if (done) preview.replaceChildren(label(t("console.next")), t("console.reveal_complete"));
  else if (next) {
    preview.replaceChildren(label(t("console.next_step", { n: revealed + 1 })), describeStep(next, state.results, { tr: tr() }));
  } else {
    preview.replaceChildren(label(t("console.next")),
      total ? t("console.step_of", { n: revealed + 1, total }) : t("console.reveal_not_ready"));
  }
  $("#reveal-next").disabled = done;
  const steps = (r.steps || []).slice().reverse();
  $("#reveal-steps").replaceChildren(...steps.map((step) => h(
    "li", { value: step.step, dataset: { step: step.step } }, describeStep(step, state.results, { tr: tr() }),
  )));
}

function renderBoard() {
  const results = state.results;
  if (!results) return;
  $("#board-phase").textContent = t("console.seq", { phase: results.phase || "", seq: results.__seq ?? "" });
  const votesByEntry = {};
  for (const row of Object.values(results.votes || {})) {
    for (const [entry, n] of Object.entries(row)) votesByEntry[entry] = (votesByEntry[entry] || 0) + n;
  }
  const lines = [...(results.scoreboard || [])].sort((a, b) => a.place - b.place);
  $("#board").replaceChildren(...lines.map((line) => h(
    "tr", { dataset: { country: line.country, place: line.place } },
    h("td", {}, String(line.place)),
    h("td", {}, h("span", { class: "who" }, flag(line.country), countryText(line.country))),
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
    state.integrity?.follow(res.data.results_visibility); // changed on another console
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

function renderSocketState() {
  const s = state.wsState || "offline";
  const pill = $("#ws-state");
  pill.textContent = tr().has(`console.ws.${s}`) ? t(`console.ws.${s}`) : s;
  pill.className = `pill ${s === "live" ? "open" : s === "unauthorized" ? "closed" : "pending"}`;
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
      state.wsState = s;
      renderSocketState();
    },
  }).start();
}

// ---------------------------------------------------------------- actions

async function setWindow(open) {
  const res = await admin("POST", "/window", { state: open ? "open" : "closed" });
  if (res.ok) {
    state.contest.window = res.data.window;
    if (state.stats) state.stats.window = res.data.window;
    message("ok", t(open ? "console.voting_open_msg" : "console.voting_closed_msg"));
  } else message("error", explain(res));
  renderContest();
}

async function lockJury() {
  const res = await admin("POST", "/jury/lock");
  if (res.ok) {
    state.contest.jury_locked = true;
    if (state.results) state.results.jury_locked = true;
    message("ok", t("console.jury_locked_msg"));
  } else message("error", explain(res));
  renderContest();
}

async function setHideScores(hide) {
  const res = await admin("POST", "/display", { hide_scores: hide });
  if (res.ok) message("ok", t(hide ? "console.scores_hidden" : "console.scores_shown"));
  else {
    message("error", explain(res));
    $("#hide-scores").checked = !hide;
  }
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
    message("ok", t("console.step_msg", { n: res.data.revealed, step: describeStep(res.data.step, state.results, { tr: tr() }) }));
  } else message("error", explain(res));
  button.disabled = false;
  renderReveal();
}

// ---------------------------------------------------------------- auth

function signOut(reason) {
  state.token = null;
  storageSet(sessionStorage, TOKEN_KEY, null);
  if (state.socket) state.socket.stop();
  state.socket = null;
  state.desk?.stop();
  state.integrity?.forget();
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
    err.textContent = res.error.code === "unauthorized" ? t("console.token_refused") : explain(res);
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
  if (!state.desk) {
    state.desk = new JuryDesk(cid, admin);
    state.desk.onError = (r) => message("error", explain(r));
    state.desk.start(state.contest);
  } else if (!state.desk.running) state.desk.poll();
  state.integrity.load();
  return true;
}

/** After a language switch: everything the page drew from data, in the new language. */
function rerender() {
  renderContest();
  renderCounts();
  renderReveal();
  renderBoard();
  renderSocketState();
  state.desk?.retranslate(state.contest);
  retranslateVerify();
  retranslateRehearsal();
  state.integrity?.retranslate();
}

async function main() {
  await mountLanguage(rerender);
  $("#overlay-link").href = `/overlay/${encodeURIComponent(cid)}`;
  const res = await loadContest();
  if (!res.ok) {
    $("#contest-name").textContent = res.error.code === "not_found" ? t("console.not_found", { cid }) : explain(res);
  } else renderContest();
  $("#auth-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("#admin-token").value.trim();
    if (token && (await unlock(token))) $("#admin-token").value = "";
  });
  $("#sign-out").addEventListener("click", () => signOut(null));
  $("#open-window").addEventListener("click", () => setWindow(true));
  confirmButton($("#close-window"), "console.close_window", "console.close_window_armed", () => setWindow(false));
  confirmButton($("#lock-jury"), "console.lock_jury", "console.lock_jury_armed", lockJury);
  $("#hide-scores").addEventListener("change", (event) => setHideScores(event.target.checked));
  $("#reveal-next").addEventListener("click", revealNext);
  $("#verify").addEventListener("click", () => verify(admin, explain));
  $("#seal").addEventListener("click", sealLedger);
  mountRehearsal(cid, () => state.token);
  state.integrity = mountIntegrity(cid, admin, { message, explain });
  window.addEventListener("resize", drawChart);
  if (!state.token) signOut(null);
  else if (!(await unlock(state.token))) signOut(t("console.saved_token_refused"));
}

main();
