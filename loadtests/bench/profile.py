"""`python -m loadtests.bench.profile`: where a single vote's CPU goes, as a flame graph.

It serves the app on fresh stores, drives closed-loop single votes (the bench's own
generator) and samples the service process with py-spy (a sampling profiler from PyPI
that attaches to a running process, so the service runs unmodified). The flame graph
goes to `docs/img/vote-path-flame.svg` by default and the top frames are printed, so a
change to the vote path can be judged by what it removed, not only by the figure.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import click

from loadtests.bench.load import run_load, warm_process
from loadtests.bench.runner import SERVER_SETTINGS, open_contest
from loadtests.bench.server_secrets import server_secrets
from loadtests.bench.tally import LoadSpec
from service.core.config import REPO_ROOT
from tests.harness.server import serve
from tests.harness.stores import open_stores


@click.command()
@click.option("--seconds", type=float, default=20.0, show_default=True,
              help="How long votes are sampled.")
@click.option("--connections", type=int, default=64, show_default=True)
@click.option("--out", type=click.Path(), default=str(REPO_ROOT / "docs/img/vote-path-flame.svg"),
              show_default=True, help="The flame graph (SVG).")
def main(seconds: float, connections: int, out: str) -> None:
    """Profile the single-vote path of one service process under load."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise click.ClickException("py-spy is not installed: pip install py-spy")
    from service.contests.demo import DEMO_LINEUP, DEMO_VOTING_COUNTRIES

    folder = Path(tempfile.mkdtemp(prefix="silkvote-profile-"))
    stores = asyncio.run(open_stores(folder, prefix="silkvote_profile"))
    chosen = server_secrets("profile")
    secret = chosen["SIGNING_SECRET"]
    server = serve(stores, folder / "data", SERVER_SETTINGS | chosen)
    try:
        contest = open_contest(server, "profile")
        procs = 2
        start_at = time.time() + 2.0
        specs = [LoadSpec(kind="vote", host="127.0.0.1", port=server.port, start_at=start_at,
                          duration_s=seconds + 2, connections=connections // procs, worker=w,
                          signing_secret=secret, countries=tuple(DEMO_VOTING_COUNTRIES),
                          entries=tuple(c for c, _, _ in DEMO_LINEUP), contest=contest,
                          tag="profile")
                 for w in range(procs)]
        with ProcessPoolExecutor(procs) as pool:
            for future in [pool.submit(warm_process) for _ in range(procs)]:
                future.result()
            futures = [pool.submit(run_load, spec) for spec in specs]
            time.sleep(max(0.0, start_at + 1.0 - time.time()))
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            half = str(max(1, int(seconds / 2)))
            pid = str(server.proc.pid)
            # collapsed stacks, for grep: a by-product of the run, not documentation, so
            # not beside the graph in docs/ but in the temporary folder's parent
            collapsed = folder.parent / "silkvote-vote-path.stacks.txt"
            for fmt, target in (("raw", collapsed), ("flamegraph", Path(out))):
                subprocess.run([py_spy, "record", "--pid", pid, "--duration", half,
                                "--rate", "250", "--nonblocking", "--format", fmt,
                                "--output", str(target)], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            tallies = [f.result() for f in futures]
        # the graph's title is py-spy's command line: machine paths, not for the docs
        svg = Path(out).read_text()
        Path(out).write_text(svg.replace(svg[svg.find('<text id="title"'):].split("</text>")[0],
                                         '<text id="title" fill="rgb(0,0,0)" x="50.0000%" '
                                         'y="24.00">python -m loadtests.bench.profile', 1))
        click.echo(summary(collapsed.read_text()))
        accepted = sum(t.accepted for t in tallies)
        click.echo(f"{accepted:,} votes accepted in {seconds + 2:.0f} s; flame graph: {out}; "
                   f"collapsed stacks: {collapsed}")
    finally:
        server.stop()
        asyncio.run(stores.close())
        shutil.rmtree(folder, ignore_errors=True)


def summary(collapsed: str, top: int = 25) -> str:
    """The frames most samples pass through (inclusive share), by function and file."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        for frame in set(stack.split(";")):
            inclusive[frame.split(" (")[0] + " " + _where(frame)] += samples
    exclusive: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            leaf = stack.split(";")[-1]
            exclusive[leaf.split(" (")[0] + " " + _where(leaf)] += int(count)
    rows = [f"{n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    own = [f"{n / total:6.1%}  {frame}" for frame, n in exclusive.most_common(top)]
    return (f"{total:,} samples\nthrough (inclusive):\n" + "\n".join(rows)
            + "\nin (self):\n" + "\n".join(own))


def _where(frame: str) -> str:
    inside = frame.partition(" (")[2].rstrip(")")
    path = inside.split(":")[0]
    for marker in ("site-packages/", "/service/", "/loadtests/"):
        if marker in path:
            return "(" + path.split(marker, 1)[1] + ")"
    return "(" + Path(path).name + ")"


if __name__ == "__main__":
    main()
