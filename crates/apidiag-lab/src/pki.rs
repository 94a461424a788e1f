//! The lab's certificates and keys, generated fresh for every lab.
//!
//! The API server authenticates every identity the lab uses with client
//! certificates, as a kubeadm cluster does: the admin (group `system:masters`), an
//! unprivileged user, a flooder with its own group (so APF can single it out) and
//! kube-controller-manager. The aggregation layer needs its own front-proxy CA and
//! client certificate, and service accounts need a signing key. ECDSA P-256 keeps
//! generation in the milliseconds.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use crate::LabError;

/// Names the serving certificate is valid for: loopback, plus the in-cluster names
/// and the first service IP of `10.0.0.0/16`, as on a real control plane.
pub const SERVING_SANS: &[&str] = &[
    "127.0.0.1",
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "10.0.0.1",
];

/// An identity the API server learns from a client certificate: CN is the user
/// name, each O a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The user name (certificate CN).
    pub user: &'static str,
    /// The groups (certificate O fields).
    pub groups: &'static [&'static str],
}

/// Cluster admin: `system:masters` bypasses RBAC and is exempt from APF.
pub const ADMIN: Identity = Identity {
    user: "lab-admin",
    groups: &["system:masters"],
};

/// An unprivileged user, allowed a few things in namespace `team-a` only.
pub const USER: Identity = Identity {
    user: "lab-user",
    groups: &[],
};

/// The offending client of the `flood` scenario.
pub const FLOODER: Identity = Identity {
    user: "flooder",
    groups: &["lab:flooders"],
};

/// kube-controller-manager's built-in identity, which RBAC's bootstrap policy knows.
pub const CONTROLLER_MANAGER: Identity = Identity {
    user: "system:kube-controller-manager",
    groups: &[],
};

/// The front-proxy client the aggregator presents to extension API servers; its CN
/// must be in `--requestheader-allowed-names`.
pub const FRONT_PROXY_CLIENT: &str = "front-proxy-client";

/// A PEM certificate and its PEM (PKCS#8) private key.
#[derive(Debug, Clone)]
pub struct CertKey {
    /// The certificate.
    pub cert_pem: String,
    /// The private key.
    pub key_pem: String,
}

/// A certificate authority that can issue leaf certificates.
pub struct Authority {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate and key.
    pub pair: CertKey,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

impl Authority {
    /// A new self-signed CA.
    pub fn new(common_name: &str) -> Result<Authority, LabError> {
        let key = KeyPair::generate()?;
        let mut params = base_params(common_name, &[])?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key)?;
        let pair = CertKey {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        };
        Ok(Authority {
            issuer: Issuer::new(params, key),
            pair,
        })
    }

