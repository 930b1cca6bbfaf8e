#!/usr/bin/env python3
"""Synthesises the held-out speech set: short interview answers in English and Mandarin,
as candidates say them on the phone, with the reference transcript and the NLU labels of
each clip, split into a dev set and a test set that share no sentence and no voice.

Run through make-heldout-set.sh (it sets up the Python packages and the voice files).
Same synthesis path as tests/speech/make_asr_testset.py and tests/interview/make_answers.py.

Voices (Kokoro-82M v1.0 int8, models/kokoro/kokoro-v1.0.int8.onnx; never the product's
own voices, Kokoro zf_xiaoxiao and Piper en_US-joe)
  dev:  the voices of the existing ASR set and simulated candidates:
        zh zf_xiaobei, zf_xiaoyi, zm_yunjian, zm_yunxi;
        en af_heart, af_bella, am_michael, bf_emma, bm_george.
  test: voices used nowhere else in the repository:
        zh zm_yunxia, zm_yunyang (the only other Mandarin styles in kokoro-js 1.2.1 are
        zf_xiaoxiao, the product's, and zf_xiaoni, which Whisper cannot understand:
        "明天上午十点再打给我吧" came back as "明顯上物實電再大給我吧");
        en af_nicole, af_sarah, af_kore, af_nova, am_adam, am_eric, am_puck, bf_isabella,
        bf_lily, bm_lewis.
  Each split's voices are dealt out evenly over its clips in a seeded order, and every
  clip gets a seeded Kokoro speed in [0.85, 1.15].
  Mandarin phonemes come from misaki's ZHG2P; English words inside a Mandarin answer
  ("React", "MySQL") are cut out and phonemised as English (espeak-ng through
  kokoro-onnx's tokenizer), as make_answers.py does, because misaki 0.9.4 passes them
  through as raw letters. English answers are phonemised by espeak-ng the same way.
  A few terms that espeak-ng misreads are given their phonemes directly (TERM_PHONEMES
  below: Redis is "REH-dis", not espeak's "ri-DEEZ", which Whisper heard as "Riddies";
  Vite is "veet"; Node.js is "Node J S"); the reference text keeps the normal spelling.

Line
  Kokoro 24 kHz, its own leading and trailing silence cut (50 ms kept before and 80 ms after
  the speech, at -46 dBFS) ->
  dev:  sox: 8 kHz, normalised to -3 dBFS, 0.1 s lead-in and 0.1 s tail, mu-law.
  test: sox: 8 kHz, band-pass 300-3400 Hz (sinc), the same pads; then Gaussian line noise
        band-limited to 300-3400 Hz, seeded per clip, at an SNR drawn per clip from
        27-33 dB (against the RMS of the speech frames; the noise runs through the pads
        too); then sox: normalised to -3 dBFS, mu-law.
  No dither (sox -D): the stored bytes are exactly what an RTP PCMU stream carries, and a
  rerun with the same seed, packages and model gives the same bytes.

Split
  dev: 50 clips per language; test: 70 per language. No sentence is in both, and none is
  taken from tests/speech/asr/MANIFEST.tsv, tests/interview/scenarios/ANSWERS.tsv or the
  NLU tables under crates/voxhire-nlu/tests/data/ (the generator checks this).

Labels (columns expected, yn, intent, slots: exactly the syntax of
crates/voxhire-nlu/tests/data/nlu_en.tsv)
  expected: the slot kinds the question asked for (comma list) or -; yn: "yn" when the
  question was a yes/no one (consent, identity, good time) or -; intent: yes, no, repeat,
  reschedule, opt_out, answer, unclear; slots: kind=value;... or - (years as a number,
  skill ids from crates/voxhire-nlu/data/skills.toml joined by |, monthly amount, dates
  YYYY-MM-DD, notice in days, callback YYYY-MM-DDTHH:MM, * for "present, any value").
  Times resolve against local_now = 2026-11-26T10:30, a Thursday. The conventions are the
  NLU's documented ones: a range is its middle (五到六年 = 5.5, "between twelve and
  fourteen thousand" = 13000), "more than" keeps the bound (四年多 = 4), "almost" is
  0.5 under (将近十年 = 9.5), an annual figure is divided by 12, "in two weeks" is a start
  date (2026-12-10) while a duration with a notice word is a notice period.
  The reference text is what a careful transcriber writes: simplified Chinese, English
  terms in their usual spelling, numbers as spoken (两万五, 25K, "twenty five k").

Output: tests/speech/heldout/<id>.ulaw (raw mu-law, 8 kHz mono) and
  tests/speech/heldout/MANIFEST.tsv: id, split, lang, voice, speed, seconds, text,
  expected, yn, intent, slots (tab separated).

Usage: make_heldout_set.py [--seed N]   (default 20261126)
"""

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import wave

