// Writes service/graphics/flags/CC.svg from service/web/static/flags.js (one drawing of each flag).
// node service/graphics/flags/make_flags.mjs service/web/static/flags.js service/graphics/flags
// then: .venv/bin/python deploy/tools/render_flag_pngs.py (PNG copies, rendered in Chromium).
import { readFileSync, writeFileSync } from "node:fs";
const src = readFileSync(process.argv[2], "utf8") + "\nexport { FLAGS };\n";
const tmp = "/tmp/flags_copy.mjs";
writeFileSync(tmp, src);
const { FLAGS } = await import(tmp);
for (const [code, body] of Object.entries(FLAGS)) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 20" width="300" height="200" preserveAspectRatio="none">${body}</svg>\n`;
  writeFileSync(`${process.argv[3]}/${code}.svg`, svg);
}
console.log(Object.keys(FLAGS).length);
