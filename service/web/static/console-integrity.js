// The console's integrity section (docs/api.md, "Contest set-up" and "Integrity"): the
// contest's results visibility (who sees standings before the broadcast announces them),
// read tokens for graphics systems and scrutineers (minted with a label, shown once in
// this tab, listed, revoked), the integrity report's main figures, and voids (the votes
// of a voter, a network or a token, within a time range if one is set) with a reason,
// with the list of voids. Every call is the console's
// `admin` (the admin token in the bearer header only); revoking and voiding take two taps
// (console-confirm.js). The last answers are kept, so a language switch redraws them
// without asking the server again.
import { $, h } from "./common.js";
import { confirmButton } from "./console-confirm.js";
import { t, tr } from "./console-i18n.js";

const TOP = 8; // rows per list of the report
// What a void can name from the form, as the API's rule takes it (hashes as the report
// shows them; a network may also be written as its CIDR prefix).
const TARGETS = {
  voter: { field: "voters", pattern: /^[0-9a-f]{64}$/ },
  network: { field: "networks", pattern: /^([0-9a-f]{32}|[0-9a-f.:]{2,39}\/[0-9]{1,3})$/ },
  token: { field: "tokens", pattern: /^[0-9a-f]{32}$/ },
};

const view = { visibility: null, tokens: null, minted: null, report: null, voids: null };
let ctx = null; // {cid, admin, message, explain}
let changing = null; // while this tab's own change is on its way (and just after): its time
const SETTLE_MS = 2000; // a read of the contest sent before that change may answer after it

const hash = (s) => (/^[0-9a-f]{32,}$/.test(s) ? `${s.slice(0, 10)}…` : s); // a CIDR stays whole
const time = (iso) => (iso ? new Date(iso).toLocaleString(tr().lang) : "—");
const number = (n) => new Intl.NumberFormat(tr().lang).format(n ?? 0);
const percent = (x) => new Intl.NumberFormat(tr().lang,
  { style: "percent", maximumFractionDigits: 1 }).format(x ?? 0);
const num = (n) => h("td", { class: "n" }, number(n));

/** A table of `heads` (texts) over `rows`, or one muted line when there are none; a
 * column of figures (td.n) has its head on the right too. */
function table(id, heads, rows, emptyKey) {
  const el = $(`#${id}`);
  if (!rows.length) {
    el.replaceChildren(h("tbody", {}, h("tr", { class: "empty" },
      h("td", { class: "muted small" }, t(emptyKey)))));
    return;
  }
  const figures = [...rows[0].children].map((td) => (td.classList.contains("n") ? "n" : null));
  el.replaceChildren(
    h("thead", {}, h("tr", {}, ...heads.map((text, i) => h("th", { class: figures[i] }, text)))),
    h("tbody", {}, ...rows));
}

function failed(res) {
  if (res.ok) return false;
  ctx.message("error", ctx.explain(res));
  return true;
}

// ---------------------------------------------------------------- results visibility

function renderVisibility() {
  const box = $("#visibility");
  box.dataset.current = view.visibility || "";
  for (const input of box.querySelectorAll("input")) input.checked = input.value === view.visibility;
  $("#visibility-help").textContent = view.visibility ? t(`console.vis_help_${view.visibility}`) : "";
}

async function loadVisibility() {
  const res = await ctx.admin("GET", "");
  if (res.ok) view.visibility = res.data.results_visibility;
  renderVisibility();
}

/** The value the console's periodic read of the contest found (another console's change). */
function follow(mode) {
  if (!mode || mode === view.visibility || (changing && Date.now() - changing < SETTLE_MS)) return;
  view.visibility = mode;
  renderVisibility();
}

async function setVisibility(mode) {
  const inputs = [...$("#visibility").querySelectorAll("input")];
  inputs.forEach((input) => { input.disabled = true; });
  changing = Infinity;
  const res = await ctx.admin("POST", "/visibility", { results_visibility: mode });
  changing = Date.now();
  inputs.forEach((input) => { input.disabled = false; });
  if (!failed(res)) {
    view.visibility = res.data.results_visibility;
    ctx.message("ok", t("console.vis_msg", { mode: t(`console.vis_${view.visibility}`) }));
  }
  renderVisibility(); // a refusal puts the switch back on the server's value
}

// ---------------------------------------------------------------- read tokens

