//! The caBundle: the roots the API server verifies a webhook's serving
//! certificate with.
//!
//! Parsing (PEM → certificate facts) and judging (facts + `now` → problems) are
//! split, so every judgement is tested on plain facts and the clock is an input.
//! An empty bundle means the API server host's own trust roots: fine for a URL
//! webhook behind a public CA, never for an in-cluster Service (no public CA
//! signs `svc.ns.svc`). Go does not check a root's own signature, so a SHA-1
//! self-signed CA is weak practice rather than an outage; the serving certificate
//! it signs with SHA-1 is what Go refuses (`x509: … insecure algorithm SHA1`).

use jiff::Timestamp;
use x509_parser::pem::Pem;
use x509_parser::public_key::PublicKey;

use crate::configuration::CaBundle;

/// A certificate expiring within this many days is reported before it breaks.
pub const EXPIRY_WARNING_DAYS: i64 = 30;
/// RSA keys below this are refused by current TLS stacks and policies.
pub const MIN_RSA_BITS: usize = 2048;

const SHA1_SIGNATURES: &[&str] = &[
    "1.2.840.113549.1.1.5", // sha1WithRSAEncryption
    "1.2.840.10045.4.1",    // ecdsa-with-SHA1
    "1.2.840.10040.4.3",    // dsa-with-sha1
];

/// The public key of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Rsa { bits: usize },
    Ec { bits: usize },
    Other,
}

/// What the judgement needs of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub subject: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// basicConstraints CA:TRUE.
    pub is_ca: bool,
    pub key: Key,
    pub sha1_signature: bool,
}

/// One thing wrong with a certificate of the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaProblem {
    Expired {
        subject: String,
        not_after: i64,
    },
    NotYetValid {
        subject: String,
        not_before: i64,
    },
    ExpiresSoon {
        subject: String,
        not_after: i64,
        days: i64,
    },
    WeakRsaKey {
        subject: String,
        bits: usize,
    },
    Sha1Signature {
        subject: String,
    },
    /// A leaf in the bundle: only works if it is the serving certificate itself.
    NotACa {
        subject: String,
    },
}

impl CaProblem {
    /// Whether it breaks verification now (rather than soon, or as a weakness).
    pub fn breaks_now(&self) -> bool {
        matches!(
            self,
            CaProblem::Expired { .. } | CaProblem::NotYetValid { .. }
        )
    }

    pub fn describe(&self) -> String {
        match self {
            CaProblem::Expired { subject, not_after } => {
                format!("{subject} expired at {}", time(*not_after))
            }
            CaProblem::NotYetValid {
                subject,
                not_before,
            } => {
                format!("{subject} is not valid before {}", time(*not_before))
            }
            CaProblem::ExpiresSoon {
                subject,
                not_after,
                days,
            } => {
                format!("{subject} expires in {days} days ({})", time(*not_after))
            }
            CaProblem::WeakRsaKey { subject, bits } => {
                format!("{subject} has a {bits}-bit RSA key (below {MIN_RSA_BITS})")
            }
            CaProblem::Sha1Signature { subject } => format!("{subject} is signed with SHA-1"),
            CaProblem::NotACa { subject } => {
                format!("{subject} is not a CA (no basicConstraints CA:TRUE)")
            }
        }
    }
}

fn time(seconds: i64) -> String {
    Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| seconds.to_string())
}

/// The verdict on a webhook's caBundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaVerdict {
    /// No bundle: the API server's system roots apply.
    Empty,
    /// Not base64, or no certificate could be parsed from it.
    Unparsable { reason: String },
    /// Parsed; `problems` may be empty.
    Certificates {
        certificates: Vec<Certificate>,
        problems: Vec<CaProblem>,
        /// Certificates inside their validity now (a rotation bundle may hold an
        /// expired CA next to its successor, often with the same subject).
        valid_now: usize,
    },
}

impl CaVerdict {
    /// Whether no certificate of the bundle can verify anything now: every one is
    /// expired or not yet valid, or nothing parsed. An empty bundle is judged by
    /// [`CaVerdict::empty_is_a_problem`] instead.
    pub fn unusable(&self) -> bool {
        match self {
            CaVerdict::Empty => false,
            CaVerdict::Unparsable { .. } => true,
            CaVerdict::Certificates { valid_now, .. } => *valid_now == 0,
        }
    }

    /// An empty bundle on a service webhook: the system roots cannot have signed
    /// an in-cluster name, so every call fails with `x509: … unknown authority`.
    pub fn empty_is_a_problem(&self, service_backed: bool) -> bool {
        matches!(self, CaVerdict::Empty) && service_backed
    }

