// Jury tablet page (/jury): sign in with an access code, rank every song but your own
// country's (drag or ▲▼), review, submit. The draft lives in localStorage and a failed
// submit is retried until it is saved or the jury deadline locks the ballots.
import {
  $, $$, api, contestPath, countryName, h, sleep, storageGet, storageSet,
} from "./common.js";
import { flag } from "./flags.js";

const SESSION_KEY = "silkvote.jury.session";
const draftKey = (session) => `silkvote.jury.draft.${session.contest}.${session.juror_id}`;
const LOCK_POLL_MS = 3000;

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
  lastError: null,
};
window.__jury = state; // for tests and support

const sameRanking = (a, b) => Array.isArray(a) && Array.isArray(b) && a.length === b.length
  && a.every((x, i) => x === b[i]);
const entryOf = (code) => state.contest?.entries.find((e) => e.country === code);
const timeOf = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString();
};

// ---------------------------------------------------------------- persistence

function persistDraft() {
  if (!state.session) return;
  storageSet(localStorage, draftKey(state.session), { ranking: state.ranking, pending: state.pending });
}

function loadDraft() {
  return state.session ? storageGet(localStorage, draftKey(state.session)) : null;
}

/** The draft cleaned against the contest: only rankable entries, each once, none missing. */
function normaliseRanking(candidate) {
  const allowed = state.contest.entries
    .filter((e) => e.country !== state.session.country)
    .sort((a, b) => a.running_order - b.running_order)
    .map((e) => e.country);
  const seen = new Set();
  const out = [];
  for (const code of candidate || []) {
    if (allowed.includes(code) && !seen.has(code)) {
      seen.add(code);
      out.push(code);
    }
  }
  for (const code of allowed) if (!seen.has(code)) out.push(code);
  return out;
}

// ---------------------------------------------------------------- status line

function renderStatus() {
  const el = $("#save-status");
  el.classList.toggle("hidden", !state.session || !state.contest);
  let s;
  let text;
  if (state.locked) {
    s = "locked";
    text = state.saved ? `Locked — ballot saved ${timeOf(state.saved.submitted_at)}` : "Locked — no ballot saved";
  } else if (state.saving) {
    s = "saving";
    text = "Saving…";
  } else if (state.pending) {
    s = "retrying";
    const secs = state.retryAt ? Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000)) : 0;
    text = `Not saved yet — retrying${secs ? ` in ${secs}s` : "…"}`;
  } else if (state.saved && sameRanking(state.saved.ranking, state.ranking)) {
    s = "saved";
    text = `Saved ✓ ${timeOf(state.saved.submitted_at)}`;
  } else if (state.saved) {
    s = "unsaved";
    text = "Unsaved changes — submit to replace your ballot";
  } else {
    s = "draft";
    text = "Not submitted yet";
  }
  el.dataset.state = s;
  el.textContent = text;
  $("#locked-banner").classList.toggle("hidden", !state.locked);
  if (state.locked) {
    $("#locked-text").textContent = state.saved
      ? `The jury deadline has passed. Your ballot submitted at ${timeOf(state.saved.submitted_at)} is final.`
      : "The jury deadline has passed. No ballot was saved for you before the lock.";
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
    h("span", {}, `Jury of ${countryName(session.country)}`),
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
  $("#done-text").textContent = `Saved at ${timeOf(saved.submitted_at)}. `
    + (state.locked ? "The jury deadline has passed: this ballot is final."
      : "You can still change it until the jury deadline.");
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
      h("span", { class: "handle", title: "Drag to move", "aria-hidden": "true" }, "⠿"),
      ...entryCells(code),
      h("span", { class: "ro" }, entry ? `#${entry.running_order}` : ""),
      h("button", {
        type: "button", class: "move up", "aria-label": `Move ${name} up`,
        disabled: state.locked || i === 0, onclick: () => move(i, i - 1, "up"),
      }, "▲"),
      h("button", {
        type: "button", class: "move down", "aria-label": `Move ${name} down`,
        disabled: state.locked || i === n - 1, onclick: () => move(i, i + 1, "down"),
      }, "▼"),
    );
  }));
  $("#rank-note").textContent = `${n} songs to rank (your own country's song is not on your ballot).`;
  $("#to-review").disabled = state.locked;
  if (before) playFlip(list, before, flip);
}

