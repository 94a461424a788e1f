//! Recognising an AKS API server from its host name alone (0 requests):
//! research §1.3. Public endpoints are `<prefix>-<hash>.hcp.<region>.azmk8s.io`,
//! private ones `….privatelink.<region>.azmk8s.io`; the sovereign clouds use
//! their own suffixes.

/// The DNS suffixes of AKS API servers, with the cloud each belongs to.
const SUFFIXES: &[(&str, &str)] = &[
    (".azmk8s.io", "Azure public cloud"),
    (".cx.aks.containerservice.azure.us", "Azure US Government"),
    (".cx.prod.service.azk8s.cn", "Azure China"),
];

/// An AKS API server endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AksEndpoint {
    /// A private cluster's `privatelink` name: it resolves only where the private
    /// DNS zone is linked.
    pub private: bool,
    pub cloud: &'static str,
}

impl AksEndpoint {
    /// How the report names it.
    pub fn describe(&self) -> String {
        let kind = if self.private {
            "private cluster (privatelink FQDN)"
        } else {
            "public API server endpoint"
        };
        format!("AKS {kind}, {}", self.cloud)
    }
}

/// The AKS endpoint `host` names, if it is one.
pub fn endpoint(host: &str) -> Option<AksEndpoint> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    SUFFIXES
        .iter()
        .find(|(suffix, _)| host.ends_with(suffix))
        .map(|(_, cloud)| AksEndpoint {
            private: host.contains(".privatelink."),
            cloud,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aks_hosts_are_recognised_by_suffix() {
        let public = endpoint("myaks-dns-1a2b3c4d.hcp.eastus.azmk8s.io");
        assert_eq!(
            public,
            Some(AksEndpoint {
                private: false,
                cloud: "Azure public cloud"
            })
        );
        assert_eq!(
            public.map(|e| e.describe()).as_deref(),
            Some("AKS public API server endpoint, Azure public cloud")
        );
        let private = endpoint("myaks-1a2b.0f1e2d3c-aaaa.privatelink.westeurope.azmk8s.io.");
        assert_eq!(private.map(|e| e.private), Some(true));
        assert_eq!(
            endpoint("x.hcp.usgovvirginia.cx.aks.containerservice.azure.us").map(|e| e.cloud),
            Some("Azure US Government")
        );
        assert_eq!(
            endpoint("X.HCP.CHINAEAST2.CX.PROD.SERVICE.AZK8S.CN").map(|e| e.cloud),
            Some("Azure China")
        );
        assert_eq!(endpoint("api.example.com"), None);
        assert_eq!(endpoint("azmk8s.io.example.com"), None);
    }
}
