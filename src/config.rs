//! Configuration: one TOML file, parsed in two stages (raw `Config` with defaults and
//! `deny_unknown_fields`, then `Config::validate`) so that a typo fails closed at start-up instead
//! of silently running on a default.
//!
//! Every field below documents its meaning and default; `sigillum config-defaults` prints the
//! whole file with those defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::keys::KeyAlgorithm;

/// The appliance configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Directory holding the whole state: RocksDB, `master.key`, `admin-api-key.json`.
    /// Default `./data`.
    pub data_dir: PathBuf,
    /// Address the HTTP server listens on. Default `127.0.0.1:8470`.
    pub listen: SocketAddr,
    /// Public base URL of this appliance, without trailing slash; used in certificate AIA and CRL
    /// distribution point URLs. Default: `http://<listen>`.
    pub public_url: Option<String>,
    /// HTTP API limits and authentication.
    pub api: ApiConfig,
    /// Where private keys live.
    pub keys: KeysConfig,
    /// Certificate authority settings.
    pub ca: CaConfig,
    /// Time-stamping authority settings.
    pub tsa: TsaConfig,
    /// Transparency log settings.
    pub log: LogConfig,
    /// PDF signing policy (what requests cannot override).
    pub signing: SigningConfig,
    /// The public verification endpoint (`POST /v1/verify`, `GET /verify`).
    pub verify: VerifyConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            public_url: None,
            api: ApiConfig::default(),
            keys: KeysConfig::default(),
            ca: CaConfig::default(),
            tsa: TsaConfig::default(),
            log: LogConfig::default(),
            signing: SigningConfig::default(),
            verify: VerifyConfig::default(),
        }
    }
}

/// How untrusted uploads are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// A fresh `sigillum verify-worker` process per upload, with address-space and CPU limits:
    /// a stack overflow or an allocation failure kills the worker, not the server.
    Process,
    /// In the server process (tests and benchmarks only).
    InProcess,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyConfig {
    /// Largest PDF accepted, in bytes. Default 60 MiB.
    pub max_document_bytes: usize,
    /// PEM bundle of extra trust anchors (CA certificates) besides this appliance's root.
    /// Default: none.
    pub trust_anchors: Option<PathBuf>,
    /// Default `process`.
    pub isolation: Isolation,
    /// Address-space limit of a worker, MiB. Default 1024.
    pub worker_memory_mb: u64,
    /// Wall-clock budget per upload (the worker is killed after it), seconds. Default 20.
    pub timeout_seconds: u64,
    /// Most verifications at once; further uploads wait. Default: the number of CPUs.
    pub max_concurrent: usize,
    /// Uploads per client IP address per minute (a token bucket of that size). Default 60.
    pub rate_limit_per_minute: u32,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            max_document_bytes: 60 << 20,
            trust_anchors: None,
            isolation: Isolation::Process,
            worker_memory_mb: 1024,
            timeout_seconds: 20,
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
            rate_limit_per_minute: 60,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Largest request body accepted on JSON endpoints, in bytes. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Largest RFC 3161 / OCSP request body, in bytes. Default 16 KiB.
    pub max_protocol_body_bytes: usize,
    /// Allowed clock skew of signed requests, in seconds (both directions); nonces are remembered
    /// for this long. Default 300.
    pub auth_window_seconds: u64,
    /// Per-request time limit in seconds. Default 30.
    pub request_timeout_seconds: u64,
    /// Largest page size for list endpoints. Default 100.
    pub max_page_size: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_protocol_body_bytes: 16 * 1024,
            auth_window_seconds: 300,
            request_timeout_seconds: 30,
            max_page_size: 100,
        }
    }
}

