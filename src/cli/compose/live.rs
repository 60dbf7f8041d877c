//! The live progress view on a terminal: one line per resource, redrawn in
//! place as its events arrive (and every tenth of a second, so elapsed
//! times run), under a `[+] Running done/total` header, as Compose shows
//! it. One view shows one plan's run: nothing else may print to the
//! terminal while it draws.

use crate::orchestrator::progress::{Event, Kind, Sink, Status};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The frames of the spinner of a resource under way.
const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// One resource's line.
struct Line {
    kind: Kind,
    name: String,
    status: Status,
    text: String,
    /// When its work began here (events carry only the elapsed time).
    since: Instant,
    /// The elapsed time its final event reported.
    took: Option<Duration>,
}

/// The lines of the view, and how many are on the screen.
#[derive(Default)]
struct Block {
    lines: Vec<Line>,
    drawn: usize,
    frame: usize,
}

impl Block {
    fn done(&self) -> bool {
        !self.lines.is_empty() && self.lines.iter().all(|l| l.status.is_final())
    }

    fn update(&mut self, event: Event) {
        let now = Instant::now();
        let took = event.status.is_final().then_some(event.elapsed);
        match self
            .lines
            .iter_mut()
            .find(|l| l.kind == event.kind && l.name == event.name)
        {
            Some(line) => {
                line.status = event.status;
                line.text = event.text;
                line.took = took;
            }
            None => self.lines.push(Line {
                kind: event.kind,
                name: event.name,
                status: event.status,
                text: event.text,
                since: now.checked_sub(event.elapsed).unwrap_or(now),
                took,
            }),
        }
    }

    /// The block as text, replacing the lines drawn before.
    fn render(&mut self) -> String {
        let mut out = String::new();
        if self.drawn > 0 {
            out.push_str(&format!("\x1b[{}A", self.drawn));
        }
        let finished = self.lines.iter().filter(|l| l.status.is_final()).count();
        out.push_str(&format!(
            "\x1b[2K[+] Running {finished}/{}\n",
            self.lines.len()
        ));
        let width = self
            .lines
            .iter()
            .map(|l| l.kind.to_string().len() + 1 + l.name.len())
            .max()
            .unwrap_or(0);
        self.frame = (self.frame + 1) % SPINNER.len();
        for line in &self.lines {
            let mark = match line.status {
                Status::Working => SPINNER[self.frame].to_string(),
                Status::Done => "\x1b[32m✔\x1b[0m".to_owned(),
                Status::Warning => "\x1b[33m!\x1b[0m".to_owned(),
                Status::Error => "\x1b[31m✘\x1b[0m".to_owned(),
            };
            let elapsed = line.took.unwrap_or_else(|| line.since.elapsed());
            let subject = format!("{} {}", line.kind, line.name);
            out.push_str(&format!(
                "\x1b[2K {mark} {subject:<width$}  {:<10} {:.1}s\n",
                line.text,
                elapsed.as_secs_f64()
            ));
        }
        self.drawn = self.lines.len() + 1;
        out
    }
}

/// The terminal view; a thread redraws it while work is under way.
pub struct Live {
    block: Arc<Mutex<Block>>,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl Live {
    /// A view drawing on standard error.
    pub fn new() -> Self {
        let block = Arc::new(Mutex::new(Block::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (block, stop) = (block.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    if let Ok(mut block) = block.lock() {
                        if !block.lines.is_empty() && !block.done() {
                            let text = block.render();
                            let _ = std::io::stderr().lock().write_all(text.as_bytes());
                        }
                    }
                }
            })
        };
        Live {
            block,
            stop,
            ticker: Some(ticker),
        }
    }
}

impl Sink for Live {
    fn event(&self, event: Event) {
        if let Ok(mut block) = self.block.lock() {
            block.update(event);
            let text = block.render();
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, status: Status, text: &str) -> Event {
        Event::new(
            Kind::Container,
            name,
            status,
            text,
            Duration::from_millis(200),
        )
    }

    #[test]
    fn lines_are_redrawn_in_place() {
        let mut block = Block::default();
        block.update(event("app-web-1", Status::Working, "Creating"));
        let first = block.render();
        assert!(first.starts_with("\x1b[2K[+] Running 0/1\n"), "{first:?}");
        block.update(event("app-web-1", Status::Done, "Created"));
        let second = block.render();
        assert!(second.starts_with("\x1b[2A"), "{second:?}");
        assert!(
            second.contains("Container app-web-1  Created    0.2s"),
            "{second:?}"
        );
        assert!(block.done());
        block.update(event("app-db-1", Status::Working, "Stopping"));
        let third = block.render();
        assert!(
            third.starts_with("\x1b[2A\x1b[2K[+] Running 1/2\n"),
            "{third:?}"
        );
    }
}
