// A board row's total that counts up to its new value (ease-out over `ms`) instead of
// jumping, so a viewer sees points land; a non-number (a hidden score) is set at once.
import { formatPoints } from "./common.js";

export function tweenTotal(row, total, ms) {
  const el = row.querySelector(".total");
  const text = formatPoints(total);
  row.dataset.total = text;
  const from = row._shown;
  row._shown = total;
  cancelAnimationFrame(row._tween || 0);
  if (typeof total !== "number" || typeof from !== "number" || from === total) {
    el.textContent = text;
    return;
  }
  const start = performance.now();
  const tick = (now) => {
    const k = Math.min(1, (now - start) / ms);
    const eased = 1 - (1 - k) ** 3;
    el.textContent = String(Math.round(from + (total - from) * eased));
    if (k < 1) row._tween = requestAnimationFrame(tick);
  };
  row._tween = requestAnimationFrame(tick);
}
