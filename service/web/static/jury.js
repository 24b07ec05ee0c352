// Jury tablet page (/jury): sign in with an access code, rank every song but your own
// country's (drag or ▲▼), review, submit. The draft lives in localStorage and a failed
// submit is retried until it is saved or the jury deadline locks the ballots.
import {
  $, api, contestPath, h, sleep, storageGet, storageSet,
} from "./common.js";
import { flag } from "./flags.js";
import { ballotSaver, rankable } from "./jury-ballot.js";
import { playFlip, rectsByCountry, setupDrag } from "./jury-drag.js";
import {
  applyTexts, fillLanguageSelect, loadCatalog, pickLanguage, queryLanguage,
} from "./i18n.js";

const SESSION_KEY = "silkvote.jury.session";
const draftKey = (session) => `silkvote.jury.draft.${session.contest}.${session.juror_id}`;
const LANG_KEY = "silkvote.lang";

const state = {
  session: storageGet(localStorage, SESSION_KEY),
  contest: null,
  ranking: [],
  saved: null, // {ranking, submitted_at, ballot_hash}
  pending: null, // a ranking waiting to be saved (retried until it is)
  saving: false,
  retryAt: null,
  attempts: 0,
  locked: false,
  screen: "login",
  lastError: null, // {key, vars} of the last inline note about a refused ballot
  loginError: null, // {key, vars} or {text} of the sign-in error
  doneLost: false,
  tr: null,
};
window.__jury = state; // for tests and support

const sameRanking = (a, b) => Array.isArray(a) && Array.isArray(b) && a.length === b.length
  && a.every((x, i) => x === b[i]);
const entryOf = (code) => state.contest?.entries.find((e) => e.country === code);
const t = (key, vars) => state.tr.t(key, vars);
const countryName = (code) => state.tr.country(code);
const timeOf = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString(state.tr.lang);
};

// ---------------------------------------------------------------- persistence

function persistDraft() {
  if (!state.session) return;
  storageSet(localStorage, draftKey(state.session), { ranking: state.ranking, pending: state.pending });
}

function loadDraft() {
  return state.session ? storageGet(localStorage, draftKey(state.session)) : null;
}

const normaliseRanking = (candidate) => rankable(state.contest, state.session.country, candidate);

// ---------------------------------------------------------------- status line

function renderStatus() {
  const el = $("#save-status");
  el.classList.toggle("hidden", !state.session || !state.contest);
  let s;
  let text;
  if (state.locked) {
    s = "locked";
    text = state.saved ? t("jury.status_locked_saved", { time: timeOf(state.saved.submitted_at) })
      : t("jury.status_locked_none");
  } else if (state.saving) {
    s = "saving";
    text = t("jury.status_saving");
  } else if (state.pending) {
    s = "retrying";
    const secs = state.retryAt ? Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000)) : 0;
    text = secs ? t("jury.status_retrying_in", { s: secs }) : t("jury.status_retrying");
  } else if (state.saved && sameRanking(state.saved.ranking, state.ranking)) {
    s = "saved";
    text = t("jury.status_saved", { time: timeOf(state.saved.submitted_at) });
  } else if (state.saved) {
    s = "unsaved";
    text = t("jury.status_unsaved");
  } else {
    s = "draft";
    text = t("jury.status_draft");
  }
  el.dataset.state = s;
  el.textContent = text;
  $("#locked-banner").classList.toggle("hidden", !state.locked);
  if (state.locked) {
    $("#locked-text").textContent = state.saved
      ? t("jury.locked_final", { time: timeOf(state.saved.submitted_at) })
      : t("jury.locked_none");
  }
}

setInterval(() => {
  if (state.pending && !state.saving) renderStatus();
}, 1000);

// ---------------------------------------------------------------- screens

function show(screen) {
  state.screen = screen;
  for (const name of ["login", "rank", "review", "done"]) {
    $(`#screen-${name}`).classList.toggle("hidden", name !== screen);
  }
  document.body.dataset.screen = screen;
  const signedIn = Boolean(state.session && state.contest);
  $("#juror").classList.toggle("hidden", !signedIn);
  $("#sign-out").classList.toggle("hidden", !signedIn);
  if (screen === "rank") renderRanking();
  if (screen === "review") renderList($("#review-list"), state.ranking);
  if (screen === "done") renderDone();
  renderStatus();
}

function renderJuror() {
  const { session, contest } = state;
  $("#juror").replaceChildren(
    flag(session.country),
    h("span", { class: "jury-of" }, t("jury.jury_of", { country: session.country })),
    h("span", { class: "muted" }, `· ${contest.name}`),
  );
}

function entryCells(code) {
  const entry = entryOf(code) || { country: code, artist: "", song: "", running_order: "?" };
  return [
    flag(code, { title: countryName(code) }),
    h("div", { class: "who" },
      h("span", { class: "name" }, countryName(code)),
      h("span", { class: "song" }, [entry.artist, entry.song ? `“${entry.song}”` : ""].filter(Boolean).join(" — "))),
  ];
}

