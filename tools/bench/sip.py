"""SIP benchmarks, driven by SIPp: call setup rate, relayed G.711 calls, decoded analog calls.

The box runs as its own process (`main.py`, as in production) on 127.0.0.1 with a temporary
board and office config; SIPp (3.6, with RTPSTREAM) plays the phones, from the scenarios in
`tools/bench/sipp/` (each one documents its messages). CPU and memory are read from /proc.
Figures are medians of --runs runs; every load is bounded in calls and seconds, and every
process started here is stopped, by its pid. The machine may be shared: before each
measurement the benchmark waits while other processes keep it busy (--wait-quiet s in all),
and it reports their CPU during the measurements ("others").

1. Call setup rate. A SIPp UAS registers as extension 202 (`register.xml`, digest auth) and
   answers what the box sends it (`uas.xml`); a SIPp UAC, extension 201, places short calls
   to 202 through the box (`uac.xml`: INVITE, 401, ACK, INVITE with credentials, 180, 200,
   ACK, --pause-ms, BYE). A step passes when < 1 % of its calls failed (or were not placed
   before SIPp's time limit) and they completed at >= 90 % of the rate asked for.
   - Burst: fixed rates rising step by step (--rates), each step on a fresh box, at most
     --calls calls and about --step-seconds long, until a step fails; then --refine
     bisection steps between the last rate that passed and the first that failed.
   - Sustained: the median burst rate held for --soak seconds on a fresh box. SIP
     transactions linger up to 64*T1 = 32 s, so only past that does the box carry as many
     as it ever will at that rate: the steady window (35 s to the end) must reach 90 % of
     the rate too. A soak that fails is retried lower (--soak-tries soaks in all).
   - Direct: the same UAC calling a SIPp UAS without the box (`uas_direct.xml`, which also
     challenges the first INVITE), rates doubling from the box's first failing rate up to
     --direct-max: the load generator's own ceiling, in the same run.
2. Relay. N concurrent SIP-to-SIP calls for each N of --relay, set up at --ramp calls/s
   (`uac_rtp.xml`: the caller streams a PCMU tone, 20 ms packets, for the whole call; the
   UAS runs `-rtp_echo`, so every packet crosses the box twice). From --settle s after the
   last call is up, --windows windows of --seconds: box CPU % of one core and per relayed
   packet, RSS. Loss at the box: packets it read but did not relay (its `call event=rtp ...
   received= sent=` lines at hang-up) plus datagrams the kernel dropped at its sockets
   (/proc/net/udp); also the round trip UAC -> box -> UAS echo -> box -> UAC, which counts
   the packets in flight when each call starts and ends. The same calls SIPp to SIPp
   without the box give SIPp's own CPU, the reference.
3. SIP to analog, decoded. --analog SIPp callers at once to the virtual board's extensions
   101...; the analog phones answer through the control socket and talk (a tone), the SIP
   side streams PCMU: box CPU per decoded call, less the board's idle CPU.

    python -m tools.bench.sip                       # everything, about 10 minutes
    python -m tools.bench.sip --quick               # one run of each, about 5 minutes
    python -m tools.bench.sip --only setup --runs 1 --soak 0 -v
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import pstats
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from firmware.media.g711 import ulaw_encode
from tools.bench.frames import cpu_seconds, peak_rss_mb
from tools.phone.client import ControlClient, Unreachable
from tools.phone.handset import VirtualPhone, sine_tone

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).resolve().parent / "sipp"
HOST = "127.0.0.1"
CALLER, CALLED = "201", "202"
SECRETS = {CALLER: "bench-secret-201", CALLED: "bench-secret-202"}
TONE_FILE = "bench-tone.pcmu"  # what uac_rtp.xml streams; SIPp runs in its directory
RATES = (10, 50, 100, 200, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000)
PORTS = (20010, 30000)  # SIPp's SIP and media ports: below Linux's ephemeral range, above
                        # the box's RTP range (10000-20000)
SIPP_BUFFER = str(4 * 1024 * 1024)
BROKEN_WAIT_S = 60.0
STEADY_FROM_S = 35.0  # 64*T1 (32 s) after the first calls, plus a little
DIRECT_RAMP = 200  # calls/s: SIPp to SIPp sets up thousands a second
CPUS = os.cpu_count() or 1
NAN = float("nan")
# --quick: one run of each, fewer and shorter windows
QUICK = {"runs": 1, "relay": [100, 200], "settle": 10.0, "windows": 2, "seconds": 5.0,
         "step_seconds": 3.0, "analog": 2}
T = TypeVar("T")


# -- processes ----------------------------------------------------------------------------


class Sipp:
    """One SIPp process, run in `cwd` (its trace files go there), stopped by `stop()`."""

    def __init__(self, name: str, args: list[str], cwd: Path) -> None:
        self.name = name
        self.cwd = cwd
        cwd.mkdir(parents=True, exist_ok=True)
        self.args = ["sipp", *args, "-nostdin", "-buff_size", SIPP_BUFFER,
                     "-trace_err", "-error_file", str(cwd / f"{name}_errors.log"),
                     "-trace_stat", "-stf", str(cwd / f"{name}_stat.csv"), "-fd", "1"]
        with open(cwd / f"{name}.stderr", "wb") as err:
            self.proc = subprocess.Popen(self.args, cwd=cwd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)
        self.returncode: int | None = None
        self.cpu_s = 0.0  # user + system of the whole process, once it has exited
        self.wall_s = 0.0
        self._t0 = time.perf_counter()
        _live.add(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def age(self) -> float:
        return time.perf_counter() - self._t0

    def poll(self) -> bool:
        """True once it has exited (reaped here, with its CPU time)."""
        if self.returncode is not None:
            return True
        pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
        if pid == 0:
            return False
        self.wall_s = self.age()
        self.returncode = os.waitstatus_to_exitcode(status)
        self.proc.returncode = self.returncode
        self.cpu_s = usage.ru_utime + usage.ru_stime
        _live.discard(self)
        return True

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while not self.poll():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"SIPp {self.name} did not finish within {timeout:.0f} s"
                                   f" ({self.cwd})")
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def cpu_now(self) -> float:
        return cpu_seconds(self.pid) if self.returncode is None else self.cpu_s

    def stop(self, grace_s: float = 3.0) -> None:
        """SIPp quits once its calls are over; killed after `grace_s`. A UAS has nothing
        to finish once its UAC is done (its calls only wait out their timewait)."""
        if self.poll():
            return
        self.proc.send_signal(signal.SIGUSR1)  # SIPp: stop placing calls and quit
        deadline = time.monotonic() + grace_s
        while not self.poll():
            if time.monotonic() > deadline:
                self.proc.kill()
                deadline += 5
            time.sleep(0.02)

    def stats(self) -> dict[str, str]:
        """The last complete row of its -trace_stat file (`...(C)`: cumulative counters);
        SIPp may be writing the very last line."""
        path = self.cwd / f"{self.name}_stat.csv"
        rows = [r.split(";") for r in path.read_text(errors="replace").splitlines() if r.strip()]
        if len(rows) < 2:
            return {}
        full = [r for r in rows[1:] if len(r) >= len(rows[0]) - 1]
        return dict(zip(rows[0], full[-1], strict=False)) if full else {}

    def bind_failed(self) -> bool:
        path = self.cwd / f"{self.name}_errors.log"
        return path.exists() and "Address already in use" in path.read_text(errors="replace")

    def errors(self) -> Counter[str]:
        """Why calls failed, from its error log: what was expected and what came."""
        path = self.cwd / f"{self.name}_errors.log"
        reasons: Counter[str] = Counter()
        if not path.exists():
            return reasons
        text = path.read_text(errors="replace")
        for m in re.finditer(r"Aborting call on unexpected message for Call-Id '[^']*': while "
                             r"expecting '([^']*)' \(index \d+\), received '([^\r\n]*)", text):
            reasons[f"expected {m[1]}, got {m[2].strip()}"] += 1
        for m in re.finditer(r"(Aborting call on an unexpected \w+|Call-Id '[^']*' timed out"
                             r"|Max retransmission[^\r\n:]*|[^\r\n]*timeout[^\r\n]*)", text):
            reasons[re.sub(r"'[^']*'|[0-9a-f-]+@\S+", "...", m[1]).strip()] += 1
        return reasons


class Box:
    """The box as its own process, with a temporary board and office config."""

    profile: Path | None = None  # --profile: run the box under cProfile, into this file

    def __init__(self, work: Path, fxs: int, args: argparse.Namespace) -> None:
        self.work = work
        self.sip_port = free_port()
        work.mkdir(parents=True, exist_ok=True)
        (work / "board.toml").write_text(bench_board(fxs))
        (work / "office.toml").write_text(bench_office(fxs, self.sip_port))
        env = {**os.environ, "PBX_NO_UVLOOP": "1"} if args.asyncio else dict(os.environ)
        self.log_path = work / "box.log"
        with open(self.log_path, "wb") as err:
            profiler = [] if Box.profile is None else ["-m", "cProfile", "-o", str(Box.profile)]
            self.proc = subprocess.Popen(
                [sys.executable, *profiler, str(ROOT / "main.py"),
                 "--board", str(work / "board.toml"),
                 "--config", str(work / "office.toml"), "--state-dir", str(work / "state"),
                 "--log-level", args.log_level],
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        _live.add(self)
        try:
            self._wait_up()
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def control_path(self) -> str:
        return str(self.work / "state" / "control.sock")

    def _wait_up(self) -> None:
        """Until the box answers an OPTIONS (it needs no authentication)."""
        deadline = time.monotonic() + 30
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((HOST, 0))
            s.settimeout(0.1)
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the box exited with status {self.proc.returncode}:\n"
                                       + self.log()[-2000:])
                s.sendto(options_request(s.getsockname()[1], self.sip_port),
                         (HOST, self.sip_port))
                try:
                    if s.recv(4096).startswith(b"SIP/2.0 200"):
                        return
                except TimeoutError:
                    pass
        raise RuntimeError("the box did not answer SIP within 30 s")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def count(self, needle: str) -> int:
        return self.log().count(needle)

    def problems(self) -> list[str]:
        """Its WARNING/ERROR lines (a traceback counts once, by its last line)."""
        lines = self.log().splitlines()
        out = []
        for i, line in enumerate(lines):
            if not re.search(r" (WARNING|ERROR|CRITICAL) ", line):
                continue
            last = line
            for follow in lines[i + 1:]:
                if re.match(r"\d{4}-\d\d-\d\d ", follow):
                    break
                last = follow
            out.append(line.split(" ", 2)[2] + (f"  [{last.strip()}]" if last != line else ""))
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        _live.discard(self)


_live: set[Sipp | Box] = set()


def stop_all() -> None:
    for p in list(_live):
        p.stop()


def free_port(span: int = 1, even: bool = False) -> int:
    """A port (and the `span - 1` after it) free for UDP and TCP on HOST."""
    for _ in range(500):
        port = random.randrange(PORTS[0], PORTS[1] - span)
        port -= port % 2 if even else 0
        socks = []
        try:
            for p in range(port, port + span):
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    s = socket.socket(socket.AF_INET, kind)
                    socks.append(s)
                    s.bind((HOST, p))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return port
    raise RuntimeError("no free port")


def media_port() -> int:
    return free_port(3, even=True)  # SIPp takes RTP, RTCP and the next one


# -- configs and SIPp command lines ---------------------------------------------------------


def options_request(local_port: int, box_port: int) -> bytes:
    tag = random.getrandbits(48)
    return (f"OPTIONS sip:{HOST}:{box_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {HOST}:{local_port};branch=z9hG4bK{tag:x};rport\r\n"
            f"From: <sip:bench@{HOST}>;tag={tag:x}\r\nTo: <sip:{HOST}:{box_port}>\r\n"
            f"Call-ID: {tag:x}@{HOST}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n").encode()


def bench_board(fxs: int) -> str:
    ports = "".join(f"[[fxs]]\nport = {n}\n" for n in range(1, fxs + 1))
    return f'name = "Bench board"\nbackend = "sim"\n{ports}'


def bench_office(fxs: int, sip_port: int) -> str:
    analog = "".join(f'[[extension]]\nnumber = "{100 + n}"\nname = "Analog {n}"\n'
                     f'devices = ["fxs:{n}"]\n' for n in range(1, fxs + 1))
    sip = "".join(f'[[extension]]\nnumber = "{ext}"\nname = "SIPp {ext}"\ndevices = ["sip"]\n'
                  f'secret = "{secret}"\n' for ext, secret in SECRETS.items())
    return (f'[site]\ncountry = "us"\ntimezone = "UTC"\n[sip]\nlisten = "{HOST}:{sip_port}"\n'
            f"{analog}{sip}")


def write_tone(path: Path) -> None:
    """One second of 425 Hz at -10 dBm0 in raw u-law: what SIPp's rtp_stream loops."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ulaw_encode(sine_tone(425, 1000)))


