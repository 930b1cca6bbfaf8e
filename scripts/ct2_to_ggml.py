#!/usr/bin/env python3
"""Convert a CTranslate2 (CT2) Whisper model to a whisper.cpp ggml file (f16 or q8_0).

Usage:
  ct2_to_ggml.py SRC [SRC ...] -o OUT.bin [--ftype f16|q8_0] [--vocabulary FILE]

SRC is either a CT2 model directory (holding model.bin and vocabulary.txt) or
one or more files that, concatenated in the order given, form the CT2
model.bin (e.g. model.bin.part1 model.bin.part2 of a model split across two
packages). The vocabulary defaults to vocabulary.txt next to the first SRC.

What it does (numpy only, no torch, no network):
  * parses the CT2 binary (version >= 4: u32 version, spec name, u32 revision,
    variables with rank/dims/dtype/byte count, then an alias table);
  * dequantises int8/int16 weights that come with a `*_scale` variable
    (CT2 stores q = round(w * scale), so w = q / scale); f32/f16/bf16 are
    read as they are;
  * renames variables to OpenAI Whisper names, splits CT2's fused q|k|v
    (self-attention) and k|v (cross-attention) projections along the output
    dimension, drops the key biases (Whisper has none; CT2 stores zeros);
  * writes the ggml header (hyper-parameters derived from tensor shapes and
    encoder/num_heads, decoder/num_heads), a librosa-compatible Slaney mel
    filter bank (sr 16000, n_fft 400, n_mels from conv1), the regular tokens
    (those before <|endoftext|>) with GPT-2's byte-to-unicode map undone,
    then the tensors: 1-D tensors, conv biases (reshaped to [C, 1]) and
    positional embeddings as f32, everything else as f16.

--ftype q8_0 writes what whisper.cpp's `quantize` example (examples/quantize +
ggml_common_quantize_0 in examples/common-ggml.cpp, whisper.cpp 1.8.3) makes
of the f16 file, byte for byte:
  * header ftype = GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR +
    GGML_FTYPE_MOSTLY_Q8_0 = 2 * 1000 + 7 = 2007;
  * every 2-D tensor except the conv biases and the positional embeddings
    (the example's skip list) -- i.e. the attention and MLP weights and
    decoder.token_embedding -- becomes GGML_TYPE_Q8_0 (8): per block of 32
    values along a row, an f16 scale d = max|x| / 127 and 32 int8
    roundf(x / d) (ggml's quantize_row_q8_0_ref: id = 1/d, or 0 if d = 0,
    float32 arithmetic, roundf = half away from zero). The values quantised
    are the f16 ones, as the example reads them from the f16 file;
  * conv weights (3-D) stay f16 -- whisper.cpp loads them as f16 whatever the
    weight type -- and 1-D tensors, conv biases and positional embeddings f32.

The output is a pure function of the input bytes (deterministic). It is
written to OUT.tmp and renamed into place, so an interrupted run never leaves
a truncated OUT behind.
"""

import argparse
import os
import struct
import sys

import numpy as np

GGML_MAGIC = 0x67676D6C
# ggml/include/ggml.h (whisper.cpp 1.8.3)
GGML_QNT_VERSION = 2
GGML_QNT_VERSION_FACTOR = 1000
GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q8_0 = 0, 1, 8
GGML_FTYPE_MOSTLY_F16, GGML_FTYPE_MOSTLY_Q8_0 = 1, 7
QK8_0 = 32
# examples/quantize/quantize.cpp: tensors never quantised (besides non-2-D ones)
QUANT_SKIP = (
    "encoder.conv1.bias", "encoder.conv2.bias",
    "encoder.positional_embedding", "decoder.positional_embedding",
)
SAMPLE_RATE = 16000
N_FFT = 400

# CT2 DataType enum (ctranslate2/types.h)
CT2_DTYPES = {
    0: np.dtype("<f4"),  # float32
    1: np.dtype("i1"),  # int8
    2: np.dtype("<i2"),  # int16
    3: np.dtype("<i4"),  # int32
    4: np.dtype("<f2"),  # float16
    5: np.dtype("<u2"),  # bfloat16 (converted below)
}


