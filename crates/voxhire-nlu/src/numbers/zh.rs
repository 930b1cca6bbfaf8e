//! Chinese numerals as Whisper writes them, with Arabic digits mixed in: 十二,
//! 一万二千, 两万五 (= 25000: a trailing digit after a unit is one step below it),
//! 2万5, 1.5万, 一点五万, 三四万 (a range, 35000), 十七八 (17.5), 二零一八 (a year
//! read digit by digit), 25k / 3w (the suffixes people type and ASR copies).
//!
//! 点 is a decimal point only when the caller allows it (amounts, years) and a digit
//! follows; a clock time (十点, 八点五十) is read by the time parser with decimals off.

use super::lex::{Tok, TokKind};
use super::NumAt;

fn digit(c: char) -> Option<f64> {
    Some(match c {
        '零' | '〇' => 0.0,
        '一' | '幺' | '壹' => 1.0,
        '二' | '两' | '俩' | '贰' => 2.0,
        '三' | '叁' => 3.0,
        '四' | '肆' => 4.0,
        '五' | '伍' => 5.0,
        '六' | '陆' => 6.0,
        '七' | '柒' => 7.0,
        '八' | '捌' => 8.0,
        '九' | '玖' => 9.0,
        _ => return None,
    })
}

fn unit(c: char) -> Option<f64> {
    Some(match c {
        '十' | '拾' => 10.0,
        '百' | '佰' => 100.0,
        '千' | '仟' => 1e3,
        '万' => 1e4,
        '亿' => 1e8,
        _ => return None,
    })
}

/// True when token `t` can start a Chinese number (a numeral, 十, or 半).
pub(super) fn starts_number(t: &Tok) -> bool {
    t.cjk()
        .is_some_and(|c| digit(c).is_some() || matches!(c, '十' | '拾' | '半'))
}

/// True when token `t` (glued to digits before it) makes them a Chinese number.
pub(super) fn continues_digits(t: &Tok) -> bool {
    t.glued
        && (t.cjk().is_some_and(|c| unit(c).is_some() || c == '点')
            || (t.kind == TokKind::Word && t.is_any(&["w", "k"])))
}

