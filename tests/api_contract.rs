//! Snapshot of the generated OpenAPI document: any change to routes, DTOs or problem types shows
//! up as a diff in review. To accept an intended change, run
//! `SIGILLUM_UPDATE_SNAPSHOTS=1 cargo test --test api_contract` and commit the snapshot.

use std::path::Path;

use utoipa::OpenApi;

#[test]
fn openapi_document_matches_snapshot() {
    let generated = serde_json::to_string_pretty(&sigillum::api::ApiDoc::openapi()).unwrap() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    if std::env::var_os("SIGILLUM_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.json changed; review the diff and run SIGILLUM_UPDATE_SNAPSHOTS=1 cargo test --test api_contract to accept it"
    );
    // Every authenticated endpoint declares the HMAC scheme; public ones do not.
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let secured = op.get("security").is_some();
            let public = !path.starts_with("/v1/")
                || path.starts_with("/v1/ca/")
                || path.starts_with("/v1/log/")
                || path == "/v1/verify";
            assert_eq!(secured, !public, "{method} {path}: security declaration");
        }
    }
}
