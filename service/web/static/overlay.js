// Broadcast scoreboard overlay (/overlay/{cid}). Reads only the leaderboard websocket:
// snapshot + updates, re-sync on a seq gap, reconnect when the connection drops.
// Query options: bg=transparent, title=…, lang=en|ru|zh|kk (country names), token=…
// (a results token when RESULTS_TOKEN is set).
import {
  $, contestIdFromPath, countryName, formatPoints, h, LeaderboardSocket, pointsValue,
} from "./common.js";
import { flag } from "./flags.js";

const cid = contestIdFromPath();
const params = new URLSearchParams(location.search);
const lang = params.get("lang") || "en";
const STAGE_W = 1920;
const STAGE_H = 1080;
const MOVE_MS = 900;

if (params.get("bg") === "transparent") document.body.classList.add("transparent");

const state = {
  results: null, seq: null, scale: 1, rows: new Map(), lastStepKey: null, updates: 0, history: [],
};
window.__overlay = state; // for tests and support

// ---------------------------------------------------------------- stage scaling

function fitStage() {
  const stage = $("#stage");
  const scale = Math.min(window.innerWidth / STAGE_W, window.innerHeight / STAGE_H);
  const x = (window.innerWidth - STAGE_W * scale) / 2;
  const y = (window.innerHeight - STAGE_H * scale) / 2;
  state.scale = scale;
  stage.style.transform = `translate(${x}px, ${y}px) scale(${scale})`;
}

// ---------------------------------------------------------------- rows

function makeRow(country) {
  const row = h(
    "li", { class: "ov-row", dataset: { country } },
    h("span", { class: "place" }, ""),
    flag(country, { title: countryName(country, lang) }),
    h("span", { class: `name${countryName(country, lang).length > 11 ? " long" : ""}` },
      countryName(country, lang)),
    h("span", { class: "chip" }, ""),
    h("span", { class: "total" }, "0"),
  );
  row._shown = null;
  return row;
}

function setTotal(row, total) {
  const el = row.querySelector(".total");
  const text = formatPoints(total);
  row.dataset.total = text;
  const from = row._shown;
  row._shown = total;
  cancelAnimationFrame(row._tween || 0);
  if (typeof total !== "number" || typeof from !== "number" || from === total) {
    el.textContent = text;
    return;
  }
  const start = performance.now();
  const tick = (now) => {
    const k = Math.min(1, (now - start) / MOVE_MS);
    const eased = 1 - (1 - k) ** 3;
    el.textContent = String(Math.round(from + (total - from) * eased));
    if (k < 1) row._tween = requestAnimationFrame(tick);
  };
  row._tween = requestAnimationFrame(tick);
}

/** Points each entry received in the last announced step, and how it is highlighted. */
function stepAwards(step) {
  const awards = new Map();
  if (!step) return { awards, top: null };
  if (step.body === "televote") {
    const to = step.to || Object.keys(step.points || {})[0];
    const pts = typeof step.points === "object" && step.points !== null ? step.points[to] : step.points;
    if (to) awards.set(to, pts);
    return { awards, top: to, televote: true };
  }
  let top = null;
  let best = -Infinity;
  for (const [country, pts] of Object.entries(step.points || {})) {
    awards.set(country, pts);
    if (pointsValue(pts) > best) {
      best = pointsValue(pts);
      top = country;
    }
  }
  return { awards, top, televote: false };
}

function renderBoard(results) {
  const board = $("#board");
  const lines = [...(results.scoreboard || [])].sort((a, b) => a.place - b.place);
  const n = lines.length;
  const twoCols = n > 8;
  const perCol = twoCols ? Math.ceil(n / 2) : n;
  board.classList.toggle("one-col", !twoCols);
  board.style.gridTemplateRows = `repeat(${Math.max(perCol, 1)}, minmax(0, 1fr))`;

  // FLIP — First: where every row is now (on screen, transforms included).
  const first = new Map();
  for (const [country, row] of state.rows) first.set(country, row.getBoundingClientRect());
  const oldPlace = new Map([...state.rows].map(([c, row]) => [c, Number(row.dataset.place)]));

  const live = new Set(lines.map((l) => l.country));
  for (const [country, row] of state.rows) {
    if (!live.has(country)) {
      row.remove();
      state.rows.delete(country);
    }
  }
  const phase = results.phase || "voting";
  const step = phase === "reveal" ? results.last_step : null;
  const { awards, top, televote } = stepAwards(step);

  for (const line of lines) {
    let row = state.rows.get(line.country);
    if (!row) {
      row = makeRow(line.country);
      state.rows.set(line.country, row);
    }
    board.append(row); // DOM order = place order (moves existing rows)
    row.dataset.place = String(line.place);
    row.querySelector(".place").textContent = String(line.place);
    setTotal(row, line.total);
    const chip = row.querySelector(".chip");
    const got = awards.get(line.country);
    chip.textContent = got === undefined ? "" : (televote ? `+${formatPoints(got)}` : formatPoints(got));
    chip.classList.toggle("on", got !== undefined);
    row.classList.toggle("recipient", got !== undefined);
    row.classList.toggle("twelve", !televote && top === line.country);
    row.classList.toggle("tele", Boolean(televote) && top === line.country);
    row.classList.toggle("first", line.place === 1);
    row.classList.toggle("winner", phase === "final" && line.place === 1);
    const before = oldPlace.get(line.country);
    row.classList.remove("rose", "fell");
    if (before && before !== line.place) {
      row.classList.add(line.place < before ? "rose" : "fell");
      clearTimeout(row._arrow);
      row._arrow = setTimeout(() => row.classList.remove("rose", "fell"), 2500);
    }
  }

  // FLIP — Last, Invert, Play.
  const scale = state.scale || 1;
  for (const [country, row] of state.rows) {
    const was = first.get(country);
    if (!was) continue;
    const now = row.getBoundingClientRect();
    const dx = (was.left - now.left) / scale;
    const dy = (was.top - now.top) / scale;
    if (Math.abs(dx) < 0.5 && Math.abs(dy) < 0.5) continue;
    row.style.transition = "none";
    row.style.transform = `translate(${dx}px, ${dy}px)`;
    row.getBoundingClientRect(); // commit the inverted position before animating
    row.style.transition = `transform ${MOVE_MS}ms cubic-bezier(0.25, 0.8, 0.25, 1)`;
    row.style.transform = "";
  }
}

