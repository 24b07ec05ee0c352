"""Kannel on loopback for the SMS tests: bearerbox with a fake SMSC, smsbox forwarding
every message to SilkVote's SMS route, and Kannel's own `fakesmsc` as the phone network.

Config files go to a temporary folder, ports are free ones, and the processes are
stopped by their PIDs. `fakesmsc` reads one message a line on stdin; it sends each
line before it reads the next, so the harness writes a line once the previous one is
sent (its debug log says so), and collects the replies the gateway sends back (the
MT messages fakesmsc logs as "Got message N: <sender receiver type text>").
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import psutil

from tests.harness.server import free_port
from tests.harness.waiting import wait_until

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
SHORT_CODE = "7777"
_SENT = re.compile(r"fakesmsc: sent message (\d+)")
_GOT = re.compile(r"Got message \d+: <(\S+) (\S+) (\S+) (.*)>$")


def kannel_installed() -> bool:
    return all(Path(p).is_file() for p in (BEARERBOX, SMSBOX, FAKESMSC)) or bool(
        shutil.which("bearerbox") and shutil.which("smsbox") and Path(FAKESMSC).is_file())


def kannel_conf(folder: Path, *, admin_port: int, box_port: int, smsc_port: int,
                post_url: str) -> str:
    """The one configuration file both boxes read (docs/sms.md explains each line)."""
    return f"""
group = core
admin-port = {admin_port}
admin-password = test-admin
admin-interface = 127.0.0.1
smsbox-port = {box_port}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "{folder}/bearerbox.log"
log-level = 1

group = smsc
smsc = fake
smsc-id = fake
our-host = 127.0.0.1
port = {smsc_port}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box_port}
log-file = "{folder}/smsbox.log"
log-level = 1
http-request-retry = 3
http-queue-delay = 1
max-pending-requests = 64

group = sms-service
keyword = default
post-url = "{post_url}"
send-sender = true
accept-x-kannel-headers = true
max-messages = 3
concatenation = true
omit-empty = true
"""


@dataclass
class Reply:
    sender: str  # the short code
    receiver: str  # the phone the reply goes to
    text: str


@dataclass
class Kannel:
    folder: Path
    box_port: int
    smsc_port: int
    attempts: int = 1  # how many starts it took (a port taken in between costs one)
    boxes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        for proc in reversed(self.boxes):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.boxes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self) -> str:
        """The boxes' output and log files, the tail of each under its name."""
        return "\n".join(f"--- {p.name} ---\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.folder.glob("*.out"))
                         + sorted(self.folder.glob("*.log")))


START_ATTEMPTS = 3
START_WITHIN_S = 30  # per box; generous, as the CI host runs two test workers beside it


def start_kannel(folder: Path, post_url: str, *,
                 pick_port: Callable[[], int] = free_port) -> Kannel:
    """bearerbox, then smsbox connected to it, answering once the fake SMSC listens.

    The ports are picked free before bearerbox binds them, so one can be taken in
    between; bearerbox then panics and exits, and it is started again on fresh ports
    (each try in a folder of its own, so its logs say what that try saw)."""
    for attempt in range(1, START_ATTEMPTS + 1):
        kannel = _launch_bearerbox(folder / f"try-{attempt}", post_url, pick_port, attempt)
        bearerbox = kannel.boxes[0]
        try:
            wait_until(partial(_settled, bearerbox, kannel.box_port), START_WITHIN_S,
                       "bearerbox to listen for smsbox")
            if bearerbox.poll() is None:
                _start_smsbox(kannel)
                return kannel
        except AssertionError as exc:
            kannel.stop()
            raise RuntimeError(f"{exc}\n{kannel.logs()}") from None
        except BaseException:
            kannel.stop()
            raise
        kannel.stop()  # exited: reaped, and the next try gets fresh ports
    raise RuntimeError(f"bearerbox exited at start {START_ATTEMPTS} times; the last "
                       f"try's logs:\n{kannel.logs()}")


def _settled(bearerbox: subprocess.Popen[bytes], box_port: int) -> bool:
    """bearerbox listens for smsbox, or has exited (a port it needed was taken)."""
    return bearerbox.poll() is not None or listens(bearerbox, box_port)


