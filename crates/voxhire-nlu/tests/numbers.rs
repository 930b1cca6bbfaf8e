//! Number grammar: each phrase must read as exactly one number with this value.

use voxhire_nlu::numbers::{find_numbers, parse_number};

fn check(cases: &[(&str, f64)]) {
    let mut bad = Vec::new();
    for (text, want) in cases {
        let got = parse_number(text);
        if got != Some(*want) {
            bad.push(format!("{text:?}: got {got:?}, want {want}"));
        }
    }
    assert!(bad.is_empty(), "{} wrong:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn english_digits() {
    check(&[
        ("25,000", 25000.0),
        ("25000", 25000.0),
        ("25k", 25000.0),
        ("25K", 25000.0),
        ("25 k", 25000.0),
        ("5.5", 5.5),
        ("1.5k", 1500.0),
        ("2.5 million", 2_500_000.0),
        ("25 thousand", 25000.0),
        ("300k", 300000.0),
        ("7", 7.0),
        ("2018", 2018.0),
        ("1,200,000", 1_200_000.0),
    ]);
}

#[test]
fn english_words() {
    check(&[
        ("twenty-five thousand", 25000.0),
        ("twenty five thousand", 25000.0),
        ("Twenty Five K", 25000.0),
        ("five and a half", 5.5),
        ("five and half", 5.5),
        ("one and a half", 1.5),
        ("a couple of", 2.0),
        ("a couple", 2.0),
        ("a few", 3.0),
        ("twelve", 12.0),
        ("seven", 7.0),
        ("zero", 0.0),
        ("two hundred and five", 205.0),
        ("a hundred", 100.0),
        ("a hundred and twenty thousand", 120000.0),
        ("three hundred thousand", 300000.0),
        ("one million two hundred thousand", 1_200_000.0),
        ("two point five", 2.5),
        ("two point five k", 2500.0),
        ("thirty grand", 30000.0),
        ("half a million", 500000.0),
        ("a dozen", 12.0),
        ("twenty eighteen", 2018.0),
        ("twenty twenty one", 2021.0),
        ("nineteen ninety nine", 1999.0),
        ("two thousand and eighteen", 2018.0),
        ("two thousand eighteen", 2018.0),
        ("ninety nine", 99.0),
    ]);
}

#[test]
fn chinese_numerals() {
    check(&[
        ("十二", 12.0),
        ("十", 10.0),
        ("二十", 20.0),
        ("二十五", 25.0),
        ("一百五", 150.0),
        ("一百零五", 105.0),
        ("三千五", 3500.0),
        ("两万五", 25000.0),
        ("二万五", 25000.0),
        ("两万五千", 25000.0),
        ("一万二千", 12000.0),
        ("一万二", 12000.0),
        ("一万零五", 10005.0),
        ("三十万", 300000.0),
        ("一百二十万", 1_200_000.0),
        ("2万5", 25000.0),
        ("2万", 20000.0),
        ("1.5万", 15000.0),
        ("一点五万", 15000.0),
        ("三点五", 3.5),
        ("十点五", 10.5),
        ("25000", 25000.0),
        ("25k", 25000.0),
        ("3w", 30000.0),
        ("三四万", 35000.0),
        ("七八", 7.5),
        ("两三", 2.5),
        ("十七八", 17.5),
        ("二零一八", 2018.0),
        ("一九", 19.0),
        ("二三", 23.0),
        ("两", 2.0),
        ("半", 0.5),
        ("一亿", 1e8),
        ("三亿五千万", 350_000_000.0),
    ]);
}

#[test]
fn numbers_inside_sentences_keep_their_spans() {
    let text = "我工作了五年，月薪两万五 and I want about 30k monthly";
    let found: Vec<(&str, f64)> = find_numbers(text)
        .into_iter()
        .map(|n| (&text[n.span], n.value))
        .collect();
    assert_eq!(
        found,
        vec![("五", 5.0), ("两万五", 25000.0), ("30k", 30000.0)]
    );
}

#[test]
fn words_that_are_not_numbers() {
    assert_eq!(find_numbers("I have been a developer and a lead"), vec![]);
    assert_eq!(find_numbers("我会Java"), vec![]);
    assert_eq!(parse_number("万"), None);
}
