// The pages' texts: the project's own translation files (/i18n/<lang>.json, the same
// files the server reads through service/web/translations.py). Country names and their
// grammatical forms come from these files, never from the browser's Intl data.
//
//   const tr = await loadCatalog("ru");
//   tr.t("vote.voting_from", { country: "KZ" })   // "Вы голосуете из Казахстана"
//   tr.plural("common.points", 12)                 // "12 баллов"
//   tr.parts("overlay.award", { n: 12, country: "MN" }, { plural: 12 })
//     // [{text: "12 баллов — "}, {name: "country", value: "MN", text: "Монголии"}]
//
// Template rules are in translations.py's docstring and docs/i18n.md: `{name}`, and
// `{country:form}` for a placeholder whose name starts with "country" (a country code).

/** Every language the pages offer, in switcher order, with its own name. */
export const LANGUAGES = [
  { code: "en", label: "English" },
  { code: "ru", label: "Русский" },
  { code: "az", label: "Azərbaycanca" },
  { code: "hy", label: "Հայերեն" },
  { code: "ka", label: "ქართული" },
  { code: "hi", label: "हिन्दी" },
  { code: "kk", label: "Қазақша" },
  { code: "zh", label: "中文" },
  { code: "ky", label: "Кыргызча" },
  { code: "mn", label: "Монгол" },
  { code: "tg", label: "Тоҷикӣ" },
  { code: "tk", label: "Türkmençe" },
  { code: "uz", label: "Oʻzbekcha" },
  { code: "ko", label: "한국어" },
];
const CODES = new Set(LANGUAGES.map((l) => l.code));

/** The language a viewer voting from a country reads first. */
export const COUNTRY_LANGUAGE = {
  AZ: "az", AM: "hy", GE: "ka", IN: "hi", KZ: "kk", CN: "zh",
  KG: "ky", MN: "mn", TJ: "tg", TM: "tk", UZ: "uz", KR: "ko",
};

const PLACEHOLDER = /\{(\w+)(?::(\w+))?\}/g;

/** Base language code of a tag if the files hold it ("ru-RU" → "ru"), else null. */
export function supported(tag) {
  const base = String(tag || "").trim().toLowerCase().replace("_", "-").split("-")[0];
  return CODES.has(base) ? base : null;
}

/** The first supported language among the browser's preferences (default English). */
export function browserLanguage(preferences = navigator.languages || [navigator.language]) {
  for (const tag of preferences) {
    const code = supported(tag);
    if (code) return code;
  }
  return "en";
}

/**
 * The page's language: ?lang= first, then the viewer's own earlier choice in the
 * switcher, then the voting country's language, then the browser's languages.
 */
export function pickLanguage({ query = null, stored = null, country = null, browser } = {}) {
  return supported(query) || supported(stored) || supported(COUNTRY_LANGUAGE[country])
    || browserLanguage(browser);
}

/** ?lang= of the page's URL, if it names a supported language. */
export function queryLanguage(search = location.search) {
  return supported(new URLSearchParams(search).get("lang"));
}

/** CLDR plural category; see translations.py (only ru and en change the noun). */
export function pluralCategory(lang, count) {
  const n = Number(count);
  const whole = Number.isInteger(n);
  if (lang === "ru") {
    if (!whole) return "other";
    const a = Math.abs(n);
    if (a % 10 === 1 && a % 100 !== 11) return "one";
    if (a % 10 >= 2 && a % 10 <= 4 && !(a % 100 >= 12 && a % 100 <= 14)) return "few";
    return "many";
  }
  if (lang === "zh" || lang === "ko") return "other";
  return whole && Math.abs(n) === 1 ? "one" : "other";
}

/** Keys a page asked for that no file had (tests read it: nothing may be missing). */
export const missingKeys = new Set();
window.__i18nMissing = missingKeys;

export class Catalog {
  constructor(lang, texts, fallback) {
    this.lang = lang;
    this.texts = texts;
    this.fallback = fallback;
  }

  raw(key) {
    const text = this.texts[key] ?? this.fallback[key];
    if (text === undefined) {
      missingKeys.add(key);
      return key;
    }
    return text;
  }

  has(key) {
    return key in this.texts || key in this.fallback;
  }

  /** A country's name, in `form` when the language has it (else the plain name). */
  country(code, form = "") {
    const base = `country.${code}`;
    if (form && this.texts[`${base}.${form}`] !== undefined) return this.texts[`${base}.${form}`];
    const name = this.texts[base] ?? this.fallback[base];
    if (name === undefined) missingKeys.add(base);
    return name ?? String(code);
  }

