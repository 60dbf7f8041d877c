//! From method and path to a [`Route`]: the `/vX.Y` prefix is optional,
//! versions outside the supported range are refused as Docker refuses them.

use std::fmt;

use hyper::Method;

use super::error::ApiError;
use super::query::decode_segment;

/// An Engine API version, `1.44`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ApiVersion {
    pub(crate) major: u32,
    pub(crate) minor: u32,
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The newest version served, and the one unversioned paths get. 1.44 is
/// the first with health-check `start_interval`, which Compose files use.
pub(crate) const API_VERSION: ApiVersion = ApiVersion {
    major: 1,
    minor: 44,
};

/// [`API_VERSION`] as text, for the `API-Version` header.
pub(crate) const API_VERSION_TEXT: &str = "1.44";

/// The oldest version served (Docker's own minimum for years).
pub(crate) const MIN_API_VERSION: ApiVersion = ApiVersion {
    major: 1,
    minor: 24,
};

/// Volume prune honours `all` (and spares named volumes by default) from here.
pub(crate) const PRUNE_ANONYMOUS_ONLY: ApiVersion = ApiVersion {
    major: 1,
    minor: 42,
};

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Ping,
    Version,
    Info,
    Events,
    VolumeList,
    VolumeCreate,
    VolumePrune,
    VolumeInspect(String),
    VolumeRemove(String),
    ContainerCreate,
    ContainerList,
    ContainerInspect(String),
    ContainerStart(String),
    ContainerStop(String),
    ContainerKill(String),
    ContainerWait(String),
    ContainerLogs(String),
    ContainerRemove(String),
    ContainerAttach(String),
    ContainerRestart(String),
    ContainerRename(String),
    ContainerPause(String),
    ContainerResize(String),
    ContainerUnpause(String),
    ContainerTop(String),
    ContainerStats(String),
    ContainerExec(String),
    ExecStart(String),
    ExecInspect(String),
    ExecResize(String),
    ImageList,
    ImageLoad,
    ImageCreate,
    ImagePrune,
    ImageInspect(String),
    ImageRemove(String),
    ImageTag(String),
    /// `docker save`: one image by path, or any number by `names=`.
    ImageSave(Option<String>),
    NetworkList,
    NetworkCreate,
    NetworkPrune,
    NetworkInspect(String),
    NetworkRemove(String),
    NetworkConnect(String),
    NetworkDisconnect(String),
    /// A part of Docker's API this engine does not serve: answered 501.
    Unsupported,
}

/// API areas that exist in Docker's API, whose unserved paths get 501.
const UNSUPPORTED_AREAS: &[&str] = &["images", "containers", "exec", "build", "commit"];

