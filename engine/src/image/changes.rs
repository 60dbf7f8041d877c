//! Docker `--change` instructions for `import`: `CMD`, `ENTRYPOINT`, `ENV`,
//! `WORKDIR`, `EXPOSE`, `USER`, `LABEL`, `VOLUME`, `STOPSIGNAL`, written as
//! in a Dockerfile (JSON or shell form), applied to an image config.

use oci_spec::image::Config;

/// One parsed instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Cmd(Vec<String>),
    Entrypoint(Vec<String>),
    Env(Vec<(String, String)>),
    Workdir(String),
    Expose(Vec<String>),
    User(String),
    Label(Vec<(String, String)>),
    Volume(Vec<String>),
    StopSignal(String),
}

/// Why an instruction does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// The instruction is not one import supports.
    #[error("unknown instruction {0:?} (supported: CMD, ENTRYPOINT, ENV, WORKDIR, EXPOSE, USER, LABEL, VOLUME, STOPSIGNAL)")]
    Unknown(String),
    /// The instruction has no argument.
    #[error("{0} needs an argument")]
    MissingArgument(&'static str),
    /// The instruction takes a single word.
    #[error("{0} takes one argument")]
    TooManyArguments(&'static str),
    /// A quote is not closed.
    #[error("unterminated quote")]
    UnterminatedQuote,
    /// An `ENV` or `LABEL` word is not `KEY=VALUE`.
    #[error("{0:?} is not KEY=VALUE")]
    NotKeyValue(String),
    /// An `EXPOSE` port is malformed.
    #[error("invalid port {0:?} (use PORT, PORT/tcp, PORT/udp or FROM-TO)")]
    BadPort(String),
}

/// Parses one `--change` string such as `CMD ["sh"]` or `ENV A=1 B="x y"`.
pub(crate) fn parse_change(text: &str) -> Result<Change, ChangeError> {
    let text = text.trim();
    let (keyword, rest) = match text.split_once(char::is_whitespace) {
        Some((keyword, rest)) => (keyword, rest.trim()),
        None => (text, ""),
    };
    let instruction = keyword.to_ascii_uppercase();
    let name = match instruction.as_str() {
        "CMD" => "CMD",
        "ENTRYPOINT" => "ENTRYPOINT",
        "ENV" => "ENV",
        "WORKDIR" => "WORKDIR",
        "EXPOSE" => "EXPOSE",
        "USER" => "USER",
        "LABEL" => "LABEL",
        "VOLUME" => "VOLUME",
        "STOPSIGNAL" => "STOPSIGNAL",
        _ => return Err(ChangeError::Unknown(keyword.to_string())),
    };
    if rest.is_empty() {
        return Err(ChangeError::MissingArgument(name));
    }
    Ok(match name {
        "CMD" => Change::Cmd(command_form(rest)),
        "ENTRYPOINT" => Change::Entrypoint(command_form(rest)),
        "ENV" => Change::Env(key_values(rest)?),
        "LABEL" => Change::Label(key_values(rest)?),
        "WORKDIR" => {
            // Relative paths are relative to the previous WORKDIR, which for
            // an imported image is the root.
            let dir = rest.to_string();
            Change::Workdir(if dir.starts_with('/') {
                dir
            } else {
                format!("/{dir}")
            })
        }
        "EXPOSE" => Change::Expose(ports(&split_words(rest)?)?),
        "USER" => Change::User(single_word(name, rest)?),
        "STOPSIGNAL" => Change::StopSignal(single_word(name, rest)?),
        _ => Change::Volume(json_array(rest).map_or_else(|| split_words(rest), Ok)?),
    })
}

/// Applies instructions in order, as a Dockerfile would.
pub(crate) fn apply_changes(config: &mut Config, changes: &[Change]) {
    for change in changes {
        match change {
            Change::Cmd(cmd) => {
                config.set_cmd(Some(cmd.clone()));
            }
            Change::Entrypoint(entrypoint) => {
                config.set_entrypoint(Some(entrypoint.clone()));
            }
            Change::Env(pairs) => {
                let mut env = config.env().clone().unwrap_or_default();
                for (key, value) in pairs {
                    let prefix = format!("{key}=");
                    let entry = format!("{key}={value}");
                    match env.iter_mut().find(|e| e.starts_with(&prefix)) {
                        Some(existing) => *existing = entry,
                        None => env.push(entry),
                    }
                }
                config.set_env(Some(env));
            }
            Change::Workdir(dir) => {
                config.set_working_dir(Some(dir.clone()));
            }
            Change::Expose(ports) => {
                let mut all = config.exposed_ports().clone().unwrap_or_default();
                push_unique(&mut all, ports);
                config.set_exposed_ports(Some(all));
            }
            Change::User(user) => {
                config.set_user(Some(user.clone()));
            }
            Change::Label(pairs) => {
                let mut labels = config.labels().clone().unwrap_or_default();
                labels.extend(pairs.iter().cloned());
                config.set_labels(Some(labels));
            }
            Change::Volume(volumes) => {
                let mut all = config.volumes().clone().unwrap_or_default();
                push_unique(&mut all, volumes);
                config.set_volumes(Some(all));
            }
            Change::StopSignal(signal) => {
                config.set_stop_signal(Some(signal.clone()));
            }
        }
    }
}

fn push_unique(all: &mut Vec<String>, new: &[String]) {
    for item in new {
        if !all.contains(item) {
            all.push(item.clone());
        }
    }
}

/// JSON (exec) form if the text is a JSON array of strings, otherwise the
/// shell form `/bin/sh -c TEXT` (Docker falls back the same way).
fn command_form(text: &str) -> Vec<String> {
    json_array(text)
        .unwrap_or_else(|| vec!["/bin/sh".to_string(), "-c".to_string(), text.to_string()])
}

fn json_array(text: &str) -> Option<Vec<String>> {
    text.starts_with('[')
        .then(|| serde_json::from_str(text).ok())
        .flatten()
}

fn single_word(name: &'static str, text: &str) -> Result<String, ChangeError> {
    let mut words = split_words(text)?;
    match words.len() {
        1 => Ok(words.remove(0)),
        _ => Err(ChangeError::TooManyArguments(name)),
    }
}

/// `K=V K2="v 2"`, or the legacy `K some value` form.
fn key_values(text: &str) -> Result<Vec<(String, String)>, ChangeError> {
    let first = text.split(char::is_whitespace).next().unwrap_or_default();
    if !first.contains('=') {
        let (key, value) = text
            .split_once(char::is_whitespace)
            .map(|(k, v)| (k, v.trim()))
            .unwrap_or((text, ""));
        let value = split_words(value)?.join(" ");
        return Ok(vec![(key.to_string(), value)]);
    }
    split_words(text)?
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
            _ => Err(ChangeError::NotKeyValue(word)),
        })
        .collect()
}

