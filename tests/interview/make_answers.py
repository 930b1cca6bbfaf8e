#!/usr/bin/env python3
"""Synthesises the simulated candidates' answers for the end-to-end interview tests.

Run through make-answers.sh (it sets up the Python packages and the voice files).
Same synthesis path as tests/speech/make_asr_testset.py: Kokoro-82M v1.0 int8 with
voice styles other than the product's, English phonemes from espeak-ng through
kokoro-onnx's tokenizer, Mandarin ones from misaki's ZHG2P. English words inside a
Mandarin answer ("React", "TypeScript") are cut out and phonemised as English here:
misaki 0.9.4's ZHG2P passes them through as raw letters, which Kokoro then reads as
unrelated IPA symbols (Whisper heard "牙殖局便是" for "React和TypeScript").

Line: 24 kHz, Kokoro's own leading/trailing silence cut -> sox: 8 kHz, normalised to -3 dBFS, 0.15 s lead-in and 0.35 s tail of
silence, mu-law encoded and decoded back (no dither: reruns give the same bytes), so
each WAV holds exactly what a PCMU phone line would deliver; `voxhire candidate`
measures the tail and counts voice-to-voice latency from the end of the speech.

Output: scenarios/<user>/<clip>.wav and scenarios/ANSWERS.tsv (user, clip, voice,
seconds, text: what the interview should understand).

A " | " in a text is a breath: the parts are synthesised apart and joined by
BREATH_S of silence.

Usage: make_answers.py [USER ...]   (default: every user)
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import wave

import numpy as np
import onnxruntime as rt

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "scenarios")
BREATH_S = 1.1
MODEL = os.path.join(ROOT, "models", "kokoro", "kokoro-v1.0.int8.onnx")
VOICES = os.environ["KOKORO_VOICES_DIR"]

# user -> (language, voice, [(clip, text)]), in interview order.
CANDIDATES = {
    "alice": ("en", "af_bella", [
        ("consent", "Yes, that's fine."),
        ("identity", "Yes, this is Alice."),
        ("good-time", "Sure, go ahead."),
        ("years", "I have about seven years of Java backend experience."),
        ("skills", "Mostly Spring Cloud, Kafka, Redis and MySQL, and we run everything on Kubernetes."),
        ("project", "I led the migration of our payment service to microservices on Kubernetes, "
                    "which cut latency by half."),
        ("salary", "Around twelve thousand dollars a month."),
        ("start", "I need to give one month notice, so I could start on the first of next month."),
        ("bye", "Thank you, bye."),
    ]),
    # Tells her project in two breaths, 1.1 s apart (" | "): longer than the 600 ms an
    # open answer may end at after a whole sentence, shorter than the 1.2 s the
    # question's silence is. Her other turns are Alice's clips (scenarios/ivy.toml).
    "ivy": ("en", "af_bella", [
        ("project", "I led the migration of our payment service to microservices on Kubernetes. | "
                    "It cut our latency by half, and I wrote the Kafka consumers myself."),
    ]),
    "bob": ("en", "am_michael", [
        ("consent", "Yes, go ahead."),
        ("identity", "Yes, this is Bob speaking."),
        ("good-time", "Yes, now is fine."),
        ("years", "I have three years of experience with Java."),
        ("skills", "I mostly use Spring Boot and MySQL."),
        ("follow-up", "I built an order tracking service with Spring Boot and MySQL, "
                      "and I wrote most of its REST APIs."),
        ("project", "My main project was the reporting backend for our sales team."),
        ("salary", "I am looking for about eight thousand dollars a month."),
        ("start", "I can start in two weeks."),
        ("bye", "Thanks, bye."),
    ]),
    "chen": ("zh", "zf_xiaobei", [
        ("consent", "可以。"),
        ("identity", "是的，我是陈静。"),
        ("good-time", "现在方便，您问吧。"),
        ("years", "我做了五年的前端开发。"),
        # "React，还有TypeScript" rather than "React和TypeScript": with the comma
        # Whisper keeps both names.
        ("skills", "主要用React，还有TypeScript，也做过微信小程序。"),
        ("project", "我负责过公司商城网站的重构，页面加载时间缩短了一半。"),
        # "期望月薪两万五。" came back as 两万１ / 2萬5 depending on the cut; the
        # full form is what a careful speaker says on a bad line.
        ("salary", "我期望的月薪是两万五千元。"),
        ("start", "下个月一号可以入职。"),
        ("bye", "好的，谢谢，再见。"),
    ]),
    "dana": ("en", "bf_emma", [
        ("consent", "Yes, that's okay."),
        ("identity", "Yes, this is Dana."),
        ("good-time", "Sure."),
        ("opt-out", "Please take me off your list and don't call me again."),
    ]),
    "erin": ("en", "af_heart", [
        ("consent", "Yes."),
        ("identity", "Yes, this is Erin."),
        ("reschedule", "No, I'm driving right now. Can you call me tomorrow at ten?"),
        ("bye", "Okay, thanks, bye."),
    ]),
    "gary": ("en", "bm_george", [
        ("consent", "Yes, sure."),
        ("identity", "Yes, it's Gary."),
    ]),
}


def main():
    from kokoro_onnx.tokenizer import Tokenizer
    from misaki import zh

    import kokoro_onnx

    only = set(sys.argv[1:])
    unknown = only - set(CANDIDATES)
    if unknown:
        raise SystemExit(f"make-answers: unknown user(s) {sorted(unknown)}; known: {sorted(CANDIDATES)}")

    vocab = json.load(open(os.path.join(os.path.dirname(kokoro_onnx.__file__), "config.json")))["vocab"]
    tokenizer = Tokenizer()
    english_phonemes = lambda text: tokenizer.phonemize(text, "en-us")
    zh_g2p = zh.ZHG2P(version="1.0")

    def mandarin_phonemes(text):
        out = []
        for part in re.split(r"([A-Za-z][A-Za-z .'-]*[A-Za-z]|[A-Za-z])", text):
            if not part:
                continue
            if re.match(r"[A-Za-z]", part):
                out.append(" " + english_phonemes(part).strip() + " ")
            else:
                out.append(zh_g2p(part)[0])
        return "".join(out)
    opts = rt.SessionOptions()
    opts.intra_op_num_threads = 2
    session = rt.InferenceSession(MODEL, opts)

    def kokoro(voice, phonemes):
        ids = [vocab[p] for p in phonemes if p in vocab]
        if len(ids) > 510:
            raise SystemExit(f"{voice}: phoneme string too long")
        styles = np.fromfile(os.path.join(VOICES, f"{voice}.bin"), dtype=np.float32).reshape(-1, 1, 256)
        audio = session.run(None, {
            "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
            "style": styles[len(ids)],
            "speed": np.ones(1, dtype=np.float32),
        })[0]
        return np.asarray(audio, dtype=np.float32).reshape(-1)

    def trim(audio, rate):
        # Kokoro surrounds speech with ~0.4 s before and 0.5-1 s after; cut it (keeping
        # 80 ms past -46 dBFS, so a soft final syllable like 五 survives) so the pads below are the only silence and the clips stay small.
        loud = np.nonzero(np.abs(audio) > 0.005)[0]
        if len(loud) == 0:
            raise SystemExit("make-answers: Kokoro returned silence")
        margin = int(0.08 * rate)
        return audio[max(0, loud[0] - margin): loud[-1] + margin]

    def write_wav(path, audio, rate):
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
        with wave.open(path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm.tobytes())

    manifest = os.path.join(OUT, "ANSWERS.tsv")
    rows = {}
    if os.path.exists(manifest):
        for line in open(manifest, encoding="utf-8"):
            if not line.startswith("#") and line.strip():
                user, clip, *_ = line.rstrip("\n").split("\t")
                rows[(user, clip)] = line.rstrip("\n")

    with tempfile.TemporaryDirectory() as tmp:
        for user, (lang, voice, clips) in CANDIDATES.items():
            if only and user not in only:
                continue
            udir = os.path.join(OUT, user)
            os.makedirs(udir, exist_ok=True)
            for f in os.listdir(udir):
                if f.endswith(".wav"):
                    os.remove(os.path.join(udir, f))
            for key in [k for k in rows if k[0] == user]:
                del rows[key]
            for clip, text in clips:
                phonemise = mandarin_phonemes if lang == "zh" else english_phonemes
                breath = np.zeros(int(BREATH_S * 24000), dtype=np.float32)
                parts = []
                for part in text.split(" | "):
                    parts += [trim(kokoro(voice, phonemise(part)), 24000), breath]
                raw24 = os.path.join(tmp, f"{user}-{clip}.wav")
                write_wav(raw24, np.concatenate(parts[:-1]), 24000)
                text = text.replace(" | ", " ")
                ulaw = os.path.join(tmp, f"{user}-{clip}.ul")
                subprocess.run(["sox", "-D", raw24, "-r", "8000", "-c", "1", "-e", "u-law", "-b", "8",
                                "-t", "raw", ulaw, "gain", "-n", "-3", "pad", "0.15", "0.35"], check=True)
                out = os.path.join(udir, f"{clip}.wav")
                subprocess.run(["sox", "-D", "-t", "raw", "-r", "8000", "-c", "1", "-e", "u-law", "-b", "8",
                                ulaw, "-e", "signed-integer", "-b", "16", out], check=True)
                secs = os.path.getsize(ulaw) / 8000.0
                rows[(user, clip)] = f"{user}\t{clip}\t{voice}\t{secs:.2f}\t{text}"
                print(f"{user}/{clip}.wav  {secs:.2f} s  {text}")

    order = {u: i for i, u in enumerate(CANDIDATES)}
    clip_order = {(u, c): j for u, (_, _, cl) in CANDIDATES.items() for j, (c, _) in enumerate(cl)}
    with open(manifest, "w", encoding="utf-8") as f:
        f.write("# user\tclip\tvoice\tseconds\ttext  (generated by tests/interview/make-answers.sh)\n")
        for key in sorted(rows, key=lambda k: (order.get(k[0], 99), clip_order.get(k, 99))):
            f.write(rows[key] + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, u, f))
                for u in CANDIDATES if os.path.isdir(os.path.join(OUT, u))
                for f in os.listdir(os.path.join(OUT, u)) if f.endswith(".wav"))
    print(f"make-answers: {len(rows)} clips, {total // 1024} KiB")


if __name__ == "__main__":
    sys.exit(main())
