//! Public verification: `POST /v1/verify` (JSON report), `GET /verify` (an upload form) and
//! `POST /verify` (the report as a page). No authentication; uploads are rate-limited per client
//! address and verified inside a worker with time and memory budgets ([`crate::verifier`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::multipart;
use super::problem::Problem;
use crate::pades::verify::{
    ChangeLevel, CheckStatus, Indication, Integrity, Report, SignatureReport, Verdict,
};
use crate::service::Appliance;
use crate::service::verification::{Failure, Verifier};

/// Bytes a multipart envelope may add around the document.
pub const MULTIPART_OVERHEAD: usize = 1 << 20;

fn client_ip(connect: Option<Extension<ConnectInfo<SocketAddr>>>) -> IpAddr {
    connect.map_or(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        |Extension(ConnectInfo(a))| a.ip(),
    )
}

/// The PDF of the request: the raw body for `application/pdf`, the `document` part for
/// `multipart/form-data`.
fn document(headers: &HeaderMap, body: &Bytes, max: usize) -> Result<Bytes, Problem> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let too_large = |n: usize| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "document_too_large",
            format!(
                "the document is {n} bytes; this appliance verifies at most {max} (verify.max_document_bytes)"
            ),
        )
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let pdf = if essence.eq_ignore_ascii_case("application/pdf") {
        body.clone()
    } else if essence.eq_ignore_ascii_case("multipart/form-data") {
        let boundary = multipart::boundary(content_type).map_err(|e| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed_multipart",
                e.to_string(),
            )
        })?;
        let parts = multipart::parse(body, &boundary).map_err(|e| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed_multipart",
                e.to_string(),
            )
        })?;
        let mut found = None;
        for part in parts {
            if part.name == "document" {
                if found.is_some() {
                    return Err(Problem::new(
                        StatusCode::BAD_REQUEST,
                        "malformed_multipart",
                        "the `document` part appears twice",
                    ));
                }
                found = Some(part.data);
            }
        }
        found.ok_or_else(|| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed_multipart",
                "the `document` part is missing",
            )
        })?
    } else {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the PDF as the body with Content-Type: application/pdf, or as the `document` part of multipart/form-data",
        ));
    };
    if pdf.len() > max {
        return Err(too_large(pdf.len()));
    }
    if pdf.is_empty() {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_a_pdf",
            "the document is empty",
        ));
    }
    Ok(pdf)
}

/// Middleware: refuses an upload whose Content-Length already shows it is too large, before the
/// body is read (the body limit layer behind it catches chunked uploads).
pub async fn limit_upload(
    State(max): State<usize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match check_declared_length(request.headers(), max) {
        Ok(()) => next.run(request).await,
        Err(p) => p.into_response(),
    }
}

/// Refuses before reading a body that Content-Length already shows is too large.
pub fn check_declared_length(headers: &HeaderMap, max: usize) -> Result<(), Problem> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = declared
        && n > max + MULTIPART_OVERHEAD
    {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "document_too_large",
            format!(
                "the upload is {n} bytes; this appliance verifies documents of at most {max} bytes (verify.max_document_bytes)"
            ),
        ));
    }
    Ok(())
}

fn failure_problem(f: Failure) -> Problem {
    match f {
        Failure::Unusable { code, detail } => {
            let (status, code) = match code.as_str() {
                "not_a_pdf" => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_a_pdf"),
                "encrypted_pdf" => (StatusCode::UNPROCESSABLE_ENTITY, "encrypted_pdf"),
                "document_too_complex" => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "document_too_complex")
                }
                _ => (StatusCode::UNPROCESSABLE_ENTITY, "malformed_pdf"),
            };
            Problem::new(status, code, detail)
        }
        Failure::Budget(detail) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "verification_budget_exceeded",
            format!("{detail}; the document is too expensive to verify here"),
        ),
        Failure::Internal(detail) => {
            tracing::error!(%detail, "verification failed on our side");
            Problem::internal()
        }
    }
}