import numpy as np
import onnxruntime as rt

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "heldout")
MODEL = os.path.join(ROOT, "models", "kokoro", "kokoro-v1.0.int8.onnx")
VOICES = os.environ.get("KOKORO_VOICES_DIR", "")
DEFAULT_SEED = 20261126

VOICES_BY_SPLIT = {
    ("dev", "zh"): ["zf_xiaobei", "zf_xiaoyi", "zm_yunjian", "zm_yunxi"],
    ("dev", "en"): ["af_heart", "af_bella", "am_michael", "bf_emma", "bm_george"],
    ("test", "zh"): ["zm_yunxia", "zm_yunyang"],
    ("test", "en"): ["af_nicole", "af_sarah", "af_kore", "af_nova", "am_adam", "am_eric",
                     "am_puck", "bf_isabella", "bf_lily", "bm_lewis"],
}
PRODUCT_VOICES = {"zf_xiaoxiao", "zf_xiaoni"}  # the product's, and an unintelligible one

# Kokoro phonemes for terms espeak-ng misreads (whole words, in English and Mandarin
# answers alike); the reference text keeps the spelling.
TERM_PHONEMES = {
    "Redis": "ɹˈɛdɪs",
    "Vite": "vˈiːt",
    "Node.js": "nˈoʊd dʒˈeɪ ˈɛs",
    "MyBatis": "maɪ bˈætɪs",
}
TERM_RE = re.compile(r"(?<![A-Za-z])(" + "|".join(re.escape(t) for t in TERM_PHONEMES) + r")(?![A-Za-z])")

SN = "start_date,notice_period"
Y, S, M, D, C, P = "years_experience", "skills", "salary_monthly", SN, "callback_time", "project"
# (text, expected, yn, intent, slots[, what is spoken when it differs from the text])
ZH_DEV = [
    # consent / identity / good time
    ("嗯，可以的。", "-", "yn", "yes", "-"),
    ("行，没关系。", "-", "yn", "yes", "-"),
    ("对，我就是。", "-", "yn", "yes", "-"),
    ("是我，你好。", "-", "yn", "yes", "-"),
    ("嗯嗯，现在可以。", "-", "yn", "yes", "-"),
    ("好的，您说。", "-", "yn", "yes", "-"),
    ("不行，不同意录音。", "-", "yn", "no", "-"),
    ("不是，我姓刘。", "-", "yn", "no", "-"),
    ("不是本人。", "-", "yn", "no", "-"),
    ("不太方便，在忙。", "-", "yn", "no", "-"),
    # repeat
    ("啊？你说啥？", Y, "-", "repeat", "-"),
    ("嗯，能再问一遍吗？", S, "-", "repeat", "-"),
    ("喂，听不清，大声点。", "-", "yn", "repeat", "-"),
    ("太快了，再说一次？", P, "-", "repeat", "-"),
    # reschedule / callback time
    ("在开车，明天上午十点吧。", "-", "yn", "reschedule", "callback_time=2026-11-27T10:00"),
    ("下午四点以后再打吧。", "-", "yn", "reschedule", "callback_time=2026-11-26T16:00"),
    ("明天下午三点吧。", C, "-", "answer", "callback_time=2026-11-27T15:00"),
    ("下周一上午十点。", C, "-", "answer", "callback_time=2026-11-30T10:00"),
    ("在开会，晚点联系。", "-", "yn", "reschedule", "-"),
    ("今晚八点半再打。", "-", "yn", "reschedule", "callback_time=2026-11-26T20:30"),
    # opt out
    ("不用了，我不找了。", "-", "yn", "opt_out", "-"),
    ("以后别打这个电话了。", S, "-", "opt_out", "-"),
    ("没兴趣，别再联系我。", "-", "-", "opt_out", "-"),
    # years of experience
    ("嗯，四年多吧。", Y, "-", "answer", "years_experience=4"),
    ("差不多三年半。", Y, "-", "answer", "years_experience=3.5"),
    ("五到六年吧。", Y, "-", "answer", "years_experience=5.5"),
    ("那个，七年。", Y, "-", "answer", "years_experience=7"),
    ("就是，两年多。", Y, "-", "answer", "years_experience=2"),
    ("将近十年了。", Y, "-", "answer", "years_experience=9.5"),
    # skills
    ("React和TypeScript，还有小程序。", S, "-", "answer", "skills=react|typescript|wechat_mini_program"),
    ("Vue用得多，也会Node.js。", S, "-", "answer", "skills=vue|node"),
    ("嗯，Java、Spring Boot、MySQL。", S, "-", "answer", "skills=java|spring|mysql"),
    ("后端用Go，还有Redis。", S, "-", "answer", "skills=golang|redis"),
    ("Webpack和Vite都用过。", S, "-", "answer", "skills=webpack|vite"),
    ("Python、Kafka、Docker都会。", S, "-", "answer", "skills=python|kafka|docker"),
    ("Spring Cloud和Kubernetes。", S, "-", "answer", "skills=spring_cloud|kubernetes"),
    # monthly salary
    ("两万五左右吧。", M, "-", "answer", "salary_monthly=25000"),
    ("期望三万一个月。", M, "-", "answer", "salary_monthly=30000"),
    ("那个，两万就行。", M, "-", "answer", "salary_monthly=20000"),
    ("我希望是25K。", M, "-", "answer", "salary_monthly=25000", "我希望是二十五K。"),
    ("一万八到两万吧。", M, "-", "answer", "salary_monthly=19000"),
    # start date / notice
    ("下个月一号能入职。", D, "-", "answer", "start_date=2026-12-01"),
    ("两周以后可以到岗。", D, "-", "answer", "start_date=2026-12-10"),
    ("月底吧，要交接一下。", D, "-", "answer", "start_date=2026-11-30"),
    ("离职得提前一个月。", D, "-", "answer", "notice_period=30"),
    ("随时可以，已经离职了。", D, "-", "answer", "start_date=*;notice_period=0"),
    # project
    ("外卖小程序，我做支付页面。", P, "-", "answer", "project=*"),
    ("后台系统的权限模块。", P, "-", "answer", "project=*"),
    ("做数据大屏，负责图表。", P, "-", "answer", "project=*"),
    # filler only
    ("嗯……那个……", Y, "-", "unclear", "-"),
]

