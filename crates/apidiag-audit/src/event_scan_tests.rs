use std::io::Read;

use super::*;
use crate::event::serde_event;

fn fixture_lines() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lab-flood.audit.log.gz"
    );
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).expect("fixture"))
        .read_to_string(&mut text)
        .expect("gzip text");
    text.lines().map(str::to_owned).collect()
}

const LINE: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","requestURI":"/api/v1/pods?a=1\u0026b=2","verb":"list","user":{"username":"u","groups":["g","h"],"extra":{"k":["v"]}},"sourceIPs":["1.2.3.4"],"userAgent":"kubectl/v1.31.0","objectRef":{"resource":"pods","namespace":"ns","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestObject":{"a":[1,-2.5e+3,true,false,null,{"b\"c":"d\\e\u00e9"}]},"requestReceivedTimestamp":"2025-05-30T18:02:52.425513Z","stageTimestamp":"2025-05-30T18:02:52.429672Z","annotations":{"x":"y"}}"#;

#[test]
fn every_fixture_line_is_scanned_as_serde_reads_it() {
    let lines = fixture_lines();
    assert!(lines.len() > 1000);
    for line in &lines {
        let fast = scan(line).unwrap_or_else(|| panic!("not scanned: {line}"));
        assert_eq!(fast, serde_event(line).expect("serde reads it"), "{line}");
    }
}

#[test]
fn escapes_are_decoded_and_the_rest_borrowed() {
    let e = scan(LINE).expect("scanned");
    assert_eq!(e, serde_event(LINE).expect("valid"));
    assert_eq!(e.request_uri, "/api/v1/pods?a=1&b=2");
    assert!(matches!(e.request_uri, Cow::Owned(_)));
    assert!(matches!(e.verb, Cow::Borrowed(_)));
    assert_eq!(e.user.groups, Some(RawGroups(r#"["g","h"]"#)));
    let astral = LINE.replace("kubectl/v1.31.0", r"k\ud83d\ude00\n\t\/\b\f\r\u0000");
    let e = scan(&astral).expect("scanned");
    assert_eq!(e.user_agent.as_deref(), Some("k😀\n\t/\u{8}\u{c}\r\0"));
    assert_eq!(e, serde_event(&astral).expect("valid"));
}

#[test]
fn the_unexpected_goes_to_serde() {
    let cases = [
        // Serde reads these; the scanner leaves them to it.
        LINE.replace(r#""kind":"Event","#, "\t\"kind\":\"Event\",\r\n"),
        LINE.replace(r#""userAgent":"kubectl/v1.31.0""#, r#""userAgent":null"#),
        LINE.replace(r#""verb""#, r#""v\u0065rb""#),
        LINE.replace(r#""groups":["g","h"]"#, r#""groups":null"#),
        // Serde refuses these.
        LINE.replace(r#""verb":"list""#, r#""verb":"list","verb":"get""#),
        LINE.replace(r#""code":200"#, r#""code":200,"code":201"#),
        LINE.replace(r#""code":200"#, r#""code":200.0"#),
        LINE.replace(r#""code":200"#, r#""code":070000"#),
        LINE.replace(r#""code":200"#, r#""code":70000"#),
        LINE.replace("kubectl", r"\ud83d"),
        LINE.replace("kubectl", r"\ude00x"),
        LINE.replace("kubectl", r"\ud83d\u0041"),
        LINE.replace("kubectl", r"\x"),
        LINE.replace("kubectl", "a\u{1}b"),
        LINE.replace("true", "tru"),
        LINE.replace("-2.5e+3", "-2.e3"),
        LINE.replace("-2.5e+3", "01"),
        LINE.replace("-2.5e+3", "1e"),
        LINE.replace(r#","stageTimestamp":"2025-05-30T18:02:52.429672Z""#, ""),
        format!("{LINE}x"),
        format!("{LINE}{{}}"),
        LINE[..LINE.len() - 1].to_owned(),
        LINE.replace(
            r#""x":"y""#,
            &format!(r#""x":{}{}"#, "[".repeat(120), "]".repeat(120)),
        ),
    ];
    for case in &cases {
        assert!(scan(case).is_none(), "scanned: {case}");
        crate::fuzzing::event_line(case.as_bytes());
    }
}

#[test]
fn order_and_spaces_do_not_matter() {
    let spaced = LINE.replace(',', " , ").replace(':', " : ");
    let reordered = LINE.replace(
        r#"{"kind":"Event","#,
        r#"{"annotations":{},"stageTimestamp":"2025-05-30T18:02:52.429672Z","kind":"Event","#,
    );
    let reordered = reordered.replace(
        r#","stageTimestamp":"2025-05-30T18:02:52.429672Z","annotations":{"x":"y"}"#,
        "",
    );
    for case in [spaced, reordered, format!("  {LINE}\r")] {
        let fast = scan(&case).unwrap_or_else(|| panic!("not scanned: {case}"));
        assert_eq!(fast, serde_event(&case).expect("valid"));
    }
}