class ConvertError(Exception):
    pass


# --------------------------------------------------------------------------
# CT2 model.bin reader
# --------------------------------------------------------------------------


def read_ct2(buf):
    """Return (spec, {name: ndarray}, {alias: target}) from CT2 model bytes."""
    mv = memoryview(buf)
    off = 0

    def take(fmt):
        nonlocal off
        vals = struct.unpack_from(fmt, buf, off)
        off += struct.calcsize(fmt)
        return vals[0] if len(vals) == 1 else vals

    def take_str():
        nonlocal off
        n = take("<H")
        raw = bytes(mv[off : off + n])
        off += n
        return raw.rstrip(b"\0").decode("utf-8")

    version = take("<I")
    if version < 4:
        raise ConvertError(f"CT2 binary version {version} not supported (need >= 4)")
    spec = take_str()
    revision = take("<I")
    nvars = take("<I")
    variables = {}
    for _ in range(nvars):
        name = take_str()
        rank = take("<B")
        dims = tuple(take("<I") for _ in range(rank)) if rank else ()
        type_id = take("<B")
        nbytes = take("<I")
        if type_id not in CT2_DTYPES:
            raise ConvertError(f"variable {name}: unknown CT2 dtype id {type_id}")
        if off + nbytes > len(buf):
            raise ConvertError(
                f"variable {name}: data runs past end of file "
                f"(truncated or wrongly concatenated model.bin?)"
            )
        dt = CT2_DTYPES[type_id]
        arr = np.frombuffer(buf, dtype=dt, count=nbytes // dt.itemsize, offset=off)
        off += nbytes
        if type_id == 5:  # bf16 -> f32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        arr = arr.reshape(dims) if dims else arr.reshape(())
        variables[name] = arr
    aliases = {}
    if off < len(buf):
        nalias = take("<I")
        for _ in range(nalias):
            alias = take_str()
            aliases[alias] = take_str()
    if off != len(buf):
        raise ConvertError(f"{len(buf) - off} trailing bytes after the CT2 model data")
    return spec, revision, variables, aliases


def dequantise(variables):
    """Replace int8/int16 weights having a `<name>_scale` sibling by float32."""
    out = {}
    for name, arr in variables.items():
        if name.endswith("_scale"):
            continue
        scale = variables.get(name + "_scale")
        if scale is not None and arr.dtype.kind == "i":
            s = np.asarray(scale, dtype=np.float32)
            if s.ndim == 1:
                s = s.reshape((-1,) + (1,) * (arr.ndim - 1))
            arr = arr.astype(np.float32) / s
        out[name] = arr
    return out


# --------------------------------------------------------------------------
# Mel filters (librosa.filters.mel(sr, n_fft, n_mels), htk=False, norm="slaney")
# --------------------------------------------------------------------------


def _hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(
        f >= min_log_hz,
        min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep,
        mels,
    )


def _mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_filters(sr, n_fft, n_mels):
    fmin, fmax = 0.0, sr / 2.0
    n_bins = 1 + n_fft // 2
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, n_bins), dtype=np.float32)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, np.newaxis]
    return weights.astype(np.float32)


# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------


