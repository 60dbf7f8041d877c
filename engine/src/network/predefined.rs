//! Docker's pseudo-networks `host` and `none`: listed and inspectable
//! beside `bridge`, never created, removed, connected or disconnected.
//! They have no record, bridge or address: a container joins one with
//! `network_mode: host|none` at creation. Their ids are derived from the
//! engine's id, so they are stable for one state root and differ between
//! engines, as Docker's (random, stored) ones do.

use sha2::{Digest, Sha256};

/// One of the pseudo-networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pseudo {
    /// The host's network namespace.
    Host,
    /// A namespace with loopback only.
    None,
}

impl Pseudo {
    /// Both, in name order.
    pub(crate) const ALL: [Pseudo; 2] = [Pseudo::Host, Pseudo::None];

    /// The network's name, which is also its `NetworkMode`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Pseudo::Host => "host",
            Pseudo::None => "none",
        }
    }

    /// Docker's driver name for it.
    pub(crate) fn driver(self) -> &'static str {
        match self {
            Pseudo::Host => "host",
            Pseudo::None => "null",
        }
    }

    /// Its id on the engine with id `engine_id` (64 hex digits).
    pub(crate) fn id(self, engine_id: &str) -> String {
        digest(&["network", engine_id, self.name()])
    }

    /// The id of the endpoint by which container `container` is on it.
    pub(crate) fn endpoint_id(self, engine_id: &str, container: &str) -> String {
        digest(&["endpoint", engine_id, self.name(), container])
    }

    /// The pseudo-network `reference` names by exact name or full id.
    pub(crate) fn exact(reference: &str, engine_id: &str) -> Option<Pseudo> {
        Pseudo::ALL
            .into_iter()
            .find(|p| reference == p.name() || reference == p.id(engine_id))
    }

    /// The pseudo-network whose id starts with `prefix` (not empty).
    pub(crate) fn by_prefix(prefix: &str, engine_id: &str) -> Option<Pseudo> {
        let mut matches = Pseudo::ALL
            .into_iter()
            .filter(|p| !prefix.is_empty() && p.id(engine_id).starts_with(prefix));
        match (matches.next(), matches.next()) {
            (Some(p), None) => Some(p),
            _ => None,
        }
    }
}

fn digest(parts: &[&str]) -> String {
    Sha256::digest(parts.join("\0").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_per_engine_and_differ_between_engines() {
        let host = Pseudo::Host.id("engine-a");
        assert_eq!(host.len(), 64);
        assert!(host.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(host, Pseudo::Host.id("engine-a"));
        assert_ne!(host, Pseudo::Host.id("engine-b"));
        assert_ne!(host, Pseudo::None.id("engine-a"));
        assert_ne!(
            Pseudo::Host.endpoint_id("engine-a", "c1"),
            Pseudo::Host.endpoint_id("engine-a", "c2")
        );
    }

    #[test]
    fn references_by_name_id_and_prefix() {
        let none = Pseudo::None.id("e");
        assert_eq!(Pseudo::exact("host", "e"), Some(Pseudo::Host));
        assert_eq!(Pseudo::exact(&none, "e"), Some(Pseudo::None));
        assert_eq!(Pseudo::exact(&none[..12], "e"), None);
        assert_eq!(Pseudo::by_prefix(&none[..12], "e"), Some(Pseudo::None));
        assert_eq!(Pseudo::by_prefix("", "e"), None);
        assert_eq!(Pseudo::exact("bridge", "e"), None);
        assert_eq!(
            (Pseudo::Host.driver(), Pseudo::None.driver()),
            ("host", "null")
        );
    }
}
