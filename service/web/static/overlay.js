// Broadcast scoreboard overlay (/overlay/{cid}). Reads only the leaderboard websocket:
// snapshot + updates, re-sync on a seq gap, reconnect when the connection drops.
// Query options: bg=transparent, title=…, lang=<any language of web/i18n/> (labels and
// country names; else the browser's), guides=1 (draws the EBU R 95 action-safe and
// graphics-safe frames), winner_hold=ms (how long the last reveal step stays on air
// before the winner, default 5000). A results token (when RESULTS_TOKEN is set) goes in
// the fragment, `#token=…`, which the browser never sends to any server; the socket opens
// with a single-use ticket bought with it.
import {
  $, contestIdFromPath, formatPoints, h, LeaderboardSocket, pointsValue,
} from "./common.js";
import { fitText, refitWhenFontsLoad } from "./fit.js";
import { flag } from "./flags.js";
import { installTemplate } from "./casparcg.js";
import { loadCatalog, pickLanguage, queryLanguage } from "./i18n.js";
import { guides } from "./safe-area.js";
import { stepAwards, substituteLine, televoteSubstitutes } from "./onair.js";
import { clock, secondsTo } from "./schedule.js";
import { tweenTotal } from "./tween.js";

const cid = contestIdFromPath();
const params = new URLSearchParams(location.search);
let tr = null; // the Catalog (i18n.js), loaded before the socket starts
const countryName = (code) => tr.country(code);
const STAGE_W = 1920;
const STAGE_H = 1080;
const MOVE_MS = 900;
const WINNER_HOLD_MS = Math.max(0, Number(params.get("winner_hold") ?? 5000) || 0);

if (params.get("bg") === "transparent") document.body.classList.add("transparent");
if (params.get("guides") === "1") $("#stage").append(guides(STAGE_W, STAGE_H));

const state = {
  results: null, seq: null, scale: 1, rows: new Map(), lastStepKey: null, updates: 0, history: [],
  sawReveal: false, holdUntil: 0, holdTimer: null,
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
    flag(country, { title: countryName(country) }),
    h("span", { class: "name" }, countryName(country)),
    h("span", { class: "chip" }, ""),
    h("span", { class: "total" }, "0"),
  );
  row._shown = null;
  return row;
}

// Sizes (px on the 1920×1080 stage) each text may shrink between to fit its box.
const FIT = {
  name: { max: 45, min: 26 }, title: { max: 58, min: 34 }, phase: { max: 38, min: 24 },
  moment: { max: 50, min: 28 }, chip: { max: 38, min: 24 },
};

function fitAll() {
  for (const el of document.querySelectorAll("#board .ov-row .name")) fitText(el, FIT.name);
  fitText($("#ov-phase"), FIT.phase); // first: the title has the room the phase leaves
  fitText($("#ov-title"), FIT.title);
  const moment = $("#moment");
  if (!moment.classList.contains("hidden")) fitText(moment, FIT.moment);
}

const setTotal = (row, total) => tweenTotal(row, total, MOVE_MS);