/// Routes `path` (without the query) for `method`.
pub(crate) fn route(method: &Method, path: &str) -> Result<(ApiVersion, Route), ApiError> {
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut version = API_VERSION;
    if let Some(v) = segments.first().and_then(|s| parse_version(s)) {
        if v > API_VERSION {
            return Err(ApiError::bad_request(format!(
                "client version {v} is too new. Maximum supported API version is {API_VERSION}"
            )));
        }
        if v < MIN_API_VERSION {
            return Err(ApiError::bad_request(format!(
                "client version {v} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
            )));
        }
        version = v;
        segments.remove(0);
    }
    let allow = |methods: &[Method], route: Route| {
        if methods.contains(method) {
            Ok((version, route))
        } else {
            Err(ApiError::method_not_allowed(format!(
                "{method} is not allowed on {path}"
            )))
        }
    };
    use Method as M;
    match segments.as_slice() {
        ["_ping"] => allow(&[M::GET, M::HEAD], Route::Ping),
        ["version"] => allow(&[M::GET], Route::Version),
        ["info"] => allow(&[M::GET], Route::Info),
        ["events"] => allow(&[M::GET], Route::Events),
        ["volumes"] => allow(&[M::GET], Route::VolumeList),
        ["volumes", "create"] if method == M::POST => Ok((version, Route::VolumeCreate)),
        ["volumes", "prune"] if method == M::POST => Ok((version, Route::VolumePrune)),
        ["volumes", name] => {
            let name = decode_segment(name)?;
            match *method {
                M::GET => Ok((version, Route::VolumeInspect(name))),
                M::DELETE => Ok((version, Route::VolumeRemove(name))),
                _ => allow(&[], Route::Unsupported),
            }
        }
        ["containers", "create"] => allow(&[M::POST], Route::ContainerCreate),
        ["containers", "json"] => allow(&[M::GET], Route::ContainerList),
        ["containers", id] if method == M::DELETE => {
            Ok((version, Route::ContainerRemove(decode_segment(id)?)))
        }
        ["containers", id, action] => {
            let id = decode_segment(id)?;
            match *action {
                "json" => allow(&[M::GET], Route::ContainerInspect(id)),
                "start" => allow(&[M::POST], Route::ContainerStart(id)),
                "stop" => allow(&[M::POST], Route::ContainerStop(id)),
                "kill" => allow(&[M::POST], Route::ContainerKill(id)),
                "wait" => allow(&[M::POST], Route::ContainerWait(id)),
                "logs" => allow(&[M::GET], Route::ContainerLogs(id)),
                "attach" => allow(&[M::POST], Route::ContainerAttach(id)),
                "restart" => allow(&[M::POST], Route::ContainerRestart(id)),
                "rename" => allow(&[M::POST], Route::ContainerRename(id)),
                "pause" => allow(&[M::POST], Route::ContainerPause(id)),
                "resize" => allow(&[M::POST], Route::ContainerResize(id)),
                "unpause" => allow(&[M::POST], Route::ContainerUnpause(id)),
                "top" => allow(&[M::GET], Route::ContainerTop(id)),
                "stats" => allow(&[M::GET], Route::ContainerStats(id)),
                "exec" => allow(&[M::POST], Route::ContainerExec(id)),
                _ => Ok((version, Route::Unsupported)),
            }
        }
        ["networks"] => allow(&[M::GET], Route::NetworkList),
        ["networks", "create"] if method == M::POST => Ok((version, Route::NetworkCreate)),
        ["networks", "prune"] if method == M::POST => Ok((version, Route::NetworkPrune)),
        ["networks", id] => {
            let id = decode_segment(id)?;
            match *method {
                M::GET => Ok((version, Route::NetworkInspect(id))),
                M::DELETE => Ok((version, Route::NetworkRemove(id))),
                _ => allow(&[], Route::Unsupported),
            }
        }
        ["networks", id, "connect"] => {
            allow(&[M::POST], Route::NetworkConnect(decode_segment(id)?))
        }
        ["networks", id, "disconnect"] => {
            allow(&[M::POST], Route::NetworkDisconnect(decode_segment(id)?))
        }
        ["exec", id, action] => {
            let id = decode_segment(id)?;
            match *action {
                "start" => allow(&[M::POST], Route::ExecStart(id)),
                "json" => allow(&[M::GET], Route::ExecInspect(id)),
                "resize" => allow(&[M::POST], Route::ExecResize(id)),
                _ => Err(ApiError::not_found("page not found")),
            }
        }
        ["images", "json"] => allow(&[M::GET], Route::ImageList),
        ["images", "load"] if method == M::POST => Ok((version, Route::ImageLoad)),
        ["images", "create"] if method == M::POST => Ok((version, Route::ImageCreate)),
        ["images", "prune"] if method == M::POST => Ok((version, Route::ImagePrune)),
        ["images", "get"] if method == M::GET => Ok((version, Route::ImageSave(None))),
        // Names may contain slashes (`ghcr.io/org/app:1`), as Docker's `{name:.*}`.
        ["images", name @ .., "json"] if method == M::GET && !name.is_empty() => {
            Ok((version, Route::ImageInspect(decode_name(name)?)))
        }
        ["images", name @ .., "get"] if method == M::GET && !name.is_empty() => {
            Ok((version, Route::ImageSave(Some(decode_name(name)?))))
        }
        ["images", name @ .., "tag"] if method == M::POST && !name.is_empty() => {
            Ok((version, Route::ImageTag(decode_name(name)?)))
        }
        ["images", name @ ..] if method == M::DELETE && !name.is_empty() => {
            Ok((version, Route::ImageRemove(decode_name(name)?)))
        }
        [area, ..] if UNSUPPORTED_AREAS.contains(area) => Ok((version, Route::Unsupported)),
        _ => Err(ApiError::not_found("page not found")),
    }
}