  /** The template of `key`, or of its plural variant for `count` when given. */
  template(key, count) {
    if (count === undefined || count === null) return this.raw(key);
    const variant = `${key}.${pluralCategory(this.lang, count)}`;
    if (this.texts[variant] !== undefined) return this.texts[variant];
    return this.raw(`${key}.other`);
  }

  /**
   * The template split into pieces: {text} for literal text and plain values, and
   * {name, value, form, text} for each placeholder, so a page can put a flag beside
   * the country's name or style a number without cutting a sentence apart.
   */
  parts(key, vars = {}, { count } = {}) {
    const template = this.template(key, count);
    const out = [];
    let last = 0;
    for (const m of template.matchAll(PLACEHOLDER)) {
      if (m.index > last) out.push({ text: template.slice(last, m.index) });
      const [whole, name, form = ""] = m;
      if (!(name in vars)) out.push({ text: whole });
      else if (name.startsWith("country")) {
        out.push({ name, value: vars[name], form, text: this.country(vars[name], form) });
      } else out.push({ name, value: vars[name], form, text: String(vars[name]) });
      last = m.index + whole.length;
    }
    if (last < template.length) out.push({ text: template.slice(last) });
    return out;
  }

  /** t("vote.votes_left", {n: 3, cap: 20}) */
  t(key, vars = {}) {
    return this.parts(key, vars).map((p) => p.text).join("");
  }

  /** plural("common.points", 12) → "12 points"; `n` is the count unless given. */
  plural(key, count, vars = {}) {
    return this.parts(key, { n: count, ...vars }, { count }).map((p) => p.text).join("");
  }

  /** The viewer-facing message for an API error code. */
  error(code) {
    return this.has(`error.${code}`) ? this.raw(`error.${code}`) : this.raw("error.generic");
  }
}

const files = new Map();

function fetchFile(lang) {
  if (!files.has(lang)) {
    files.set(lang, fetch(`/i18n/${lang}.json`, { cache: "no-cache" })
      .then((r) => (r.ok ? r.json() : {}))
      .catch(() => ({})));
  }
  return files.get(lang);
}

/**
 * The catalog of a page with its own keys (the presenter, the console): the main file of
 * `lang` (country names and forms, shared labels) plus `/i18n/<page>/<lang>.json`, with
 * English underneath both, so the page's sentences and the names they hold come from the
 * same language. `offered` are the languages the page's own files exist in.
 */
export async function loadPageCatalog(page, lang, offered) {
  const code = offered.includes(lang) ? lang : "en";
  const own = (l) => fetch(`/i18n/${page}/${l}.json`, { cache: "no-cache" })
    .then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  const [base, english, texts] = await Promise.all([
    loadCatalog(code), own("en"), code === "en" ? {} : own(code),
  ]);
  return new Catalog(code, { ...base.texts, ...english, ...texts }, { ...base.fallback, ...english });
}

/** The first of `preferences` (tags, in order) that `offered` holds, else English. */
export function firstOffered(preferences, offered) {
  for (const tag of preferences) {
    const code = supported(tag);
    if (code && offered.includes(code)) return code;
  }
  return "en";
}

/** The catalog of `lang` (English underneath, so a missing key still reads). */
export async function loadCatalog(lang) {
  const code = supported(lang) || "en";
  const [english, texts] = await Promise.all([fetchFile("en"), fetchFile(code)]);
  return new Catalog(code, texts, english);
}

/**
 * A language switcher: fills `select` with every language (or only `codes`, for a page
 * whose own texts exist in fewer languages), each in its own name, and calls
 * onChange(code) when the viewer picks one.
 */
export function fillLanguageSelect(select, current, onChange, codes = null) {
  const offered = codes ? LANGUAGES.filter(({ code }) => codes.includes(code)) : LANGUAGES;
  select.replaceChildren(...offered.map(({ code, label }) => {
    const option = document.createElement("option");
    option.value = code;
    option.lang = code;
    option.textContent = label;
    return option;
  }));
  select.value = current;
  select.addEventListener("change", () => onChange(select.value));
}

/** Fill every [data-i18n] element of `root` with its text. */
export function applyTexts(tr, root = document) {
  document.documentElement.lang = tr.lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = tr.t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) {
    el.setAttribute("aria-label", tr.t(el.dataset.i18nAria));
  }
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.setAttribute("placeholder", tr.t(el.dataset.i18nPlaceholder));
  }
}
