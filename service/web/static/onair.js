// What goes on air about a set, shared by the overlay and the producer console: a
// substitute result is never presented as the country's own vote ("Armenia's jury —
// substitute result", not "from Armenia").
import { countryName, formatPoints, pointsValue } from "./common.js";

/**
 * Whether a reveal step is a substitute result. The API marks every step
 * (results/marks.py): a jury step's `substitute`; a televote step's `substitutes`, the
 * voting countries whose substitute televote sets gave that entry points.
 */
export const isSubstituteStep = (step) => Boolean(step && step.substitute);

/** "Armenia's jury — substitute result" for a substitute jury (or combined) step, else
 * "". `tr` is the page's catalog (i18n.js), in the show's language; English without. */
export function substituteLine(step, tr = null) {
  if (!step || step.body === "televote" || !isSubstituteStep(step) || !step.from) return "";
  if (tr) return tr.t("results.jury_substitute", { country: step.from });
  return `${countryName(step.from)}'s jury — substitute result`;
}

/** The voting countries whose substitute televote sets are in a televote step. */
export const televoteSubstitutes = (step) => (step && step.body === "televote"
  ? step.substitutes || [] : []);

/** The console's line for a reveal step, from the producer's full view `results`, in
 * the console's language when `tr` (its catalog, console-i18n.js) is given. */
export function describeStep(step, results, { short = false, tr = null } = {}) {
  if (!step) return "";
  const name = (c) => (tr ? tr.country(c) : countryName(c));
  if (step.body === "televote") {
    const to = step.to || Object.keys(step.points || {})[0];
    const pts = typeof step.points === "object" && step.points !== null ? step.points[to] : step.points;
    const stoodIn = televoteSubstitutes(step);
    const given = stoodIn.map((c) => [c, setPoints(results, c, "televote", to)]).filter(([, p]) => p !== undefined);
    const list = given.map(([c, p]) => `${c} ${formatPoints(p)}`).join(", ");
    if (tr) {
      const line = tr.plural("console.step_televote", pointsValue(pts), { n: formatPoints(pts), country: to });
      return given.length ? tr.t("console.step_with_substitutes", { step: line, list }) : line;
    }
    return `Televote → ${name(to)}: ${formatPoints(pts)} points`
      + (given.length ? ` (incl. substitute results: ${list})` : "");
  }
  const entries = Object.entries(step.points || {});
  const body = step.body === "combined" ? "Votes" : "Jury";
  let head = substituteLine(step, tr);
  if (!head) {
    head = tr ? tr.t(step.body === "combined" ? "console.step_votes_of" : "console.step_jury_of", { country: step.from })
      : `${body} of ${name(step.from)}`;
  }
  if (short || !entries.length) return head;
  const [topCountry, topPts] = entries[0];
  const rest = entries.slice(1).map(([c, p]) => `${formatPoints(p)} ${c}`).join(", ");
  if (tr) {
    const line = tr.t("console.step_top", { head, n: formatPoints(topPts), country: topCountry });
    return rest ? tr.t("console.step_rest", { step: line, list: rest }) : line;
  }
  return `${head}: ${formatPoints(topPts)} → ${name(topCountry)}` + (rest ? ` (${rest})` : "");
}

/** Points that the set (from, body) gives `to`, from the full view; undefined if none. */
function setPoints(results, from, body, to) {
  const set = (results?.sets || []).find((s) => s.from === from && s.body === body);
  return set?.points?.[to];
}

/** Points each entry received in the last announced step, and how it is highlighted. */
export function stepAwards(step) {
  const awards = new Map();
  if (!step) return { awards, top: null };
  if (step.body === "televote") {
    const to = step.to || Object.keys(step.points || {})[0];
    const pts = typeof step.points === "object" && step.points !== null ? step.points[to] : step.points;
    if (to) awards.set(to, pts);
    return { awards, top: to, televote: true };
  }
  let top = null;
  let best = -Infinity;
  for (const [country, pts] of Object.entries(step.points || {})) {
    awards.set(country, pts);
    if (pointsValue(pts) > best) {
      best = pointsValue(pts);
      top = country;
    }
  }
  return { awards, top, televote: false };
}
