use super::*;
use crate::merge::tests::{doc, render};
use crate::source::tests::FakeFs;
use std::cell::RefCell;

/// Resolves `extends` in `text` (file /p/compose.yaml) with `files` on disk;
/// returns the rendered services or the errors as text.
fn run(text: &str, files: &[(&str, &str)]) -> Result<String, Vec<String>> {
    let fs = FakeFs::with(files);
    let prepare = |n: Node, _: &Scope<'_>| Ok(n);
    let loader = Loader {
        fs: &fs,
        prepare: &prepare,
    };
    let mut d = doc(text, "compose.yaml");
    let file = FileRef {
        name: Arc::from("compose.yaml"),
        dir: PathBuf::from("/p"),
        env_files: &[],
    };
    match resolve(&mut d, &file, &loader) {
        Ok(()) => Ok(render(d.get("services").unwrap())),
        Err(errors) => Err(errors.iter().map(ToString::to_string).collect()),
    }
}

fn expect(text: &str) -> String {
    render(&doc(text, "expected.yaml"))
}

#[test]
fn extends_a_service_of_the_same_file() {
    let out = run(
        "services:
  base: {image: a, ports: ['80:80'], environment: [A=1, B=2], depends_on: [db]}
  web: {extends: base, image: b, ports: ['81:81'], environment: {B: 3}}",
        &[],
    );
    assert_eq!(
        out.unwrap(),
        expect(
            "{base: {image: a, ports: ['80:80'], environment: [A=1, B=2], depends_on: [db]},
              web: {image: b, ports: ['80:80', '81:81'], environment: {A: '1', B: 3}, depends_on: [db]}}"
        )
    );
}

#[test]
fn extends_recursively() {
    let out = run(
        "services:
  c: {extends: {service: b}, command: [c]}
  b: {extends: a, user: b}
  a: {image: a, user: root, command: [a]}",
        &[],
    );
    assert_eq!(
        out.unwrap(),
        expect("{c: {image: a, user: b, command: [c]}, b: {image: a, user: b, command: [a]}, a: {image: a, user: root, command: [a]}}")
    );
}

#[test]
fn a_base_from_another_directory_has_its_paths_rebased() {
    let out = run(
        "services:
  web: {extends: {file: common/base.yaml, service: app}, environment: {X: 1}}",
        &[(
            "/p/common/base.yaml",
            "services:
  app:
    build: ./app
    env_file: [.env.base, {path: ../shared.env}, /etc/abs.env]
    volumes: ['./data:/data:ro', 'named:/x', {type: bind, source: ./conf, target: /conf}, {type: volume, source: v, target: /v}]
    environment: {Y: 2}",
        )],
    );
    assert_eq!(
        out.unwrap(),
        expect(
            "{web: {build: /p/common/app,
                    env_file: [/p/common/.env.base, {path: /p/shared.env}, /etc/abs.env],
                    volumes: ['/p/common/data:/data:ro', 'named:/x', {type: bind, source: /p/common/conf, target: /conf},
                              {type: volume, source: v, target: /v}],
                    environment: {Y: 2, X: 1}}}"
        )
    );
}

#[test]
fn a_chain_across_files_is_resolved_from_each_files_directory() {
    let out = run(
        "services:\n  web: {extends: {file: common/mid.yaml, service: mid}}",
        &[
            (
                "/p/common/mid.yaml",
                "services:\n  mid: {extends: {file: ../lib/root.yaml, service: root}, user: mid}",
            ),
            (
                "/p/lib/root.yaml",
                "services:\n  root: {build: {context: ./r, dockerfile: D}, user: root}",
            ),
        ],
    );
    assert_eq!(
        out.unwrap(),
        expect("{web: {build: {context: /p/lib/r, dockerfile: D}, user: mid}}")
    );
}

#[test]
fn remote_build_contexts_are_not_rebased() {
    let out = run(
        "services:\n  web: {extends: {file: c/base.yaml, service: app}}",
        &[(
            "/p/c/base.yaml",
            "services:\n  app: {build: 'https://github.com/x/y.git#main'}",
        )],
    );
    assert_eq!(
        out.unwrap(),
        expect("{web: {build: 'https://github.com/x/y.git#main'}}")
    );
}