def _unicode_to_bytes():
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("\xa1"), ord("\xac") + 1))
        + list(range(ord("\xae"), ord("\xff") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def regular_tokens(vocab_path):
    with open(vocab_path, "r", encoding="utf-8", newline="") as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    try:
        eot = lines.index("<|endoftext|>")
    except ValueError:
        raise ConvertError(f"{vocab_path}: no <|endoftext|> token")
    u2b = _unicode_to_bytes()
    out = []
    for i, tok in enumerate(lines[:eot]):
        try:
            out.append(bytes(u2b[ch] for ch in tok))
        except KeyError as e:
            raise ConvertError(f"{vocab_path}:{i + 1}: char {e} is not in GPT-2's byte map")
    return out, len(lines)


# --------------------------------------------------------------------------
# Tensor mapping
# --------------------------------------------------------------------------


def _scalar(variables, name):
    if name not in variables:
        raise ConvertError(f"missing variable {name}")
    return int(np.asarray(variables[name]).reshape(-1)[0])


def _count_layers(variables, prefix):
    n = 0
    while f"{prefix}/layer_{n}/ffn/linear_0/weight" in variables:
        n += 1
    return n


def map_tensors(v):
    """Yield (ggml_name, ndarray) in OpenAI state_dict order."""
    used = set()

    def get(name):
        if name not in v:
            raise ConvertError(f"missing variable {name}")
        used.add(name)
        return v[name]

    def split(arr, parts):
        if arr.shape[0] % parts:
            raise ConvertError(f"cannot split dim {arr.shape[0]} into {parts}")
        return np.split(arr, parts, axis=0)

    def ln(src, dst):
        yield f"{dst}.weight", get(f"{src}/gamma")
        yield f"{dst}.bias", get(f"{src}/beta")

    def linear(src, dst, bias=True):
        yield f"{dst}.weight", get(f"{src}/weight")
        if bias:
            yield f"{dst}.bias", get(f"{src}/bias")

    def qkv(src, dst):
        w = split(get(f"{src}/weight"), 3)
        b = split(get(f"{src}/bias"), 3)
        _check_zero_key_bias(src, b[1])
        yield f"{dst}.query.weight", w[0]
        yield f"{dst}.query.bias", b[0]
        yield f"{dst}.key.weight", w[1]
        yield f"{dst}.value.weight", w[2]
        yield f"{dst}.value.bias", b[2]

    def mlp(src, dst):
        yield from linear(f"{src}/linear_0", f"{dst}.mlp.0")
        yield from linear(f"{src}/linear_1", f"{dst}.mlp.2")
        yield from ln(f"{src}/layer_norm", f"{dst}.mlp_ln")

    # encoder
    yield "encoder.positional_embedding", get("encoder/position_encodings/encodings")
    yield from linear("encoder/conv1", "encoder.conv1")
    yield from linear("encoder/conv2", "encoder.conv2")
    for i in range(_count_layers(v, "encoder")):
        s, d = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        yield from qkv(f"{s}/self_attention/linear_0", f"{d}.attn")
        yield from linear(f"{s}/self_attention/linear_1", f"{d}.attn.out")
        yield from ln(f"{s}/self_attention/layer_norm", f"{d}.attn_ln")
        yield from mlp(f"{s}/ffn", d)
    yield from ln("encoder/layer_norm", "encoder.ln_post")

    # decoder
    yield "decoder.positional_embedding", get("decoder/position_encodings/encodings")
    yield "decoder.token_embedding.weight", get("decoder/embeddings/weight")
    for i in range(_count_layers(v, "decoder")):
        s, d = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        yield from qkv(f"{s}/self_attention/linear_0", f"{d}.attn")
        yield from linear(f"{s}/self_attention/linear_1", f"{d}.attn.out")
        yield from ln(f"{s}/self_attention/layer_norm", f"{d}.attn_ln")
        yield from linear(f"{s}/attention/linear_0", f"{d}.cross_attn.query")
        kw = split(get(f"{s}/attention/linear_1/weight"), 2)
        kb = split(get(f"{s}/attention/linear_1/bias"), 2)
        _check_zero_key_bias(f"{s}/attention/linear_1", kb[0])
        yield f"{d}.cross_attn.key.weight", kw[0]
        yield f"{d}.cross_attn.value.weight", kw[1]
        yield f"{d}.cross_attn.value.bias", kb[1]
        yield from linear(f"{s}/attention/linear_2", f"{d}.cross_attn.out")
        yield from ln(f"{s}/attention/layer_norm", f"{d}.cross_attn_ln")
        yield from mlp(f"{s}/ffn", d)
    yield from ln("decoder/layer_norm", "decoder.ln")

    # Any weight tensor left over means this is not the layout we understand.
    leftovers = [
        n for n, a in v.items() if n not in used and np.asarray(a).ndim >= 1 and a.size > 1
    ]
    if leftovers:
        raise ConvertError(f"unexpected CT2 variables not converted: {leftovers[:8]}")


def _check_zero_key_bias(src, b):
    m = float(np.max(np.abs(np.asarray(b, dtype=np.float32))))
    if m > 1e-3:
        # Whisper's key projections have no bias; softmax is invariant to it.
        print(f"warning: {src}: dropping non-zero key bias (max |b| = {m:g})", file=sys.stderr)


# --------------------------------------------------------------------------
# q8_0 (ggml-quants.c quantize_row_q8_0_ref)
# --------------------------------------------------------------------------

Q8_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "i1", (QK8_0,))])  # 34 bytes, packed
assert Q8_0_BLOCK.itemsize == 2 + QK8_0