ZH_TEST = [
    # consent / identity / good time
    ("可以啊，没问题。", "-", "yn", "yes", "-"),
    ("嗯，我同意。", "-", "yn", "yes", "-"),
    ("对，是我本人。", "-", "yn", "yes", "-"),
    ("是的是的，你说。", "-", "yn", "yes", "-"),
    ("方便，有空。", "-", "yn", "yes", "-"),
    ("那个，可以，你讲。", "-", "yn", "yes", "-"),
    ("对，我投过。", "-", "yn", "yes", "-"),
    ("不同意录音。", "-", "yn", "no", "-"),
    ("你打错了，我不是他。", "-", "yn", "no", "-"),
    ("没投过，不是我。", "-", "yn", "no", "-"),
    ("不方便，走不开。", "-", "yn", "no", "-"),
    ("嗯，不太行。", "-", "yn", "no", "-"),
    # repeat
    ("嗯？刚才没听清。", Y, "-", "repeat", "-"),
    ("信号不好，再说一下。", S, "-", "repeat", "-"),
    ("什么？你再说一遍。", "-", "yn", "repeat", "-"),
    ("喂，喂，声音断了。", P, "-", "repeat", "-"),
    ("麻烦慢点说，没跟上。", D, "-", "repeat", "-"),
    # reschedule / callback time
    ("明天上午十一点再打吧。", "-", "yn", "reschedule", "callback_time=2026-11-27T11:00"),
    ("带孩子呢，晚上七点以后吧。", "-", "yn", "reschedule", "callback_time=2026-11-26T19:00"),
    ("后天下午两点再联系吧。", "-", "yn", "reschedule", "callback_time=2026-11-28T14:00"),
    ("你周五上午九点半打过来。", "-", "yn", "reschedule", "callback_time=2026-11-27T09:30"),
    ("下周三下午，三点左右。", C, "-", "answer", "callback_time=2026-12-02T15:00"),
    ("明天中午十二点可以。", C, "-", "answer", "callback_time=2026-11-27T12:00"),
    ("今天下午五点半吧。", C, "-", "answer", "callback_time=2026-11-26T17:30"),
    ("过半个小时再打吧。", "-", "yn", "reschedule", "callback_time=*"),
    ("这会儿不方便，改天吧。", Y, "-", "reschedule", "-"),
    # opt out
    ("不考虑了，别再打了。", "-", "yn", "opt_out", "-"),
    ("谢谢，我暂时不换工作。", "-", "yn", "opt_out", "-"),
    ("把我从名单里删了吧。", S, "-", "opt_out", "-"),
    ("打了好几次了，不要再打了。", M, "-", "opt_out", "-"),
    ("签了别家的offer，不用联系了。", "-", "yn", "opt_out", "-"),
    ("这个面试我不参加了。", Y, "-", "opt_out", "-"),
    # years of experience
    ("四年多一点吧。", Y, "-", "answer", "years_experience=4"),
    ("嗯，三年半左右。", Y, "-", "answer", "years_experience=3.5"),
    ("前端做了五到六年。", Y, "-", "answer", "years_experience=5.5"),
    ("大概八年吧。", Y, "-", "answer", "years_experience=8"),
    ("那个，一年半。", Y, "-", "answer", "years_experience=1.5"),
    ("快六年了。", Y, "-", "answer", "years_experience=5.5"),
    ("七八年吧。", Y, "-", "answer", "years_experience=7.5"),
    ("工作两年了。", Y, "-", "answer", "years_experience=2"),
    ("十年以上了。", Y, "-", "answer", "years_experience=10"),
    # skills
    ("主要用Vue，也会React。", S, "-", "answer", "skills=vue|react"),
    ("TypeScript，还有Webpack。", S, "-", "answer", "skills=typescript|webpack"),
    ("Java、Spring Cloud、Redis。", S, "-", "answer", "skills=java|spring_cloud|redis"),
    ("Docker打包，Kubernetes上线。", S, "-", "answer", "skills=docker|kubernetes"),
    ("小程序，还有uni-app。", S, "-", "answer", "skills=wechat_mini_program|uniapp"),
    ("Go语言，消息队列用Kafka。", S, "-", "answer", "skills=golang|message_queue|kafka"),
    ("Node.js和MySQL。", S, "-", "answer", "skills=node|mysql"),
    ("React加Redux。", S, "-", "answer", "skills=react"),
    ("Vue 3和Vite。", S, "-", "answer", "skills=vue|vite", "Vue三和Vite。"),
    ("Kafka、Redis、MySQL都用过。", S, "-", "answer", "skills=kafka|redis|mysql"),
    ("Python和Java都会。", S, "-", "answer", "skills=python|java"),
    # monthly salary
    ("月薪两万五就可以。", M, "-", "answer", "salary_monthly=25000"),
    ("三万一个月吧，可以谈。", M, "-", "answer", "salary_monthly=30000"),
    ("现在两万，希望两万四。", M, "-", "answer", "salary_monthly=24000"),
    ("嗯，28K吧。", M, "-", "answer", "salary_monthly=28000", "嗯，二十八K吧。"),
    ("一万五到一万八。", M, "-", "answer", "salary_monthly=16500"),
    ("税前三万二。", M, "-", "answer", "salary_monthly=32000"),
    ("年薪三十六万。", M, "-", "answer", "salary_monthly=30000"),
    # start date / notice
    ("下下周一可以来。", D, "-", "answer", "start_date=2026-12-07"),
    ("一个月以后吧，要交接。", D, "-", "answer", "start_date=2026-12-26;notice_period=30"),
    ("月底之前能到岗。", D, "-", "answer", "start_date=2026-11-30"),
    ("十二月八号入职。", D, "-", "answer", "start_date=2026-12-08"),
    ("公司要提前三十天说。", D, "-", "answer", "notice_period=30"),
    ("离职流程要走两周。", D, "-", "answer", "notice_period=14"),
    ("嗯，三周以后吧。", D, "-", "answer", "start_date=2026-12-17"),
    # project
    ("教育小程序，我负责直播。", P, "-", "answer", "project=*"),
    ("做组件库，用React写的。", P, "-", "answer", "project=*"),
    ("电商后台，我做首屏优化。", P, "-", "answer", "project=*"),
    # filler only
    ("嗯……这个嘛。", Y, "-", "unclear", "-"),
]

