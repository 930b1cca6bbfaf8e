//! Skill taxonomy: synonyms, ASR spellings, Mandarin names, longest match, negation.

use voxhire_nlu::skills::SkillTaxonomy;
use voxhire_nlu::Lang;

fn ids(text: &str, lang: Lang) -> Vec<String> {
    SkillTaxonomy::builtin()
        .find(text, lang)
        .into_iter()
        .filter(|m| !m.negated)
        .map(|m| m.id)
        .collect()
}

#[test]
fn english_phrasings() {
    let cases: &[(&str, &[&str])] = &[
        ("i use java and spring boot", &["java", "spring"]),
        ("Java, SpringBoot, MySQL", &["java", "spring", "mysql"]),
        (
            "mostly java script and type script",
            &["javascript", "typescript"],
        ),
        ("javascript not java", &["javascript"]),
        (
            "we deploy on cooper netties with docker",
            &["kubernetes", "docker"],
        ),
        ("k8s and kube ctl", &["kubernetes", "kubernetes"]),
        ("k 8 s", &["kubernetes"]),
        (
            "spring clouds micro services",
            &["spring_cloud", "microservices"],
        ),
        ("view js and vue.js and Vue 3", &["vue", "vue", "vue"]),
        ("node.js with graph ql", &["node", "graphql"]),
        (
            "my sql and post gres and mongo db",
            &["mysql", "postgresql", "mongodb"],
        ),
        (
            "elastic search redis kafka",
            &["elasticsearch", "redis", "kafka"],
        ),
        (
            "html/css webpack and vite",
            &["html_css", "webpack", "vite"],
        ),
        (
            "ci/cd on aws with linux and git",
            &["ci_cd", "aws", "linux", "git"],
        ),
        ("C++ and C# and golang", &["cpp", "csharp", "golang"]),
        (
            "I've done a lot of C sharp and .NET.",
            &["csharp", "dotnet"],
        ),
        ("asp.net core", &["dotnet"]),
        ("react and angular", &["react", "angular"]),
        (
            "jvm tuning and high concurrency",
            &["jvm_tuning", "high_concurrency"],
        ),
        ("distributed systems", &["distributed_systems"]),
        ("wechat mini programs", &["wechat_mini_program"]),
    ];
    for (text, want) in cases {
        assert_eq!(ids(text, Lang::En), *want, "{text}");
    }
}

#[test]
fn mandarin_phrasings() {
    let cases: &[(&str, &[&str])] = &[
        ("我主要用Java和Spring Boot", &["java", "spring"]),
        ("做过微服务，用过k8s", &["microservices", "kubernetes"]),
        ("熟悉JVM调优和高并发", &["jvm_tuning", "high_concurrency"]),
        (
            "分布式系统和消息队列",
            &["distributed_systems", "message_queue"],
        ),
        ("做过微信小程序", &["wechat_mini_program"]),
        ("容器编排用的是容器化部署", &["kubernetes", "docker"]),
        ("用vue和react写前端", &["vue", "react"]),
        ("redis，mysql，kafka都用过", &["redis", "mysql", "kafka"]),
        ("阿里云上部署springcloud", &["aliyun", "spring_cloud"]),
        ("我会go语言和python", &["golang", "python"]),
        ("持续集成用jenkins", &["ci_cd", "jenkins"]),
        ("多线程，设计模式", &["multithreading", "design_patterns"]),
        ("分库分表，ES", &["sharding", "elasticsearch"]),
        ("安卓开发", &["android"]),
        ("深度学习和机器学习", &["deep_learning", "machine_learning"]),
    ];
    for (text, want) in cases {
        assert_eq!(ids(text, Lang::Zh), *want, "{text}");
    }
}

#[test]
fn negated_skills_are_flagged() {
    let cases: &[(&str, Lang, &[&str])] = &[
        ("I have never used Kafka", Lang::En, &[]),
        (
            "i know java but i have never used kafka",
            Lang::En,
            &["java"],
        ),
        ("no experience with redis", Lang::En, &[]),
        ("i don't know react but vue yes", Lang::En, &["vue"]),
        ("I want to learn rust", Lang::En, &[]),
        ("没用过Kafka", Lang::Zh, &[]),
        ("用过Java，没用过Kafka", Lang::Zh, &["java"]),
        ("Kafka和Redis都没用过，MySQL用得多", Lang::Zh, &["mysql"]),
        ("不会k8s", Lang::Zh, &[]),
        ("想学golang", Lang::Zh, &[]),
    ];
    for (text, lang, want) in cases {
        assert_eq!(ids(text, *lang), *want, "{text}");
    }
}

#[test]
fn matches_carry_words_and_spans() {
    let text = "we used Cooper Netties, 还有微服务";
    let found = SkillTaxonomy::builtin().find(text, Lang::Zh);
    let got: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|m| (m.id.as_str(), m.matched.as_str(), &text[m.span.clone()]))
        .collect();
    assert_eq!(
        got,
        vec![
            ("kubernetes", "Cooper Netties", "Cooper Netties"),
            ("microservices", "微服务", "微服务")
        ]
    );
}

#[test]
fn canonical_and_display_names() {
    let tax = SkillTaxonomy::builtin();
    assert_eq!(tax.canonical("Spring Boot"), Some("spring"));
    assert_eq!(tax.canonical("springboot"), Some("spring"));
    assert_eq!(tax.canonical("容器编排"), Some("kubernetes"));
    assert_eq!(tax.canonical("spring_cloud"), Some("spring_cloud"));
    assert_eq!(tax.canonical("Node.js"), Some("node"));
    assert_eq!(tax.canonical("cobol"), None);
    assert_eq!(tax.display_name("ci_cd"), Some("CI/CD"));
    assert_eq!(tax.display_name("nope"), None);
}