def uac_args(target_port: int, number: str, scenario: str = "uac.xml") -> list[str]:
    return [f"{HOST}:{target_port}", "-sf", str(SCENARIOS / scenario), "-s", number,
            "-au", CALLER, "-ap", SECRETS[CALLER],
            # SIPp computes the digest over sip:REMOTE by default; the box checks that the
            # digest's uri is the Request-URI (RFC 2617 3.2.2.5) and counts anything else as
            # a failed login (five ban the address), so name it.
            "-auth_uri", f"{number}@{HOST}:{target_port}",
            "-i", HOST, "-p", str(free_port()), "-mi", HOST, "-mp", str(media_port()),
            "-trace_error_codes"]


def launch(name: str, make_args: Callable[[], list[str]], cwd: Path) -> Sipp:
    """SIPp on ports found free; on other ones if another process of this shared machine
    bound one of them first (SIPp exits at once: "Address already in use")."""
    for _ in range(3):
        sipp = Sipp(name, make_args(), cwd)
        time.sleep(0.1)  # it binds its sockets first thing
        if not (sipp.poll() and sipp.bind_failed()):
            return sipp
    raise RuntimeError(f"SIPp {name} found no free port three times ({cwd})")


def register(box: Box, ext: str, port: int, cwd: Path) -> None:
    sipp = Sipp(f"register-{ext}", [
        f"{HOST}:{box.sip_port}", "-sf", str(SCENARIOS / "register.xml"), "-s", ext,
        "-au", ext, "-ap", SECRETS[ext], "-i", HOST, "-p", str(port), "-m", "1",
        "-timeout", "10s"], cwd)
    if sipp.wait(20) != 0:
        raise RuntimeError(f"extension {ext} did not register: {dict(sipp.errors())}; "
                           f"box: {box.problems()[:3]}")


