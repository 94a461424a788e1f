//! What every lab contains besides the API server's own defaults: the permissions
//! of kube-controller-manager and of the unprivileged `lab-user`. Nothing here is a
//! fault; a lab with no scenario applied must give apidiag nothing to report.

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Role, RoleBinding};
use kube::Client;
use serde_json::json;

use crate::LabError;
use crate::pki::{CONTROLLER_MANAGER, USER};
use crate::scenario::util::{create_or_keep, from_json};

/// The namespace `lab-user` may work in.
pub const USER_NAMESPACE: &str = "team-a";

/// The ClusterRoleBinding that lets kube-controller-manager run every controller
/// under its own identity.
pub const CONTROLLER_MANAGER_BINDING: &str = "apidiag-lab:kube-controller-manager";

/// Lets kube-controller-manager run every controller as `system:kube-controller-manager`.
///
/// The bootstrap policy gives that user only what it needs to mint per-controller
/// service-account credentials; the lab runs with `--use-service-account-credentials
/// =false` (no token minting, faster start), so the user needs the controllers'
/// permissions itself. It stays in APF's `kube-controller-manager` FlowSchema
/// (workload-high), unlike a `system:masters` identity, which would be exempt.
pub async fn controller_manager(client: &Client) -> Result<(), LabError> {
    let binding: ClusterRoleBinding = from_json(json!({
        "metadata": { "name": CONTROLLER_MANAGER_BINDING },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin" },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": CONTROLLER_MANAGER.user }],
    }))?;
    create_or_keep(&kube::Api::all(client.clone()), &binding).await?;
    Ok(())
}

/// Creates `team-a` and lets `lab-user` get, list and create pods and ConfigMaps
/// there, and nothing anywhere else (so cluster-wide reads are denied).
pub async fn user(client: &Client) -> Result<(), LabError> {
    let ns: Namespace = from_json(json!({ "metadata": { "name": USER_NAMESPACE } }))?;
    create_or_keep(&kube::Api::all(client.clone()), &ns).await?;

    let role: Role = from_json(json!({
        "metadata": { "name": "lab-user", "namespace": USER_NAMESPACE },
        "rules": [{
            "apiGroups": [""],
            "resources": ["pods", "configmaps"],
            "verbs": ["get", "list", "create"],
        }],
    }))?;
    create_or_keep(
        &kube::Api::namespaced(client.clone(), USER_NAMESPACE),
        &role,
    )
    .await?;

    let binding: RoleBinding = from_json(json!({
        "metadata": { "name": "lab-user", "namespace": USER_NAMESPACE },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "lab-user" },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER.user }],
    }))?;
    create_or_keep(
        &kube::Api::namespaced(client.clone(), USER_NAMESPACE),
        &binding,
    )
    .await?;
    Ok(())
}
