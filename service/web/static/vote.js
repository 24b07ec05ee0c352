// Viewer voting page (/vote/{cid}): pick a country, vote for entries, see the votes
// left and whether voting is open (live from the leaderboard websocket).
import {
  $, api, contestIdFromPath, contestPath, countryName, h, LeaderboardSocket, sleep,
  storageGet, storageSet, uuid,
} from "./common.js";
import { flag } from "./flags.js";
import { browserLanguage, errorText, LANGUAGES, t } from "./i18n.js";

const cid = contestIdFromPath();
const KEY = {
  lang: "silkvote.lang",
  device: "silkvote.device",
  country: `silkvote.vote.${cid}.country`,
  token: (country) => `silkvote.vote.${cid}.token.${country}`,
  mine: (country) => `silkvote.vote.${cid}.mine.${country}`,
};

const state = {
  lang: storageGet(localStorage, KEY.lang) || browserLanguage(),
  contest: null,
  country: storageGet(localStorage, KEY.country),
  token: null,
  remaining: null,
  cap: null,
  window: null, // "open" | "closed" | null (unknown)
  live: false,
  pending: new Set(),
  mine: {},
  lastMessage: null, // {kind, key, vars, code} so a language switch re-renders it
};
window.__vote = state; // for tests and support

function deviceId() {
  let id = storageGet(localStorage, KEY.device);
  if (!id) {
    id = uuid();
    storageSet(localStorage, KEY.device, id);
  }
  return id;
}

// ---------------------------------------------------------------- messages

let hideTimer = null;

function showMessage(kind, text, { retry = null, sticky = false } = {}) {
  const box = $("#message");
  $("#message-text").textContent = text;
  box.className = `message ${kind}`;
  box.dataset.kind = kind;
  const retryBtn = $("#message-retry");
  retryBtn.classList.toggle("hidden", !retry);
  retryBtn.onclick = retry
    ? () => {
      hideMessage();
      retry();
    }
    : null;
  clearTimeout(hideTimer);
  if (!sticky && !retry) hideTimer = setTimeout(hideMessage, kind === "ok" ? 3500 : 7000);
}

function hideMessage() {
  $("#message").classList.add("hidden");
  state.lastMessage = null;
}

function say(kind, key, vars = {}, options = {}) {
  state.lastMessage = { kind, key, vars, options };
  showMessage(kind, t(state.lang, key, vars), options);
}

function sayError(code, options = {}) {
  state.lastMessage = { kind: "error", code, options };
  const box = $("#message");
  showMessage("error", errorText(state.lang, code), options);
  box.dataset.code = code;
}

// ---------------------------------------------------------------- language

function applyLanguage() {
  document.documentElement.lang = state.lang === "kk" ? "kk" : state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(state.lang, el.dataset.i18n);
  }
  const select = $("#lang");
  select.value = state.lang;
  document.title = `${t(state.lang, "page_title")} — ${state.contest ? state.contest.name : "SilkVote"}`;
  render();
  if (state.lastMessage && !$("#message").classList.contains("hidden")) {
    const m = state.lastMessage;
    if (m.code) sayError(m.code, m.options);
    else say(m.kind, m.key, m.vars, m.options);
  }
}

function setupLanguagePicker() {
  const select = $("#lang");
  for (const { code, label } of LANGUAGES) select.append(h("option", { value: code }, label));
  select.value = state.lang;
  select.addEventListener("change", () => {
    state.lang = select.value;
    storageSet(localStorage, KEY.lang, state.lang);
    applyLanguage();
  });
}

// ---------------------------------------------------------------- rendering

function renderWindow() {
  const pill = $("#window-state");
  const known = state.window === "open" || state.window === "closed";
  pill.className = `pill ${known ? state.window : "pending"}`;
  pill.dataset.state = state.window || "unknown";
  pill.textContent = known
    ? t(state.lang, state.window === "open" ? "window_open" : "window_closed")
    : t(state.lang, "connecting");
  $("#live-dot").classList.toggle("live", state.live);
}

