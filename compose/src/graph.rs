//! The services' dependency graph (`depends_on`): start and stop order,
//! what `up web` must also start, what a restart drags along, and the cycle
//! error that names the whole cycle.
//!
//! An edge goes from a service to a service it depends on. A [`ServiceGraph`]
//! is only ever built without cycles and without dangling edges, so every
//! ordering it hands out is total and needs no further checks.
//!
//! Everything is deterministic: services are kept in name order (node indices
//! are assigned alphabetically), so levels, lists and errors read the same on
//! every run.

use crate::model::{DependsOn, Project, ServiceCondition};
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction::{Incoming, Outgoing};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The attributes of one `depends_on` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Edge {
    /// What the dependent waits for before it starts.
    pub condition: ServiceCondition,
    /// `required: false` lets the dependent start when the dependency is
    /// missing or fails; an undefined optional dependency is dropped.
    pub required: bool,
    /// `restart: true`: restarting the dependency restarts the dependent too.
    pub restart: bool,
}

impl Default for Edge {
    /// What `depends_on: [name]` means.
    fn default() -> Self {
        Edge {
            condition: ServiceCondition::ServiceStarted,
            required: true,
            restart: false,
        }
    }
}

impl From<&DependsOn> for Edge {
    fn from(on: &DependsOn) -> Self {
        Edge {
            condition: on.condition,
            required: on.required,
            restart: on.restart,
        }
    }
}

/// Why a graph could not be built, or a name given to it is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// A required `depends_on` entry names a service that is not defined.
    #[error("service \"{service}\" depends on undefined service \"{dependency}\"")]
    UndefinedDependency {
        /// The service whose `depends_on` names it.
        service: String,
        /// The name that is not a service.
        dependency: String,
    },
    /// A dependency cycle; see [`Cycle`] for its order.
    #[error("dependency cycle detected: {0}")]
    Cycle(Cycle),
    /// A name asked for (for example on the command line) is not a service.
    #[error("no such service: {0}")]
    UnknownService(String),
}

/// The services of one dependency cycle, starting from the alphabetically
/// first of them and following, at each step, the alphabetically first
/// dependency that leads back to it. Displayed as `a -> b -> c -> a`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle(pub Vec<String>);

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for name in &self.0 {
            write!(f, "{name} -> ")?;
        }
        // The loop closes where it started.
        f.write_str(self.0.first().map_or("", String::as_str))
    }
}

/// An optional (`required: false`) dependency on an undefined service, left
/// out of the graph. The caller reports it as a warning.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IgnoredDependency {
    /// The service whose `depends_on` names it.
    pub service: String,
    /// The name that is not a service.
    pub dependency: String,
}

impl fmt::Display for IgnoredDependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "service \"{}\" depends on undefined service \"{}\" (required: false), ignored",
            self.service, self.dependency
        )
    }
}

/// The acyclic dependency graph of a project's services.
#[derive(Debug, Clone)]
pub struct ServiceGraph {
    graph: DiGraph<String, Edge>,
    index: BTreeMap<String, NodeIndex>,
    ignored: Vec<IgnoredDependency>,
}

impl ServiceGraph {
    /// Builds the graph from each service's name and its `depends_on`
    /// entries (dependency name, edge). Returns every undefined required
    /// dependency and every cycle found, in a deterministic order.
    pub fn new<S, D, N>(services: S) -> Result<Self, Vec<GraphError>>
    where
        S: IntoIterator<Item = (N, D)>,
        D: IntoIterator<Item = (N, Edge)>,
        N: Into<String>,
    {
        // Sorting first makes node indices follow name order, which every
        // deterministic output below relies on.
        let mut declared: BTreeMap<String, BTreeMap<String, Edge>> = BTreeMap::new();
        for (name, deps) in services {
            let deps = deps.into_iter().map(|(d, e)| (d.into(), e)).collect();
            declared.insert(name.into(), deps);
        }

        let mut graph = DiGraph::new();
        let index: BTreeMap<String, NodeIndex> = declared
            .keys()
            .map(|name| (name.clone(), graph.add_node(name.clone())))
            .collect();

        let mut errors = Vec::new();
        let mut ignored = Vec::new();
        for (name, deps) in &declared {
            let from = index[name];
            for (dep, edge) in deps {
                match index.get(dep) {
                    Some(&to) => {
                        graph.add_edge(from, to, *edge);
                    }
                    None if edge.required => errors.push(GraphError::UndefinedDependency {
                        service: name.clone(),
                        dependency: dep.clone(),
                    }),
                    None => ignored.push(IgnoredDependency {
                        service: name.clone(),
                        dependency: dep.clone(),
                    }),
                }
            }
        }

        errors.extend(cycles(&graph).into_iter().map(GraphError::Cycle));
        if errors.is_empty() {
            Ok(ServiceGraph {
                graph,
                index,
                ignored,
            })
        } else {
            Err(errors)
        }
    }