    /// A client certificate for `identity`.
    pub fn client(&self, identity: Identity) -> Result<CertKey, LabError> {
        let mut params = base_params(identity.user, identity.groups)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    /// A client certificate with a plain common name and no groups.
    pub fn client_named(&self, common_name: &str) -> Result<CertKey, LabError> {
        let mut params = base_params(common_name, &[])?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    /// A serving certificate for `sans` (IP addresses and DNS names).
    pub fn server(&self, common_name: &str, sans: &[&str]) -> Result<CertKey, LabError> {
        let mut params = base_params(common_name, &[])?;
        params.subject_alt_names =
            CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())?
                .subject_alt_names;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    fn sign(&self, mut params: CertificateParams) -> Result<CertKey, LabError> {
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(CertKey {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Valid from last year for ten years: no clock-skew surprises, and expiry metrics
/// look like a real cluster's rather than a year-4096 oddity.
fn base_params(common_name: &str, orgs: &[&str]) -> Result<CertificateParams, LabError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    for org in orgs {
        dn.push(DnType::OrganizationName, *org);
    }
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    let year = i32::from(jiff::Zoned::now().year());
    params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + 10, 1, 1);
    Ok(params)
}

/// Every certificate and key one lab needs.
#[derive(Debug)]
pub struct Pki {
    /// The cluster CA: signs the serving and all client certificates.
    pub ca: Authority,
    /// The API server's serving certificate ([`SERVING_SANS`]).
    pub serving: CertKey,
    /// The aggregation layer's CA (`--requestheader-client-ca-file`).
    pub front_proxy_ca: Authority,
    /// The aggregator's client certificate (`--proxy-client-cert-file`).
    pub front_proxy_client: CertKey,
    /// [`ADMIN`].
    pub admin: CertKey,
    /// [`USER`].
    pub user: CertKey,
    /// [`FLOODER`].
    pub flooder: CertKey,
    /// [`CONTROLLER_MANAGER`].
    pub controller_manager: CertKey,
    /// The service-account token signing key (private PKCS#8 PEM).
    pub service_account_key_pem: String,
    /// Its public half (PKIX PEM), which the API server verifies tokens with.
    pub service_account_pub_pem: String,
}

/// Where [`Pki::write`] put the files the components read.
#[derive(Debug, Clone)]
pub struct PkiFiles {
    /// `ca.crt`.
    pub ca_cert: PathBuf,
    /// `ca.key` (kube-controller-manager signs CSRs with it).
    pub ca_key: PathBuf,
    /// `apiserver.crt`.
    pub serving_cert: PathBuf,
    /// `apiserver.key`.
    pub serving_key: PathBuf,
    /// `front-proxy-ca.crt`.
    pub front_proxy_ca_cert: PathBuf,
    /// `front-proxy-client.crt`.
    pub front_proxy_client_cert: PathBuf,
    /// `front-proxy-client.key`.
    pub front_proxy_client_key: PathBuf,
    /// `sa.key`.
    pub service_account_key: PathBuf,
    /// `sa.pub`.
    pub service_account_pub: PathBuf,
}

impl Pki {
    /// Generates a fresh PKI (a few milliseconds).
    pub fn generate() -> Result<Pki, LabError> {
        let ca = Authority::new("apidiag-lab-ca")?;
        let front_proxy_ca = Authority::new("apidiag-lab-front-proxy-ca")?;
        let sa = KeyPair::generate()?;
        Ok(Pki {
            serving: ca.server("kube-apiserver", SERVING_SANS)?,
            front_proxy_client: front_proxy_ca.client_named(FRONT_PROXY_CLIENT)?,
            admin: ca.client(ADMIN)?,
            user: ca.client(USER)?,
            flooder: ca.client(FLOODER)?,
            controller_manager: ca.client(CONTROLLER_MANAGER)?,
            service_account_key_pem: sa.serialize_pem(),
            service_account_pub_pem: sa.public_key_pem(),
            ca,
            front_proxy_ca,
        })
    }

    /// Writes the files the components take as flags into `dir` (keys owner-only).
    pub fn write(&self, dir: &Path) -> Result<PkiFiles, LabError> {
        std::fs::create_dir_all(dir)
            .map_err(LabError::io(format!("creating {}", dir.display())))?;
        let files = PkiFiles {
            ca_cert: dir.join("ca.crt"),
            ca_key: dir.join("ca.key"),
            serving_cert: dir.join("apiserver.crt"),
            serving_key: dir.join("apiserver.key"),
            front_proxy_ca_cert: dir.join("front-proxy-ca.crt"),
            front_proxy_client_cert: dir.join("front-proxy-client.crt"),
            front_proxy_client_key: dir.join("front-proxy-client.key"),
            service_account_key: dir.join("sa.key"),
            service_account_pub: dir.join("sa.pub"),
        };
        write_file(&files.ca_cert, &self.ca.pair.cert_pem, false)?;
        write_file(&files.ca_key, &self.ca.pair.key_pem, true)?;
        write_file(&files.serving_cert, &self.serving.cert_pem, false)?;
        write_file(&files.serving_key, &self.serving.key_pem, true)?;
        write_file(
            &files.front_proxy_ca_cert,
            &self.front_proxy_ca.pair.cert_pem,
            false,
        )?;
        write_file(
            &files.front_proxy_client_cert,
            &self.front_proxy_client.cert_pem,
            false,
        )?;
        write_file(
            &files.front_proxy_client_key,
            &self.front_proxy_client.key_pem,
            true,
        )?;
        write_file(
            &files.service_account_key,
            &self.service_account_key_pem,
            true,
        )?;
        write_file(
            &files.service_account_pub,
            &self.service_account_pub_pem,
            false,
        )?;
        Ok(files)
    }
}

/// Writes `contents` to `path`; secrets are created owner-only from the start.
pub(crate) fn write_file(path: &Path, contents: &str, secret: bool) -> Result<(), LabError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(path)
        .map_err(LabError::io(format!("writing {}", path.display())))?;
    file.write_all(contents.as_bytes())
        .map_err(LabError::io(format!("writing {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generates_distinct_pem_material() {
        let pki = Pki::generate().unwrap();
        let pairs = [
            &pki.ca.pair,
            &pki.serving,
            &pki.front_proxy_ca.pair,
            &pki.front_proxy_client,
            &pki.admin,
            &pki.user,
            &pki.flooder,
            &pki.controller_manager,
        ];
        for pair in pairs {
            assert!(pair.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
            assert!(pair.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        }
        let mut keys: Vec<&str> = pairs.iter().map(|p| p.key_pem.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), pairs.len(), "every certificate has its own key");
        assert!(
            pki.service_account_pub_pem
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
    }

    #[test]
    fn serving_sans_cover_loopback_and_in_cluster_names() {
        for name in [
            "127.0.0.1",
            "localhost",
            "kubernetes.default.svc",
            "10.0.0.1",
        ] {
            assert!(SERVING_SANS.contains(&name), "{name}");
        }
        // rcgen accepts every entry (IPs become IP SANs, the rest DNS SANs).
        let ca = Authority::new("test-ca").unwrap();
        ca.server("kube-apiserver", SERVING_SANS).unwrap();
    }

    #[test]
    fn writes_keys_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let files = Pki::generate().unwrap().write(dir.path()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&files.ca_key), 0o600);
        assert_eq!(mode(&files.service_account_key), 0o600);
        assert_eq!(mode(&files.ca_cert), 0o644);
        let ca = std::fs::read_to_string(&files.ca_cert).unwrap();
        assert!(ca.contains("BEGIN CERTIFICATE"));
    }
}
