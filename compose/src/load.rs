//! The loader pipeline: options and environment in, a validated project out.
//!
//! `.env` → file lookup → per document: parse, interpolate → include,
//! extends, merge → project name → typed conversion → `env_file` contents →
//! profiles → validation and the dependency graph → the selected services.

use crate::env::{layered, parse_dotenv, parse_dotenv_files, Environment};
use crate::error::{LoadError, LoadErrors, Warning};
use crate::graph::{GraphError, ServiceGraph};
use crate::include::{self, Loader, Scope};
use crate::interpolate::interpolate;
use crate::model::Project;
use crate::profiles::{self, Profiles};
use crate::source::{self, FileSystem, HostFileSystem, SourceOptions};
use crate::tree::{KeyPath, Node};
use crate::validate::{self, Spans};
use crate::{convert, hash};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the command line says about the project.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `-f` files in order (`-` is standard input, see [`LoadOptions::stdin`]).
    pub files: Vec<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--project-directory`.
    pub project_directory: Option<PathBuf>,
    /// `--profile`, in order.
    pub profiles: Vec<String>,
    /// `--env-file`, in order; when empty, `.env` in the project directory.
    pub env_files: Vec<PathBuf>,
    /// The directory the command runs in.
    pub working_dir: PathBuf,
    /// False for `--no-interpolate`.
    pub interpolate: bool,
    /// Services named on the command line: only they and what they depend on
    /// are kept, and naming one enables its profiles.
    pub services: Vec<String>,
    /// Standard input, read by the caller, when a file is `-`.
    pub stdin: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            files: Vec::new(),
            project_name: None,
            project_directory: None,
            profiles: Vec::new(),
            env_files: Vec::new(),
            working_dir: PathBuf::from("."),
            interpolate: true,
            services: Vec::new(),
            stdin: None,
        }
    }
}

/// A loaded project.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The active services (profiles applied, selection applied) and the
    /// resources they use.
    pub project: Project,
    /// Every profile named by any service, active or not, sorted.
    pub all_profiles: Vec<String>,
    /// The dependency graph of the active services.
    pub graph: ServiceGraph,
    /// What Compose would warn about, each once.
    pub warnings: Vec<Warning>,
    /// The environment interpolation used (process over `.env`).
    pub environment: Environment,
}

impl Loaded {
    /// `(service, config hash)` for every active service, in service order.
    pub fn config_hashes(&self) -> Result<Vec<(String, String)>, serde_json::Error> {
        self.project
            .services
            .iter()
            .map(|(name, service)| Ok((name.clone(), hash::service_hash(service)?)))
            .collect()
    }
}

/// Loads, merges, converts and validates the project `options` describe,
/// reading variables from `process_env` (and `.env`). Every error found is
/// returned at once.
pub fn load(options: &LoadOptions, process_env: &Environment) -> Result<Loaded, LoadErrors> {
    load_with(options, process_env, &HostFileSystem)
}

fn load_with(
    options: &LoadOptions,
    process_env: &Environment,
    fs: &dyn FileSystem,
) -> Result<Loaded, LoadErrors> {
    let mut warnings = Vec::new();
    let env = environment(options, process_env, fs, &mut warnings)?;

    let source_options = SourceOptions {
        files: options
            .files
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect(),
        stdin: options.stdin.clone(),
        working_dir: options.working_dir.clone(),
        project_directory: options.project_directory.clone(),
        project_name: options.project_name.clone(),
    };
    let sources = source::resolve(&source_options, &env, fs).map_err(LoadErrors::sorted)?;
    warnings.extend(sources.warnings.iter().cloned());
    let empty: Vec<LoadError> = sources
        .files
        .iter()
        .filter(|f| is_empty_document(&f.text))
        .map(|f| {
            LoadError::new(None, "", format!("{}: empty compose file", f.name))
                .with_hint("add a `services:` section, or leave the file out")
        })
        .collect();
    if !empty.is_empty() {
        return Err(LoadErrors::sorted(empty));
    }

    let interpolation_warnings = std::cell::RefCell::new(Vec::new());
    let prepare = |mut doc: Node, scope: &Scope<'_>| -> Result<Node, Vec<LoadError>> {
        if !options.interpolate {
            return Ok(doc);
        }
        let scoped;
        let env = if scope.env_files.is_empty() {
            &env
        } else {
            let mut files = Vec::new();
            for path in scope.env_files {
                let text = fs.read_to_string(path).map_err(|e| {
                    vec![LoadError::new(
                        None,
                        "include",
                        format!("cannot read env file {}: {e}", path.display()),
                    )]
                })?;
                files.push((Arc::from(path.display().to_string()), text));
            }
            let mut w = Vec::new();
            let vars = parse_dotenv_files(&files, &env, &mut w)?;
            interpolation_warnings.borrow_mut().extend(w);
            scoped = layered(&env, vars);
            &scoped
        };
        let mut w = Vec::new();
        let errors = interpolate(&mut doc, env, &KeyPath::root(), &mut w);
        interpolation_warnings.borrow_mut().extend(w);
        if errors.is_empty() {
            Ok(doc)
        } else {
            Err(errors)
        }
    };
    let loader = Loader {
        fs,
        prepare: &prepare,
    };
    let tree = include::load_project(&sources.files, &sources.project_dir, &loader)
        .map_err(LoadErrors::sorted)?;
    warnings.extend(dedup_unset_warnings(interpolation_warnings.into_inner()));
    let name = sources.project_name(&tree).map_err(LoadErrors::from)?;

    let ctx = convert::ConvertContext {
        project_name: name,
        project_dir: sources.project_dir.clone(),
        env: &env,
    };
    let converted = convert::project(&tree, &ctx);
    let mut errors = converted.errors;
    warnings.extend(converted.warnings);
    let mut project = converted.project;
    errors.extend(apply_env_files(&mut project, &env, fs, &mut warnings));
    if !errors.is_empty() {
        return Err(LoadErrors::sorted(errors));
    }

    let spans = Spans::from_tree(&tree);
    let all_profiles = all_profiles(&project);
    let enabled = Profiles::from_cli(&options.profiles, &env);
    let mut project = profiles::select(project, &enabled, &options.services, &spans)?.project;
    warnings.extend(validate::validate(&project, &spans)?);
    let mut graph = ServiceGraph::from_project(&project).map_err(graph_errors)?;
    if !options.services.is_empty() {
        graph = graph
            .subgraph(&options.services)
            .map_err(|e| graph_errors(vec![e]))?;
        project.services.retain(|name, _| graph.contains(name));
    }
    warnings.sort();
    warnings.dedup();
    Ok(Loaded {
        project,
        all_profiles,
        graph,
        warnings,
        environment: env,
    })
}

/// The process environment over `--env-file` files, or over `.env` in the
/// project directory (the one given, or the first file's, or the working
/// directory) when no `--env-file` is given. Compose reads it before looking
/// for files, since `COMPOSE_FILE` and `COMPOSE_PROJECT_NAME` may come from it.
fn environment(
    options: &LoadOptions,
    process_env: &Environment,
    fs: &dyn FileSystem,
    warnings: &mut Vec<Warning>,
) -> Result<Environment, LoadErrors> {
    let wd = &options.working_dir;
    let (paths, required): (Vec<PathBuf>, bool) = if options.env_files.is_empty() {
        let dir = match (&options.project_directory, options.files.first()) {
            (Some(dir), _) => wd.join(dir),
            (None, Some(file)) if file.as_os_str() != "-" => wd
                .join(file)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| wd.clone()),
            _ => wd.clone(),
        };
        (vec![dir.join(".env")], false)
    } else {
        (options.env_files.iter().map(|f| wd.join(f)).collect(), true)
    };
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for (path, given) in paths.iter().zip(
        options
            .env_files
            .iter()
            .map(Some)
            .chain(std::iter::repeat(None)),
    ) {
        if !required && !fs.is_file(path) {
            continue;
        }
        let name = given.unwrap_or(path).display().to_string();
        match fs.read_to_string(path) {
            Ok(text) => files.push((Arc::<str>::from(name), text)),
            Err(e) => errors.push(
                LoadError::new(None, "", format!("cannot read env file {name}: {e}"))
                    .with_hint("check the --env-file path"),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(LoadErrors::sorted(errors));
    }
    let vars = parse_dotenv_files(&files, process_env, warnings).map_err(LoadErrors::sorted)?;
    Ok(layered(process_env, vars))
}

/// A file with nothing but blank lines, comments and document markers, which
/// Compose refuses as an empty compose file.
fn is_empty_document(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
}

/// Every profile any service names, sorted (what `config --profiles` prints).
fn all_profiles(project: &Project) -> Vec<String> {
    let names: BTreeSet<&String> = project
        .services
        .values()
        .flat_map(|s| s.profiles.iter())
        .collect();
    names.into_iter().cloned().collect()
}

/// Graph errors left after validation (which reports cycles and undefined
/// services with their positions) cannot normally happen; they still become
/// plain load errors rather than a panic.
fn graph_errors(errors: Vec<GraphError>) -> LoadErrors {
    LoadErrors::sorted(
        errors
            .into_iter()
            .map(|e| LoadError::new(None, "services", e.to_string()))
            .collect(),
    )
}

/// Reads each service's `env_file`s into its environment, as Compose does:
/// later files win over earlier ones, and `environment` wins over all of them.
fn apply_env_files(
    project: &mut Project,
    env: &Environment,
    fs: &dyn FileSystem,
    warnings: &mut Vec<Warning>,
) -> Vec<LoadError> {
    let mut errors = Vec::new();
    for (name, service) in &mut project.services {
        let mut from_files: Vec<(String, String)> = Vec::new();
        for (i, file) in service.env_file.iter().enumerate() {
            let path = Path::new(&file.path);
            if !file.required && !fs.is_file(path) {
                continue;
            }
            let text = match fs.read_to_string(path) {
                Ok(text) => text,
                Err(e) => {
                    errors.push(
                        LoadError::new(
                            None,
                            KeyPath::root()
                                .key("services")
                                .key(name)
                                .key("env_file")
                                .index(i)
                                .to_string(),
                            format!("cannot read env file {}: {e}", file.path),
                        )
                        .with_hint("create the file, or mark it `required: false`"),
                    );
                    continue;
                }
            };
            match parse_dotenv(&text, &Arc::from(file.path.as_str()), env, warnings) {
                Ok(vars) => from_files.extend(vars),
                Err(e) => errors.extend(e),
            }
        }
        for (key, value) in from_files {
            if !service.environment.contains_key(&key) {
                service.environment.insert(key, Some(value));
            } else if let Some(slot) = service.environment.get_mut(&key) {
                // A later env_file overrides an earlier one, but only until
                // `environment` itself names the variable.
                if slot.is_none() {
                    *slot = Some(value);
                }
            }
        }
    }
    errors
}

/// Compose says once per variable that it was unset, not once per use.
fn dedup_unset_warnings(mut warnings: Vec<Warning>) -> Vec<Warning> {
    warnings.sort_by(|a, b| (&a.message, &a.location).cmp(&(&b.message, &b.location)));
    warnings.dedup_by(|a, b| a.message == b.message);
    warnings
}