def start_uas(scenario: str, port: int, cwd: Path, echo: bool) -> Sipp:
    # its SIP port is fixed (registered, or the UAC's target): no launch() retry
    uas = Sipp("uas", ["-sf", str(SCENARIOS / scenario), "-i", HOST, "-p", str(port),
                       "-mi", HOST, "-mp", str(media_port()), "-aa",
                       *(["-rtp_echo", "-rtp_buffsize", SIPP_BUFFER] if echo else [])], cwd)
    time.sleep(0.3)  # SIPp binds its sockets; nothing to wait on
    if uas.poll():
        raise RuntimeError(f"SIPp UAS exited at once ({uas.returncode}): see {cwd}")
    return uas


def box_with_uas(args: argparse.Namespace, work: Path, echo: bool = False) -> tuple[Box, Sipp]:
    """A fresh box with extension 202 registered from the port its SIPp UAS listens on."""
    box = Box(work / "box", 0, args)
    try:
        uas_port = free_port()
        register(box, CALLED, uas_port, work)
        return box, start_uas("uas.xml", uas_port, work / "uas", echo)
    except BaseException:
        box.stop()
        raise


# -- readings -------------------------------------------------------------------------------


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs, from /proc/stat (guest time is in user already)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]
    return float(sum(fields) - idle), float(sum(fields))


class MachineMeter:
    """CPU of the whole machine since it was made, in % of one core. The machine is
    shared: less what our processes used, it is the load of others during a measurement."""

    def __init__(self) -> None:
        self._busy, self._total = machine_busy()

    def pct(self) -> float:
        busy, total = machine_busy()
        return (busy - self._busy) / max(total - self._total, 1) * CPUS * 100


class QuietGate:
    """Before a measurement, wait while other processes keep the machine busy; the waits of
    a whole benchmark share one budget, so a busy machine delays it only so much."""

    def __init__(self, budget_s: float = 0.0, threshold_pct: float = 25.0) -> None:
        self.budget_s = budget_s
        self.threshold_pct = threshold_pct
        self.waited_s = 0.0

    def wait(self) -> None:
        while self.waited_s < self.budget_s:
            meter = MachineMeter()
            time.sleep(0.5)  # nothing of ours runs: all the load is others'
            if meter.pct() < self.threshold_pct:
                return
            self.waited_s += 0.5


quiet = QuietGate()  # set from the command line


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return NAN


def socket_drops(pid: int) -> int:
    """Datagrams the kernel dropped at the process's UDP sockets (full receive buffer)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    drops = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[9] in inodes:
                drops += int(f[12])
    return drops


@dataclass
class Legs:
    """The box's RTP counters of one side's SIP legs, summed from its hang-up lines."""

    legs: int = 0
    received: int = 0
    sent: int = 0
    dropped: int = 0


def rtp_counters(box: Box) -> dict[str, Legs]:
    """By extension: `call event=rtp channel=sip:201/7 received= sent= dropped=`."""
    sums: dict[str, Legs] = {}
    for m in re.finditer(r"event=rtp channel=sip:(\w+)/\d+ received=(\d+) sent=(\d+) "
                         r"dropped=(\d+)", box.log()):
        s = sums.setdefault(m[1], Legs())
        s.legs += 1
        s.received += int(m[2])
        s.sent += int(m[3])
        s.dropped += int(m[4])
    return sums


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)  # polls logs and /proc: nothing to wait on
    return True


def parse_ms(value: str | None) -> float:
    """SIPp's hh:mm:ss:micro."""
    if not value:
        return NAN
    h, m, s, us = (int(x) for x in value.split(":"))
    return ((h * 60 + m) * 60 + s) * 1000 + us / 1000


def error_codes(cwd: Path) -> dict[str, int]:
    """SIP status codes SIPp did not expect (-trace_error_codes), by code."""
    codes: Counter[str] = Counter()
    for path in cwd.glob("*_error_codes.csv"):
        for line in path.read_text(errors="replace").splitlines():
            codes.update(c.strip() for c in line.rsplit(";", 1)[-1].split(",") if c.strip())
    return dict(codes)


# -- 1. call setup rate --------------------------------------------------------------------


