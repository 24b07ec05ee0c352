// Texts of the presenter view and the lower third: the project's translation files
// (/i18n/<lang>.json: country names and their case forms, "Armenia's jury — substitute
// result", "12 points go to …") plus the presenter's own keys in the same flat structure
// (/i18n/presenter/<lang>.json), in every language the pages offer: the presenter reads
// the show's language, whichever country hosts it.
import { firstOffered, LANGUAGES, loadPageCatalog } from "./i18n.js";

export const PRESENTER_LANGUAGES = LANGUAGES.map(({ code }) => code);

/** The first presenter language among `preferences` (default English). */
export function presenterLanguage(preferences) {
  return firstOffered(preferences, PRESENTER_LANGUAGES);
}

/** One catalog: the main file and the presenter file of `lang`, English underneath. */
export function loadPresenterCatalog(lang) {
  return loadPageCatalog("presenter", lang, PRESENTER_LANGUAGES);
}

/** A points value as the count of a plural ("21/2" counts as a fraction: "other"). */
export function countOf(points) {
  if (typeof points === "number") return points;
  const [num, den] = String(points).split("/");
  return den ? Number(num) / Number(den) : Number(num);
}