    /// The graph of a project's services.
    pub fn from_project(project: &Project) -> Result<Self, Vec<GraphError>> {
        ServiceGraph::new(project.services.iter().map(|(name, service)| {
            let deps = service
                .depends_on
                .iter()
                .map(|(dep, on)| (dep.as_str(), Edge::from(on)));
            (name.as_str(), deps)
        }))
    }

    /// Optional dependencies on undefined services that were left out.
    pub fn ignored(&self) -> &[IgnoredDependency] {
        &self.ignored
    }

    /// All services, in name order.
    pub fn services(&self) -> impl Iterator<Item = &str> {
        self.index.keys().map(String::as_str)
    }

    /// How many services the graph holds.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the graph holds no service.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Whether `service` is one of the graph's services.
    pub fn contains(&self, service: &str) -> bool {
        self.index.contains_key(service)
    }

    /// Start order: each level holds services whose dependencies are all in
    /// earlier levels, so a level's services can start in parallel. A service
    /// sits one level above its deepest dependency. Names are sorted within
    /// a level.
    pub fn start_levels(&self) -> Vec<Vec<&str>> {
        let mut level = vec![0usize; self.graph.node_count()];
        // The graph is acyclic by construction; toposort lists dependents
        // before their dependencies, so walk it backwards.
        let order = toposort(&self.graph, None).unwrap_or_default();
        for &node in order.iter().rev() {
            level[node.index()] = self
                .graph
                .neighbors_directed(node, Outgoing)
                .map(|dep| level[dep.index()] + 1)
                .max()
                .unwrap_or(0);
        }
        let depth = level.iter().max().map_or(0, |deepest| deepest + 1);
        let mut levels = vec![Vec::new(); depth];
        // Node indices follow name order, so each level comes out sorted.
        for node in self.graph.node_indices() {
            levels[level[node.index()]].push(self.graph[node].as_str());
        }
        levels
    }

    /// Stop order: the start levels reversed, so dependents stop before
    /// what they depend on.
    pub fn stop_levels(&self) -> Vec<Vec<&str>> {
        let mut levels = self.start_levels();
        levels.reverse();
        levels
    }

    /// The services `service` depends on directly, in name order, with
    /// their edge (the conditions to wait for before starting it).
    pub fn dependencies(&self, service: &str) -> Result<Vec<(&str, Edge)>, GraphError> {
        self.neighbors(service, Outgoing)
    }

    /// The services that depend directly on `service`, in name order.
    pub fn dependents(&self, service: &str) -> Result<Vec<(&str, Edge)>, GraphError> {
        self.neighbors(service, Incoming)
    }

    /// The graph restricted to `roots` and everything they depend on,
    /// transitively: what `stack up web` has to start.
    pub fn subgraph<R: AsRef<str>>(&self, roots: &[R]) -> Result<ServiceGraph, GraphError> {
        let keep = self.closure(roots, Outgoing, |_| true)?;
        let graph = self.graph.filter_map(
            |node, name| keep.contains(&node).then(|| name.clone()),
            |_, edge| Some(*edge),
        );
        // filter_map keeps the surviving nodes in their order, so indices
        // still follow name order.
        let index = graph
            .node_indices()
            .map(|node| (graph[node].clone(), node))
            .collect::<BTreeMap<_, _>>();
        let ignored = self
            .ignored
            .iter()
            .filter(|i| index.contains_key(&i.service))
            .cloned()
            .collect();
        Ok(ServiceGraph {
            graph,
            index,
            ignored,
        })
    }