/// Which key store holds private keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyBackend {
    /// Keys encrypted with AES-256-GCM under `<data_dir>/master.key`.
    Soft,
    /// Keys generated in and never leaving a PKCS#11 token.
    Pkcs11,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// `soft` (default) or `pkcs11`.
    pub backend: KeyBackend,
    /// PKCS#11 settings; used when `backend = "pkcs11"`.
    pub pkcs11: Pkcs11Config,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            backend: KeyBackend::Soft,
            pkcs11: Pkcs11Config::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module. Default SoftHSM2's `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// Label of the token to use. Default `sigillum`.
    pub token_label: String,
    /// File holding the user PIN (must not be readable by group or others). Required.
    pub pin_file: Option<PathBuf>,
    /// Number of sessions kept open for signing (a session serves one thread at a time).
    /// Default 4.
    pub sessions: usize,
    /// Dangerous: when the token cannot generate a configured algorithm, generate a soft key
    /// (wrapped under master.key, outside the HSM) instead of failing. Default false.
    pub dangerous_allow_soft_fallback: bool,
}

impl Default for Pkcs11Config {
    fn default() -> Self {
        Self {
            module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
            token_label: "sigillum".into(),
            pin_file: None,
            sessions: 4,
            dangerous_allow_soft_fallback: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaConfig {
    /// Organisation name in CA subjects. Default `sigillum`.
    pub organization: String,
    /// Two-letter country code in CA subjects. Default `CN`.
    pub country: String,
    /// Common name of the root CA. Default `sigillum Root CA`.
    pub root_common_name: String,
    /// Common name of the issuing CA. Default `sigillum Issuing CA`.
    pub issuing_common_name: String,
    /// Key algorithm of the CA, OCSP and TSA keys. Default `ecdsa-p256`.
    pub ca_key_algorithm: KeyAlgorithm,
    /// Key algorithm of entity keys. Default `ecdsa-p256`.
    pub entity_key_algorithm: KeyAlgorithm,
    /// Root CA validity in days. Default 7300 (20 years).
    pub root_validity_days: u32,
    /// Issuing CA validity in days. Default 3650 (10 years).
    pub issuing_validity_days: u32,
    /// Entity certificate validity in days. Default 365.
    pub entity_validity_days: u32,
    /// OCSP signing certificate validity in days; renewed automatically at start-up when less
    /// than a third remains. Default 90.
    pub ocsp_validity_days: u32,
    /// TSA certificate validity in days. Default 1825 (5 years).
    pub tsa_validity_days: u32,
    /// Hours between a CRL's thisUpdate and nextUpdate; the CRL is regenerated after half of
    /// that. Default 24.
    pub crl_validity_hours: u32,
    /// Hours between an OCSP response's thisUpdate and nextUpdate. Default 24.
    pub ocsp_response_validity_hours: u32,
    /// Certificate policy OID in entity certificates. Default `1.3.6.1.4.1.32473.1.2`, under the
    /// documentation arc of RFC 5612: set an OID of your organisation for production.
    pub certificate_policy_oid: String,
}

impl Default for CaConfig {
    fn default() -> Self {
        Self {
            organization: "sigillum".into(),
            country: "CN".into(),
            root_common_name: "sigillum Root CA".into(),
            issuing_common_name: "sigillum Issuing CA".into(),
            ca_key_algorithm: KeyAlgorithm::EcdsaP256,
            entity_key_algorithm: KeyAlgorithm::EcdsaP256,
            root_validity_days: 7300,
            issuing_validity_days: 3650,
            entity_validity_days: 365,
            ocsp_validity_days: 90,
            tsa_validity_days: 1825,
            crl_validity_hours: 24,
            ocsp_response_validity_hours: 24,
            certificate_policy_oid: format!("{}.2", crate::identity::DEFAULT_OID_ARC),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TsaConfig {
    /// TSA policy OID put in every TSTInfo. Default `1.3.6.1.4.1.32473.1.1`, under the
    /// documentation arc of RFC 5612: set an OID of your organisation for production.
    pub policy_oid: String,
    /// Accuracy claimed in TSTInfo, in seconds. Default 1.
    pub accuracy_seconds: u32,
}

impl Default for TsaConfig {
    fn default() -> Self {
        Self {
            policy_oid: format!("{}.1", crate::identity::DEFAULT_OID_ARC),
            accuracy_seconds: 1,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Origin line of checkpoints and name of the log key (C2SP tlog-checkpoint): a schema-less
    /// URL without spaces or `+`. Fixed when the log is created; default: `public_url` without
    /// its scheme, plus `/log`, e.g. `sign.example.com/log`.
    pub origin: Option<String>,
    /// Most events sequenced in one group commit. Default 4096.
    pub max_batch: usize,
    /// Least time between two commits (and so two checkpoints), in milliseconds; appends that
    /// arrive meanwhile join the next batch. Default 0: commit as soon as the previous one is
    /// durable.
    pub min_batch_interval_ms: u64,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            origin: None,
            max_batch: 4096,
            min_batch_interval_ms: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningConfig {
    /// Largest PDF accepted by `POST /v1/sign`, in bytes. Default 60 MiB.
    pub max_document_bytes: usize,
    /// PAdES levels requests may ask for. Default all four.
    pub allowed_levels: Vec<crate::pades::Level>,
    /// Level used when a request names none. Default `B-T`.
    pub default_level: crate::pades::Level,
    /// External RFC 3161 TSA for signature and document time-stamps (HTTP POST
    /// `application/timestamp-query`). Default: none, the built-in TSA.
    pub tsa_url: Option<String>,
    /// TrueType/OpenType font (`.ttf`, `.otf`, `.ttc`) for text outside Latin-1 (e.g. Chinese
    /// names), subset and embedded. Default: none; such text is refused with a clear error.
    pub text_font: Option<PathBuf>,
    /// Face index inside a `.ttc` collection. Default 0.
    pub text_font_index: u32,
    /// RSA entity keys sign PDFs with RSASSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) instead of
    /// PKCS#1 v1.5. Default false: v1.5 is what every validator accepts; PSS is what ETSI TS
    /// 119 312 recommends for new systems. ECDSA keys ignore it.
    pub rsa_pss: bool,
    /// Most concurrent signing operations (CPU-bound; extra requests wait for a slot). Default:
    /// the number of CPUs.
    pub max_concurrent: usize,
}

impl Default for SigningConfig {
    fn default() -> Self {
        Self {
            max_document_bytes: 60 << 20,
            allowed_levels: crate::pades::Level::ALL.to_vec(),
            default_level: crate::pades::Level::BT,
            tsa_url: None,
            text_font: None,
            text_font_index: 0,
            rsa_pss: false,
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// An invalid configuration, with what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid setting `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl Config {
    /// Reads a TOML file; unknown fields are errors.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// The log origin: `log.origin`, or the public URL without scheme.
    pub fn log_origin(&self) -> String {
        match &self.log.origin {
            Some(origin) => origin.clone(),
            None => {
                // The tiles are served under <public_url>/log/, which makes `host/log` the
                // schema-less URL of the log (C2SP tlog-checkpoint).
                let url = self.public_url();
                format!(
                    "{}/log",
                    url.split_once("://").map_or(url.as_str(), |(_, rest)| rest)
                )
            }
        }
    }

    /// The public base URL without trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// Second parsing stage: checks that cannot be expressed in types.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn invalid(field: &'static str, message: impl Into<String>) -> ConfigError {
            ConfigError::Invalid {
                field,
                message: message.into(),
            }
        }
        if self.public_url.is_none() && self.listen.ip().is_unspecified() {
            return Err(invalid(
                "public_url",
                "must be set when listening on an unspecified address (0.0.0.0 or ::): certificates carry it in their OCSP, CRL and CA-issuer URLs",
            ));
        }
        let url = self.public_url();
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "public_url",
                "must be an http:// or https:// URL without spaces",
            ));
        }
        if self.api.max_body_bytes < 1024 {
            return Err(invalid("api.max_body_bytes", "must be at least 1024"));
        }
        if self.api.auth_window_seconds == 0 || self.api.auth_window_seconds > 3600 {
            return Err(invalid(
                "api.auth_window_seconds",
                "must be within 1..=3600",
            ));
        }
        if let Some(origin) = &self.log.origin
            && (!crate::tlog::note::valid_key_name(origin) || !origin.is_ascii())
        {
            return Err(invalid(
                "log.origin",
                "must be non-empty ASCII without spaces or '+', e.g. sign.example.com/log",
            ));
        }
        if self.log.max_batch == 0 || self.log.max_batch > 65_536 {
            return Err(invalid("log.max_batch", "must be within 1..=65536"));
        }
        if self.log.min_batch_interval_ms > 10_000 {
            return Err(invalid(
                "log.min_batch_interval_ms",
                "must be at most 10000",
            ));
        }
        if self.api.max_page_size == 0 {
            return Err(invalid("api.max_page_size", "must be positive"));
        }
        if self.ca.country.len() != 2 || !self.ca.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                "ca.country",
                "must be a two-letter upper-case code",
            ));
        }
        for (field, days) in [
            ("ca.root_validity_days", self.ca.root_validity_days),
            ("ca.issuing_validity_days", self.ca.issuing_validity_days),
            ("ca.entity_validity_days", self.ca.entity_validity_days),
            ("ca.ocsp_validity_days", self.ca.ocsp_validity_days),
            ("ca.tsa_validity_days", self.ca.tsa_validity_days),
        ] {
            if days == 0 || days > 36_500 {
                return Err(invalid(field, "must be within 1..=36500"));
            }
        }
        if self.ca.issuing_validity_days > self.ca.root_validity_days {
            return Err(invalid(
                "ca.issuing_validity_days",
                "must not exceed ca.root_validity_days",
            ));
        }
        if self.ca.crl_validity_hours == 0 || self.ca.ocsp_response_validity_hours == 0 {
            return Err(invalid(
                "ca.crl_validity_hours",
                "CRL and OCSP validity must be positive",
            ));
        }
        // OpenSSL 3.0 cannot verify Ed25519 CMS signatures (RFC 8419), so TSA tokens and
        // (later) PAdES signatures made with Ed25519 keys would fail independent validators.
        if self.ca.ca_key_algorithm == KeyAlgorithm::Ed25519 {
            return Err(invalid(
                "ca.ca_key_algorithm",
                "ed25519 is not accepted for CA/TSA keys: common validators cannot verify Ed25519 CMS",
            ));
        }
        if self.ca.entity_key_algorithm == KeyAlgorithm::Ed25519 {
            return Err(invalid(
                "ca.entity_key_algorithm",
                "ed25519 is not accepted for entity keys: PDF validators cannot verify Ed25519 CMS",
            ));
        }
        for (field, oid) in [
            ("tsa.policy_oid", &self.tsa.policy_oid),
            ("ca.certificate_policy_oid", &self.ca.certificate_policy_oid),
        ] {
            if !valid_oid(oid) {
                return Err(invalid(
                    field,
                    "must be a dotted OID whose arcs fit in 32 bits",
                ));
            }
        }
        if self.keys.backend == KeyBackend::Pkcs11 && self.keys.pkcs11.pin_file.is_none() {
            return Err(invalid(
                "keys.pkcs11.pin_file",
                "required when keys.backend = \"pkcs11\"",
            ));
        }
        if self.keys.pkcs11.sessions == 0 {
            return Err(invalid("keys.pkcs11.sessions", "must be positive"));
        }
        if self.verify.max_document_bytes == 0 || self.verify.max_concurrent == 0 {
            return Err(invalid(
                "verify.max_document_bytes",
                "verify.max_document_bytes and verify.max_concurrent must be positive",
            ));
        }
        if self.verify.worker_memory_mb < 128 {
            return Err(invalid("verify.worker_memory_mb", "must be at least 128"));
        }
        if self.verify.timeout_seconds == 0 || self.verify.timeout_seconds > 600 {
            return Err(invalid("verify.timeout_seconds", "must be within 1..=600"));
        }
        if self.verify.rate_limit_per_minute == 0 {
            return Err(invalid("verify.rate_limit_per_minute", "must be positive"));
        }
        if let Some(path) = &self.verify.trust_anchors {
            let pem = std::fs::read(path)
                .map_err(|e| invalid("verify.trust_anchors", format!("{}: {e}", path.display())))?;
            let mut t = crate::pades::verify::TrustSettings::default();
            match t.add_pem_bundle(&pem) {
                Ok(0) => {
                    return Err(invalid(
                        "verify.trust_anchors",
                        "the bundle holds no CA certificate",
                    ));
                }
                Ok(_) => {}
                Err(e) => return Err(invalid("verify.trust_anchors", e)),
            }
        }
        if self.signing.allowed_levels.is_empty() {
            return Err(invalid(
                "signing.allowed_levels",
                "must name at least one level",
            ));
        }
        if !self
            .signing
            .allowed_levels
            .contains(&self.signing.default_level)
        {
            return Err(invalid(
                "signing.default_level",
                "must be one of signing.allowed_levels",
            ));
        }
        if self.signing.max_document_bytes == 0 || self.signing.max_concurrent == 0 {
            return Err(invalid(
                "signing",
                "max_document_bytes and max_concurrent must be positive",
            ));
        }
        if let Some(url) = &self.signing.tsa_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid("signing.tsa_url", "must be an http(s) URL"));
            }
            // B-LT/B-LTA promise offline validation; for an external TSA that needs its chain's
            // revocation data, which the appliance does not collect yet.
            if self
                .signing
                .allowed_levels
                .iter()
                .any(|l| matches!(l, crate::pades::Level::BLT | crate::pades::Level::BLTA))
            {
                return Err(invalid(
                    "signing.allowed_levels",
                    "with signing.tsa_url set, allow only B-B and B-T: revocation data for an external TSA is not collected, so B-LT/B-LTA files would not validate offline",
                ));
            }
        }
        Ok(())
    }
}