function renderTokens() {
  const minted = view.minted;
  $("#read-token-new").classList.toggle("hidden", !minted);
  if (minted) {
    $("#read-token-note").textContent = t("console.rt_new", minted);
    $("#read-token-value").textContent = minted.token;
  }
  if (!view.tokens) return;
  const rows = view.tokens.map((token) => {
    let revoke = "";
    if (!token.revoked_at) {
      revoke = h("button", { class: "btn danger slim", type: "button",
        dataset: { i18n: "console.rt_revoke" } }, t("console.rt_revoke"));
      confirmButton(revoke, "console.rt_revoke", "console.rt_revoke_armed", () => revokeToken(token));
    }
    return h("tr", { dataset: { token: token.id, revoked: token.revoked_at ? "true" : "false" } },
      h("td", { class: "label" }, h("strong", {}, token.label),
        h("div", { class: "muted small" }, time(token.created_at))),
      h("td", { class: "state" }, token.revoked_at
        ? t("console.rt_revoked", { time: time(token.revoked_at) }) : t("console.rt_active")),
      h("td", { class: "act" }, revoke));
  });
  table("read-tokens", [t("console.rt_label"), "", ""], rows, "console.rt_none");
}

async function loadTokens() {
  const res = await ctx.admin("GET", "/read-tokens");
  if (res.ok) view.tokens = res.data;
  renderTokens();
}

async function mintToken() {
  const input = $("#read-token-label");
  const label = input.value.trim();
  const button = $("#mint-read-token");
  button.disabled = true;
  const res = await ctx.admin("POST", "/read-tokens", label ? { label } : {});
  button.disabled = false;
  if (failed(res)) return;
  input.value = "";
  view.minted = res.data; // shown in this tab until the next one; never stored
  const copy = $("#copy-read-token");
  copy.dataset.i18n = "console.rt_copy";
  copy.textContent = t("console.rt_copy");
  ctx.message("ok", t("console.rt_minted_msg", res.data));
  await loadTokens();
}

async function copyToken() {
  const button = $("#copy-read-token");
  try {
    await navigator.clipboard.writeText(view.minted.token);
    button.dataset.i18n = "console.rt_copied";
    button.textContent = t("console.rt_copied");
  } catch {
    getSelection().selectAllChildren($("#read-token-value")); // ready for Ctrl+C
    ctx.message("error", t("console.rt_copy_failed"));
  }
}

async function revokeToken(token) {
  const res = await ctx.admin("DELETE", `/read-tokens/${encodeURIComponent(token.id)}`);
  if (!failed(res)) ctx.message("ok", t("console.rt_revoked_msg", res.data));
  if (view.minted?.id === token.id) view.minted = null;
  await loadTokens();
}

// ---------------------------------------------------------------- the report

function renderReport() {
  const r = view.report;
  if (!r) return;
  $("#integrity-as-of").textContent = t("console.ig_report_h",
    { time: new Date(r.as_of).toLocaleTimeString(tr().lang) });
  const x = r.totals;
  const channels = Object.entries(x.channels || {}).map(([c, n]) => `${c} ${number(n)}`).join(" · ");
  const figures = [
    ["votes", t("console.ig_votes"), number(x.votes)],
    ["voided", t("console.ig_voided"), number(x.voided)],
    ["tokens", t("console.ig_tokens"), number(x.tokens)],
    ["voters", t("console.ig_voters"), number(x.voters)],
    ["networks", t("console.ig_networks"), number(x.networks)],
    ["without-network", t("console.ig_without_network"), number(x.without_network)],
    ["top-share", t("console.ig_top_share"), percent(x.top_1pct_share)],
    ["bursting", t("console.ig_bursting", { threshold: r.burst_threshold, seconds: r.burst_window_s }),
      number(r.bursting_tokens)],
    ["channels", t("console.ig_channels"), channels || "—"],
  ];
  $("#integrity-totals").replaceChildren(...figures.map(([name, label, value]) => h(
    "div", { dataset: { figure: name } }, h("dt", {}, label), h("dd", {}, value))));
  const networks = r.networks.slice(0, TOP).map((n) => h("tr", { dataset: { network: n.network } },
    h("td", { class: "hash", title: n.network }, hash(n.network)),
    num(n.votes), h("td", { class: "n" }, percent(n.share)), num(n.tokens), useButton("network", n.network)));
  table("integrity-networks", [t("console.col_network"), t("console.col_votes"), t("console.col_share"),
    t("console.ig_tokens"), ""], networks, "console.ig_empty");
  const bursts = r.bursts.slice(0, TOP).map((b) => h("tr", { dataset: { voter: b.voter } },
    h("td", { class: "hash", title: b.voter }, hash(b.voter)), num(b.votes), num(b.most_in_window),
    useButton("voter", b.voter)));
  table("integrity-bursts", [t("console.col_voter"), t("console.col_votes"),
    t("console.col_most", { seconds: r.burst_window_s }), ""], bursts, "console.ig_empty");
}

