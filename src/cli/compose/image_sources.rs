//! `--build`, `--no-build` and `--pull` of `up` and `create`, and the
//! services' `pull_policy:`: the engine has no builder and no registry
//! client yet, so images come only from `stack image load` and `import`.
//! What needs a build or a pull is refused (or, for a refreshing
//! `pull_policy:`, warned about) by name before anything is created, never
//! silently skipped.

use stack_compose::model::{Project, PullPolicy};

/// `--pull`: when to pull the services' images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PullFlag {
    /// Pull every image
    Always,
    /// Pull images that are not in the engine (none can be pulled yet)
    Missing,
    /// Never pull
    Never,
}

/// The image flags an `up` or `create` was given.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct ImageFlags {
    /// Build images before starting containers (stack cannot build yet: refused when a service has `build:`)
    #[arg(long, conflicts_with = "no_build")]
    build: bool,
    /// Don't build an image, even if it's missing (stack never builds)
    #[arg(long)]
    no_build: bool,
    /// Pull images before running (`always` is refused: stack cannot pull yet)
    #[arg(long, value_enum)]
    pull: Option<PullFlag>,
}

/// What the flags and the files ask of `services`: `Err` with every
/// request the engine cannot serve, else the warnings to print.
pub fn check(
    flags: &ImageFlags,
    project: &Project,
    services: &[String],
) -> Result<Vec<String>, String> {
    let mut refused = Vec::new();
    let mut warnings = Vec::new();
    if flags.pull == Some(PullFlag::Always) {
        refused.push(
            "--pull always: stack cannot pull images yet; load them with `stack image load` \
             (or import a root filesystem with `stack image import`) and use --pull missing or never"
                .to_owned(),
        );
    }
    for name in services {
        let Some(service) = project.services.get(name) else {
            continue;
        };
        let image = service.image.as_deref().unwrap_or(name);
        let wants_build = matches!(service.pull_policy, Some(PullPolicy::Build));
        if service.build.is_some() && (flags.build || wants_build) {
            let why = if flags.build {
                "--build"
            } else {
                "pull_policy: build"
            };
            refused.push(format!(
                "service \"{name}\" ({why}): stack cannot build images yet; build \"{image}\" \
                 with another tool, load it with `stack image load`, and run without --build"
            ));
        }
        match &service.pull_policy {
            Some(
                policy @ (PullPolicy::Always
                | PullPolicy::Refresh
                | PullPolicy::Daily
                | PullPolicy::Weekly
                | PullPolicy::Every(_)),
            ) => warnings.push(format!(
                "service \"{name}\" has pull_policy: {policy}, but stack cannot pull images yet: \
                 the image \"{image}\" in the engine is used as it is"
            )),
            Some(PullPolicy::Build) if service.build.is_none() => refused.push(format!(
                "service \"{name}\" has pull_policy: build but no build: section"
            )),
            _ => {}
        }
    }
    if refused.is_empty() {
        Ok(warnings)
    } else {
        Err(refused.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stack_compose::model::Service;

    fn project(services: Vec<(&str, Service)>) -> Project {
        Project {
            name: "p".into(),
            services: services
                .into_iter()
                .map(|(name, service)| (name.to_owned(), service))
                .collect(),
            ..Project::default()
        }
    }

    fn built() -> Service {
        Service {
            image: Some("app:1".into()),
            build: Some(Default::default()),
            ..Service::default()
        }
    }

    fn all(project: &Project) -> Vec<String> {
        project.services.keys().cloned().collect()
    }

    #[test]
    fn nothing_to_build_or_pull_passes_whatever_the_flags() {
        let p = project(vec![("web", Service::default())]);
        let flags = ImageFlags {
            build: true,
            pull: Some(PullFlag::Missing),
            ..ImageFlags::default()
        };
        assert_eq!(check(&flags, &p, &all(&p)), Ok(vec![]));
    }

    #[test]
    fn a_build_or_a_pull_always_is_refused_by_name() {
        let p = project(vec![("app", built()), ("web", Service::default())]);
        let flags = ImageFlags {
            build: true,
            pull: Some(PullFlag::Always),
            ..ImageFlags::default()
        };
        let refused = check(&flags, &p, &all(&p)).unwrap_err();
        assert!(
            refused.contains("--pull always: stack cannot pull"),
            "{refused}"
        );
        assert!(refused.contains("service \"app\" (--build)"), "{refused}");
        assert!(!refused.contains("\"web\""), "{refused}");
        assert_eq!(check(&ImageFlags::default(), &p, &all(&p)), Ok(vec![]));
        assert!(check(&flags, &p, &["web".to_owned()])
            .unwrap_err()
            .starts_with("--pull always"));
    }

    #[test]
    fn pull_policies_that_refresh_are_warned_about_and_build_is_refused() {
        let always = Service {
            pull_policy: Some(PullPolicy::Always),
            ..Service::default()
        };
        let build_policy = Service {
            pull_policy: Some(PullPolicy::Build),
            ..built()
        };
        let p = project(vec![("web", always)]);
        let warnings = check(&ImageFlags::default(), &p, &all(&p)).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("pull_policy: always"), "{warnings:?}");
        let p = project(vec![("app", build_policy)]);
        let refused = check(&ImageFlags::default(), &p, &all(&p)).unwrap_err();
        assert!(refused.contains("(pull_policy: build)"), "{refused}");
    }
}