/// Checks an OID string before handing it to `const-oid`, whose parser panics (integer overflow)
/// on arcs above 2^32 in debug builds.
fn valid_oid(s: &str) -> bool {
    let arcs: Vec<&str> = s.split('.').collect();
    arcs.len() >= 2
        && arcs.iter().all(|a| {
            !a.is_empty()
                && a.len() <= 10
                && a.bytes().all(|b| b.is_ascii_digit())
                && a.parse::<u32>().is_ok()
        })
        && s.parse::<der::oid::ObjectIdentifier>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_roundtrip_through_toml() {
        let config = Config::default();
        config.validate().unwrap();
        let text = toml::to_string(&config).unwrap();
        let back: Config = toml::from_str(&text).unwrap();
        assert_eq!(back.listen, config.listen);
        assert_eq!(config.public_url(), "http://127.0.0.1:8470");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = toml::from_str::<Config>("listen = \"127.0.0.1:1\"\nlisten_port = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen_port"), "{err}");
        let err = toml::from_str::<Config>("[api]\nmax_body = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_body"), "{err}");
    }

    #[test]
    fn oids_with_huge_arcs_are_refused_not_panicked_on() {
        let mut config = Config::default();
        config.tsa.policy_oid = "2.25.167312076427834666745888778293087294638".into();
        assert!(config.validate().is_err());
        config.tsa.policy_oid = "1.2.x".into();
        assert!(config.validate().is_err());
    }

    #[test]
    fn unspecified_listen_address_needs_a_public_url() {
        let mut config = Config {
            listen: "0.0.0.0:8470".parse().unwrap(),
            ..Config::default()
        };
        assert!(config.validate().is_err());
        config.public_url = Some("https://sign.example.com/".into());
        config.validate().unwrap();
        assert_eq!(config.public_url(), "https://sign.example.com");
    }

    #[test]
    fn pkcs11_requires_pin_file() {
        let mut config = Config::default();
        config.keys.backend = KeyBackend::Pkcs11;
        assert!(matches!(
            config.validate(),
            Err(ConfigError::Invalid {
                field: "keys.pkcs11.pin_file",
                ..
            })
        ));
    }
}
