//! Arabic numerals in Chinese text, rewritten as they are read aloud: `15000` →
//! 一万五千, `2万5` → 两万五, `3.5` → 三点五, `20%` → 百分之二十, `2024年` →
//! 二零二四年, `14:30` → 十四点三十分, `3-5年` → 三到五年, `25k` → 两万五千,
//! `13812345678` → digit by digit. (misaki does this with `cn2an`; Kokoro's
//! Mandarin voices never saw a digit.)

const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// Measure words and units after which a lone 2 is read 两 ("两个", "两年", "两万").
const LIANG_BEFORE: &[char] = &[
    '个', '位', '年', '次', '天', '周', '种', '份', '家', '岁', '名', '本', '门', '项', '条', '张',
    '台', '万', '千', '百', '亿', '点', '小', '分', '套', '间', '轮', '场', '部', '只', '件', '块',
    '元', '层', '倍', '米', '公', '斤', '双', '支', '辆', '所', '段', '节', '期',
];

/// Reads an integer the standard way, with 两 for a leading 2 before 千 and for a
/// group of exactly 2 before 万/亿 (两千五百, 两万, 一万两千).
pub fn integer(n: u64) -> String {
    if n == 0 {
        return "零".to_owned();
    }
    let groups = [
        (n / 1_0000_0000_0000, "万亿"),
        (n / 1_0000_0000 % 1_0000, "亿"),
        (n / 1_0000 % 1_0000, "万"),
        (n % 1_0000, ""),
    ];
    let mut out = String::new();
    let mut pending_zero = false;
    for (value, unit) in groups {
        if value == 0 {
            pending_zero = !out.is_empty();
            continue;
        }
        if !out.is_empty() && (pending_zero || value < 1000) {
            out.push('零');
        }
        let leading = out.is_empty();
        if value == 2 && !unit.is_empty() {
            out.push('两');
        } else {
            out.push_str(&group(value, leading));
        }
        out.push_str(unit);
        pending_zero = false;
    }
    out
}

/// A group below 10000. `leading`: first group of the number (十五, not 一十五).
fn group(value: u64, leading: bool) -> String {
    let digits = [value / 1000, value / 100 % 10, value / 10 % 10, value % 10];
    let units = ["千", "百", "十", ""];
    let mut out = String::new();
    let mut zero = false;
    for (i, (&d, unit)) in digits.iter().zip(units).enumerate() {
        if d == 0 {
            zero = !out.is_empty();
            continue;
        }
        if zero {
            out.push('零');
            zero = false;
        }
        let first = out.is_empty();
        let liang = d == 2 && (i == 0 || (i == 1 && first && leading));
        if i == 2 && d == 1 && first && leading {
            // 十五, not 一十五
        } else if liang {
            out.push('两');
        } else {
            out.push(DIGITS[d as usize]);
        }
        out.push_str(unit);
    }
    out
}

fn digit_by_digit(digits: &str) -> String {
    digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| DIGITS[d as usize])
        .collect()
}

/// A number as written: integer digits (commas removed) and optional decimals.
struct Written {
    int: String,
    frac: Option<String>,
    len: usize,
}

fn scan_number(chars: &[char]) -> Written {
    let mut i = 0;
    let mut int = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            int.push(c);
            i += 1;
        } else if c == ','
            && chars
                .get(i + 1..i + 4)
                .is_some_and(|g| g.iter().all(char::is_ascii_digit))
        {
            i += 1; // thousands separator
        } else {
            break;
        }
    }
    let mut frac = None;
    if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
        let f: String = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        i += 1 + f.len();
        frac = Some(f);
    }
    Written { int, frac, len: i }
}

fn read_number(w: &Written, next: Option<char>) -> String {
    let value: Option<u64> = w.int.parse().ok();
    let int = match value {
        Some(2) if w.frac.is_none() && next.is_some_and(|c| LIANG_BEFORE.contains(&c)) => {
            "两".to_owned()
        }
        Some(v) => integer(v),
        None => digit_by_digit(&w.int),
    };
    match &w.frac {
        Some(f) => format!(
            "{}点{}",
            if value == Some(2) {
                "二".to_owned()
            } else {
                int
            },
            digit_by_digit(f)
        ),
        None => int,
    }
}

