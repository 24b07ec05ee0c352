// EBU R 95 safe areas for the broadcast pages: every graphic stays inside the
// graphics-safe frame (5 % of the width and height on each side: 96 px and 54 px of a
// 1920×1080 frame); action-safe (3.5 %) is where a picture's action may still be cut
// by a display. ?guides=1 draws both frames over the page for line-up.
import { h } from "./common.js";

export const SAFE = { action: 0.035, graphics: 0.05 };
const LABEL = { action: "action-safe 3.5 %", graphics: "graphics-safe 5 %" };

/** The two frames of a `width`×`height` stage, as one element to append over it. */
export function guides(width, height) {
  const frame = (kind) => {
    const el = h("div", { class: `guide ${kind}`, dataset: { frame: kind } },
      h("span", {}, LABEL[kind]));
    Object.assign(el.style, {
      left: `${width * SAFE[kind]}px`, right: `${width * SAFE[kind]}px`,
      top: `${height * SAFE[kind]}px`, bottom: `${height * SAFE[kind]}px`,
    });
    return el;
  };
  return h("div", { id: "guides", class: "guides", "aria-hidden": "true" },
    frame("action"), frame("graphics"));
}