function renderVoter() {
  const contest = state.contest;
  const picking = contest && !state.country;
  $("#country-picker").classList.toggle("hidden", !picking);
  $("#voter").classList.toggle("hidden", !contest || !state.country);
  if (picking) {
    const list = $("#country-list");
    list.replaceChildren(...contest.voting_countries.map((code) => h(
      "button",
      { type: "button", dataset: { country: code }, onclick: () => chooseCountry(code) },
      flag(code, { title: countryName(code, state.lang) }),
      h("span", {}, countryName(code, state.lang)),
    )));
  }
  if (state.country) {
    $("#my-country").replaceChildren(
      flag(state.country), h("span", {}, countryName(state.country, state.lang)),
    );
  }
  const cap = state.cap ?? contest?.vote_cap ?? 0;
  const left = state.remaining ?? cap;
  $("#remaining-text").textContent = t(state.lang, "votes_left", { n: left, cap });
  $("#remaining-text").dataset.remaining = String(left);
  $("#remaining-bar").style.width = cap ? `${Math.max(0, Math.min(100, (left / cap) * 100))}%` : "0";
}

function renderEntries() {
  const contest = state.contest;
  if (!contest) return;
  const entries = [...contest.entries].sort((a, b) => a.running_order - b.running_order);
  const closed = state.window !== "open";
  const items = entries.map((entry) => {
    const own = entry.country === state.country;
    const mine = state.mine[entry.country] || 0;
    const pending = state.pending.has(entry.country);
    const name = countryName(entry.country, state.lang);
    const button = h(
      "button",
      {
        type: "button",
        class: "vote-btn",
        id: `vote-${entry.country}`,
        "aria-label": `${t(state.lang, "vote")}: ${name}`,
        disabled: own || closed || !state.country || pending || state.remaining === 0,
        onclick: () => castVote(entry.country),
      },
      pending ? t(state.lang, "sending") : t(state.lang, "vote"),
      mine ? h("span", { class: "mine", "aria-hidden": "true" }, `×${mine}`) : null,
    );
    return h(
      "li",
      { class: `entry${own ? " own" : ""}`, dataset: { country: entry.country } },
      h("div", { class: "order" }, flag(entry.country, { title: name }),
        h("span", {}, t(state.lang, "running_order", { n: entry.running_order }))),
      h("div", { class: "info" },
        h("div", { class: "country" }, name),
        h("div", { class: "artist" }, entry.artist || ""),
        h("div", { class: "song" }, entry.song ? `“${entry.song}”` : ""),
        own ? h("div", { class: "note" }, t(state.lang, "own_entry")) : null),
      button,
    );
  });
  $("#entries").replaceChildren(...items);
}

function render() {
  renderWindow();
  renderVoter();
  renderEntries();
}

// ---------------------------------------------------------------- tokens and votes

function loadMine() {
  state.mine = state.country ? storageGet(localStorage, KEY.mine(state.country), {}) : {};
}

function chooseCountry(code) {
  state.country = code;
  storageSet(localStorage, KEY.country, code);
  state.token = null;
  state.remaining = null;
  loadMine();
  render();
  refreshAllowance();
}

function changeCountry() {
  state.country = null;
  storageSet(localStorage, KEY.country, null);
  state.token = null;
  state.remaining = null;
  state.mine = {};
  render();
}

async function ensureToken(force = false) {
  if (!state.country) return null;
  const stored = storageGet(localStorage, KEY.token(state.country));
  if (!force && stored && stored.token && stored.exp > Date.now() + 60000) {
    state.token = stored.token;
    return state.token;
  }
  const res = await api("POST", contestPath(cid, "/device-token"), {
    body: { device: deviceId(), country: state.country },
  });
  if (!res.ok) {
    sayError(res.error.code, res.error.code === "network" ? { retry: refreshAllowance } : {});
    return null;
  }
  state.token = res.data.token;
  const ttl = Number(res.data.expires_in) || 3600;
  storageSet(localStorage, KEY.token(state.country), { token: state.token, exp: Date.now() + ttl * 1000 });
  return state.token;
}

