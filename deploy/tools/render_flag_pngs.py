"""Render service/graphics/flags/*.svg to PNG (300×200) in Chromium, for graphics systems
that take only raster images (vMix title image fields). Run after make_flags.mjs:

    .venv/bin/python deploy/tools/render_flag_pngs.py
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import sync_playwright

FLAGS = Path(__file__).resolve().parents[2] / "service" / "graphics" / "flags"
UNKNOWN = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 20">'
           '<rect width="30" height="20" rx="1.5" fill="#3a3f63"/></svg>')


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
        page = browser.new_page(viewport={"width": 300, "height": 200})
        sources = {p.stem: p.read_text() for p in sorted(FLAGS.glob("*.svg"))}
        sources["unknown"] = UNKNOWN
        for code, svg in sources.items():
            page.set_content('<html><body style="margin:0;background:transparent">'
                             f'<div style="width:300px;height:200px">{svg}</div></body></html>')
            page.eval_on_selector("svg", "s => { s.setAttribute('width', '300');"
                                  " s.setAttribute('height', '200'); }")
            page.screenshot(path=str(FLAGS / f"{code}.png"), omit_background=True,
                            clip={"x": 0, "y": 0, "width": 300, "height": 200})
        browser.close()
        print(f"{len(sources)} PNG flags written to {FLAGS}")


if __name__ == "__main__":
    main()