EN_DEV = [
    # consent / identity / good time
    ("Yeah, you can record it.", "-", "yn", "yes", "-"),
    ("Okay, that works.", "-", "yn", "yes", "-"),
    ("Yes, speaking.", "-", "yn", "yes", "-"),
    ("That's right, it's Tom.", "-", "yn", "yes", "-"),
    ("Yes, this is Priya.", "-", "yn", "yes", "-"),
    ("Uh, yeah, I've got time.", "-", "yn", "yes", "-"),
    ("Well, sure, go on.", "-", "yn", "yes", "-"),
    ("Yep, fire away.", "-", "yn", "yes", "-"),
    ("No, please don't record it.", "-", "yn", "no", "-"),
    ("No, wrong number.", "-", "yn", "no", "-"),
    ("Not really, I'm busy.", "-", "yn", "no", "-"),
    ("Nope, sorry.", "-", "yn", "no", "-"),
    # repeat
    ("Um, sorry, could you ask again?", Y, "-", "repeat", "-"),
    ("You cut out, what was that?", S, "-", "repeat", "-"),
    ("Could you repeat the salary question?", M, "-", "repeat", "-"),
    # reschedule / callback time
    ("Call me tomorrow at three p.m.", "-", "yn", "reschedule", "callback_time=2026-11-27T15:00"),
    ("Try me this afternoon around four.", "-", "yn", "reschedule", "callback_time=2026-11-26T16:00"),
    ("Tomorrow morning at nine thirty.", C, "-", "answer", "callback_time=2026-11-27T09:30"),
    ("Monday at eleven.", C, "-", "answer", "callback_time=2026-11-30T11:00"),
    ("I'm busy, call me later.", "-", "yn", "reschedule", "-"),
    # opt out
    ("Not interested, remove me.", "-", "yn", "opt_out", "-"),
    ("I took another offer, don't call.", S, "-", "opt_out", "-"),
    ("Please stop calling this number.", "-", "-", "opt_out", "-"),
    # years of experience
    ("Um, about six years.", Y, "-", "answer", "years_experience=6"),
    ("Three and a half years, give or take.", Y, "-", "answer", "years_experience=3.5"),
    ("Five to six years of Java.", Y, "-", "answer", "years_experience=5.5"),
    ("Uh, a little over four years.", Y, "-", "answer", "years_experience=4"),
    ("Eight years now.", Y, "-", "answer", "years_experience=8"),
    ("Almost ten years.", Y, "-", "answer", "years_experience=9.5"),
    # skills
    ("Java, Spring Boot and Spring Cloud.", S, "-", "answer", "skills=java|spring|spring_cloud"),
    ("Mostly Go and Python, and Redis.", S, "-", "answer", "skills=golang|python|redis"),
    ("Docker and Kubernetes.", S, "-", "answer", "skills=docker|kubernetes"),
    ("React with TypeScript, and Node.js.", S, "-", "answer", "skills=react|typescript|node"),
    ("MySQL and MongoDB.", S, "-", "answer", "skills=mysql|mongodb"),
    ("Kafka and Redis, but not Kubernetes.", S, "-", "answer", "skills=kafka|redis"),
    ("Vue and Webpack, mostly.", S, "-", "answer", "skills=vue|webpack"),
    # monthly salary
    ("Around twenty five thousand a month.", M, "-", "answer", "salary_monthly=25000"),
    ("I'm looking for 25k.", M, "-", "answer", "salary_monthly=25000", "I'm looking for twenty five k."),
    ("Eleven thousand dollars a month.", M, "-", "answer", "salary_monthly=11000"),
    ("Twelve to fourteen thousand.", M, "-", "answer", "salary_monthly=13000"),
    ("At least nine thousand.", M, "-", "answer", "salary_monthly=9000"),
    # start date / notice
    ("Probably in two weeks.", D, "-", "answer", "start_date=2026-12-10"),
    ("The first of next month.", D, "-", "answer", "start_date=2026-12-01"),
    ("My notice is four weeks.", D, "-", "answer", "notice_period=28"),
    ("I have to give a month's notice.", D, "-", "answer", "notice_period=30"),
    ("Right away, I'm between jobs.", D, "-", "answer", "start_date=*;notice_period=0"),
    # project
    ("A shipment tracking service.", P, "-", "answer", "project=*"),
    ("I rewrote our billing API.", P, "-", "answer", "project=*"),
    ("I migrated us to MySQL.", P, "-", "answer", "project=*"),
    # filler only
    ("Hmm, let me think.", Y, "-", "unclear", "-"),
]

