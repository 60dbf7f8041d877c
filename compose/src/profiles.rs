//! Profiles: which services are active, as Docker Compose decides it.
//!
//! - A service without `profiles` is always active.
//! - A service is active when one of its profiles is enabled with
//!   `--profile` (or, without any flag, `COMPOSE_PROFILES`, comma
//!   separated); `*` enables every profile.
//! - A service named on the command line enables its own profiles, so
//!   `stack up db-migrations` works without `--profile tools` (and other
//!   services of those profiles become active too; restricting the run to
//!   the named services and their dependencies is the graph's
//!   [`subgraph`](crate::graph::ServiceGraph::subgraph)).
//! - Dependencies are not enabled for you: an active service that depends
//!   on a service disabled by profiles is an error, unless the dependency is
//!   `required: false`, in which case it is dropped. So is any other
//!   reference to a disabled service (`links`, `volumes_from`,
//!   `service:NAME`). Compose documents this: the dependency must share a
//!   profile, have none, or be enabled explicitly.
//! - Networks, volumes, secrets and configs are not affected.

use crate::env::Environment;
use crate::error::{LoadError, LoadErrors};
use crate::model::{Project, Service};
use crate::tree::KeyPath;
use crate::validate::{service_refs, suggest_or, Spans, Via};
use indexmap::IndexMap;
use std::collections::BTreeSet;

/// The environment variable read when no `--profile` is given.
pub const COMPOSE_PROFILES: &str = "COMPOSE_PROFILES";

/// The profiles enabled for a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profiles {
    /// `*` was given.
    all: bool,
    names: BTreeSet<String>,
}

impl Profiles {
    /// Enables `names`; blank names are skipped and `*` enables all.
    pub fn new<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut profiles = Profiles::default();
        for name in names {
            profiles.enable(name.as_ref());
        }
        profiles
    }

    /// The `--profile` flags if any were given, otherwise the comma
    /// separated `COMPOSE_PROFILES` of `env` (the flags replace the
    /// variable rather than add to it, as in Compose).
    pub fn from_cli<S: AsRef<str>>(flags: &[S], env: &Environment) -> Self {
        if flags.is_empty() {
            Profiles::new(env.get(COMPOSE_PROFILES).unwrap_or("").split(','))
        } else {
            Profiles::new(flags)
        }
    }

    fn enable(&mut self, name: &str) {
        match name.trim() {
            "" => {}
            "*" => self.all = true,
            name => {
                self.names.insert(name.to_owned());
            }
        }
    }

    /// Whether `service` is active under these profiles.
    pub fn enables(&self, service: &Service) -> bool {
        service.profiles.is_empty()
            || self.all
            || service.profiles.iter().any(|p| self.names.contains(p))
    }
}

/// A project restricted to its active services.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// The project with only its active services, their `depends_on`
    /// entries on disabled optional services removed.
    pub project: Project,
    /// The services left out, in file order: their containers are not
    /// orphans.
    pub disabled: IndexMap<String, Service>,
}

/// Splits `project` into active and disabled services under `profiles`,
/// with the services named in `targets` (the command line's `SERVICE...`)
/// enabling their own profiles. Reports every unknown target and every
/// reference from an active service to a disabled one.
pub fn select<S: AsRef<str>>(
    mut project: Project,
    profiles: &Profiles,
    targets: &[S],
    spans: &Spans,
) -> Result<Selection, LoadErrors> {
    let mut errors = Vec::new();
    let mut profiles = profiles.clone();
    for target in targets {
        let target = target.as_ref();
        match project.services.get(target) {
            Some(service) => service.profiles.iter().for_each(|p| profiles.enable(p)),
            None => errors.push(unknown_target(target, &project)),
        }
    }

    let (active, disabled): (IndexMap<_, _>, IndexMap<_, _>) =
        std::mem::take(&mut project.services)
            .into_iter()
            .partition(|(_, service)| profiles.enables(service));
    project.services = active;

    for (name, service) in &mut project.services {
        let path = KeyPath::root().key("services").key(name);
        let refs = service_refs(&path, service);
        // Targets reported at a link, volumes_from or service: reference
        // are not reported again at their implicit depends_on entry.
        let reported: BTreeSet<String> = refs
            .iter()
            .filter(|r| disabled.contains_key(r.target))
            .map(|r| r.target.to_owned())
            .collect();
        for r in refs {
            if let Some(target) = disabled.get(r.target) {
                let message = match r.via {
                    Via::Link => format!(
                        "service \"{name}\" links to service \"{}\", which is disabled by profiles",
                        r.target
                    ),
                    Via::VolumesFrom => format!(
                        "service \"{name}\" mounts volumes from service \"{}\", which is disabled \
                         by profiles",
                        r.target
                    ),
                    Via::Namespace(key) => format!(
                        "service \"{name}\" uses {key} service:{0}, but service \"{0}\" is \
                         disabled by profiles",
                        r.target
                    ),
                };
                errors.push(disabled_error(spans, &r.path, message, target));
            }
        }
        service.depends_on.retain(|dependency, on| {
            let Some(target) = disabled.get(dependency) else {
                return true;
            };
            if on.required && !reported.contains(dependency) {
                let path = path.key("depends_on").key(dependency);
                let message = format!(
                    "service \"{dependency}\" is required by \"{name}\" but is disabled by profiles"
                );
                errors.push(disabled_error(spans, &path, message, target));
            }
            false
        });
    }

    if errors.is_empty() {
        Ok(Selection { project, disabled })
    } else {
        Err(LoadErrors::sorted(errors))
    }
}

