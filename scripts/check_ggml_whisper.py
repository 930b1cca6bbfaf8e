#!/usr/bin/env python3
"""Check that a ggml Whisper file is what whisper.cpp 1.8.3's loader accepts.

Usage:
  check_ggml_whisper.py MODEL.bin [MODEL.bin ...] [--compare F16.bin]

Parses the file end to end the way src/whisper.cpp `whisper_model_load` does
(magic, hyper-parameters, ftype % GGML_QNT_VERSION_FACTOR -> weight type,
mel filters, vocabulary, then every tensor) and checks each tensor against the
tensor the loader creates for it: known name, shape, type (2-D weights: the
file's weight type; conv weights: f16 unless the file is f32; 1-D tensors,
conv biases and positional embeddings: f32) and byte size
(ne0 / block size * type size * ne1 * ne2), that every expected tensor is
present exactly once and that nothing follows the last one.

With --compare F16.bin (the f16 file of the same model), q8_0 tensors are
dequantised and compared with the f16 values: every value must be within half
a quantisation step (d / 2) of the original, and the relative RMS error is
printed. numpy only.
"""

import argparse
import struct
import sys

import numpy as np

GGML_MAGIC = 0x67676D6C
QNT_FACTOR = 1000
# ggml_ftype -> ggml_type (ggml.c ggml_ftype_to_ggml_type), only those handled here
FTYPE_TO_TYPE = {0: 0, 1: 1, 7: 8}
# ggml_type -> (name, block size, bytes per block)
TYPES = {0: ("f32", 1, 4), 1: ("f16", 1, 2), 8: ("q8_0", 32, 34)}


class CheckError(Exception):
    pass


def expected_tensors(hp, wtype):
    """{name: (ne tuple as ggml orders it, type)} as whisper_model_load creates them."""
    f32, f16 = 0, 1
    vtype = f32 if wtype == f32 else f16
    a, t = hp["n_audio_state"], hp["n_text_state"]
    e = {
        "encoder.positional_embedding": ((a, hp["n_audio_ctx"]), f32),
        "encoder.conv1.weight": ((3, hp["n_mels"], a), vtype),
        "encoder.conv1.bias": ((1, a), f32),
        "encoder.conv2.weight": ((3, a, a), vtype),
        "encoder.conv2.bias": ((1, a), f32),
        "encoder.ln_post.weight": ((a,), f32),
        "encoder.ln_post.bias": ((a,), f32),
        "decoder.positional_embedding": ((t, hp["n_text_ctx"]), f32),
        "decoder.token_embedding.weight": ((t, hp["n_vocab"]), wtype),
        "decoder.ln.weight": ((t,), f32),
        "decoder.ln.bias": ((t,), f32),
    }

    def block(prefix, s, attn):
        out = {
            f"{prefix}.mlp_ln.weight": ((s,), f32), f"{prefix}.mlp_ln.bias": ((s,), f32),
            f"{prefix}.mlp.0.weight": ((s, 4 * s), wtype), f"{prefix}.mlp.0.bias": ((4 * s,), f32),
            f"{prefix}.mlp.2.weight": ((4 * s, s), wtype), f"{prefix}.mlp.2.bias": ((s,), f32),
        }
        for at in attn:
            out.update({
                f"{prefix}.{at}_ln.weight": ((s,), f32), f"{prefix}.{at}_ln.bias": ((s,), f32),
                f"{prefix}.{at}.query.weight": ((s, s), wtype), f"{prefix}.{at}.query.bias": ((s,), f32),
                f"{prefix}.{at}.key.weight": ((s, s), wtype),
                f"{prefix}.{at}.value.weight": ((s, s), wtype), f"{prefix}.{at}.value.bias": ((s,), f32),
                f"{prefix}.{at}.out.weight": ((s, s), wtype), f"{prefix}.{at}.out.bias": ((s,), f32),
            })
        return out

    for i in range(hp["n_audio_layer"]):
        e.update(block(f"encoder.blocks.{i}", a, ("attn",)))
    for i in range(hp["n_text_layer"]):
        e.update(block(f"decoder.blocks.{i}", t, ("attn", "cross_attn")))
    return e


def nbytes(ne, ttype):
    _, blck, size = TYPES[ttype]
    if ne[0] % blck:
        raise CheckError(f"row length {ne[0]} is not a multiple of the block size {blck}")
    n = ne[0] // blck * size
    for d in ne[1:]:
        n *= d
    return n