function renderBoard(results, phase) {
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
  const step = phase === "reveal" ? results.last_step : null;
  const { awards, top, televote } = stepAwards(step);

  const fresh = [];
  for (const line of lines) {
    let row = state.rows.get(line.country);
    if (!row) {
      row = makeRow(line.country);
      state.rows.set(line.country, row);
      fresh.push(row);
    }
    board.append(row); // DOM order = place order (moves existing rows)
    row.dataset.place = String(line.place);
    row.querySelector(".place").textContent = String(line.place);
    setTotal(row, line.total);
    const chip = row.querySelector(".chip");
    const got = awards.get(line.country);
    chip.textContent = got === undefined ? "" : (televote ? `+${formatPoints(got)}` : formatPoints(got));
    chip.classList.toggle("on", got !== undefined);
    if (got !== undefined) fitText(chip, FIT.chip); // "+109" inside its box, not over the total
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

  for (const row of fresh) fitText(row.querySelector(".name"), FIT.name);

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

/** " · m:ss" until `closesAt` (ISO time), or "" without one. */
function countdown(closesAt) {
  const left = secondsTo(closesAt);
  return left === null ? "" : ` · ${clock(left)}`;
}

const LINES_CLOSE_S = 10; // the "lines close in 10 s" banner of the last seconds

/** The banner over the board in the last seconds before the scheduled close. */
function renderLines(results, phase) {
  const box = $("#ov-lines");
  const left = secondsTo(results.closes_at);
  const show = results.window === "open" && phase === "voting"
    && left !== null && left > 0 && left <= LINES_CLOSE_S;
  box.classList.toggle("hidden", !show);
  if (show) box.textContent = tr.t("overlay.lines_close", { n: left });
}

// The countdowns tick between updates (the results do not change every second).
setInterval(() => {
  const results = state.results;
  if (results && tr && (results.closes_at || results.opens_at)) {
    const phase = shownPhase(results);
    renderHead(results, phase);
    renderLines(results, phase);
  }
}, 250);

function renderHead(results, phase) {
  const title = state.title ?? (params.get("title") || results.name || "");
  const titleEl = $("#ov-title");
  let refit = false;
  if (titleEl.textContent !== title) {
    titleEl.textContent = title;
    refit = true;
  }
  const phaseEl = $("#ov-phase");
  let text;
  if (phase === "final") text = tr.t("overlay.final_result");
  else if (phase === "reveal") {
    const step = results.last_step;
    const where = step && step.body !== "televote" && step.from
      ? ` · ${countryName(step.from)}` : step ? ` · ${tr.t("overlay.televote")}` : "";
    text = `${tr.t("overlay.results_progress", { n: results.revealed, total: results.reveal_total })}${where}`;
  } else if (results.window !== "open" && secondsTo(results.opens_at) > 0) {
    text = tr.t("overlay.opens_in", { time: clock(secondsTo(results.opens_at)) });
  } else if (results.standings_hidden) {
    // results_visibility withholds the standings: the title, "voting open", the countdown
    text = results.window === "open"
      ? `${tr.t("overlay.voting_open")}${countdown(results.closes_at)}` : tr.t("overlay.voting_closed");
  } else {
    text = results.window === "open"
      ? `${tr.t("overlay.televote_live")}${countdown(results.closes_at)}` : tr.t("overlay.voting_closed");
  }
  $("#board").dataset.hidden = results.standings_hidden ? "true" : "false";
  if (phaseEl.textContent !== text) {
    phaseEl.textContent = text;
    fitText(phaseEl, FIT.phase);
    refit = true; // the title has the room the phase leaves
  }
  if (refit) fitText(titleEl, FIT.title);
  phaseEl.className = `ov-phase ${phase === "voting" ? (results.window === "open" ? "live" : "") : phase}`;
}

function renderMoment(results, phase) {
  const box = $("#moment");
  const step = results.last_step;
  if (phase === "final") {
    const winner = (results.scoreboard || []).find((l) => l.place === 1);
    if (!winner) return box.classList.add("hidden");
    const seal = results.seal ? results.seal.fingerprint : "";
    const key = `final:${winner.country}:${seal}`;
    if (state.lastStepKey === key) return undefined;
    state.lastStepKey = key;
    box.className = "moment final";
    box.dataset.step = "final";
    box.dataset.to = winner.country;
    box.replaceChildren(...[
      h("span", {}, tr.t("overlay.winner")), flag(winner.country),
      h("span", { class: "big" }, countryName(winner.country)),
      h("span", { class: "from pts" }, pointsText(winner.total)),
      // the sealed ledger's fingerprint: on air, so anyone can check the audit later
      // (the padlock is drawn by overlay.css: a playout machine may have no emoji font)
      seal ? h("span", { class: "seal", dataset: { fingerprint: seal } }, seal) : null,
    ].filter(Boolean));
    fitText(box, FIT.moment);
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
  // A substitute result never goes on air as the country's own vote.
  const substitute = substituteLine(step, tr);
  const stoodIn = televote ? televoteSubstitutes(step) : [];
  box.dataset.substitute = substitute || stoodIn.length ? "1" : "";
  box.dataset.substitutes = stoodIn.join(" ");
  if (televote) {
    box.className = "moment tele";
    // The audiences whose substitute results gave these points: their flags, labelled.
    const caveat = stoodIn.length ? [h("span", { class: "from note substitute" },
      ...stoodIn.map((c) => flag(c, { title: countryName(c) })),
      h("span", {}, tr.t("results.substitute")))] : [];
    box.replaceChildren(
      h("span", { class: "from" }, tr.t("overlay.televote")), flag(top),
      h("span", {}, countryName(top)),
      h("span", { class: "big pts" }, `+${formatPoints(awards.get(top))}`),
      ...caveat,
    );
  } else {
    box.className = "moment";
    // "12 points go to <flag> Mongolia" in each language's order and case.
    const pts = awards.get(top);
    box.replaceChildren(
      ...tr.parts("overlay.award", { n: formatPoints(pts), country: top }, { count: pointsValue(pts) })
        .map((part) => {
          if (part.name === "country") return [flag(top), h("span", { class: "big" }, part.text)];
          if (part.name === "n") return h("span", { class: "big pts" }, part.text);
          return part.text.trim() ? h("span", {}, part.text.trim()) : [];
        }).flat(),
      ...(substitute ? [h("span", { class: "from note substitute" }, substitute)]
        : step.from ? [h("span", { class: "from" }, tr.t("overlay.from", { country: step.from }))]
          : []),
    );
  }
  fitText(box, FIT.moment);
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
  render();
}

/**
 * The phase on air. The last reveal step ends the reveal, so the API says "final" with
 * it: an overlay that followed the reveal shows that step like every other, and the
 * winner WINNER_HOLD_MS later (one opened after the end shows the winner at once).
 */
function shownPhase(results) {
  const phase = results.phase || "voting";
  if (phase === "reveal") state.sawReveal = true;
  if (phase !== "final" || !results.last_step || !state.sawReveal) return phase;
  if (!state.holdUntil) {
    state.holdUntil = performance.now() + WINNER_HOLD_MS;
    clearTimeout(state.holdTimer);
    state.holdTimer = setTimeout(render, WINNER_HOLD_MS + 20);
  }
  return performance.now() < state.holdUntil ? "reveal" : "final";
}

function render() {
  const results = state.results;
  if (!results || !tr) return;
  const phase = shownPhase(results);
  // Hide-scores mode (POST …/display): the order stays on air, the numbers go.
  document.body.classList.toggle("hide-scores", Boolean(results.hide_scores));
  $("#board").dataset.shown = phase;
  renderHead(results, phase);
  renderBoard(results, phase);
  renderMoment(results, phase);
  renderLines(results, phase);
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
    el.textContent = tr.t(s === "unauthorized" ? "overlay.unauthorized" : "overlay.reconnecting");
    el.classList.remove("hidden");
  }, 2500);
}

// CasparCG: CG UPDATE {"title": "…"} (or f0 in templateData) retitles the board, CG NEXT
// takes the announcement banner off early, CG PLAY / STOP fade the overlay in and out;
// ?cg=1 starts hidden until CG PLAY.
installTemplate({
  startHidden: params.get("cg") === "1",
  update(data) {
    const title = data.title ?? data.f0;
    if (title !== undefined) state.title = String(title);
    render();
  },
  next() {
    $("#moment").classList.add("hidden");
  },
});

/** Points as words: "12 points", "12 баллов" (the number as the API gives it). */
function pointsText(points) {
  return tr.plural("common.points", pointsValue(points), { n: formatPoints(points) });
}

/** Speak another language on air without a reload (support, and the layout tests). */
async function setLanguage(code) {
  tr = await loadCatalog(code);
  document.documentElement.lang = tr.lang;
  for (const row of state.rows.values()) row.remove();
  state.rows.clear();
  state.lastStepKey = null;
  render();
}
window.__overlaySetLanguage = setLanguage;

async function main() {
  fitStage();
  window.addEventListener("resize", fitStage);
  tr = await loadCatalog(pickLanguage({ query: queryLanguage() }));
  document.documentElement.lang = tr.lang;
  document.title = `SilkVote — ${tr.t("overlay.page_title")}`;
  $("#ov-conn").textContent = tr.t("overlay.reconnecting");
  refitWhenFontsLoad(fitAll);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const socket = new LeaderboardSocket(cid, { token: fragment.get("token"), onResults, onState });
  window.__overlaySocket = socket;
  socket.start();
}

main();