    /// `services` and, transitively, every service that depends on one of
    /// them with `restart: true`: what restarting `services` restarts, in
    /// name order.
    pub fn restart_set<R: AsRef<str>>(&self, services: &[R]) -> Result<Vec<&str>, GraphError> {
        let set = self.closure(services, Incoming, |edge| edge.restart)?;
        Ok(set.into_iter().map(|n| self.graph[n].as_str()).collect())
    }

    fn node(&self, service: &str) -> Result<NodeIndex, GraphError> {
        self.index
            .get(service)
            .copied()
            .ok_or_else(|| GraphError::UnknownService(service.to_owned()))
    }

    fn neighbors(
        &self,
        service: &str,
        direction: petgraph::Direction,
    ) -> Result<Vec<(&str, Edge)>, GraphError> {
        let node = self.node(service)?;
        let mut out: Vec<(NodeIndex, Edge)> = self
            .graph
            .edges_directed(node, direction)
            .map(|e| {
                let other = if direction == Outgoing {
                    e.target()
                } else {
                    e.source()
                };
                (other, *e.weight())
            })
            .collect();
        out.sort_by_key(|(n, _)| *n);
        Ok(out
            .into_iter()
            .map(|(n, e)| (self.graph[n].as_str(), e))
            .collect())
    }

    /// `roots` plus every node reachable from them in `direction` over
    /// edges accepted by `follow`.
    fn closure<R: AsRef<str>>(
        &self,
        roots: &[R],
        direction: petgraph::Direction,
        follow: impl Fn(&Edge) -> bool,
    ) -> Result<BTreeSet<NodeIndex>, GraphError> {
        let mut seen = BTreeSet::new();
        let mut stack = roots
            .iter()
            .map(|r| self.node(r.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        while let Some(node) = stack.pop() {
            if !seen.insert(node) {
                continue;
            }
            for e in self.graph.edges_directed(node, direction) {
                if follow(e.weight()) {
                    let other = if direction == Outgoing {
                        e.target()
                    } else {
                        e.source()
                    };
                    stack.push(other);
                }
            }
        }
        Ok(seen)
    }
}

/// One cycle per strongly connected component that has one (a component of
/// several services, or a service depending on itself), ordered by the
/// name they start from.
fn cycles(graph: &DiGraph<String, Edge>) -> Vec<Cycle> {
    let mut found: Vec<Vec<NodeIndex>> = tarjan_scc(graph)
        .into_iter()
        .filter(|scc| scc.len() > 1 || scc.iter().any(|&n| graph.contains_edge(n, n)))
        .filter_map(|scc| cycle_in(graph, &scc.into_iter().collect()))
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|path| Cycle(path.into_iter().map(|n| graph[n].clone()).collect()))
        .collect()
}

/// The cycle through the smallest node of a strongly connected component:
/// a depth-first walk from it, trying dependencies in name order and staying
/// inside the component, until it comes back. Every node of the component
/// leads back, so the walk always ends on a cycle; following name order
/// makes the reported cycle the same on every run, as compose-go does.
fn cycle_in(graph: &DiGraph<String, Edge>, scc: &BTreeSet<NodeIndex>) -> Option<Vec<NodeIndex>> {
    let start = *scc.first()?;
    let mut path = vec![start];
    let mut visited = BTreeSet::from([start]);
    // One iterator of sorted, not yet tried successors per node on the path.
    let mut pending = vec![sorted_successors(graph, start, scc)];
    while let Some(next) = pending.last_mut()?.pop() {
        if next == start {
            return Some(path);
        }
        if visited.insert(next) {
            path.push(next);
            pending.push(sorted_successors(graph, next, scc));
        }
        while pending.last().is_some_and(Vec::is_empty) {
            pending.pop();
            path.pop();
        }
    }
    None
}

/// Successors of `node` inside `scc`, largest first so that `pop` yields
/// them in name order.
fn sorted_successors(
    graph: &DiGraph<String, Edge>,
    node: NodeIndex,
    scc: &BTreeSet<NodeIndex>,
) -> Vec<NodeIndex> {
    let mut next: Vec<NodeIndex> = graph
        .neighbors_directed(node, Outgoing)
        .filter(|n| scc.contains(n))
        .collect();
    next.sort_unstable_by(|a, b| b.cmp(a));
    next.dedup();
    next
}

#[cfg(test)]
mod tests;
