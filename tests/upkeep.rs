//! Periodic upkeep at controlled times: the OCSP signing certificate is renewed before it
//! expires, persisted, and used by the responder from then on — also after a restart.

mod support;

use std::sync::Arc;

use der::{Decode, Encode};
use sigillum::clock::FixedClock;
use sigillum::config::Config;
use sigillum::identity::{CreditCode, Name, Workspace};
use sigillum::service::{Appliance, EntityDetails, NewEntity, Principal};
use support::{openssl_ocsp_request, require_tool};

fn open(dir: &std::path::Path, clock: &FixedClock) -> Arc<Appliance> {
    let config = Config {
        data_dir: dir.join("data"),
        ..Config::default()
    };
    Appliance::open(config, Arc::new(clock.clone())).unwrap()
}

fn responder_cert(response: &[u8]) -> Vec<u8> {
    let response = x509_ocsp::OcspResponse::from_der(response).unwrap();
    let bytes = response.response_bytes.expect("successful response");
    let basic = x509_ocsp::BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap();
    basic.certs.unwrap()[0].to_der().unwrap()
}

#[test]
fn ocsp_certificate_is_renewed_before_expiry_and_survives_restart() {
    require_tool("openssl", "apt-get install openssl");
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::at(time::OffsetDateTime::now_utc().unix_timestamp());
    let app = open(dir.path(), &clock);
    let admin = Principal::Admin {
        key_id: sigillum::identity::ApiKeyId::generate(),
    };
    let view = app
        .create_entity(
            &admin,
            NewEntity {
                workspace: Some(Workspace::parse("acme").unwrap()),
                details: EntityDetails::Organization {
                    name: Name::parse("Upkeep Ltd").unwrap(),
                    credit_code: CreditCode::parse("91440300708461136T").unwrap(),
                    email: None,
                },
            },
        )
        .unwrap();
    let request = openssl_ocsp_request(
        dir.path(),
        &app.ca_certificate_der("issuing").unwrap(),
        &view.certificate.der,
    );

    let original = app.ca_certificate_der("ocsp").unwrap();
    assert_eq!(responder_cert(&app.ocsp(&request)), original);

    // 50 of 90 days later: more than a third remains, nothing changes.
    clock.advance(50 * 86_400);
    app.maintain().unwrap();
    assert_eq!(app.ca_certificate_der("ocsp").unwrap(), original);

    // 61 days in: less than a third remains, a new certificate (and key) takes over.
    clock.advance(11 * 86_400);
    app.maintain().unwrap();
    let renewed = app.ca_certificate_der("ocsp").unwrap();
    assert_ne!(renewed, original);
    assert_eq!(responder_cert(&app.ocsp(&request)), renewed);
    let cert = openssl::x509::X509::from_der(&renewed).unwrap();
    let issuing =
        openssl::x509::X509::from_der(&app.ca_certificate_der("issuing").unwrap()).unwrap();
    assert!(cert.verify(&issuing.public_key().unwrap()).unwrap());
    assert_ne!(
        cert.public_key().unwrap().public_key_to_der().unwrap(),
        openssl::x509::X509::from_der(&original)
            .unwrap()
            .public_key()
            .unwrap()
            .public_key_to_der()
            .unwrap(),
        "renewal uses a new key"
    );

    drop(app);
    let app = open(dir.path(), &clock);
    assert_eq!(app.ca_certificate_der("ocsp").unwrap(), renewed);
    assert_eq!(responder_cert(&app.ocsp(&request)), renewed);
}