@dataclass
class Steady:
    """A soak's window past 64*T1: calls completed and the box's CPU in it."""

    seconds: float
    ok: int
    box_cpu_s: float

    @property
    def achieved(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else NAN

    @property
    def box_cpu_pct(self) -> float:
        return self.box_cpu_s / self.seconds * 100

    @property
    def box_ms_per_call(self) -> float:
        return self.box_cpu_s / max(self.ok, 1) * 1000


@dataclass
class Step:
    """`calls` short calls placed at a fixed `rate`."""

    rate: int
    calls: int
    ok: int
    failed_calls: int  # the others were not placed before SIPp's -timeout
    wall_s: float
    pause_ms: int
    setup_ms: float
    retrans: int
    box_cpu_s: float
    uac_cpu_s: float
    uas_cpu_s: float
    codes: dict[str, int]
    reasons: dict[str, int]
    machine_pct: float
    steady: Steady | None = None
    problems: list[str] = field(default_factory=list)
    banned: bool = False

    @property
    def failed(self) -> float:
        """Calls not completed: failed, or not placed in time (the box too slow)."""
        return (self.calls - self.ok) / self.calls

    @property
    def achieved(self) -> float:
        return self.ok / max(self.wall_s - self.pause_ms / 1000, 1e-3)

    @property
    def box_cpu_pct(self) -> float:
        return self.box_cpu_s / self.wall_s * 100

    @property
    def box_ms_per_call(self) -> float:
        return self.box_cpu_s / max(self.ok, 1) * 1000

    @property
    def others_pct(self) -> float:
        ours = self.box_cpu_s + self.uac_cpu_s + self.uas_cpu_s
        return max(0.0, self.machine_pct - ours / self.wall_s * 100)  # jiffies: noisy

    @property
    def passed(self) -> bool:
        steady_ok = self.steady is None or self.steady.achieved >= 0.9 * self.rate
        return self.failed < 0.01 and self.achieved >= 0.9 * self.rate and steady_ok


def run_step(target_port: int, rate: int, calls: int, args: argparse.Namespace, cwd: Path,
             box: Box | None, uas: Sipp, steady_from: float | None = None) -> Step:
    """One SIPp UAC placing `calls` at `rate` to `target_port` (the box or the UAS)."""
    # room for the calls in progress at twice the rate: a slow box shows as a rate not
    # reached, not as SIPp refusing to place calls
    limit = max(50, int(rate * (args.pause_ms / 1000 + 0.5) * 2))
    timeout = calls / rate + args.pause_ms / 1000 + 20
    box_cpu0 = cpu_seconds(box.pid) if box else 0.0
    uas_cpu0 = uas.cpu_now()
    machine = MachineMeter()
    uac = launch("uac", lambda: [*uac_args(target_port, CALLED), "-d", str(args.pause_ms),
                                 "-r", str(rate), "-m", str(calls), "-l", str(limit),
                                 "-timeout", f"{timeout:.0f}s"], cwd)
    steady = None
    if box is not None and steady_from is not None:
        steady = watch_steady(uac, box, steady_from, calls / rate)
    uac.wait(timeout + 15)
    stats = uac.stats()
    return Step(
        rate=rate, calls=calls, ok=int(stats.get("SuccessfulCall(C)", 0)),
        failed_calls=int(stats.get("FailedCall(C)", 0)), wall_s=uac.wall_s,
        pause_ms=args.pause_ms, setup_ms=parse_ms(stats.get("ResponseTimesetup(C)")),
        retrans=int(stats.get("Retransmissions(C)", 0)),
        box_cpu_s=cpu_seconds(box.pid) - box_cpu0 if box else 0.0,
        uac_cpu_s=uac.cpu_s, uas_cpu_s=uas.cpu_now() - uas_cpu0,
        codes=error_codes(cwd), reasons=dict(uac.errors().most_common(4)),
        machine_pct=machine.pct(), steady=steady)


def watch_steady(uac: Sipp, box: Box, start_s: float, end_s: float) -> Steady | None:
    """Calls completed and box CPU between `start_s` and `end_s` of the UAC's run."""
    if end_s - start_s < 3:
        return None
    first, last = sample_at(uac, box, start_s), sample_at(uac, box, end_s)
    if first is None or last is None:
        return None
    return Steady(seconds=last[0] - first[0], ok=last[1] - first[1],
                  box_cpu_s=last[2] - first[2])


def sample_at(uac: Sipp, box: Box, at_s: float) -> tuple[float, int, float] | None:
    """(time of day, calls completed, box CPU s) as SIPp writes its first stat row after
    `at_s` s (a row a second, stamped): box CPU is read with the row, not up to 1 s later."""
    def row() -> tuple[float, int]:
        r = uac.stats()
        return float(r.get("CurrentTime", "0").split()[-1]), int(r.get("SuccessfulCall(C)", 0))

    while uac.age() < at_s:
        if uac.poll():
            return None
        time.sleep(0.05)
    stamp, _ = row()
    while (now := row())[0] <= stamp:
        if uac.poll():
            return None
        time.sleep(0.01)
    return now[0], now[1], cpu_seconds(box.pid)


def box_step(rate: int, calls: int, args: argparse.Namespace, work: Path,
             steady_from: float | None = None) -> Step:
    """A step on a fresh box. One whose box logged an error (a crashed task) is run again a
    minute later: the box runs from a working tree that someone may be changing."""
    step = fresh_box_step(rate, calls, args, work, steady_from)
    if crashes(step):
        print(f"  ** the box logged: {crashes(step)[0][:300]}; again in {BROKEN_WAIT_S:.0f} s",
              flush=True)
        time.sleep(BROKEN_WAIT_S)
        step = fresh_box_step(rate, calls, args, work.with_name(work.name + "-again"),
                              steady_from)
        if crashes(step):
            raise RuntimeError(f"the box logged: {crashes(step)[0][:300]}")
    return step


def crashes(step: Step) -> list[str]:
    return [p for p in step.problems if p.startswith(("ERROR", "CRITICAL"))]


def fresh_box_step(rate: int, calls: int, args: argparse.Namespace, work: Path,
                   steady_from: float | None) -> Step:
    """No SIP transactions left over from the step before."""
    quiet.wait()
    box, uas = box_with_uas(args, work)
    try:
        step = run_step(box.sip_port, rate, calls, args, work / "uac", box, uas, steady_from)
        step.problems = box.problems()
        step.banned = "banned" in box.log()
        uas.stop(grace_s=0)
        return step
    finally:
        box.stop()


def step_calls(rate: int, args: argparse.Namespace) -> int:
    return min(args.calls, max(10, round(rate * args.step_seconds)))


def burst_ladder(args: argparse.Namespace, work: Path) -> list[Step]:
    """Rising rates until one fails, then bisection between the last pass and that fail."""
    steps: list[Step] = []
    for rate in args.rates:
        steps.append(box_step(rate, step_calls(rate, args), args, work / f"box-{rate}"))
        verbose(args, "box   ", steps[-1])
        if not steps[-1].passed:
            break
    good, bad = best_rate(steps), first_fail(steps)
    for _ in range(args.refine if bad else 0):
        mid = (good + bad) // 2
        if bad - good <= max(2, good // 10):  # close enough for a median of runs
            break
        steps.append(box_step(mid, step_calls(mid, args), args, work / f"box-{mid}"))
        verbose(args, "box   ", steps[-1])
        good, bad = (mid, bad) if steps[-1].passed else (good, mid)
    return steps


def direct_ladder(start: int, args: argparse.Namespace, work: Path) -> list[Step]:
    """Rates doubling from `start`, SIPp to SIPp, until one fails or --direct-max."""
    uas_port = free_port()
    uas = start_uas("uas_direct.xml", uas_port, work / "uas", False)
    steps: list[Step] = []
    try:
        rate = start
        while rate <= args.direct_max:
            quiet.wait()
            steps.append(run_step(uas_port, rate, step_calls(rate, args), args,
                                  work / f"direct-{rate}", None, uas))
            verbose(args, "direct", steps[-1])
            if not steps[-1].passed:
                break
            rate *= 2
    finally:
        uas.stop(grace_s=0)
    return steps


def soak(start: int, args: argparse.Namespace, work: Path) -> list[Step]:
    """`start` held for --soak s on a fresh box; if it fails, lower (--soak-tries in all)."""
    soaks: list[Step] = []
    rate = start
    for i in range(args.soak_tries):
        s = box_step(rate, round(rate * args.soak), args, work / f"soak{i}-{rate}",
                     steady_from=STEADY_FROM_S)
        soaks.append(s)
        verbose(args, "soak  ", s)
        if s.passed or rate <= 1:
            break
        # below what the box managed when it was full of transactions
        managed = s.steady.achieved if s.steady else s.achieved
        rate = max(1, round(min(rate * 0.75, managed * 0.9)))
    return soaks


def best_rate(steps: list[Step]) -> int:
    return max((s.rate for s in steps if s.passed), default=0)


def first_fail(steps: list[Step]) -> int:
    return min((s.rate for s in steps if not s.passed), default=0)


def verbose(args: argparse.Namespace, what: str, step: Step) -> None:
    if args.verbose:
        print(f"    {what} {fmt_step(step)}", flush=True)


def fmt_step(s: Step) -> str:
    unplaced = s.calls - s.ok - s.failed_calls
    lost = (f" ({s.failed * 100:.1f} % not: {s.failed_calls} failed, {unplaced} not placed in"
            " time)" if s.ok < s.calls else "")
    text = (f"{s.rate:5d}/s: {s.ok}/{s.calls} ok{lost},"
            f" {s.achieved:.0f}/s achieved, setup {s.setup_ms:.0f} ms avg, {s.retrans} retrans;"
            f" box {s.box_cpu_pct:.0f} % CPU, {s.box_ms_per_call:.2f} ms/call;"
            f" SIPp UAC {s.uac_cpu_s / s.wall_s * 100:.0f} %, UAS"
            f" {s.uas_cpu_s / s.wall_s * 100:.0f} %, others {s.others_pct:.0f} %")
    if s.steady:
        text += (f"; steady (from {STEADY_FROM_S:.0f} s) {s.steady.achieved:.0f}/s, box"
                 f" {s.steady.box_cpu_pct:.0f} %, {s.steady.box_ms_per_call:.2f} ms/call")
    if s.codes:
        text += f"; codes {s.codes}"
    if s.reasons:
        text += f"; {s.reasons}"
    return text + ("  ** the box BANNED 127.0.0.1 **" if s.banned else "")


@dataclass
class SetupResult:
    bursts: list[list[Step]] = field(default_factory=list)  # one ladder a run
    directs: list[list[Step]] = field(default_factory=list)
    soaks: list[Step] = field(default_factory=list)


def setup_bench(args: argparse.Namespace, work: Path) -> SetupResult:
    result = SetupResult()
    for i in range(args.runs):
        burst = attempt(f"setup run {i + 1}", burst_ladder, args, work / f"setup{i}")
        if not burst:
            continue
        result.bursts.append(burst)
        start = first_fail(burst) or max(s.rate for s in burst)
        direct = attempt(f"direct run {i + 1}", direct_ladder, start, args,
                         work / f"direct{i}")
        if direct:
            result.directs.append(direct)
    rate = round(med(best_rate(b) for b in result.bursts))
    if args.soak > 0 and rate > 0:
        result.soaks = attempt("soak", soak, rate, args, work / "soak") or []
    return result


# -- 2. relay -------------------------------------------------------------------------------


@dataclass
class Window:
    """CPU seconds spent by the box and SIPp in a measuring window."""

    seconds: float
    box_s: float
    uac_s: float
    uas_s: float
    machine_pct: float  # of one core, all processes of the machine

    @property
    def box_pct(self) -> float:
        return self.box_s / self.seconds * 100

    @property
    def sipp_pct(self) -> float:
        return (self.uac_s + self.uas_s) / self.seconds * 100

    @property
    def others_pct(self) -> float:
        return max(0.0, self.machine_pct - self.box_pct - self.sipp_pct)  # jiffies: noisy


def window(seconds: float, box: Box | None, uac: Sipp, uas: Sipp) -> Window:
    box0 = cpu_seconds(box.pid) if box else 0.0
    uac0, uas0 = uac.cpu_now(), uas.cpu_now()
    machine, t0 = MachineMeter(), time.perf_counter()
    time.sleep(seconds)
    return Window(seconds=time.perf_counter() - t0,
                  box_s=cpu_seconds(box.pid) - box0 if box else 0.0,
                  uac_s=uac.cpu_now() - uac0, uas_s=uas.cpu_now() - uas0,
                  machine_pct=machine.pct())


@dataclass
class RelayRun:
    n: int
    bridged: int
    ok: int
    hold_s: float
    settle_pct: float
    windows: list[Window]
    rss: float
    hwm: float
    box_drops: int  # kernel drops at the box's sockets
    uas_drops: int  # ... and at the SIPp UAS's (the UAC never reads the echo: not counted)
    caller: Legs  # the box's legs to the UAC
    called: Legs  # ... and to the UAS
    ended_early: int
    notes: list[str]

    @property
    def box_pct(self) -> float:
        return med(w.box_pct for w in self.windows)

    @property
    def relayed_pps(self) -> float:
        # every call streams from its ACK to its BYE, -d = hold_s
        return (self.caller.sent + self.called.sent) / self.hold_s

    @property
    def us_per_packet(self) -> float:
        return self.box_pct / 100 / self.relayed_pps * 1e6 if self.relayed_pps else NAN

    @property
    def box_loss(self) -> float:
        a, b = self.caller, self.called
        not_relayed = (a.received - b.sent) + (b.received - a.sent)
        offered = a.received + b.received + self.box_drops
        return (not_relayed + self.box_drops) / offered if offered else NAN

    @property
    def round_trip_loss(self) -> float:
        a = self.caller
        return 1 - a.sent / a.received if a.received else NAN


def relay_run(n: int, args: argparse.Namespace, work: Path) -> RelayRun:
    quiet.wait()
    box, uas = box_with_uas(args, work, echo=True)
    try:
        write_tone(work / TONE_FILE)
        ramp_s = n / args.ramp
        hold_s = ramp_s + 5 + args.settle + args.windows * args.seconds + 3
        uac = launch("uac", lambda: [
            *uac_args(box.sip_port, CALLED, "uac_rtp.xml"), "-d", str(int(hold_s * 1000)),
            "-r", str(args.ramp), "-m", str(n), "-l", str(n),
            "-timeout", f"{hold_s + ramp_s + 30:.0f}s"], work)
        bridged = wait_bridged(box, uac, n, ramp_s)
        # the set-ups' SIP transactions linger up to 32 s: their cost is shown apart
        settle = window(max(args.settle, 1.0), box, uac, uas)
        ended0 = box.count("event=rtp ")
        windows = [window(args.seconds, box, uac, uas) for _ in range(args.windows)]
        ended_early = box.count("event=rtp ") - ended0
        rss, hwm = rss_mb(box.pid), peak_rss_mb(box.pid)
        box_drops, uas_drops = socket_drops(box.pid), socket_drops(uas.pid)
        uac.wait(hold_s + ramp_s + 40)
        wait_for(lambda: box.count("event=rtp ") >= 2 * n, 15)
        uas.stop(grace_s=0)
        counters = rtp_counters(box)
        notes = sipp_notes(uac, work) + [f"box said: {p[:300]}" for p in box.problems()[:3]]
        ok = int(uac.stats().get("SuccessfulCall(C)", 0))
    finally:
        box.stop()
    return RelayRun(n=n, bridged=bridged, ok=ok, hold_s=hold_s, settle_pct=settle.box_pct,
                    windows=windows, rss=rss, hwm=hwm, box_drops=box_drops,
                    uas_drops=uas_drops, caller=counters.get(CALLER, Legs()),
                    called=counters.get(CALLED, Legs()), ended_early=ended_early, notes=notes)


def wait_bridged(box: Box, uac: Sipp, n: int, ramp_s: float) -> int:
    """Until every call is relayed, or (calls failing) none more came up for 2 s."""
    t_start, seen, last_change = time.monotonic(), -1, time.monotonic()
    while (bridged := box.count("kind=relay")) < n and not uac.poll():
        if bridged != seen:
            seen, last_change = bridged, time.monotonic()
        elif time.monotonic() - last_change > 2 and time.monotonic() - t_start > ramp_s:
            break
        time.sleep(0.1)
    return bridged


def sipp_notes(uac: Sipp, work: Path) -> list[str]:
    codes, reasons = error_codes(work), dict(uac.errors().most_common(3))
    return [f"SIPp: {codes} {reasons}"] if codes or reasons else []


@dataclass
class RelayDirect:
    """The same calls SIPp to SIPp: what the load generator costs on its own."""

    n: int
    up: int
    window: Window
    uas_drops: int


def relay_direct(n: int, args: argparse.Namespace, work: Path) -> RelayDirect:
    write_tone(work / TONE_FILE)
    quiet.wait()
    uas_port = free_port()
    uas = start_uas("uas_direct.xml", uas_port, work / "uas", True)
    try:
        ramp_s = n / DIRECT_RAMP
        hold_s = ramp_s + 2 + args.seconds + 2  # one window
        uac = launch("uac", lambda: [
            *uac_args(uas_port, CALLED, "uac_rtp.xml"), "-d", str(int(hold_s * 1000)),
            "-r", str(DIRECT_RAMP), "-m", str(n), "-l", str(n),
            "-timeout", f"{hold_s + 30:.0f}s"], work)
        time.sleep(ramp_s + 2)  # SIPp's stat file says how many came up
        up = int(uac.stats().get("CurrentCall", 0))
        w = window(args.seconds, None, uac, uas)
        drops = socket_drops(uas.pid)
        uac.wait(hold_s + 40)
    finally:
        uas.stop(grace_s=0)
    return RelayDirect(n=n, up=up, window=w, uas_drops=drops)


RelayResults = dict[int, tuple[list[RelayRun], RelayDirect | None]]


def relay_bench(args: argparse.Namespace, work: Path) -> RelayResults:
    results: RelayResults = {}
    for n in args.relay:
        runs = [r for i in range(args.relay_runs)
                if (r := attempt(f"relay {n} run {i + 1}", relay_run, n, args,
                                 work / f"relay{n}-{i}"))]
        direct = (attempt(f"relay {n} direct", relay_direct, n, args, work / f"direct{n}")
                  if args.direct_max > 0 else None)
        results[n] = (runs, direct)
    return results


# -- 3. SIP to analog, decoded ----------------------------------------------------------------


@dataclass
class AnalogRun:
    k: int
    ok: int
    idle_pct: float
    busy_pct: float
    machine_pct: float  # everything on the machine, the box and SIPp included
    rss: float
    bridges: list[str]
    sip: Legs
    notes: list[str]

    @property
    def per_call_pct(self) -> float:
        return (self.busy_pct - self.idle_pct) / self.k


def analog_run(k: int, args: argparse.Namespace, work: Path) -> AnalogRun:
    return asyncio.run(_analog_run(k, args, work))


async def _analog_run(k: int, args: argparse.Namespace, work: Path) -> AnalogRun:
    quiet.wait()
    box = Box(work / "box", k, args)
    uacs: list[Sipp] = []
    try:
        client = await connect(box)
        async with client:
            await asyncio.sleep(1.0)
            idle = await cpu_pct(box, min(args.seconds, 5.0))
            write_tone(work / TONE_FILE)
            hold_s = 2 + args.seconds + 3
            phones = [await VirtualPhone.find(client, str(100 + i)) for i in range(1, k + 1)]
            for i in range(1, k + 1):
                uacs.append(launch(f"uac{100 + i}", partial(one_call, box, str(100 + i), hold_s),
                                   work))
            await answer_all(phones, sine_tone(700, (hold_s + 2) * 1000))
            await until(lambda: box.count("event=bridge") >= k, 10)
            await asyncio.sleep(1.0)
            machine = MachineMeter()
            busy = await cpu_pct(box, args.seconds)
            machine_pct = machine.pct()
            rss = rss_mb(box.pid)
            await until(lambda: all(u.poll() for u in uacs), hold_s + 40)
            for p in phones:
                await p.onhook()
            await asyncio.sleep(0.5)
        bridges = re.findall(r"event=bridge .*", box.log())
        notes = [f"{u.name} failed: {dict(u.errors())}" for u in uacs if u.returncode != 0]
        notes += [f"box said: {p[:300]}" for p in box.problems()[:3]]
        sip = rtp_counters(box).get(CALLER, Legs())
    finally:
        for u in uacs:
            u.stop()
        box.stop()
    return AnalogRun(k=k, ok=sum(1 for u in uacs if u.returncode == 0), idle_pct=idle,
                     busy_pct=busy, machine_pct=machine_pct, rss=rss, bridges=bridges, sip=sip,
                     notes=notes)


def one_call(box: Box, number: str, hold_s: float) -> list[str]:
    """SIPp arguments: one call to `number`, streaming PCMU for `hold_s`."""
    return [*uac_args(box.sip_port, number, "uac_rtp.xml"), "-d", str(int(hold_s * 1000)),
            "-m", "1", "-timeout", f"{hold_s + 30:.0f}s"]


async def cpu_pct(box: Box, seconds: float) -> float:
    c0, t0 = cpu_seconds(box.pid), time.perf_counter()
    await asyncio.sleep(seconds)
    return (cpu_seconds(box.pid) - c0) / (time.perf_counter() - t0) * 100


async def connect(box: Box) -> ControlClient:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            return await ControlClient(box.control_path).connect()
        except Unreachable:
            await asyncio.sleep(0.05)
    raise RuntimeError("the box's control socket did not come up within 30 s")


async def until(predicate: Callable[[], bool], within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)  # polls the box's log and SIPp: nothing to await on
    return True


async def answer_all(phones: list[VirtualPhone], speech: Any) -> None:
    """Each phone off-hook as soon as it rings, then it talks. One control connection
    takes one request at a time, so the phones are polled in turn."""
    waiting = list(phones)
    deadline = time.monotonic() + 15
    while waiting:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{', '.join(str(p.extension) for p in waiting)} did not ring"
                               " within 15 s")
        for phone in list(waiting):
            if (await phone.status()).get("ringing"):
                await phone.offhook()
                await phone.say(speech)
                waiting.remove(phone)
        await asyncio.sleep(0.05)


def analog_bench(args: argparse.Namespace, work: Path) -> list[AnalogRun]:
    return [r for i in range(args.runs)
            if (r := attempt(f"analog run {i + 1}", analog_run, args.analog, args,
                             work / f"analog{i}"))]


# -- report ---------------------------------------------------------------------------------


def med(values: Iterable[float]) -> float:
    v = [x for x in values if x == x]  # NaN: not measured
    return statistics.median(v) if v else NAN


def pct(part: float, whole: float) -> str:
    return f"{part / whole * 100:.1f} %" if whole and part == part else "n/a"


def report_setup(r: SetupResult, args: argparse.Namespace) -> None:
    print(f"\n1. Call setup, SIPp UAC {CALLER} -> box -> SIPp UAS {CALLED} (digest auth on every"
          f" INVITE, calls held {args.pause_ms} ms); pass: < 1 % failed, >= 90 % of the rate")
    steps = [s for run in r.bursts for s in run] + r.soaks
    print(f"  (other processes on the machine: {med(s.others_pct for s in steps):.0f} % of one"
          f" core, median over the steps; max {max((s.others_pct for s in steps), default=0):.0f}"
          " %)")
    sustained = best_rate(r.soaks) if r.soaks else NAN
    burst = med(best_rate(b) for b in r.bursts)
    direct = med(best_rate(d) for d in r.directs)
    capped = any(d and d[-1].passed for d in r.directs)  # SIPp never failed: a lower bound
    if r.soaks:
        report_soaks(r.soaks, args)
    print(f"  burst (~{args.step_seconds:.0f} s steps)         {burst:.0f} calls/s   (runs:"
          f" {', '.join(str(best_rate(b)) for b in r.bursts)})")
    lowest = [b[0] for b in r.bursts if b and b[0].passed]
    tops = [s for b in r.bursts for s in b if s.passed and s.rate == best_rate(b)]
    if lowest and tops:
        print(f"    box CPU per call {med(s.box_ms_per_call for s in lowest):.1f} ms at"
              f" {lowest[0].rate}/s, {med(s.box_ms_per_call for s in tops):.1f} ms at the top"
              f" rate ({med(s.box_cpu_pct for s in tops):.0f} % of one core)")
    print(f"  SIPp UAC -> SIPp UAS    {'>= ' if capped else ''}{direct:.0f} calls/s directly,"
          f" no box (runs: {', '.join(str(best_rate(d)) for d in r.directs)})")
    print(f"  box / direct            sustained {pct(sustained, direct)}, burst"
          f" {pct(burst, direct)}{' (at most)' if capped else ''}")
    report_steps(r)


def report_soaks(soaks: list[Step], args: argparse.Namespace) -> None:
    tried = "; ".join(f"{s.rate}/s {'held' if s.passed else 'failed'}"
                      + (f" ({s.steady.achieved:.0f}/s steady)" if s.steady else "")
                      for s in soaks)
    sustained = best_rate(soaks)
    figure = f"{sustained}" if sustained else f"< {min(s.rate for s in soaks)}"
    print(f"  sustained ({args.soak:.0f} s, fresh box)  {figure} calls/s   (target >= 300;"
          f" soaks: {tried})")
    held = next((s for s in soaks if s.passed), soaks[-1])
    if held.steady:
        print(f"    steady window ({STEADY_FROM_S:.0f} s on) at {held.rate}/s:"
              f" {held.steady.achieved:.0f} calls/s, box {held.steady.box_cpu_pct:.0f} % of"
              f" one core, {held.steady.box_ms_per_call:.1f} ms CPU per call (budget <= 3);"
              f" setup {held.setup_ms:.0f} ms avg")


def report_steps(r: SetupResult) -> None:
    print("  steps (first run):")
    for what, runs in (("box", r.bursts[:1]), ("direct", r.directs[:1]), ("soak", [r.soaks])):
        for s in (s for run in runs for s in run):
            print(f"    {what:6s} {fmt_step(s)}")
    for s in [*r.soaks[-1:], *(b[-1] for b in r.bursts[:1])]:
        for p in s.problems[:3]:
            print(f"    box said: {p[:300]}")


def report_relay(results: RelayResults, args: argparse.Namespace) -> None:
    print(f"\n2. Relay: N SIP-to-SIP PCMU calls (set up at {args.ramp}/s), 20 ms packets both"
          f" ways (the UAS echoes); median of {args.windows} x {args.seconds:.0f} s windows from"
          f" {args.settle:.0f} s after the last call is up. Targets: 200 calls on one core,"
          " < 0.1 % loss; <= 10 us/packet (>= 600 calls per core)")
    print("      N  box CPU  calls/core  us/pkt  pkts/s relayed  RSS MB  loss at box  round trip"
          "  kernel drops box/UAS  SIPp CPU direct  box/SIPp")
    for n, (runs, direct) in results.items():
        if not runs:
            print(f"  {n:5d}  (no run completed)")
            continue
        box = med(x.box_pct for x in runs)
        sipp = direct.window.sipp_pct if direct else NAN
        print(f"  {n:5d}  {box:5.1f} %  {n / box * 100 if box else NAN:10.0f}"
              f"  {med(x.us_per_packet for x in runs):6.2f}"
              f"  {med(x.relayed_pps for x in runs):14.0f}  {med(x.rss for x in runs):6.1f}"
              f"  {med(x.box_loss for x in runs) * 100:9.4f} %"
              f"  {med(x.round_trip_loss for x in runs) * 100:8.3f} %"
              f"  {med(x.box_drops for x in runs):10.0f} / {med(x.uas_drops for x in runs):.0f}"
              f"  {sipp:13.1f} %  {box / sipp if sipp else NAN:7.1f}x")
        for note in (note for x in runs for note in relay_notes(x)):
            print(f"         {note}")
        if direct:
            print(f"         SIPp direct: {direct.up}/{n} calls up, kernel drops at the UAS"
                  f" {direct.uas_drops}, other processes {direct.window.others_pct:.0f} %")


def relay_notes(x: RelayRun) -> list[str]:
    notes = list(x.notes)
    if x.bridged < x.n:
        notes.append(f"only {x.bridged} of {x.n} calls came up (relayed); figures are for those")
    if x.ended_early:
        notes.append(f"{x.ended_early} legs ended before the windows closed")
    notes.append(f"calls ok {x.ok}/{x.n}; RSS peak {x.hwm:.1f} MB; box {x.settle_pct:.1f} % in"
                 f" the settle window; SIPp {med(w.sipp_pct for w in x.windows):.0f} %, other"
                 f" processes {med(w.others_pct for w in x.windows):.0f} % of one core")
    return notes


def report_analog(runs: list[AnalogRun], relay_per_call: float,
                  args: argparse.Namespace) -> None:
    k = runs[0].k
    kinds = Counter(m[1] if (m := re.search(r"kind=(\w+)", b)) else "decoded"
                    for b in runs[0].bridges)
    per_call = med(r.per_call_pct for r in runs)
    print(f"\n3. SIP to analog, decoded: {k} SIPp callers to extensions 101-{100 + k}, the analog"
          f" phones answer and talk; {args.seconds:.0f} s measured")
    print(f"  box CPU {med(r.busy_pct for r in runs):.2f} % of one core with {k} calls, idle"
          f" {med(r.idle_pct for r in runs):.2f} %: {per_call:.2f} % per decoded call"
          f" ({per_call * 10:.1f} ms CPU per second of call); RSS {med(r.rss for r in runs):.1f}"
          f" MB; calls ok {min(r.ok for r in runs)}/{k}; bridges {dict(kinds)}; the machine"
          f" {med(r.machine_pct for r in runs):.0f} % of one core")
    if relay_per_call == relay_per_call:
        print(f"  a decoded call costs {per_call / relay_per_call:.0f}x a relayed one"
              f" ({relay_per_call:.3f} % per relayed call)")
    s = runs[0].sip
    print(f"  SIP legs (first run): received {s.received}, sent {s.sent}, dropped {s.dropped}"
          f" in {s.legs} legs")
    for r in runs:
        for note in r.notes:
            print(f"  {note}")


def relay_cost_per_call(results: RelayResults) -> float:
    return med(x.box_pct / x.bridged for runs, _ in results.values() for x in runs if x.bridged)


def attempt(what: str, fn: Callable[..., T], *fn_args: Any) -> T | None:
    """One run; a run that goes wrong is reported and left out, the others go on."""
    try:
        return fn(*fn_args)
    except (RuntimeError, OSError, KeyError, ValueError) as exc:
        print(f"  ** {what} failed: {exc}", flush=True)
        stop_all()
        return None


# -- main -----------------------------------------------------------------------------------


def int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help=f"one run of each, fewer and shorter windows: {QUICK}")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--only", default="setup,relay,analog")
    p.add_argument("--calls", type=int, default=3000, help="calls per setup-rate step, at most")
    p.add_argument("--step-seconds", type=float, default=4.0, help="setup step length, about")
    p.add_argument("--rates", type=int_list, default=list(RATES))
    p.add_argument("--refine", type=int, default=2, help="bisection steps after the ladder")
    p.add_argument("--pause-ms", type=int, default=200, help="setup calls last this long")
    p.add_argument("--soak", type=float, default=45.0,
                   help="hold the burst rate this long on a fresh box (0: no soak)")
    p.add_argument("--soak-tries", type=int, default=2, help="soaks in all, each one lower")
    p.add_argument("--direct-max", type=int, default=6400,
                   help="SIPp-to-SIPp ladder up to this rate (0: no direct runs)")
    p.add_argument("--relay", type=int_list, default=[100, 200, 400],
                   help="concurrent relayed calls, e.g. 100,200,400")
    p.add_argument("--relay-runs", type=int, default=1, help="fresh boxes per relay size")
    p.add_argument("--ramp", type=int, default=25, help="relay calls set up per second")
    p.add_argument("--settle", type=float, default=30.0,
                   help="relay: wait this long after the calls are up before measuring\n"
                        "(their set-ups' SIP transactions linger 32 s, and cost CPU)")
    p.add_argument("--windows", type=int, default=3, help="relay: measuring windows")
    p.add_argument("--seconds", type=float, default=5.0, help="relay window / analog time")
    p.add_argument("--analog", type=int, default=4, help="decoded SIP-to-analog calls")
    p.add_argument("--wait-quiet", type=float, default=30.0,
                   help="wait up to this long in all, before measurements, while other\n"
                        "processes keep the (shared) machine busy")
    p.add_argument("--quiet-below", type=float, default=25.0,
                   help="... busy: above this %% of one core")
    p.add_argument("--log-level", default="info", help="the box's (info: as in production)")
    p.add_argument("--asyncio", action="store_true", help="the box on plain asyncio, no uvloop")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs, traces)")
    p.add_argument("--profile", action="store_true",
                   help="run the box under cProfile (slower!) and print where its time went")
    p.add_argument("-v", "--verbose", action="store_true")
    if "--quick" in sys.argv[1:]:
        p.set_defaults(**QUICK)  # flags given explicitly still win
    return p.parse_args()


