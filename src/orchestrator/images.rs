//! `down --rmi`: which of the project's images go, as Compose chooses them
//! (`local`: the images Compose built for the project — labelled with it,
//! or named `<project>-<service>` for a service without `image:`; `all`:
//! those and every image a service names), and their removal, never
//! forced: an image still in use stays, and the error says by what.

use super::api_message;
use super::progress::{Event, Kind, Sink, Status};
use bollard::models::ImageSummary;
use bollard::query_parameters::{ListImagesOptions, RemoveImageOptions};
use bollard::Docker;
use stack_compose::model::Project;
use std::collections::HashMap;
use std::time::Instant;

/// Which images `down --rmi` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveImages {
    /// Only the images built for the project (no custom `image:` name).
    Local,
    /// Every image the project's services use.
    All,
}

/// `busybox` → `busybox:latest`: the name an image is removed by, so that
/// two spellings of one image are one removal.
fn normalize(reference: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if reference.contains('@') || last.contains(':') {
        reference.to_owned()
    } else {
        format!("{reference}:latest")
    }
}

/// The references `down --rmi MODE` removes from `project`, in order,
/// without duplicates. `built` are the engine's images labelled with the
/// project; with `remove_orphans`, those of services no longer in the
/// file go too.
pub fn images_to_remove(
    project: &Project,
    mode: RemoveImages,
    built: &[ImageSummary],
    remove_orphans: bool,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |reference: &str| {
        let reference = normalize(reference);
        if !out.contains(&reference) {
            out.push(reference);
        }
    };
    if mode == RemoveImages::All {
        for service in project.services.values() {
            if let Some(image) = &service.image {
                add(image);
            }
        }
    }
    for image in built {
        let service = image
            .labels
            .get("com.docker.compose.service")
            .map(String::as_str);
        let known = service.is_some_and(|s| project.services.contains_key(s));
        if let Some(tag) = image.repo_tags.first() {
            if known || remove_orphans {
                add(tag);
            }
        }
    }
    for (name, service) in &project.services {
        if service.image.is_none() {
            add(&format!("{}-{name}", project.name));
        }
    }
    out
}

/// Removes `down --rmi MODE`'s images of `project`, reporting each to
/// `sink`. Images the engine does not have are skipped; the error names
/// every image that could not be removed and why.
pub async fn remove_images(
    client: &Docker,
    project: &Project,
    mode: RemoveImages,
    remove_orphans: bool,
    sink: &dyn Sink,
) -> anyhow::Result<()> {
    let filters: HashMap<String, Vec<String>> = [
        (
            "label".to_owned(),
            vec![format!("com.docker.compose.project={}", project.name)],
        ),
        ("dangling".to_owned(), vec!["false".to_owned()]),
    ]
    .into();
    let options = ListImagesOptions {
        filters: Some(filters),
        ..ListImagesOptions::default()
    };
    let built = client.list_images(Some(options)).await.map_err(|e| {
        anyhow::anyhow!(
            "listing the images of project {}: {}",
            project.name,
            api_message(&e)
        )
    })?;
    let mut failed = Vec::new();
    for reference in images_to_remove(project, mode, &built, remove_orphans) {
        let began = Instant::now();
        let options = RemoveImageOptions {
            force: false,
            noprune: false,
            ..RemoveImageOptions::default()
        };
        match client
            .remove_image(
                &reference,
                Some(options),
                None::<bollard::auth::DockerCredentials>,
            )
            .await
        {
            Ok(_) => sink.event(Event::new(
                Kind::Image,
                &reference,
                Status::Done,
                "Removed",
                began.elapsed(),
            )),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => {
                let message = api_message(&e);
                sink.event(Event::new(
                    Kind::Image,
                    &reference,
                    Status::Error,
                    message.clone(),
                    began.elapsed(),
                ));
                failed.push(format!("{reference}: {message}"));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("images not removed: {}", failed.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(yaml: &str) -> Project {
        crate::orchestrator::test_project::load(yaml).project
    }

    fn built(tag: &str, service: &str) -> ImageSummary {
        ImageSummary {
            repo_tags: vec![tag.to_owned()],
            labels: [
                ("com.docker.compose.project".to_owned(), "app".to_owned()),
                ("com.docker.compose.service".to_owned(), service.to_owned()),
            ]
            .into(),
            ..ImageSummary::default()
        }
    }

    #[test]
    fn local_is_what_compose_built_and_all_adds_named_images() {
        let p = project(
            "services:\n  web: {image: busybox}\n  db: {image: 'busybox:latest'}\n  \
             worker: {image: 'reg:5000/w:1'}\n",
        );
        assert!(images_to_remove(&p, RemoveImages::Local, &[], false).is_empty());
        assert_eq!(
            images_to_remove(&p, RemoveImages::All, &[], false),
            ["busybox:latest", "reg:5000/w:1"]
        );
        let built = [
            built("app-web:latest", "web"),
            built("app-old:latest", "old"),
        ];
        assert_eq!(
            images_to_remove(&p, RemoveImages::Local, &built, false),
            ["app-web:latest"]
        );
        assert_eq!(
            images_to_remove(&p, RemoveImages::Local, &built, true),
            ["app-web:latest", "app-old:latest"]
        );
        assert_eq!(normalize("reg:5000/w"), "reg:5000/w:latest");
        assert_eq!(normalize("w@sha256:ab"), "w@sha256:ab");
    }
}
