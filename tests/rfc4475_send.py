#!/usr/bin/env python3
"""Send RFC 4475 torture messages byte-exact over UDP and record the answers.

Used by tests/rfc4475_netns.sh inside a loopback-only network namespace; only
the Python 3 standard library.

Where do responses arrive? RFC 3261 §18.2.2: a UAS sends a UDP response to
the top Via's `received` address (it adds received=<source IP> because the
messages name hosts like 192.0.2.15) at the Via's sent-by port, or 5060 when
there is none (5061 for TLS), or, with `rport` (RFC 3581), back to the source
port. So voxhire listens on 127.0.0.2:5060, this script sends from
127.0.0.1:5060 and also listens on 127.0.0.1 at 5061 and every port a top Via
names. A UA that sends to the Via host itself (or resolves its name) instead
gets nothing through: the namespace has no route off loopback.

Per file: send it, wait up to --wait s for a response with the same Call-ID
(or none, for messages without one); after a provisional response wait up to
--final-wait s for the final one. Outcome = the final status code, else the
last provisional one, else "drop". A final response to an INVITE is ACKed; a
2xx is also ended with BYE so that retransmissions and calls don't pile up.
Responses that carry an earlier file's Call-ID are late retransmissions
("stray"), ACKed again if needed and otherwise ignored.

Exit status: 0 if every outcome is allowed by --expected, 1 on a mismatch or
if --watch-pid died, 2 on usage errors.
"""

import argparse
import os
import random
import re
import select
import socket
import sys
import time


