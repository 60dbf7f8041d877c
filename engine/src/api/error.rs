//! Errors as the Docker API reports them: a status code and
//! `{"message": "..."}`.

use bollard_stubs::models::ErrorResponse;
use hyper::{Response, StatusCode};

use super::reply::{json, Body};
use crate::volume::VolumeError;

/// An error answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// The request itself is wrong (unknown option, malformed value).
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, message)
    }

    /// The operation is never allowed on this object (a pre-defined network).
    pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    /// The request conflicts with the state (in use, already exists).
    pub(crate) fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    /// The engine failed; the message carries the cause chain.
    pub(crate) fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub(crate) fn not_implemented(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_IMPLEMENTED, message)
    }

    pub(crate) fn into_response(self) -> Response<Body> {
        json(
            self.status,
            &ErrorResponse {
                message: self.message,
            },
        )
    }
}

/// The message of `error` followed by its sources, `a: b: c`.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // Many errors already print their source inline; don't say it twice.
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

impl From<VolumeError> for ApiError {
    fn from(error: VolumeError) -> ApiError {
        let message = chain(&error);
        match error {
            VolumeError::NotFound(_) => ApiError::not_found(message),
            VolumeError::InUse { .. } | VolumeError::LabelConflict { .. } => {
                ApiError::conflict(message)
            }
            VolumeError::InvalidName(_) => ApiError::bad_request(message),
            VolumeError::Io { .. } => ApiError::internal(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io;

    use http_body_util::BodyExt;

    use super::*;
    use crate::volume::VolumeName;

    fn status(error: VolumeError) -> StatusCode {
        ApiError::from(error).status
    }

    #[test]
    fn volume_errors_map_to_docker_statuses() {
        let name = VolumeName::parse("db").unwrap();
        assert_eq!(
            status(VolumeError::NotFound("db".into())),
            StatusCode::NOT_FOUND
        );
        let in_use = VolumeError::InUse {
            name: name.clone(),
            users: vec!["abc".into()],
        };
        assert_eq!(status(in_use), StatusCode::CONFLICT);
        let conflict = VolumeError::LabelConflict {
            name,
            existing: BTreeMap::new(),
        };
        assert_eq!(status(conflict), StatusCode::CONFLICT);
        let io = VolumeError::Io {
            op: "create",
            path: "/x".into(),
            source: io::Error::other("disk full"),
        };
        let error = ApiError::from(io);
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error.message, "cannot create /x: disk full");
    }

    #[tokio::test]
    async fn error_bodies_are_docker_json() {
        let response = ApiError::conflict("in use").into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"{\"message\":\"in use\"}\n");
    }
}
