//! Creates, patches and deletes: the only requests that change a cluster, and
//! the only ones that need a [`WriteMode`]: a server dry run, or proof that the
//! change is backed up ([`crate::backup::Committed`]).

use http::Method;

use super::{ApiClient, ApiError, decode, encode_error, with_query};
use crate::backup::Committed;

/// How a create, patch or delete is sent.
#[derive(Debug, Clone, Copy)]
pub enum WriteMode<'a> {
    /// `dryRun=All`: validated and admitted, never stored. Needs no backup, so a
    /// fix can ask the server before it asks the user.
    DryRun,
    /// For real, under a bundle this run committed.
    Backed(&'a Committed),
}

impl WriteMode<'_> {
    pub fn is_dry_run(self) -> bool {
        matches!(self, WriteMode::DryRun)
    }
}

impl ApiClient {
    /// POST an object. `dry_run` asks the server to validate and admit it without storing it.
    pub async fn create(
        &self,
        path: &str,
        object: &serde_json::Value,
        mode: WriteMode<'_>,
    ) -> Result<serde_json::Value, ApiError> {
        let dry_run = mode.is_dry_run();
        let url = dry_run_url(path, dry_run);
        let body = serde_json::to_vec(object).map_err(|e| encode_error(path, e))?;
        let response = self
            .execute(Method::POST, &url, Some((body, "application/json")), None)
            .await?;
        decode(path, &response.body)
    }

    /// Applies a JSON merge patch (RFC 7386). Put `metadata.resourceVersion` in the
    /// patch to make it conditional: the server answers 409 if the object changed.
    pub async fn merge_patch(
        &self,
        path: &str,
        patch: &serde_json::Value,
        mode: WriteMode<'_>,
    ) -> Result<serde_json::Value, ApiError> {
        let dry_run = mode.is_dry_run();
        let url = dry_run_url(path, dry_run);
        let body = serde_json::to_vec(patch).map_err(|e| encode_error(path, e))?;
        let response = self
            .execute(
                Method::PATCH,
                &url,
                Some((body, "application/merge-patch+json")),
                None,
            )
            .await?;
        decode(path, &response.body)
    }

    /// DELETE with `DeleteOptions` (preconditions, propagation policy).
    ///
    /// When a DELETE has a body, kube-apiserver reads its options from the body alone
    /// and ignores the `dryRun` query parameter, so a dry run must say so in the body:
    /// with the parameter only, a "dry run" deletes for real.
    pub async fn delete(
        &self,
        path: &str,
        options: &serde_json::Value,
        mode: WriteMode<'_>,
    ) -> Result<(), ApiError> {
        let dry_run = mode.is_dry_run();
        let url = dry_run_url(path, dry_run);
        let mut options = options.clone();
        if dry_run && let Some(map) = options.as_object_mut() {
            map.insert("dryRun".into(), serde_json::json!(["All"]));
        }
        let body = serde_json::to_vec(&options).map_err(|e| encode_error(path, e))?;
        self.execute(Method::DELETE, &url, Some((body, "application/json")), None)
            .await?;
        Ok(())
    }
}

fn dry_run_url(path: &str, dry_run: bool) -> String {
    if dry_run {
        with_query(path, &[("dryRun", "All".to_string())])
    } else {
        path.to_string()
    }
}
