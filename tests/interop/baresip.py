"""baresip (Debian's package) as a real SIP phone for the interop tests.

Each instance runs in its own config directory, talks SIP on loopback only, sends a tone
from a WAV file as its microphone, and dumps what it hears (sndfile module) so a test can
check the audio. It is driven through its ctrl_tcp module: JSON in netstrings, with events
(REGISTER_OK, CALL_ESTABLISHED, CALL_CLOSED ...) that tests wait for instead of sleeping.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

MODULES = Path("/usr/lib/baresip/modules")
EVENT_LIMIT_S = 20.0  # a guard against a peer that never answers, not a pause


def available() -> str | None:
    """None when baresip can run here, else why not (for pytest.skip)."""
    if shutil.which("baresip") is None:
        return "baresip is not installed (Debian package baresip; .ci/run installs it)"
    missing = [m for m in ("g711", "aufile", "sndfile", "ctrl_tcp", "account")
               if not (MODULES / f"{m}.so").exists()]
    if missing:
        return f"baresip lacks the modules {', '.join(missing)}"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_tone(path: Path, hz: float, seconds: float = 30.0) -> None:
    t = np.arange(int(8000 * seconds)) / 8000
    samples = (8000 * np.sin(2 * np.pi * hz * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(samples.tobytes())


def dominant_hz(path: Path, skip_s: float = 0.5) -> float:
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)
    x = x[int(skip_s * rate):]
    if len(x) < rate // 4 or not x.any():
        return 0.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


class Baresip:
    def __init__(self, workdir: Path, user: str, password: str, box_port: int, *,
                 tone_hz: float = 700.0, auto_answer: bool = False) -> None:
        self.dir = workdir / f"baresip-{user}"
        self.dir.mkdir(parents=True)
        self.dumps = self.dir / "dump"
        self.dumps.mkdir()
        self.user = user
        self.ctrl_port = free_port()
        sip_port = free_port()
        rtp = free_port() // 2 * 2
        write_tone(self.dir / "mic.wav", tone_hz)
        answer = ";answermode=auto" if auto_answer else ""
        # The account is added once the control connection is up (uanew below), so its
        # registration events reach the test.
        account = (f"<sip:{user}@127.0.0.1:{box_port};transport=udp>;auth_pass={password}"
                   f";regint=600{answer}")
        (self.dir / "accounts").write_text("")
        (self.dir / "config").write_text("\n".join([
            "poll_method epoll",
            "net_interface 127.0.0.1",
            f"sip_listen 127.0.0.1:{sip_port}",
            f"rtp_ports {rtp}-{rtp + 40}",
            f"audio_source aufile,{self.dir / 'mic.wav'}",
            "audio_player aufile,/dev/null",
            "audio_alert aufile,/dev/null",
            f"module_path {MODULES}",
            "module g711.so",
            "module aufile.so",
            "module sndfile.so",
            f"snd_path {self.dumps}",
            "module_app account.so",
            "module_app menu.so",
            "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
            "",
        ]))
        self.output: list[str] = []
        self.proc = subprocess.Popen(["baresip", "-f", str(self.dir)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # blocks on baresip's output until it is up
            self.output.append(line)
            if "baresip is ready" in line:
                break
        # Keep reading its console, so a full pipe never stalls it (and a failing test can
        # show what it said).
        threading.Thread(target=self._drain, daemon=True).start()
        self.sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=5)
        self._buffer = b""
        self.events: list[dict[str, Any]] = []
        self.command("uanew", account)

    def command(self, command: str, params: str = "") -> dict[str, Any]:
        data = json.dumps({"command": command, "params": params, "token": command}).encode()
        self.sock.sendall(str(len(data)).encode() + b":" + data + b",")
        while True:
            message = self._next(EVENT_LIMIT_S)
            if message.get("response"):
                return message
            self.events.append(message)

    def wait_event(self, kind: str) -> dict[str, Any]:
        for i, event in enumerate(self.events):
            if event.get("type") == kind:
                return self.events.pop(i)
        deadline = time.monotonic() + EVENT_LIMIT_S
        while (left := deadline - time.monotonic()) > 0:
            message = self._next(left)
            if message.get("type") == kind:
                return message
            self.events.append(message)
        raise AssertionError(f"baresip {self.user} never reported {kind}; got {self.events}")

    def heard_hz(self) -> float:
        dumps = sorted(self.dumps.glob("*-dec.wav"))
        assert dumps, f"baresip {self.user} recorded nothing"
        return dominant_hz(dumps[-1])

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def stop(self) -> None:
        try:
            self.sock.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def _next(self, limit: float) -> dict[str, Any]:
        self.sock.settimeout(limit)
        while b":" not in self._buffer or len(self._buffer) < self._frame_end():
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"baresip {self.user} closed its control connection")
            self._buffer += chunk
        end = self._frame_end()
        head = self._buffer.index(b":")
        payload = self._buffer[head + 1 : end - 1]
        self._buffer = self._buffer[end:]
        result: dict[str, Any] = json.loads(payload)
        return result

    def _frame_end(self) -> int:
        head = self._buffer.index(b":")
        return head + 1 + int(self._buffer[:head]) + 1
