// Text that must fit a fixed box (the overlay's names, title and banners): the largest
// font size between `max` and `min` at which the text fits, measured in the browser
// with the real font, so no language's long names are cut "with room to spare" and
// none runs out of its box. Below `min` the text may wrap (class "fit-wrap").

/** Fit `el`'s text into its box; returns the size used (px). */
export function fitText(el, { max, min, step = 1 }) {
  el.classList.remove("fit-wrap");
  let size = max;
  el.style.fontSize = `${size}px`;
  const tooWide = () => el.scrollWidth > el.clientWidth + 0.5;
  while (size > min && tooWide()) {
    size = Math.max(min, size - step);
    el.style.fontSize = `${size}px`;
  }
  if (tooWide()) el.classList.add("fit-wrap");
  return size;
}

/** Run `refit` again once web fonts finish loading (the first fit may use a fallback). */
export function refitWhenFontsLoad(refit) {
  if (!document.fonts) return;
  document.fonts.ready.then(refit);
  document.fonts.addEventListener("loadingdone", refit);
}
