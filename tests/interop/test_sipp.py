"""SIPp (Debian's sip-tester) as a real SIP phone: it registers with the box, is refused,
and calls through it; judged by what a phone sees (status codes) and SIPp's call counts.

Each SIPp runs one scenario from `tests/interop/sipp/` (each file documents its messages)
for one call (`-m 1`), bounded by SIPp's own `-timeout` and by a timeout on the process.
Like the baresip tests these are plain (synchronous) tests, so `--looptime` leaves them
alone: a real box and real SIPp processes exchange UDP on 127.0.0.1 in real time. Every
wait is for a condition (a process exit, a box log line, a bound socket), never a pause.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.harness import office_toml
from tests.livebox import LiveBox, sip_port, start_box

SIPP = shutil.which("sipp")
REASON = None if SIPP else "sipp is not installed (Debian package sip-tester; .ci/run installs it)"
pytestmark = [pytest.mark.interop, pytest.mark.skipif(REASON is not None, reason=REASON or "")]

SCENARIOS = Path(__file__).resolve().parent / "sipp"
SECRETS = {"201": "secret-of-201", "202": "secret-of-202"}
RING_S = 2.0  # analog ring time: a call nobody answers ends in 2 s, not the default 30 s
OFFICE = office_toml("us", "".join(
    f'[[extension]]\nnumber = "{n}"\nname = "SIPp {n}"\ndevices = ["sip"]\nsecret = "{s}"\n'
    for n, s in SECRETS.items()) + f"\n[analog]\nring_timeout_s = {RING_S}\n")
SIPP_LIMIT_S = 15  # SIPp's own -timeout: a guard against a box that never answers
PROCESS_LIMIT_S = SIPP_LIMIT_S + 10  # and ours, should SIPp itself hang
# Headers that differ between any two transactions, whoever sends them.
PER_TRANSACTION = {"via", "from", "to", "call-id", "cseq"}


_handed_out: set[int] = set()  # never the same port twice: SIPps start close together


def free_udp_port(even: bool = False, block: int = 1) -> int:
    """A UDP port on loopback nobody uses now (an even one for RTP), with the `block` - 1
    ports after it free too: SIPp's -mp takes the port, +1 (RTCP) and +2, +3 (video)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        ports = range(port, port + block)
        if (even and port % 2) or any(p in _handed_out or udp_bound(p) for p in ports) \
                or port + block > 65536:
            continue
        _handed_out.update(ports)
        return port


def udp_bound(port: int) -> bool:
    """Whether some process has a UDP socket on `port` (Linux: /proc/net/udp)."""
    lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    return any(int(line.split()[1].split(":")[1], 16) == port for line in lines)


@dataclass(frozen=True)
class Message:
    """One SIP message SIPp received, from its -trace_msg file."""

    start: str
    headers: list[tuple[str, str]]

    @property
    def status(self) -> int | None:
        found = re.match(r"SIP/2\.0 (\d{3}) ", self.start)
        return int(found.group(1)) if found else None

    def header(self, name: str) -> str:
        return next(v for n, v in self.headers if n.lower() == name.lower())

    def looks(self) -> tuple[str, list[tuple[str, str]]]:
        """What stays once the transaction's own fields and the nonce are left out."""
        return self.start, [(n.lower(), re.sub(r'nonce="[^"]*"', 'nonce=""', v))
                            for n, v in self.headers if n.lower() not in PER_TRANSACTION]


def parse_received(trace: str, direction: str = "received") -> list[Message]:
    """The messages SIPp received (or, with direction="sent", sent) in a -trace_msg file."""
    messages = []
    for block in re.split(r"^-{20,} .*$", trace, flags=re.MULTILINE):
        head, _, text = block.strip().partition("\n")
        if f" message {direction} " not in head:
            continue
        start, *lines = text.strip().split("\n\n", 1)[0].splitlines()
        headers = [(n.strip(), v.strip()) for n, _, v in (x.partition(":") for x in lines)]
        messages.append(Message(start.strip(), headers))
    return messages


