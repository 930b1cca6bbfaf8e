#!/usr/bin/env python3
"""voxhire load-test runner (python3 standard library only).

Drives a real `voxhire` binary with SIPp on 127.0.0.1 and reports what it
holds. Subcommands:

  capacity   (the default) media-only capacity: starts `voxhire serve --play`,
             ramps concurrent calls in steps (SIPp caller-media.xml, RTP both
             ways), reads voxhire's per-call RTP figures (loss, jitter) and
             SIPp's set-up times; then call attempts per second with short
             calls (caller-cps.xml) at rising rates. Prints a report table and
             writes it as JSON (--out).
  interview  inbound interviews: `voxhire serve --script …` called by SIPp
             caller-interview.xml (recorded answers on a timeline).
  campaign   outbound: `voxhire campaign run` dialling four SIPp candidates
             (answer, busy, no answer, voicemail), one SIPp instance each.
  audio      only writes the audio files the scenarios play into a directory.

Every process it starts is stopped when it ends (also on Ctrl-C / SIGTERM).
Needs: sipp (Debian: apt-get install sip-tester), sox, espeak-ng.
Run `loadtest/run.py SUBCOMMAND --help` for the options.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCENARIOS = HERE / "scenarios"
LOOPBACK = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Which Debian package provides each tool.
TOOLS = {"sipp": "sip-tester", "sox": "sox", "espeak-ng": "espeak-ng"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Processes: every child is registered and stopped at the end, whatever happens.

class Procs:
    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.lock = threading.Lock()

    def start(self, name: str, argv: list[str], **kw) -> subprocess.Popen:
        # Own process group: a Ctrl-C in the terminal reaches only us, and we
        # stop the children in order (voxhire gets SIGTERM and hangs up).
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        with self.lock:
            self.procs.append((name, p))
        return p

    def stop(self, p: subprocess.Popen, sig=signal.SIGTERM, grace: float = 10.0) -> int | None:
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        return p.returncode

    def stop_all(self) -> None:
        with self.lock:
            procs = list(reversed(self.procs))
            self.procs.clear()
        for name, p in procs:
            if p.poll() is None:
                log(f"stopping {name} (pid {p.pid})")
                self.stop(p, grace=5.0)


PROCS = Procs()


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def check_tools(need: list[str]) -> None:
    missing = [t for t in need if shutil.which(t) is None]
    if missing:
        pkgs = " ".join(sorted({TOOLS[t] for t in missing}))
        sys.exit(f"missing tool(s): {', '.join(missing)}; install with: apt-get install {pkgs}")
    if "sipp" in need:
        out = subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout
        if "RTPSTREAM" not in out:
            sys.exit("this sipp was built without RTP streaming (needs RTPSTREAM in `sipp -v`); "
                     "Debian's sip-tester has it: apt-get install sip-tester")


def raise_nofile(want: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(want, soft)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < want:
        log(f"warning: open files limit {soft} < {want} needed; raise the hard limit (ulimit -Hn)")
    return soft


def udp_free(port: int) -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((LOOPBACK, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(start: int, span: int = 1, taken: set[int] | None = None) -> int:
    """First port >= start with `span` consecutive free UDP ports."""
    taken = taken if taken is not None else set()
    p = start
    while p + span < 65535:
        block = range(p, p + span)
        if not any(q in taken for q in block) and all(udp_free(q) for q in block):
            taken.update(block)
            return p
        p += span
    sys.exit(f"no free UDP port block from {start}")


def machine_state() -> dict:
    la = os.getloadavg()
    return {
        "at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        "loadavg_1m": round(la[0], 2),
        "loadavg_5m": round(la[1], 2),
        "cpus": os.cpu_count(),
    }


def proc_ticks(pid: int) -> int | None:
    """utime + stime of a process (and its reaped children), clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def system_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return sum(vals) - idle, sum(vals)


class CpuWindow:
    """CPU used by some processes and by the whole machine between mark() and done()."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.t0 = None

    def mark(self) -> None:
        self.t0 = time.monotonic()
        self.ticks0 = {k: proc_ticks(p) for k, p in self.pids.items()}
        self.last = dict(self.ticks0)
        self.sys0 = system_busy()

    def sample(self) -> None:
        """Remembers the processes' CPU so far (for one that exits before done())."""
        for k, p in self.pids.items():
            t = proc_ticks(p)
            if t is not None:
                self.last[k] = t

    def done(self) -> dict:
        if self.t0 is None:
            return {}
        secs = time.monotonic() - self.t0
        out = {"secs": round(secs, 1)}
        for k, p in self.pids.items():
            a, b = self.ticks0.get(k), proc_ticks(p)
            b = b if b is not None else self.last.get(k)
            if a is not None and b is not None and secs > 0:
                out[f"{k}_cpu_pct"] = round(100.0 * (b - a) / CLK_TCK / secs, 1)
        s1 = system_busy()
        if s1[1] > self.sys0[1]:
            busy = 100.0 * (s1[0] - self.sys0[0]) / (s1[1] - self.sys0[1])
            out["machine_busy_pct"] = round(busy, 1)
            # Everything else on the machine (another build…), in % of one CPU.
            ours = sum(v for k, v in out.items() if k.endswith("_cpu_pct"))
            out["others_cpu_pct"] = round(max(0.0, busy * (os.cpu_count() or 1) - ours), 1)
        return out


