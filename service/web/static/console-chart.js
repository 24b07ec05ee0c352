// The console's votes-per-second chart: a canvas line over the last `seconds`.

export function drawRateChart(canvas, rates, seconds) {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 800;
  const height = canvas.clientHeight || 220;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const pad = { l: 44, r: 10, t: 12, b: 22 };
  const w = width - pad.l - pad.r;
  const hgt = height - pad.t - pad.b;
  const now = performance.now() / 1000;
  const points = rates.filter((p) => now - p.t <= seconds);
  const peak = Math.max(1, ...points.map((p) => p.rate));
  const niceMax = niceCeil(peak);
  // grid and labels
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#a8add0";
  ctx.strokeStyle = "rgba(255,255,255,0.08)";
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i += 1) {
    const y = pad.t + hgt - (hgt * i) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.l, y);
    ctx.lineTo(pad.l + w, y);
    ctx.stroke();
    const tick = (niceMax * i) / 4;
    ctx.fillText(niceMax < 4 ? tick.toFixed(2).replace(/\.?0+$/, "") : String(Math.round(tick)), 6, y + 4);
  }
  for (const secs of [0, 30, 60, 90, 120]) {
    const x = pad.l + w - (w * secs) / seconds;
    ctx.fillText(secs ? `-${secs}s` : "now", Math.min(x - 10, pad.l + w - 24), height - 6);
  }
  if (points.length < 2) return;
  const xOf = (t) => pad.l + w - (w * (now - t)) / seconds;
  const yOf = (r) => pad.t + hgt - (hgt * r) / niceMax;
  ctx.beginPath();
  points.forEach((p, i) => (i ? ctx.lineTo(xOf(p.t), yOf(p.rate)) : ctx.moveTo(xOf(p.t), yOf(p.rate))));
  ctx.strokeStyle = "#ffb703";
  ctx.lineWidth = 2.5;
  ctx.stroke();
  ctx.lineTo(xOf(points[points.length - 1].t), pad.t + hgt);
  ctx.lineTo(xOf(points[0].t), pad.t + hgt);
  ctx.closePath();
  ctx.fillStyle = "rgba(255,183,3,0.18)";
  ctx.fill();
}

function niceCeil(value) {
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= value) return m * exp;
  return 10 * exp;
}