async function loadReport() {
  const res = await ctx.admin("GET", `/integrity?top=${TOP}`);
  if (res.ok) view.report = res.data;
  else failed(res);
  renderReport();
}

// ---------------------------------------------------------------- voids

/** A report row's "Void…": its voter or network goes into the form. */
function useButton(kind, value) {
  return h("td", { class: "act" }, h("button", {
    class: "btn slim", type: "button", onclick: () => {
      $("#void-kind").value = kind;
      $("#void-target").value = value;
      $("#void-reason").focus();
    },
  }, t("console.ig_use")));
}

/** The rule the form describes, or null when it names nothing a void can take. The
 * range's fields are the desk's local time; the rule carries them as UTC instants. */
function formRule() {
  const target = TARGETS[$("#void-kind").value];
  const value = $("#void-target").value.trim().toLowerCase();
  if (!target || !target.pattern.test(value)) return null;
  const rule = { [target.field]: [value] };
  for (const [id, field] of [["#void-from", "from"], ["#void-until", "until"]]) {
    if ($(id).value) rule[field] = new Date($(id).value).toISOString();
  }
  return rule;
}

function ruleText(rule) {
  const parts = [["voters", "console.col_voter"], ["networks", "console.col_network"],
    ["tokens", "console.ig_tokens"]].filter(([field]) => rule[field]?.length)
    .map(([field, key]) => `${t(key)}: ${rule[field].map(hash).join(", ")}`);
  if (rule.from || rule.until) parts.push(`${time(rule.from)} → ${time(rule.until)}`);
  return parts.join(" · ");
}

function renderVoids() {
  if (!view.voids) return;
  const rows = [...view.voids].reverse().map((v) => h("tr", { dataset: { void: v.id, votes: v.votes } },
    h("td", {}, time(v.at)), h("td", { class: "reason" }, v.reason),
    h("td", { class: "hash", title: JSON.stringify(v.rule) }, ruleText(v.rule)),
    num(v.votes), h("td", {}, v.actor)));
  table("voids", [t("console.col_at"), t("console.void_reason"), t("console.col_rule"),
    t("console.col_votes"), t("console.col_by")], rows, "console.voids_none");
}

async function loadVoids() {
  const res = await ctx.admin("GET", "/voids");
  if (res.ok) view.voids = res.data;
  renderVoids();
}

async function castVoid() {
  const rule = formRule();
  const reason = $("#void-reason").value.trim();
  if (!rule || !reason) {
    ctx.message("error", t("console.void_bad"));
    return;
  }
  const res = await ctx.admin("POST", "/voids", { rule, reason });
  if (failed(res)) return;
  for (const id of ["#void-target", "#void-reason", "#void-from", "#void-until"]) $(id).value = "";
  ctx.message("ok", t("console.void_msg", { n: res.data.votes }));
  await Promise.all([loadReport(), loadVoids()]);
}

// ---------------------------------------------------------------- wiring

/** Everything from the server again (after the sign-in, and on Refresh). */
async function load() {
  await Promise.all([loadVisibility(), loadTokens(), loadReport(), loadVoids()]);
}

/** After a language switch: what the section drew from data, in the new language. */
function retranslate() {
  renderVisibility();
  renderTokens();
  renderReport();
  renderVoids();
}

/** On sign-out: a read token still on screen goes (it was for the one who minted it). */
function forget() {
  view.minted = null;
  renderTokens();
}

/** Wire the section; `admin`, `message` and `explain` are the console's. */
export function mountIntegrity(cid, admin, { message, explain }) {
  ctx = { cid, admin, message, explain };
  $("#integrity-refresh").addEventListener("click", load);
  for (const input of $("#visibility").querySelectorAll("input")) {
    input.addEventListener("change", () => input.checked && setVisibility(input.value));
  }
  $("#read-token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    mintToken();
  });
  $("#copy-read-token").addEventListener("click", copyToken);
  $("#void-form").addEventListener("submit", (event) => event.preventDefault());
  confirmButton($("#void-votes"), "console.void", "console.void_armed", castVoid);
  return { load, retranslate, forget, follow };
}
