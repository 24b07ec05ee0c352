// Index page: every contest with links to its pages, in the visitor's language.
import { $, api, h, storageGet, storageSet } from "./common.js";
import {
  applyTexts, fillLanguageSelect, loadCatalog, pickLanguage, queryLanguage,
} from "./i18n.js";

const LANG_KEY = "silkvote.lang";
const state = { tr: null, contests: null, error: null };

function render() {
  const { tr } = state;
  applyTexts(tr);
  document.title = `SilkVote — ${tr.t("index.page_title")}`;
  $("#lang").value = tr.lang;
  const list = $("#contests");
  if (state.error) {
    list.replaceChildren(h("li", { class: "muted" }, tr.t("index.list_failed", { message: state.error })));
    return;
  }
  if (!state.contests) return;
  if (!state.contests.length) {
    list.replaceChildren(h("li", { class: "muted" }, tr.t("index.no_contests")));
    return;
  }
  // The overlay takes its language from its URL only (a graphics system's setting); the
  // vote page remembers the visitor's choice itself and else follows the voting country.
  const lang = tr.lang === "en" ? "" : `?lang=${tr.lang}`;
  list.replaceChildren(...state.contests.map((c) => {
    const id = encodeURIComponent(c.id);
    const open = c.window === "open";
    return h("li", { class: "contest", dataset: { contest: c.id } },
      h("div", { class: "head" },
        h("span", { class: "name" }, c.name || c.id),
        h("span", { class: `pill ${open ? "open" : "closed"}` },
          tr.t(open ? "common.window_open" : "common.window_closed")),
        h("code", { class: "id muted" }, c.id)),
      h("div", { class: "links" },
        h("a", { class: "btn primary", href: `/vote/${id}` }, tr.t("index.vote")),
        h("a", { class: "btn", href: `/overlay/${id}${lang}` }, tr.t("index.overlay")),
        h("a", { class: "btn", href: `/overlay/${id}?bg=transparent${lang ? `&lang=${tr.lang}` : ""}` },
          tr.t("index.overlay_transparent")),
        h("a", { class: "btn", href: `/console/${id}` }, tr.t("index.console")),
        h("a", { class: "btn", href: `/api/v1/contests/${id}/results` }, tr.t("index.results_json"))));
  }));
}

async function main() {
  state.tr = await loadCatalog(pickLanguage({
    query: queryLanguage(), stored: storageGet(localStorage, LANG_KEY),
  }));
  fillLanguageSelect($("#lang"), state.tr.lang, async (code) => {
    storageSet(localStorage, LANG_KEY, code);
    state.tr = await loadCatalog(code);
    render();
  });
  render();
  const res = await api("GET", "/api/v1/contests");
  if (!res.ok) state.error = res.error.message;
  else state.contests = Array.isArray(res.data) ? res.data : res.data?.contests || [];
  render();
}

main();
