//! `kubectl apidiag webhooks`: the admission webhook that blocks the cluster.
//!
//! Guide: "Troubleshoot API server and etcd problems in AKS", Cause 2 ("A custom
//! webhook causes a deadlock in API server pods") and Solution 2 ("Delete webhook
//! configurations"). A fail-closed webhook whose backend is down rejects every
//! request it intercepts with HTTP 500; when it intercepts the pods that would
//! bring its own backend (or konnectivity, or kube-system) back, the cluster cannot
//! heal itself.
//!
//! The engine here is pure: it judges the webhook configurations, Services,
//! EndpointSlices, Pods, Events and metrics as the server returned them
//! (`serde_json::Value`), with no client and no network, so every rule is unit
//! tested. [`configuration`] parses the webhooks ([`owner`]: who will undo a
//! fix), [`selector`] and [`intercepts`]
//! answer "does it intercept this request?", [`ca`] judges the caBundle,
//! [`backend`] the Service behind it, [`budget`] the chained timeouts, [`errors`]
//! classifies failure messages, [`verdicts`] turns it all into findings, and
//! [`fixes`] plans the smallest safe change first.

pub mod backend;
pub mod budget;
pub mod ca;
pub mod configuration;
pub mod errors;
pub mod fixes;
pub mod intercepts;
pub mod owner;
pub mod selector;
pub mod verdicts;
