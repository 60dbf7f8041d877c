//! The terminal flags of `run` and `exec` (`-i`, `-t`, `-T`) and what they
//! decide, as Docker Compose decides it: standard input is forwarded by
//! default, and a TTY is allocated by default only when this process has
//! a terminal to relay it to.

use anyhow::{bail, Result};

/// `-i`, `-t` and `-T`, each also in its long form; `-i` and `-t` take an
/// optional `=false`, as Compose's do.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct TerminalArgs {
    /// Keep STDIN open even if not attached (the default; --interactive=false to close it)
    #[arg(
        short,
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    interactive: Option<bool>,
    /// Allocate a pseudo-TTY (the default when standard input and output are a terminal)
    #[arg(
        short,
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    tty: Option<bool>,
    /// Disable pseudo-TTY allocation (the default when standard input or output is not a terminal)
    #[arg(short = 'T', long = "no-tty", alias = "no-TTY")]
    no_tty: bool,
}

/// Whether this process's standard input and output are terminals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminals {
    pub stdin: bool,
    pub stdout: bool,
}

impl Terminals {
    /// This process's.
    pub fn here() -> Terminals {
        use std::io::IsTerminal;
        Terminals {
            stdin: std::io::stdin().is_terminal(),
            stdout: std::io::stdout().is_terminal(),
        }
    }

    fn both(self) -> bool {
        self.stdin && self.stdout
    }
}

/// What the process in the container gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streams {
    /// This process's standard input is forwarded to it.
    pub stdin: bool,
    /// It runs on a pseudo-TTY.
    pub tty: bool,
}

impl TerminalArgs {
    /// `run`'s streams. In the foreground, stdin is forwarded unless
    /// `--interactive=false`; a TTY comes with `-t`, or by default when
    /// there are terminals to relay it to. Detached (`-d`), nothing is
    /// attached: the container keeps a TTY or an open stdin only if asked
    /// by `-t` or `-i`.
    pub fn for_run(&self, detach: bool, here: Terminals) -> Result<Streams> {
        if self.tty.is_some() && self.no_tty {
            bail!("--tty and --no-tty can't be used together: keep one of them");
        }
        if detach {
            return Ok(Streams {
                stdin: self.interactive == Some(true),
                tty: self.tty == Some(true),
            });
        }
        let stdin = self.interactive.unwrap_or(true);
        let tty = match self.tty {
            Some(tty) => tty,
            None => !self.no_tty && here.both(),
        };
        if tty && stdin && !here.stdin {
            bail!(
                "cannot attach stdin to a TTY-enabled container because stdin is not a terminal \
                 (drop -t, or add -T or --interactive=false)"
            );
        }
        Ok(Streams { stdin, tty })
    }

