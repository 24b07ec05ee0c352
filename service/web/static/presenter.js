// Presenter view (/presenter/{cid}): for each reveal step the line to read, in the show's
// language (?lang=, any of the 14; texts and case forms from the translation files, see
// presenter-i18n.js), with the next step's preview. The switcher changes the language on
// the spot and in the URL, so a reload keeps it and the URL still names the show's. →, Space or Page Down (what presentation clickers send)
// advance the reveal through the same HTTP endpoint the console and hardware panels use
// (POST …/reveal/next, admin token). The full results come from the leaderboard
// websocket with the admin token; the token is kept in sessionStorage only (the
// console's key, so one sign-in serves both in a tab).
import {
  $, api, contestIdFromPath, contestPath, formatPoints, h, LeaderboardSocket, storageGet,
  storageSet,
} from "./common.js";
import { flag } from "./flags.js";
import { applyTexts, fillLanguageSelect } from "./i18n.js";
import {
  countOf, loadPresenterCatalog, PRESENTER_LANGUAGES, presenterLanguage,
} from "./presenter-i18n.js";

const cid = contestIdFromPath();
const TOKEN_KEY = "silkvote.admin";
const params = new URLSearchParams(location.search);
const lang = presenterLanguage([params.get("lang"), ...(navigator.languages || [])].filter(Boolean));
let tr = null; // the catalog, loaded in main()

const state = {
  token: storageGet(sessionStorage, TOKEN_KEY), results: null, socket: null, busy: false,
  advanced: 0, lang,
};
window.__presenter = state; // for tests and support

// ---------------------------------------------------------------- the script

const points = (key, pts, vars) => tr.plural(key, countOf(pts), { n: formatPoints(pts), ...vars });
const names = (codes) => codes.map((c) => tr.country(c)).join(", ");

/** {head, line, details[], substitute, to, from} of one step, in the show's language. */
function scriptOf(step) {
  const entries = Object.entries(step.points || {}); // best first
  if (step.body === "televote") {
    const to = step.to || (entries[0] || [])[0];
    const pts = (step.points || {})[to];
    return {
      head: tr.t("overlay.televote"),
      line: points("presenter.televote_line", pts, { country: to }),
      details: step.substitutes && step.substitutes.length
        ? [tr.t("presenter.televote_substitutes", { list: names(step.substitutes) })] : [],
      substitute: Boolean(step.substitute), to, from: null,
    };
  }
  const from = step.from;
  let head;
  if (step.substitute) head = tr.t("results.jury_substitute", { country: from });
  else if (step.body === "combined") head = tr.t("presenter.votes_of", { country: from });
  else head = tr.t("jury.jury_of", { country: from });
  const [to, pts] = entries[0] || [null, 0];
  const rest = entries.slice(1).reverse(); // read lowest first
  return {
    head,
    line: to ? points("overlay.award", pts, { country: to }) : "",
    details: rest.length
      ? [tr.t("presenter.also", { list: rest.map(([c, p]) => `${formatPoints(p)} — ${tr.country(c)}`).join(", ") })]
      : [],
    substitute: Boolean(step.substitute), to, from,
  };
}

function finalScript(results) {
  const winner = (results.scoreboard || []).find((line) => line.place === 1);
  if (!winner) return null;
  return {
    head: tr.t("overlay.final_result"),
    line: points("presenter.final_line", winner.total, { country: winner.country }),
    details: [], substitute: false, to: winner.country, from: null,
  };
}

function card(el, script, kind) {
  if (!script) {
    el.replaceChildren(h("p", { class: "muted" }, kind === "now" ? tr.t("presenter.nothing_yet") : tr.t("presenter.reveal_done")));
    el.dataset.substitute = "false";
    return;
  }
  el.dataset.substitute = String(script.substitute);
  el.replaceChildren(
    h("div", { class: "p-head" }, script.from ? flag(script.from) : null, h("span", { class: "p-head-text" }, script.head)),
    h("p", { class: "p-line" }, script.to ? flag(script.to) : null, h("span", { class: "p-line-text" }, script.line)),
    ...script.details.map((text) => h("p", { class: "p-detail" }, text)),
  );
}

