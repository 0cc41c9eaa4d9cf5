//! Domain identifiers and the validation of who an entity is: workspace slugs, entity ids, the
//! unified social credit code of organisations (GB 32100-2015) and person identity documents
//! (GB 11643-1999 for PRC resident identity cards).
//!
//! Everything here parses untrusted strings into newtypes; a value of these types is valid.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![deny(clippy::arithmetic_side_effects)]

use std::fmt;

use serde::{Deserialize, Serialize};

/// The default arc for the TSA and certificate policy OIDs: under IANA enterprise number 32473,
/// which RFC 5612 reserves for documentation and examples. sigillum has no enterprise number of
/// its own, and UUID OIDs (`2.25.<128-bit>`) cannot be encoded by `const-oid` (32-bit arcs), so
/// an operator sets `tsa.policy_oid` and `ca.certificate_policy_oid` to an arc they own; the
/// appliance warns at start-up while the defaults are in use.
pub const DEFAULT_OID_ARC: &str = "1.3.6.1.4.1.32473.1";

/// Why an identifier was refused; the message says what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidIdentifier {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> InvalidIdentifier {
    InvalidIdentifier {
        field,
        message: message.into(),
    }
}

/// A workspace: the isolation boundary for entities and API keys. 1–63 characters of
/// `[a-z0-9-]`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Workspace(String);

