//! G.711 µ-law (PCMU) and A-law (PCMA) companding (ITU-T G.711, RFC 3551 §4.5.14).
//!
//! Bit-exact with the ITU-T reference tables: this is the classic CCITT/Sun
//! formulation working on 16-bit linear PCM (G.711 itself specifies 14-bit µ-law and
//! 13-bit A-law magnitudes; the low bits of the 16-bit sample are discarded).
//! Decoding goes through 256-entry tables built at compile time.

const SIGN_BIT: u8 = 0x80;
const QUANT_MASK: u8 = 0x0f;
const SEG_SHIFT: u32 = 4;
const SEG_MASK: u8 = 0x70;

/// µ-law bias (33 in 14-bit units, shifted left by two).
const ULAW_BIAS: i32 = 0x84;
/// Largest µ-law magnitude in 14-bit units before biasing.
const ULAW_CLIP: i32 = 8159;
/// Upper bound of each µ-law segment, in biased 14-bit units.
const ULAW_SEG_END: [i32; 8] = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
/// Upper bound of each A-law segment, in 13-bit units.
const ALAW_SEG_END: [i32; 8] = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

/// Segment index: the first segment whose upper bound is ≥ `value`, 8 if none.
fn segment(value: i32, ends: &[i32; 8]) -> u8 {
    // At most 8, so the cast is lossless.
    ends.iter().take_while(|&&end| value > end).count() as u8
}

/// Encodes one 16-bit linear sample to µ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut magnitude = i32::from(sample) >> 2;
    let mask = if magnitude < 0 {
        magnitude = -magnitude;
        0x7f
    } else {
        0xff
    };
    let biased = magnitude.min(ULAW_CLIP) + (ULAW_BIAS >> 2);
    let seg = segment(biased, &ULAW_SEG_END);
    if seg >= 8 {
        // Only the clipped full-scale magnitude lands here: the top code.
        return 0x7f ^ mask;
    }
    let quant = ((biased >> (seg + 1)) & 0x0f) as u8;
    ((seg << SEG_SHIFT) | quant) ^ mask
}

/// Encodes one 16-bit linear sample to A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut magnitude = i32::from(sample) >> 3;
    let mask = if magnitude >= 0 {
        0xd5
    } else {
        // One's complement: -1 maps to magnitude 0, i16::MIN to 4095.
        magnitude = -magnitude - 1;
        0x55
    };
    let seg = segment(magnitude, &ALAW_SEG_END);
    // `magnitude` ≤ 4095, so seg ≤ 7.
    let shift = if seg < 2 { 1 } else { u32::from(seg) };
    let quant = ((magnitude >> shift) & 0x0f) as u8;
    ((seg << SEG_SHIFT) | quant) ^ mask
}

const fn ulaw_decode(code: u8) -> i16 {
    let u = !code;
    let t = (((u & QUANT_MASK) as i32) << 3) + ULAW_BIAS;
    let t = t << ((u & SEG_MASK) >> SEG_SHIFT);
    // At most (15 << 3 + 0x84) << 7 = 32892 - 0x84 = 32124 in magnitude.
    (if u & SIGN_BIT != 0 {
        ULAW_BIAS - t
    } else {
        t - ULAW_BIAS
    }) as i16
}

const fn alaw_decode(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & QUANT_MASK) as i32) << 4;
    let seg = (a & SEG_MASK) >> SEG_SHIFT;
    t += if seg == 0 { 8 } else { 0x108 };
    if seg > 1 {
        t <<= seg - 1;
    }
    // At most (0xf0 + 0x108) << 6 = 32256 in magnitude.
    (if a & SIGN_BIT != 0 { t } else { -t }) as i16
}

/// Builds a 256-entry decode table at compile time (function pointers cannot be
/// called in `const fn`, hence a macro).
macro_rules! decode_table {
    ($decode:ident) => {{
        let mut table = [0i16; 256];
        let mut code = 0;
        while code < 256 {
            table[code] = $decode(code as u8);
            code += 1;
        }
        table
    }};
}