def header_values(raw, *names):
    """Values of the named headers (long or compact form), unfolded."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    # RFC 3261 §7.3.1: a line starting with SP/HT continues the previous one.
    head = re.sub(r"\r\n[ \t]+", " ", head)
    wanted = {n.lower() for n in names}
    out = []
    for line in head.split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in wanted:
            out.append(value.strip())
    return out


def first(raw, *names):
    v = header_values(raw, *names)
    return v[0] if v else None


def call_id(raw):
    return first(raw, "call-id", "i")


def status_code(raw):
    m = re.match(rb"SIP/2\.0 (\d{3})[ \r]", raw)
    return int(m.group(1)) if m else None


def request_method_and_uri(raw):
    parts = raw.split(b"\r\n", 1)[0].decode("utf-8", "replace").split()
    return (parts[0], parts[1]) if len(parts) >= 2 else (parts[0] if parts else "", "")


def cseq(raw):
    v = first(raw, "cseq")
    if not v:
        return None, None
    m = re.match(r"(\d+)\s+(\S+)", v)
    return (int(m.group(1)), m.group(2)) if m else (None, None)


def top_via_port(raw):
    v = first(raw, "via", "v")
    if not v:
        return None
    m = re.match(r"SIP\s*/\s*2\.0\s*/\s*(\w+)\s+([^;,\s]+)", v, re.I)
    if not m:
        return None
    host = m.group(2)
    if host.startswith("["):
        port = host.rsplit("]:", 1)[1] if "]:" in host else None
    else:
        port = host.rsplit(":", 1)[1] if ":" in host else None
    if port and port.isdigit():
        return int(port)
    return 5061 if m.group(1).upper() == "TLS" else 5060


def contact_uri(raw):
    v = first(raw, "contact", "m")
    if not v:
        return None
    m = re.search(r"<([^>]+)>", v)
    return m.group(1) if m else v.split(";")[0].strip()


def transaction_key(raw):
    """RFC 3261 §17.2.3: a server transaction is matched by the top Via's
    branch (when it has the z9hG4bK cookie) and sent-by, plus the method.
    Several RFC 4475 messages reuse branch + sent-by (e.g. cparam01/cparam02),
    so a UA that is still in the first one's transaction lifetime (Timer J,
    32 s) rightly treats the second as a retransmission and repeats the first
    answer. Such messages must go to a fresh voxhire (see --plan). The method
    is left out on purpose: mismatch01 has different request-line and CSeq
    methods, and grouping without it is merely conservative."""
    via = first(raw, "via", "v") or ""
    branch = re.search(r"branch\s*=\s*([^;,\s]+)", via, re.I)
    sent_by = re.match(r"SIP\s*/\s*2\.0\s*/\s*\w+\s+([^;,\s]+)", via, re.I)
    if not branch or not branch.group(1).startswith("z9hG4bK") or not sent_by:
        return None
    return (branch.group(1), sent_by.group(1).lower())


def plan(names, messages):
    """Split the files into rounds in which no two share a transaction key."""
    rounds = []
    for name in names:
        key = transaction_key(messages[name])
        for r in rounds:
            if key is None or key not in r["keys"]:
                r["files"].append(name)
                if key is not None:
                    r["keys"].add(key)
                break
        else:
            rounds.append({"files": [name], "keys": {key} if key else set()})
    return [r["files"] for r in rounds]


class Sender:
    def __init__(self, target, bind_ip, ports, verbose):
        self.target = target
        self.bind_ip = bind_ip
        self.verbose = verbose
        self.socks = {}
        for port in sorted(set(ports)):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((bind_ip, port))
            s.setblocking(False)
            self.socks[port] = s
        self.main = self.socks[5060]
        self.requests = {}  # Call-ID -> request bytes, for late ACKs
        self.strays = 0

    def log(self, msg):
        if self.verbose:
            print("   " + msg, file=sys.stderr)

    def send(self, data):
        self.main.sendto(data, self.target)

    def receive(self, timeout):
        r, _, _ = select.select(list(self.socks.values()), [], [], max(0.0, timeout))
        out = []
        for s in r:
            while True:
                try:
                    data, src = s.recvfrom(65535)
                except BlockingIOError:
                    break
                out.append((s.getsockname()[1], src, data))
        return out

    def new_branch(self):
        return "z9hG4bK-rfc4475-%08x" % random.getrandbits(32)

    def ack(self, request, response, bye=True):
        """ACK a final response to an INVITE (§17.1.1.3 for non-2xx,
        §13.2.2.4 for 2xx), then (unless bye=False) BYE a 2xx."""
        code = status_code(response)
        num, _ = cseq(response)
        frm = first(response, "from", "f")
        to = first(response, "to", "t")
        cid = call_id(response)
        if num is None or not frm or not to or not cid:
            return
        if 200 <= code < 300:
            uri = contact_uri(response) or request_method_and_uri(request)[1]
            via = "SIP/2.0/UDP %s:5060;branch=%s;rport" % (self.bind_ip, self.new_branch())
        else:
            uri = request_method_and_uri(request)[1]
            via = (first(response, "via", "v") or "").split(",")[0].strip()
        common = "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nMax-Forwards: 70\r\n" % (frm, to, cid)
        ack = "ACK %s SIP/2.0\r\nVia: %s\r\n%sCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n" % (
            uri, via, common, num)
        self.send(ack.encode())
        self.log("sent ACK for %d" % code)
        if bye and 200 <= code < 300:
            bye = ("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=%s;rport\r\n%s"
                   "CSeq: %d BYE\r\nContent-Length: 0\r\n\r\n") % (
                uri, self.bind_ip, self.new_branch(), common, num + 1)
            self.send(bye.encode())
            self.log("sent BYE")

    def handle_stray(self, data):
        """Late responses/requests from an earlier exchange."""
        self.strays += 1
        if data.startswith(b"SIP/2.0"):
            code = status_code(data)
            request = self.requests.get(call_id(data))
            if request and code and code >= 200 and cseq(data)[1] == "INVITE":
                self.ack(request, data, bye=False)  # retransmitted final: re-ACK
            return
        # A request from voxhire (e.g. a BYE): answer 200 so it stops.
        method, _ = request_method_and_uri(data)
        if method in ("BYE", "OPTIONS", "CANCEL", "NOTIFY", "INFO"):
            vias = header_values(data, "via", "v")
            resp = "SIP/2.0 200 OK\r\n%s%s%s%s%sContent-Length: 0\r\n\r\n" % (
                "".join("Via: %s\r\n" % v for v in vias),
                "From: %s\r\n" % first(data, "from", "f"),
                "To: %s\r\n" % first(data, "to", "t"),
                "Call-ID: %s\r\n" % call_id(data),
                "CSeq: %s\r\n" % first(data, "cseq"))
            self.send(resp.encode())

    def exchange(self, data, wait, final_wait):
        """Send one message; return (outcome, [(code, port) ...])."""
        cid = call_id(data)
        is_invite = request_method_and_uri(data)[0] == "INVITE"
        self.send(data)
        start = time.monotonic()
        deadline = start + wait
        seen = []
        final = None
        while time.monotonic() < deadline:
            for port, src, resp in self.receive(deadline - time.monotonic()):
                rcid = call_id(resp)
                if rcid is not None and rcid != cid:
                    if rcid in self.requests:
                        if transaction_key(resp) == transaction_key(data):
                            self.log("answer of an earlier message with the same transaction key: %r"
                                     % resp.split(b"\r\n", 1)[0])
                        self.handle_stray(resp)
                        continue
                if not resp.startswith(b"SIP/2.0"):
                    self.log("unexpected request from %s: %r" % (src, resp[:60]))
                    self.handle_stray(resp)
                    continue
                code = status_code(resp)
                rmethod = cseq(resp)[1]
                if is_invite and rmethod == "BYE":
                    self.log("BYE answered %s" % code)  # our own hang-up
                    continue
                seen.append((code, port))
                self.log("got %s on port %d from %s:%d" % (code, port, src[0], src[1]))
                if code is not None and code >= 200:
                    if final is None:
                        final = code
                        if is_invite:
                            self.ack(data, resp)
                        # Short grace period for a duplicate/conflicting answer.
                        deadline = min(deadline, time.monotonic() + 0.2)
                    elif is_invite:
                        self.ack(data, resp, bye=False)  # retransmitted final
                elif code is not None and final is None:
                    deadline = max(deadline, start + final_wait)
        if cid:
            self.requests[cid] = data
        if final is not None:
            return str(final), seen
        provisional = [c for c, _ in seen if c is not None]
        if provisional:
            return str(provisional[-1]), seen
        return ("garbled" if seen else "drop"), seen


def allowed(outcome, spec):
    for alt in spec.split("|"):
        alt = alt.strip()
        if alt == outcome:
            return True
        if re.fullmatch(r"[1-6]xx", alt) and outcome.isdigit() and outcome[0] == alt[0]:
            return True
    return False


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] not in "ZX"
    except (OSError, IndexError):
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="directory with valid/ and invalid/ *.dat")
    ap.add_argument("--expected", required=True, help="TSV: file, allowed outcomes, note")
    ap.add_argument("--target", default="127.0.0.2:5060", help="voxhire's SIP address")
    ap.add_argument("--bind", default="127.0.0.1", help="local IP (loopback only)")
    ap.add_argument("--wait", type=float, default=1.0, help="seconds to wait for a first response")
    ap.add_argument("--final-wait", type=float, default=4.0, help="seconds to wait for a final response after a 1xx")
    ap.add_argument("--watch-pid", type=int, help="voxhire's pid: fail if it dies")
    ap.add_argument("--only", action="append", help="run only these files (repeatable)")
    ap.add_argument("--plan", action="store_true",
                    help="print the rounds (one line of files each) that need a fresh voxhire, then exit")
    ap.add_argument("--results", help="append one TSV line per file: file, outcome, allowed, ok|FAIL, responses")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    host, _, port = args.target.rpartition(":")
    target = (host, int(port))
    for ip in (host, args.bind):
        if not ip.startswith("127."):
            print("refusing non-loopback address %s" % ip, file=sys.stderr)
            return 2

    expected = []
    with open(args.expected, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, spec, note = (line.rstrip("\n").split("\t") + ["", ""])[:3]
            if args.only and name not in args.only and os.path.basename(name) not in args.only:
                continue
            expected.append((name, spec, note))
    if not expected:
        print("no test cases selected", file=sys.stderr)
        return 2

    messages = {}
    for name, _, _ in expected:
        path = os.path.join(args.dir, name)
        with open(path, "rb") as f:
            messages[name] = f.read()
    if args.plan:
        for files in plan([n for n, _, _ in expected], messages):
            print(" ".join(files))
        return 0

    ports = {5060, 5061} | {p for p in (top_via_port(m) for m in messages.values()) if p}
    sender = Sender(target, args.bind, ports, args.verbose)
    print("sending %d messages to %s:%d from %s:5060; listening on ports %s"
          % (len(expected), target[0], target[1], args.bind, ",".join(map(str, sorted(ports)))))

    failures = 0
    died_after = None
    print("%-22s %-10s %-14s %-6s %s" % ("file", "outcome", "allowed", "ok", "responses seen (code@port)"))
    for name, spec, note in expected:
        if args.watch_pid and not alive(args.watch_pid):
            died_after = died_after or "before " + name
            outcome, seen = "voxhire-dead", []
        else:
            outcome, seen = sender.exchange(messages[name], args.wait, args.final_wait)
        ok = allowed(outcome, spec)
        failures += 0 if ok else 1
        trail = " ".join("%s@%d" % (c, p) for c, p in seen)
        print("%-22s %-10s %-14s %-6s %s" % (name, outcome, spec, "ok" if ok else "FAIL", trail))
        if args.results:
            with open(args.results, "a", encoding="utf-8") as f:
                f.write("\t".join([name, outcome, spec, "ok" if ok else "FAIL", trail]) + "\n")
        if not ok:
            print("%-22s   expected: %s" % ("", note))
        if args.watch_pid and died_after is None and not alive(args.watch_pid):
            died_after = name

    # Let late retransmissions land and be ACKed, then check voxhire once more.
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        for _, _, resp in sender.receive(end - time.monotonic()):
            sender.handle_stray(resp)
    if args.watch_pid and died_after is None and not alive(args.watch_pid):
        died_after = "the last message"
    print("%d/%d as expected; %d stray/late packets" % (len(expected) - failures, len(expected), sender.strays))
    if died_after:
        print("voxhire DIED (after %s)" % died_after)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
