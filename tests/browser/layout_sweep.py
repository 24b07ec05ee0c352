"""The layout sweep of tests/browser/test_i18n_pages.py: one script that switches a page
through its languages and measures every visible element, and the findings it gathers
across pages, languages and sizes, reported together at the end.

What counts as a problem: an element that clips (overflow not visible) and whose
content is wider or taller than it, text that runs out of its own box, text left or
right of the screen, and on the fixed-frame pages (jury, overlay) below it. Raw keys
("vote.vote"), unfilled placeholders ("{country}") and keys no file had are "missing".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.web.translations import LANGUAGES
from tests.browser.conftest import REPO, shot

VIEWPORTS = [{"width": 390, "height": 844}, {"width": 1024, "height": 768},
             {"width": 1920, "height": 1080}]


# One script per page and size: for each language it switches the page (its own
# switcher, or the overlay's live language hook), waits for the switch, lets animations
# end and fonts load, then measures every visible element.
SWEEP = r"""async ({ langs, how }) => {
  const settle = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const switchTo = async (lang) => {
    if (how === "overlay") await window.__overlaySetLanguage(lang);
    else if (how === "loaded") return; // a page whose language is fixed at load (?lang=)
    else {
      const select = document.querySelector("#lang");
      select.value = lang;
      select.dispatchEvent(new Event("change"));
    }
    // the suite's 15 s deadline: a loaded host took more than 200 frames (console, ru)
    const deadline = performance.now() + 15000;
    while (document.documentElement.lang !== lang && performance.now() < deadline) await settle();
  };
  const check = async () => {
    await document.fonts.ready;
    for (const a of document.getAnimations()) {
      if (a.effect && a.effect.getTiming().iterations !== Infinity) a.finish();
    }
    await settle();
    // A fixed-frame page (the overlay, the jury tablet) shows only what fits the screen.
    const fixed = [document.documentElement, document.body]
      .some((el) => getComputedStyle(el).overflowY === "hidden");
    const vw = document.documentElement.clientWidth;
    const vh = window.innerHeight;
    const problems = [];
    const name = (el) => {
      let s = el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "");
      if (el.classList.length) s += `.${[...el.classList].join(".")}`;
      return `${s} "${(el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 50)}"`;
    };
    const scrolls = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const oy = getComputedStyle(p).overflowY;
        if (oy === "auto" || oy === "scroll") return true;
      }
      return false;
    };
    if (document.documentElement.scrollWidth > vw + 1) {
      problems.push(`the page scrolls sideways (${document.documentElement.scrollWidth} > ${vw})`);
    }
    for (const el of document.body.querySelectorAll("*")) {
      if (el.closest(".sr-only, select, script, style")) continue;
      const cs = getComputedStyle(el);
      const shown = cs.display !== "none" && cs.visibility === "visible";
      if (!shown || !el.getClientRects().length) continue;
      if (cs.overflowX !== "visible" && el.scrollWidth > el.clientWidth + 1) {
        problems.push(`cut at ${el.clientWidth}px of ${el.scrollWidth}px: ${name(el)}`);
      }
      const clipsY = cs.overflowY === "hidden" || cs.overflowY === "clip";
      if (clipsY && el.scrollHeight > el.clientHeight + 1) {
        problems.push(`cut at ${el.clientHeight}px high of ${el.scrollHeight}px: ${name(el)}`);
      }
      const texts = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim());
      if (!texts.length) continue;
      const box = el.getBoundingClientRect();
      for (const node of texts) {
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const r of range.getClientRects()) {
          if (!r.width) continue;
          if (cs.display !== "inline" && (r.right > box.right + 1.5 || r.left < box.left - 1.5)) {
            problems.push(`text runs out of its box: ${name(el)}`);
          }
          if (r.right > vw + 1 || r.left < -1) problems.push(`text off the screen: ${name(el)}`);
          if (fixed && !scrolls(el) && (r.bottom > vh + 1 || r.top < -1)) {
            problems.push(`text below or above the screen: ${name(el)}`);
          }
        }
      }
    }
    const text = document.body.innerText;
    const prefix = "(?:common|index|vote|error|jury|overlay|results|country|lang|presenter"
      + "|console)";
    const raw = text.match(new RegExp(`\\b${prefix}\\.[A-Za-z_]+(?:\\.[A-Za-z_]+)*`, "g")) || [];
    const unfilled = text.match(/\{[a-z_]+(?::\w+)?\}/g) || [];
    return {
      lang: document.documentElement.lang,
      problems: [...new Set(problems)],
      missing: [...new Set([...raw, ...unfilled, ...(window.__i18nMissing || [])])],
    };
  };
  const results = {};
  for (const lang of langs) {
    await switchTo(lang);
    results[lang] = await check();
  }
  return results;
}"""


class Findings:
    """Every page × language × size that went wrong, reported together at the end."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.checked = 0

    def sweep(self, page: Any, where: str, *, how: str = "select",
              langs: list[str] | None = None) -> None:
        """Every language (or `langs`) on `page` at its current size."""
        size = page.viewport_size["width"]
        results = page.evaluate(SWEEP, {"langs": list(LANGUAGES) if langs is None else langs,
                                        "how": how})
        bad = None
        for lang, result in results.items():
            self.checked += 1
            if result["lang"] != lang:
                self.items.append(f"{where} {size} [{lang}]: the page is in {result['lang']!r}")
            for problem in result["problems"][:6]:
                self.items.append(f"{where} {size} [{lang}]: {problem}")
            if result["missing"]:
                self.items.append(f"{where} {size} [{lang}]: missing {result['missing'][:6]}")
            if (result["problems"] or result["missing"]) and bad is None:
                bad = lang
        if bad is not None:  # one picture of the first language that went wrong
            page.evaluate(SWEEP, {"langs": [bad], "how": how})
            shot(page, f"i18n-{where}-{bad}-{size}")

    def report(self) -> Path:
        """All findings in a file, written even when a partial run stops the verdict."""
        report = REPO / "test-artifacts" / "i18n-layout.txt"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text("\n".join(self.items) + "\n", encoding="utf-8")
        return report

    def assert_none(self) -> None:
        report = self.report()
        assert not self.items, f"{len(self.items)} problems in {self.checked} renders " \
            f"(all in {report}):\n" + "\n".join(self.items[:60])


def every_size(page: Any, findings: Findings, where: str, how: str = "select",
               langs: list[str] | None = None) -> None:
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        findings.sweep(page, where, how=how, langs=langs)