function renderList(list, ranking) {
  list.replaceChildren(...ranking.map((code, i) => h(
    "li", { dataset: { country: code } },
    h("span", { class: "rank-no" }, `${i + 1}.`),
    ...entryCells(code),
  )));
  list.style.gridTemplateRows = `repeat(${Math.ceil(ranking.length / 2)}, auto)`;
}

function renderDone() {
  const saved = state.saved;
  if (!saved) return;
  $("#done-text").textContent = `${t("jury.done_saved", { time: timeOf(saved.submitted_at) })} `
    + (state.locked ? t("jury.done_final") : t("jury.done_open"))
    + (state.doneLost ? ` ${t("jury.done_lost")}` : "");
  $("#done-hash").textContent = saved.ballot_hash ? String(saved.ballot_hash).slice(0, 16) : "—";
  $("#edit-again").classList.toggle("hidden", state.locked);
  renderList($("#done-list"), saved.ranking);
}

// ---------------------------------------------------------------- ranking list

function renderRanking(flip = null) {
  const list = $("#ranking");
  const before = flip ? rectsByCountry(list) : null;
  const n = state.ranking.length;
  list.classList.toggle("locked", state.locked);
  list.replaceChildren(...state.ranking.map((code, i) => {
    const entry = entryOf(code);
    const name = countryName(code);
    return h(
      "li",
      { class: "row", dataset: { country: code }, "aria-label": `${i + 1}. ${name}` },
      h("span", { class: "rank-no" }, String(i + 1)),
      h("span", { class: "handle", title: t("jury.drag"), "aria-hidden": "true" }, "⠿"),
      ...entryCells(code),
      h("span", { class: "ro" }, entry ? `#${entry.running_order}` : ""),
      h("button", {
        type: "button", class: "move up", "aria-label": t("jury.move_up", { country: code }),
        disabled: state.locked || i === 0, onclick: () => move(i, i - 1, "up"),
      }, "▲"),
      h("button", {
        type: "button", class: "move down", "aria-label": t("jury.move_down", { country: code }),
        disabled: state.locked || i === n - 1, onclick: () => move(i, i + 1, "down"),
      }, "▼"),
    );
  }));
  $("#rank-note").textContent = t("jury.rank_note", { n });
  $("#to-review").disabled = state.locked;
  if (before) playFlip(list, before, flip);
}

function changeRanking(next, movedCode) {
  state.ranking = next;
  persistDraft();
  renderRanking(movedCode);
  renderStatus();
}

function move(from, to, direction) {
  if (state.locked || to < 0 || to >= state.ranking.length) return;
  const next = [...state.ranking];
  const [code] = next.splice(from, 1);
  next.splice(to, 0, code);
  changeRanking(next, code);
  const button = $(`#ranking [data-country="${code}"] .move.${direction}`);
  if (button && !button.disabled) button.focus();
  else $(`#ranking [data-country="${code}"] .move.${direction === "up" ? "down" : "up"}`)?.focus();
}

function alertInline(key, vars = {}) {
  state.lastError = { key, vars };
  $("#rank-note").textContent = t(key, vars);
}

// ---------------------------------------------------------------- session

async function loadContest() {
  const res = await api("GET", contestPath(state.session.contest));
  if (res.ok) state.contest = res.data;
  return res;
}

async function loadBallot() {
  const res = await api("GET", contestPath(state.session.contest, "/ballot"), { token: state.session.token });
  if (res.ok) state.saved = res.data;
  else if (res.status === 404) state.saved = null;
  return res;
}

async function start() {
  $("#login-error").classList.add("hidden");
  let res = await loadContest();
  while (!res.ok && res.error.code === "network") {
    showLoginError({ key: "jury.reconnecting" });
    await sleep(3000);
    res = await loadContest();
  }
  if (!res.ok) {
    endSession({ key: "jury.open_failed", vars: { message: res.error.message } });
    return;
  }
  const ballot = await loadBallot();
  if (!ballot.ok && (ballot.error.code === "unauthorized" || ballot.error.code === "forbidden")) {
    endSession({ key: "jury.session_ended" });
    return;
  }
  const draft = loadDraft();
  state.ranking = normaliseRanking(draft?.ranking || state.saved?.ranking);
  state.pending = draft?.pending ? normaliseRanking(draft.pending) : null;
  if (state.pending && state.saved && sameRanking(state.pending, state.saved.ranking)) state.pending = null;
  renderJuror();
  if (state.contest.jury_locked) {
    state.pending = null;
    await becomeLocked();
    return;
  }
  if (state.pending) {
    show("review");
    saveLoop();
  } else if (state.saved && sameRanking(state.saved.ranking, state.ranking)) {
    show("done");
  } else {
    show("rank");
  }
}

