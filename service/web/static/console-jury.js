// The producer console's jury desk: ballots per jury live (3/5), creating jurors and
// printing their one-time codes with a QR code (drawn by the server, an SVG), and the
// list of juries that the lock would give a substitute result, shown before the lock.
import { $, h } from "./common.js";
import { countryText as countryName, t, tr } from "./console-i18n.js";
import { flag } from "./flags.js";

const PROGRESS_EVERY_MS = 2000;

export class JuryDesk {
  /** `admin(method, rest, body)` is the console's authorised API call. */
  constructor(cid, admin) {
    this.cid = cid;
    this.admin = admin;
    this.progress = null;
    this.cards = []; // {juror_id, country, name, code, sign_in_url, qr_svg}, this tab only
    this.running = false;
  }

  start(contest) {
    this.fillCountries(contest);
    $("#juror-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.createJuror();
    });
    $("#print-codes").addEventListener("click", () => window.print());
    if (!this.running) this.poll();
  }

  stop() {
    this.running = false;
  }

  /** After a language switch: the country list, the table and the cards, translated. */
  retranslate(contest) {
    $("#juror-country").replaceChildren();
    this.fillCountries(contest);
    this.render();
    this.renderCards();
  }

  fillCountries(contest) {
    const select = $("#juror-country");
    if (!contest || select.options.length) return;
    const chosen = select.value;
    const juries = contest.voting_countries.filter((c) => c !== "WW");
    select.replaceChildren(...juries.map((c) => h("option", { value: c }, `${c} — ${countryName(c)}`)));
    if (chosen) select.value = chosen;
  }

  async poll() {
    this.running = true;
    while (this.running) {
      await this.refresh();
      await new Promise((resolve) => { setTimeout(resolve, PROGRESS_EVERY_MS); });
    }
  }

  async refresh() {
    const res = await this.admin("GET", "/jury/progress");
    if (!res.ok) return;
    this.progress = res.data;
    this.render();
  }

  render() {
    const p = this.progress;
    if (!p) return;
    const rows = p.countries.map((c) => h(
      "tr", { dataset: { country: c.country, substitute: c.substitute ? "1" : "" },
        class: c.ballots >= c.needed ? "valid" : "short" },
      h("td", {}, h("span", { class: "who" }, flag(c.country), countryName(c.country))),
      h("td", { class: "ballots" }, `${c.ballots}/${c.size}`),
      h("td", { class: "n" }, String(c.jurors)),
      h("td", { class: "state" }, c.substitute
        ? t(p.locked ? "console.desk_substitute" : "console.desk_will_substitute")
        : c.ballots >= c.needed ? t("console.desk_valid") : ""),
    ));
    $("#jury-progress").replaceChildren(...rows);
    const valid = p.countries.filter((c) => c.ballots >= c.needed).length;
    $("#desk-summary").textContent = t("console.desk_summary",
      { valid, total: p.countries.length, needed: p.countries[0]?.needed ?? "?" });
    this.renderWarning();
  }

  /** Before the lock: every jury the lock would replace, named, so nobody is surprised. */
  renderWarning() {
    const p = this.progress;
    const box = $("#lock-warning");
    if (!p || p.locked || (!p.substitutes.length && !p.no_valid_jury)) {
      box.classList.add("hidden");
      box.replaceChildren();
      return;
    }
    const lines = [];
    if (p.no_valid_jury) {
      lines.push(h("strong", {}, t("console.lock_no_valid")));
    } else {
      const onAir = (c) => t("results.jury_substitute", { country: c });
      lines.push(h("strong", {}, tr().plural("console.lock_substitutes", p.substitutes.length)));
      lines.push(h("ul", { class: "substitutes" }, ...p.substitutes.map((c) => h(
        "li", { dataset: { country: c }, title: onAir(c) }, flag(c), countryName(c)))));
      lines.push(h("span", { class: "small" }, t("console.lock_on_air", { line: onAir(p.substitutes[0]) })));
    }
    box.replaceChildren(...lines);
    box.classList.remove("hidden");
  }

  async createJuror() {
    const country = $("#juror-country").value;
    const name = $("#juror-name").value.trim();
    if (!country || !name) return;
    $("#add-juror").disabled = true;
    const res = await this.admin("POST", "/jurors", { country, name });
    $("#add-juror").disabled = false;
    if (!res.ok) {
      this.onError?.(res);
      return;
    }
    $("#juror-name").value = "";
    this.cards.push({ ...res.data, country, name });
    this.renderCards();
    this.refresh();
  }

  renderCards() {
    $("#juror-cards").replaceChildren(...this.cards.map((card) => h(
      "figure", { class: "juror-card", dataset: { juror: card.juror_id, country: card.country } },
      h("img", { class: "qr", alt: t("console.qr_alt", card), width: 148, height: 148,
        src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(card.qr_svg)}` }),
      h("figcaption", {},
        h("div", { class: "juror-name" }, card.name),
        h("div", { class: "muted" }, t("console.card_jury", { country: card.country })),
        h("code", { class: "juror-code" }, card.code),
        h("div", { class: "muted small url" }, card.sign_in_url)),
    )));
    $("#print-codes").disabled = this.cards.length === 0;
  }
}