fn disabled_error(spans: &Spans, path: &KeyPath, message: String, target: &Service) -> LoadError {
    let flags: Vec<String> = target
        .profiles
        .iter()
        .map(|p| format!("--profile {p}"))
        .collect();
    LoadError::new(spans.locate(path), path.to_string(), message).with_hint(format!(
        "enable it with {}, or give both services a common profile",
        flags.join(" or ")
    ))
}

fn unknown_target(target: &str, project: &Project) -> LoadError {
    let hint = suggest_or(target, project.services.keys(), || {
        "`stack config --services` lists the services".to_owned()
    });
    LoadError::new(None, "", format!("no such service: {target}")).with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DependsOn, NetworkMode};

    fn service(profiles: &[&str]) -> Service {
        Service {
            image: Some("busybox".into()),
            profiles: profiles.iter().map(|p| (*p).to_owned()).collect(),
            ..Service::default()
        }
    }

    fn project(services: Vec<(&str, Service)>) -> Project {
        Project {
            name: "demo".into(),
            services: services
                .into_iter()
                .map(|(n, s)| (n.to_owned(), s))
                .collect(),
            ..Project::default()
        }
    }

    /// The docs' example: web always, test_lib and coverage_lib under
    /// `test`, debug_lib under `debug`, both libs depending on test_lib.
    fn docs_example() -> Project {
        let mut coverage = service(&["test"]);
        coverage
            .depends_on
            .insert("test_lib".into(), DependsOn::started());
        let mut debug = service(&["debug"]);
        debug
            .depends_on
            .insert("test_lib".into(), DependsOn::started());
        project(vec![
            ("web", service(&[])),
            ("test_lib", service(&["test"])),
            ("coverage_lib", coverage),
            ("debug_lib", debug),
        ])
    }

    fn active(project: Project, profiles: &[&str], targets: &[&str]) -> Vec<String> {
        let selection = select(
            project,
            &Profiles::new(profiles),
            targets,
            &Spans::default(),
        )
        .expect("selection should succeed");
        selection.project.services.keys().cloned().collect()
    }

    fn errors(project: Project, profiles: &[&str], targets: &[&str]) -> Vec<String> {
        select(
            project,
            &Profiles::new(profiles),
            targets,
            &Spans::default(),
        )
        .expect_err("selection should fail")
        .0
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    #[test]
    fn without_profiles_only_unprofiled_services_are_active() {
        let selection = select(
            docs_example(),
            &Profiles::default(),
            &[] as &[&str],
            &Spans::default(),
        )
        .unwrap();
        assert_eq!(
            selection.project.services.keys().collect::<Vec<_>>(),
            ["web"]
        );
        assert_eq!(
            selection.disabled.keys().collect::<Vec<_>>(),
            ["test_lib", "coverage_lib", "debug_lib"]
        );
    }

    #[test]
    fn an_enabled_profile_activates_its_services() {
        assert_eq!(
            active(docs_example(), &["test"], &[]),
            ["web", "test_lib", "coverage_lib"]
        );
    }

    #[test]
    fn star_enables_every_profile() {
        assert_eq!(
            active(docs_example(), &["*"], &[]),
            ["web", "test_lib", "coverage_lib", "debug_lib"]
        );
    }

    #[test]
    fn a_dependency_disabled_by_profiles_is_an_error() {
        assert_eq!(
            errors(docs_example(), &["debug"], &[]),
            [
                "services.debug_lib.depends_on.test_lib: service \"test_lib\" is required by \
              \"debug_lib\" but is disabled by profiles (enable it with --profile test, or give \
              both services a common profile)"
            ]
        );
    }

    #[test]
    fn an_optional_dependency_disabled_by_profiles_is_dropped() {
        let mut p = docs_example();
        p.services["debug_lib"].depends_on["test_lib"].required = false;
        let selection = select(
            p,
            &Profiles::new(["debug"]),
            &[] as &[&str],
            &Spans::default(),
        )
        .unwrap();
        assert!(selection.project.services["debug_lib"]
            .depends_on
            .is_empty());
    }

    #[test]
    fn a_targeted_service_enables_its_own_profiles() {
        // coverage_lib shares `test` with test_lib, so its dependency is there.
        assert_eq!(
            active(docs_example(), &[], &["coverage_lib"]),
            ["web", "test_lib", "coverage_lib"]
        );
    }

    #[test]
    fn a_targeted_service_does_not_enable_its_dependencies_profiles() {
        assert_eq!(
            errors(docs_example(), &[], &["debug_lib"]),
            [
                "services.debug_lib.depends_on.test_lib: service \"test_lib\" is required by \
              \"debug_lib\" but is disabled by profiles (enable it with --profile test, or give \
              both services a common profile)"
            ]
        );
    }

    #[test]
    fn other_references_to_disabled_services_are_errors() {
        let mut web = service(&[]);
        web.links.push("db:database".into());
        web.volumes_from.push("db:ro".into());
        web.network_mode = Some(NetworkMode::Service("vpn".into()));
        // The conversion adds these implicit dependencies; they are not
        // reported a second time.
        for implicit in ["db", "vpn"] {
            web.depends_on.insert(implicit.into(), DependsOn::started());
        }
        let p = project(vec![
            ("web", web),
            ("db", service(&["data", "full"])),
            ("vpn", service(&["net"])),
        ]);
        assert_eq!(
            errors(p, &[], &[]),
            [
                "services.web.links[0]: service \"web\" links to service \"db\", which is \
                 disabled by profiles (enable it with --profile data or --profile full, or give \
                 both services a common profile)",
                "services.web.network_mode: service \"web\" uses network_mode service:vpn, but \
                 service \"vpn\" is disabled by profiles (enable it with --profile net, or give \
                 both services a common profile)",
                "services.web.volumes_from[0]: service \"web\" mounts volumes from service \
                 \"db\", which is disabled by profiles (enable it with --profile data or \
                 --profile full, or give both services a common profile)",
            ]
        );
    }

    #[test]
    fn references_to_undefined_services_are_left_to_validation() {
        let mut web = service(&[]);
        web.depends_on.insert("ghost".into(), DependsOn::started());
        web.links.push("phantom".into());
        let selection = select(
            project(vec![("web", web)]),
            &Profiles::default(),
            &[] as &[&str],
            &Spans::default(),
        )
        .unwrap();
        assert!(selection.project.services["web"]
            .depends_on
            .contains_key("ghost"));
    }

    #[test]
    fn unknown_targets_are_errors() {
        assert_eq!(
            errors(docs_example(), &[], &["wbe", "nothing-like-it"]),
            [
                "no such service: nothing-like-it (`stack config --services` lists the services)",
                "no such service: wbe (did you mean \"web\"?)",
            ]
        );
    }

    #[test]
    fn profiles_come_from_flags_or_else_the_environment() {
        let env: Environment = [(COMPOSE_PROFILES, " test , ,debug")].into_iter().collect();
        assert_eq!(
            Profiles::from_cli(&[] as &[&str], &env),
            Profiles::new(["debug", "test"])
        );
        assert_eq!(
            Profiles::from_cli(&["tools"], &env),
            Profiles::new(["tools"])
        );
        assert_eq!(
            Profiles::from_cli(&[] as &[&str], &Environment::new()),
            Profiles::default()
        );
        assert_eq!(
            Profiles::from_cli(
                &[] as &[&str],
                &[(COMPOSE_PROFILES, "*")].into_iter().collect()
            ),
            Profiles::new(["*"])
        );
    }

    #[test]
    fn a_service_matches_any_of_its_profiles() {
        let profiles = Profiles::new(["b"]);
        assert!(profiles.enables(&service(&[])));
        assert!(profiles.enables(&service(&["a", "b"])));
        assert!(!profiles.enables(&service(&["a"])));
    }
}
