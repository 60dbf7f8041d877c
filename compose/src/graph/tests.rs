use super::*;

fn on(dep: &str) -> (&str, Edge) {
    (dep, Edge::default())
}

fn build(services: &[(&str, &[&str])]) -> Result<ServiceGraph, Vec<GraphError>> {
    ServiceGraph::new(
        services
            .iter()
            .map(|(name, deps)| (*name, deps.iter().map(|d| on(d)).collect::<Vec<_>>())),
    )
}

fn errors(services: &[(&str, &[&str])]) -> Vec<String> {
    build(services)
        .expect_err("graph should not build")
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn levels_group_services_that_can_start_together() {
    let g = build(&[
        ("web", &["api", "cache"]),
        ("api", &["db"]),
        ("db", &[]),
        ("cache", &[]),
        ("worker", &["db"]),
        ("admin", &[]),
    ])
    .unwrap();
    assert_eq!(
        g.start_levels(),
        vec![
            vec!["admin", "cache", "db"],
            vec!["api", "worker"],
            vec!["web"]
        ]
    );
    assert_eq!(
        g.stop_levels(),
        vec![
            vec!["web"],
            vec!["api", "worker"],
            vec!["admin", "cache", "db"]
        ]
    );
}

#[test]
fn a_service_sits_above_its_deepest_dependency() {
    // web depends on db directly and through api: it must wait for api.
    let g = build(&[("web", &["db", "api"]), ("api", &["db"]), ("db", &[])]).unwrap();
    assert_eq!(g.start_levels(), vec![vec!["db"], vec!["api"], vec!["web"]]);
}

#[test]
fn empty_graph_has_no_levels() {
    let g = build(&[]).unwrap();
    assert!(g.is_empty());
    assert!(g.start_levels().is_empty());
    assert!(g.stop_levels().is_empty());
}

#[test]
fn services_are_listed_in_name_order() {
    let g = build(&[("b", &[]), ("a", &["b"]), ("c", &[])]).unwrap();
    assert_eq!(g.services().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(g.len(), 3);
    assert!(g.contains("a"));
    assert!(!g.contains("z"));
}

#[test]
fn undefined_required_dependency_names_both_services() {
    assert_eq!(
        errors(&[("web", &["db", "cache"]), ("cache", &[])]),
        ["service \"web\" depends on undefined service \"db\""]
    );
}

#[test]
fn undefined_optional_dependency_is_ignored_with_a_warning() {
    let optional = Edge {
        required: false,
        ..Edge::default()
    };
    let g = ServiceGraph::new([("web", vec![("db", optional)])]).unwrap();
    assert_eq!(g.start_levels(), vec![vec!["web"]]);
    assert_eq!(
        g.ignored()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["service \"web\" depends on undefined service \"db\" (required: false), ignored"]
    );
}

#[test]
fn cycle_is_named_from_its_first_service_in_name_order() {
    assert_eq!(
        errors(&[("c", &["a"]), ("b", &["c"]), ("a", &["b"])]),
        ["dependency cycle detected: a -> b -> c -> a"]
    );
}

#[test]
fn cycle_is_named_the_same_whatever_the_declaration_order() {
    let one = errors(&[("x", &["y"]), ("y", &["z"]), ("z", &["x"]), ("w", &["x"])]);
    let two = errors(&[("w", &["x"]), ("z", &["x"]), ("y", &["z"]), ("x", &["y"])]);
    assert_eq!(one, ["dependency cycle detected: x -> y -> z -> x"]);
    assert_eq!(one, two);
}

#[test]
fn cycle_follows_dependencies_in_name_order() {
    // Two ways back to a: through b (a -> b -> a) and through c.
    assert_eq!(
        errors(&[("a", &["c", "b"]), ("b", &["a"]), ("c", &["a"])]),
        ["dependency cycle detected: a -> b -> a"]
    );
}

#[test]
fn cycle_walk_backtracks_out_of_dead_ends() {
    // From b, c comes first but only leads back to b, already on the path.
    assert_eq!(
        errors(&[
            ("a", &["b"]),
            ("b", &["c", "d"]),
            ("c", &["b"]),
            ("d", &["a"])
        ]),
        ["dependency cycle detected: a -> b -> d -> a"]
    );
}

#[test]
fn self_dependency_is_a_cycle() {
    assert_eq!(
        errors(&[("a", &["a"])]),
        ["dependency cycle detected: a -> a"]
    );
}

#[test]
fn every_cycle_and_undefined_dependency_is_reported() {
    assert_eq!(
        errors(&[
            ("q", &["p"]),
            ("p", &["q"]),
            ("b", &["a"]),
            ("a", &["b", "ghost"]),
            ("s", &["s"]),
        ]),
        [
            "service \"a\" depends on undefined service \"ghost\"",
            "dependency cycle detected: a -> b -> a",
            "dependency cycle detected: p -> q -> p",
            "dependency cycle detected: s -> s",
        ]
    );
}

#[test]
fn subgraph_holds_the_transitive_dependencies_of_the_roots() {
    let g = build(&[
        ("web", &["api"]),
        ("api", &["db"]),
        ("db", &[]),
        ("worker", &["queue"]),
        ("queue", &[]),
        ("admin", &["db"]),
    ])
    .unwrap();
    let up = g.subgraph(&["web"]).unwrap();
    assert_eq!(
        up.start_levels(),
        vec![vec!["db"], vec!["api"], vec!["web"]]
    );
    let up = g.subgraph(&["worker", "admin"]).unwrap();
    assert_eq!(
        up.start_levels(),
        vec![vec!["db", "queue"], vec!["admin", "worker"]]
    );
    assert_eq!(up.dependents("db").unwrap(), [("admin", Edge::default())]);
}

#[test]
fn subgraph_keeps_ignored_dependencies_of_its_services_only() {
    let optional = Edge {
        required: false,
        ..Edge::default()
    };
    let g = ServiceGraph::new([
        ("web", vec![("ghost", optional)]),
        ("api", vec![("phantom", optional)]),
    ])
    .unwrap();
    let web = g.subgraph(&["web"]).unwrap();
    assert_eq!(
        web.ignored(),
        [IgnoredDependency {
            service: "web".into(),
            dependency: "ghost".into()
        }]
    );
}

#[test]
fn subgraph_of_unknown_service_is_an_error() {
    let g = build(&[("web", &[])]).unwrap();
    assert_eq!(
        g.subgraph(&["nope"]).unwrap_err().to_string(),
        "no such service: nope"
    );
}

#[test]
fn dependencies_and_dependents_are_sorted_with_their_edges() {
    let healthy = Edge {
        condition: ServiceCondition::ServiceHealthy,
        ..Edge::default()
    };
    let g = ServiceGraph::new([
        ("web", vec![("db", healthy), ("cache", Edge::default())]),
        ("api", vec![("db", Edge::default())]),
        ("db", vec![]),
        ("cache", vec![]),
    ])
    .unwrap();
    assert_eq!(
        g.dependencies("web").unwrap(),
        [("cache", Edge::default()), ("db", healthy)]
    );
    assert_eq!(
        g.dependents("db").unwrap(),
        [("api", Edge::default()), ("web", healthy)]
    );
    assert!(g.dependents("web").unwrap().is_empty());
    assert_eq!(
        g.dependencies("nope").unwrap_err(),
        GraphError::UnknownService("nope".into())
    );
}

#[test]
fn graph_of_a_project_follows_its_depends_on() {
    use crate::model::Service;
    let mut project = Project::default();
    let mut web = Service::default();
    web.depends_on.insert(
        "db".into(),
        DependsOn {
            condition: ServiceCondition::ServiceHealthy,
            restart: true,
            ..DependsOn::started()
        },
    );
    project.services.insert("web".into(), web);
    project.services.insert("db".into(), Service::default());
    let g = ServiceGraph::from_project(&project).unwrap();
    assert_eq!(g.start_levels(), vec![vec!["db"], vec!["web"]]);
    assert_eq!(
        g.dependencies("web").unwrap(),
        [(
            "db",
            Edge {
                condition: ServiceCondition::ServiceHealthy,
                required: true,
                restart: true
            }
        )]
    );
}

#[test]
fn restart_propagates_along_restart_edges_only() {
    let restart = Edge {
        restart: true,
        ..Edge::default()
    };
    let g = ServiceGraph::new([
        ("db", vec![]),
        ("api", vec![("db", restart)]),
        ("web", vec![("api", restart)]),
        ("report", vec![("db", Edge::default())]),
    ])
    .unwrap();
    assert_eq!(g.restart_set(&["db"]).unwrap(), ["api", "db", "web"]);
    assert_eq!(g.restart_set(&["report"]).unwrap(), ["report"]);
    assert_eq!(
        g.restart_set(&["x"]).unwrap_err(),
        GraphError::UnknownService("x".into())
    );
}
