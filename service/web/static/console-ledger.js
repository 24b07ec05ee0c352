// The console's ledger check: POST …/verify compares the append-only ledger with the
// live tallies; the verdict, the totals and up to 50 differences are shown. Kept apart
// from console.js so the verdict can be redrawn in another language without asking the
// server again (the last answer is kept). Also the seal's state line and button.
import { $, h } from "./common.js";
import { t, tr } from "./console-i18n.js";

let last = null; // {v, at} of the last answer, or {error} text

function draw() {
  const box = $("#verify-result");
  if (!last) return;
  if (last.error) {
    box.replaceChildren(last.error);
    return;
  }
  const { v, at } = last;
  box.dataset.ok = String(Boolean(v.ok));
  const children = [
    h("div", { class: "verdict" }, t(v.ok ? "console.verify_ok" : "console.verify_bad")),
    h("div", { class: "muted" }, t("console.verify_totals", {
      ledger: v.ledger_total ?? "?", live: v.live_total ?? "?", time: at.toLocaleTimeString(tr().lang),
    })),
  ];
  const diffs = v.differences || [];
  if (diffs.length) {
    const th = (key) => h("th", {}, t(key));
    children.push(h("table", {},
      h("thead", {}, h("tr", {}, th("console.col_from"), th("console.col_entry"), th("console.col_live"), th("console.col_ledger"))),
      h("tbody", {}, ...diffs.slice(0, 50).map((d) => h("tr", {},
        h("td", {}, d.country), h("td", {}, d.entry), h("td", {}, String(d.live)), h("td", {}, String(d.ledger)))))));
  }
  box.replaceChildren(...children);
}

/** Run the check; `admin` is the console's authorised call, `explain` its error text. */
export async function verify(admin, explain) {
  const box = $("#verify-result");
  box.replaceChildren(t("console.checking"));
  box.dataset.ok = "";
  const res = await admin("POST", "/verify");
  last = res.ok ? { v: res.data, at: new Date() } : { error: explain(res) };
  draw();
}

/** The last verdict again, in the language just picked. */
export const retranslateVerify = draw;

/** The ledger's seal (its root's fingerprint goes on air), from the results view. */
export function renderSeal(seal, sealable) {
  const box = $("#seal-state");
  box.dataset.sealed = seal ? "true" : "false";
  box.dataset.fingerprint = seal ? seal.fingerprint : "";
  box.textContent = seal
    ? t("console.sealed", { ...seal, time: new Date(seal.sealed_at).toLocaleTimeString(tr().lang) })
    : t("console.not_sealed");
  box.title = seal ? `root ${seal.root}` : "";
  $("#seal").disabled = Boolean(seal) || !sealable;
}
