//! The satisfaction survey a reporter may answer once when their ticket is closed: a rating from
//! 1 to 5 and an optional comment. Only the value is here; "once" and "only the reporter" are
//! enforced where surveys are stored.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest survey comment, in characters.
pub const MAX_SURVEY_COMMENT_CHARS: usize = 2_000;

/// Why a survey answer is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SurveyError {
    #[error("the rating must be a whole number from 1 to 5, got {0}")]
    RatingOutOfRange(i64),
    #[error("the comment may have at most {MAX_SURVEY_COMMENT_CHARS} characters, got {0}")]
    CommentTooLong(usize),
}

/// A rating from 1 (very unhappy) to 5 (very happy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct Rating(u8);

impl Rating {
    pub const MIN: Rating = Rating(1);
    pub const MAX: Rating = Rating(5);

    pub fn new(value: i64) -> Result<Self, SurveyError> {
        u8::try_from(value)
            .ok()
            .filter(|v| (Self::MIN.0..=Self::MAX.0).contains(v))
            .map(Self)
            .ok_or(SurveyError::RatingOutOfRange(value))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Rating {
    type Error = SurveyError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Rating> for u8 {
    fn from(r: Rating) -> Self {
        r.0
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/5", self.0)
    }
}

/// A validated survey answer. The comment is trimmed; an empty comment is no comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SurveyAnswer")]
pub struct SatisfactionSurvey {
    rating: Rating,
    comment: Option<String>,
}

/// The unvalidated form, as a client sends it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SurveyAnswer {
    rating: i64,
    #[serde(default)]
    comment: Option<String>,
}

impl SatisfactionSurvey {
    pub fn new(rating: i64, comment: Option<&str>) -> Result<Self, SurveyError> {
        let rating = Rating::new(rating)?;
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if let Some(c) = comment {
            let chars = c.chars().count();
            if chars > MAX_SURVEY_COMMENT_CHARS {
                return Err(SurveyError::CommentTooLong(chars));
            }
        }
        Ok(Self {
            rating,
            comment: comment.map(str::to_owned),
        })
    }

    pub fn rating(&self) -> Rating {
        self.rating
    }

    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
}

impl TryFrom<SurveyAnswer> for SatisfactionSurvey {
    type Error = SurveyError;
    fn try_from(a: SurveyAnswer) -> Result<Self, Self::Error> {
        Self::new(a.rating, a.comment.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_one_to_five_are_accepted() {
        for v in 1..=5 {
            assert_eq!(Rating::new(v).unwrap().get() as i64, v);
        }
        for v in [0, 6, -1, 256, i64::MAX] {
            assert_eq!(Rating::new(v), Err(SurveyError::RatingOutOfRange(v)));
        }
        assert_eq!(Rating::new(4).unwrap().to_string(), "4/5");
    }

    #[test]
    fn comments_are_trimmed_limited_and_optional() {
        let s = SatisfactionSurvey::new(5, Some("  Schnelle Hilfe, danke!  ")).unwrap();
        assert_eq!(s.comment(), Some("Schnelle Hilfe, danke!"));
        assert_eq!(
            SatisfactionSurvey::new(3, Some("   ")).unwrap().comment(),
            None
        );
        assert_eq!(SatisfactionSurvey::new(3, None).unwrap().comment(), None);
        // The limit counts characters, not bytes: 2,000 umlauts are fine.
        let full = "ü".repeat(MAX_SURVEY_COMMENT_CHARS);
        assert!(SatisfactionSurvey::new(1, Some(&full)).is_ok());
        let over = "x".repeat(MAX_SURVEY_COMMENT_CHARS + 1);
        assert_eq!(
            SatisfactionSurvey::new(1, Some(&over)),
            Err(SurveyError::CommentTooLong(MAX_SURVEY_COMMENT_CHARS + 1))
        );
        assert_eq!(
            SatisfactionSurvey::new(0, Some("ok")),
            Err(SurveyError::RatingOutOfRange(0))
        );
    }

    #[test]
    fn deserialising_validates() {
        let s: SatisfactionSurvey =
            serde_json::from_str(r#"{"rating": 4, "comment": " gut "}"#).unwrap();
        assert_eq!((s.rating().get(), s.comment()), (4, Some("gut")));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json, serde_json::json!({"rating": 4, "comment": "gut"}));
        assert_eq!(
            serde_json::from_value::<SatisfactionSurvey>(json).unwrap(),
            s
        );
        let s: SatisfactionSurvey = serde_json::from_str(r#"{"rating": 2}"#).unwrap();
        assert_eq!(s.comment(), None);
        for bad in [
            r#"{"rating": 6}"#,
            r#"{"rating": 0, "comment": "x"}"#,
            r#"{"rating": 4.5}"#,
            r#"{"comment": "no rating"}"#,
            r#"{"rating": 3, "stars": 3}"#,
        ] {
            assert!(
                serde_json::from_str::<SatisfactionSurvey>(bad).is_err(),
                "{bad}"
            );
        }
        let err = serde_json::from_str::<SatisfactionSurvey>(r#"{"rating": 9}"#).unwrap_err();
        assert!(err.to_string().contains("from 1 to 5"), "{err}");
        let packed = rmp_serde::to_vec_named(&s).unwrap();
        assert_eq!(
            rmp_serde::from_slice::<SatisfactionSurvey>(&packed).unwrap(),
            s
        );
    }
}