async fn run(
    app: Arc<Appliance>,
    verifier: &Verifier,
    ip: IpAddr,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Report, Problem> {
    if let Err(wait) = verifier.admit(ip) {
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "more than {} verifications per minute from this address; retry in {wait} s",
                verifier.config().rate_limit_per_minute
            ),
        );
        p.retry_after = Some(u32::try_from(wait).unwrap_or(u32::MAX));
        return Err(p);
    }
    let max = verifier.config().max_document_bytes;
    check_declared_length(headers, max)?;
    let pdf = document(headers, &body, max)?;
    drop(body);
    verifier.verify(app, pdf).await.map_err(failure_problem)
}

/// Verifies every signature and document time-stamp of a PDF. Public: no authentication.
#[utoipa::path(
    post, path = "/v1/verify", tag = "verification",
    request_body(content_type = "application/pdf", description = "the PDF (or multipart/form-data with a `document` part)"),
    responses(
        (status = 200, body = Report, description = "the verification report; `verdict` is `no_signatures` for an unsigned file"),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem, description = "rate limit (verify.rate_limit_per_minute) reached; see Retry-After"),
    ),
)]
pub async fn verify_pdf(
    State(app): State<Arc<Appliance>>,
    Extension(verifier): Extension<Arc<Verifier>>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Report>, Problem> {
    let ip = client_ip(connect);
    run(app, &verifier, ip, &headers, body)
        .await
        .map(axum::Json)
}

fn page(status: StatusCode, body: String) -> Response {
    let mut r = (status, Html(body)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

/// The upload form.
pub async fn form() -> Response {
    page(
        StatusCode::OK,
        layout("Verify a signed PDF", &upload_form()),
    )
}

/// The form's target: the report as a page.
pub async fn form_post(
    State(app): State<Arc<Appliance>>,
    Extension(verifier): Extension<Arc<Verifier>>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ip = client_ip(connect);
    match run(app, &verifier, ip, &headers, body).await {
        Ok(report) => page(
            StatusCode::OK,
            layout("Verification report", &render_report(&report)),
        ),
        Err(p) => {
            let status = p.status();
            let body = format!(
                "<div class=\"bad\"><h2>The file could not be verified</h2><p><code>{}</code>: {}</p></div>{}",
                esc(p.code()),
                esc(p.detail()),
                upload_form()
            );
            page(status, layout("Verification failed", &body))
        }
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{t} — sigillum</title><style>\
body{{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}\
table{{border-collapse:collapse;width:100%;margin:.5rem 0}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}}\
.ok{{background:#e8f6e8;border-left:6px solid #2a2;padding:.5rem 1rem}}.bad{{background:#fbe9e9;border-left:6px solid #c22;padding:.5rem 1rem}}\
.warn{{background:#fff6dd;border-left:6px solid #d90;padding:.5rem 1rem}}code{{font-size:90%}}section{{margin:1.5rem 0}}\
</style></head><body><h1>{t}</h1>{body}<p><small>sigillum verification — nothing in the file is executed or fetched.</small></p></body></html>",
        t = esc(title)
    )
}

fn upload_form() -> String {
    "<form method=\"post\" action=\"/verify\" enctype=\"multipart/form-data\"><p>Choose a signed PDF: \
<input type=\"file\" name=\"document\" accept=\"application/pdf\" required> \
<button type=\"submit\">Verify</button></p></form>"
        .into()
}

fn class_of(s: &SignatureReport) -> &'static str {
    match (s.indication, s.integrity) {
        (Indication::TOTAL_PASSED, Integrity::Intact) => "ok",
        (Indication::TOTAL_FAILED, _) | (_, Integrity::Modified | Integrity::Invalid) => "bad",
        _ => "warn",
    }
}

/// The report as HTML (all text escaped).
pub fn render_report(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let cls = match r.verdict {
        Verdict::Passed => "ok",
        Verdict::Failed => "bad",
        _ => "warn",
    };
    let _ = write!(o, "<div class=\"{cls}\"><h2>{}</h2></div>", esc(&r.summary));
    let _ = write!(
        o,
        "<table><tr><th>SHA-256</th><td><code>{}</code></td></tr><tr><th>Size</th><td>{} bytes</td></tr><tr><th>Revisions</th><td>{}</td></tr><tr><th>Pages</th><td>{}</td></tr><tr><th>Validated for</th><td>{}</td></tr></table>",
        esc(&r.document.sha256),
        r.document.size,
        r.document.revisions,
        r.document.pages,
        esc(&r.validation_time)
    );
    for c in r.checks.iter().filter(|c| c.status != CheckStatus::Passed) {
        let _ = write!(
            o,
            "<p class=\"bad\"><code>{}</code> {}</p>",
            esc(&c.id),
            esc(&c.message)
        );
    }
    for s in &r.signatures {
        let _ = write!(
            o,
            "<section class=\"{}\"><h3>{} — {:?}{}</h3>",
            class_of(s),
            esc(&s.field),
            s.indication,
            s.sub_indication
                .as_deref()
                .map(|x| format!(" / {}", esc(x)))
                .unwrap_or_default()
        );
        let row = |o: &mut String, k: &str, v: &str| {
            let _ = write!(o, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
        };
        o.push_str("<table>");
        row(
            &mut o,
            "Integrity",
            &format!("{:?}", s.integrity).to_lowercase(),
        );
        row(&mut o, "Coverage", &format!("{:?}", s.coverage));
        row(&mut o, "Kind", &format!("{:?}", s.kind));
        row(&mut o, "Level", s.level.as_deref().unwrap_or("-"));
        if let Some(signer) = &s.signer {
            row(&mut o, "Signer", &signer.subject);
            row(&mut o, "Issuer", &signer.issuer);
            row(&mut o, "Serial", &signer.serial);
            if let Some(e) = &signer.entity_id {
                row(&mut o, "Entity", e);
            }
        }
        row(
            &mut o,
            "Claimed signing time",
            s.claimed_signing_time.as_deref().unwrap_or("-"),
        );
        row(
            &mut o,
            "Time-stamped",
            s.timestamped_time.as_deref().unwrap_or("-"),
        );
        row(
            &mut o,
            "Trusted",
            &format!(
                "{} {}",
                s.trust.trusted,
                s.trust
                    .anchor
                    .as_deref()
                    .map(|a| format!("(anchor {a})"))
                    .unwrap_or_default()
            ),
        );
        row(&mut o, "Revocation", &format!("{:?}", s.revocation.status));
        if let Some(d) = &s.docmdp {
            row(
                &mut o,
                "Certification (DocMDP)",
                &format!(
                    "P{}{}",
                    d.permissions,
                    if d.certifying {
                        ", set by this signature"
                    } else {
                        ""
                    }
                ),
            );
        }
        row(
            &mut o,
            "Transparency log",
            &match s.log.leaf_index {
                Some(i) => format!("recorded, leaf {i}"),
                None => format!("{:?}", s.log.status),
            },
        );
        o.push_str("</table><table><tr><th>Check</th><th>Result</th><th>Detail</th></tr>");
        for c in &s.checks {
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td>{:?}</td><td>{}</td></tr>",
                esc(&c.id),
                c.status,
                esc(&c.message)
            );
        }
        o.push_str("</table>");
        let notable: Vec<_> = s
            .modifications
            .iter()
            .filter(|m| m.level != ChangeLevel::Allowed)
            .collect();
        if !notable.is_empty() {
            o.push_str(
                "<table><tr><th>Revision</th><th>Object</th><th>Change</th><th>Detail</th></tr>",
            );
            for m in notable.iter().take(200) {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td>{:?}: {}</td><td>{}</td></tr>",
                    m.revision,
                    esc(m.object.as_deref().unwrap_or("-")),
                    m.level,
                    esc(&m.category),
                    esc(&m.detail)
                );
            }
            o.push_str("</table>");
        }
        let allowed = s
            .modifications
            .iter()
            .filter(|m| m.level == ChangeLevel::Allowed)
            .count();
        if allowed > 0 {
            let _ = write!(
                o,
                "<details><summary>{allowed} allowed change(s) after signing</summary><ul>"
            );
            for m in s
                .modifications
                .iter()
                .filter(|m| m.level == ChangeLevel::Allowed)
                .take(200)
            {
                let _ = write!(
                    o,
                    "<li>revision {}: {} — {}</li>",
                    m.revision,
                    esc(&m.category),
                    esc(&m.detail)
                );
            }
            o.push_str("</ul></details>");
        }
        o.push_str("</section>");
    }
    o.push_str(&upload_form());
    o
}
