// The jury tablet's ballot saving (jury.js): a submitted ranking is sent until it is
// saved, refused for a reason a juror must see, or the jury deadline locks the ballots;
// offline or busy, it waits (backing off to 30 s, woken early when the tablet comes back
// online) and tries again. Kept apart from the page's rendering, which it reaches only
// through `page` (the functions jury.js gives it).
import { api, contestPath, sleep } from "./common.js";

const LOCK_POLL_MS = 3000;

/** A draft cleaned against the contest: only the entries the juror of `ownCountry` may
 * rank, each once, none missing (in running order after the ranked ones). */
export function rankable(contest, ownCountry, candidate) {
  const allowed = contest.entries
    .filter((e) => e.country !== ownCountry)
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

export function ballotSaver(state, page) {
  const {
    persistDraft, renderStatus, renderDone, show, endSession, loadContest, loadBallot,
    normaliseRanking, alertInline, sameRanking,
  } = page;

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
          endSession({ key: "jury.session_reissued" });
          return;
        }
        if (["incomplete_ranking", "own_country", "unknown_entry", "invalid_body", "not_found"].includes(code)) {
          // The contest changed under us: reload it, clean the draft and let the juror review.
          state.pending = null;
          persistDraft();
          await loadContest();
          state.ranking = normaliseRanking(state.ranking);
          alertInline("jury.refused", { message: res.error.message });
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
      state.doneLost = true;
      renderDone();
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

  return { submit, saveLoop, becomeLocked, pollLock };
}