def quantize_q8_0(x, name="tensor"):
    """ggml q8_0 bytes of a float32 array, blocks of 32 along the last axis.

    Bit-identical to quantize_row_q8_0_ref: in float32, amax = max |x|,
    d = amax / 127, id = 1 / d (0 if d == 0), q = roundf(x * id) (half away
    from zero), d stored as f16 (round to nearest even, like ggml's
    GGML_FP32_TO_FP16 and numpy's astype).
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.shape[-1] % QK8_0:
        raise ConvertError(f"{name}: row length {x.shape[-1]} is not a multiple of {QK8_0}")
    if not np.all(np.isfinite(x)):
        raise ConvertError(f"{name}: non-finite values, cannot quantise")
    out = np.empty(x.size // QK8_0, dtype=Q8_0_BLOCK)
    flat = x.reshape(-1, QK8_0)
    step = 1 << 16  # blocks per chunk (bounds the temporaries to a few MB)
    for lo in range(0, flat.shape[0], step):
        b = flat[lo : lo + step]
        amax = np.max(np.abs(b), axis=1)
        d = amax / np.float32(127)
        with np.errstate(divide="ignore"):
            inv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
        x0 = b * inv[:, None]
        # roundf: trunc, then away from zero when the (exact) fraction is >= 0.5
        r = np.trunc(x0)
        frac = x0 - r
        r += (frac >= 0.5).astype(np.float32) - (frac <= -0.5).astype(np.float32)
        out["d"][lo : lo + step] = d.astype("<f2")
        out["qs"][lo : lo + step] = r.astype(np.int8)
    return out.tobytes()


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def convert(sources, out_path, vocab_path=None, ftype="f16"):
    if ftype not in ("f16", "q8_0"):
        raise ConvertError(f"unknown ftype {ftype!r} (want f16 or q8_0)")
    parts = []
    for src in sources:
        if os.path.isdir(src):
            parts.append(os.path.join(src, "model.bin"))
        else:
            parts.append(src)
    if vocab_path is None:
        first = sources[0] if os.path.isdir(sources[0]) else os.path.dirname(parts[0])
        vocab_path = os.path.join(first or ".", "vocabulary.txt")
    for p in parts + [vocab_path]:
        if not os.path.isfile(p):
            raise ConvertError(f"no such file: {p}")

    buf = bytearray()
    for p in parts:
        with open(p, "rb") as fh:
            buf += fh.read()
    buf = bytes(buf)

    spec, revision, variables, _aliases = read_ct2(buf)
    if spec != "WhisperSpec":
        raise ConvertError(f"spec is {spec!r}, expected 'WhisperSpec'")
    variables = dequantise(variables)

    tokens, vocab_size = regular_tokens(vocab_path)
    emb = variables["decoder/embeddings/weight"]
    conv1 = variables["encoder/conv1/weight"]
    hp = {
        "n_vocab": emb.shape[0],
        "n_audio_ctx": variables["encoder/position_encodings/encodings"].shape[0],
        "n_audio_state": conv1.shape[0],
        "n_audio_head": _scalar(variables, "encoder/num_heads"),
        "n_audio_layer": _count_layers(variables, "encoder"),
        "n_text_ctx": variables["decoder/position_encodings/encodings"].shape[0],
        "n_text_state": emb.shape[1],
        "n_text_head": _scalar(variables, "decoder/num_heads"),
        "n_text_layer": _count_layers(variables, "decoder"),
        "n_mels": conv1.shape[1],
    }
    if vocab_size != hp["n_vocab"]:
        raise ConvertError(
            f"{vocab_path} has {vocab_size} tokens but the embedding has {hp['n_vocab']} rows"
        )
    filters = mel_filters(SAMPLE_RATE, N_FFT, hp["n_mels"])

    if ftype == "q8_0":
        header_ftype = GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR + GGML_FTYPE_MOSTLY_Q8_0
    else:
        header_ftype = GGML_FTYPE_MOSTLY_F16
    tmp = out_path + ".tmp"
    try:
        n_tensors = _write_ggml(tmp, hp, header_ftype, filters, tokens, variables, ftype)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    os.replace(tmp, out_path)
    return hp, len(tokens), n_tensors


def _write_ggml(tmp, hp, header_ftype, filters, tokens, variables, ftype):
    n_tensors = 0
    with open(tmp, "wb") as fo:
        fo.write(struct.pack("<i", GGML_MAGIC))
        for key in (
            "n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
            "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer", "n_mels",
        ):
            fo.write(struct.pack("<i", int(hp[key])))
        fo.write(struct.pack("<i", header_ftype))
        fo.write(struct.pack("<ii", filters.shape[0], filters.shape[1]))
        fo.write(filters.astype("<f4").tobytes())
        fo.write(struct.pack("<i", len(tokens)))
        for t in tokens:
            fo.write(struct.pack("<i", len(t)))
            fo.write(t)
        for name, arr in map_tensors(variables):
            data = np.asarray(arr)
            if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
                data = data.reshape(data.shape[0], 1)
            f32 = data.ndim < 2 or name in QUANT_SKIP
            data = np.ascontiguousarray(data, dtype="<f4" if f32 else "<f2")
            if f32:
                ttype, payload = GGML_TYPE_F32, data.tobytes()
            elif ftype == "q8_0" and data.ndim == 2:
                # from the f16 values, as whisper.cpp's quantize reads them
                ttype, payload = GGML_TYPE_Q8_0, quantize_q8_0(data.astype(np.float32), name)
            else:  # f16 file, or conv weights (3-D: f16 in every ggml Whisper)
                ttype, payload = GGML_TYPE_F16, data.tobytes()
            nb = name.encode("utf-8")
            fo.write(struct.pack("<iii", data.ndim, len(nb), ttype))
            for d in reversed(data.shape):
                fo.write(struct.pack("<i", d))
            fo.write(nb)
            fo.write(payload)
            n_tensors += 1
    return n_tensors


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("sources", nargs="+", metavar="SRC",
                    help="CT2 model directory, or model.bin part files in order")
    ap.add_argument("-o", "--output", required=True, help="ggml output file")
    ap.add_argument("--ftype", choices=("f16", "q8_0"), default="f16",
                    help="weight type of the 2-D weights (default f16)")
    ap.add_argument("--vocabulary", help="CT2 vocabulary.txt (default: next to first SRC)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    args = ap.parse_args(argv)
    try:
        hp, ntok, nt = convert(args.sources, args.output, args.vocabulary, args.ftype)
    except (ConvertError, OSError, KeyError, ValueError, struct.error) as e:
        print(f"ct2_to_ggml: error: {e}", file=sys.stderr)
        return 1
    if not args.quiet:
        desc = ", ".join(f"{k}={v}" for k, v in hp.items())
        print(f"ct2_to_ggml: wrote {args.output} ({args.ftype}): {desc}, "
              f"{ntok} tokens, {nt} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
