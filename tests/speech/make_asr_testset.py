#!/usr/bin/env python3
"""Synthesises the ASR accuracy test set: interview answers in English and Mandarin,
spoken by voices that are NOT voxhire's own TTS voices, through a G.711 mu-law phone line.

Run through make-asr-testset.sh (it sets up the Python packages and the voice files).

Voices
  - Kokoro-82M v1.0 (models/kokoro/kokoro-v1.0.int8.onnx) with voice styles other than
    the product's (the product speaks English with Piper en_US-joe and Mandarin with
    Kokoro zf_xiaoxiao): English af_heart, af_bella, am_michael, bf_emma, bm_george;
    Mandarin zf_xiaobei, zf_xiaoyi, zm_yunjian, zm_yunxi (not zf_xiaoni: its renderings
    were unintelligible to Whisper even at 24 kHz, e.g. "明天上午十点比较方便" came
    back as "明天商务实店闭交访辨", where zf_xiaobei's came back exact; a voice
    defect, not an ASR one). Mandarin phonemes come from
    misaki's ZHG2P (Kokoro's own front end), English ones from espeak-ng via
    kokoro-onnx's tokenizer (the front end kokoro-onnx itself uses).
  - espeak-ng formant voices (en-us+f3, en-gb, en-us+m4) for a few English clips: a
    deliberately hard, robotic subset, scored separately.

Line
  24 kHz (Kokoro) / 22.05 kHz (espeak-ng) -> sox: 8 kHz, normalised to -3 dBFS, mu-law
  encoded (no dither). The raw mu-law bytes are what is stored: exactly what an RTP
  PCMU stream would carry. The test decodes them with voxhire-media's G.711.

Output: tests/speech/asr/<id>.ulaw and tests/speech/asr/MANIFEST.tsv
  (id, language, voice, seconds, reference text).
"""

import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np
import onnxruntime as rt

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "asr")
MODEL = os.path.join(ROOT, "models", "kokoro", "kokoro-v1.0.int8.onnx")
VOICES = os.environ["KOKORO_VOICES_DIR"]

# (voice, reference text). References are what a careful transcriber writes; the
# test normalises numbers, case and punctuation on both sides before scoring.
ENGLISH = [
    ("af_heart", "I have seven years of experience as a Java developer."),
    ("am_michael", "Mostly Spring Boot and Spring Cloud microservices."),
    ("bf_emma", "I have been working with React and TypeScript for about three years."),
    ("bm_george", "We deploy everything on Kubernetes with Helm charts."),
    ("af_bella", "My current salary is ninety five thousand dollars a year."),
    ("am_michael", "I am expecting around one hundred ten thousand dollars."),
    ("af_heart", "Yes, I can start in two weeks."),
    ("bm_george", "No, I am not willing to relocate."),
    ("bf_emma", "Please don't call me again."),
    ("af_bella", "I am available on Tuesday afternoon at three thirty."),
    ("am_michael", "The best time to reach me is Monday morning."),
    ("bf_emma", "I graduated from university in twenty fifteen."),
    ("af_heart", "I led a team of five engineers."),
    ("bm_george", "Yes, I have worked with MySQL and Redis."),
    ("af_bella", "I am currently a senior backend engineer at a fintech company."),
    ("am_michael", "My notice period is one month."),
    ("bf_emma", "I prefer working remotely, but I can come to the office twice a week."),
    ("af_heart", "Sorry, could you repeat the question?"),
    ("bm_george", "I have used Docker and Jenkins for continuous integration."),
    ("af_bella", "Next Friday at ten in the morning works for me."),
    ("am_michael", "No thanks, I am not interested in this position."),
]

ESPEAK = [
    ("en-us+f3", "I have seven years of experience with Java and Spring Cloud."),
    ("en-gb", "Yes, I can start next month."),
    ("en-us+m4", "Please don't call me again."),
    ("en-gb", "My expected salary is eighty thousand dollars."),
]

