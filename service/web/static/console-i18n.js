// The producer console's texts: its own keys (/i18n/console/<lang>.json) over the main
// translation file of the same language (country names and their case forms, "Armenia's
// jury — substitute result"), so a Russian console names countries the way the Russian
// overlay does. All 14 languages of the pages, in switcher order; a language joins by
// adding its file and its code to CONSOLE_LANGUAGES (translations.page_languages("console")
// reads the files: the two must agree). One catalog serves every console module (jury
// desk, rehearsal, step lines), so a switch re-renders all of them in one language.
import { storageGet, storageSet } from "./common.js";
import {
  applyTexts, fillLanguageSelect, firstOffered, loadPageCatalog, queryLanguage,
} from "./i18n.js";

export const CONSOLE_LANGUAGES = [
  "en", "ru", "az", "hy", "ka", "hi", "kk", "zh", "ky", "mn", "tg", "tk", "uz", "ko",
];
const LANG_KEY = "silkvote.lang"; // the pages' shared choice

let catalog = null;

/** The console's catalog (loaded by mountLanguage before anything renders). */
export const tr = () => catalog;
export const t = (key, vars) => catalog.t(key, vars);
export const countryText = (code) => catalog.country(code);

async function use(lang) {
  catalog = await loadPageCatalog("console", lang, CONSOLE_LANGUAGES);
  applyTexts(catalog);
  document.title = `SilkVote — ${catalog.t("console.page_title")}`;
}

/**
 * Load the language (?lang=, the stored choice, the browser's) and wire the switcher;
 * `rerender()` redraws what the page built from data, after a switch.
 */
export async function mountLanguage(rerender) {
  const lang = firstOffered([queryLanguage(), storageGet(localStorage, LANG_KEY),
    ...(navigator.languages || [])].filter(Boolean), CONSOLE_LANGUAGES);
  await use(lang);
  fillLanguageSelect(document.querySelector("#lang"), catalog.lang, async (code) => {
    storageSet(localStorage, LANG_KEY, code);
    await use(code);
    rerender();
  }, CONSOLE_LANGUAGES);
}
