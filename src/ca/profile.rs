//! Certificate profiles: what goes into each kind of certificate, kept as TOML files in `certs/`
//! (compiled in, so the binary is self-contained) and parsed into [`Profile`] at start-up.
//! A profile decides extensions; the subject is built by the caller from the entity.

use serde::Deserialize;

/// Key usage bits a profile may name (RFC 5280 §4.2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyUsageBit {
    DigitalSignature,
    NonRepudiation,
    KeyCertSign,
    CrlSign,
}

/// One certificate profile (see the files in `certs/`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub description: String,
    /// Present for CA certificates: basicConstraints cA=TRUE with this pathLenConstraint.
    #[serde(default)]
    pub ca_path_length: Option<u8>,
    pub key_usage: Vec<KeyUsageBit>,
    /// Dotted OIDs.
    pub extended_key_usage: Vec<String>,
    #[serde(default)]
    pub extended_key_usage_critical: bool,
    /// AIA with OCSP (end entities) and caIssuers URLs.
    pub authority_info_access: bool,
    /// CRL distribution point of the issuer.
    pub crl_distribution_point: bool,
    /// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
    #[serde(default)]
    pub ocsp_no_check: bool,
    /// certificatePolicies with sigillum's certificate policy OID.
    #[serde(default)]
    pub certificate_policy: bool,
}

/// Which profile to issue under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileName {
    Root,
    Issuing,
    Ocsp,
    Tsa,
    Organization,
    Person,
}

impl ProfileName {
    pub const ALL: [ProfileName; 6] = [
        ProfileName::Root,
        ProfileName::Issuing,
        ProfileName::Ocsp,
        ProfileName::Tsa,
        ProfileName::Organization,
        ProfileName::Person,
    ];

    fn source(self) -> &'static str {
        match self {
            ProfileName::Root => include_str!("../../certs/root.toml"),
            ProfileName::Issuing => include_str!("../../certs/issuing.toml"),
            ProfileName::Ocsp => include_str!("../../certs/ocsp.toml"),
            ProfileName::Tsa => include_str!("../../certs/tsa.toml"),
            ProfileName::Organization => include_str!("../../certs/organization.toml"),
            ProfileName::Person => include_str!("../../certs/person.toml"),
        }
    }
}

/// The parsed profiles.
#[derive(Debug, Clone)]
pub struct Profiles {
    profiles: Vec<(ProfileName, Profile)>,
}

impl Profiles {
    /// Parses and checks the compiled-in profiles.
    pub fn builtin() -> Result<Self, String> {
        let mut profiles = Vec::new();
        for name in ProfileName::ALL {
            let profile: Profile = toml::from_str(name.source())
                .map_err(|e| format!("certs/{name:?} profile: {e}"))?;
            for oid in &profile.extended_key_usage {
                oid.parse::<der::oid::ObjectIdentifier>()
                    .map_err(|e| format!("certs/{name:?}: EKU {oid}: {e}"))?;
            }
            profiles.push((name, profile));
        }
        Ok(Self { profiles })
    }

    pub fn get(&self, name: ProfileName) -> &Profile {
        self.profiles
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p)
            // `builtin` parses every ProfileName.
            .unwrap_or_else(|| unreachable!("profile {name:?} is loaded by Profiles::builtin"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_parse() {
        let profiles = Profiles::builtin().unwrap();
        assert!(profiles.get(ProfileName::Tsa).extended_key_usage_critical);
        assert_eq!(
            profiles.get(ProfileName::Organization).extended_key_usage,
            ["1.3.6.1.5.5.7.3.36", "1.3.6.1.5.5.7.3.4"]
        );
    }
}
