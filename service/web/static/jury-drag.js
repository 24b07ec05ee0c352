// The jury tablet's ranking list in motion (jury.js): dragging a row with pointer events
// (mouse, pen and touch), and the FLIP animation that slides rows to their new places
// after a move, so a juror sees where each song went.
import { $, $$ } from "./common.js";

/** Where each row is now, by country: the "first" of a FLIP animation. */
export function rectsByCountry(list) {
  const map = new Map();
  for (const li of list.children) map.set(li.dataset.country, li.getBoundingClientRect());
  return map;
}

export function playFlip(list, before, moved) {
  for (const li of list.children) {
    const first = before.get(li.dataset.country);
    if (!first) continue;
    const dy = first.top - li.getBoundingClientRect().top;
    if (!dy) continue;
    li.style.transition = "none";
    li.style.transform = `translateY(${dy}px)`;
    requestAnimationFrame(() => {
      li.style.transition = "transform 180ms ease";
      li.style.transform = "";
    });
  }
  const row = list.querySelector(`[data-country="${moved}"]`);
  if (row) row.classList.add("flash");
}

// Drag with pointer events (mouse, pen and touch). The row follows the pointer; it
// swaps places with a neighbour once it passes half of that neighbour's height.
export function setupDrag({ isLocked, onDrop }) {
  const list = $("#ranking");
  const wrap = $("#list-wrap");
  let drag = null;

  list.addEventListener("pointerdown", (event) => {
    if (isLocked() || event.button > 0) return;
    const handle = event.target.closest(".handle");
    const row = event.target.closest(".row");
    const mouseOnRow = event.pointerType === "mouse" && row && !event.target.closest("button");
    if (!row || (!handle && !mouseOnRow)) return;
    event.preventDefault();
    try {
      row.setPointerCapture(event.pointerId);
    } catch {
      /* no capture (synthetic or already released pointer): moves still bubble here */
    }
    row.classList.add("dragging");
    drag = { row, pointerId: event.pointerId, startY: event.clientY + wrap.scrollTop, moved: false };
  });

  const onMove = (event) => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    event.preventDefault();
    // Scroll the list when the finger nears its top or bottom edge.
    const box = wrap.getBoundingClientRect();
    if (event.clientY < box.top + 40) wrap.scrollTop -= 12;
    else if (event.clientY > box.bottom - 40) wrap.scrollTop += 12;
    const y = event.clientY + wrap.scrollTop;
    let dy = y - drag.startY;
    const { row } = drag;
    for (;;) {
      const next = row.nextElementSibling;
      const prev = row.previousElementSibling;
      if (next && dy > next.offsetHeight / 2 + 3) {
        const step = next.offsetTop - row.offsetTop;
        row.before(next); // move the neighbour, never the captured row (keeps the capture)
        drag.startY += step;
        dy -= step;
        drag.moved = true;
      } else if (prev && dy < -(prev.offsetHeight / 2 + 3)) {
        const step = row.offsetTop - prev.offsetTop;
        row.after(prev);
        drag.startY -= step;
        dy += step;
        drag.moved = true;
      } else break;
    }
    if (drag.moved) {
      $$("#ranking .row .rank-no").forEach((el, i) => {
        el.textContent = String(i + 1);
      });
    }
    row.style.transform = `translateY(${dy}px)`;
  };

  const onEnd = (event) => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    const { row } = drag;
    drag = null;
    row.classList.remove("dragging");
    row.style.transform = "";
    onDrop($$("#ranking .row").map((li) => li.dataset.country), row.dataset.country);
  };

  list.addEventListener("pointermove", onMove);
  list.addEventListener("pointerup", onEnd);
  list.addEventListener("pointercancel", onEnd);
  list.addEventListener("lostpointercapture", onEnd);
}