static ULAW_TO_LINEAR: [i16; 256] = decode_table!(ulaw_decode);
static ALAW_TO_LINEAR: [i16; 256] = decode_table!(alaw_decode);

/// Decodes one µ-law byte to 16-bit linear PCM.
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_TO_LINEAR[usize::from(code)]
}

/// Decodes one A-law byte to 16-bit linear PCM.
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_TO_LINEAR[usize::from(code)]
}

/// Encodes a block of samples to µ-law, one byte per sample.
pub fn encode_ulaw(samples: &[i16]) -> Vec<u8> {
    samples.iter().map(|&s| linear_to_ulaw(s)).collect()
}

/// Encodes a block of samples to A-law, one byte per sample.
pub fn encode_alaw(samples: &[i16]) -> Vec<u8> {
    samples.iter().map(|&s| linear_to_alaw(s)).collect()
}

/// Decodes a µ-law payload, one sample per byte.
pub fn decode_ulaw(payload: &[u8]) -> Vec<i16> {
    payload.iter().map(|&c| ulaw_to_linear(c)).collect()
}

/// Decodes an A-law payload, one sample per byte.
pub fn decode_alaw(payload: &[u8]) -> Vec<i16> {
    payload.iter().map(|&c| alaw_to_linear(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_values() {
        // From the G.711 µ-law table (14-bit values × 4).
        assert_eq!(ulaw_to_linear(0xff), 0);
        assert_eq!(ulaw_to_linear(0x7f), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0xf0), 120);
        assert_eq!(ulaw_to_linear(0xfe), 8);
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_ulaw(8), 0xfe);
        assert_eq!(linear_to_ulaw(-8), 0x7e);
        assert_eq!(linear_to_ulaw(120), 0xf0);
    }

    #[test]
    fn alaw_known_values() {
        // From the G.711 A-law table (13-bit values × 8); even bits inverted on the wire.
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xaa), 32256);
        assert_eq!(alaw_to_linear(0x2a), -32256);
        assert_eq!(alaw_to_linear(0x80), 5504);
        assert_eq!(linear_to_alaw(0), 0xd5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xaa);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2a);
    }

    #[test]
    fn every_code_round_trips() {
        for code in 0..=255u8 {
            // µ-law has two zeros (0x7f is "negative zero"); both decode to 0 → 0xff.
            let expect = if code == 0x7f { 0xff } else { code };
            assert_eq!(linear_to_ulaw(ulaw_to_linear(code)), expect, "µ {code:#x}");
            assert_eq!(linear_to_alaw(alaw_to_linear(code)), code, "A {code:#x}");
        }
    }

    #[test]
    fn quantisation_error_is_bounded() {
        // Logarithmic companding: the step doubles with each segment, so the error is a
        // fraction of the magnitude (≤ 1/32 for both laws) plus half the smallest step,
        // except beyond the top decision level where the codecs clip.
        for s in i16::MIN..=i16::MAX {
            let x = i32::from(s);
            let bound = x.abs() / 32 + 16;
            let eu = (i32::from(ulaw_to_linear(linear_to_ulaw(s))) - x).abs();
            let ea = (i32::from(alaw_to_linear(linear_to_alaw(s))) - x).abs();
            if x.abs() <= 32124 {
                assert!(eu <= bound, "µ-law {s}: error {eu}");
            }
            if x.abs() <= 32256 {
                assert!(ea <= bound, "A-law {s}: error {ea}");
            }
            assert!(eu <= 644 && ea <= 512, "clip error at {s}");
        }
    }

    #[test]
    fn decoded_levels_are_distinct() {
        let mut ulaw: Vec<i16> = (0..=255).map(ulaw_to_linear).collect();
        let mut alaw: Vec<i16> = (0..=255).map(alaw_to_linear).collect();
        ulaw.sort_unstable();
        ulaw.dedup();
        alaw.sort_unstable();
        alaw.dedup();
        assert_eq!(ulaw.len(), 255, "one shared zero");
        assert_eq!(alaw.len(), 256, "A-law has no zero code");
    }
}
