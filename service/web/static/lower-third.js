// Lower third (/lower-third/{cid}): the step on air — who votes, what they give, step n
// of N — from the graphics feed now.json (polled once a second with its ETag, so an
// unchanged step costs a 304). A CasparCG template: CG PLAY / STOP show and hide it (it
// starts hidden unless ?autoplay=1), CG NEXT cycles its pages (the step; the whole set;
// the leader), CG UPDATE overrides the texts: {"head": …, "line": …} or f0 / f1 in
// templateData ({} gives the feed's texts back). ?lang= is any of the 14 languages
// (presenter-i18n.js); a results token (when RESULTS_TOKEN is set) goes in the fragment,
// `#token=…`, never the URL the browser sends, and travels as `Authorization: Bearer`.
import { $, contestIdFromPath, contestPath, formatPoints } from "./common.js";
import { flag } from "./flags.js";
import { installTemplate } from "./casparcg.js";
import { countOf, loadPresenterCatalog, presenterLanguage } from "./presenter-i18n.js";

const cid = contestIdFromPath();
const params = new URLSearchParams(location.search);
const lang = presenterLanguage([params.get("lang"), ...(navigator.languages || [])].filter(Boolean));
let tr = null; // the catalog, loaded before the first render
const PAGES = 3;
const state = { now: null, page: 0, override: {}, polls: 0, etag: null };
window.__lowerThird = state;

function fitStage() {
  const scale = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
  $("#lt-stage").style.transform = `scale(${scale})`;
}

const points = (key, pts, vars) => tr.plural(key, countOf(pts), { n: formatPoints(pts), ...vars });

function texts(now) {
  if (!now || !now.body || !tr) return { head: "", line: "", who: null };
  if (state.page === 2 && now.leader) {
    return { who: now.leader, head: tr.country(now.leader), line: tr.plural("common.points", countOf(now.leader_total), { n: formatPoints(now.leader_total) }) };
  }
  if (now.body === "televote") {
    return {
      who: now.recipient, head: tr.t("overlay.televote"),
      line: points("presenter.televote_line", now.points, { country: now.recipient }),
    };
  }
  let head;
  if (now.substitute) head = tr.t("results.jury_substitute", { country: now.voter });
  else if (now.body === "combined") head = tr.t("presenter.votes_of", { country: now.voter });
  else head = tr.t("jury.jury_of", { country: now.voter });
  if (state.page === 1) {
    const given = [];
    for (let i = 10; i >= 1; i -= 1) {
      if (now[`give_${i}_country`]) given.push(`${formatPoints(now[`give_${i}_points`])} ${tr.country(now[`give_${i}_country`])}`);
    }
    return { who: now.voter, head, line: given.join(" · ") };
  }
  return { who: now.voter, head, line: points("overlay.award", now.points, { country: now.recipient }) };
}

function render() {
  const now = state.now;
  const base = texts(now);
  const head = state.override.head ?? state.override.f0 ?? base.head;
  const line = state.override.line ?? state.override.f1 ?? base.line;
  const bar = $("#lt-bar");
  bar.dataset.page = String(state.page);
  bar.dataset.step = String(now?.step ?? 0);
  bar.dataset.substitute = String(Boolean(now?.substitute) && state.page !== 2);
  bar.classList.toggle("empty", !head && !line);
  $("#lt-head").textContent = head;
  $("#lt-line").textContent = line;
  $("#lt-flag").replaceChildren(...(base.who ? [flag(base.who)] : []));
  $("#lt-step").textContent = now && now.step && tr ? tr.t("presenter.step_of", { n: now.step, total: now.steps }) : "";
}

async function poll() {
  const query = new URLSearchParams({ lang });
  try {
    const headers = state.etag ? { "If-None-Match": state.etag } : {};
    const token = new URLSearchParams(location.hash.slice(1)).get("token");
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(`${contestPath(cid, "/graphics/now.json")}?${query}`, { headers, cache: "no-store" });
    state.polls += 1;
    if (response.status === 200) {
      state.etag = response.headers.get("ETag");
      const rows = await response.json();
      const before = state.now?.step;
      state.now = rows[0] || null;
      if (state.now?.step !== before) state.page = 0;
      render();
    }
  } catch {
    /* the next poll tries again; the last step stays on screen */
  }
  setTimeout(poll, 1000);
}

installTemplate({
  root: $("#lt-stage"),
  startHidden: params.get("autoplay") !== "1",
  next() {
    state.page = (state.page + 1) % PAGES;
    render();
  },
  update(data) {
    state.override = data && Object.keys(data).length ? data : {};
    render();
  },
});
fitStage();
window.addEventListener("resize", fitStage);
loadPresenterCatalog(lang).then((catalog) => {
  tr = catalog;
  // the page's language is its texts' (fonts, hyphenation and screen readers go by it)
  document.documentElement.lang = catalog.lang;
  render();
  poll();
});
