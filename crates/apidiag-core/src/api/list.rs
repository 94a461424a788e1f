//! LISTs: paginated, metadata-only where bodies are not needed, restarted when
//! a continue token expires.

use http::Method;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{ACCEPT_METADATA_LIST, ApiClient, ApiError, decode, with_query};

impl ApiClient {
    /// Lists a collection page by page, handing each page to `on_page` so memory is
    /// bounded by the page size, not the cluster size. On a 410 Gone (the continue
    /// token expired) it calls `on_page(ListPage::Restart)` and lists again from the
    /// start, at most three times.
    pub async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &ListQuery,
        mut on_page: impl FnMut(ListPage<T>),
    ) -> Result<ListSummary, ApiError> {
        let mut restarts = 0;
        'listing: loop {
            let mut continue_token: Option<String> = None;
            let mut summary = ListSummary::default();
            loop {
                let page = match self
                    .list_page::<T>(path, query, continue_token.as_deref())
                    .await
                {
                    Ok(page) => page,
                    Err(ApiError::Gone { .. }) if continue_token.is_some() && restarts < 3 => {
                        restarts += 1;
                        on_page(ListPage::Restart);
                        continue 'listing;
                    }
                    Err(other) => return Err(other),
                };
                summary.pages += 1;
                summary.items += page.items.len() as u64;
                summary.resource_version = page.resource_version;
                continue_token = page.continue_token;
                on_page(ListPage::Items(page.items));
                if continue_token.is_none() {
                    summary.restarts = restarts;
                    return Ok(summary);
                }
            }
        }
    }

    /// One page of a LIST, for callers that must do async work between pages (a
    /// bulk fix backs a page up before it acts on it). A 410 Gone on a continued
    /// listing is returned as [`ApiError::Gone`]: start again without a token.
    pub async fn list_page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &ListQuery,
        continue_token: Option<&str>,
    ) -> Result<OnePage<T>, ApiError> {
        let mut params: Vec<(&str, String)> = vec![("limit", self.inner.page_size.to_string())];
        if let Some(selector) = &query.label_selector {
            params.push(("labelSelector", selector.clone()));
        }
        if let Some(selector) = &query.field_selector {
            params.push(("fieldSelector", selector.clone()));
        }
        // A continued page carries its snapshot in the token; the server refuses a
        // resourceVersion next to it.
        if query.cached && continue_token.is_none() {
            params.push(("resourceVersion", "0".to_string()));
        }
        if let Some(token) = continue_token {
            params.push(("continue", token.to_string()));
        }
        let url = with_query(path, &params);
        let accept = query.metadata_only.then_some(ACCEPT_METADATA_LIST);
        let response = self.execute(Method::GET, &url, None, accept).await?;
        let page: Page<T> = decode(&url, &response.body)?;
        Ok(OnePage {
            items: page.items,
            continue_token: page.metadata.continue_.filter(|t| !t.is_empty()),
            resource_version: page.metadata.resource_version,
            remaining_item_count: page.metadata.remaining_item_count,
        })
    }

    /// Lists a collection into memory. Only for collections known to be small.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &ListQuery,
    ) -> Result<Vec<T>, ApiError> {
        let mut all = Vec::new();
        self.list(path, query, |page| match page {
            ListPage::Items(items) => all.extend(items),
            ListPage::Restart => all.clear(),
        })
        .await?;
        Ok(all)
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// Ask for `PartialObjectMetadataList`: names, labels, owners and times, no bodies.
    pub metadata_only: bool,
    /// Accept the API server's watch cache (`resourceVersion=0`) instead of a quorum
    /// read from etcd. Cheaper for the server, possibly a moment stale. Servers before
    /// 1.34 answer a cached LIST in one piece whatever the `limit`, so use it only for
    /// collections known to be small.
    pub cached: bool,
}

impl ListQuery {
    pub fn metadata() -> Self {
        ListQuery {
            metadata_only: true,
            ..Default::default()
        }
    }
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = Some(selector.into());
        self
    }
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = Some(selector.into());
        self
    }
    pub fn cached(mut self) -> Self {
        self.cached = true;
        self
    }
}

/// One step of a paginated listing.
pub enum ListPage<T> {
    Items(Vec<T>),
    /// The listing starts again from the beginning: forget what was seen.
    Restart,
}

/// One page of a listing.
#[derive(Debug)]
pub struct OnePage<T> {
    pub items: Vec<T>,
    /// The token for the next page; `None` on the last page.
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    /// How many objects follow this page; the server only says so for listings
    /// without selectors.
    pub remaining_item_count: Option<i64>,
}

/// What a listing took.
#[derive(Debug, Clone, Default)]
pub struct ListSummary {
    pub pages: u64,
    pub items: u64,
    pub restarts: u32,
    pub resource_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub(super) struct Page<T> {
    #[serde(default)]
    metadata: ListMeta,
    /// An empty `PartialObjectMetadataList` comes as `"items": null` (a Go nil
    /// slice), not `[]`.
    #[serde(default = "Vec::new", deserialize_with = "null_as_empty")]
    items: Vec<T>,
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// An item of a metadata-only list.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialObjectMetadata {
    #[serde(default)]
    pub metadata: ObjectMeta,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_metadata_list_has_null_items() {
        // Regression: kube-apiserver 1.37 answers an empty PartialObjectMetadataList
        // with `"items":null`, which failed to decode.
        let page: Page<PartialObjectMetadata> = decode(
            "/api/v1/pods",
            br#"{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"7"},"items":null}"#,
        )
        .unwrap();
        assert!(page.items.is_empty());
        let page: Page<PartialObjectMetadata> = decode("/x", br#"{"metadata":{}}"#).unwrap();
        assert!(page.items.is_empty());
    }
}