function endSession(message) {
  state.session = null;
  state.contest = null;
  state.saved = null;
  state.pending = null;
  state.locked = false;
  state.doneLost = false;
  storageSet(localStorage, SESSION_KEY, null);
  show("login");
  if (message) showLoginError(message);
}

/** message: {key, vars} of a text in the files, or {text} (the server's own words). */
function showLoginError(message) {
  state.loginError = message;
  const el = $("#login-error");
  el.textContent = message.key ? t(message.key, message.vars) : message.text;
  el.classList.remove("hidden");
}

const LOGIN_ERRORS = ["unauthorized", "code_used", "network", "invalid_body", "rate_limited",
  "unavailable"];

async function login(event) {
  event.preventDefault();
  const input = $("#code");
  const code = input.value.trim().toUpperCase();
  if (!code) return;
  $("#login-btn").disabled = true;
  $("#login-error").classList.add("hidden");
  const res = await api("POST", "/api/v1/jury/session", { body: { code } });
  $("#login-btn").disabled = false;
  if (!res.ok) {
    showLoginError(LOGIN_ERRORS.includes(res.error.code)
      ? { key: `jury.error.${res.error.code}` } : { text: res.error.message });
    return;
  }
  state.session = res.data;
  storageSet(localStorage, SESSION_KEY, state.session);
  input.value = "";
  await start();
}

function setupSignOut() {
  const button = $("#sign-out");
  let armed = null;
  button.addEventListener("click", () => {
    if (!armed) {
      button.textContent = t("jury.sign_out_confirm");
      armed = setTimeout(() => {
        armed = null;
        button.textContent = t("jury.sign_out");
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.textContent = t("jury.sign_out");
    endSession(null);
  });
}

// ---------------------------------------------------------------- language

function renderRankHelp() {
  // "Drag a song by its ⠿ handle, or use the ▲ and ▼ buttons", the symbols styled.
  const symbols = { grip: ["span", "grip-sample", "⠿"], up: ["strong", "", "▲"], down: ["strong", "", "▼"] };
  $("#rank-help").replaceChildren(...state.tr.parts("jury.rank_help", { grip: "⠿", up: "▲", down: "▼" })
    .map((part) => (part.name in symbols
      ? h(symbols[part.name][0], { class: symbols[part.name][1] || null }, symbols[part.name][2])
      : part.text)));
}

/** Re-render every text in the current language (after a switch, or at start). */
function applyLanguage() {
  applyTexts(state.tr);
  document.title = `SilkVote — ${t("jury.page_title")}`;
  $("#lang").value = state.tr.lang;
  renderRankHelp();
  if (state.session && state.contest) renderJuror();
  if (state.loginError && !$("#login-error").classList.contains("hidden")) showLoginError(state.loginError);
  show(state.screen);
}

async function setLanguage(lang) {
  state.tr = await loadCatalog(lang);
  applyLanguage();
}

const { submit, saveLoop, becomeLocked, pollLock } = ballotSaver(state, {
  persistDraft, renderStatus, renderDone, show, endSession, loadContest, loadBallot,
  normaliseRanking, alertInline, sameRanking,
});

async function main() {
  // A scanned juror card opens /jury#code=…: fill the code in at once (before
  // the texts load: the juror sees it with the page) and drop it from the address bar
  // (the fragment never reached the server).
  const linked = new URLSearchParams(location.hash.slice(1)).get("code");
  if (linked) {
    $("#code").value = linked.toUpperCase();
    history.replaceState(null, "", location.pathname + location.search);
  }
  state.tr = await loadCatalog(pickLanguage({
    query: queryLanguage(), stored: storageGet(localStorage, LANG_KEY),
  }));
  fillLanguageSelect($("#lang"), state.tr.lang, (code) => {
    storageSet(localStorage, LANG_KEY, code);
    setLanguage(code);
  });
  applyLanguage();
  $("#login-form").addEventListener("submit", login);
  $("#code").addEventListener("input", (event) => {
    const raw = event.target.value.toUpperCase().replace(/[^A-Z0-9]/g, "").slice(0, 12);
    event.target.value = raw.match(/.{1,4}/g)?.join("-") ?? "";
  });
  $("#to-review").addEventListener("click", () => show("review"));
  $("#back-to-rank").addEventListener("click", () => show("rank"));
  $("#submit").addEventListener("click", submit);
  $("#edit-again").addEventListener("click", () => show("rank"));
  setupDrag({
    isLocked: () => state.locked,
    onDrop: (next, moved) => {
      if (!sameRanking(next, state.ranking)) changeRanking(next, moved);
      else renderRanking();
    },
  });
  setupSignOut();
  pollLock();
  if (state.session) start();
  else show("login");
}

main();