@dataclass(frozen=True)
class Outcome:
    returncode: int
    successful: int
    failed: int
    received: list[Message]
    sent: list[Message] = field(default_factory=list)

    @property
    def statuses(self) -> list[int]:
        """The status codes this SIPp received, in order (retransmissions included)."""
        return [m.status for m in self.received if m.status is not None]

    @property
    def requests(self) -> list[str]:
        """The methods of the requests this SIPp received, in order."""
        return [m.start.split()[0] for m in self.received if m.status is None]

    def response(self, status: int) -> Message:
        return next(m for m in self.received if m.status == status)


class Sipp:
    """One SIPp process with its own directory of traces, on loopback only."""

    def __init__(self, workdir: Path, name: str, scenario: str, *args: str,
                 box: LiveBox | None = None, port: int | None = None,
                 host: str = "127.0.0.1") -> None:
        self.name = name
        self.dir = workdir / name
        self.dir.mkdir()
        self.port = port or free_udp_port()
        # A UAC names the box; a UAS (no remote host) waits for what the box sends it.
        target = [f"127.0.0.1:{sip_port(box)}"] if box is not None else []
        self.argv = [
            SIPP or "sipp", *target, "-sf", str(SCENARIOS / scenario),
            "-i", host, "-p", str(self.port),
            "-mi", host, "-mp", str(free_udp_port(even=True, block=4)),
            "-cp", str(free_udp_port()), "-m", "1", "-nostdin",
            "-timeout", f"{SIPP_LIMIT_S}s", "-timeout_error",
            "-trace_msg", "-message_file", str(self.dir / "messages.log"),
            "-trace_stat", "-stf", str(self.dir / "stat.csv"),
            "-trace_screen", "-screen_file", str(self.dir / "screen.log"),
            "-trace_err", "-error_file", str(self.dir / "errors.log"),
            *args,
        ]
        with open(self.dir / "stderr.log", "wb") as err:
            self.proc = subprocess.Popen(self.argv, cwd=self.dir, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)

    def wait_listening(self) -> None:
        """Wait until SIPp has bound its SIP port (a UAS must, before the box calls it)."""
        deadline = time.monotonic() + PROCESS_LIMIT_S
        while not udp_bound(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"SIPp {self.name} never listened\n{self.report()}")
            time.sleep(0.01)  # polling the condition, not a pause

    def wait(self) -> Outcome:
        try:
            returncode = self.proc.wait(timeout=PROCESS_LIMIT_S)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"SIPp {self.name} did not finish\n{self.report()}") from None
        counts = self._counts()
        trace = self.dir / "messages.log"
        text = trace.read_text(errors="replace") if trace.exists() else ""
        return Outcome(returncode, counts.get("SuccessfulCall(C)", 0),
                       counts.get("FailedCall(C)", 0), parse_received(text),
                       parse_received(text, "sent"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def report(self) -> str:
        """SIPp's own account, for an assertion message."""
        parts = [" ".join(self.argv)]
        for name in ("errors.log", "stderr.log", "screen.log"):
            path = self.dir / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

    def _counts(self) -> dict[str, int]:
        """The cumulative counters of the last row of the -trace_stat file."""
        path = self.dir / "stat.csv"
        rows = [r for r in path.read_text().splitlines() if r.strip()] if path.exists() else []
        if len(rows) < 2:
            return {}
        pairs = zip(rows[0].split(";"), rows[-1].split(";"), strict=False)
        return {k: int(v) for k, v in pairs if k.endswith("Call(C)") and v.isdigit()}


class Phones:
    """The SIPp processes of one test, each in its own directory; all stopped at its end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[Sipp] = []

    def start(self, name: str, scenario: str, *args: str, box: LiveBox | None = None,
              port: int | None = None, host: str = "127.0.0.1") -> Sipp:
        process = Sipp(self.workdir, f"{len(self.started)}-{name}", scenario, *args,
                       box=box, port=port, host=host)
        self.started.append(process)
        return process

    def register(self, box: LiveBox, ext: str, password: str,
                 scenario: str = "register.xml", port: int | None = None) -> Outcome:
        return one_good_call(self.start(f"register-{ext}", scenario, "-s", ext, "-au", ext,
                                        "-ap", password, box=box, port=port))

    def stop(self) -> None:
        for process in self.started:
            process.stop()


def credentials(box: LiveBox, ext: str, number: str) -> list[str]:
    """SIPp's digest options for a call from `ext` to `number`. SIPp computes the digest
    over sip:HOST:PORT unless told otherwise; the box (rightly, RFC 2617 §3.2.2.5) wants
    the Request-URI, as real phones send it."""
    return ["-au", ext, "-ap", SECRETS[ext],
            "-auth_uri", f"{number}@127.0.0.1:{sip_port(box)}"]


def one_good_call(process: Sipp) -> Outcome:
    """What SIPp saw, once it has run its one call through to the scenario's end."""
    outcome = process.wait()
    assert (outcome.returncode, outcome.successful, outcome.failed) == (0, 1, 0), \
        process.report()
    return outcome


@pytest.fixture
def box() -> Iterator[LiveBox]:
    with start_box(office=OFFICE) as live:
        yield live


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[Phones]:
    started = Phones(tmp_path)
    try:
        yield started
    finally:
        started.stop()


def test_registers_with_digest_auth_after_a_challenge(box: LiveBox, phones: Phones) -> None:
    outcome = phones.register(box, "201", SECRETS["201"])
    assert outcome.statuses == [401, 200]
    assert outcome.response(401).header("WWW-Authenticate").startswith("Digest ")
    assert "expires=" in outcome.response(200).header("Contact")
    box.wait_for_log("event=register ext=201")


def test_wrong_password_and_unknown_extension_are_refused_alike(
        box: LiveBox, phones: Phones) -> None:
    wrong = phones.register(box, "202", "not-the-secret", "register_refused.xml")
    unknown = phones.register(box, "299", "any-password", "register_refused.xml")
    assert wrong.statuses == unknown.statuses == [401, 403]
    # A scanner learns nothing: the challenge and the refusal read the same, header for
    # header, but for the transaction's own fields and the fresh nonce.
    for status in (401, 403):
        assert wrong.response(status).looks() == unknown.response(status).looks()
    for _ in range(2):  # one line each (the log is read on, line by line)
        box.wait_for_log("event=register-refused")


def test_call_between_two_sipp_phones_is_set_up_and_torn_down(
        box: LiveBox, phones: Phones) -> None:
    # 202 registers from the port its UAS then listens on: the box calls it there.
    callee_port = free_udp_port()
    phones.register(box, "202", SECRETS["202"], port=callee_port)
    callee = phones.start("uas-202", "uas.xml", "-key", "callee", "202", port=callee_port)
    callee.wait_listening()
    caller = phones.start("uac-201", "uac.xml", "-key", "caller", "201", "-s", "202",
                          *credentials(box, "201", "202"), "-d", "500", box=box)
    placed = one_good_call(caller)
    answered = one_good_call(callee)
    assert [s for s in placed.statuses if s != 100] == [401, 180, 200, 200]  # ... BYE's 200
    assert answered.requests == ["INVITE", "ACK", "BYE"]
    box.wait_for_log("kind=relay")
    box.wait_for_log("event=bye channel=sip:201")


@pytest.mark.parametrize(("number", "status", "logged"), [
    ("999", 404, "event=unknown-number"),
    ("101", 480, "event=no-answer"),  # the analog phone on fxs:1 rings; nobody lifts it
], ids=["unknown-number", "analog-no-answer"])
def test_call_that_cannot_go_through_gets_the_right_error(
        box: LiveBox, phones: Phones, number: str, status: int, logged: str) -> None:
    caller = phones.start(f"uac-{number}", "uac_refused.xml", "-key", "caller", "201",
                          "-s", number, *credentials(box, "201", number), box=box)
    started = time.monotonic()
    outcome = one_good_call(caller)
    seen = [s for s in outcome.statuses if s != 100]
    assert seen == ([401, status] if status == 404 else [401, 180, status])
    if status == 480:
        assert time.monotonic() - started >= RING_S  # it rang its ring time first
    box.wait_for_log(logged)
