// Viewer voting page (/vote/{cid}): pick a country, vote for entries, see the votes
// left and whether voting is open (live from the leaderboard websocket).
import {
  $, api, contestIdFromPath, contestPath, h, LeaderboardSocket, sleep,
  storageGet, storageSet, uuid,
} from "./common.js";
import { flag } from "./flags.js";
import { hideMessage, onHide, showMessage } from "./message-box.js";
import { checkReceipts, renderReceiptCheck, saveReceipt } from "./receipts.js";
import { countdownText } from "./schedule.js";
import {
  applyTexts, fillLanguageSelect, loadCatalog, pickLanguage, queryLanguage,
} from "./i18n.js";

const cid = contestIdFromPath();
const KEY = {
  lang: "silkvote.lang",
  device: "silkvote.device",
  country: `silkvote.vote.${cid}.country`,
  token: (country) => `silkvote.vote.${cid}.token.${country}`,
  mine: (country) => `silkvote.vote.${cid}.mine.${country}`,
};

const state = {
  lang: "en",
  tr: null, // the Catalog of state.lang (i18n.js)
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

const t = (key, vars) => state.tr.t(key, vars);
const countryName = (code) => state.tr.country(code);

// ---------------------------------------------------------------- messages

onHide(() => {
  state.lastMessage = null;
});

function say(kind, key, vars = {}, options = {}) {
  state.lastMessage = { kind, key, vars, options };
  showMessage(kind, t(key, vars), options);
}

function sayError(code, options = {}) {
  state.lastMessage = { kind: "error", code, options };
  const box = $("#message");
  showMessage("error", state.tr.error(code), options);
  box.dataset.code = code;
}

// ---------------------------------------------------------------- language

/** The language this visit reads: ?lang=, the switcher's earlier choice, the voting
 *  country's language, the browser's. */
function wantedLanguage() {
  return pickLanguage({
    query: queryLanguage(), stored: storageGet(localStorage, KEY.lang), country: state.country,
  });
}

async function setLanguage(lang) {
  const tr = await loadCatalog(lang);
  state.tr = tr;
  state.lang = tr.lang;
  applyLanguage();
}

function applyLanguage() {
  applyTexts(state.tr);
  const select = $("#lang");
  select.value = state.lang;
  document.title = `${t("vote.page_title")} — ${state.contest ? state.contest.name : "SilkVote"}`;
  render();
  if (state.lastMessage && !$("#message").classList.contains("hidden")) {
    const m = state.lastMessage;
    if (m.code) sayError(m.code, m.options);
    else say(m.kind, m.key, m.vars, m.options);
  }
}

function setupLanguagePicker() {
  fillLanguageSelect($("#lang"), state.lang, (code) => {
    storageSet(localStorage, KEY.lang, code);
    setLanguage(code);
  });
}

// ---------------------------------------------------------------- rendering

function renderWindow() {
  const pill = $("#window-state");
  const known = state.window === "open" || state.window === "closed";
  pill.className = `pill ${known ? state.window : "pending"}`;
  pill.dataset.state = state.window || "unknown";
  pill.textContent = known
    ? t(state.window === "open" ? "common.window_open" : "common.window_closed")
    : t("common.connecting");
  $("#live-dot").classList.toggle("live", state.live);
  renderCountdown();
}

/** "Voting closes in m:ss" / "Voting opens in m:ss" from the scheduled window. */
function renderCountdown() {
  const c = state.contest;
  const text = c ? countdownText(state.window, c.opens_at, c.closes_at, t) : "";
  const el = $("#window-countdown");
  if (el.textContent !== text) el.textContent = text;
}
setInterval(renderCountdown, 500);

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
      flag(code, { title: countryName(code) }),
      h("span", { class: "name" }, countryName(code)),
    )));
  }
  if (state.country) {
    // "You are voting from <flag> Kazakhstan" in the language's own word order and case.
    $("#voting-from").replaceChildren(...state.tr.parts("vote.voting_from", { country: state.country })
      .map((part) => (part.name === "country"
        ? h("strong", { id: "my-country" }, flag(state.country), h("span", {}, part.text))
        : h("span", {}, part.text))));
  }
  const cap = state.cap ?? contest?.vote_cap ?? 0;
  const left = state.remaining ?? cap;
  $("#remaining-text").textContent = t("vote.votes_left", { n: left, cap });
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
    const out = (contest.disqualified || []).includes(entry.country);
    const mine = state.mine[entry.country] || 0;
    const pending = state.pending.has(entry.country);
    const name = countryName(entry.country);
    const button = h(
      "button",
      {
        type: "button",
        class: "vote-btn",
        id: `vote-${entry.country}`,
        "aria-label": t("vote.vote_for", { country: entry.country }),
        disabled: own || out || closed || !state.country || pending || state.remaining === 0,
        onclick: () => castVote(entry.country),
      },
      pending ? t("vote.sending") : t("vote.vote"),
      mine ? h("span", { class: "mine", "aria-hidden": "true" }, `×${mine}`) : null,
    );
    return h(
      "li",
      { class: `entry${own ? " own" : ""}${out ? " disqualified" : ""}`,
        dataset: { country: entry.country } },
      h("div", { class: "order" }, flag(entry.country, { title: name }),
        h("span", {}, t("vote.running_order", { n: entry.running_order }))),
      h("div", { class: "info" },
        h("div", { class: "country" }, name),
        h("div", { class: "artist" }, entry.artist || ""),
        h("div", { class: "song" }, entry.song ? `“${entry.song}”` : ""),
        own ? h("div", { class: "note" }, t("vote.own_entry")) : null,
        out ? h("div", { class: "note" }, t("vote.disqualified")) : null),
      button,
    );
  });
  $("#entries").replaceChildren(...items);
}