EN_TEST = [
    # consent / identity / good time
    ("Yes, recording is fine.", "-", "yn", "yes", "-"),
    ("Yeah, no problem.", "-", "yn", "yes", "-"),
    ("Yes, this is Marcus.", "-", "yn", "yes", "-"),
    ("Yeah, it's me.", "-", "yn", "yes", "-"),
    ("Sure, now is good.", "-", "yn", "yes", "-"),
    ("Of course, ask away.", "-", "yn", "yes", "-"),
    ("I'd prefer you didn't record.", "-", "yn", "no", "-"),
    ("You've got the wrong person.", "-", "yn", "no", "-"),
    ("No, I never applied.", "-", "yn", "no", "-"),
    ("Honestly, now's not great.", "-", "yn", "no", "-"),
    ("Uh, no, not right now.", "-", "yn", "no", "-"),
    # repeat
    ("Sorry, I didn't catch that.", Y, "-", "repeat", "-"),
    ("Can you repeat the last part?", S, "-", "repeat", "-"),
    ("Hello? You're breaking up.", "-", "-", "repeat", "-"),
    ("Wait, say that again?", M, "-", "repeat", "-"),
    ("I missed that, could you repeat it?", D, "-", "repeat", "-"),
    # reschedule / callback time
    ("I'm in a meeting, call me tomorrow at two.", "-", "yn", "reschedule", "callback_time=2026-11-27T14:00"),
    ("Can we do Friday morning instead?", "-", "yn", "reschedule", "callback_time=2026-11-27T09:00"),
    ("Try me after six tonight.", "-", "yn", "reschedule", "callback_time=2026-11-26T18:00"),
    ("I'm driving, call back in an hour.", "-", "yn", "reschedule", "callback_time=*"),
    ("Three p.m. tomorrow.", C, "-", "answer", "callback_time=2026-11-27T15:00"),
    ("Next Tuesday at ten a.m.", C, "-", "answer", "callback_time=2026-12-01T10:00"),
    ("Any time after four today.", C, "-", "answer", "callback_time=2026-11-26T16:00"),
    ("Um, Monday at nine thirty.", C, "-", "answer", "callback_time=2026-11-30T09:30"),
    ("Can you call back later today?", "-", "yn", "reschedule", "-"),
    ("I'm with a patient, another time.", Y, "-", "reschedule", "-"),
    # opt out
    ("Not looking anymore, don't call.", "-", "yn", "opt_out", "-"),
    ("Take my name off your list.", S, "-", "opt_out", "-"),
    ("I withdrew my application.", "-", "-", "opt_out", "-"),
    ("Stop calling, this is harassment.", M, "-", "opt_out", "-"),
    ("Not interested in this role, thanks.", "-", "yn", "opt_out", "-"),
    ("Please delete my number.", Y, "-", "opt_out", "-"),
    # years of experience
    ("Seven and a half years.", Y, "-", "answer", "years_experience=7.5"),
    ("Uh, roughly four years.", Y, "-", "answer", "years_experience=4"),
    ("Five or six years.", Y, "-", "answer", "years_experience=5.5"),
    ("Just over two years.", Y, "-", "answer", "years_experience=2"),
    ("About twelve years.", Y, "-", "answer", "years_experience=12"),
    ("Three years with Java, one with Go.", Y, "-", "answer", "years_experience=3"),
    ("Nearly nine years.", Y, "-", "answer", "years_experience=8.5"),
    ("Well, a year and a half.", Y, "-", "answer", "years_experience=1.5"),
    ("Six years or so.", Y, "-", "answer", "years_experience=6"),
    # skills
    ("Spring Cloud, Kafka and MySQL.", S, "-", "answer", "skills=spring_cloud|kafka|mysql"),
    ("Redis and Kubernetes.", S, "-", "answer", "skills=redis|kubernetes"),
    ("Mostly Python and Go.", S, "-", "answer", "skills=python|golang"),
    ("Java, Spring Boot, Docker.", S, "-", "answer", "skills=java|spring|docker"),
    ("TypeScript, React and Webpack.", S, "-", "answer", "skills=typescript|react|webpack"),
    ("Uh, Node.js and a bit of Vue.", S, "-", "answer", "skills=node|vue"),
    ("Kubernetes, Docker and Jenkins.", S, "-", "answer", "skills=kubernetes|docker|jenkins"),
    ("Kafka, and some RabbitMQ.", S, "-", "answer", "skills=kafka|rabbitmq"),
    ("MySQL, Redis and Elasticsearch.", S, "-", "answer", "skills=mysql|redis|elasticsearch"),
    ("Java and Kotlin, for Android.", S, "-", "answer", "skills=java|kotlin|android"),
    ("Spring Boot with MyBatis.", S, "-", "answer", "skills=spring|mybatis"),
    # monthly salary
    ("Twenty five thousand monthly.", M, "-", "answer", "salary_monthly=25000"),
    ("Around 25k monthly.", M, "-", "answer", "salary_monthly=25000", "Around twenty five k monthly."),
    ("Thirteen thousand a month.", M, "-", "answer", "salary_monthly=13000"),
    ("Ten thousand five hundred per month.", M, "-", "answer", "salary_monthly=10500"),
    ("Fifteen k, negotiable.", M, "-", "answer", "salary_monthly=15000"),
    ("About a hundred and fifty thousand a year.", M, "-", "answer", "salary_monthly=12500"),
    ("Uh, twelve thousand a month.", M, "-", "answer", "salary_monthly=12000"),
    # start date / notice
    ("In two weeks.", D, "-", "answer", "start_date=2026-12-10"),
    ("From December fourteenth.", D, "-", "answer", "start_date=2026-12-14"),
    ("I have a two month notice period.", D, "-", "answer", "notice_period=60"),
    ("End of the month, probably.", D, "-", "answer", "start_date=2026-11-30"),
    ("Three weeks from now.", D, "-", "answer", "start_date=2026-12-17"),
    ("I'd give two weeks notice.", D, "-", "answer", "notice_period=14"),
    ("The Monday after next.", D, "-", "answer", "start_date=2026-12-07"),
    # project
    ("A pricing engine on Kafka.", P, "-", "answer", "project=*"),
    ("I split our checkout service.", P, "-", "answer", "project=*"),
    ("I built our reporting service.", P, "-", "answer", "project=*"),
    # filler only
    ("Um, uh.", "-", "yn", "unclear", "-"),
]

