// The console's dangerous actions (close voting, lock the jury) take a second tap within
// five seconds: a dialog would block the page while it keeps polling. The labels are
// translation keys, read at each tap, so a language switch changes them too.
import { t } from "./console-i18n.js";

/** Two taps to confirm a dangerous action; `labelKey`/`armedKey` name its two texts. */
export function confirmButton(button, labelKey, armedKey, action) {
  let armed = null;
  const disarm = () => {
    armed = null;
    button.dataset.i18n = labelKey;
    button.textContent = t(labelKey);
    button.classList.remove("armed");
  };
  button.addEventListener("click", async () => {
    if (!armed) {
      button.dataset.i18n = armedKey; // a switch while armed keeps it armed, translated
      button.textContent = t(armedKey);
      button.classList.add("armed");
      armed = setTimeout(disarm, 5000);
      return;
    }
    clearTimeout(armed);
    disarm();
    await action();
  });
}
