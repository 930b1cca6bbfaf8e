#!/usr/bin/env python3
"""Writes the sip_ua seed conversations to fuzz/seeds/sip_ua/ (see sip_ua.rs for
the format: chunks separated by SEP, `!directive` lines, `$placeholders`)."""
import os

SEP = b"\n~~~~\n"
OUT = os.path.join(os.path.dirname(__file__), "..", "seeds", "sip_ua")

SDP = ("v=0\r\no=candidate 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 25200 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n")
SDP2 = SDP.replace("o=candidate 1 1", "o=candidate 1 2").replace("sendrecv", "").replace(
    "a=ptime:20\r\n", "a=ptime:20\r\na=sendonly\r\n")


def msg(start, headers, body=""):
    h = "".join(f"{n}: {v}\r\n" for n, v in headers)
    if body:
        h += "Content-Type: application/sdp\r\n"
    return f"{start}\r\n{h}Content-Length: {len(body)}\r\n\r\n{body}"


# ---- the peer calls us (we are the UAS) ----
def peer_req(method, cseq, to_tag=None, branch="z9hG4bK-peer-1", body="", extra=()):
    to = "<sip:voxhire@127.0.0.1:5060>" + (f";tag={to_tag}" if to_tag else "")
    return msg(f"{method} sip:voxhire@127.0.0.1:5060 SIP/2.0", [
        ("Via", f"SIP/2.0/UDP 127.0.0.1:5070;branch={branch};rport"),
        ("Max-Forwards", "70"),
        ("From", '"Candidate" <sip:candidate@127.0.0.1:5070>;tag=peer1'),
        ("To", to),
        ("Call-ID", "call-1@127.0.0.1"),
        ("CSeq", f"{cseq} {method}"),
        ("Contact", "<sip:candidate@127.0.0.1:5070>"),
        *extra,
    ], body)


INVITE = peer_req("INVITE", 1, body=SDP)


# ---- the peer answers our requests (we are the UAC) ----
def resp(status, method, to_tag="peer1", body="", extra=()):
    to = "<sip:candidate@127.0.0.1:5070>" + (f";tag={to_tag}" if to_tag else "")
    return msg(f"SIP/2.0 {status}", [
        ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=$branch;rport=5060"),
        ("From", '"voxhire" <sip:agent@127.0.0.1>;tag=$ftag'),
        ("To", to),
        ("Call-ID", "$callid"),
        ("CSeq", f"$cseq {method}"),
        ("Contact", "<sip:candidate@127.0.0.1:5070>"),
        *extra,
    ], body)


def peer_in_dialog(method, cseq, branch, body=""):
    """A request from the peer inside a dialog we created as UAC."""
    return msg(f"{method} sip:agent@127.0.0.1:5060 SIP/2.0", [
        ("Via", f"SIP/2.0/UDP 127.0.0.1:5070;branch={branch}"),
        ("Max-Forwards", "70"),
        ("From", "<sip:candidate@127.0.0.1:5070>;tag=peer1"),
        ("To", '"voxhire" <sip:agent@127.0.0.1>;tag=$ftag'),
        ("Call-ID", "$callid"),
        ("CSeq", f"{cseq} {method}"),
        ("Contact", "<sip:candidate@127.0.0.1:5070>"),
    ], body)


CHALLENGE = ("WWW-Authenticate",
             'Digest realm="voxhire.test", nonce="dm94aGlyZS10ZXN0LW5vbmNl", qop="auth", algorithm=MD5')
PROXY_CHALLENGE = ("Proxy-Authenticate", 'Digest realm="trunk", nonce="abc123", stale=FALSE')