SETS = [("zh", "dev", ZH_DEV), ("zh", "test", ZH_TEST), ("en", "dev", EN_DEV), ("en", "test", EN_TEST)]
INTENTS = {"yes", "no", "repeat", "reschedule", "opt_out", "answer", "unclear"}
KINDS = {"years_experience", "skills", "salary_monthly", "start_date", "notice_period",
         "callback_time", "project"}

# Files whose sentences must not be reused (relative to the repository root).
USED_ELSEWHERE = [
    ("tests/speech/asr/MANIFEST.tsv", 4),
    ("tests/interview/scenarios/ANSWERS.tsv", 4),
    ("crates/voxhire-nlu/tests/data/nlu_en.tsv", 0),
    ("crates/voxhire-nlu/tests/data/nlu_zh.tsv", 0),
    ("crates/voxhire-nlu/tests/data/nlu_en_holdout.tsv", 0),
    ("crates/voxhire-nlu/tests/data/nlu_zh_holdout.tsv", 0),
    ("crates/voxhire-nlu/tests/data/nlu_en_holdout2.tsv", 0),
    ("crates/voxhire-nlu/tests/data/nlu_zh_holdout2.tsv", 0),
]


def norm(text):
    """Case, punctuation and spacing folded, for the no-reuse check."""
    return re.sub(r"[\W_]+", "", text.lower())