impl Workspace {
    pub fn parse(s: &str) -> Result<Self, InvalidIdentifier> {
        let ok = !s.is_empty()
            && s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(invalid(
                "workspace",
                "must be 1-63 characters of a-z, 0-9 and '-', not starting with '-'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Workspace {
    type Error = InvalidIdentifier;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Workspace> for String {
    fn from(w: Workspace) -> String {
        w.0
    }
}

impl fmt::Display for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// API key identifier: `ak_` followed by 24 lower-case hex digits (96 random bits). Public: it
/// names the key in every signed request; the secret is what authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApiKeyId(String);

impl ApiKeyId {
    pub fn generate() -> Self {
        Self(format!("ak_{}", hex::encode(rand::random::<[u8; 12]>())))
    }

    pub fn parse(s: &str) -> Result<Self, InvalidIdentifier> {
        match s.strip_prefix("ak_") {
            Some(h)
                if h.len() == 24 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
            {
                Ok(Self(s.to_owned()))
            }
            _ => Err(invalid(
                "key_id",
                "API key ids look like ak_ followed by 24 hex digits",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ApiKeyId {
    type Error = InvalidIdentifier;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ApiKeyId> for String {
    fn from(id: ApiKeyId) -> String {
        id.0
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Entity identifier: `ent_` followed by 32 lower-case hex digits (128 random bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EntityId(String);

impl EntityId {
    pub fn random() -> Self {
        Self(format!("ent_{}", hex::encode(rand::random::<[u8; 16]>())))
    }

    pub fn parse(s: &str) -> Result<Self, InvalidIdentifier> {
        match s.strip_prefix("ent_") {
            Some(h)
                if h.len() == 32 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
            {
                Ok(Self(s.to_owned()))
            }
            _ => Err(invalid(
                "id",
                "entity ids look like ent_ followed by 32 hex digits",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EntityId {
    type Error = InvalidIdentifier;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<EntityId> for String {
    fn from(id: EntityId) -> String {
        id.0
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name (organisation or person): trimmed, 1–64 characters (RFC 5280 Appendix A:
/// ub-common-name and ub-organization-name are 64), no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    pub fn parse(s: &str) -> Result<Self, InvalidIdentifier> {
        let t = s.trim();
        if t.is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        if t.chars().count() > 64 {
            return Err(invalid(
                "name",
                "must be at most 64 characters (the X.509 limit for common and organisation names)",
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(invalid("name", "must not contain control characters"));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Name {
    type Error = InvalidIdentifier;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0
    }
}

/// Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from the 31-symbol
/// alphabet `0-9 A-H J-N P-R T U W-Y`, the last being a check character over the first 17
/// (weights 3^i mod 31, check = 31 − Σ mod 31).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

impl CreditCode {
    pub fn parse(s: &str) -> Result<Self, InvalidIdentifier> {
        const FIELD: &str = "credit_code";
        let upper = s.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if bytes.len() != 18 {
            return Err(invalid(
                FIELD,
                format!("must be 18 characters, got {}", bytes.len()),
            ));
        }
        let mut values = Vec::with_capacity(18);
        for (position, b) in (1..).zip(bytes) {
            let Some(v) = USCC_ALPHABET.iter().position(|a| a == b) else {
                return Err(invalid(
                    FIELD,
                    format!(
                        "character {position} ('{}') is not allowed; GB 32100-2015 uses 0-9 and A-Y without I, O, S, V, Z",
                        *b as char
                    ),
                ));
            };
            values.push(v as u32);
        }
        let (Some(&given), Some(&given_char)) = (values.last(), bytes.last()) else {
            return Err(invalid(FIELD, "must be 18 characters"));
        };
        // Each value is < 31 and each weight < 31, so the sum of 17 products fits easily;
        // wrapping arithmetic keeps the linted code free of overflow paths anyway.
        let sum = values
            .iter()
            .zip(USCC_WEIGHTS)
            .fold(0u32, |acc, (v, w)| acc.wrapping_add(v.wrapping_mul(w)));
        let check = 31u32.wrapping_sub(sum % 31) % 31;
        if given != check {
            let expected = USCC_ALPHABET
                .get(check as usize)
                .map_or('?', |c| *c as char);
            return Err(invalid(
                FIELD,
                format!(
                    "check character is '{}' but the first 17 characters require '{expected}'; check for a typo",
                    given_char as char
                ),
            ));
        }
        Ok(Self(upper))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CreditCode {
    type Error = InvalidIdentifier;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}

/// Kinds of identity documents a person can be registered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdDocumentType {
    /// PRC resident identity card (居民身份证), 18 characters with a GB 11643-1999 check character.
    ResidentId,
    /// Passport.
    Passport,
    /// Mainland travel permit for Hong Kong and Macao residents (港澳居民来往内地通行证).
    HkMacaoPermit,
    /// Mainland travel permit for Taiwan residents (台湾居民来往大陆通行证).
    TaiwanPermit,
}

impl IdDocumentType {
    /// ETSI EN 319 412-1 §5.1.3 semantics prefix for the subject serialNumber: `IDC` + country
    /// for national identity cards, `PAS` + country for passports, and for the PRC travel permits
    /// (which are neither) the national-scheme form `CN:` + a locally defined identifier.
    pub fn semantics_prefix(self) -> &'static str {
        match self {
            IdDocumentType::ResidentId => "IDCCN",
            IdDocumentType::Passport => "PAS",
            IdDocumentType::HkMacaoPermit => "CN:HKMOPERMIT",
            IdDocumentType::TaiwanPermit => "CN:TWPERMIT",
        }
    }
}

/// A validated identity document number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdDocument {
    pub kind: IdDocumentType,
    pub number: String,
    /// Issuing country of passports (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

const RESIDENT_ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RESIDENT_ID_CHECK: &[u8; 11] = b"10X98765432";

impl IdDocument {
    pub fn parse(
        kind: IdDocumentType,
        number: &str,
        country: Option<&str>,
    ) -> Result<Self, InvalidIdentifier> {
        const FIELD: &str = "id_number";
        let number = number.trim().to_ascii_uppercase();
        if !(4..=32).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid(FIELD, "must be 4-32 letters and digits"));
        }
        let country = match (kind, country) {
            (IdDocumentType::Passport, Some(c))
                if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) =>
            {
                Some(c.to_ascii_uppercase())
            }
            (IdDocumentType::Passport, _) => {
                return Err(invalid(
                    "id_country",
                    "passports need the issuing country as a two-letter ISO 3166 code",
                ));
            }
            (_, Some(_)) => {
                return Err(invalid("id_country", "only passports take id_country"));
            }
            (_, None) => None,
        };
        if kind == IdDocumentType::ResidentId {
            let b = number.as_bytes();
            let (Some((&given, digits)), 18) = (b.split_last(), b.len()) else {
                return Err(invalid(
                    FIELD,
                    "a resident ID number is 17 digits followed by a digit or X",
                ));
            };
            if !digits.iter().all(u8::is_ascii_digit) {
                return Err(invalid(
                    FIELD,
                    "a resident ID number is 17 digits followed by a digit or X",
                ));
            }
            let sum = digits
                .iter()
                .zip(RESIDENT_ID_WEIGHTS)
                .fold(0u32, |acc, (d, w)| {
                    acc.wrapping_add(u32::from(d.wrapping_sub(b'0')).wrapping_mul(w))
                });
            let expected = RESIDENT_ID_CHECK
                .get((sum % 11) as usize)
                .copied()
                .unwrap_or(b'?');
            if given != expected {
                return Err(invalid(
                    FIELD,
                    format!(
                        "check character is '{}' but the first 17 digits require '{}'",
                        given as char, expected as char
                    ),
                ));
            }
        }
        Ok(Self {
            kind,
            number,
            country,
        })
    }

    /// Subject serialNumber per ETSI EN 319 412-1 §5.1.3, e.g. `IDCCN-11010519491231002X`,
    /// `PASDE-C01X00T47` or `CN:HKMOPERMIT-H01234567`.
    pub fn subject_serial_number(&self) -> String {
        match (&self.kind, &self.country) {
            (IdDocumentType::Passport, Some(c)) => format!("PAS{c}-{}", self.number),
            (kind, _) => format!("{}-{}", kind.semantics_prefix(), self.number),
        }
    }
}

/// An e-mail address: a pragmatic check (one `@`, non-empty local part and a dotted domain, ASCII
/// only since it goes into an rfc822Name).
pub fn parse_email(s: &str) -> Result<String, InvalidIdentifier> {
    let s = s.trim();
    let ok = s.len() <= 254
        && s.is_ascii()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(s.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.contains('@') && domain.contains('.')
               && !domain.starts_with('.') && !domain.ends_with('.'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(invalid(
            "email",
            "must be an ASCII address like name@example.com",
        ))
    }
}

/// A mobile number in E.164 form (`+` and 8–15 digits).
pub fn parse_mobile(s: &str) -> Result<String, InvalidIdentifier> {
    let s = s.trim();
    match s.strip_prefix('+') {
        Some(d) if (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(s.to_owned())
        }
        _ => Err(invalid(
            "mobile",
            "must be in E.164 form, e.g. +8613800138000",
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn credit_code_accepts_published_examples() {
        // Example codes printed on business licences and in GB 32100-2015 guidance.
        for code in [
            "91350100M000100Y43",
            "91110000802100433B",
            "91440300708461136T",
        ] {
            CreditCode::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        }
        assert_eq!(
            CreditCode::parse("91350100m000100y43").unwrap().as_str(),
            "91350100M000100Y43"
        );
    }

    #[test]
    fn credit_code_rejects_wrong_check_character_with_the_right_one() {
        let err = CreditCode::parse("91350100M000100Y44").unwrap_err();
        assert!(err.message.contains("require '3'"), "{}", err.message);
        assert!(CreditCode::parse("91350100M000100Y4").is_err());
        assert!(CreditCode::parse("91350100M000100I43").is_err());
    }

    #[test]
    fn resident_id_check_character() {
        IdDocument::parse(IdDocumentType::ResidentId, "11010519491231002X", None).unwrap();
        IdDocument::parse(IdDocumentType::ResidentId, "11010519491231002x", None).unwrap();
        let err =
            IdDocument::parse(IdDocumentType::ResidentId, "110105194912310021", None).unwrap_err();
        assert!(err.message.contains("require 'X'"), "{}", err.message);
    }

    #[test]
    fn passport_needs_country_and_maps_to_etsi_semantics() {
        assert!(IdDocument::parse(IdDocumentType::Passport, "E12345678", None).is_err());
        let doc = IdDocument::parse(IdDocumentType::Passport, "E12345678", Some("cn")).unwrap();
        assert_eq!(doc.subject_serial_number(), "PASCN-E12345678");
        let doc = IdDocument::parse(IdDocumentType::HkMacaoPermit, "H01234567", None).unwrap();
        assert_eq!(doc.subject_serial_number(), "CN:HKMOPERMIT-H01234567");
    }

    #[test]
    fn names_workspaces_and_ids() {
        assert!(Name::parse("  ").is_err());
        assert!(Name::parse(&"名".repeat(64)).is_ok());
        assert!(Name::parse(&"名".repeat(65)).is_err());
        assert_eq!(Name::parse(" 腾讯科技 ").unwrap().as_str(), "腾讯科技");
        assert!(Workspace::parse("Acme").is_err());
        assert!(Workspace::parse("acme-1").is_ok());
        let id = EntityId::random();
        assert_eq!(EntityId::parse(id.as_str()).unwrap(), id);
        let key = ApiKeyId::generate();
        assert_eq!(ApiKeyId::parse(key.as_str()).unwrap(), key);
        assert!(ApiKeyId::parse("ak_0123").is_err());
        assert!(EntityId::parse("ent_xyz").is_err());
        assert!(parse_email("a@b.cn").is_ok());
        assert!(parse_email("a@b").is_err());
        assert!(parse_mobile("+8613800138000").is_ok());
        assert!(parse_mobile("13800138000").is_err());
    }
}