/// Rewrites every Arabic number in `text` (ASCII or full-width digits).
pub fn to_chinese(text: &str) -> String {
    let chars: Vec<char> = text
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '．' => '.',
            '％' => '%',
            _ => c,
        })
        .collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_ascii_digit() {
            // A dash between two numbers is a range: 3-5 → 三到五.
            let after_digit = i > 0 && chars[i - 1].is_ascii_digit();
            let before_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if after_digit && before_digit && matches!(c, '-' | '~' | '～' | '—' | '–') {
                out.push('到');
            } else {
                out.push(c);
            }
            i += 1;
            continue;
        }
        let rest = &chars[i..];
        let digits: String = rest.iter().take_while(|c| c.is_ascii_digit()).collect();
        let after = rest.get(digits.len()).copied();
        // Time of day: 14:30 → 十四点三十分, 9:00 → 九点.
        if after == Some(':') && digits.len() <= 2 {
            let minutes: String = rest[digits.len() + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if minutes.len() == 2 {
                let h: u64 = digits.parse().unwrap_or(0);
                let m: u64 = minutes.parse().unwrap_or(0);
                out.push_str(&if h == 2 { "两".to_owned() } else { integer(h) });
                out.push('点');
                if m > 0 {
                    if m < 10 {
                        out.push('零');
                    }
                    out.push_str(&integer(m));
                    out.push('分');
                }
                i += digits.len() + 1 + minutes.len();
                continue;
            }
        }
        // Years (2024年) and codes (phone numbers, ids): digit by digit.
        let is_year = digits.len() == 4 && after == Some('年');
        let is_code = (digits.len() >= 7
            && after != Some(',')
            && (digits.starts_with('0') || digits.len() == 11))
            || (digits.len() > 1 && digits.starts_with('0') && after != Some('.'));
        if is_year || is_code {
            out.push_str(&digit_by_digit(&digits));
            i += digits.len();
            continue;
        }
        let written = scan_number(rest);
        let next = rest.get(written.len).copied();
        // 25k → 两万五千; 1.5w → 一万五千.
        let scale = match next {
            Some('k' | 'K') => Some(1000.0),
            Some('w' | 'W') => Some(10000.0),
            _ => None,
        };
        let scaled = scale.filter(|_| {
            !rest
                .get(written.len + 1)
                .is_some_and(|c| c.is_ascii_alphabetic())
        });
        if let Some(scale) = scaled {
            let value: f64 = format!("{}.{}", written.int, written.frac.as_deref().unwrap_or("0"))
                .parse()
                .unwrap_or(0.0);
            out.push_str(&integer((value * scale).round() as u64));
            i += written.len + 1;
            continue;
        }
        if next == Some('%') {
            out.push_str("百分之");
            out.push_str(&read_number(&written, None));
            i += written.len + 1;
            continue;
        }
        out.push_str(&read_number(&written, next));
        i += written.len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_as_spoken() {
        let cases = [
            (0, "零"),
            (5, "五"),
            (10, "十"),
            (15, "十五"),
            (20, "二十"),
            (110, "一百一十"),
            (200, "两百"),
            (1005, "一千零五"),
            (2500, "两千五百"),
            (12000, "一万两千"),
            (15000, "一万五千"),
            (20000, "两万"),
            (100500, "十万零五百"),
            (150000, "十五万"),
            (1_0000_0000, "一亿"),
            (3_0005_0000, "三亿零五万"),
            (8_0000_0001, "八亿零一"),
        ];
        for (n, want) in cases {
            assert_eq!(integer(n), want, "{n}");
        }
    }

    #[test]
    fn numbers_in_text() {
        let cases = [
            ("我有5年经验", "我有五年经验"),
            ("期望薪资2万5", "期望薪资两万五"),
            ("月薪15000元", "月薪一万五千元"),
            ("月薪15,000", "月薪一万五千"),
            ("2个月", "两个月"),
            ("2月3号", "二月三号"),
            ("3.5年", "三点五年"),
            ("涨了20%", "涨了百分之二十"),
            ("2024年毕业", "二零二四年毕业"),
            ("下午2:30面试", "下午两点三十分面试"),
            ("9:05", "九点零五分"),
            ("10:00", "十点"),
            ("3-5年", "三到五年"),
            ("25k", "两万五千"),
            ("1.5w", "一万五千"),
            ("电话13812345678", "电话一三八一二三四五六七八"),
            ("Java 8", "Java 八"),
            ("５年", "五年"),
        ];
        for (text, want) in cases {
            assert_eq!(to_chinese(text), want, "{text}");
        }
    }
}
