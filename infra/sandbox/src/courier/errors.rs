//! The courier API's task-specific errors, rendered in the shared error shape.
//!
//! A refused change carries the task's current `status` next to `code` and `message`, so a
//! client can tell "too late, the parcel is with the driver" from "the task is gone"
//! without parsing prose.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::geocode::AddressError;
use super::store::ChangeError;
use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub(super) enum TaskError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Change(#[from] ChangeError),
    #[error(transparent)]
    Address(#[from] AddressError),
}

#[derive(Serialize)]
struct Envelope {
    error: Body,
}

#[derive(Serialize)]
struct Body {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

/// What a `server_error` fault answers: a bare 500 in the API's error shape.
pub(super) fn internal_error() -> Response {
    let body = Envelope {
        error: Body {
            code: "internal_error",
            message: "the courier failed to handle the request; retry later".into(),
            field: None,
            status: None,
        },
    };
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

impl IntoResponse for TaskError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (http, code, field, status) = match self {
            Self::Api(error) => return error.into_response(),
            Self::Change(ChangeError::NotFound(_)) => {
                return ApiError::NotFound(message).into_response()
            }
            Self::Change(ChangeError::ReferenceMismatch { .. }) => {
                return ApiError::invalid("reference", message).into_response()
            }
            Self::Change(ChangeError::Cancelled(_)) => (
                StatusCode::CONFLICT,
                "task_cancelled",
                None,
                Some("cancelled"),
            ),
            Self::Change(ChangeError::InProgress { status, .. }) => (
                StatusCode::CONFLICT,
                "task_in_progress",
                None,
                Some(status.as_str()),
            ),
            Self::Address(AddressError::NotFound { .. }) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "address_not_found",
                Some("destination.postal_code"),
                None,
            ),
            Self::Address(AddressError::Ambiguous { .. }) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "address_ambiguous",
                Some("destination.line1"),
                None,
            ),
        };
        let body = Envelope {
            error: Body {
                code,
                message,
                field,
                status,
            },
        };
        (http, Json(body)).into_response()
    }
}