def main() -> None:
    args = parse_args()
    if shutil.which("sipp") is None:
        sys.exit("sipp is not installed (Debian: apt install sip-tester)")
    # a SIGTERM stops the processes started here, as Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    only = set(args.only.split(","))
    quiet.budget_s, quiet.threshold_pct = args.wait_quiet, args.quiet_below
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-sip-"))
    if args.profile:
        Box.profile = work / "box.prof"  # the last box's profile (each box overwrites it)
    uvloop = not args.asyncio and importlib.util.find_spec("uvloop") is not None
    print(f"SIP benchmarks: the box on {'uvloop' if uvloop else 'asyncio'}, log level"
          f" {args.log_level}, {CPUS} CPUs shared with SIPp (loopback); work dir {work}",
          flush=True)
    t0 = time.monotonic()
    try:
        if "setup" in only:
            report_setup(setup_bench(args, work), args)
            sys.stdout.flush()
        relay_per_call = NAN
        if "relay" in only:
            relay = relay_bench(args, work)
            report_relay(relay, args)
            relay_per_call = relay_cost_per_call(relay)
            sys.stdout.flush()
        if "analog" in only and args.analog > 0 and (analog := analog_bench(args, work)):
            report_analog(analog, relay_per_call, args)
        if args.profile and Box.profile is not None and Box.profile.exists():
            print(f"\nWhere the last box's CPU time went (cProfile, {Box.profile}):")
            pstats.Stats(str(Box.profile)).sort_stats("tottime").print_stats(15)
    finally:
        stop_all()
        kept = f"; logs and SIPp traces kept in {work}" if args.keep else ""
        print(f"\n({time.monotonic() - t0:.0f} s, {quiet.waited_s:.0f} s of it waiting for a"
              f" quiet machine{kept})")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