function render() {
  const results = state.results;
  if (!results) return;
  const steps = results.reveal || [];
  const total = results.reveal_total ?? steps.length;
  const revealed = Math.min(results.revealed ?? 0, total);
  $("#p-title").textContent = results.name || cid;
  const progress = $("#p-progress");
  progress.textContent = revealed ? tr.t("presenter.step_of", { n: revealed, total })
    : tr.t(total ? "presenter.not_started" : "presenter.no_steps");
  progress.dataset.revealed = String(revealed);
  progress.dataset.total = String(total);
  const now = revealed ? scriptOf(steps[revealed - 1]) : null;
  const upcoming = revealed < total && steps[revealed] ? scriptOf(steps[revealed]) : (total && revealed >= total ? finalScript(results) : null);
  card($("#p-now"), now, "now");
  $("#p-now").dataset.step = String(revealed);
  card($("#p-next"), upcoming, "next");
  $("#p-next").dataset.step = revealed < total ? String(revealed + 1) : "final";
  $("#p-next-btn").disabled = state.busy || !total || revealed >= total;
}

// ---------------------------------------------------------------- control

function message(text) {
  const el = $("#p-msg");
  el.textContent = text || "";
  el.classList.toggle("hidden", !text);
}

async function advance() {
  if (state.busy || !state.token) return;
  const results = state.results;
  if (results && results.reveal_total && results.revealed >= results.reveal_total) {
    message(tr.t("presenter.reveal_done"));
    return;
  }
  state.busy = true;
  message(tr.t("presenter.sending"));
  render();
  const res = await api("POST", contestPath(cid, "/reveal/next"), { token: state.token });
  state.busy = false;
  if (res.ok) {
    state.advanced += 1;
    message("");
    // Show the step at once; the websocket's update follows with the same state.
    if (state.results && res.data) {
      state.results = { ...state.results, revealed: Math.max(state.results.revealed || 0, res.data.revealed), reveal_total: res.data.total };
    }
    await refresh();
  } else {
    message(errorText(res.error.code));
    if (res.error.code === "unauthorized") signOut(tr.t("presenter.token_refused"));
  }
  render();
}

async function refresh() {
  const res = await api("GET", contestPath(cid, "/results?view=full"), { token: state.token });
  if (res.ok) {
    if (!state.results || (res.data.revealed ?? 0) >= (state.results.revealed ?? 0)) state.results = res.data;
    render();
  }
  return res;
}

function onKey(event) {
  if (event.target && (event.target.tagName === "INPUT" || event.target.tagName === "TEXTAREA")) return;
  if (event.key === "ArrowRight" || event.key === " " || event.key === "PageDown") {
    event.preventDefault();
    advance();
  }
}

// ---------------------------------------------------------------- sign-in

function signOut(reason) {
  state.token = null;
  storageSet(sessionStorage, TOKEN_KEY, null);
  if (state.socket) state.socket.stop();
  state.socket = null;
  $("#p-main").classList.add("hidden");
  $("#p-auth").classList.remove("hidden");
  $("#p-sign-out").classList.add("hidden");
  const err = $("#p-auth-error");
  err.textContent = reason || "";
  err.classList.toggle("hidden", !reason);
}

async function unlock(token) {
  state.token = token;
  const res = await refresh();
  if (!res.ok) {
    state.token = null;
    const err = $("#p-auth-error");
    err.textContent = res.error.code === "unauthorized" ? tr.t("presenter.token_refused") : errorText(res.error.code);
    err.classList.remove("hidden");
    return false;
  }
  storageSet(sessionStorage, TOKEN_KEY, token);
  $("#p-auth").classList.add("hidden");
  $("#p-main").classList.remove("hidden");
  $("#p-sign-out").classList.remove("hidden");
  state.socket = new LeaderboardSocket(cid, {
    token,
    onResults: (results) => {
      if (!state.results || (results.revealed ?? 0) >= (state.results.revealed ?? 0)) state.results = results;
      render();
    },
  }).start();
  return true;
}

function errorText(code) {
  const key = `presenter.error.${code}`;
  return tr.has(key) ? tr.t(key) : tr.t("presenter.error.generic");
}

/** Speak `code` from now on: every label, and the script of the steps on screen. */
async function setLanguage(code) {
  tr = await loadPresenterCatalog(code);
  state.lang = tr.lang;
  render();
  applyTexts(tr);
  document.title = `SilkVote — ${tr.t("presenter.page_title")}`;
  $("#lang").value = tr.lang;
}

async function main() {
  await setLanguage(lang);
  fillLanguageSelect($("#lang"), tr.lang, async (code) => {
    const url = new URL(location.href);
    url.searchParams.set("lang", code);
    history.replaceState(null, "", url);
    message("");
    await setLanguage(code);
  }, PRESENTER_LANGUAGES);
  $("#p-auth-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("#p-token").value.trim();
    if (token && (await unlock(token))) $("#p-token").value = "";
  });
  $("#p-sign-out").addEventListener("click", () => signOut(null));
  $("#p-next-btn").addEventListener("click", () => advance());
  document.addEventListener("keydown", onKey);
  if (!state.token || !(await unlock(state.token))) signOut(null);
}

main();
