//! `/v1/api-keys`: the admin creates workspace-scoped keys.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::blocking;
use super::json::ApiJson;
use super::problem::{ApiResult, Problem};
use crate::identity::Workspace;
use crate::service::{Appliance, Principal, ServiceError};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// Workspace the key acts for: 1-63 characters of a-z, 0-9, '-'.
    pub workspace: String,
}

/// The new key. The secret is shown only here; store it like a password.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyResponse {
    pub key_id: String,
    pub secret: String,
    pub workspace: String,
}

/// Create a workspace-scoped API key (admin key only).
#[utoipa::path(post, path = "/v1/api-keys", request_body = CreateApiKeyRequest,
    responses((status = 201, body = ApiKeyResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("sigillum_hmac" = [])), tag = "api-keys")]
pub async fn create(
    State(app): State<Arc<Appliance>>,
    Extension(caller): Extension<Principal>,
    ApiJson(body): ApiJson<CreateApiKeyRequest>,
) -> ApiResult<(StatusCode, axum::Json<ApiKeyResponse>)> {
    let workspace = Workspace::parse(&body.workspace).map_err(ServiceError::from)?;
    let key = blocking(app, move |app| app.create_api_key(&caller, workspace)).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ApiKeyResponse {
            key_id: key.key_id.to_string(),
            secret: key.secret,
            workspace: key.workspace.to_string(),
        }),
    ))
}
