//! The rule set an organization starts with. Chosen to tag often and wrongly rarely: short
//! words that mean something else in the other language (German "lag", English "lager") are
//! left out, and prefixes are used where German builds compounds ("Rechnungsadresse").

use super::TagRule;

fn rule(tag: &str, de: &[&str], en: &[&str]) -> TagRule {
    let owned = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect();
    TagRule {
        tag: tag.to_owned(),
        de: owned(de),
        en: owned(en),
    }
}

/// `billing`, `bug`, `account`, `performance` and `security`, each with German and English
/// keywords.
pub fn default_tag_rules() -> Vec<TagRule> {
    vec![
        rule(
            "billing",
            &[
                "rechnung*",
                "zahlung*",
                "bezahl*",
                "abrechnung*",
                "abbuchung*",
                "lastschrift*",
                "überweisung*",
                "gutschrift*",
                "erstattung*",
                "rückerstattung*",
                "mahnung*",
                "abonnement*",
                "kreditkarte*",
                "preis",
                "preise",
                "kosten",
            ],
            &[
                "invoice*",
                "payment*",
                "billing",
                "billed",
                "refund*",
                "charge",
                "charged",
                "subscription*",
                "receipt*",
                "credit card",
                "price",
                "pricing",
            ],
        ),
        rule(
            "bug",
            &[
                "fehler*",
                "absturz*",
                "abstürz*",
                "abgestürzt",
                "stürzt ab",
                "funktioniert nicht",
                "geht nicht",
                "kaputt",
                "fehlgeschlagen",
            ],
            &[
                "bug",
                "bugs",
                "crash*",
                "error*",
                "exception*",
                "broken",
                "not working",
                "doesn't work",
                "does not work",
            ],
        ),
        rule(
            "account",
            &[
                "anmeld*",
                "einlogg*",
                "passwort*",
                "kennwort*",
                "konto",
                "zugang",
                "gesperrt",
                "zwei-faktor*",
                "registrierung",
            ],
            &[
                "login",
                "log in",
                "sign in",
                "password*",
                "account",
                "locked out",
                "2fa",
                "two-factor",
                "username",
            ],
        ),
        rule(
            "performance",
            &[
                "langsam*",
                "ladezeit*",
                "lädt ewig",
                "verzögerung*",
                "hängt sich auf",
                "performance",
            ],
            &[
                "slow*",
                "latency",
                "lagging",
                "laggy",
                "timeout*",
                "timed out",
                "freez*",
                "performance",
            ],
        ),
        rule(
            "security",
            &[
                "sicherheitslücke*",
                "phishing",
                "gehackt",
                "datenleck*",
                "schadsoftware",
                "virus",
            ],
            &[
                "security",
                "vulnerab*",
                "phishing",
                "hacked",
                "data leak*",
                "malware",
                "virus",
            ],
        ),
    ]
}
