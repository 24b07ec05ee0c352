// Small inline SVG flags (simplified, 3:2) for the countries of the demo contests, and a
// lettered badge for any other code. No emoji font or network needed.

function star(cx, cy, r, n = 5, inner = 0.382, rotate = -90) {
  const pts = [];
  for (let i = 0; i < n * 2; i += 1) {
    const rr = i % 2 === 0 ? r : r * inner;
    const a = ((rotate + (i * 180) / n) * Math.PI) / 180;
    pts.push(`${(cx + rr * Math.cos(a)).toFixed(2)},${(cy + rr * Math.sin(a)).toFixed(2)}`);
  }
  return `<polygon points="${pts.join(" ")}"/>`;
}

const hstripes = (...colors) => colors
  .map((c, i) => `<rect y="${(20 / colors.length) * i}" width="30" height="${20 / colors.length + 0.05}" fill="${c}"/>`)
  .join("");
const vstripes = (...colors) => colors
  .map((c, i) => `<rect x="${(30 / colors.length) * i}" width="${30 / colors.length + 0.05}" height="20" fill="${c}"/>`)
  .join("");

const SUN_RAYS = (cx, cy, r, color) =>
  `<circle cx="${cx}" cy="${cy}" r="${r}" fill="none" stroke="${color}" stroke-width="${r * 0.5}" stroke-dasharray="0.9 0.7"/>`;

