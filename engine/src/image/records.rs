//! What the store persists besides blobs: one record per image and the
//! tag index (`repositories.json`). Plain data with pure operations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::digest::Sha256;
use super::reference::Reference;

/// `images/<id hex>.json`. The id is the digest of the image's config
/// blob, as in Docker; the manifest blob lists the same layers in OCI form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ImageRecord {
    pub(crate) id: Sha256,
    pub(crate) manifest: Sha256,
    /// Bottom layer first.
    pub(crate) layers: Vec<LayerRef>,
}

/// One layer of an image: its uncompressed digest (which names the
/// unpacked directory) and the blob it was unpacked from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LayerRef {
    pub(crate) diff_id: Sha256,
    pub(crate) blob: Sha256,
}

/// `layers/<diff id hex>/layer.json`, written before the layer directory
/// is renamed into place, so a layer directory always has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LayerRecord {
    pub(crate) diff_id: Sha256,
    /// Bytes of regular file content.
    pub(crate) size: u64,
}

/// `repositories.json`: repository → tag → image id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Repositories {
    repositories: BTreeMap<String, BTreeMap<String, Sha256>>,
}

impl Repositories {
    /// The image a tagged reference points at.
    pub(crate) fn get(&self, reference: &Reference) -> Option<&Sha256> {
        self.repositories
            .get(reference.repository())?
            .get(reference.tag()?)
    }

    /// Points a tagged reference at `id`; returns the image it pointed at.
    pub(crate) fn set(&mut self, reference: &Reference, id: &Sha256) -> Option<Sha256> {
        let tag = reference.tag()?;
        self.repositories
            .entry(reference.repository().to_string())
            .or_default()
            .insert(tag.to_string(), id.clone())
    }

    /// Removes a tag; returns the image it pointed at.
    pub(crate) fn remove(&mut self, reference: &Reference) -> Option<Sha256> {
        let tags = self.repositories.get_mut(reference.repository())?;
        let removed = tags.remove(reference.tag()?);
        if tags.is_empty() {
            self.repositories.remove(reference.repository());
        }
        removed
    }

    /// The tags pointing at `id`, sorted.
    pub(crate) fn tags_of(&self, id: &Sha256) -> Vec<Reference> {
        let mut tags = Vec::new();
        for (repository, by_tag) in &self.repositories {
            for (tag, target) in by_tag {
                if target == id {
                    tags.push(Reference::with_tag(repository, tag));
                }
            }
        }
        tags
    }

    /// Removes every tag of `id` and returns them.
    pub(crate) fn remove_image(&mut self, id: &Sha256) -> Vec<Reference> {
        let tags = self.tags_of(id);
        for tag in &tags {
            self.remove(tag);
        }
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_move_between_images_and_empty_repositories_go_away() {
        let a = Sha256::of(b"a");
        let b = Sha256::of(b"b");
        let latest = Reference::parse("busybox").unwrap();
        let old = Reference::parse("busybox:old").unwrap();
        let mut repos = Repositories::default();
        assert_eq!(repos.set(&latest, &a), None);
        assert_eq!(repos.set(&old, &a), None);
        assert_eq!(repos.tags_of(&a), vec![latest.clone(), old.clone()]);
        assert_eq!(repos.set(&latest, &b), Some(a.clone()));
        assert_eq!(repos.get(&latest), Some(&b));
        assert_eq!(repos.tags_of(&a), vec![old.clone()]);
        assert_eq!(repos.remove_image(&a), vec![old.clone()]);
        assert_eq!(repos.remove(&latest), Some(b));
        assert_eq!(repos, Repositories::default());
    }

    #[test]
    fn digest_references_are_not_tags() {
        let mut repos = Repositories::default();
        let id = Sha256::of(b"x");
        let by_digest = Reference::parse(&format!("busybox@{id}")).unwrap();
        assert_eq!(repos.set(&by_digest, &id), None);
        assert_eq!(repos.get(&by_digest), None);
        assert_eq!(repos, Repositories::default());
    }

    #[test]
    fn json_shape_is_stable() {
        let mut repos = Repositories::default();
        repos.set(&Reference::parse("busybox").unwrap(), &Sha256::of(b""));
        let json = serde_json::to_value(&repos).unwrap();
        let expected = serde_json::json!({"repositories": {"docker.io/library/busybox": {"latest": Sha256::of(b"").to_string()}}});
        assert_eq!(json, expected);
    }
}

/// Everything the store knows about its images, held in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Catalog {
    pub(crate) images: BTreeMap<Sha256, ImageRecord>,
    pub(crate) repos: Repositories,
}

/// How a reference matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// By a tag, which a removal may take away alone.
    Tag(Reference, Sha256),
    /// By id, id prefix or manifest digest: the image itself.
    Image(Sha256),
}