function renderHead(results) {
  const title = params.get("title") || results.name || "";
  $("#ov-title").textContent = title;
  const phaseEl = $("#ov-phase");
  const phase = results.phase || "voting";
  let text;
  if (phase === "final") text = "Final result";
  else if (phase === "reveal") {
    const step = results.last_step;
    const where = step && step.body !== "televote" && step.from
      ? ` · ${countryName(step.from, lang)}` : step ? " · Televote" : "";
    text = `Results ${results.revealed}/${results.reveal_total}${where}`;
  } else text = results.window === "open" ? "Televote live" : "Voting closed";
  phaseEl.textContent = text;
  phaseEl.className = `ov-phase ${phase === "voting" ? (results.window === "open" ? "live" : "") : phase}`;
}

function renderMoment(results) {
  const box = $("#moment");
  const phase = results.phase || "voting";
  const step = results.last_step;
  if (phase === "final") {
    const winner = (results.scoreboard || []).find((l) => l.place === 1);
    if (!winner) return box.classList.add("hidden");
    const key = `final:${winner.country}`;
    if (state.lastStepKey === key) return undefined;
    state.lastStepKey = key;
    box.className = "moment final";
    box.dataset.step = "final";
    box.dataset.to = winner.country;
    box.replaceChildren(
      h("span", {}, "Winner"), flag(winner.country),
      h("span", { class: "big" }, countryName(winner.country, lang)),
      h("span", { class: "from" }, `${formatPoints(winner.total)} points`),
    );
    return undefined;
  }
  if (phase !== "reveal" || !step) {
    state.lastStepKey = null;
    box.classList.add("hidden");
    return undefined;
  }
  const key = `step:${step.step}`;
  if (state.lastStepKey === key) return undefined;
  state.lastStepKey = key;
  const { awards, top, televote } = stepAwards(step);
  if (!top) return box.classList.add("hidden");
  box.dataset.step = String(step.step);
  box.dataset.to = top;
  if (televote) {
    box.className = "moment tele";
    box.replaceChildren(
      h("span", { class: "from" }, "Televote"), flag(top),
      h("span", {}, countryName(top, lang)),
      h("span", { class: "big" }, `+${formatPoints(awards.get(top))}`),
    );
  } else {
    box.className = "moment";
    box.replaceChildren(
      h("span", { class: "big" }, `${formatPoints(awards.get(top))} points`),
      h("span", {}, "go to"), flag(top),
      h("span", { class: "big" }, countryName(top, lang)),
      step.from ? h("span", { class: "from" }, `from ${countryName(step.from, lang)}`) : null,
    );
  }
  return undefined;
}

function onResults(results, msg) {
  state.results = results;
  state.seq = msg.seq;
  state.updates += 1;
  state.history.push({ seq: msg.seq, revealed: results.revealed ?? 0, step: results.last_step?.step ?? null });
  if (state.history.length > 500) state.history.shift();
  const board = $("#board");
  board.dataset.seq = String(msg.seq);
  board.dataset.phase = results.phase || "";
  board.dataset.revealed = String(results.revealed ?? 0);
  renderHead(results);
  renderBoard(results);
  renderMoment(results);
}

let connTimer = null;
function onState(s) {
  const el = $("#ov-conn");
  clearTimeout(connTimer);
  if (s === "live") {
    el.classList.add("hidden");
    return;
  }
  // Only show trouble that lasts: a quick re-sync should not flash on air.
  connTimer = setTimeout(() => {
    el.textContent = s === "unauthorized" ? "Not authorised for results" : "Reconnecting…";
    el.classList.remove("hidden");
  }, 2500);
}

fitStage();
window.addEventListener("resize", fitStage);
const socket = new LeaderboardSocket(cid, { token: params.get("token"), onResults, onState });
window.__overlaySocket = socket;
socket.start();