/// Decodes and joins the segments of an image name.
fn decode_name(segments: &[&str]) -> Result<String, ApiError> {
    let decoded = segments
        .iter()
        .map(|s| decode_segment(s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(decoded.join("/"))
}

fn parse_version(segment: &str) -> Option<ApiVersion> {
    let (major, minor) = segment.strip_prefix('v')?.split_once('.')?;
    Some(ApiVersion {
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use hyper::StatusCode;

    use super::*;

    fn ok(method: Method, path: &str) -> (ApiVersion, Route) {
        route(&method, path).unwrap()
    }

    fn status(method: Method, path: &str) -> StatusCode {
        route(&method, path).unwrap_err().status
    }

    #[test]
    fn the_version_text_is_the_version() {
        assert_eq!(API_VERSION.to_string(), API_VERSION_TEXT);
    }

    #[test]
    fn versioned_and_unversioned_paths() {
        assert_eq!(ok(Method::GET, "/_ping"), (API_VERSION, Route::Ping));
        assert_eq!(ok(Method::HEAD, "/v1.41/_ping").1, Route::Ping);
        let v141 = ApiVersion {
            major: 1,
            minor: 41,
        };
        assert_eq!(ok(Method::GET, "/v1.41/volumes"), (v141, Route::VolumeList));
        assert_eq!(
            ok(Method::POST, "/v1.44/volumes/create").1,
            Route::VolumeCreate
        );
        assert_eq!(ok(Method::POST, "/volumes/prune").1, Route::VolumePrune);
        assert_eq!(
            ok(Method::GET, "/volumes/my%2Dvol").1,
            Route::VolumeInspect("my-vol".into())
        );
        // As in Docker, GET on "create" inspects a volume of that name.
        assert_eq!(
            ok(Method::GET, "/volumes/create").1,
            Route::VolumeInspect("create".into())
        );
        assert_eq!(
            ok(Method::DELETE, "/v1.43/volumes/db").1,
            Route::VolumeRemove("db".into())
        );
        assert_eq!(ok(Method::GET, "/events").1, Route::Events);
        assert_eq!(ok(Method::GET, "/version").1, Route::Version);
        assert_eq!(ok(Method::GET, "/info").1, Route::Info);
    }

    #[test]
    fn container_routes() {
        assert_eq!(
            ok(Method::POST, "/v1.44/containers/create").1,
            Route::ContainerCreate
        );
        assert_eq!(ok(Method::GET, "/containers/json").1, Route::ContainerList);
        assert_eq!(
            ok(Method::GET, "/containers/web/json").1,
            Route::ContainerInspect("web".into())
        );
        assert_eq!(
            ok(Method::POST, "/containers/web/stop").1,
            Route::ContainerStop("web".into())
        );
        assert_eq!(
            ok(Method::DELETE, "/containers/web").1,
            Route::ContainerRemove("web".into())
        );
        assert_eq!(
            ok(Method::GET, "/containers/web/logs").1,
            Route::ContainerLogs("web".into())
        );
        assert_eq!(
            status(Method::GET, "/containers/web/start"),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            ok(Method::POST, "/containers/abc/rename").1,
            Route::ContainerRename("abc".into())
        );
        assert_eq!(
            ok(Method::POST, "/v1.41/containers/abc/pause").1,
            Route::ContainerPause("abc".into())
        );
        assert_eq!(
            ok(Method::GET, "/containers/abc/stats").1,
            Route::ContainerStats("abc".into())
        );
        assert_eq!(
            ok(Method::POST, "/containers/abc/exec").1,
            Route::ContainerExec("abc".into())
        );
        assert_eq!(
            ok(Method::POST, "/exec/e1/start").1,
            Route::ExecStart("e1".into())
        );
        assert_eq!(
            ok(Method::GET, "/exec/e1/json").1,
            Route::ExecInspect("e1".into())
        );
        assert_eq!(
            ok(Method::POST, "/exec/e1/resize").1,
            Route::ExecResize("e1".into())
        );
    }

    #[test]
    fn unimplemented_areas_share_one_fallback() {
        for path in ["/images/search", "/images/busybox/history", "/build"] {
            assert_eq!(ok(Method::POST, path).1, Route::Unsupported, "{path}");
        }
    }

    #[test]
    fn image_routes() {
        assert_eq!(ok(Method::GET, "/v1.41/images/json").1, Route::ImageList);
        assert_eq!(ok(Method::POST, "/images/load").1, Route::ImageLoad);
        assert_eq!(ok(Method::POST, "/images/create").1, Route::ImageCreate);
        assert_eq!(ok(Method::POST, "/images/prune").1, Route::ImagePrune);
        assert_eq!(
            ok(Method::GET, "/images/ghcr.io/org/app:1/json").1,
            Route::ImageInspect("ghcr.io/org/app:1".into())
        );
        assert_eq!(
            ok(Method::POST, "/images/busybox/tag").1,
            Route::ImageTag("busybox".into())
        );
        assert_eq!(
            ok(Method::DELETE, "/images/library/busybox:latest").1,
            Route::ImageRemove("library/busybox:latest".into())
        );
        assert_eq!(
            ok(Method::DELETE, "/images/sha256%3Aabc").1,
            Route::ImageRemove("sha256:abc".into())
        );
        assert_eq!(
            ok(Method::GET, "/images/busybox/get").1,
            Route::ImageSave(Some("busybox".into()))
        );
        assert_eq!(ok(Method::GET, "/images/get").1, Route::ImageSave(None));
        assert_eq!(
            status(Method::POST, "/images/json"),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn errors() {
        assert_eq!(status(Method::GET, "/nope"), StatusCode::NOT_FOUND);
        assert_eq!(status(Method::GET, "/v1.41/"), StatusCode::NOT_FOUND);
        assert_eq!(
            status(Method::POST, "/_ping"),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            status(Method::PUT, "/volumes/db"),
            StatusCode::METHOD_NOT_ALLOWED
        );
        let too_new = route(&Method::GET, "/v1.99/_ping").unwrap_err();
        assert_eq!(too_new.status, StatusCode::BAD_REQUEST);
        assert!(too_new.message.contains("too new"), "{}", too_new.message);
        assert_eq!(status(Method::GET, "/v1.12/_ping"), StatusCode::BAD_REQUEST);
    }
}