CONVERSATIONS = {
    "uas-answer-ack-bye": [INVITE, "!ring", "!answer",
                           peer_req("ACK", 1, "$ttag", "z9hG4bK-peer-2"),
                           peer_req("BYE", 2, "$ttag", "z9hG4bK-peer-3")],
    "uas-invite-retransmit-cancel": [INVITE, INVITE, "!ring",
                                     peer_req("CANCEL", 1), "!wait 40000"],
    "uas-reject-ack": [INVITE, "!reject", peer_req("ACK", 1, "$ttag")],
    "uas-answer-no-ack": [INVITE, "!answer", "!wait 40000", "!timer",
                          msg("SIP/2.0 200 OK", [
                              ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=$branch"),
                              ("From", "<sip:voxhire@127.0.0.1:5060>;tag=$ftag"),
                              ("To", '"Candidate" <sip:candidate@127.0.0.1:5070>;tag=peer1'),
                              ("Call-ID", "call-1@127.0.0.1"),
                              ("CSeq", "$cseq BYE")])],
    "uas-reinvite": [INVITE, "!answer", peer_req("ACK", 1, "$ttag", "z9hG4bK-peer-2"),
                     peer_req("INVITE", 2, "$ttag", "z9hG4bK-peer-4", SDP2),
                     peer_req("ACK", 2, "$ttag", "z9hG4bK-peer-5"), "!hangup",
                     msg("SIP/2.0 200 OK", [
                         ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=$branch"),
                         ("From", "<sip:voxhire@127.0.0.1:5060>;tag=$ftag"),
                         ("To", '"Candidate" <sip:candidate@127.0.0.1:5070>;tag=peer1'),
                         ("Call-ID", "call-1@127.0.0.1"),
                         ("CSeq", "$cseq BYE")])],
    "uas-options-garbage-bye-unknown": [
        peer_req("OPTIONS", 7, branch="z9hG4bK-opt"), "\r\n\r\n", "garbage",
        peer_req("BYE", 3, "nosuchtag", "z9hG4bK-peer-9"),
        peer_req("INFO", 1, branch="z9hG4bK-info"),
        peer_req("INVITE", 1, branch="z9hG4bK-req", extra=[("Require", "100rel")])],
    "uac-answered-hangup": ["!invite", resp("100 Trying", "INVITE", None),
                            resp("180 Ringing", "INVITE"), resp("200 OK", "INVITE", body=SDP),
                            "!hangup", resp("200 OK", "BYE")],
    "uac-401-retry": ["!invite", resp("401 Unauthorized", "INVITE", extra=[CHALLENGE]),
                      resp("200 OK", "INVITE", body=SDP), "!wait 100",
                      peer_in_dialog("BYE", 5, "z9hG4bK-peer-bye")],
    "uac-407-twice": ["!invite", resp("407 Proxy Authentication Required", "INVITE",
                                      extra=[PROXY_CHALLENGE]),
                      resp("407 Proxy Authentication Required", "INVITE",
                           extra=[PROXY_CHALLENGE])],
    "uac-cancel": ["!invite", resp("180 Ringing", "INVITE"), "!cancel",
                   resp("200 OK", "CANCEL", None), resp("487 Request Terminated", "INVITE")],
    "uac-timeout": ["!invite", "!timer", "!timer", "!wait 40000"],
    "uac-busy-then-call": ["!invite", resp("486 Busy Here", "INVITE"), "!invite",
                           resp("183 Session Progress", "INVITE", body=SDP),
                           resp("200 OK", "INVITE", body=SDP), resp("200 OK", "INVITE", body=SDP),
                           peer_in_dialog("INVITE", 6, "z9hG4bK-peer-re", SDP2)],
    "register-challenge-refresh": ["!register", resp("401 Unauthorized", "REGISTER", extra=[CHALLENGE]),
                                   resp("200 OK", "REGISTER", extra=[("Expires", "60")]),
                                   "!timer", "!unregister", resp("200 OK", "REGISTER")],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, chunks in CONVERSATIONS.items():
        data = SEP.join(c.encode() for c in chunks)
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(len(CONVERSATIONS), "conversations")


if __name__ == "__main__":
    main()