impl Found {
    pub(crate) fn id(&self) -> &Sha256 {
        match self {
            Found::Tag(_, id) | Found::Image(id) => id,
        }
    }
}

/// Why a lookup found nothing usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LookupError {
    NotFound,
    Ambiguous(usize),
    Invalid(super::reference::ReferenceError),
}

impl Catalog {
    /// Finds an image the way Docker does: `sha256:` ids and prefixes,
    /// then a name with tag or digest, then a bare id prefix.
    pub(crate) fn lookup(&self, text: &str) -> Result<Found, LookupError> {
        if let Some(hex) = text.strip_prefix("sha256:") {
            return self.by_prefix(hex);
        }
        let parsed = Reference::parse(text);
        if let Ok(reference) = &parsed {
            if let Some(digest) = reference.digest() {
                let by_manifest = self.images.values().find(|r| &r.manifest == digest);
                return by_manifest
                    .map(|r| Found::Image(r.id.clone()))
                    .ok_or(LookupError::NotFound);
            }
            if let Some(id) = self.repos.get(reference) {
                return Ok(Found::Tag(reference.clone(), id.clone()));
            }
        }
        if text.len() <= 64 && super::digest::is_lower_hex(text) {
            return self.by_prefix(text);
        }
        match parsed {
            Ok(_) => Err(LookupError::NotFound),
            Err(e) => Err(LookupError::Invalid(e)),
        }
    }

    fn by_prefix(&self, hex: &str) -> Result<Found, LookupError> {
        if !super::digest::is_lower_hex(hex) {
            return Err(LookupError::NotFound);
        }
        let matches: Vec<_> = self
            .images
            .keys()
            .filter(|id| id.hex().starts_with(hex))
            .collect();
        match matches.as_slice() {
            [] => Err(LookupError::NotFound),
            [id] => Ok(Found::Image((*id).clone())),
            many => Err(LookupError::Ambiguous(many.len())),
        }
    }
}

#[cfg(test)]
mod catalog_tests {
    use super::*;

    fn catalog() -> (Catalog, Sha256, Sha256) {
        let a = Sha256::from_hex(&format!("ab{}", "0".repeat(62))).unwrap();
        let b = Sha256::from_hex(&format!("ac{}", "1".repeat(62))).unwrap();
        let mut catalog = Catalog::default();
        for (id, manifest) in [(&a, b"m-a"), (&b, b"m-b")] {
            let record = ImageRecord {
                id: id.clone(),
                manifest: Sha256::of(manifest),
                layers: Vec::new(),
            };
            catalog.images.insert(id.clone(), record);
        }
        catalog.repos.set(&Reference::parse("busybox").unwrap(), &a);
        (catalog, a, b)
    }

    #[test]
    fn names_tags_and_full_names_resolve_to_the_same_image() {
        let (catalog, a, _) = catalog();
        let tag = Reference::parse("busybox").unwrap();
        for text in [
            "busybox",
            "busybox:latest",
            "docker.io/library/busybox:latest",
            "library/busybox",
        ] {
            assert_eq!(
                catalog.lookup(text),
                Ok(Found::Tag(tag.clone(), a.clone())),
                "{text}"
            );
        }
        assert_eq!(catalog.lookup("busybox:old"), Err(LookupError::NotFound));
    }

    #[test]
    fn ids_and_prefixes() {
        let (catalog, a, b) = catalog();
        assert_eq!(catalog.lookup(&a.to_string()), Ok(Found::Image(a.clone())));
        assert_eq!(catalog.lookup(a.hex()), Ok(Found::Image(a.clone())));
        assert_eq!(catalog.lookup("ab"), Ok(Found::Image(a.clone())));
        assert_eq!(catalog.lookup("sha256:ac1"), Ok(Found::Image(b.clone())));
        assert_eq!(catalog.lookup("a"), Err(LookupError::Ambiguous(2)));
        assert_eq!(catalog.lookup("ff"), Err(LookupError::NotFound));
        assert_eq!(catalog.lookup("sha256:XY"), Err(LookupError::NotFound));
        assert!(matches!(
            catalog.lookup("Bad Name"),
            Err(LookupError::Invalid(_))
        ));
    }

    #[test]
    fn manifest_digests() {
        let (catalog, _, b) = catalog();
        let text = format!("busybox@{}", Sha256::of(b"m-b"));
        assert_eq!(catalog.lookup(&text), Ok(Found::Image(b)));
        let unknown = format!("busybox@{}", Sha256::of(b"zzz"));
        assert_eq!(catalog.lookup(&unknown), Err(LookupError::NotFound));
    }
}
