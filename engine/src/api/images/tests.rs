//! The handlers on a real store in a tempdir, with a fake [`ImageUsers`].

use std::path::Path;

use bollard_stubs::models::EventMessage;
use tokio::sync::watch;

use super::*;
use crate::api::HostFacts;
use crate::events::EventBus;
use crate::image::ImageStore;
use crate::network::manager::{NetworkOptions, Networks};
use crate::state::Layout;
use crate::volume::VolumeStore;

/// Says every image is used by a container.
struct EveryImageUsed;

impl ImageUsers for EveryImageUsed {
    fn uses(&self, _image: &ImageId) -> bool {
        true
    }
}

async fn context(dir: &Path, users: Arc<dyn ImageUsers>) -> Context {
    let layout = Layout::new(dir.join("root"), dir.join("run"));
    let networks = Networks::open(
        layout.clone(),
        NetworkOptions::for_root(layout.root()),
        &[],
        &[],
    )
    .await
    .unwrap();
    Context {
        networks,
        engine_id: "test".into(),
        host: HostFacts::read(Path::new("/")),
        images: ImageStore::open(layout.images()).unwrap(),
        volumes: VolumeStore::open(layout.clone(), Arc::new(NoContainers)).unwrap(),
        containers: Arc::new(crate::container::Containers::open(layout.clone(), None).unwrap()),
        layout,
        image_users: users,
        events: EventBus::new(),
        stopping: watch::channel(false).1,
        init_path: None,
    }
}

/// Imports a one-file image named `name`, with `changes`.
fn import(ctx: &Context, dir: &Path, name: &str, changes: &[&str]) -> ImageId {
    let rootfs = dir.join(format!("rootfs-{}", name.replace([':', '/'], "-")));
    std::fs::create_dir_all(&rootfs).unwrap();
    std::fs::write(rootfs.join("name"), name).unwrap();
    let changes: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
    ctx.images
        .import(ImportSource::Dir(&rootfs), Some(name), &changes)
        .unwrap()
}

fn query(text: &str) -> Query {
    Query::parse(Some(text)).unwrap()
}

async fn body(response: Response<Body>) -> serde_json::Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

fn actions(events: &[EventMessage]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            let name = e
                .actor
                .as_ref()
                .and_then(|a| a.attributes.as_ref())
                .and_then(|a| a.get("name"))
                .cloned()
                .unwrap_or_default();
            (e.action.clone().unwrap_or_default(), name)
        })
        .collect()
}