/// Splits on unquoted whitespace; double quotes allow `\` escapes, single
/// quotes are literal, a backslash outside quotes escapes the next char.
fn split_words(text: &str) -> Result<Vec<String>, ChangeError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(ChangeError::UnterminatedQuote),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => word.extend(chars.next()),
                        Some(c) => word.push(c),
                        None => return Err(ChangeError::UnterminatedQuote),
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// `80` → `80/tcp`; `53/udp` kept; `8000-8002` expanded, as Docker does.
fn ports(words: &[String]) -> Result<Vec<String>, ChangeError> {
    /// Larger ranges are almost certainly typos and would bloat the config.
    const MAX_RANGE: u32 = 1024;
    let mut out = Vec::new();
    for word in words {
        let bad = || ChangeError::BadPort(word.clone());
        let (range, proto) = match word.split_once('/') {
            Some((range, proto)) => (range, proto.to_ascii_lowercase()),
            None => (word.as_str(), "tcp".to_string()),
        };
        if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
            return Err(bad());
        }
        let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad);
        let (low, high) = match range.split_once('-') {
            Some((low, high)) => (port(low)?, port(high)?),
            None => (port(range)?, port(range)?),
        };
        if low > high || u32::from(high - low) >= MAX_RANGE {
            return Err(bad());
        }
        out.extend((low..=high).map(|p| format!("{p}/{proto}")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cmd_and_entrypoint_take_json_or_shell_form() {
        assert_eq!(
            parse_change(r#"CMD ["sh", "-c", "echo hi"]"#),
            Ok(Change::Cmd(s(&["sh", "-c", "echo hi"])))
        );
        assert_eq!(
            parse_change("cmd echo $HOME"),
            Ok(Change::Cmd(s(&["/bin/sh", "-c", "echo $HOME"])))
        );
        // Not a JSON array of strings: shell form, as Docker does.
        assert_eq!(
            parse_change("ENTRYPOINT [1]"),
            Ok(Change::Entrypoint(s(&["/bin/sh", "-c", "[1]"])))
        );
        assert_eq!(
            parse_change("CMD"),
            Err(ChangeError::MissingArgument("CMD"))
        );
    }

    #[test]
    fn env_and_label_accept_pairs_quotes_and_legacy_form() {
        let pairs = |items: &[(&str, &str)]| {
            items
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            parse_change(r#"ENV A=1 B="x y" C='$z' D=a\ b"#),
            Ok(Change::Env(pairs(&[
                ("A", "1"),
                ("B", "x y"),
                ("C", "$z"),
                ("D", "a b")
            ])))
        );
        assert_eq!(
            parse_change("ENV PATH /usr/bin:/bin  extra"),
            Ok(Change::Env(pairs(&[("PATH", "/usr/bin:/bin extra")])))
        );
        assert_eq!(
            parse_change(r#"LABEL "com.example.x"=1 y="two words""#),
            Ok(Change::Label(pairs(&[
                ("com.example.x", "1"),
                ("y", "two words")
            ])))
        );
        assert_eq!(
            parse_change("ENV A=1 =2"),
            Err(ChangeError::NotKeyValue("=2".into()))
        );
        assert_eq!(
            parse_change(r#"ENV A="x"#),
            Err(ChangeError::UnterminatedQuote)
        );
    }

    #[test]
    fn other_instructions() {
        assert_eq!(
            parse_change("WORKDIR /srv/app"),
            Ok(Change::Workdir("/srv/app".into()))
        );
        assert_eq!(
            parse_change("WORKDIR app"),
            Ok(Change::Workdir("/app".into()))
        );
        assert_eq!(
            parse_change("EXPOSE 80 53/UDP 8000-8002"),
            Ok(Change::Expose(s(&[
                "80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp"
            ])))
        );
        assert_eq!(
            parse_change("EXPOSE 0"),
            Err(ChangeError::BadPort("0".into()))
        );
        assert_eq!(
            parse_change("EXPOSE 80/icmp"),
            Err(ChangeError::BadPort("80/icmp".into()))
        );
        assert_eq!(
            parse_change("USER 1000:1000"),
            Ok(Change::User("1000:1000".into()))
        );
        assert_eq!(
            parse_change("USER a b"),
            Err(ChangeError::TooManyArguments("USER"))
        );
        assert_eq!(
            parse_change(r#"VOLUME ["/data", "/logs"]"#),
            Ok(Change::Volume(s(&["/data", "/logs"])))
        );
        assert_eq!(
            parse_change("VOLUME /data /logs"),
            Ok(Change::Volume(s(&["/data", "/logs"])))
        );
        assert_eq!(
            parse_change("STOPSIGNAL SIGINT"),
            Ok(Change::StopSignal("SIGINT".into()))
        );
        assert_eq!(
            parse_change("RUN echo"),
            Err(ChangeError::Unknown("RUN".into()))
        );
    }

    #[test]
    fn applying_merges_env_by_key_and_dedups_ports() {
        let mut config = Config::default();
        let changes: Vec<Change> = [
            "ENV A=1 B=2",
            "ENV A=3",
            "EXPOSE 80",
            "EXPOSE 80 443",
            "LABEL x=1",
            "CMD [\"sh\"]",
            "WORKDIR /w",
            "USER nobody",
        ]
        .iter()
        .map(|c| parse_change(c).unwrap())
        .collect();
        apply_changes(&mut config, &changes);
        assert_eq!(config.env(), &Some(s(&["A=3", "B=2"])));
        assert_eq!(config.exposed_ports(), &Some(s(&["80/tcp", "443/tcp"])));
        assert_eq!(config.labels().as_ref().unwrap()["x"], "1");
        assert_eq!(config.cmd(), &Some(s(&["sh"])));
        assert_eq!(config.working_dir(), &Some("/w".to_string()));
        assert_eq!(config.user(), &Some("nobody".to_string()));
    }
}
