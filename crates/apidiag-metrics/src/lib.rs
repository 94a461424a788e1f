//! Reading kube-apiserver's `/metrics` for diagnosis.
//!
//! A crate of its own with no kube, tokio or network dependency: text in, typed
//! values out, so the parser can be fuzzed and benchmarked alone and every check
//! reads the same names the same way.
//!
//! Two layers, kept apart because they change for different reasons:
//! [`exposition`] parses the Prometheus text format into families and
//! samples and answers generic queries (sums, group-bys, histogram
//! quantiles); it knows nothing about Kubernetes beyond the stability notes
//! in HELP text. [`names`] knows which metric names each Kubernetes version
//! serves for the things apidiag measures (etcd size, object counts, API
//! Priority and Fairness, watches) and always reports which name it found,
//! so a check works across versions and can explain what it looked for.

pub mod exposition;
#[doc(hidden)]
pub mod fuzzing;
pub mod load;
pub mod names;
pub mod window;

#[cfg(test)]
mod fixtures;

pub use exposition::{
    Bucket, Histogram, MetricFamilies, MetricFamily, MetricType, Sample, Stability,
};
pub use names::{
    DbSize, DbSizeSample, Expected, Found, PriorityLevelLoad, Quantity, RejectReason, Rejected,
    ResourceCount, ResourceSize, Serving, WatchCount, WatchTarget, candidates, db_size,
    expected_for_version, expected_names, long_running_watches, lookup_summary, minor_version,
    object_counts, object_size_estimates, priority_levels, rejected_requests,
};
pub use window::{PROCESS_START_TIME_SECONDS, Window, WindowError};