def pct(sorted_vals: list[float], p: float):
    """Nearest-rank percentile (as crates/voxhire-media's `percentile`)."""
    if not sorted_vals:
        return None
    n = len(sorted_vals)
    rank = max(1, -(-int(p) * n // 100))
    return sorted_vals[min(rank, n) - 1]


class RtcpSink:
    """Receives the RTCP voxhire sends for every call (to the SDP's port + 1,
    RFC 3550 §11: SIPp binds -mp and -mp+2, not -mp+1) and keeps each
    report block: voxhire's view of the caller's stream while the call is up
    (interarrival jitter, fraction lost), sampled every few seconds."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((LOOPBACK, port))
        self.sock.settimeout(0.5)
        self.blocks: list[tuple[float, int, float, float, int]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                data, src = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.monotonic()
            for blk in self.parse(data):
                with self.lock:
                    self.blocks.append((now, src[1], *blk))

    @staticmethod
    def parse(data: bytes) -> list[tuple[float, float, int]]:
        """(jitter ms, fraction lost, cumulative lost) of each report block."""
        out, i = [], 0
        while i + 4 <= len(data):
            b0, pt = data[i], data[i + 1]
            length = (int.from_bytes(data[i + 2:i + 4], "big") + 1) * 4
            if b0 >> 6 != 2 or i + length > len(data):
                break
            rc = b0 & 0x1F
            first = {200: 28, 201: 8}.get(pt)
            if first is not None:
                for k in range(rc):
                    o = i + first + 24 * k
                    if o + 24 > i + length:
                        break
                    frac = data[o + 4] / 256.0
                    cum = int.from_bytes(data[o + 5:o + 8], "big", signed=True)
                    jitter = int.from_bytes(data[o + 12:o + 16], "big") / 8.0  # 8 kHz units → ms
                    out.append((jitter, frac, cum))
            i += length
        return out

    def window(self, t0: float, t1: float) -> dict:
        with self.lock:
            rows = [b for b in self.blocks if t0 <= b[0] <= t1]
        jit = sorted(b[2] for b in rows)
        return {
            "rtcp_reports": len(rows),
            "rtcp_calls": len({b[1] for b in rows}),
            "rtcp_jitter_ms_p50": round(pct(jit, 50), 2) if jit else None,
            "rtcp_jitter_ms_p95": round(pct(jit, 95), 2) if jit else None,
            "rtcp_jitter_ms_max": round(jit[-1], 2) if jit else None,
            "rtcp_fraction_lost_max": round(max(b[3] for b in rows), 4) if rows else None,
        }

    def dump(self, path: Path, t0: float, t1: float) -> None:
        """The report blocks received between t0 and t1, as CSV (t relative to t0)."""
        with self.lock:
            rows = [b for b in self.blocks if t0 <= b[0] <= t1]
        with open(path, "w") as f:
            f.write("t_s,voxhire_rtcp_port,jitter_ms,fraction_lost,cumulative_lost\n")
            for t, port, jit, frac, cum in rows:
                f.write(f"{t - t0:.3f},{port},{jit:.3f},{frac:.4f},{cum}\n")

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


class RtpSink:
    """The control's receiver: RTP from SIPp with kernel receive timestamps
    (SO_TIMESTAMPNS, taken when the packet arrives, not when Python reads it),
    RFC 3550 A.8 interarrival jitter per SSRC, sampled once a second, and
    sequence gaps."""

    SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        self.sock.setsockopt(socket.SOL_SOCKET, self.SO_TIMESTAMPNS, 1)
        self.sock.bind((LOOPBACK, port))
        self.sock.settimeout(0.5)
        self.state: dict[int, list] = {}   # ssrc → [arrival units, rtp ts, J, last sample, first seq, last seq, n]
        self.samples: list[tuple[float, int, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        space = socket.CMSG_SPACE(16)
        while not self.stop.is_set():
            try:
                data, anc, _flags, _src = self.sock.recvmsg(2048, space)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(data) < 12 or data[0] >> 6 != 2:
                continue
            t_ns = None
            for level, kind, val in anc:
                if level == socket.SOL_SOCKET and kind == self.SO_TIMESTAMPNS and len(val) >= 16:
                    sec = int.from_bytes(val[0:8], sys.byteorder)
                    nsec = int.from_bytes(val[8:16], sys.byteorder)
                    t_ns = sec * 1_000_000_000 + nsec
            if t_ns is None:
                t_ns = time.time_ns()
            seq = int.from_bytes(data[2:4], "big")
            ts = int.from_bytes(data[4:8], "big")
            ssrc = int.from_bytes(data[8:12], "big")
            arrival = t_ns * 8000 // 1_000_000_000  # in 8 kHz timestamp units
            st = self.state.get(ssrc)
            now = time.monotonic()
            if st is None:
                self.state[ssrc] = [arrival, ts, 0.0, now, seq, seq, 1]
                continue
            dts = (ts - st[1]) & 0xFFFFFFFF
            if dts >= 1 << 31:
                dts -= 1 << 32
            d = (arrival - st[0]) - dts
            st[2] += (abs(d) - st[2]) / 16.0
            st[0], st[1] = arrival, ts
            st[5] = seq if ((seq - st[5]) & 0xFFFF) < 0x8000 else st[5]
            st[6] += 1
            if now - st[3] >= 1.0:
                st[3] = now
                self.samples.append((now, ssrc, st[2] / 8.0))

    def window(self, t0: float, t1: float) -> dict:
        rows = [x for x in list(self.samples) if t0 <= x[0] <= t1]
        jit = sorted(x[2] for x in rows)
        expected = sum(((st[5] - st[4]) & 0xFFFF) + 1 for st in list(self.state.values()))
        got = sum(st[6] for st in list(self.state.values()))
        return {
            "streams": len(self.state),
            "packets": got,
            "loss_pct": round(100.0 * max(0, expected - got) / expected, 4) if expected else None,
            "jitter_ms_p50": round(pct(jit, 50), 2) if jit else None,
            "jitter_ms_p95": round(pct(jit, 95), 2) if jit else None,
            "jitter_ms_max": round(jit[-1], 2) if jit else None,
        }

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


# --------------------------------------------------------------------------
# Audio: raw u-law for SIPp's rtp_stream (SIPp 3.6.1 sends the file's bytes as
# they are: no WAV parsing), a WAV for voxhire's --play.

AGENT_PROMPT = ("Hello, and thank you for calling Northwind Freight recruiting. "
                "This line is a load test of the voice agent. Please hold while we measure "
                "how many calls this machine can carry at once.")
CALLER_SPEECH = ("Hi, I am calling about the senior Java backend engineer position. "
                 "I have seven years of experience with Java, Spring Boot, Kafka and Redis, "
                 "and I would like to know more about the role.")
VOICEMAIL_GREETING = ("Hi, you have reached Dave Miller. I am not able to take your call right now. "
                      "Please leave your name, your number and a short message after the tone, "
                      "and I will get back to you as soon as I can. Thank you.")

# Recorded answers (tests/interview/scenarios/alice/*.wav, 8 kHz) and what they
# say (espeak-ng speaks the text when a clip is missing). Each answer starts
# `gap` seconds after the previous one ended: room for the agent's next
# question (config/interview-java-backend.en.toml) and its turn-taking.
INTERVIEW_TIMELINE = [
    # (gap s, clip, text)
    (14.5, "consent", "Yes, that's fine."),           # greeting + disclosure + consent
    (3.5, "identity", "Yes, this is Alice."),         # identity
    (4.5, "good-time", "Sure, go ahead."),            # good time?
    (4.5, "years", "I have about seven years of Java backend experience."),
    (7.5, "skills", "Mostly Spring Cloud, Kafka, Redis and MySQL, and we run everything on Kubernetes."),
    (6.0, "project", "I led the migration of our payment service to microservices on Kubernetes, "
                     "which cut latency by half."),
    (4.5, "salary", "Around twelve thousand dollars a month."),
    (5.0, "start", "I need to give one month notice, so I could start on the first of next month."),
]
ANSWERS_DIR = REPO / "tests" / "interview" / "scenarios" / "alice"


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


def speak(text: str, out_raw: Path, tmp: Path) -> None:
    """espeak-ng → 8 kHz mono signed 16-bit raw."""
    wav = tmp / (out_raw.stem + ".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "155", "-w", str(wav), text],
                   check=True, capture_output=True)
    sox(str(wav), "-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out_raw))


def wav_to_raw(wav: Path, out_raw: Path) -> None:
    sox(str(wav), "-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out_raw))


def raw_to_ulaw(raw: Path, out: Path) -> None:
    sox("-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(raw),
        "-t", "ul", str(out))


def silence(secs: float) -> bytes:
    return b"\0\0" * int(8000 * secs)


def make_audio(d: Path, hello_first: bool = False) -> dict:
    """Writes prompt.wav, caller.ulaw, interview.ulaw, candidate.ulaw and
    voicemail.ulaw into d. Returns their durations in seconds. With
    `hello_first` the candidate answers the phone as a person does ("Hello?",
    then waits), which answering-machine detection listens for before the
    agent speaks: the answers' timeline then starts about when the agent's
    greeting does."""
    d.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="audio-", dir=d))
    try:
        # The agent's prompt for `serve --play` (8 kHz mono 16-bit WAV).
        speak(AGENT_PROMPT, tmp / "prompt.raw", tmp)
        sox("-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
            str(tmp / "prompt.raw"), str(d / "prompt.wav"))
        # The caller's speech, looped by rtp_stream for the whole call.
        speak(CALLER_SPEECH, tmp / "caller.raw", tmp)
        pcm = (tmp / "caller.raw").read_bytes() + silence(0.8)
        (tmp / "caller2.raw").write_bytes(pcm)
        raw_to_ulaw(tmp / "caller2.raw", d / "caller.ulaw")
        # The interview answers on their timeline.
        track = bytearray()
        for gap, clip, text in INTERVIEW_TIMELINE:
            track += silence(gap)
            raw = tmp / f"{clip}.raw"
            src = ANSWERS_DIR / f"{clip}.wav"
            if src.is_file():
                wav_to_raw(src, raw)
            else:
                speak(text, raw, tmp)
            track += raw.read_bytes()
        track += silence(1.0)
        (tmp / "interview.raw").write_bytes(bytes(track))
        raw_to_ulaw(tmp / "interview.raw", d / "interview.ulaw")
        if hello_first:
            speak("Hello?", tmp / "hello.raw", tmp)
            # Detection decides ~0.7 s after the "Hello?" ends; the greeting follows.
            hello = silence(0.3) + (tmp / "hello.raw").read_bytes() + silence(1.0)
            (tmp / "candidate.raw").write_bytes(hello + bytes(track))
            raw_to_ulaw(tmp / "candidate.raw", d / "candidate.ulaw")
        else:
            shutil.copyfile(d / "interview.ulaw", d / "candidate.ulaw")
        # Voicemail: a long greeting, a pause, a 1 kHz beep (0.6 s).
        speak(VOICEMAIL_GREETING, tmp / "vm.raw", tmp)
        sox("-n", "-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
            str(tmp / "beep.raw"), "synth", "0.6", "sine", "1000", "vol", "0.5")
        vm = silence(0.5) + (tmp / "vm.raw").read_bytes() + silence(0.4) + (tmp / "beep.raw").read_bytes()
        (tmp / "vm2.raw").write_bytes(vm)
        raw_to_ulaw(tmp / "vm2.raw", d / "voicemail.ulaw")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    durations = {f.name: round(f.stat().st_size / 8000, 2) for f in d.glob("*.ulaw")}
    durations["prompt.wav"] = round((d / "prompt.wav").stat().st_size / 16000, 2)
    return durations


def link_audio(audio: Path, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    for f in audio.iterdir():
        if f.suffix in (".ulaw", ".wav"):
            dst = into / f.name
            if not dst.exists():
                dst.symlink_to(f)


# --------------------------------------------------------------------------
# voxhire

def snapshot_binary(voxhire: Path, work: Path) -> Path:
    """A private copy of the binary, so a rebuild of target/ during the run
    cannot swap it under us."""
    if not voxhire.is_file():
        sys.exit(f"no voxhire binary at {voxhire} (build it: cargo build --release)")
    dst = work / "voxhire"
    shutil.copy2(voxhire, dst)
    return dst


def voxhire_env() -> dict:
    env = dict(os.environ)
    # The snapshot lives outside the checkout: tell it where the models are.
    if "VOXHIRE_MODELS" not in env and (REPO / "models" / "MANIFEST").is_file():
        env["VOXHIRE_MODELS"] = str(REPO / "models")
    return env


class Serve:
    """`voxhire serve`, its stdout JSON lines collected by a thread."""

    def __init__(self, binary: Path, args: list[str], work: Path, tag: str, listen_timeout: float = 120):
        self.lines: list[dict] = []
        self.cond = threading.Condition()
        self.stderr_path = work / f"serve-{tag}.stderr"
        self.stdout_path = work / f"serve-{tag}.stdout"
        argv = [str(binary), "serve", *args]
        (work / f"serve-{tag}.cmd").write_text(" ".join(argv) + "\n")
        self.p = PROCS.start(f"voxhire serve ({tag})", argv, cwd=work, env=voxhire_env(),
                             stdout=subprocess.PIPE, stderr=open(self.stderr_path, "wb"),
                             text=True, bufsize=1)
        self.listening = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + listen_timeout
        while not self.listening.wait(0.2):
            if self.p.poll() is not None or time.monotonic() > deadline:
                tail = self.stderr_path.read_text(errors="replace")[-3000:]
                sys.exit(f"voxhire serve did not start listening (exit {self.p.poll()}):\n{tail}")

    def _read(self) -> None:
        with open(self.stdout_path, "w") as raw:
            for line in self.p.stdout:
                raw.write(line)
                raw.flush()
                try:
                    v = json.loads(line)
                except ValueError:
                    continue
                if v.get("event") == "listening":
                    self.listening.set()
                    continue
                with self.cond:
                    self.lines.append(v)
                    self.cond.notify_all()

    def calls_of(self, sipp_pid: int) -> list[dict]:
        # SIPp's Call-IDs are "<call number>-<pid>@<ip>" (-cid_str default).
        suffix = f"-{sipp_pid}@{LOOPBACK}"
        with self.cond:
            return [v for v in self.lines if str(v.get("call_id", "")).endswith(suffix)]

    def wait_calls(self, sipp_pid: int, n: int, timeout: float) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.calls_of(sipp_pid)
            left = deadline - time.monotonic()
            if len(got) >= n or left <= 0 or self.p.poll() is not None:
                return got
            with self.cond:
                self.cond.wait(min(left, 0.5))

    def stop(self) -> int | None:
        return PROCS.stop(self.p, grace=40.0)


# --------------------------------------------------------------------------
# SIPp

def sipp_stats(path: Path) -> dict:
    """The last row of a -trace_stat CSV, plus the highest CurrentCall seen."""
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    if not rows:
        return {}
    last = rows[-1]

    def num(row, key):
        try:
            return float(row.get(key, "") or 0)
        except ValueError:
            return 0.0

    return {
        "outgoing": int(num(last, "OutgoingCall(C)")),
        "incoming": int(num(last, "IncomingCall(C)")),
        "successful": int(num(last, "SuccessfulCall(C)")),
        "failed": int(num(last, "FailedCall(C)")),
        "retransmissions": int(num(last, "Retransmissions(C)")),
        "failed_max_udp_retrans": int(num(last, "FailedMaxUDPRetrans(C)")),
        "failed_unexpected_msg": int(num(last, "FailedUnexpectedMessage(C)")),
        "failed_timeout_on_recv": int(num(last, "FailedTimeoutOnRecv(C)")),
        "max_concurrent": int(max(num(r, "CurrentCall") for r in rows)),
        "watchdog_major": int(num(last, "WatchdogMajor(C)")),
        "watchdog_minor": int(num(last, "WatchdogMinor(C)")),
    }


def sipp_rtt(d: Path, name: str = "setup") -> list[tuple[float, float]]:
    """(date_ms, response_time_ms) rows for one rtd from -trace_rtt files."""
    out = []
    for f in d.glob("*_rtt.csv"):
        with open(f, newline="") as fh:
            for row in csv.DictReader(fh, delimiter=";"):
                if (row.get("rtd_no") or "").strip() == name:
                    try:
                        out.append((float(row["Date_ms"]), float(row["response_time_ms"])))
                    except (KeyError, ValueError):
                        pass
    out.sort()
    return out


def run_sipp(name: str, scenario: str, d: Path, target: str | None, opts: list[str],
             timeout: float, on_tick=None) -> tuple[subprocess.Popen, float]:
    """Runs SIPp in d (its rtp_stream files are linked there) until it exits;
    returns the process and its wall time."""
    argv = ["sipp", "-sf", str(SCENARIOS / scenario), "-i", LOOPBACK, "-nostdin", "-f", "5",
            "-trace_stat", "-stf", str(d / "stat.csv"), "-fd", "1",
            "-trace_rtt", "-rtt_freq", "1",
            "-trace_err", "-error_file", str(d / "errors.log"),
            "-trace_logs", "-log_file", str(d / "logs.log"),
            *opts]
    if target:
        argv.append(target)
    (d / "sipp.cmd").write_text(" ".join(argv) + "\n")
    t0 = time.monotonic()
    p = PROCS.start(name, argv, cwd=d, stdout=open(d / "sipp.out", "wb"), stderr=subprocess.STDOUT)
    deadline = t0 + timeout
    while p.poll() is None:
        if on_tick:
            on_tick(p, time.monotonic() - t0)
        if time.monotonic() > deadline:
            log(f"{name}: still running after {timeout:.0f} s; stopping it")
            PROCS.stop(p, grace=5.0)
            break
        time.sleep(0.2)
    return p, time.monotonic() - t0


# --------------------------------------------------------------------------
# capacity

def rtp_summary(calls: list[dict]) -> dict:
    answered = [v for v in calls if v.get("outcome") == "answered"]
    rec = sum(int(v.get("rtp", {}).get("received", 0)) for v in answered)
    lost = sum(int(v.get("rtp", {}).get("lost", 0)) for v in answered)
    sent = sum(int(v.get("rtp", {}).get("sent", 0)) for v in answered)
    invalid = sum(int(v.get("rtp", {}).get("invalid", 0)) for v in answered)
    jit = sorted(float(v.get("rtp", {}).get("jitter_ms", 0.0)) for v in answered)
    # Packets a call should have received: 50 a second from the ACK (≈ answer) on.
    ratio = sorted(int(v.get("rtp", {}).get("received", 0)) / max(1.0, v.get("duration_ms", 0) / 20.0)
                   for v in answered)
    return {
        "calls_reported": len(calls),
        "answered": len(answered),
        "rejected": sum(1 for v in calls if v.get("outcome") == "rejected"),
        "rtp_sent": sent,
        "rtp_received": rec,
        "rtp_lost": lost,
        "rtp_invalid": invalid,
        "loss_pct": round(100.0 * lost / (rec + lost), 4) if rec + lost else None,
        "jitter_ms_p50": pct(jit, 50),
        "jitter_ms_p95": pct(jit, 95),
        "jitter_ms_max": jit[-1] if jit else None,
        # Received ÷ (call duration / 20 ms): ~1.0 when the caller's stream was
        # complete; well below 1 means SIPp (the sender) fell behind.
        "rx_completeness_min": round(ratio[0], 3) if ratio else None,
        "rx_completeness_p50": round(pct(ratio, 50), 3) if ratio else None,
    }


def setup_summary(rtt: list[tuple[float, float]]) -> dict:
    times = sorted(r for _, r in rtt)
    span = (rtt[-1][0] - rtt[0][0]) / 1000.0 if len(rtt) > 1 else 0.0
    return {
        "setup_ms_p50": pct(times, 50),
        "setup_ms_p95": pct(times, 95),
        "setup_ms_max": times[-1] if times else None,
        # Answered calls per second while SIPp was placing them.
        "answers_per_s": round((len(rtt) - 1) / span, 1) if span > 0 else None,
    }


def media_step(args, serve: Serve, rtcp: RtcpSink, audio: Path, work: Path, n: int, ports: dict,
               idx: int) -> dict:
    d = work / f"media-{idx:02d}-{n}"
    link_audio(audio, d)
    ramp = n / args.rate
    hold_ms = int((ramp + args.hold_secs) * 1000)
    before = machine_state()
    log(f"media step {n} calls: ramp {ramp:.1f} s at {args.rate}/s, then all {n} up for "
        f"{args.hold_secs} s (load {before['loadavg_1m']})")
    cpu = CpuWindow({"voxhire": serve.p.pid})
    marks = {"start": False, "end": False}

    def tick(p, t):
        # The measurement window: all calls up (ramp done) until just before BYEs.
        if not marks["start"] and t >= ramp + 1.0:
            cpu.pids["sipp"] = p.pid
            cpu.mark()
            marks["start"] = True
            marks["t0"] = time.monotonic()
        if marks["start"] and not marks["end"] and t >= ramp + args.hold_secs - 0.5:
            marks["cpu"] = cpu.done()
            marks["end"] = True
            marks["t1"] = time.monotonic()

    opts = ["-p", str(ports["sipp"]), "-mp", str(ports["mp"]),
            "-d", str(hold_ms), "-l", str(n), "-m", str(n), "-r", str(args.rate),
            "-recv_timeout", "20000", "-max_invite_retrans", "3",
            "-rtp_threadtasks", str(args.rtp_threadtasks)]
    t_start = time.monotonic()
    p, wall = run_sipp(f"sipp media {n}", "caller-media.xml", d, f"{LOOPBACK}:{ports['serve']}",
                       opts, timeout=ramp + args.hold_secs + ramp + 90, on_tick=tick)
    calls = serve.wait_calls(p.pid, n, timeout=20)
    rtcp.dump(d / "rtcp.csv", t_start, time.monotonic())
    st = sipp_stats(d / "stat.csv")
    res = {
        "target_calls": n,
        "rate": args.rate,
        "hold_secs_all_up": args.hold_secs,
        "call_ms": hold_ms,
        "sipp_exit": p.returncode,
        "wall_secs": round(wall, 1),
        "machine_before": before,
        "cpu_all_up": marks.get("cpu", {}),
        "sipp": st,
        **setup_summary(sipp_rtt(d)),
        **rtp_summary(calls),
        **(rtcp.window(marks["t0"], marks["t1"]) if "t1" in marks else {}),
        "dir": str(d),
    }
    res["concurrent_reached"] = st.get("max_concurrent")
    # Jitter while all calls are up (voxhire's RTCP reports in the window);
    # the per-call figure at hang-up also carries SIPp's teardown (see README).
    res["jitter_judged_ms"] = (res.get("rtcp_jitter_ms_p95") if res.get("rtcp_reports")
                               else res["jitter_ms_p95"])
    res["failed_calls"] = st.get("failed", n) + max(0, n - st.get("successful", 0) - st.get("failed", 0))
    res["pass"] = bool(
        res["failed_calls"] == 0
        and res["answered"] == n
        and res["loss_pct"] is not None and res["loss_pct"] < args.max_loss_pct
        and res["jitter_judged_ms"] is not None and res["jitter_judged_ms"] < args.max_jitter_ms
        and (res["rx_completeness_min"] or 0) >= 0.9
    )
    return res


def control_step(args, audio: Path, work: Path, n: int, ports: dict) -> dict:
    """The same calls as a media step, answered by SIPp (sink-answer.xml) with
    the RTP going to a kernel-timestamped sink: what this machine and SIPp's
    sender give any receiver at this load, without voxhire."""
    d = work / f"control-{n}"
    link_audio(audio, d)
    (d / "uas").mkdir(exist_ok=True)
    ramp = n / args.rate
    hold_ms = int((ramp + args.hold_secs) * 1000)
    before = machine_state()
    log(f"control {n} calls (SIPp answers, RTP to a timestamping sink; no voxhire) "
        f"(load {before['loadavg_1m']})")
    sink = RtpSink(ports["sink"])
    uas_argv = ["sipp", "-sf", str(SCENARIOS / "sink-answer.xml"), "-i", LOOPBACK,
                "-p", str(ports["ctrl_sip"]), "-mp", str(ports["ctrl_mp"]),
                "-key", "sink_port", str(ports["sink"]), "-nostdin", "-f", "5",
                "-trace_stat", "-stf", str(d / "uas" / "stat.csv"), "-fd", "1",
                "-trace_err", "-error_file", str(d / "uas" / "errors.log")]
    (d / "uas" / "sipp.cmd").write_text(" ".join(uas_argv) + "\n")
    uas = PROCS.start("sipp control answerer", uas_argv, cwd=d / "uas",
                      stdout=open(d / "uas" / "sipp.out", "wb"), stderr=subprocess.STDOUT)
    time.sleep(0.5)
    marks: dict = {}

    def tick(p, t):
        if "t0" not in marks and t >= ramp + 1.0:
            marks["t0"] = time.monotonic()
            marks["cpu"] = CpuWindow({"sipp": p.pid, "sipp_uas": uas.pid})
            marks["cpu"].mark()
        if "t0" in marks and "t1" not in marks and t >= ramp + args.hold_secs - 0.5:
            marks["t1"] = time.monotonic()
            marks["cpu_all_up"] = marks["cpu"].done()

    opts = ["-p", str(ports["sipp"]), "-mp", str(ports["mp"]),
            "-d", str(hold_ms), "-l", str(n), "-m", str(n), "-r", str(args.rate),
            "-recv_timeout", "20000", "-max_invite_retrans", "3",
            "-rtp_threadtasks", str(args.rtp_threadtasks)]
    try:
        p, wall = run_sipp(f"sipp control {n}", "caller-media.xml", d, f"{LOOPBACK}:{ports['ctrl_sip']}",
                           opts, timeout=ramp + args.hold_secs + ramp + 90, on_tick=tick)
    finally:
        PROCS.stop(uas, grace=5)
        sink.close()
    st = sipp_stats(d / "stat.csv")
    res = {"target_calls": n, "sipp_exit": p.returncode, "machine_before": before,
           "cpu_all_up": marks.get("cpu_all_up", {}), "sipp": st,
           "concurrent_reached": st.get("max_concurrent"), "failed_calls": st.get("failed"),
           **{f"sink_{k}": v for k, v in (sink.window(marks["t0"], marks["t1"]) if "t1" in marks else {}).items()},
           "dir": str(d)}
    log(f"  → control: jitter p50/p95/max {fmt(res.get('sink_jitter_ms_p50'), 2)}/"
        f"{fmt(res.get('sink_jitter_ms_p95'), 2)}/{fmt(res.get('sink_jitter_ms_max'), 2)} ms, "
        f"loss {fmt(res.get('sink_loss_pct'), 3)} % over {res.get('sink_streams')} streams")
    return res


def cps_step(args, serve: Serve, audio: Path, work: Path, rate: int, ports: dict, idx: int) -> dict:
    d = work / f"cps-{idx:02d}-{rate}"
    link_audio(audio, d)
    total = int(rate * args.cps_secs)
    before = machine_state()
    log(f"attempts step {rate}/s: {total} short calls (load {before['loadavg_1m']})")
    cpu = CpuWindow({"voxhire": serve.p.pid})

    def tick(p, t):
        if cpu.t0 is None:
            cpu.pids["sipp"] = p.pid
            cpu.mark()
        cpu.sample()

    opts = ["-p", str(ports["sipp"]), "-mp", str(ports["mp"]),
            "-d", str(args.cps_hold_ms), "-r", str(rate), "-m", str(total),
            "-l", str(max(50, rate * 4)), "-recv_timeout", "10000", "-max_invite_retrans", "3"]
    p, wall = run_sipp(f"sipp attempts {rate}/s", "caller-cps.xml", d, f"{LOOPBACK}:{ports['serve']}",
                       opts, timeout=args.cps_secs * 3 + 60, on_tick=tick)
    used = cpu.done()
    calls = serve.wait_calls(p.pid, total, timeout=15)
    st = sipp_stats(d / "stat.csv")
    rtt = sipp_rtt(d)
    failed = st.get("failed", total) + max(0, total - st.get("successful", 0) - st.get("failed", 0))
    achieved = setup_summary(rtt)["answers_per_s"]
    res = {
        "target_rate": rate,
        "calls": total,
        "sipp_exit": p.returncode,
        "wall_secs": round(wall, 1),
        "machine_before": before,
        "cpu": used,
        "sipp": st,
        **setup_summary(rtt),
        "failed_calls": failed,
        "failed_pct": round(100.0 * failed / total, 2) if total else None,
        "voxhire_lines": len(calls),
        "voxhire_answered": sum(1 for v in calls if v.get("outcome") == "answered"),
        "voxhire_rejected": sum(1 for v in calls if v.get("outcome") == "rejected"),
        "dir": str(d),
    }
    res["achieved_rate"] = achieved
    res["pass"] = bool(res["failed_pct"] is not None and res["failed_pct"] < 1.0
                       and achieved is not None and achieved >= 0.9 * rate)
    return res


def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def print_report(rep: dict) -> None:
    out = []
    m = rep["machine"]
    out.append("")
    out.append(f"voxhire load test — {rep['started']}  ({m['cpus']} CPUs, {m['platform']})")
    out.append(f"  voxhire: {rep['voxhire_version']}   sipp: {rep['sipp_version']}")
    out.append(f"  load before: {rep['machine_before']['uptime']}")
    if rep.get("media_steps"):
        out.append("")
        out.append("Media only (serve --play, caller streams PCMU the whole call; RTP as voxhire received it)")
        out.append("  jitter all up: voxhire's RTCP reports while every call of the step is up;"
                   " at hang-up: each call's final figure (its JSON line)")
        hdr = (f"{'target':>6} {'reached':>7} {'fail':>5} {'setup p50/p95/max ms':>21} "
               f"{'loss %':>8} {'jitter all up p50/p95/max':>26} {'at hang-up p50/p95':>18} "
               f"{'rx min':>6} {'vox cpu%':>8} {'sipp cpu%':>9} {'other cpu%':>10} {'load1':>5}  ok")
        out.append(hdr)
        for s in rep["media_steps"]:
            c = s.get("cpu_all_up", {})
            out.append(
                f"{s['target_calls']:>6} {fmt(s['concurrent_reached']):>7} {fmt(s['failed_calls']):>5} "
                f"{fmt(s['setup_ms_p50'], 0) + '/' + fmt(s['setup_ms_p95'], 0) + '/' + fmt(s['setup_ms_max'], 0):>21} "
                f"{fmt(s['loss_pct'], 3):>8} "
                f"{fmt(s.get('rtcp_jitter_ms_p50'), 2) + '/' + fmt(s.get('rtcp_jitter_ms_p95'), 2) + '/' + fmt(s.get('rtcp_jitter_ms_max'), 2):>26} "
                f"{fmt(s['jitter_ms_p50'], 2) + '/' + fmt(s['jitter_ms_p95'], 2):>18} "
                f"{fmt(s['rx_completeness_min'], 2):>6} {fmt(c.get('voxhire_cpu_pct')):>8} "
                f"{fmt(c.get('sipp_cpu_pct')):>9} {fmt(c.get('others_cpu_pct')):>10} "
                f"{s['machine_before']['loadavg_1m']:>5}  {'yes' if s['pass'] else 'NO'}")
        for s in rep.get("control_steps", []):
            c = s.get("cpu_all_up", {})
            sipp_cpu = (c.get("sipp_cpu_pct") or 0) + (c.get("sipp_uas_cpu_pct") or 0)
            out.append(
                f"{'ctl ' + str(s['target_calls']):>6} {fmt(s['concurrent_reached']):>7} {fmt(s['failed_calls']):>5} "
                f"{'(no voxhire)':>21} {fmt(s.get('sink_loss_pct'), 3):>8} "
                f"{fmt(s.get('sink_jitter_ms_p50'), 2) + '/' + fmt(s.get('sink_jitter_ms_p95'), 2) + '/' + fmt(s.get('sink_jitter_ms_max'), 2):>26} "
                f"{'-':>18} {'-':>6} {'-':>8} {fmt(sipp_cpu):>9} {fmt(c.get('others_cpu_pct')):>10} "
                f"{s['machine_before']['loadavg_1m']:>5}")
        if rep.get("control_steps"):
            out.append("  ctl N: the same N calls answered by SIPp, RTP into a kernel-timestamped sink (the jitter "
                       "floor of this machine + SIPp's sender; 'other cpu%' includes the sink)")
    if rep.get("cps_steps"):
        out.append("")
        out.append(f"Call attempts (INVITE → 200 → ACK → BYE after {rep['params']['cps_hold_ms']} ms, no audio)")
        out.append(f"{'target/s':>8} {'calls':>6} {'achieved/s':>10} {'failed':>6} {'fail %':>6} "
                   f"{'setup p50/p95/max ms':>21} {'vox cpu%':>8} {'sipp cpu%':>9} {'other cpu%':>10} "
                   f"{'load1':>5}  ok")
        for s in rep["cps_steps"]:
            out.append(
                f"{s['target_rate']:>8} {s['calls']:>6} {fmt(s['achieved_rate']):>10} {s['failed_calls']:>6} "
                f"{fmt(s['failed_pct'], 2):>6} "
                f"{fmt(s['setup_ms_p50'], 0) + '/' + fmt(s['setup_ms_p95'], 0) + '/' + fmt(s['setup_ms_max'], 0):>21} "
                f"{fmt(s['cpu'].get('voxhire_cpu_pct')):>8} {fmt(s['cpu'].get('sipp_cpu_pct')):>9} "
                f"{fmt(s['cpu'].get('others_cpu_pct')):>10} "
                f"{s['machine_before']['loadavg_1m']:>5}  {'yes' if s['pass'] else 'NO'}")
    out.append("")
    for line in rep["verdict"]:
        out.append(line)
    print("\n".join(out), flush=True)


def cmd_capacity(args) -> int:
    check_tools(["sipp", "sox", "espeak-ng"])
    steps = [int(x) for x in args.steps.split(",") if x.strip()]
    cps_rates = [int(x) for x in args.cps_rates.split(",") if x.strip()]
    top = max(steps + [1])
    raise_nofile(4 * max(top, args.max_calls) + 256)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="voxhire-loadtest-"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"work directory: {work}")
    binary = snapshot_binary(Path(args.voxhire), work) if not args.no_snapshot else Path(args.voxhire)
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
    sipp_version = subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout
    sipp_version = next((l.strip() for l in sipp_version.splitlines() if "SIPp v" in l), "?")
    audio = work / "audio"
    log("making audio (espeak-ng + sox)")
    durations = make_audio(audio)

    taken: set[int] = set()
    ports = {"serve": free_port(args.sip_port, 1, taken),
             "sipp": free_port(args.sip_port + 10, 1, taken),
             "ctrl_sip": free_port(args.sip_port + 20, 1, taken),
             "mp": free_port(args.media_port, 4, taken),
             "ctrl_mp": free_port(args.media_port + 10, 4, taken),
             "sink": free_port(args.media_port + 20, 1, taken)}
    control_steps = [int(x) for x in args.control_steps.split(",") if x.strip()]
    lo, hi = (int(x) for x in args.rtp_ports.split("-"))
    rep = {
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join([sys.executable, *sys.argv]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0]},
        "machine_before": machine_state(),
        "voxhire_version": version, "voxhire_binary": str(args.voxhire),
        "sipp_version": sipp_version,
        "params": {"steps": steps, "rate": args.rate, "hold_secs": args.hold_secs,
                   "cps_rates": cps_rates, "cps_secs": args.cps_secs, "cps_hold_ms": args.cps_hold_ms,
                   "max_calls": args.max_calls, "rtp_ports": args.rtp_ports,
                   "max_loss_pct": args.max_loss_pct, "max_jitter_ms": args.max_jitter_ms,
                   "control_steps": control_steps,
                   "ports": ports, "audio_secs": durations},
        "media_steps": [], "control_steps": [], "cps_steps": [], "verdict": [], "workdir": str(work),
    }
    if (hi - lo + 1) // 2 < top:
        log(f"warning: --rtp-ports {args.rtp_ports} holds {(hi - lo + 1) // 2} calls, fewer than {top}")

    rtcp = RtcpSink(ports["mp"] + 1)
    serve = Serve(binary, ["--sip", f"{LOOPBACK}:{ports['serve']}", "--rtp-ports", args.rtp_ports,
                           "--play", str(audio / "prompt.wav"), "--max-calls", str(args.max_calls)],
                  work, "media")
    log(f"voxhire serve listening on {LOOPBACK}:{ports['serve']} (pid {serve.p.pid})")

    def write_report():
        if args.out:
            Path(args.out).write_text(json.dumps(rep, indent=2) + "\n")

    try:
        if not args.skip_media:
            for i, n in enumerate(steps):
                s = media_step(args, serve, rtcp, audio, work, n, ports, i)
                rep["media_steps"].append(s)
                write_report()
                log(f"  → reached {s['concurrent_reached']}, failed {s['failed_calls']}, loss "
                    f"{fmt(s['loss_pct'], 3)} %, jitter p95 {fmt(s.get('rtcp_jitter_ms_p95'), 2)} ms all up "
                    f"({fmt(s['jitter_ms_p95'], 2)} ms at hang-up), "
                    f"voxhire cpu {s['cpu_all_up'].get('voxhire_cpu_pct', '-')} %: "
                    f"{'pass' if s['pass'] else 'FAIL'}")
                if not s["pass"] and not args.keep_going:
                    log("stopping the ramp at the first failing step (--keep-going to go on)")
                    break
                time.sleep(args.pause_secs)
        if not args.skip_media:
            for n in control_steps:
                rep["control_steps"].append(control_step(args, audio, work, n, ports))
                write_report()
                time.sleep(args.pause_secs)
        if not args.skip_cps:
            for i, r in enumerate(cps_rates):
                s = cps_step(args, serve, audio, work, r, ports, i)
                rep["cps_steps"].append(s)
                write_report()
                log(f"  → achieved {fmt(s['achieved_rate'])}/s, failed {s['failed_calls']} "
                    f"({fmt(s['failed_pct'], 2)} %): {'pass' if s['pass'] else 'FAIL'}")
                if not s["pass"] and not args.keep_going:
                    log("stopping the attempts ramp at the first failing rate")
                    break
                time.sleep(args.pause_secs)
    finally:
        code = serve.stop()
        rtcp.close()
        rep["voxhire_exit"] = code

    crit = f"< {args.max_loss_pct:g} % RTP loss and jitter < {args.max_jitter_ms:g} ms"
    steps_run = rep["media_steps"]
    if steps_run:
        # The capacity is the last step of an unbroken run of passing steps.
        best = None
        for s in steps_run:
            if not s["pass"]:
                break
            best = s
        failing = [s for s in steps_run if not s["pass"]]
        if best:
            line = f"media-only capacity: {best['concurrent_reached']} concurrent calls with {crit}"
            if not failing:
                line += " (every step passed: the ceiling is higher; add steps)"
            else:
                line += f" (failed at {failing[0]['target_calls']})"
        else:
            line = f"media-only capacity: below {steps_run[0]['target_calls']} concurrent calls with {crit}"
        rep["verdict"].append(line)
        rep["verdict"].append("  jitter judged: p95 of voxhire's RTCP reports while every call of the step is up")
        later = [s for s in steps_run if s["pass"] and failing and s["target_calls"] > failing[0]["target_calls"]]
        if later:
            rep["verdict"].append(
                f"  note: {', '.join(str(s['target_calls']) for s in later)} passed after a failing step: "
                "the failures did not come from load on voxhire (see 'other cpu%' and the ctl rows)")
        worst_loss = max((s["loss_pct"] or 0) for s in steps_run)
        rep["verdict"].append(
            f"  RTP loss at every step ≤ {worst_loss:g} %; voxhire CPU with "
            f"{steps_run[-1]['concurrent_reached']} calls up: "
            f"{steps_run[-1].get('cpu_all_up', {}).get('voxhire_cpu_pct', '-')} % of one core")
        for c in rep.get("control_steps", []):
            rep["verdict"].append(
                f"  control without voxhire, {c['target_calls']} calls: jitter p95 "
                f"{fmt(c.get('sink_jitter_ms_p95'), 2)} ms (the floor of this machine and SIPp's sender)")
    if rep["cps_steps"]:
        ok = [s for s in rep["cps_steps"] if s["pass"]]
        if ok:
            best = max(ok, key=lambda s: s["achieved_rate"] or 0)
            line = (f"call attempts/s: {best['achieved_rate']:.0f} (target {best['target_rate']}/s, "
                    f"{best['failed_pct']} % failed)")
            if len(ok) == len(rep["cps_steps"]):
                line += " (every rate passed: the ceiling is higher; add rates)"
        else:
            line = f"call attempts/s: below {rep['cps_steps'][0]['target_rate']} (< 1 % failed not reached)"
        rep["verdict"].append(line)
    rep["machine_after"] = machine_state()
    write_report()
    print_report(rep)
    if args.out:
        log(f"report written to {args.out}")
    log(f"logs and SIPp traces kept in {work}")
    return 0


# --------------------------------------------------------------------------
# interview

def cmd_interview(args) -> int:
    check_tools(["sipp", "sox", "espeak-ng"])
    raise_nofile(4096)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="voxhire-loadtest-interview-"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"work directory: {work}")
    binary = snapshot_binary(Path(args.voxhire), work) if not args.no_snapshot else Path(args.voxhire)
    audio = work / "audio"
    durations = make_audio(audio)
    taken: set[int] = set()
    ports = {"serve": free_port(args.sip_port, 1, taken), "sipp": free_port(args.sip_port + 10, 1, taken),
             "mp": free_port(args.media_port, 4, taken)}
    before = machine_state()
    script = Path(args.script).resolve()
    serve_args = ["--sip", f"{LOOPBACK}:{ports['serve']}", "--rtp-ports", args.rtp_ports,
                  "--script", str(script), "--out", str(work / "runs")]
    if args.max_calls:
        serve_args += ["--max-calls", str(args.max_calls)]
    log(f"starting voxhire serve --script {script} (loads the models)")
    t0 = time.monotonic()
    serve = Serve(binary, serve_args, work, "interview", listen_timeout=600)
    load_secs = time.monotonic() - t0
    log(f"listening after {load_secs:.1f} s; {args.calls} interview call(s) at {args.rate}/s")
    d = work / "sipp-interview"
    link_audio(audio, d)
    cpu = CpuWindow({"voxhire": serve.p.pid})
    cpu.mark()
    try:
        p, wall = run_sipp("sipp interview", "caller-interview.xml", d, f"{LOOPBACK}:{ports['serve']}",
                           ["-p", str(ports["sipp"]), "-mp", str(ports["mp"]), "-m", str(args.calls),
                            "-l", str(args.calls), "-r", str(args.rate)],
                           timeout=args.calls / args.rate + 420)
        used = cpu.done()
        calls = serve.wait_calls(p.pid, args.calls, timeout=30)
    finally:
        serve.stop()
    st = sipp_stats(d / "stat.csv")
    rows = []
    for v in sorted(calls, key=lambda v: v.get("call_id", "")):
        run_dir = Path(v["recording"]).parent if v.get("recording") else None
        rpt = {}
        if run_dir and (run_dir / "report.json").is_file():
            try:
                rpt = json.loads((run_dir / "report.json").read_text())
            except ValueError:
                rpt = {}
        rows.append({"call_id": v.get("call_id"), "outcome": v.get("outcome"),
                     "duration_s": round(v.get("duration_ms", 0) / 1000, 1),
                     "rtp": v.get("rtp"), "status": rpt.get("status"), "score": rpt.get("score"),
                     "recommendation": rpt.get("recommendation"), "run_dir": str(run_dir) if run_dir else None})
    ended_by = {}
    log_file = d / "logs.log"
    if log_file.is_file():
        for line in log_file.read_text().splitlines():
            if "ended_by=" in line:
                k = line.rsplit("ended_by=", 1)[1].strip()
                ended_by[k] = ended_by.get(k, 0) + 1
    rep = {"machine_before": before, "script": str(script), "calls": args.calls, "rate": args.rate,
           "model_load_secs": round(load_secs, 1), "sipp_exit": p.returncode, "wall_secs": round(wall, 1),
           "sipp": st, **setup_summary(sipp_rtt(d)), "cpu": used, "ended_by": ended_by,
           "interviews": rows, "audio_secs": durations, "workdir": str(work)}
    if args.out:
        Path(args.out).write_text(json.dumps(rep, indent=2) + "\n")
    print(f"\ninterviews: {len(rows)} reported of {args.calls}; SIPp successful {st.get('successful')}, "
          f"failed {st.get('failed')}; ended by {ended_by}; voxhire cpu {used.get('voxhire_cpu_pct')} % "
          f"over {used.get('secs')} s (load before {before['loadavg_1m']})")
    for r in rows:
        rtp = r["rtp"] or {}
        print(f"  {r['call_id']}: {r['outcome']} {r['duration_s']} s, status {r['status']}, score {r['score']}, "
              f"{r['recommendation']}; rtp rx {rtp.get('received')} lost {rtp.get('lost')} "
              f"jitter {rtp.get('jitter_ms')} ms  [{r['run_dir']}]")
    log(f"logs kept in {work}")
    return 0 if st.get("failed", 1) == 0 and len(rows) == args.calls else 1


# --------------------------------------------------------------------------
# campaign

CANDIDATES = [
    # id, name, scenario
    ("alice", "Alice Morgan", "candidate-answer.xml"),
    ("bob", "Bob Okafor", "candidate-busy.xml"),
    ("carol", "Carol Diaz", "candidate-no-answer.xml"),
    ("dave", "Dave Miller", "candidate-voicemail.xml"),
]


def cmd_campaign(args) -> int:
    check_tools(["sipp", "sox", "espeak-ng"])
    raise_nofile(4096)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="voxhire-loadtest-campaign-"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"work directory: {work}")
    binary = snapshot_binary(Path(args.voxhire), work) if not args.no_snapshot else Path(args.voxhire)
    audio = work / "audio"
    make_audio(audio, hello_first=bool(args.answering_machine))
    taken: set[int] = set()
    uas = {}
    try:
        rows = ["id,name,uri,language,timezone"]
        for i, (cid, name, scen) in enumerate(CANDIDATES):
            d = work / f"sipp-{cid}"
            link_audio(audio, d)
            port = free_port(args.sip_port + i, 1, taken)
            mp = free_port(args.media_port + 10 * i, 4, taken)
            argv = ["sipp", "-sf", str(SCENARIOS / scen), "-i", LOOPBACK, "-p", str(port), "-mp", str(mp),
                    "-nostdin", "-f", "5", "-trace_stat", "-stf", str(d / "stat.csv"), "-fd", "1",
                    "-trace_err", "-error_file", str(d / "errors.log")]
            (d / "sipp.cmd").write_text(" ".join(argv) + "\n")
            uas[cid] = (PROCS.start(f"sipp {scen}", argv, cwd=d, stdout=open(d / "sipp.out", "wb"),
                                    stderr=subprocess.STDOUT), d, scen, port)
            rows.append(f"{cid},{name},sip:{cid}@{LOOPBACK}:{port},en,UTC")
        time.sleep(0.5)
        for cid, (p, d, scen, port) in uas.items():
            if p.poll() is not None:
                sys.exit(f"SIPp {scen} exited at once: {(d / 'sipp.out').read_text(errors='replace')[-2000:]}")
        camp = work / "campaign"
        camp.mkdir(exist_ok=True)
        (camp / "candidates.csv").write_text("\n".join(rows) + "\n")
        (camp / "do-not-call.txt").write_text("")
        script = Path(args.script).resolve()
        retry_on = '"busy", "no_answer", "failed"'
        amd = ""
        if args.answering_machine:
            # Needs a voxhire with answering-machine detection (commit aff6ee0 on).
            retry_on = '"busy", "no_answer", "voicemail", "failed"'
            amd = f'\n[answering_machine]\non_machine = "{args.answering_machine}"\n'
        (camp / "campaign.toml").write_text(f"""# Written by loadtest/run.py campaign.
name = "loadtest"
candidates = "candidates.csv"
do_not_call = "do-not-call.txt"
opt_outs = "{work / 'opted-out.txt'}"
out_dir = "{work / 'runs'}"
max_concurrent_calls = {args.concurrent}
ring_timeout_secs = {args.ring_timeout}
default_language = "en"
script = "{script}"

[pacing]
min_gap_ms = 200

[retry]
max_attempts = {args.attempts}
backoff_secs = [5]
on = [{retry_on}]

[calling_window]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "00:00"
end = "24:00"
{amd}""")
        before = machine_state()
        argv = [str(binary), "campaign", "run", str(camp / "campaign.toml"), "--sip", f"{LOOPBACK}:0",
                "--rtp-ports", args.rtp_ports, "--quiet"]
        if args.max_calls:
            argv += ["--max-calls", str(args.max_calls)]
        (work / "campaign.cmd").write_text(" ".join(argv) + "\n")
        log("running: " + " ".join(argv))
        t0 = time.monotonic()
        cp = PROCS.start("voxhire campaign run", argv, cwd=work, env=voxhire_env(),
                         stdout=open(work / "campaign.stdout", "wb"), stderr=open(work / "campaign.stderr", "wb"))
        try:
            cp.wait(args.timeout)
        except subprocess.TimeoutExpired:
            log(f"campaign still running after {args.timeout} s; stopping it")
            PROCS.stop(cp, grace=40)
        wall = time.monotonic() - t0
        for cid, (p, d, scen, port) in uas.items():
            PROCS.stop(p, grace=5)
    finally:
        PROCS.stop_all()
    summary_path = work / "runs" / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else None
    sipp_side = {cid: sipp_stats(d / "stat.csv") for cid, (p, d, scen, port) in uas.items()}
    rep = {"machine_before": before, "wall_secs": round(wall, 1), "campaign_exit": cp.returncode,
           "summary": summary, "sipp": sipp_side, "workdir": str(work)}
    if args.out:
        Path(args.out).write_text(json.dumps(rep, indent=2, default=str) + "\n")
    print((work / "campaign.stdout").read_text(errors="replace"))
    if cp.returncode != 0:
        print((work / "campaign.stderr").read_text(errors="replace")[-2000:], file=sys.stderr)
    print(f"campaign exit {cp.returncode} after {wall:.0f} s (load before {before['loadavg_1m']})")
    for cid, (p, d, scen, port) in uas.items():
        s = sipp_side[cid]
        print(f"  {cid:6} {scen:26} SIPp: calls {s.get('incoming')}, successful {s.get('successful')}, "
              f"failed {s.get('failed')}")
    log(f"logs kept in {work}")
    return 0 if cp.returncode == 0 else 1


# --------------------------------------------------------------------------
# nodes: one campaign shared by N `voxhire server` nodes on one PostgreSQL store.

def start_postgres(work: Path) -> tuple[subprocess.Popen, str, Path]:
    """A throwaway PostgreSQL cluster (Debian's package) on a free loopback
    port, as the tests start it; run as the `postgres` user under root."""
    versions = sorted((int(p.name), p / "bin") for p in Path("/usr/lib/postgresql").glob("*")
                      if p.name.isdigit() and (p / "bin" / "postgres").is_file())
    if not versions:
        sys.exit("PostgreSQL is not installed (apt-get install postgresql, or scripts/setup.sh)")
    bin_dir = versions[-1][1]
    root = os.geteuid() == 0
    pre = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] if root else []
    pg = Path(tempfile.mkdtemp(prefix="voxhire-loadtest-pg-"))
    if root:
        shutil.chown(pg, "postgres", "postgres")
    subprocess.run(pre + [str(bin_dir / "initdb"), "-D", str(pg / "data"), "-U", "voxhire", "--auth=trust",
                          "-E", "UTF8", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
    port = free_port(25400)
    proc = PROCS.start("postgres", pre + [str(bin_dir / "postgres"), "-D", str(pg / "data"), "-p", str(port),
                                          "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                                          "-c", "fsync=off"],
                       stdout=subprocess.DEVNULL, stderr=open(work / "postgres.log", "wb"))
    deadline = time.monotonic() + 30
    while subprocess.run([str(bin_dir / "pg_isready"), "-h", LOOPBACK, "-p", str(port), "-q"]).returncode != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"postgres did not start: {(work / 'postgres.log').read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    return proc, f"postgres://voxhire@{LOOPBACK}:{port}", bin_dir


def http_json(addr: str, method: str, path: str, key: str, body=None) -> tuple[int, dict | list | None]:
    import urllib.request
    import urllib.error
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://{addr}{path}", data=data, method=method,
                                 headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def cmd_nodes(args) -> int:
    """Candidates per minute with 1, 2, … nodes sharing one campaign."""
    work = Path(args.workdir or tempfile.mkdtemp(prefix="voxhire-loadtest-nodes-"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"work directory: {work}")
    binary = snapshot_binary(Path(args.voxhire), work) if not args.no_snapshot else Path(args.voxhire).resolve()
    sim = Path(args.candidate).resolve()
    if not sim.is_file():
        sys.exit(f"no simulated candidate at {sim} (cargo build --release --bin voxhire-candidate)")
    env = voxhire_env()
    keyfile = work / "master.key"
    keyfile.unlink(missing_ok=True)
    subprocess.run([str(binary), "keys", "generate", "--out", str(keyfile)], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env["VOXHIRE_MASTER_KEYS"] = keyfile.read_text()
    script = Path(args.script).read_text()
    taken: set[int] = set()
    rows = []
    try:
        _, base_url, bin_dir = start_postgres(work)
        sim_port = free_port(args.sip_port, 1, taken)
        lo = free_port(args.media_port, 400, taken)
        simp = PROCS.start("voxhire-candidate",
                           [str(sim), "--sip", f"{LOOPBACK}:{sim_port}", "--rtp-ports", f"{lo}-{lo + 399}",
                            "--scenarios", str(REPO / "tests" / "interview" / "scenarios")],
                           cwd=REPO, env=env, stdout=open(work / "candidate.out", "wb"),
                           stderr=open(work / "candidate.err", "wb"))
        time.sleep(1)
        for n in [int(x) for x in args.nodes.split(",")]:
            run = work / f"nodes-{n}"
            run.mkdir(exist_ok=True)
            db = f"run{n}"
            subprocess.run([str(bin_dir / "psql"), base_url + "/postgres", "-q", "-c", f"DROP DATABASE IF EXISTS {db}",
                            "-c", f"CREATE DATABASE {db}"], check=True)
            url = f"{base_url}/{db}"
            servers = []
            for i in range(n):
                rtp = free_port(args.media_port + 1000, 100, taken)
                argv = [str(binary), "server", "--listen", f"{LOOPBACK}:0", "--sip", f"{LOOPBACK}:0",
                        "--data", str(run / f"node{i + 1}"), "--database", url, "--node", f"n{i + 1}",
                        "--rtp-ports", f"{rtp}-{rtp + 99}", "--max-calls", str(args.max_calls)]
                p = PROCS.start(f"voxhire server n{i + 1}", argv, cwd=run, env=env, stdout=subprocess.PIPE,
                                stderr=open(run / f"node{i + 1}.stderr", "wb"))
                first = json.loads(p.stdout.readline())
                servers.append((p, first["http"], run / f"node{i + 1}.stderr"))
            key = json.loads(subprocess.run(
                [str(binary), "apikey", "create", "--name", "loadtest", "--scope", "write",
                 "--data", str(run / "node1"), "--database", url],
                check=True, env=env, capture_output=True).stdout)["key"]
            http = servers[0][1]
            st, job = http_json(http, "POST", "/api/v1/jobs", key, {
                "title": "loadtest", "script": script,
                "campaign": {"min_gap_ms": args.min_gap_ms, "retry": {"max_attempts": 1, "backoff_secs": [60]}}})
            assert st == 201, job
            ids = []
            for i in range(args.candidates):
                user = f"{args.scenario}+n{n}c{i}"
                st, c = http_json(http, "POST", f"/api/v1/jobs/{job['id']}/candidates", key,
                                  {"name": user, "phone": f"sip:{user}@{LOOPBACK}:{sim_port}"})
                assert st == 201, c
                ids.append(c["id"])
            # Every node joins within its 3 s beat: start the clock when the last has.
            st, r = http_json(http, "POST", f"/api/v1/jobs/{job['id']}/campaign", key, {})
            assert st == 202, r
            t0 = time.monotonic()
            log(f"{n} node(s): campaign of {args.candidates} started")
            settled = {"interviewed", "opted_out", "failed", "no_answer", "rescheduled", "voicemail"}
            while True:
                st, page = http_json(http, "GET", f"/api/v1/jobs/{job['id']}/candidates?limit=200", key)
                statuses = [c["status"] for c in page["items"]]
                done = sum(s in settled for s in statuses)
                if done == len(ids):
                    break
                if time.monotonic() - t0 > args.timeout:
                    log(f"timeout: {done}/{len(ids)} settled")
                    break
                time.sleep(0.5)
            wall = time.monotonic() - t0
            dials = []
            for p, _, err in servers:
                PROCS.stop(p, grace=40)
                dials.append(err.read_text(errors="replace").count("dialling "))
            row = {"nodes": n, "candidates": len(ids), "settled": done, "wall_secs": round(wall, 1),
                   "per_minute": round(done / wall * 60, 1), "dials_per_node": dials,
                   "statuses": {s: statuses.count(s) for s in sorted(set(statuses))}}
            rows.append(row)
            log(json.dumps(row))
        PROCS.stop(simp, grace=5)
    finally:
        PROCS.stop_all()
    print(f"{'nodes':>5} {'candidates':>10} {'settled':>7} {'wall s':>7} {'per min':>7}  dials per node")
    for r in rows:
        print(f"{r['nodes']:>5} {r['candidates']:>10} {r['settled']:>7} {r['wall_secs']:>7} "
              f"{r['per_minute']:>7}  {r['dials_per_node']}  {r['statuses']}")
    if args.out:
        Path(args.out).write_text(json.dumps({"rows": rows, "machine": machine_state()}, indent=2) + "\n")
    log(f"logs kept in {work}")
    return 0 if all(r["settled"] == r["candidates"] for r in rows) else 1


def cmd_audio(args) -> int:
    check_tools(["sox", "espeak-ng"])
    d = Path(args.dir)
    for name, secs in sorted(make_audio(d).items()):
        print(f"{d / name}: {secs} s")
    return 0


# --------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    default_bin = REPO / "target" / "release" / "voxhire"
    ap = argparse.ArgumentParser(
        prog="loadtest/run.py", description=__doc__.split("\n\n")[0],
        epilog="Without a subcommand, `capacity` runs. See loadtest/README.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd")

    def common(p, sip_port, media_port, rtp_ports):
        p.add_argument("--voxhire", default=str(default_bin),
                       help="voxhire binary")
        p.add_argument("--no-snapshot", action="store_true",
                       help="run the binary in place instead of a private copy in the work directory")
        p.add_argument("--workdir", help="where logs, traces and audio go (default: a new /tmp/voxhire-loadtest-*)")
        p.add_argument("--sip-port", type=int, default=sip_port,
                       help="first SIP port to try (voxhire; SIPp uses the next free ones)")
        p.add_argument("--media-port", type=int, default=media_port,
                       help="first SIPp media port to try (-mp; 4 ports each)")
        p.add_argument("--rtp-ports", default=rtp_ports,
                       help="voxhire's RTP range, 2 ports per call")
        p.add_argument("--out", help="write the report as JSON here")

    c = sub.add_parser("capacity", help="media-only capacity ramp, then call attempts/s (default)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    common(c, 25070, 26000, "20000-29999")
    c.add_argument("--steps", default="50,100,200,400,600,800,1000",
                   help="concurrent calls per media step, comma-separated")
    c.add_argument("--rate", type=int, default=100, help="new calls per second while ramping a media step")
    c.add_argument("--hold-secs", type=int, default=20,
                   help="seconds all of a step's calls are up at once (each call lasts ramp + this)")
    c.add_argument("--cps-rates", default="25,50,100,150,200,300,400",
                   help="call attempt rates to try, per second")
    c.add_argument("--cps-secs", type=float, default=10, help="seconds of calls per attempts step")
    c.add_argument("--cps-hold-ms", type=int, default=0, help="how long a short call is held before BYE")
    c.add_argument("--max-calls", type=int, default=2000, help="voxhire serve --max-calls")
    c.add_argument("--max-loss-pct", type=float, default=0.1, help="a media step passes below this RTP loss")
    c.add_argument("--max-jitter-ms", type=float, default=5.0,
                   help="a media step passes when the p95 of the jitter voxhire reports (RTCP) "
                        "while every call is up is below this")
    c.add_argument("--control-steps", default="50,400",
                   help="also run these media steps without voxhire (SIPp answers, RTP to a timestamping "
                        "sink in this script: 50 packets/s per call through Python, keep them modest) to "
                        "show the jitter floor of the machine and the generator; empty for none")
    c.add_argument("--rtp-threadtasks", type=int, default=20,
                   help="SIPp -rtp_threadtasks: RTP streams per SIPp sending thread")
    c.add_argument("--pause-secs", type=float, default=3, help="pause between steps")
    c.add_argument("--keep-going", action="store_true", help="run every step even after one fails")
    c.add_argument("--skip-media", action="store_true", help="only the call attempts ramp")
    c.add_argument("--skip-cps", action="store_true", help="only the media ramp")
    c.set_defaults(func=cmd_capacity)

    i = sub.add_parser("interview", help="inbound interviews against serve --script",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    common(i, 25170, 26100, "30000-30999")
    i.add_argument("--script", default=str(REPO / "config" / "interview-java-backend.en.toml"))
    i.add_argument("--calls", type=int, default=1, help="interviews (all at once, started at --rate)")
    i.add_argument("--rate", type=float, default=1.0, help="new calls per second")
    i.add_argument("--max-calls", type=int, help="voxhire serve --max-calls (default: voxhire's own)")
    i.set_defaults(func=cmd_interview)

    m = sub.add_parser("campaign", help="voxhire campaign run against answer/busy/no-answer/voicemail SIPp candidates",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    common(m, 25270, 26200, "31000-31999")
    m.add_argument("--script", default=str(REPO / "config" / "interview-java-backend.en.toml"))
    m.add_argument("--concurrent", type=int, default=4, help="the campaign's max_concurrent_calls")
    m.add_argument("--ring-timeout", type=int, default=10, help="the campaign's ring_timeout_secs")
    m.add_argument("--attempts", type=int, default=1, help="the campaign's retry.max_attempts")
    m.add_argument("--max-calls", type=int, help="voxhire campaign run --max-calls")
    m.add_argument("--answering-machine", choices=["hang_up", "leave_message"],
                   help="add [answering_machine] on_machine = … to the campaign file (and voicemail to "
                        "retry.on); needs a voxhire built from commit aff6ee0 or later")
    m.add_argument("--timeout", type=float, default=600, help="stop the campaign after this many seconds")
    m.set_defaults(func=cmd_campaign)

    nd = sub.add_parser("nodes", help="one campaign shared by 1, 2, … voxhire server nodes on one PostgreSQL "
                                      "store: candidates per minute",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    common(nd, 25370, 32000, "unused")
    nd.add_argument("--candidate", default=str(REPO / "target" / "release" / "voxhire-candidate"),
                    help="the simulated candidate (tools/candidate) that answers every call")
    nd.add_argument("--scenario", default="dana",
                    help="the simulated candidates' scenario (tests/interview/scenarios): dana consents, "
                         "confirms and opts out at the first question (a short real call)")
    nd.add_argument("--script", default=str(REPO / "config" / "interview-java-backend.en.toml"))
    nd.add_argument("--nodes", default="1,2", help="node counts to run, comma-separated")
    nd.add_argument("--candidates", type=int, default=12, help="candidates per run")
    nd.add_argument("--max-calls", type=int, default=2, help="voxhire server --max-calls, per node")
    nd.add_argument("--min-gap-ms", type=int, default=200, help="the job's pacing, per node")
    nd.add_argument("--timeout", type=float, default=900, help="give a run up after this many seconds")
    nd.set_defaults(func=cmd_nodes)

    a = sub.add_parser("audio", help="write the scenarios' audio files into DIR")
    a.add_argument("dir")
    a.set_defaults(func=cmd_audio)

    if not argv or (argv[0] not in sub.choices and argv[0] not in ("-h", "--help")):
        argv = ["capacity", *argv]
    args = ap.parse_args(argv)
    # Ctrl-C raises KeyboardInterrupt even when started from a shell that
    # ignores SIGINT for background jobs; the finally below stops the children.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        PROCS.stop_all()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
