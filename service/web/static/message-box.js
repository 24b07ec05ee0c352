// The viewer page's one message line (#message): a text, an optional retry button,
// and a timer that hides it (3.5 s for good news, 7 s for a refusal) unless it is
// sticky or offers a retry. `onHide` runs whenever the line goes away, so the page can
// forget what it said (a language switch re-renders only a message still showing).
import { $ } from "./common.js";

let hideTimer = null;
let hidden = () => {};

export function onHide(callback) {
  hidden = callback;
}

export function showMessage(kind, text, { retry = null, sticky = false } = {}) {
  const box = $("#message");
  $("#message-text").textContent = text;
  box.className = `message ${kind}`;
  box.dataset.kind = kind;
  const retryBtn = $("#message-retry");
  retryBtn.classList.toggle("hidden", !retry);
  retryBtn.onclick = retry
    ? () => {
      hideMessage();
      retry();
    }
    : null;
  clearTimeout(hideTimer);
  if (!sticky && !retry) hideTimer = setTimeout(hideMessage, kind === "ok" ? 3500 : 7000);
}

export function hideMessage() {
  $("#message").classList.add("hidden");
  hidden();
}
