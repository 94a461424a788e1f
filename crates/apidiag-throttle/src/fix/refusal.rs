//! When apidiag will not write a throttle, and what to do instead.
//!
//! Some identities must never be throttled: a throttled kubelet misses its
//! heartbeats and its node turns NotReady; a throttled controller manager,
//! scheduler or API server loopback client slows the whole control plane; a
//! throttled kube-proxy (user `system:kube-proxy`, as kubeadm's kubeconfig and
//! several distributions run it) delays Service routing on every node, so it is
//! refused too. Groups that cover everybody (`system:authenticated`,
//! `system:unauthenticated`, `system:serviceaccounts`, `*`) and the user `*` would
//! throttle the cluster instead of a client. `system:masters` is exempt by the
//! mandatory FlowSchema at precedence 1, which nothing may precede.
//!
//! Service accounts of kube-system are allowed: many add-ons run as one and the
//! guide's Solution 5b fails for exactly those (its default precedence 1000 comes
//! after `kube-system-service-accounts` at 900). The plan puts them at 899.

use super::spec::Subject;

/// Why no throttle was planned. Each message says what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "no subject to throttle: name the offending user or service account (e.g. --service-account NAMESPACE/NAME)"
    )]
    NoSubjects,
    #[error(
        "no calls to throttle: give the verbs and resources the client overuses (e.g. list pods), from `kubectl apidiag throttle --audit-log`"
    )]
    NoRules,
    #[error(
        "resource rule {index} has no {field}: every rule needs verbs, apiGroups and resources, and namespaces or clusterScope"
    )]
    EmptyRule { index: usize, field: &'static str },
    #[error("a target of 0 seats would stop every matching call: give at least 1 seat")]
    ZeroSeats,
    #[error(
        "a target of {target} seats is not below the server's {server} seats, so nothing would be throttled: give a smaller target"
    )]
    TargetTooLarge { target: u32, server: u64 },
    #[error(
        "refusing to throttle {subject}: {why}; throttle the offending client's own user or service account instead"
    )]
    ProtectedSubject { subject: String, why: &'static str },
    #[error(
        "{sample} lands today in FlowSchema {flow_schema} (precedence {precedence}), which no FlowSchema may precede: precedence 1 and 2 hold system:masters and the health probes. Give the client an identity of its own (not a system:masters credential) and throttle that"
    )]
    Exempt {
        sample: String,
        flow_schema: String,
        precedence: i64,
    },
    #[error(
        "{sample} matches no FlowSchema, so the list is incomplete (the mandatory catch-all matches every request): list the FlowSchemas again"
    )]
    Unmatched { sample: String },
    #[error(
        "no PriorityLevelConfiguration was given, so the seats cannot be computed: list them with the FlowSchemas"
    )]
    NoPriorityLevels,
    #[error(
        "{kind} {name} exists and apidiag did not create it (no label apidiag.io/generated=true): rename or delete it, apidiag will not overwrite it"
    )]
    NotGenerated { kind: &'static str, name: String },
    #[error(
        "{kind} {name} is a suggested or mandatory APF object (annotation apf.kubernetes.io/autoupdate-spec), which the API server maintains: apidiag never changes it"
    )]
    Bootstrap { kind: &'static str, name: String },
    #[error(
        "no FlowSchema or PriorityLevelConfiguration carries the label apidiag.io/generated=true: there is no apidiag throttle to remove"
    )]
    NothingToRemove,
}

/// Refuses subjects that must never be throttled.
pub(crate) fn check_subject(subject: &Subject) -> Result<(), Refusal> {
    let why = match subject {
        Subject::User(name) => match name.as_str() {
            "*" => Some("it is every user"),
            n if n.starts_with("system:node:") => Some(
                "it is a node's kubelet: throttled heartbeats and status updates turn the node NotReady",
            ),
            "system:kube-controller-manager" | "system:kube-scheduler" => {
                Some("it is a control-plane component: every workload depends on it")
            }
            "system:apiserver" => Some("it is the API server's own loopback client"),
            "system:kube-proxy" => {
                Some("it is kube-proxy, which programs Service routing on every node")
            }
            _ => None,
        },
        Subject::Group(name) => match name.as_str() {
            "*" | "system:authenticated" | "system:unauthenticated" => {
                Some("the group covers every client")
            }
            "system:serviceaccounts" => Some("the group covers every service account"),
            "system:nodes" => Some(
                "it is the nodes' group: throttled kubelets miss heartbeats and nodes turn NotReady",
            ),
            "system:masters" => Some(
                "the group is exempt from APF by the mandatory FlowSchema exempt (precedence 1), which nothing may precede",
            ),
            _ => None,
        },
        Subject::ServiceAccount { .. } => None,
    };
    match why {
        Some(why) => Err(Refusal::ProtectedSubject {
            subject: subject.describe(),
            why,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_subjects_are_refused() {
        for subject in [
            Subject::User("*".into()),
            Subject::User("system:node:aks-nodepool1-0".into()),
            Subject::User("system:kube-controller-manager".into()),
            Subject::User("system:kube-scheduler".into()),
            Subject::User("system:apiserver".into()),
            Subject::User("system:kube-proxy".into()),
            Subject::Group("*".into()),
            Subject::Group("system:authenticated".into()),
            Subject::Group("system:unauthenticated".into()),
            Subject::Group("system:serviceaccounts".into()),
            Subject::Group("system:nodes".into()),
            Subject::Group("system:masters".into()),
        ] {
            let err = check_subject(&subject).expect_err("refused");
            assert!(err.to_string().contains("instead"), "{err}");
        }
    }

    #[test]
    fn ordinary_subjects_pass() {
        for subject in [
            Subject::User("alice".into()),
            Subject::User("system:anonymous".into()),
            Subject::Group("team-a".into()),
            Subject::Group("system:serviceaccounts:team-a".into()),
            Subject::ServiceAccount {
                namespace: "kube-system".into(),
                name: "metrics-server".into(),
            },
        ] {
            assert_eq!(check_subject(&subject), Ok(()));
        }
    }
}