#[tokio::test]
async fn list_inspect_and_tag() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path(), Arc::new(NoContainers)).await;
    import(
        &ctx,
        dir.path(),
        "a:1",
        &["LABEL team=core", r#"CMD ["sh"]"#],
    );
    import(&ctx, dir.path(), "b:1", &[]);

    let all = body(list(&ctx, query("all=1&digests=0")).unwrap()).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let core = body(list(&ctx, query(r#"filters={"label":["team=core"]}"#)).unwrap()).await;
    assert_eq!(core[0]["RepoTags"], serde_json::json!(["a:1"]));
    assert_eq!(core.as_array().unwrap().len(), 1);
    let b = body(list(&ctx, query(r#"filters={"reference":["b"]}"#)).unwrap()).await;
    assert_eq!(b[0]["RepoTags"], serde_json::json!(["b:1"]));

    let err = list(&ctx, query("verbose=1")).unwrap_err();
    assert!(err.message.contains("\"verbose\""), "{}", err.message);
    let err = list(&ctx, query(r#"filters={"until":["1h"]}"#)).unwrap_err();
    assert_eq!(err.status, StatusCode::BAD_REQUEST);

    let a = body(inspect(&ctx, "a:1", Query::default()).unwrap()).await;
    assert_eq!(a["Config"]["Labels"]["team"], "core");
    assert_eq!(a["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(a["RootFS"]["Type"], "layers");
    let missing = inspect(&ctx, "nope", Query::default()).unwrap_err();
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let response = tag(&ctx, "a:1", query("repo=c&tag=2")).unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (events, _) = ctx.events.subscribe();
    assert_eq!(actions(&events), [("tag".to_string(), "c:2".to_string())]);
    assert!(tag(&ctx, "a:1", query("tag=2")).is_err());
}

#[tokio::test]
async fn images_in_use_are_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path(), Arc::new(EveryImageUsed)).await;
    let id = import(&ctx, dir.path(), "a:1", &[]);

    let err = remove(&ctx, "a:1", Query::default()).unwrap_err();
    assert_eq!(err.status, StatusCode::CONFLICT);
    let removed = body(remove(&ctx, "a:1", query("force=1&noprune=1")).unwrap()).await;
    assert_eq!(removed, serde_json::json!([{"Untagged": "a:1"}]));
    // The container still has its image, untagged.
    assert_eq!(ctx.images.resolve(id.hex()).unwrap(), id);
    let (events, _) = ctx.events.subscribe();
    assert_eq!(actions(&events), [("untag".to_string(), "a:1".to_string())]);

    let pruned = body(prune(&ctx, query(r#"filters={"dangling":["false"]}"#)).unwrap()).await;
    assert_eq!(pruned["ImagesDeleted"], serde_json::json!([]));
}

#[tokio::test]
async fn prune_honours_dangling_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path(), Arc::new(NoContainers)).await;
    let a = import(&ctx, dir.path(), "a:1", &["LABEL team=core"]);
    import(&ctx, dir.path(), "b:1", &[]);

    let nothing = body(prune(&ctx, Query::default()).unwrap()).await;
    assert_eq!(nothing["ImagesDeleted"], serde_json::json!([]));
    let filters = r#"filters={"dangling":["false"],"label":["team=core"]}"#;
    let pruned = body(prune(&ctx, query(filters)).unwrap()).await;
    assert_eq!(
        pruned["ImagesDeleted"],
        serde_json::json!([{"Untagged": "a:1"}, {"Deleted": format!("sha256:{}", a.hex())}])
    );
    assert!(pruned["SpaceReclaimed"].as_i64().unwrap() > 0);
    assert!(ctx.images.resolve("b:1").is_ok());
    let (events, _) = ctx.events.subscribe();
    let actions: Vec<String> = actions(&events).into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["prune", "untag", "delete", "prune"]);
}

#[test]
fn body_reader_reads_chunks_in_order_and_passes_errors() {
    let (tx, rx) = mpsc::channel(4);
    tx.try_send(Ok(Bytes::from_static(b"ab"))).unwrap();
    tx.try_send(Ok(Bytes::new())).unwrap();
    tx.try_send(Ok(Bytes::from_static(b"cde"))).unwrap();
    drop(tx);
    let mut reader = BodyReader {
        chunks: rx,
        current: Bytes::new(),
    };
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    assert_eq!(text, "abcde");

    let (tx, rx) = mpsc::channel(2);
    tx.try_send(Err(io::Error::other("cut"))).unwrap();
    let mut reader = BodyReader {
        chunks: rx,
        current: Bytes::new(),
    };
    assert!(reader.read(&mut [0; 4]).is_err());
}

#[test]
fn image_errors_map_to_docker_statuses() {
    let status = |e: ImageError| ApiError::from(e).status;
    assert_eq!(
        status(ImageError::NotFound("x".into())),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(ImageError::InUse { image: "x".into() }),
        StatusCode::CONFLICT
    );
    assert_eq!(
        status(ImageError::MultipleTags {
            image: "x".into(),
            tags: "a, b".into()
        }),
        StatusCode::CONFLICT
    );
    assert_eq!(
        status(ImageError::Invalid {
            what: "manifest.json".into(),
            message: "bad".into()
        }),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(ImageError::Io {
            op: "write",
            path: "/x".into(),
            source: io::Error::other("disk full")
        }),
        StatusCode::INTERNAL_SERVER_ERROR
    );
}