async function refreshAllowance(retried = false) {
  const token = await ensureToken();
  if (!token) return;
  const res = await api("GET", contestPath(cid, "/votes/me"), { token });
  if (res.ok) {
    state.remaining = res.data.remaining;
    state.cap = res.data.cap;
    render();
  } else if (res.error.code === "unauthorized" && !retried) {
    storageSet(localStorage, KEY.token(state.country), null);
    await ensureToken(true);
    await refreshAllowance(true);
  }
}

async function castVote(entry) {
  await retrySame(entry, uuid()); // one key per tap, reused on every retry of this tap
}

async function sendVote(entry, key) {
  let tokenRenewed = false;
  for (let attempt = 0; ; attempt += 1) {
    const token = await ensureToken();
    if (!token) return;
    const res = await api("POST", contestPath(cid, "/votes"), { body: { entry, key }, token });
    if (res.ok) {
      if (typeof res.data?.remaining === "number") state.remaining = res.data.remaining;
      if (res.data?.duplicate) {
        say("info", "vote_duplicate");
      } else {
        state.mine[entry] = (state.mine[entry] || 0) + 1;
        storageSet(localStorage, KEY.mine(state.country), state.mine);
        say("ok", "vote_ok", { name: countryName(entry, state.lang), n: state.remaining ?? "?" });
      }
      return;
    }
    const code = res.error.code;
    if (code === "unauthorized" && !tokenRenewed) {
      tokenRenewed = true;
      storageSet(localStorage, KEY.token(state.country), null);
      state.token = null;
      if (await ensureToken(true)) continue;
      return;
    }
    if ((code === "network" || code === "unavailable") && attempt < 2) {
      say("info", "retrying", {}, { sticky: true });
      await sleep(800 * (attempt + 1));
      continue;
    }
    if (code === "vote_cap_reached") state.remaining = 0;
    if (code === "window_closed") state.window = "closed";
    const retryable = code === "network" || code === "unavailable" || code === "rate_limited";
    sayError(code, retryable ? { retry: () => retrySame(entry, key) } : {});
    return;
  }
}

async function retrySame(entry, key) {
  if (state.pending.has(entry)) return;
  state.pending.add(entry);
  renderEntries();
  try {
    await sendVote(entry, key);
  } finally {
    state.pending.delete(entry);
    render();
  }
}

// ---------------------------------------------------------------- contest and live state

async function loadContest() {
  const res = await api("GET", contestPath(cid));
  if (!res.ok) {
    $("#loading").classList.add("hidden");
    if (!state.contest) sayError(res.error.code, { sticky: true });
    return false;
  }
  state.contest = res.data;
  if (state.window === null || !state.live) state.window = res.data.window;
  if (state.country && !res.data.voting_countries.includes(state.country)) state.country = null;
  $("#contest-name").textContent = res.data.name;
  $("#loading").classList.add("hidden");
  applyLanguage();
  return true;
}

function startLive() {
  const socket = new LeaderboardSocket(cid, {
    onResults: (results) => {
      if (results.window && results.window !== state.window) {
        state.window = results.window;
        render();
      }
    },
    onState: (s) => {
      state.live = s === "live";
      renderWindow();
    },
  });
  window.__voteSocket = socket;
  socket.start();
  // Fallback while the websocket is down: re-read the contest's window now and then.
  setInterval(() => {
    if (!state.live) loadContest();
  }, 15000);
}

// Support hook: cast a vote as a tap would (tests use it to reach refusals the buttons
// would not offer, e.g. a closed window seen by a stale page).
window.__voteActions = { castVote };

async function main() {
  setupLanguagePicker();
  $("#change-country").addEventListener("click", changeCountry);
  loadMine();
  applyLanguage();
  if (!cid) {
    sayError("not_found", { sticky: true });
    return;
  }
  // Keep trying until the contest loads (a phone may start offline); the message's
  // button retries at once.
  while (!(await loadContest())) await sleep(5000);
  hideMessage();
  startLive();
  if (state.country) refreshAllowance();
}

main();
