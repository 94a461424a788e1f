//! Bodies of fuzz targets that exercise this crate, public so that a
//! cargo-fuzz target and the stable tests (`tests/robustness.rs`) call the
//! very same code. Each takes raw bytes and panics only on a bug.

use crate::event::{parse_event, serde_event};
use crate::event_scan::scan;

/// One kube-apiserver line, read by the scanner and by serde: whenever the
/// scanner takes a line, serde must take it too and read the same fields,
/// since the scanner is only a faster way to serde's answer.
pub fn event_line(data: &[u8]) {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(fast) = scan(line) {
        match serde_event(line) {
            Ok(slow) => assert_eq!(fast, slow, "the scanner and serde disagree on {line:?}"),
            Err(e) => panic!("the scanner took a line serde refuses ({e:?}): {line:?}"),
        }
    }
    let _ = parse_event(line);
}