MANDARIN = [
    ("zf_xiaobei", "我有五年的Java开发经验。"),
    ("zm_yunjian", "我主要用Spring Cloud做微服务。"),
    ("zf_xiaoyi", "我现在的月薪是两万五千元。"),
    ("zm_yunxi", "期望薪资是三万左右。"),
    ("zf_xiaobei", "我下周三下午两点有空。"),
    ("zm_yunjian", "是的，我可以接受出差。"),
    ("zf_xiaoyi", "不好意思，我对这个职位不感兴趣。"),
    ("zm_yunxi", "请不要再给我打电话了。"),
    ("zf_xiaobei", "我在上海工作了三年。"),
    ("zm_yunjian", "我熟悉Docker和Kubernetes。"),
    ("zf_xiaoyi", "我大学学的是计算机专业。"),
    ("zm_yunxi", "我可以在一个月以后入职。"),
    ("zf_xiaobei", "我做过前端开发，主要用React。"),
    ("zm_yunjian", "我带过一个十个人的团队。"),
    ("zf_xiaoyi", "可以，明天上午十点比较方便。"),
    ("zm_yunxi", "我目前还在职，需要提前一个月通知。"),
]


def main():
    from kokoro_onnx.tokenizer import Tokenizer
    from misaki import zh

    import kokoro_onnx

    vocab = json.load(open(os.path.join(os.path.dirname(kokoro_onnx.__file__), "config.json")))["vocab"]
    tokenizer = Tokenizer()
    english_phonemes = lambda text: tokenizer.phonemize(text, "en-us")
    # English words inside Mandarin sentences ("Java") go through the English front end.
    zh_g2p = zh.ZHG2P(version="1.0", en_callable=english_phonemes)
    opts = rt.SessionOptions()
    opts.intra_op_num_threads = 2
    session = rt.InferenceSession(MODEL, opts)

    def kokoro(voice, phonemes):
        ids = [vocab[p] for p in phonemes if p in vocab]
        if len(ids) > 510:
            raise SystemExit(f"{voice}: phoneme string too long")
        styles = np.fromfile(os.path.join(VOICES, f"{voice}.bin"), dtype=np.float32).reshape(-1, 1, 256)
        style = styles[len(ids)]
        audio = session.run(None, {
            "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
            "style": style,
            "speed": np.ones(1, dtype=np.float32),
        })[0]
        return np.asarray(audio, dtype=np.float32).reshape(-1), 24000

    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".ulaw"):
            os.remove(os.path.join(OUT, f))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        def phone_line(name, wav_in):
            raw = os.path.join(OUT, f"{name}.ulaw")
            # -D: no dither, so re-running gives the same bytes.
            subprocess.run(["sox", "-D", wav_in, "-r", "8000", "-c", "1", "-e", "u-law", "-b", "8",
                            "-t", "raw", raw, "gain", "-n", "-3", "pad", "0.3", "0.5"], check=True)
            return os.path.getsize(raw) / 8000.0

        def write_wav(path, audio, rate):
            pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
            with wave.open(path, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(rate)
                w.writeframes(pcm.tobytes())

        for i, (voice, text) in enumerate(ENGLISH):
            name = f"en-{i + 1:02d}"
            audio, rate = kokoro(voice, english_phonemes(text))
            wav = os.path.join(tmp, name + ".wav")
            write_wav(wav, audio, rate)
            rows.append((name, "en", voice, phone_line(name, wav), text))
        for i, (voice, text) in enumerate(ESPEAK):
            name = f"en-espeak-{i + 1:02d}"
            wav = os.path.join(tmp, name + ".wav")
            subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", wav, text], check=True)
            rows.append((name, "en", "espeak:" + voice, phone_line(name, wav), text))
        for i, (voice, text) in enumerate(MANDARIN):
            name = f"zh-{i + 1:02d}"
            phonemes, _ = zh_g2p(text)
            audio, rate = kokoro(voice, phonemes)
            wav = os.path.join(tmp, name + ".wav")
            write_wav(wav, audio, rate)
            rows.append((name, "zh", voice, phone_line(name, wav), text))

    with open(os.path.join(OUT, "MANIFEST.tsv"), "w", encoding="utf-8") as f:
        f.write("# id\tlanguage\tvoice\tseconds\ttext  (generated by tests/speech/make-asr-testset.sh)\n")
        for name, lang, voice, secs, text in rows:
            f.write(f"{name}\t{lang}\t{voice}\t{secs:.2f}\t{text}\n")
    total = sum(r[3] for r in rows)
    print(f"make-asr-testset: {len(rows)} clips, {total:.0f} s of audio, {sum(os.path.getsize(os.path.join(OUT, r[0] + '.ulaw')) for r in rows) // 1024} KiB")


if __name__ == "__main__":
    sys.exit(main())
