//! Readings the per-character pinyin table gets wrong for words an interview
//! uses. The `pinyin` crate gives each character its most common reading, with no
//! context (pypinyin, which misaki uses, has a phrase dictionary), so heteronyms
//! in common words are listed here: 银行 yín háng, not yín xíng.

/// (word, syllables in TONE3 form, 5 = neutral).
const WORDS: &[(&str, &str)] = &[
    // 行 háng
    ("银行", "yin2 hang2"),
    ("行业", "hang2 ye4"),
    ("同行", "tong2 hang2"),
    ("内行", "nei4 hang2"),
    ("外行", "wai4 hang2"),
    ("行情", "hang2 qing2"),
    // 长 cháng (the table says zhǎng)
    ("多长", "duo1 chang2"),
    ("长期", "chang2 qi1"),
    ("擅长", "shan4 chang2"),
    ("特长", "te4 chang2"),
    ("专长", "zhuan1 chang2"),
    ("长度", "chang2 du4"),
    ("时长", "shi2 chang2"),
    ("长时间", "chang2 shi2 jian1"),
    ("很长", "hen3 chang2"),
    ("太长", "tai4 chang2"),
    ("较长", "jiao4 chang2"),
    ("长远", "chang2 yuan3"),
    ("长沙", "chang2 sha1"),
    ("长春", "chang2 chun1"),
    ("长城", "chang2 cheng2"),
    ("长江", "chang2 jiang1"),
    ("延长", "yan2 chang2"),
    // 重 chóng
    ("重新", "chong2 xin1"),
    ("重复", "chong2 fu4"),
    ("重启", "chong2 qi3"),
    ("重构", "chong2 gou4"),
    ("重庆", "chong2 qing4"),
    // 了 liǎo
    ("了解", "liao3 jie3"),
    ("为了", "wei4 le5"),
    ("除了", "chu2 le5"),
    ("好了", "hao3 le5"),
    // 为 wéi / wèi
    ("认为", "ren4 wei2"),
    ("作为", "zuo4 wei2"),
    ("成为", "cheng2 wei2"),
    ("行为", "xing2 wei2"),
    ("以为", "yi3 wei2"),
    ("因为", "yin1 wei4"),
    ("为什么", "wei4 shen2 me5"),
    // 得 de / dé
    ("觉得", "jue2 de5"),
    ("记得", "ji4 de5"),
    ("值得", "zhi2 de5"),
    ("懂得", "dong3 de5"),
    ("晓得", "xiao3 de5"),
    ("获得", "huo4 de2"),
    ("取得", "qu3 de2"),
    ("得到", "de2 dao4"),
    // 应 yìng
    ("应聘", "ying4 pin4"),
    ("应用", "ying4 yong4"),
    ("适应", "shi4 ying4"),
    ("反应", "fan3 ying4"),
    ("响应", "xiang3 ying4"),
    ("对应", "dui4 ying4"),
    ("供应", "gong1 ying4"),
    ("答应", "da1 ying5"),
    ("应届", "ying1 jie4"),
    // 差 chāi / chā
    ("出差", "chu1 chai1"),
    ("差旅", "chai1 lv3"),
    ("差别", "cha1 bie2"),
    ("差异", "cha1 yi4"),
    ("误差", "wu4 cha1"),
    ("偏差", "pian1 cha1"),
    // 调 tiáo
    ("调整", "tiao2 zheng3"),
    ("调试", "tiao2 shi4"),
    ("协调", "xie2 tiao2"),
    ("空调", "kong1 tiao2"),
    ("调优", "tiao2 you1"),
    ("调查", "diao4 cha2"),
    ("调研", "diao4 yan2"),
    // 处 chǔ
    ("处理", "chu3 li3"),
    ("相处", "xiang1 chu3"),
    ("好处", "hao3 chu4"),
    // 假 jià
    ("假期", "jia4 qi1"),
    ("请假", "qing3 jia4"),
    ("放假", "fang4 jia4"),
    ("休假", "xiu1 jia4"),
    ("年假", "nian2 jia4"),
    ("病假", "bing4 jia4"),
    ("产假", "chan3 jia4"),
    ("婚假", "hun1 jia4"),
    // 空 kòng
    ("有空", "you3 kong4"),
    ("空闲", "kong4 xian2"),
    ("空余", "kong4 yu2"),
    ("没空", "mei2 kong4"),
    // others
    ("会计", "kuai4 ji4"),
    ("睡觉", "shui4 jiao4"),
    ("音乐", "yin1 yue4"),
    ("便宜", "pian2 yi5"),
    ("商量", "shang1 liang5"),
    ("关系", "guan1 xi5"),
    ("东西", "dong1 xi5"),
    ("什么", "shen2 me5"),
    ("怎么", "zen3 me5"),
    ("这么", "zhe4 me5"),
    ("那么", "na4 me5"),
    ("多少", "duo1 shao3"),
    ("首都", "shou3 du1"),
    ("成都", "cheng2 du1"),
    ("还款", "huan2 kuan3"),
    ("归还", "gui1 huan2"),
    ("着急", "zhao2 ji2"),
    ("干活", "gan4 huo2"),
    ("干什么", "gan4 shen2 me5"),
    ("能干", "neng2 gan4"),
    ("教书", "jiao1 shu1"),
    ("朝阳", "zhao1 yang2"),
    ("头发", "tou2 fa5"),
    ("部分", "bu4 fen5"),
    ("一下", "yi2 xia4"),
    ("一个", "yi2 ge4"),
    ("一起", "yi4 qi3"),
    ("一直", "yi4 zhi2"),
    ("一般", "yi4 ban1"),
    ("不是", "bu2 shi4"),
    ("不会", "bu2 hui4"),
    ("不要", "bu2 yao4"),
    ("不用", "bu2 yong4"),
    ("不错", "bu2 cuo4"),
    ("不过", "bu2 guo4"),
    ("不对", "bu2 dui4"),
    ("谢谢", "xie4 xie5"),
    ("先生", "xian1 sheng5"),
    ("朋友", "peng2 you5"),
    ("时候", "shi2 hou5"),
    ("知道", "zhi1 dao5"),
    ("喜欢", "xi3 huan5"),
    ("明白", "ming2 bai5"),
    ("清楚", "qing1 chu5"),
    ("麻烦", "ma2 fan5"),
    ("地方", "di4 fang5"),
    ("意思", "yi4 si5"),
    ("休息", "xiu1 xi5"),
    ("打扰", "da3 rao3"),
];

/// Syllables of a listed word, in TONE3 form.
pub fn word(word: &str) -> Option<Vec<&'static str>> {
    WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, py)| py.split(' ').collect())
}

/// Reading of a character by its position, for characters whose table reading is
/// only right in some positions: 子 is neutral as a suffix (孩子) and zǐ elsewhere
/// (子女); 的/地/得 alone are the particle "de"; 了 alone is "le".
pub fn character(c: char, index: usize, word_len: usize) -> Option<&'static str> {
    match c {
        '子' if word_len > 1 && index == word_len - 1 => Some("zi5"),
        '子' => Some("zi3"),
        '的' | '地' | '得' if word_len == 1 => Some("de5"),
        '了' if word_len == 1 => Some("le5"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn entries_are_well_formed() {
        for (w, py) in super::WORDS {
            assert_eq!(w.chars().count(), py.split(' ').count(), "{w}: {py}");
            for s in py.split(' ') {
                assert!(super::super::syllable::to_phonemes(s).is_some(), "{w}: {s}");
            }
        }
    }
}
