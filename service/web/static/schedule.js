// The scheduled window's countdown for the viewer page and the console: "Voting
// closes in 1:05" while open with a scheduled close, "Voting opens in 12:00" while
// closed before a scheduled open, "" otherwise. The server flips the window on time;
// the page only counts down to the instants it was given (opens_at / closes_at).

/** Whole seconds until `at` (ISO time), never below 0; null without one. */
export function secondsTo(at) {
  return at ? Math.max(0, Math.ceil((Date.parse(at) - Date.now()) / 1000)) : null;
}

/** "m:ss", or "h:mm:ss" from an hour up. */
export function clock(left) {
  const two = (n) => String(n).padStart(2, "0");
  const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60);
  return h ? `${h}:${two(m)}:${two(left % 60)}` : `${m}:${two(left % 60)}`;
}

/** The countdown line; `t(key, vars)` translates (common.closes_in / common.opens_in). */
export function countdownText(window, opensAt, closesAt, t) {
  const toClose = secondsTo(closesAt);
  if (window === "open" && toClose) return t("common.closes_in", { time: clock(toClose) });
  const toOpen = secondsTo(opensAt);
  if (window !== "open" && toOpen) return t("common.opens_in", { time: clock(toOpen) });
  return "";
}