def check_sentences():
    seen = {}
    for lang, split, rows in SETS:
        for row in rows:
            text, expected, yn, intent, slots = row[:5]
            key = norm(text)
            if key in seen:
                raise SystemExit(f"make-heldout-set: {text!r} is in {seen[key]} and {lang}/{split}")
            seen[key] = f"{lang}/{split}"
            assert intent in INTENTS, text
            assert yn in ("yn", "-"), text
            assert expected == "-" or all(k in KINDS for k in expected.split(",")), text
            if slots != "-":
                for kv in slots.split(";"):
                    assert kv.split("=", 1)[0] in KINDS and "=" in kv, text
    for path, col in USED_ELSEWHERE:
        full = os.path.join(ROOT, path)
        if not os.path.exists(full):
            continue
        for line in open(full, encoding="utf-8"):
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) > col and norm(cols[col]) in seen:
                raise SystemExit(f"make-heldout-set: {cols[col]!r} is already used in {path}")


def clip_rng(seed, name):
    return np.random.default_rng(int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "little"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args()
    seed = args.seed

    check_sentences()
    for voices in VOICES_BY_SPLIT.values():
        assert not PRODUCT_VOICES & set(voices)
    dev_voices = set(VOICES_BY_SPLIT["dev", "zh"] + VOICES_BY_SPLIT["dev", "en"])
    assert not dev_voices & set(VOICES_BY_SPLIT["test", "zh"] + VOICES_BY_SPLIT["test", "en"])
    if not VOICES or not os.path.isdir(VOICES):
        raise SystemExit("make-heldout-set: set KOKORO_VOICES_DIR (run make-heldout-set.sh)")

    from kokoro_onnx.tokenizer import Tokenizer
    from misaki import zh

    import kokoro_onnx

    vocab = json.load(open(os.path.join(os.path.dirname(kokoro_onnx.__file__), "config.json")))["vocab"]
    tokenizer = Tokenizer()
    zh_g2p = zh.ZHG2P(version="1.0")

    def english_phonemes(text):
        out = []
        for part in TERM_RE.split(text):
            if part in TERM_PHONEMES:
                out.append(" " + TERM_PHONEMES[part])
            elif re.search(r"[A-Za-z0-9]", part):
                out.append(" " + tokenizer.phonemize(part, "en-us").strip())
            else:
                out.append(part.strip())  # punctuation between or after terms
        return re.sub(r" +([,.?!])", r"\1", "".join(out)).strip()

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
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    session = rt.InferenceSession(MODEL, opts, providers=["CPUExecutionProvider"])

    def kokoro(voice, phonemes, speed):
        ids = [vocab[p] for p in phonemes if p in vocab]
        if len(ids) > 510:
            raise SystemExit(f"{voice}: phoneme string too long")
        styles = np.fromfile(os.path.join(VOICES, f"{voice}.bin"), dtype=np.float32).reshape(-1, 1, 256)
        audio = session.run(None, {
            "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
            "style": styles[len(ids)],
            "speed": np.array([speed], dtype=np.float32),
        })[0]
        return np.asarray(audio, dtype=np.float32).reshape(-1)

    def trim(audio, rate):
        loud = np.nonzero(np.abs(audio) > 0.005)[0]
        if len(loud) == 0:
            raise SystemExit("make-heldout-set: Kokoro returned silence")
        return audio[max(0, loud[0] - int(0.05 * rate)): loud[-1] + int(0.08 * rate)]

    def write_wav(path, audio, rate):
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
        with wave.open(path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm.tobytes())

    def read_wav(path):
        with wave.open(path, "rb") as w:
            assert w.getsampwidth() == 2 and w.getnchannels() == 1
            return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0, w.getframerate()

    def line_noise(rng, n, rate):
        """Gaussian noise band-limited to 300-3400 Hz, unit RMS."""
        spec = np.fft.rfft(rng.standard_normal(n))
        freqs = np.fft.rfftfreq(n, 1.0 / rate)
        spec[(freqs < 300) | (freqs > 3400)] = 0
        noise = np.fft.irfft(spec, n)
        return noise / max(np.sqrt(np.mean(noise ** 2)), 1e-12)

    def speech_rms(x, rate):
        frame = int(0.02 * rate)
        frames = x[: len(x) // frame * frame].reshape(-1, frame)
        energy = np.mean(frames ** 2, axis=1)
        active = energy > energy.max() * 10 ** (-30 / 10)
        return float(np.sqrt(np.mean(energy[active])))

    ulaw_out = ["-r", "8000", "-c", "1", "-e", "u-law", "-b", "8", "-t", "raw"]

    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".ulaw"):
            os.remove(os.path.join(OUT, f))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for lang, split, items in SETS:
            voices = VOICES_BY_SPLIT[split, lang]
            deal = [voices[i % len(voices)] for i in range(len(items))]
            random.Random(f"{seed}:{split}:{lang}:voices").shuffle(deal)
            for i, row in enumerate(items):
                text, expected, yn, intent, slots = row[:5]
                said = row[5] if len(row) > 5 else text
                name = f"{lang}-{split}-{i + 1:03d}"
                rng = clip_rng(seed, name)
                speed = round(float(rng.uniform(0.85, 1.15)), 2)
                voice = deal[i]
                phonemes = mandarin_phonemes(said) if lang == "zh" else english_phonemes(said)
                wav24 = os.path.join(tmp, name + ".wav")
                write_wav(wav24, trim(kokoro(voice, phonemes, speed), 24000), 24000)
                raw = os.path.join(OUT, name + ".ulaw")
                if split == "dev":
                    subprocess.run(["sox", "-D", wav24, *ulaw_out, raw,
                                    "rate", "8000", "gain", "-n", "-3", "pad", "0.1", "0.1"], check=True)
                    snr = None
                else:
                    band = os.path.join(tmp, name + ".band.wav")
                    subprocess.run(["sox", "-D", wav24, "-r", "8000", "-c", "1", "-b", "16", band,
                                    "sinc", "300-3400", "rate", "8000", "gain", "-n", "-6",
                                    "pad", "0.1", "0.1"], check=True)
                    x, rate = read_wav(band)
                    snr = round(float(rng.uniform(27.0, 33.0)), 1)
                    noisy = x + line_noise(rng, len(x), rate) * speech_rms(x, rate) * 10 ** (-snr / 20)
                    noisy_wav = os.path.join(tmp, name + ".noisy.wav")
                    write_wav(noisy_wav, noisy, rate)
                    subprocess.run(["sox", "-D", noisy_wav, *ulaw_out, raw, "gain", "-n", "-3"], check=True)
                secs = os.path.getsize(raw) / 8000.0
                rows.append((name, split, lang, voice, speed, secs, text, expected, yn, intent, slots))
                print(f"{name}  {voice:12s} x{speed:.2f}  {secs:5.2f} s"
                      + (f"  snr {snr:4.1f} dB" if snr is not None else "") + f"  {text}", flush=True)

    with open(os.path.join(OUT, "MANIFEST.tsv"), "w", encoding="utf-8") as f:
        f.write("# id\tsplit\tlang\tvoice\tspeed\tseconds\ttext\texpected\tyn\tintent\tslots"
                f"  (generated by tests/speech/make-heldout-set.sh, seed {seed}; labels as in "
                "crates/voxhire-nlu/tests/data/nlu_en.tsv, local_now = 2026-11-26T10:30, a Thursday)\n")
        for r in rows:
            f.write("\t".join([r[0], r[1], r[2], r[3], f"{r[4]:.2f}", f"{r[5]:.2f}", *r[6:]]) + "\n")
    total = sum(r[5] for r in rows)
    size = sum(os.path.getsize(os.path.join(OUT, r[0] + ".ulaw")) for r in rows)
    print(f"make-heldout-set: {len(rows)} clips, {total:.0f} s of audio, {size // 1024} KiB")


if __name__ == "__main__":
    sys.exit(main())
