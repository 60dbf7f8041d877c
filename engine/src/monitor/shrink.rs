//! Giving back, once the container has run a while, the pages the
//! watcher's start mapped: the code and read-only data of `stack-watch`,
//! libc and the loader that the start (loading, relocation, std's set-up,
//! taking the handover, opening the log) touched. They are shared with
//! every other process through the page cache, so they cost little
//! proportional memory, but each one counts fully in every watcher's
//! resident size, and the kernel maps whole blocks of 16 pages around each
//! fault: measured with 50 containers, 2.18 MB resident per watcher, of
//! which about 1.9 MB such file pages. After the start the watcher drops its
//! page table entries for them and returns the heap's free pages to the
//! kernel; the few pages a loop that waits in `poll` needs fault back in
//! from the page cache when the container writes output.
//!
//! Only pages the kernel reports (in `/proc/self/pagemap`) as file pages
//! are dropped: a page copied on write — data the dynamic loader relocated,
//! such as `.data.rel.ro` — is the process's own, and dropping it would
//! bring back the file's unrelocated content. The part of the stack below
//! the current frame is dropped too.

use std::fs::{self, File};
use std::os::unix::fs::FileExt;

/// The page size of every Linux target this runs on.
const PAGE: usize = 4096;

/// What stays of the stack below the caller's frame: the calls the watch
/// loop makes, and the frames of this module's own calls into libc while
/// it drops the rest.
const STACK_MARGIN: usize = 64 * 1024;

/// A page-aligned address range.
#[derive(Debug, PartialEq, Eq)]
struct Region {
    start: usize,
    end: usize,
}

/// Frees what the start left behind (see the module's documentation).
/// Must be called once the start is over, from the single thread.
pub(super) fn shrink() {
    let marker = 0u8;
    let frame = std::hint::black_box(&marker) as *const u8 as usize;
    if let Ok(maps) = fs::read_to_string("/proc/self/maps") {
        let pagemap = File::open("/proc/self/pagemap");
        let mut drop = Vec::new();
        for (region, kind) in mappings(&maps) {
            match kind {
                Kind::FileReadOnly => {
                    if let Ok(pagemap) = &pagemap {
                        drop.extend(file_pages(pagemap, &region));
                    }
                }
                // Only the stack this call runs on (a test thread's is elsewhere).
                Kind::Stack if (region.start..region.end).contains(&frame) => {
                    let below = frame.saturating_sub(STACK_MARGIN) & !(PAGE - 1);
                    if below > region.start {
                        drop.push(Region {
                            start: region.start,
                            end: below,
                        });
                    }
                }
                Kind::Stack => {}
            }
        }
        for region in drop {
            // SAFETY: each region is either pages the kernel reports as
            // unmodified file content of a mapping this process cannot
            // write (dropping them only removes page table entries; a later
            // access reads the same bytes from the file), or stack below
            // the caller's frame and the margin this call's own frames
            // use, which holds nothing live. Nothing else runs in this
            // process meanwhile, so no mapping changes under us.
            unsafe {
                nix::libc::madvise(
                    region.start as *mut nix::libc::c_void,
                    region.end - region.start,
                    nix::libc::MADV_DONTNEED,
                );
            }
        }
    }
    // Last, so that what this function allocated is returned as well.
    // SAFETY: malloc_trim only returns free heap memory to the kernel; it
    // takes the allocator's lock like any allocation does.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

/// Which kind of mapping a region is.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// Private, not writable, backed by a file: code and read-only data.
    FileReadOnly,
    /// The main thread's stack.
    Stack,
}

/// The mappings of a `/proc/PID/maps` listing worth dropping pages of.
fn mappings(maps: &str) -> Vec<(Region, Kind)> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (start, end) = fields.next()?.split_once('-')?;
            let region = Region {
                start: usize::from_str_radix(start, 16).ok()?,
                end: usize::from_str_radix(end, 16).ok()?,
            };
            let perms = fields.next()?;
            let inode = fields.nth(2)?;
            let path = fields.next().unwrap_or("");
            let kind = if path == "[stack]" {
                Kind::Stack
            } else if perms.ends_with('p')
                && !perms.contains('w')
                && inode != "0"
                && path.starts_with('/')
            {
                Kind::FileReadOnly
            } else {
                return None;
            };
            Some((region, kind))
        })
        .collect()
}

/// The runs of resident file pages of `region`, from the pagemap.
fn file_pages(pagemap: &File, region: &Region) -> Vec<Region> {
    let pages = (region.end - region.start) / PAGE;
    let mut bytes = vec![0u8; pages * 8];
    let offset = (region.start / PAGE * 8) as u64;
    if pagemap.read_exact_at(&mut bytes, offset).is_err() {
        return Vec::new();
    }
    let entries: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|chunk| u64::from_ne_bytes(chunk.try_into().unwrap_or_default()))
        .collect();
    file_runs(region.start, &entries)
}

/// Runs of pages, from `start` on, whose pagemap entry says present
/// (bit 63) and file-backed (bit 61: not a private copy).
fn file_runs(start: usize, entries: &[u64]) -> Vec<Region> {
    const PRESENT: u64 = 1 << 63;
    const FILE: u64 = 1 << 61;
    let mut runs: Vec<Region> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if entry & PRESENT == 0 || entry & FILE == 0 {
            continue;
        }
        let page = start + index * PAGE;
        match runs.last_mut() {
            Some(run) if run.end == page => run.end = page + PAGE,
            _ => runs.push(Region {
                start: page,
                end: page + PAGE,
            }),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0a0000000-55d0a0588000 r--p 00000000 fe:01 1234 /usr/bin/stack
55d0a0589000-55d0a16ae000 r-xp 00588000 fe:01 1234 /usr/bin/stack
55d0a1769000-55d0a176e000 rw-p 01766000 fe:01 1234 /usr/bin/stack
55d0a2000000-55d0a2100000 rw-p 00000000 00:00 0 [heap]
7f00000000-7f00001000 r-xp 00000000 00:00 0 [vdso]
7f20000000-7f20100000 r-xp 00028000 fe:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6
7f30000000-7f30001000 r--s 00000000 fe:01 77 /dev/shm/shared
7ffe00000000-7ffe00021000 rw-p 00000000 00:00 0 [stack]
";

    #[test]
    fn read_only_private_file_mappings_and_the_stack_are_candidates() {
        let found: Vec<(usize, Kind)> = mappings(MAPS)
            .into_iter()
            .map(|(region, kind)| (region.start, kind))
            .collect();
        assert_eq!(
            found,
            [
                (0x55d0a0000000, Kind::FileReadOnly),
                (0x55d0a0589000, Kind::FileReadOnly),
                (0x7f20000000, Kind::FileReadOnly),
                (0x7ffe00000000, Kind::Stack),
            ]
        );
    }

    #[test]
    fn only_present_file_pages_are_dropped_in_runs() {
        let file = (1 << 63) | (1 << 61);
        let copied = 1 << 63;
        let absent = 1 << 61;
        let runs = file_runs(0x1000, &[file, file, copied, file, absent, file]);
        assert_eq!(
            runs,
            [
                Region {
                    start: 0x1000,
                    end: 0x3000
                },
                Region {
                    start: 0x4000,
                    end: 0x5000
                },
                Region {
                    start: 0x6000,
                    end: 0x7000
                },
            ]
        );
    }

    #[test]
    fn shrinking_keeps_the_process_working() {
        let text = format!("{:?}", mappings(MAPS));
        shrink();
        assert_eq!(text, format!("{:?}", mappings(MAPS)));
    }
}