const FLAGS = {
  AZ: hstripes("#00b5e2", "#ef3340", "#509e2f")
    + `<circle cx="14" cy="10" r="3" fill="#fff"/><circle cx="14.8" cy="10" r="2.45" fill="#ef3340"/>`
    + `<g fill="#fff">${star(18.2, 10, 1.2, 8, 0.5)}</g>`,
  AM: hstripes("#d90012", "#0033a0", "#f2a800"),
  GE: `<rect width="30" height="20" fill="#fff"/><rect x="13" width="4" height="20" fill="#e00"/>`
    + `<rect y="8" width="30" height="4" fill="#e00"/>`
    + [[6.5, 4], [23.5, 4], [6.5, 16], [23.5, 16]]
      .map(([x, y]) => `<rect x="${x - 0.6}" y="${y - 2}" width="1.2" height="4" fill="#e00"/><rect x="${x - 2}" y="${y - 0.6}" width="4" height="1.2" fill="#e00"/>`)
      .join(""),
  IN: hstripes("#ff9933", "#ffffff", "#138808")
    + `<circle cx="15" cy="10" r="2.6" fill="none" stroke="#000080" stroke-width="0.5"/>`
    + `<circle cx="15" cy="10" r="0.6" fill="#000080"/>`,
  KZ: `<rect width="30" height="20" fill="#00afca"/>`
    + `<rect x="1.2" y="1" width="1.4" height="18" fill="#fec50c" opacity="0.9"/>`
    + SUN_RAYS(15, 8.5, 4.2, "#fec50c") + `<circle cx="15" cy="8.5" r="2.6" fill="#fec50c"/>`
    + `<path d="M8.5 14.5 Q15 11.5 21.5 14.5 Q15 13.5 8.5 14.5Z" fill="#fec50c"/>`,
  CN: `<rect width="30" height="20" fill="#ee1c25"/><g fill="#ffde00">${star(5, 5, 3)}`
    + `${star(10, 2, 1, 5, 0.382, -54)}${star(12, 4, 1, 5, 0.382, -72)}`
    + `${star(12, 7, 1, 5, 0.382, -90)}${star(10, 9, 1, 5, 0.382, -108)}</g>`,
  KG: `<rect width="30" height="20" fill="#e8112d"/>` + SUN_RAYS(15, 10, 5, "#ffef00")
    + `<circle cx="15" cy="10" r="3.6" fill="#ffef00"/>`
    + `<circle cx="15" cy="10" r="2.3" fill="none" stroke="#e8112d" stroke-width="0.5"/>`
    + `<path d="M13.1 8.9 L16.9 8.9 M13.1 11.1 L16.9 11.1 M14 8.3 L14 11.7 M16 8.3 L16 11.7" stroke="#e8112d" stroke-width="0.35"/>`,
  MN: vstripes("#c4272f", "#015197", "#c4272f")
    + `<g fill="#f9cf02"><circle cx="5" cy="4.2" r="1"/><circle cx="5" cy="7" r="1.2"/>`
    + `<rect x="3.3" y="8.8" width="3.4" height="0.8"/><rect x="3.3" y="13.8" width="3.4" height="0.8"/>`
    + `<rect x="2.4" y="9.9" width="0.8" height="6"/><rect x="6.8" y="9.9" width="0.8" height="6"/>`
    + `<circle cx="5" cy="12.2" r="1.3"/></g>`,
  TJ: `<rect width="30" height="20" fill="#fff"/><rect width="30" height="5.7" fill="#cc0000"/>`
    + `<rect y="14.3" width="30" height="5.7" fill="#006600"/>`
    + `<g fill="#f8c300"><path d="M13.2 11.3 Q15 9.4 16.8 11.3 L16.8 12 L13.2 12Z"/>`
    + [[12, 10.6], [12.6, 9.2], [13.8, 8.4], [15, 8.1], [16.2, 8.4], [17.4, 9.2], [18, 10.6]]
      .map(([x, y]) => star(x, y, 0.45)).join("") + `</g>`,
  TM: `<rect width="30" height="20" fill="#00843d"/><rect x="3" width="5" height="20" fill="#d22630"/>`
    + `<g fill="#ffb81c">${[2, 5, 8, 11, 14, 17].map((y) => `<circle cx="5.5" cy="${y + 1}" r="0.9"/>`).join("")}</g>`
    + `<circle cx="12.5" cy="5" r="2.6" fill="#fff"/><circle cx="13.6" cy="4.6" r="2.3" fill="#00843d"/>`
    + `<g fill="#fff">${[[15, 2.4], [16.3, 3.8], [16.5, 5.8], [14.6, 5.2], [15.2, 7.2]].map(([x, y]) => star(x, y, 0.55)).join("")}</g>`,
  UZ: `<rect width="30" height="20" fill="#fff"/><rect width="30" height="6.4" fill="#0099b5"/>`
    + `<rect y="13.6" width="30" height="6.4" fill="#1eb53a"/>`
    + `<rect y="6.4" width="30" height="0.6" fill="#ce1126"/><rect y="13" width="30" height="0.6" fill="#ce1126"/>`
    + `<circle cx="4.6" cy="3.2" r="2.3" fill="#fff"/><circle cx="5.4" cy="3.2" r="2" fill="#0099b5"/>`
    + `<g fill="#fff">${[[8, 1.4], [9.6, 1.4], [11.2, 1.4], [8, 3], [9.6, 3], [11.2, 3], [9.6, 4.6], [11.2, 4.6]]
      .map(([x, y]) => star(x, y, 0.5)).join("")}</g>`,
  KR: `<rect width="30" height="20" fill="#fff"/>`
    + `<path d="M11.5 10 A3.5 3.5 0 0 1 18.5 10 A1.75 1.75 0 0 1 15 10 A1.75 1.75 0 0 0 11.5 10Z" fill="#cd2e3a"/>`
    + `<path d="M11.5 10 A3.5 3.5 0 0 0 18.5 10 A1.75 1.75 0 0 1 15 10 A1.75 1.75 0 0 0 11.5 10Z" fill="#0047a0"/>`
    + `<g stroke="#000" stroke-width="0.7">`
    + `<path d="M6 3.5 L9 6.5 M5.3 4.2 L8.3 7.2 M4.6 4.9 L7.6 7.9"/>`
    + `<path d="M21 6.5 L24 3.5 M21.7 7.2 L24.7 4.2 M22.4 7.9 L25.4 4.9" stroke-dasharray="1.3 0.4"/>`
    + `<path d="M6 16.5 L9 13.5 M5.3 15.8 L8.3 12.8 M4.6 15.1 L7.6 12.1" stroke-dasharray="1.3 0.4 3 0"/>`
    + `<path d="M21 13.5 L24 16.5 M21.7 12.8 L24.7 15.8 M22.4 12.1 L25.4 15.1" stroke-dasharray="3 0.4 1.3 0"/></g>`,
  WW: `<rect width="30" height="20" fill="#1b2a6b"/>`
    + `<g fill="none" stroke="#9fd3ff" stroke-width="0.7"><circle cx="15" cy="10" r="7"/>`
    + `<ellipse cx="15" cy="10" rx="3" ry="7"/><path d="M8 10 H22 M9.2 6.5 H20.8 M9.2 13.5 H20.8 M15 3 V17"/></g>`,
  // A few common tricolours, for contests beyond the demo line-up.
  FR: vstripes("#002395", "#fff", "#ed2939"),
  IT: vstripes("#009246", "#fff", "#ce2b37"),
  IE: vstripes("#169b62", "#fff", "#ff883e"),
  BE: vstripes("#000", "#fdda24", "#ef3340"),
  DE: hstripes("#000", "#dd0000", "#ffce00"),
  RU: hstripes("#fff", "#0039a6", "#d52b1e"),
  UA: hstripes("#0057b7", "#ffd700"),
  PL: hstripes("#fff", "#dc143c"),
  NL: hstripes("#ae1c28", "#fff", "#21468b"),
  AT: hstripes("#ed2939", "#fff", "#ed2939"),
  EE: hstripes("#0072ce", "#000", "#fff"),
  LT: hstripes("#fdb913", "#006a44", "#c1272d"),
  LV: hstripes("#9e3039", "#9e3039", "#fff", "#9e3039", "#9e3039"),
  JP: `<rect width="30" height="20" fill="#fff"/><circle cx="15" cy="10" r="6" fill="#bc002d"/>`,
  SE: `<rect width="30" height="20" fill="#006aa7"/><rect x="9" width="3.5" height="20" fill="#fecc00"/><rect y="8.2" width="30" height="3.6" fill="#fecc00"/>`,
  FI: `<rect width="30" height="20" fill="#fff"/><rect x="8.5" width="4" height="20" fill="#002f6c"/><rect y="8" width="30" height="4" fill="#002f6c"/>`,
  NO: `<rect width="30" height="20" fill="#ba0c2f"/><rect x="8" width="6" height="20" fill="#fff"/><rect y="7" width="30" height="6" fill="#fff"/><rect x="9.5" width="3" height="20" fill="#00205b"/><rect y="8.5" width="30" height="3" fill="#00205b"/>`,
  DK: `<rect width="30" height="20" fill="#c8102e"/><rect x="9" width="3" height="20" fill="#fff"/><rect y="8.5" width="30" height="3" fill="#fff"/>`,
  CH: `<rect width="30" height="20" fill="#da291c"/><rect x="13.5" y="4" width="3" height="12" fill="#fff"/><rect x="9" y="8.5" width="12" height="3" fill="#fff"/>`,
};

/** A flag element for a country code (inline SVG, or a lettered badge). */
export function flag(code, { className = "flag", title } = {}) {
  const span = document.createElement("span");
  span.className = className;
  span.setAttribute("role", "img");
  span.setAttribute("aria-label", title || code);
  const svg = FLAGS[code];
  if (svg) {
    span.innerHTML = `<svg viewBox="0 0 30 20" preserveAspectRatio="none" aria-hidden="true">${svg}</svg>`;
  } else {
    span.classList.add("flag-letters");
    span.textContent = /^[A-Z]{2}$/.test(code || "") ? code : "?";
  }
  return span;
}

export const knownFlags = () => Object.keys(FLAGS);