/// Parses the Chinese number starting at token `i`; `decimal` lets 点 be a
/// decimal point.
pub(super) fn parse(toks: &[Tok], i: usize, decimal: bool) -> Option<NumAt> {
    let first = toks.get(i)?;
    if first.cjk() == Some('半') {
        return Some(NumAt {
            value: 0.5,
            end: i + 1,
            approx: false,
            scaled: false,
        });
    }
    let (mut total, mut section) = (0.0_f64, 0.0_f64);
    let mut pending: Option<f64> = None;
    // The pending digit was one numeral character (for 七八 ranges and 二零一八).
    let mut pending_single = false;
    let mut digit_string = false;
    // The pending value is one digit (两万五, 2万5 abbreviate; 两万15 does not).
    let mut bare_digit = false;
    let mut prev_char: Option<char> = None;
    // After a decimal fraction only a scale may follow (一点五万, not 十点五十).
    let mut after_point = false;
    let (mut last_unit, mut zero, mut approx, mut scaled) = (0.0_f64, false, false, false);
    let mut j = i;
    while let Some(t) = toks.get(j) {
        if j > i && !t.glued {
            break;
        }
        if let Some(v) = t.digits() {
            if pending.is_some() {
                break;
            }
            pending = Some(v);
            pending_single = false;
            bare_digit = t.text.len() == 1;
        } else if t.kind == TokKind::Word && t.is_any(&["k", "w"]) && j > i {
            let v = total + section + pending.unwrap_or(0.0);
            return Some(NumAt {
                value: v * if t.is("k") { 1e3 } else { 1e4 },
                end: j + 1,
                approx,
                scaled: true,
            });
        } else if let Some(c) = t.cjk() {
            if let Some(d) = digit(c) {
                if after_point {
                    break;
                }
                match pending {
                    // 三万一个月 is 30000 a month, not 31000: a digit after a unit that
                    // counts something (个, 年, 月, 天…) starts a new number.
                    None if last_unit >= 100.0
                        && toks.get(j + 1).and_then(Tok::cjk).is_some_and(|n| {
                            matches!(
                                n,
                                '个' | '年'
                                    | '月'
                                    | '天'
                                    | '周'
                                    | '岁'
                                    | '号'
                                    | '次'
                                    | '人'
                                    | '小'
                                    | '星'
                                    | '礼'
                            )
                        }) =>
                    {
                        break
                    }
                    None => {
                        pending = Some(d);
                        pending_single = true;
                        bare_digit = true;
                        if d == 0.0 && j > i {
                            // 一万零五: 零 holds a place, the next digit is not abbreviated.
                            zero = true;
                            pending = None;
                        }
                    }
                    Some(p)
                        if pending_single
                            && !digit_string
                            && d == p + 1.0
                            && (last_unit == 0.0 || last_unit == 10.0)
                            && c != '二'
                            && prev_char != Some('二') =>
                    {
                        // 七八年, 三四万, 十七八: "seven or eight" → the middle.
                        pending = Some(p + 0.5);
                        pending_single = false;
                        bare_digit = false;
                        approx = true;
                    }
                    Some(p) if (pending_single || digit_string) && last_unit == 0.0 => {
                        // 二零一八, 一九年: digits read one by one.
                        pending = Some(p * 10.0 + d);
                        digit_string = true;
                        pending_single = false;
                        bare_digit = false;
                    }
                    Some(_) => break,
                }
            } else if let Some(u) = unit(c) {
                if digit_string || (after_point && u < 1e3) {
                    break;
                }
                if u >= 1e4 {
                    let here = section + pending.unwrap_or(0.0);
                    if here == 0.0 && total == 0.0 {
                        break;
                    }
                    if u == 1e8 {
                        total = (total + here) * u;
                    } else {
                        total += here * u;
                    }
                    section = 0.0;
                } else {
                    let p = match pending {
                        Some(p) => p,
                        None if u == 10.0 => 1.0,
                        None => break,
                    };
                    section += p * u;
                }
                pending = None;
                pending_single = false;
                bare_digit = false;
                zero = false;
                last_unit = u;
                scaled |= u >= 1e3;
            } else if c == '点' && decimal && (pending.is_some() || section > 0.0) {
                let mut frac = String::new();
                let mut k = j + 1;
                while let Some(d) = toks.get(k).and_then(Tok::cjk).and_then(digit) {
                    frac.push(char::from(b'0' + d as u8));
                    k += 1;
                }
                if frac.is_empty() {
                    if let Some(n) = toks.get(k).filter(|n| n.glued && n.kind == TokKind::Digits) {
                        frac.push_str(&n.text.replace([',', '.'], ""));
                        k += 1;
                    }
                }
                let Ok(f) = format!("0.{frac}").parse::<f64>() else {
                    break;
                };
                if frac.is_empty() {
                    break;
                }
                pending = Some(pending.unwrap_or(0.0) + f);
                after_point = true;
                pending_single = false;
                bare_digit = false;
                j = k;
                continue;
            } else {
                break;
            }
        } else {
            break;
        }
        prev_char = t.cjk();
        j += 1;
    }
    if j == i {
        return None;
    }
    let tail = match pending {
        // 两万五 = 25000, 三千五 = 3500, 一百五 = 150: the bare digit after a unit
        // counts in the next unit down.
        Some(p) if last_unit >= 100.0 && !zero && bare_digit => p * last_unit / 10.0,
        Some(p) => p,
        None => 0.0,
    };
    let value = total + section + tail;
    Some(NumAt {
        value,
        end: j,
        approx,
        scaled,
    })
}