function rectsByCountry(list) {
  const map = new Map();
  for (const li of list.children) map.set(li.dataset.country, li.getBoundingClientRect());
  return map;
}

function playFlip(list, before, moved) {
  for (const li of list.children) {
    const first = before.get(li.dataset.country);
    if (!first) continue;
    const dy = first.top - li.getBoundingClientRect().top;
    if (!dy) continue;
    li.style.transition = "none";
    li.style.transform = `translateY(${dy}px)`;
    requestAnimationFrame(() => {
      li.style.transition = "transform 180ms ease";
      li.style.transform = "";
    });
  }
  const row = list.querySelector(`[data-country="${moved}"]`);
  if (row) row.classList.add("flash");
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

// Drag with pointer events (mouse, pen and touch). The row follows the pointer; it
// swaps places with a neighbour once it passes half of that neighbour's height.
function setupDrag() {
  const list = $("#ranking");
  const wrap = $("#list-wrap");
  let drag = null;

  list.addEventListener("pointerdown", (event) => {
    if (state.locked || event.button > 0) return;
    const handle = event.target.closest(".handle");
    const row = event.target.closest(".row");
    const mouseOnRow = event.pointerType === "mouse" && row && !event.target.closest("button");
    if (!row || (!handle && !mouseOnRow)) return;
    event.preventDefault();
    try {
      row.setPointerCapture(event.pointerId);
    } catch {
      /* no capture (synthetic or already released pointer): moves still bubble here */
    }
    row.classList.add("dragging");
    drag = { row, pointerId: event.pointerId, startY: event.clientY + wrap.scrollTop, moved: false };
  });

  const onMove = (event) => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    event.preventDefault();
    // Scroll the list when the finger nears its top or bottom edge.
    const box = wrap.getBoundingClientRect();
    if (event.clientY < box.top + 40) wrap.scrollTop -= 12;
    else if (event.clientY > box.bottom - 40) wrap.scrollTop += 12;
    const y = event.clientY + wrap.scrollTop;
    let dy = y - drag.startY;
    const { row } = drag;
    for (;;) {
      const next = row.nextElementSibling;
      const prev = row.previousElementSibling;
      if (next && dy > next.offsetHeight / 2 + 3) {
        const step = next.offsetTop - row.offsetTop;
        row.before(next); // move the neighbour, never the captured row (keeps the capture)
        drag.startY += step;
        dy -= step;
        drag.moved = true;
      } else if (prev && dy < -(prev.offsetHeight / 2 + 3)) {
        const step = row.offsetTop - prev.offsetTop;
        row.after(prev);
        drag.startY -= step;
        dy += step;
        drag.moved = true;
      } else break;
    }
    if (drag.moved) {
      $$("#ranking .row .rank-no").forEach((el, i) => {
        el.textContent = String(i + 1);
      });
    }
    row.style.transform = `translateY(${dy}px)`;
  };

  const onEnd = (event) => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    const { row } = drag;
    drag = null;
    row.classList.remove("dragging");
    row.style.transform = "";
    const next = $$("#ranking .row").map((li) => li.dataset.country);
    if (!sameRanking(next, state.ranking)) changeRanking(next, row.dataset.country);
    else renderRanking();
  };

  list.addEventListener("pointermove", onMove);
  list.addEventListener("pointerup", onEnd);
  list.addEventListener("pointercancel", onEnd);
  list.addEventListener("lostpointercapture", onEnd);
}

// ---------------------------------------------------------------- saving

async function submit() {
  if (state.locked) return;
  state.pending = [...state.ranking];
  state.attempts = 0;
  persistDraft();
  await saveLoop();
}

let loopRunning = false;
let wakeUp = null;

