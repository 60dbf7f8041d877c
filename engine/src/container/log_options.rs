//! A container's log settings, from the create request's
//! `HostConfig.LogConfig` as Docker takes them: the `json-file` driver (the
//! default) with its `max-size` and `max-file` options, or `none`. Any
//! other driver or option is refused with a message naming it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where a container's output goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum LogDriver {
    /// Docker's json-file log, which `logs` and `attach` read.
    #[default]
    JsonFile,
    /// Nothing `logs` can read: the monitor keeps only a small rolling
    /// file that attached clients follow.
    None,
}

/// The log settings the monitor applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LogOptions {
    /// The driver.
    pub(crate) driver: LogDriver,
    /// `max-size`: the size in bytes past which the log file is rotated.
    pub(crate) max_size: Option<u64>,
    /// `max-file`: how many files the log keeps, the current one included.
    pub(crate) max_file: u32,
}

impl Default for LogOptions {
    fn default() -> LogOptions {
        LogOptions {
            driver: LogDriver::JsonFile,
            max_size: None,
            max_file: 1,
        }
    }
}

impl LogOptions {
    /// The settings for a request's `LogConfig` (its `Type` and `Config`),
    /// or what is wrong with them.
    pub(crate) fn from_request(
        driver: Option<&str>,
        config: Option<&HashMap<String, String>>,
    ) -> Result<LogOptions, String> {
        let driver = match driver.unwrap_or("") {
            "" | "json-file" => LogDriver::JsonFile,
            "none" => LogDriver::None,
            other => {
                return Err(format!(
                    "HostConfig.LogConfig.Type {other:?} is not supported: use \"json-file\" or \"none\""
                ))
            }
        };
        let mut options = LogOptions {
            driver,
            ..LogOptions::default()
        };
        let mut keys: Vec<(&String, &String)> = config.into_iter().flatten().collect();
        keys.sort();
        for (key, value) in keys {
            let option = || format!("HostConfig.LogConfig.Config {key}={value:?}");
            match (driver, key.as_str()) {
                (LogDriver::JsonFile, "max-size") => {
                    let size = parse_size(value).map_err(|why| format!("{}: {why}", option()))?;
                    options.max_size = Some(size);
                }
                (LogDriver::JsonFile, "max-file") => {
                    options.max_file = match value.trim().parse::<u32>() {
                        Ok(n) if n >= 1 => n,
                        _ => {
                            return Err(format!(
                                "{}: expected a whole number of files, at least 1",
                                option()
                            ))
                        }
                    };
                }
                (LogDriver::JsonFile, _) => {
                    return Err(format!(
                        "{}: the json-file log supports only max-size and max-file",
                        option()
                    ))
                }
                (LogDriver::None, _) => {
                    return Err(format!(
                        "{}: the none log driver takes no options",
                        option()
                    ))
                }
            }
        }
        Ok(options)
    }

    /// Whether the file is due for rotation once it holds `size` bytes.
    pub(crate) fn rotate_at(&self, size: u64) -> bool {
        self.max_size.is_some_and(|max| size >= max)
    }
}

/// The `n`th rotated file of the log at `path` (`<id>-json.log.1` is the
/// newest after the current one, as Docker names them).
pub(crate) fn rotated_path(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// The log's rotated files that exist, oldest first (they are numbered
/// without gaps from 1).
pub(crate) fn rotated_files(path: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = (1..)
        .map(|n| rotated_path(path, n))
        .take_while(|p| p.exists())
        .collect();
    files.reverse();
    files
}

/// A size as Docker's `max-size` takes it: a number (a fraction allowed)
/// with an optional decimal unit, `k`, `m`, `g`, `t` or `p`, optionally
/// followed by `b` (`10m`, `1.5kb`, `512`).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits_end);
    let unit = unit.trim_start();
    let unit = unit.strip_suffix('b').unwrap_or(unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let scale: f64 = match unit {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "p" => 1e15,
        _ => return Err("expected a size such as 10m, 512k or 1g".into()),
    };
    let number: f64 = number
        .parse()
        .map_err(|_| "expected a size such as 10m, 512k or 1g".to_owned())?;
    let bytes = (number * scale).floor();
    if bytes.is_nan() || bytes < 1.0 || bytes >= u64::MAX as f64 {
        return Err("the size must be at least one byte".into());
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sizes_are_decimal_as_dockers() {
        assert_eq!(parse_size("512").unwrap(), 512);
        assert_eq!(parse_size("1k").unwrap(), 1000);
        assert_eq!(parse_size("10m").unwrap(), 10_000_000);
        assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("1.5kb").unwrap(), 1500);
        assert_eq!(parse_size("2 g").unwrap(), 2_000_000_000);
        for bad in ["", "k", "10x", "-1k", "0", "1..2m"] {
            assert!(parse_size(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn json_file_takes_max_size_and_max_file() {
        let options = LogOptions::from_request(
            Some("json-file"),
            Some(&config(&[("max-size", "1k"), ("max-file", "3")])),
        )
        .unwrap();
        assert_eq!(
            options,
            LogOptions {
                driver: LogDriver::JsonFile,
                max_size: Some(1000),
                max_file: 3,
            }
        );
        assert!(options.rotate_at(1000) && !options.rotate_at(999));
        let default = LogOptions::from_request(None, None).unwrap();
        assert_eq!(default, LogOptions::default());
        assert!(!default.rotate_at(u64::MAX));
    }

    #[test]
    fn other_drivers_and_options_are_refused_by_name() {
        let error = LogOptions::from_request(Some("syslog"), None).unwrap_err();
        assert!(error.contains("\"syslog\""), "{error}");
        let error =
            LogOptions::from_request(None, Some(&config(&[("compress", "true")]))).unwrap_err();
        assert!(error.contains("compress"), "{error}");
        let error =
            LogOptions::from_request(None, Some(&config(&[("max-file", "0")]))).unwrap_err();
        assert!(error.contains("max-file"), "{error}");
        let error = LogOptions::from_request(Some("none"), Some(&config(&[("max-size", "1k")])))
            .unwrap_err();
        assert!(error.contains("none"), "{error}");
        assert_eq!(
            LogOptions::from_request(Some("none"), None).unwrap().driver,
            LogDriver::None
        );
    }
}