def read_model(path, want_data=False):
    with open(path, "rb") as fh:
        buf = fh.read()
    off = 0

    def take(fmt):
        nonlocal off
        if off + struct.calcsize(fmt) > len(buf):
            raise CheckError(f"truncated at byte {off}")
        v = struct.unpack_from(fmt, buf, off)
        off += struct.calcsize(fmt)
        return v if len(v) > 1 else v[0]

    if take("<I") != GGML_MAGIC:
        raise CheckError("bad magic")
    keys = ("n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
            "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer", "n_mels", "ftype")
    hp = dict(zip(keys, take("<11i")))
    qntvr, ftype = divmod(hp["ftype"], QNT_FACTOR)
    if ftype not in FTYPE_TO_TYPE:
        raise CheckError(f"ftype {hp['ftype']} not handled here")
    wtype = FTYPE_TO_TYPE[ftype]
    if hp["n_audio_state"] != hp["n_text_state"]:
        raise CheckError("n_audio_state != n_text_state")
    n_mel, n_fft = take("<ii")
    off += 4 * n_mel * n_fft
    n_tok = take("<i")
    for _ in range(n_tok):
        n = take("<I")
        off += n
    if off > len(buf):
        raise CheckError("truncated in the vocabulary")

    exp = expected_tensors(hp, wtype)
    seen, data, counts = set(), {}, {}
    while off < len(buf):
        n_dims, length, ttype = take("<iii")
        ne = tuple(take("<i") for _ in range(n_dims))
        name = buf[off : off + length].decode("utf-8")
        off += length
        if name not in exp:
            raise CheckError(f"unknown tensor {name!r} (the loader rejects the file)")
        if name in seen:
            raise CheckError(f"tensor {name!r} twice")
        seen.add(name)
        want_ne, want_t = exp[name]
        if ne != want_ne:
            raise CheckError(f"{name}: shape {ne}, loader wants {want_ne}")
        if ttype != want_t:
            raise CheckError(f"{name}: type {ttype}, loader creates {TYPES[want_t][0]}")
        size = nbytes(ne, ttype)
        if off + size > len(buf):
            raise CheckError(f"{name}: data runs past the end of the file")
        counts[TYPES[ttype][0]] = counts.get(TYPES[ttype][0], 0) + 1
        if want_data:
            data[name] = (ne, ttype, buf[off : off + size])
        off += size
    missing = sorted(set(exp) - seen)
    if missing:
        raise CheckError(f"{len(missing)} tensors missing, e.g. {missing[:3]}")
    return hp, qntvr, wtype, n_tok, counts, data


def dequant(ne, ttype, raw):
    if ttype == 0:
        return np.frombuffer(raw, "<f4").astype(np.float64), None
    if ttype == 1:
        return np.frombuffer(raw, "<f2").astype(np.float64), None
    blk = np.frombuffer(raw, np.dtype([("d", "<f2"), ("qs", "i1", (32,))]))
    d = blk["d"].astype(np.float64)
    return (blk["qs"].astype(np.float64) * d[:, None]).reshape(-1), d


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--compare", help="f16 file of the same model (dequantisation check)")
    args = ap.parse_args(argv)
    ref = None
    if args.compare:
        ref = read_model(args.compare, want_data=True)[5]
    rc = 0
    for path in args.models:
        try:
            hp, qntvr, wtype, n_tok, counts, data = read_model(path, want_data=ref is not None)
            tensors = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
            print(f"{path}: ok: ftype {hp['ftype']} (qntvr {qntvr}, weights "
                  f"{TYPES[wtype][0]}), {hp['n_audio_layer']}+{hp['n_text_layer']} layers, "
                  f"state {hp['n_audio_state']}, {n_tok} tokens, tensors: {tensors}")
            if ref is not None:
                worst, num, den = 0.0, 0.0, 0.0
                for name, (ne, ttype, raw) in data.items():
                    rne, rtype, rraw = ref[name]
                    x, d = dequant(ne, ttype, raw)
                    y, _ = dequant(rne, rtype, rraw)
                    if d is None:
                        if not np.array_equal(x, y):
                            raise CheckError(f"{name}: differs from the reference")
                        continue
                    err = np.abs(x - y).reshape(-1, 32)
                    # half a step, plus the f16 rounding of d itself (|q| <= 127;
                    # half an ulp: 2^-11 relative, 2^-25 absolute for subnormal d)
                    x_d = np.maximum(np.abs(y).reshape(-1, 32).max(axis=1), 1e-30) / 127
                    bound = x_d / 2 * (1 + 1e-6) + 127 * np.maximum(x_d * 2.0 ** -11, 2.0 ** -25)
                    worst = max(worst, float(np.max(err / np.maximum(bound, 1e-30)[:, None])))
                    num += float(np.sum((x - y) ** 2))
                    den += float(np.sum(y ** 2))
                if worst > 1.0:
                    raise CheckError(f"a value is {worst:.2f}x beyond half a quantisation step")
                print(f"  vs {args.compare}: all values within half a step "
                      f"(worst {worst:.3f} of the bound), relative RMS error "
                      f"{(num / den) ** 0.5 if den else 0.0:.2e}")
        except (CheckError, OSError, UnicodeDecodeError, struct.error) as e:
            print(f"{path}: FAILED: {e}")
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