async function saveLoop() {
  if (loopRunning) {
    if (wakeUp) wakeUp();
    return;
  }
  loopRunning = true;
  try {
    while (state.pending && !state.locked && state.session) {
      state.saving = true;
      state.retryAt = null;
      renderStatus();
      const ranking = state.pending;
      const res = await api("PUT", contestPath(state.session.contest, "/ballot"), {
        body: { ranking }, token: state.session.token,
      });
      state.saving = false;
      if (res.ok) {
        state.saved = res.data;
        if (sameRanking(state.pending, ranking)) state.pending = null;
        state.attempts = 0;
        persistDraft();
        if (!state.pending) show("done");
        continue;
      }
      const code = res.error.code;
      if (code === "ballot_locked") {
        state.pending = null;
        persistDraft();
        await becomeLocked();
        return;
      }
      if (code === "unauthorized" || code === "forbidden") {
        endSession("Your session has ended (the code may have been reissued). Sign in with a new code from the production team — your draft is kept on this tablet.");
        return;
      }
      if (["incomplete_ranking", "own_country", "unknown_entry", "invalid_body", "not_found"].includes(code)) {
        // The contest changed under us: reload it, clean the draft and let the juror review.
        state.pending = null;
        persistDraft();
        await loadContest();
        state.ranking = normaliseRanking(state.ranking);
        alertInline(`The ballot was refused (${res.error.message}). Please review it again.`);
        show("review");
        return;
      }
      // Offline, server busy, rate limited…: keep the ballot and try again.
      state.attempts += 1;
      const delay = Math.min(30000, 1000 * 2 ** Math.min(state.attempts, 5));
      state.retryAt = Date.now() + delay;
      renderStatus();
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delay);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = null;
    }
  } finally {
    state.saving = false;
    loopRunning = false;
    renderStatus();
  }
}

window.addEventListener("online", () => {
  if (state.pending && wakeUp) wakeUp();
});

function alertInline(text) {
  const note = $("#rank-note");
  note.textContent = text;
  state.lastError = text;
}

// ---------------------------------------------------------------- lock

async function becomeLocked() {
  if (state.locked) return;
  state.locked = true;
  const lostChanges = state.pending || !state.saved || !sameRanking(state.saved.ranking, state.ranking);
  state.pending = null;
  if (wakeUp) wakeUp();
  await loadBallot();
  if (state.saved) {
    state.ranking = [...state.saved.ranking];
    show("done");
  } else {
    show("rank");
  }
  if (lostChanges && state.saved) {
    $("#done-text").textContent += " Changes made after your last submission were not saved.";
  }
}

async function pollLock() {
  for (;;) {
    await sleep(LOCK_POLL_MS);
    if (!state.session || state.locked) continue;
    const res = await api("GET", contestPath(state.session.contest));
    if (res.ok) {
      state.contest = res.data;
      if (res.data.jury_locked) await becomeLocked();
    }
  }
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
    showLoginError("No connection to the server — retrying…");
    await sleep(3000);
    res = await loadContest();
  }
  if (!res.ok) {
    endSession(`Could not open the contest: ${res.error.message}`);
    return;
  }
  const ballot = await loadBallot();
  if (!ballot.ok && (ballot.error.code === "unauthorized" || ballot.error.code === "forbidden")) {
    endSession("Your session has ended. Sign in with a new code from the production team.");
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
  storageSet(localStorage, SESSION_KEY, null);
  show("login");
  if (message) showLoginError(message);
}

function showLoginError(text) {
  const el = $("#login-error");
  el.textContent = text;
  el.classList.remove("hidden");
}

const LOGIN_ERRORS = {
  unauthorized: "That code was not recognised. Check it and try again.",
  code_used: "This code was already used on another device. Ask the production team to reissue it.",
  network: "No connection to the server. Check the network and try again.",
  invalid_body: "Enter the code exactly as printed.",
  rate_limited: "Too many attempts. Wait a moment and try again.",
  unavailable: "The server is busy. Try again in a moment.",
};

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
    showLoginError(LOGIN_ERRORS[res.error.code] || res.error.message);
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
      button.textContent = "Tap again: you will need a new code";
      armed = setTimeout(() => {
        armed = null;
        button.textContent = "Sign out";
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.textContent = "Sign out";
    endSession(null);
  });
}

function main() {
  $("#login-form").addEventListener("submit", login);
  $("#code").addEventListener("input", (event) => {
    const raw = event.target.value.toUpperCase().replace(/[^A-Z0-9]/g, "").slice(0, 12);
    event.target.value = raw.match(/.{1,4}/g)?.join("-") ?? "";
  });
  $("#to-review").addEventListener("click", () => show("review"));
  $("#back-to-rank").addEventListener("click", () => show("rank"));
  $("#submit").addEventListener("click", submit);
  $("#edit-again").addEventListener("click", () => show("rank"));
  setupDrag();
  setupSignOut();
  pollLock();
  if (state.session) start();
  else show("login");
}

main();
