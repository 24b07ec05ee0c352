"""The printable summary of an export: the seal, the result, substitutes and voids.

Written twice from the same facts: `summary.html` (any browser prints it, every script
and language shows) and `summary.pdf` through fpdf2, a pure-Python PDF writer with no
system libraries (reportlab would do too; fpdf2 is smaller and embeds TrueType fonts
for Cyrillic and CJK names). The PDF uses DejaVu Sans when the system has it, else the
PDF core font, where characters outside Latin-1 print as `?` (the HTML keeps them).
"""

from __future__ import annotations

import html
from pathlib import Path

import msgspec

from scoring import PointSet, Result
from service.contests.models import Contest
from service.verify import package as files
from service.verify.statement import Seal

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class SummaryFacts(msgspec.Struct, kw_only=True):
    contest: Contest
    seal: Seal
    result_json: str
    scope: str | None  # a voting country for a breakdown, None for the whole ledger
    channels: dict[str, int]
    voids: dict[str, int]  # reason -> votes


def _sections(facts: SummaryFacts) -> list[tuple[str, list[str]]]:
    """(heading, lines): the one text both formats print."""
    result = msgspec.json.decode(facts.result_json, type=Result)
    st = facts.seal.statement
    scope = f"breakdown for {facts.scope}" if facts.scope else "whole ledger"
    seal = [f"Contest: {facts.contest.name} ({facts.contest.id}), {scope}",
            f"Fingerprint: {facts.seal.fingerprint}", f"Root: {st.root}",
            f"Sealed at: {st.sealed_at.isoformat()}",
            f"Records: {st.records} ({st.votes} votes, {st.ballots} jury ballots)",
            f"Public key (Ed25519): {facts.seal.public_key}",
            "Check it: silkvote audit <this folder>"]
    channels = [f"{name}: {n}" for name, n in sorted(facts.channels.items())] or ["none"]
    voids = [f"{n} votes void: {reason}" for reason, n in sorted(facts.voids.items())]
    sets: list[PointSet] = [s for s in result.sets
                            if facts.scope is None or s.from_ == facts.scope]
    subs = [f"{s.from_} {s.body}: {s.note or 'substitute set'}" for s in result.sets
            if s.substitute and (facts.scope is None or s.from_ == facts.scope)]
    board = [f"{line.place}. {line.country}  {line.total} (jury {line.jury}, "
             f"televote {line.televote})" for line in result.scoreboard]
    set_lines = [f"{s.from_} {s.body}: " + ", ".join(
        f"{country} {points}" for country, points in s.points.items()) for s in sets]
    return [("Seal", seal), ("Votes by channel", channels),
            ("Voids", voids or ["no vote is void"]),
            ("Substitute jury sets", subs or ["none"]),
            ("Scoreboard", board), ("Sets", set_lines or ["none"])]


def render_html(facts: SummaryFacts) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>Sealed result — {html.escape(facts.contest.name)}</title>",
             "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}"
             "code{word-break:break-all}</style></head><body>",
             f"<h1>{html.escape(facts.contest.name)}: sealed result</h1>"]
    for heading, lines in _sections(facts):
        parts.append(f"<h2>{html.escape(heading)}</h2><ul>")
        parts += [f"<li>{html.escape(line)}</li>" for line in lines]
        parts.append("</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)


def render_pdf(facts: SummaryFacts) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import WrapMode, XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    unicode_font = DEJAVU.is_file()
    if unicode_font:
        pdf.add_font("DejaVu", fname=str(DEJAVU))
    family = "DejaVu" if unicode_font else "Helvetica"

    def line(value: str, height: float) -> None:
        # back to the left margin after each cell (fpdf2 stays right of it otherwise,
        # and a full-width cell there would have no width at all)
        shown = value if unicode_font else value.encode("latin-1", "replace").decode("latin-1")
        pdf.multi_cell(0, height, shown, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)

    pdf.set_font(family, size=16)
    line(f"{facts.contest.name}: sealed result", 9)
    for heading, lines in _sections(facts):
        pdf.set_font(family, size=12)
        pdf.ln(2)
        line(heading, 7)
        pdf.set_font(family, size=9)
        for text in lines:
            line(text, 5)
    return bytes(pdf.output())


def write_summaries(folder: Path, facts: SummaryFacts) -> list[Path]:
    html_path, pdf_path = folder / files.SUMMARY_HTML, folder / files.SUMMARY_PDF
    html_path.write_text(render_html(facts), encoding="utf-8")
    pdf_path.write_bytes(render_pdf(facts))
    return [html_path, pdf_path]
