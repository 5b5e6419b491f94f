use super::*;

fn tags(subject: &str, description: &str) -> Vec<String> {
    auto_tags(subject, description, &default_tag_rules())
        .into_iter()
        .collect()
}

#[test]
fn the_default_rules_are_valid() {
    assert_eq!(validate_tag_rules(&default_tag_rules()), Ok(()));
}

#[test]
fn german_tickets_are_tagged() {
    assert_eq!(tags("Rechnung doppelt erhalten", ""), ["billing"]);
    assert_eq!(
        tags("Frage", "Meine ZAHLUNG ist nicht angekommen"),
        ["billing"]
    );
    assert_eq!(tags("Rechnungsadresse ändern", ""), ["billing"]);
    assert_eq!(tags("Die App stürzt ab", "Immer beim Start."), ["bug"]);
    assert_eq!(tags("Absturz beim Speichern", ""), ["bug"]);
    assert_eq!(tags("", "Ich bekomme eine Fehlermeldung"), ["bug"]);
    assert_eq!(tags("Fehler 500", ""), ["bug"]);
    assert_eq!(tags("Passwort vergessen", ""), ["account"]);
    assert_eq!(tags("Seite lädt ewig", ""), ["performance"]);
    assert_eq!(tags("Verdacht auf Phishing", ""), ["security"]);
}

#[test]
fn english_tickets_are_tagged() {
    assert_eq!(tags("Invoice missing", ""), ["billing"]);
    assert_eq!(tags("", "The payment failed twice"), ["billing"]);
    assert_eq!(tags("Refunds?", ""), ["billing"]);
    assert_eq!(tags("App crashes on startup", ""), ["bug"]);
    assert_eq!(tags("Error when uploading", ""), ["bug"]);
    assert_eq!(tags("Export doesn't work", ""), ["bug"]);
    assert_eq!(tags("Cannot log in", ""), ["account"]);
    assert_eq!(tags("Very slow dashboard", ""), ["performance"]);
    assert_eq!(tags("Possible data leak", ""), ["security"]);
}

#[test]
fn mixed_language_and_several_tags() {
    assert_eq!(tags("Error beim Login", ""), ["account", "bug"]);
    assert_eq!(
        tags("Rechnung", "and the app crashed while paying"),
        ["billing", "bug"]
    );
}

#[test]
fn umlauts_match_in_every_spelling() {
    for text in [
        "Rückerstattung beantragt",
        "RÜCKERSTATTUNG beantragt",
        "Rueckerstattung beantragt",
        "Ru\u{0308}ckerstattung beantragt",
    ] {
        assert_eq!(tags(text, ""), ["billing"], "{text:?}");
    }
    assert_eq!(tags("App ist ABGESTÜRZT", ""), ["bug"]);
    assert_eq!(tags("App ist abgestuerzt", ""), ["bug"]);
    assert_eq!(tags("Ueberweisung fehlt", ""), ["billing"]);
}

#[test]
fn only_whole_words_match() {
    assert_eq!(
        tags("Terror", ""),
        Vec::<String>::new(),
        "error inside terror"
    );
    assert_eq!(tags("How do I debug my script?", ""), Vec::<String>::new());
    assert_eq!(tags("bugfix release notes", ""), Vec::<String>::new());
    assert_eq!(tags("Our accountant asks", ""), Vec::<String>::new());
    assert_eq!(
        tags("Kontostand", ""),
        Vec::<String>::new(),
        "konto is not a prefix"
    );
    assert_eq!(tags("Der Fehler", ""), ["bug"]);
    assert_eq!(tags("", ""), Vec::<String>::new());
}

#[test]
fn phrases_match_consecutive_words_within_one_field() {
    assert_eq!(tags("Upload", "it is not working"), ["bug"]);
    assert_eq!(tags("Upload", "working, not really"), Vec::<String>::new());
    assert_eq!(
        tags("Login funktioniert", "nicht richtig"),
        ["account"],
        "a phrase never spans subject and description"
    );
}

#[test]
fn custom_rules_come_from_configuration() {
    let rules: Vec<TagRule> = serde_json::from_str(
        r#"[{"tag": "shipping", "de": ["Lieferung*", "Paket"], "en": ["delivery", "parcel"]},
            {"tag": "vip", "en": ["Großkunde"]}]"#,
    )
    .unwrap();
    assert_eq!(validate_tag_rules(&rules), Ok(()));
    let got = auto_tags("Wo ist mein PAKET?", "", &rules);
    assert_eq!(got, BTreeSet::from(["shipping".to_owned()]));
    let got = auto_tags("Lieferungen verspätet", "Grosskunde hier", &rules);
    assert_eq!(
        got,
        BTreeSet::from(["shipping".to_owned(), "vip".to_owned()])
    );
    assert!(auto_tags("Rechnung", "", &rules).is_empty());
    assert!(serde_json::from_str::<Vec<TagRule>>(r#"[{"tag": "x", "fr": ["a"]}]"#).is_err());
}

#[test]
fn bad_rules_are_refused_with_a_reason() {
    let one = |tag: &str, keyword: &str| {
        validate_tag_rules(&[TagRule {
            tag: tag.into(),
            de: vec![keyword.into()],
            en: vec![],
        }])
    };
    assert_eq!(
        one("Billing", "x"),
        Err(TagRuleError::BadTag("Billing".into()))
    );
    assert_eq!(one("", "x"), Err(TagRuleError::BadTag(String::new())));
    assert_eq!(
        one(&"t".repeat(MAX_TAG_CHARS + 1), "x"),
        Err(TagRuleError::BadTag("t".repeat(MAX_TAG_CHARS + 1)))
    );
    for (keyword, reason) in [
        ("", "contains no word"),
        ("  !! ", "contains no word"),
        ("ab*", "a prefix before '*' needs at least 3 letters"),
        ("re*fund", "'*' is only allowed once, at the end"),
        ("refund**", "'*' is only allowed once, at the end"),
        ("refund *", "'*' must follow a letter or digit directly"),
    ] {
        assert_eq!(
            one("billing", keyword),
            Err(TagRuleError::BadKeyword {
                tag: "billing".into(),
                keyword: keyword.into(),
                reason
            }),
            "{keyword:?}"
        );
    }
    assert!(matches!(
        one("billing", &"x".repeat(MAX_KEYWORD_CHARS + 1)),
        Err(TagRuleError::BadKeyword {
            reason: "too long",
            ..
        })
    ));
    assert_eq!(
        validate_tag_rules(&[TagRule {
            tag: "empty".into(),
            de: vec![],
            en: vec![],
        }]),
        Err(TagRuleError::NoKeywords("empty".into()))
    );
    let many = TagRule {
        tag: "many".into(),
        de: vec!["wort".into(); MAX_KEYWORDS_PER_RULE],
        en: vec!["word".into()],
    };
    assert_eq!(
        validate_tag_rules(&[many]),
        Err(TagRuleError::TooManyKeywords {
            tag: "many".into(),
            count: MAX_KEYWORDS_PER_RULE + 1
        })
    );
    let rule = TagRule {
        tag: "a".into(),
        de: vec!["b".into()],
        en: vec![],
    };
    assert_eq!(
        validate_tag_rules(&vec![rule; MAX_TAG_RULES + 1]),
        Err(TagRuleError::TooManyRules(MAX_TAG_RULES + 1))
    );
}

#[test]
fn invalid_keywords_never_match_instead_of_matching_everything() {
    let rules = [TagRule {
        tag: "oops".into(),
        de: vec!["a*".into(), "".into()],
        en: vec![],
    }];
    assert!(auto_tags("alles andere", "", &rules).is_empty());
}
