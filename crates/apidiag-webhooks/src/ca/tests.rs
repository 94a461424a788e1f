use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

use super::*;

const DAY: i64 = 86_400;

/// A fresh ECDSA P-256 certificate valid from 2000 to `until` (a year); the
/// tests choose `now` against it, so nothing rots.
fn generated_until(ca: bool, until: i32) -> Vec<u8> {
    let mut params = CertificateParams::new(vec!["webhook.policy.svc".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "policy-ca");
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(until, 1, 1);
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    let key = KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().pem().into_bytes()
}

fn generated(ca: bool) -> Vec<u8> {
    generated_until(ca, 2100)
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

fn parsed(bytes: &[u8]) -> Certificate {
    certificates(bytes).unwrap().remove(0)
}

#[test]
fn a_good_ca_has_no_problem_while_valid() {
    let pem = generated(true);
    let cert = parsed(&pem);
    assert!(cert.is_ca);
    assert_eq!(cert.key, Key::Ec { bits: 256 });
    assert!(!cert.sha1_signature);
    assert!(cert.subject.contains("policy-ca"), "{}", cert.subject);
    let verdict = judge(&CaBundle::Bytes(pem), at(cert.not_before + 365 * DAY));
    assert!(
        matches!(&verdict, CaVerdict::Certificates { problems, .. } if problems.is_empty()),
        "{verdict:?}"
    );
    assert!(!verdict.unusable());
    assert!(
        verdict.summary().contains("no problem"),
        "{}",
        verdict.summary()
    );
}

#[test]
fn expired_not_yet_valid_and_expiring_soon_follow_now() {
    let pem = generated(true);
    let cert = parsed(&pem);
    let bundle = CaBundle::Bytes(pem);
    let expired = judge(&bundle, at(cert.not_after + DAY));
    assert!(
        matches!(&expired, CaVerdict::Certificates { problems, .. } if matches!(problems[0], CaProblem::Expired { .. }))
    );
    assert!(expired.unusable());
    assert!(
        expired.summary().contains("expired at 2100-01-01"),
        "{}",
        expired.summary()
    );
    let early = judge(&bundle, at(cert.not_before - DAY));
    assert!(
        matches!(&early, CaVerdict::Certificates { problems, .. } if matches!(problems[0], CaProblem::NotYetValid { .. }))
    );
    assert!(early.unusable());
    let soon = judge(&bundle, at(cert.not_after - 10 * DAY));
    assert!(
        matches!(&soon, CaVerdict::Certificates { problems, .. } if problems == &vec![CaProblem::ExpiresSoon { subject: cert.subject.clone(), not_after: cert.not_after, days: 10 }])
    );
    assert!(!soon.unusable(), "expiring soon still verifies");
}

#[test]
fn a_rotation_bundle_with_one_expired_ca_still_verifies() {
    // Same subject for both, as when cert-manager rotates a CA.
    let old = generated_until(true, 2010);
    let mut both = old.clone();
    both.extend_from_slice(&generated_until(true, 2100));
    let expired_at = parsed(&old).not_after;
    let verdict = judge(&CaBundle::Bytes(both), at(expired_at + 365 * DAY));
    let CaVerdict::Certificates {
        certificates,
        problems,
        valid_now,
    } = &verdict
    else {
        panic!("{verdict:?}")
    };
    assert_eq!((certificates.len(), *valid_now), (2, 1));
    assert!(
        matches!(problems[..], [CaProblem::Expired { .. }]),
        "{problems:?}"
    );
    assert!(!verdict.unusable());
    assert!(
        verdict.summary().starts_with("2 certificates: "),
        "{}",
        verdict.summary()
    );
}

#[test]
fn a_leaf_in_the_bundle_is_not_a_ca() {
    let pem = generated(false);
    let cert = parsed(&pem);
    assert!(!cert.is_ca);
    let found = problems(&cert, cert.not_before + DAY);
    assert_eq!(
        found,
        vec![CaProblem::NotACa {
            subject: cert.subject.clone()
        }]
    );
}

#[test]
fn weak_rsa_and_sha1_from_openssl_fixtures() {
    // Generated once with `openssl req -x509 -newkey rsa:1024 -sha256` and
    // `-newkey rsa:2048 -sha1` (ring, under rcgen, signs neither); `now` is taken
    // from each certificate's own validity.
    let weak = parsed(include_bytes!("testdata/rsa1024-sha256.pem"));
    assert_eq!(weak.key, Key::Rsa { bits: 1024 });
    assert_eq!(
        problems(&weak, weak.not_before + DAY),
        vec![CaProblem::WeakRsaKey {
            subject: weak.subject.clone(),
            bits: 1024
        }]
    );
    let sha1 = parsed(include_bytes!("testdata/rsa2048-sha1.pem"));
    assert_eq!(sha1.key, Key::Rsa { bits: 2048 });
    assert!(sha1.sha1_signature);
    let found = problems(&sha1, sha1.not_before + DAY);
    assert_eq!(
        found,
        vec![CaProblem::Sha1Signature {
            subject: sha1.subject.clone()
        }]
    );
    assert!(!found[0].breaks_now());
    assert!(found[0].describe().contains("SHA-1"));
}

#[test]
fn empty_and_garbage_bundles() {
    let now = at(1_000_000_000);
    assert_eq!(judge(&CaBundle::Empty, now), CaVerdict::Empty);
    assert!(CaVerdict::Empty.empty_is_a_problem(true));
    assert!(
        !CaVerdict::Empty.empty_is_a_problem(false),
        "a public-CA URL webhook may rely on system roots"
    );
    assert!(!CaVerdict::Empty.unusable());
    assert!(judge(&CaBundle::NotBase64, now).unusable());
    let garbage = judge(&CaBundle::Bytes(b"hello".to_vec()), now);
    assert!(
        matches!(&garbage, CaVerdict::Unparsable { reason } if reason.contains("no PEM")),
        "{garbage:?}"
    );
    let broken = judge(
        &CaBundle::Bytes(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
        ),
        now,
    );
    assert!(broken.unusable(), "{broken:?}");
    // Other PEM blocks (a key pasted by mistake) are skipped, not fatal.
    let mut with_key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec();
    with_key.extend_from_slice(&generated(true));
    assert_eq!(certificates(&with_key).unwrap().len(), 1);
}
