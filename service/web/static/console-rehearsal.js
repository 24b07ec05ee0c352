// The console's rehearsal button: starts a dress rehearsal on a copy of this contest
// (POST …/rehearsals, the same run as `silkvote rehearse`), then polls its progress
// (GET /api/v1/rehearsals/{id}) into a progress bar and, once done, its report. The
// last status is kept as a key and values, so a language switch redraws it.
import { $, api, contestPath } from "./common.js";
import { t } from "./console-i18n.js";

const POLL_MS = 700;
let shown = null; // () => text of the status on screen

function reportLines(r) {
  const refused = Object.entries(r.refused || {}).map(([code, n]) => `${code} ${n}`).join(", ")
    || t("console.rh_none");
  return [
    t("console.rh_sent", { id: r.rehearsal, sent: r.votes_sent, accepted: r.votes_accepted, refused }),
    t("console.rh_counts", { batches: r.batches, ballots: r.ballots, steps: r.reveal_steps }),
    t("console.rh_verify", { verdict: t(r.verify_ok ? "console.rh_ok" : "console.rh_differences"),
      ledger: r.ledger_total, live: r.live_total }),
  ];
}

function show(text) {
  shown = text;
  $("#rehearse-report").textContent = text();
}

/** The status on screen again, in the language just picked. */
export function retranslateRehearsal() {
  if (shown) $("#rehearse-report").textContent = shown();
}

/** Wire the button; `token()` is the console's admin token. */
export function mountRehearsal(cid, token) {
  const button = $("#rehearse");
  const bar = $("#rehearse-progress");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    show(() => t("console.rh_starting"));
    const body = { rate: Number($("#rehearse-rate").value) || 20, seconds: Number($("#rehearse-seconds").value) || 10 };
    const res = await api("POST", contestPath(cid, "/rehearsals"), { token: token(), body });
    if (!res.ok) {
      show(() => t("console.rh_cannot", res.error));
      button.disabled = false;
      return;
    }
    const id = res.data.id;
    const poll = async () => {
      const job = await api("GET", `/api/v1/rehearsals/${encodeURIComponent(id)}`, { token: token() });
      if (job.ok) {
        const j = job.data;
        bar.max = Math.max(1, j.total);
        bar.value = j.done;
        bar.dataset.state = j.state;
        if (j.state === "done") {
          show(() => reportLines(j.report).join("\n"));
          button.disabled = false;
          return;
        }
        if (j.state === "failed") {
          show(() => t("console.rh_failed", j));
          button.disabled = false;
          return;
        }
        show(() => t("console.rh_running", j));
      }
      setTimeout(poll, POLL_MS);
    };
    poll();
  });
}