#[test]
fn a_cycle_is_reported_once_with_its_chain() {
    let errors = run(
        "services:\n  a:\n    extends: b\n  b:\n    extends: {service: a}\n  c:\n    image: x\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        errors,
        ["compose.yaml:5:14: services.b.extends: extends cycle: a (compose.yaml) → b (compose.yaml) → a (compose.yaml) \
          (a service cannot extend itself, directly or through others; remove one of these `extends`)"]
    );
}

#[test]
fn a_cycle_across_files_names_the_files() {
    let errors = run(
        "services:\n  a: {extends: {file: other.yaml, service: b}}\n",
        &[(
            "/p/other.yaml",
            "services:\n  b: {extends: {file: /p/other.yaml, service: b}}\n",
        )],
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .contains("extends cycle: a (compose.yaml) → b (/p/other.yaml) → b (/p/other.yaml)"),
        "{errors:?}"
    );
}

#[test]
fn missing_service_and_missing_file_are_named() {
    let errors = run(
        "services:\n  a:\n    extends: nope\n  b:\n    extends: {file: gone.yaml, service: x}\n  c:\n    extends: {file: there.yaml, service: y}\n",
        &[("/p/there.yaml", "services: {z: {image: z}}")],
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "compose.yaml:3:14: services.a.extends: service \"nope\" not found in compose.yaml \
             (check the service name, or name the file that defines it with `extends.file`)",
            "compose.yaml:5:14: services.b.extends.file: cannot read /p/gone.yaml: not found \
             (`extends.file` is relative to the file that has the `extends`)",
            "compose.yaml:7:14: services.c.extends: service \"y\" not found in /p/there.yaml \
             (check the service name, or name the file that defines it with `extends.file`)",
        ]
    );
}

#[test]
fn reset_and_override_in_the_extending_service() {
    let out = run(
        "services:
  base: {image: a, ports: ['80:80'], environment: {A: 1}, depends_on: [db]}
  web: {extends: base, ports: !reset [], environment: !override {B: 2}, depends_on: !reset}",
        &[],
    );
    assert_eq!(
        out.unwrap(),
        expect(
            "{base: {image: a, ports: ['80:80'], environment: {A: 1}, depends_on: [db]},
              web: {image: a, environment: {B: 2}}}"
        )
    );
}

#[test]
fn the_extends_file_is_prepared_in_the_same_scope() {
    let fs = FakeFs::with(&[("/p/base.yaml", "services:\n  app: {image: raw}\n")]);
    let seen = RefCell::new(Vec::new());
    let prepare = |mut n: Node, scope: &Scope<'_>| {
        seen.borrow_mut()
            .push((scope.file.to_string(), scope.env_files.to_vec()));
        if let Some(image) = n
            .as_map_mut()
            .and_then(|m| m.get_mut("services"))
            .and_then(|s| s.value.as_map_mut())
            .and_then(|s| s.get_mut("app"))
            .and_then(|a| a.value.as_map_mut())
            .and_then(|a| a.get_mut("image"))
        {
            image.value = Node::string(
                "prepared",
                crate::tree::Style::Plain,
                image.value.location.clone(),
            );
        }
        Ok(n)
    };
    let loader = Loader {
        fs: &fs,
        prepare: &prepare,
    };
    let mut d = doc(
        "services:\n  web: {extends: {file: base.yaml, service: app}}",
        "compose.yaml",
    );
    let env = [PathBuf::from("/p/.env.inc")];
    let file = FileRef {
        name: Arc::from("compose.yaml"),
        dir: PathBuf::from("/p"),
        env_files: &env,
    };
    resolve(&mut d, &file, &loader).unwrap();
    assert_eq!(
        render(d.get("services").unwrap()),
        "{web: {image: prepared}}"
    );
    assert_eq!(*seen.borrow(), [("/p/base.yaml".to_string(), env.to_vec())]);
}