let lastCheck = null; // "check my votes": this phone's receipts against the sealed count
const renderCheck = () => renderReceiptCheck(cid, state.country, lastCheck, t);
const checkMyVotes = async () => renderReceiptCheck(
  cid, state.country, (lastCheck = await checkReceipts(cid, state.country)), t);

function render() {
  renderCheck();
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
  // A viewer who has not chosen a language reads the voting country's from now on.
  const lang = wantedLanguage();
  if (lang !== state.lang) setLanguage(lang);
}

function changeCountry() {
  state.country = null;
  storageSet(localStorage, KEY.country, null);
  state.token = null;
  state.remaining = null;
  state.mine = {};
  render();
}

/** The voter token of this phone and country: `{ token }`, or `{ error }` (the API's
 *  error code) when it could not be had. It says nothing itself: a failure's message and
 *  its retry belong to what needed the token (a vote's retry must send that vote). */
async function ensureToken() {
  if (!state.country) return { error: null };
  const stored = storageGet(localStorage, KEY.token(state.country));
  if (stored && stored.token && stored.exp > Date.now() + 60000) {
    state.token = stored.token;
    return { token: state.token };
  }
  const res = await api("POST", contestPath(cid, "/device-token"), {
    body: { device: deviceId(), country: state.country },
  });
  if (!res.ok) return { error: res.error.code };
  state.token = res.data.token;
  const ttl = Number(res.data.expires_in) || 3600;
  storageSet(localStorage, KEY.token(state.country), { token: state.token, exp: Date.now() + ttl * 1000 });
  return { token: state.token };
}

async function refreshAllowance(retried = false) {
  const { token, error } = await ensureToken();
  if (!token) {
    if (error) sayError(error, error === "network" ? { retry: () => refreshAllowance() } : {});
    return;
  }
  const res = await api("GET", contestPath(cid, "/votes/me"), { token });
  if (res.ok) {
    state.remaining = res.data.remaining;
    state.cap = res.data.cap;
    render();
  } else if (res.error.code === "unauthorized" && !retried) {
    storageSet(localStorage, KEY.token(state.country), null);
    await refreshAllowance(true);
  }
}

async function castVote(entry) {
  await retrySame(entry, uuid()); // one key per tap, reused on every retry of this tap
}

async function sendVote(entry, key) {
  let tokenRenewed = false;
  for (let attempt = 0; ; attempt += 1) {
    const { token, error } = await ensureToken();
    if (!token && !error) return;
    const res = token
      ? await api("POST", contestPath(cid, "/votes"), { body: { entry, key }, token })
      : { ok: false, error: { code: error } };  // no token, no vote: the same retries
    if (res.ok) {
      if (typeof res.data?.remaining === "number") state.remaining = res.data.remaining;
      if (res.data?.duplicate) {
        say("info", "vote.vote_duplicate");
      } else {
        state.mine[entry] = (state.mine[entry] || 0) + 1;
        storageSet(localStorage, KEY.mine(state.country), state.mine);
        saveReceipt(cid, state.country, entry, res.data?.receipt);
        say("ok", "vote.vote_ok", { country: entry, n: state.remaining ?? "?" });
      }
      return;
    }
    const code = res.error.code;
    if (code === "unauthorized" && !tokenRenewed) {
      tokenRenewed = true;
      storageSet(localStorage, KEY.token(state.country), null);
      state.token = null;
      continue;
    }
    if ((code === "network" || code === "unavailable") && attempt < 2) {
      say("info", "vote.retrying", {}, { sticky: true });
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
      if (state.contest && "closes_at" in results) {  // a schedule changed meanwhile
        state.contest.opens_at = results.opens_at;
        state.contest.closes_at = results.closes_at;
      }
      if (results.window && results.window !== state.window) {
        state.window = results.window;
        if (state.window === "closed" && state.lastMessage?.kind === "ok") hideMessage();
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

// Support hook: a vote as a tap casts it, for refusals the buttons would not offer.
window.__voteActions = { castVote };

async function main() {
  state.tr = await loadCatalog(wantedLanguage());
  state.lang = state.tr.lang;
  setupLanguagePicker();
  $("#change-country").addEventListener("click", changeCountry);
  $("#check-votes").addEventListener("click", checkMyVotes);
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