    /// `exec`'s streams: stdin forwarded unless `--interactive=false`;
    /// a TTY with `-t`, or by default when there are terminals to relay it
    /// to; `-T` (which Compose lets win over `-t`) or `-d` none.
    pub fn for_exec(&self, detach: bool, here: Terminals) -> Streams {
        if detach {
            return Streams {
                stdin: false,
                tty: false,
            };
        }
        let tty = !self.no_tty && self.tty.unwrap_or_else(|| here.both());
        Streams {
            stdin: self.interactive.unwrap_or(true),
            tty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        terminal: TerminalArgs,
        #[arg(short)]
        detach: bool,
        rest: Vec<String>,
    }

    fn flags(args: &[&str]) -> (TerminalArgs, bool) {
        let parsed = Wrapper::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
            .expect("flags");
        (parsed.terminal, parsed.detach)
    }

    const TERMINAL: Terminals = Terminals {
        stdin: true,
        stdout: true,
    };
    const PIPED: Terminals = Terminals {
        stdin: false,
        stdout: true,
    };
    const REDIRECTED: Terminals = Terminals {
        stdin: true,
        stdout: false,
    };
    const NONE: Terminals = Terminals {
        stdin: false,
        stdout: false,
    };

    fn run(args: &[&str], here: Terminals) -> Result<Streams> {
        let (terminal, detach) = flags(args);
        terminal.for_run(detach, here)
    }

    fn streams(stdin: bool, tty: bool) -> Streams {
        Streams { stdin, tty }
    }

    #[test]
    fn run_allocates_a_tty_by_default_only_on_a_terminal() {
        assert_eq!(run(&[], TERMINAL).unwrap(), streams(true, true));
        // `echo hi | stack run app cat`: stdin forwarded, no TTY.
        assert_eq!(run(&[], PIPED).unwrap(), streams(true, false));
        assert_eq!(run(&[], REDIRECTED).unwrap(), streams(true, false));
        assert_eq!(run(&[], NONE).unwrap(), streams(true, false));
        assert_eq!(run(&["-T"], TERMINAL).unwrap(), streams(true, false));
        assert_eq!(run(&["--no-TTY"], TERMINAL).unwrap(), streams(true, false));
        assert_eq!(run(&["-i"], PIPED).unwrap(), streams(true, false));
    }

    #[test]
    fn optional_values_take_no_following_word() {
        let parsed = Wrapper::try_parse_from(["x", "-it", "app", "sh"]).expect("flags");
        assert_eq!(parsed.rest, ["app", "sh"]);
        assert_eq!(parsed.terminal.interactive, Some(true));
        assert_eq!(parsed.terminal.tty, Some(true));
        let parsed = Wrapper::try_parse_from(["x", "-i", "app"]).expect("flags");
        assert_eq!(parsed.rest, ["app"]);
        assert!(Wrapper::try_parse_from(["x", "--tty=maybe", "app"]).is_err());
    }

    #[test]
    fn run_takes_docker_style_flags() {
        assert_eq!(run(&["-it"], TERMINAL).unwrap(), streams(true, true));
        assert_eq!(run(&["-ti"], TERMINAL).unwrap(), streams(true, true));
        // An explicit -t forces a TTY where there is none to relay.
        assert_eq!(run(&["-t"], REDIRECTED).unwrap(), streams(true, true));
        assert_eq!(
            run(&["-t", "--interactive=false"], NONE).unwrap(),
            streams(false, true)
        );
        assert_eq!(
            run(&["--tty=false"], TERMINAL).unwrap(),
            streams(true, false)
        );
        assert_eq!(
            run(&["--interactive=false"], TERMINAL).unwrap(),
            streams(false, true)
        );
    }

    #[test]
    fn run_refuses_what_compose_refuses() {
        let both = run(&["-t", "-T"], TERMINAL).unwrap_err().to_string();
        assert!(both.contains("--tty and --no-tty"), "{both}");
        let piped = run(&["-t"], PIPED).unwrap_err().to_string();
        assert!(piped.contains("stdin is not a terminal"), "{piped}");
    }

    #[test]
    fn a_detached_run_attaches_nothing_unless_asked() {
        assert_eq!(run(&["-d"], TERMINAL).unwrap(), streams(false, false));
        assert_eq!(run(&["-d", "-it"], NONE).unwrap(), streams(true, true));
    }

    #[test]
    fn exec_follows_the_terminal_and_lets_no_tty_win() {
        let exec = |args: &[&str], here| {
            let (terminal, detach) = flags(args);
            terminal.for_exec(detach, here)
        };
        assert_eq!(exec(&[], TERMINAL), streams(true, true));
        assert_eq!(exec(&["-it"], TERMINAL), streams(true, true));
        assert_eq!(exec(&[], PIPED), streams(true, false));
        assert_eq!(exec(&["-t"], PIPED), streams(true, true));
        assert_eq!(exec(&["-t", "-T"], TERMINAL), streams(true, false));
        assert_eq!(exec(&["-T"], TERMINAL), streams(true, false));
        assert_eq!(exec(&["--interactive=false"], NONE), streams(false, false));
        assert_eq!(exec(&["-d", "-it"], TERMINAL), streams(false, false));
    }
}