    /// One line for evidence.
    pub fn summary(&self) -> String {
        match self {
            CaVerdict::Empty => "empty: the API server's own trust roots verify the webhook (only a public CA works)".into(),
            CaVerdict::Unparsable { reason } => format!("unparsable: {reason}"),
            CaVerdict::Certificates {
                certificates,
                problems,
                ..
            } => {
                let first = certificates.first().map(|c| format!("{}, valid until {}", c.subject, time(c.not_after))).unwrap_or_default();
                let count = match certificates.len() {
                    1 => "1 certificate".to_string(),
                    n => format!("{n} certificates"),
                };
                if problems.is_empty() {
                    format!("{count} ({first}), no problem found")
                } else {
                    let list: Vec<String> = problems.iter().map(CaProblem::describe).collect();
                    format!("{count}: {}", list.join("; "))
                }
            }
        }
    }
}

/// Judges a caBundle at `now`.
pub fn judge(bundle: &CaBundle, now: Timestamp) -> CaVerdict {
    match bundle {
        CaBundle::Empty => CaVerdict::Empty,
        CaBundle::NotBase64 => CaVerdict::Unparsable {
            reason: "caBundle is not base64".into(),
        },
        CaBundle::Bytes(bytes) => match certificates(bytes) {
            Err(reason) => CaVerdict::Unparsable { reason },
            Ok(certificates) => {
                let now = now.as_second();
                let problems = certificates.iter().flat_map(|c| problems(c, now)).collect();
                let valid_now = certificates
                    .iter()
                    .filter(|c| c.not_before <= now && now <= c.not_after)
                    .count();
                CaVerdict::Certificates {
                    certificates,
                    problems,
                    valid_now,
                }
            }
        },
    }
}

/// The problems of one certificate at `now` (Unix seconds).
pub fn problems(cert: &Certificate, now: i64) -> Vec<CaProblem> {
    let subject = cert.subject.clone();
    let mut found = Vec::new();
    if now > cert.not_after {
        found.push(CaProblem::Expired {
            subject: subject.clone(),
            not_after: cert.not_after,
        });
    } else if now < cert.not_before {
        found.push(CaProblem::NotYetValid {
            subject: subject.clone(),
            not_before: cert.not_before,
        });
    } else {
        let days = (cert.not_after - now) / 86_400;
        if days < EXPIRY_WARNING_DAYS {
            found.push(CaProblem::ExpiresSoon {
                subject: subject.clone(),
                not_after: cert.not_after,
                days,
            });
        }
    }
    if let Key::Rsa { bits } = cert.key
        && bits < MIN_RSA_BITS
    {
        found.push(CaProblem::WeakRsaKey {
            subject: subject.clone(),
            bits,
        });
    }
    if cert.sha1_signature {
        found.push(CaProblem::Sha1Signature {
            subject: subject.clone(),
        });
    }
    if !cert.is_ca {
        found.push(CaProblem::NotACa { subject });
    }
    found
}

/// The certificates of a PEM bundle (DER accepted too, for hand-made fixtures).
pub fn certificates(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    let mut found = Vec::new();
    for block in Pem::iter_from_buffer(bytes) {
        let block = block.map_err(|e| format!("bad PEM block: {e}"))?;
        if block.label != "CERTIFICATE" {
            continue;
        }
        let cert = block
            .parse_x509()
            .map_err(|e| format!("bad certificate: {e}"))?;
        found.push(facts(&cert));
    }
    if found.is_empty() {
        match x509_parser::parse_x509_certificate(bytes) {
            Ok((_, cert)) => found.push(facts(&cert)),
            Err(_) => return Err("no PEM CERTIFICATE block".into()),
        }
    }
    Ok(found)
}

fn facts(cert: &x509_parser::certificate::X509Certificate<'_>) -> Certificate {
    let validity = cert.validity();
    let key = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => Key::Rsa {
            bits: rsa.key_size(),
        },
        Ok(PublicKey::EC(ec)) => Key::Ec {
            bits: ec.key_size(),
        },
        _ => Key::Other,
    };
    let subject = cert.subject().to_string();
    Certificate {
        subject: if subject.is_empty() {
            "(no subject)".into()
        } else {
            subject
        },
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        is_ca: cert.is_ca(),
        key,
        sha1_signature: SHA1_SIGNATURES
            .contains(&cert.signature_algorithm.algorithm.to_id_string().as_str()),
    }
}

#[cfg(test)]
mod tests;
