//! Building responses and reading request bodies.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, Limited};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, UPGRADE};
use hyper::{Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::mpsc;

use super::error::{chain, ApiError};

/// Every response body: a buffer or a stream of chunks.
pub(crate) type Body = BoxBody<Bytes, Infallible>;

/// The largest JSON request body accepted (image and archive uploads will
/// stream instead of buffering).
const MAX_JSON_BODY: usize = 1 << 20;

/// `101 Switching Protocols` to Docker's raw stream (with a TTY) or its
/// multiplexed stream (without): the answer to attach and exec start, whose
/// bytes then flow on the upgraded connection.
pub(crate) fn upgraded_stream(tty: bool) -> Response<Body> {
    let mut response = empty(StatusCode::SWITCHING_PROTOCOLS);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(if tty {
            "application/vnd.docker.raw-stream"
        } else {
            "application/vnd.docker.multiplexed-stream"
        }),
    );
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("tcp"));
    response
}

/// A JSON answer, newline-terminated as Docker's encoder writes it.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            with_type(
                status,
                "application/json",
                Full::new(Bytes::from(bytes)).boxed(),
            )
        }
        Err(e) => with_type(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            Full::new(Bytes::from(format!("cannot encode the response: {e}"))).boxed(),
        ),
    }
}

/// A plain-text answer.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    with_type(
        status,
        "text/plain; charset=utf-8",
        Full::new(Bytes::from_static(body.as_bytes())).boxed(),
    )
}

/// An answer without a body.
pub(crate) fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Empty::new().boxed());
    *response.status_mut() = status;
    response
}

/// A streamed JSON answer whose chunks come from `chunks`.
pub(crate) fn json_stream(chunks: mpsc::Receiver<Bytes>) -> Response<Body> {
    with_type(
        StatusCode::OK,
        "application/json",
        ChannelBody(chunks).boxed(),
    )
}

/// A streamed body of another media type (container logs' multiplexed stream).
pub(crate) fn stream(content_type: &'static str, chunks: mpsc::Receiver<Bytes>) -> Response<Body> {
    with_type(StatusCode::OK, content_type, ChannelBody(chunks).boxed())
}

fn with_type(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

/// A body fed by a channel; it ends when the sender is dropped, and dropping
/// it (the client went away) makes the sender's next send fail.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }
}

/// Reads a whole (small) JSON request body.
pub(crate) async fn read_json_body(request: Request<Incoming>) -> Result<Bytes, ApiError> {
    let content_type = match request.headers().get(CONTENT_TYPE) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::bad_request("the Content-Type header is not text"))?
                .to_string(),
        ),
        None => None,
    };
    let bytes = Limited::new(request.into_body(), MAX_JSON_BODY)
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(|e| {
            ApiError::bad_request(format!("cannot read the request body: {}", chain(&*e)))
        })?;
    check_json_content_type(content_type.as_deref(), bytes.len())?;
    Ok(bytes)
}

/// As Docker: a body must be declared `application/json`; no header is
/// fine only without a body.
fn check_json_content_type(content_type: Option<&str>, body_len: usize) -> Result<(), ApiError> {
    let media_type = content_type.map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match media_type.as_deref() {
        None if body_len == 0 => Ok(()),
        Some("application/json") => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "unsupported Content-Type header ({}): must be 'application/json'",
            content_type.unwrap_or("")
        ))),
    }
}

/// Parses a JSON object body into `T`, refusing any field outside
/// `supported` that is set to something (null, "", {} and [] count as unset,
/// since clients send empty defaults for options nobody asked for). An empty
/// body is an empty object.
pub(crate) fn parse_json<T: DeserializeOwned>(
    bytes: &[u8],
    supported: &[&str],
) -> Result<T, ApiError> {
    let value: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON in the request body: {e}")))?
    };
    let serde_json::Value::Object(fields) = &value else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    for (key, field) in fields {
        if !supported.contains(&key.as_str()) && !is_unset(field) {
            return Err(ApiError::bad_request(format!(
                "field {key:?} in the request body is not supported (supported: {})",
                supported.join(", ")
            )));
        }
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

fn is_unset(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard_stubs::models::VolumeCreateRequest;

    use super::*;

    const SUPPORTED: &[&str] = &["Name", "Labels"];

    #[test]
    fn unknown_or_unsupported_fields_are_refused_by_name() {
        let err = parse_json::<VolumeCreateRequest>(br#"{"Name":"a","Nmae":"b"}"#, SUPPORTED)
            .unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("\"Nmae\""), "{}", err.message);
        let err = parse_json::<VolumeCreateRequest>(br#"{"DriverOpts":{"type":"nfs"}}"#, SUPPORTED)
            .unwrap_err();
        assert!(err.message.contains("\"DriverOpts\""), "{}", err.message);
    }

    #[test]
    fn empty_defaults_and_empty_bodies_are_accepted() {
        let parsed: VolumeCreateRequest = parse_json(
            br#"{"Name":"a","DriverOpts":{},"Driver":"","Labels":{"x":"1"}}"#,
            SUPPORTED,
        )
        .unwrap();
        assert_eq!(parsed.name.as_deref(), Some("a"));
        assert_eq!(
            parsed.labels,
            Some(HashMap::from([("x".into(), "1".into())]))
        );
        let parsed: VolumeCreateRequest = parse_json(b"  ", SUPPORTED).unwrap();
        assert_eq!(parsed, VolumeCreateRequest::default());
    }

    #[test]
    fn bodies_must_be_declared_json() {
        assert!(check_json_content_type(None, 0).is_ok());
        assert!(check_json_content_type(Some("application/json"), 2).is_ok());
        assert!(check_json_content_type(Some("Application/JSON; charset=utf-8"), 2).is_ok());
        let err = check_json_content_type(Some("text/plain"), 2).unwrap_err();
        assert_eq!(
            err.message,
            "unsupported Content-Type header (text/plain): must be 'application/json'"
        );
        assert!(check_json_content_type(None, 2).is_err());
    }

    #[test]
    fn malformed_bodies_are_bad_requests() {
        for body in [&b"{"[..], b"[1]", br#"{"Name": 5}"#] {
            let err = parse_json::<VolumeCreateRequest>(body, SUPPORTED).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{}", err.message);
        }
    }
}