def _launch_bearerbox(folder: Path, post_url: str, pick_port: Callable[[], int],
                      attempt: int) -> Kannel:
    folder.mkdir(parents=True, exist_ok=True)
    admin_port, box_port, smsc_port = pick_port(), pick_port(), pick_port()
    conf = folder / "kannel.conf"
    conf.write_text(kannel_conf(folder, admin_port=admin_port, box_port=box_port,
                                smsc_port=smsc_port, post_url=post_url))
    kannel = Kannel(folder, box_port, smsc_port, attempt)
    with (folder / "boxes.out").open("ab") as out:
        kannel.boxes.append(subprocess.Popen([BEARERBOX, str(conf)], stdout=out, stderr=out))
    return kannel


def _start_smsbox(kannel: Kannel) -> None:
    conf, log = kannel.folder / "kannel.conf", kannel.folder / "smsbox.log"
    with (kannel.folder / "boxes.out").open("ab") as out:
        kannel.boxes.append(subprocess.Popen([SMSBOX, str(conf)], stdout=out, stderr=out))
    wait_until(lambda: log.exists() and "connected to bearerbox" in log.read_text(
        errors="replace").lower(), START_WITHIN_S, "smsbox to connect to bearerbox")
    wait_until(lambda: listens(kannel.boxes[0], kannel.smsc_port), START_WITHIN_S,
               "the fake SMSC to listen")


def listens(proc: subprocess.Popen[bytes], port: int) -> bool:
    """`proc` itself listens on `port`: a connect would also succeed to whoever took the
    port first, which is the case this has to tell apart."""
    try:
        return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port
                   for c in psutil.Process(proc.pid).net_connections("tcp"))
    except psutil.NoSuchProcess:
        return False


def decode_reply(kind: str, data: str) -> str:
    if kind == "text":
        return data
    raw = urllib.parse.unquote_to_bytes(data.replace("+", "%20"))  # Kannel's url-encoding
    return raw.decode("utf-16-be" if kind == "ucs-2" else "utf-8", errors="replace")


class PhoneNetwork:
    """Kannel's fakesmsc: sends MO lines, collects the MT replies."""

    def __init__(self, kannel: Kannel) -> None:
        self.proc = subprocess.Popen(
            [FAKESMSC, "-H", "127.0.0.1", "-r", str(kannel.smsc_port), "-i", "0"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.sent = 0
        self.replies: list[Reply] = []
        self._parts: dict[tuple[str, int], dict[int, bytes]] = {}
        self._lock = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self._lock:
                if (sent := _SENT.search(line)) is not None:
                    self.sent = int(sent.group(1))
                elif (got := _GOT.search(line)) is not None:
                    self._got(got.group(1), got.group(2), got.group(3), got.group(4))
                self._lock.notify_all()

    def _got(self, sender: str, receiver: str, kind: str, data: str) -> None:
        """One MT line; a part of a concatenated reply waits for its siblings (the UDH's
        reference, count and number; Kannel splits only UCS-2 replies here)."""
        if kind != "udh":
            self.replies.append(Reply(sender, receiver, decode_reply(kind, data)))
            return
        udh_text, _, body = data.partition(" data ")
        udh = urllib.parse.unquote_to_bytes(udh_text.replace("+", "%20"))
        ref, total, number = ((udh[3], udh[4], udh[5]) if udh[1] == 0 else
                              (udh[3] << 8 | udh[4], udh[5], udh[6]))
        parts = self._parts.setdefault((receiver, ref), {})
        parts[number] = urllib.parse.unquote_to_bytes(body.replace("+", "%20"))
        if len(parts) == total:
            del self._parts[(receiver, ref)]
            raw = b"".join(parts[i] for i in sorted(parts))
            self.replies.append(Reply(sender, receiver, raw.decode("utf-16-be", "replace")))

    def send(self, sender: str, text: str, timeout_s: float = 10) -> None:
        """One MO message from `sender` to the show's short code."""
        assert self.proc.stdin is not None and "\n" not in text
        target = self.sent + 1
        self.proc.stdin.write(f"{sender} {SHORT_CODE} text {text}\n".encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self.sent < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fakesmsc did not send message {target}")
                self._lock.wait(left)

    def wait_replies(self, count: int, timeout_s: float) -> list[Reply]:
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while len(self.replies) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.replies)} of {count} replies arrived")
                self._lock.wait(left)
            return list(self.replies)

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait()
