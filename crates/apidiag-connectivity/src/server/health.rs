//! `/readyz?verbose` and `/livez?verbose`: which of the API server's own checks
//! fail. Slow etcd fails readiness first: `etcd-readiness` gives etcd 2 s,
//! liveness's `etcd` 15 s (kubernetes#111399), so etcd answering in 2–15 s shows
//! as `[-]etcd-readiness` with liveness passing. The root pages withhold the
//! reasons ("since this endpoint is public"); the names are enough to say where
//! to look next.

use std::time::{Duration, Instant};

use apidiag_core::check::Context;
use apidiag_core::finding::{Evidence, Severity};

use crate::rung::Rung;

/// One line of a verbose health page: `[+]ping ok`, `[-]etcd failed: reason withheld`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub name: String,
    pub passed: bool,
    /// What follows the name (`ok`, `excluded: ok`, `failed: reason withheld`).
    pub says: String,
}

/// The checks of a verbose health page, in the order the server lists them.
/// Lines that are not checks (the closing `readyz check passed`) are skipped.
pub fn parse(page: &str) -> Vec<HealthCheck> {
    page.lines()
        .filter_map(|line| {
            let (passed, rest) = if let Some(rest) = line.strip_prefix("[+]") {
                (true, rest)
            } else if let Some(rest) = line.strip_prefix("[-]") {
                (false, rest)
            } else {
                return None;
            };
            let (name, says) = rest.split_once(' ').unwrap_or((rest, ""));
            Some(HealthCheck {
                name: name.to_string(),
                passed,
                says: says.trim().to_string(),
            })
        })
        .collect()
}

/// A health page as read: status and checks, or why it could not be read.
struct Page {
    path: &'static str,
    took: Duration,
    answer: Result<(u16, Vec<HealthCheck>), String>,
}

async fn read(ctx: &Context, path: &'static str) -> Page {
    let started = Instant::now();
    let answer = match ctx.api.get_health(path).await {
        Ok(response) => Ok((
            response.status.as_u16(),
            parse(&String::from_utf8_lossy(&response.body)),
        )),
        Err(error) => Err(error.first_line()),
    };
    Page {
        path,
        took: started.elapsed(),
        answer,
    }
}

/// What a failing check's name tells an SRE to look at next.
fn meaning(name: &str, page: &str) -> &'static str {
    match name {
        "etcd-readiness" => {
            "etcd did not answer within 2 s (readiness): etcd is slow or overloaded — see `kubectl apidiag etcd`"
        }
        "etcd" if page == "livez" => {
            "etcd did not answer within 15 s: the API server will be restarted by its liveness probe"
        }
        "etcd" => "the API server cannot reach etcd",
        "shutdown" => {
            "this replica is shutting down (--shutdown-delay-duration): the load balancer should stop sending to it"
        }
        "informer-sync" => {
            "the API server's caches have not synced yet (just started, or etcd is slow)"
        }
        "log" => "the API server's logging is blocked (no flush for 2 minutes)",
        "kms-providers" | "kms-provider-0" | "kms-provider-1" => {
            "the KMS plugin that decrypts Secrets does not answer"
        }
        n if n.starts_with("poststarthook/") => {
            "a start-up step of the API server has not finished"
        }
        _ => "a check of the API server itself",
    }
}

/// The two health rungs.
pub async fn rungs(ctx: &Context) -> Vec<Rung> {
    let (ready, live) = futures::join!(read(ctx, "/readyz?verbose"), read(ctx, "/livez?verbose"));
    vec![judge(&ready, "readyz"), judge(&live, "livez")]
}

fn judge(page: &Page, name: &str) -> Rung {
    let what = format!("GET {}", page.path);
    let id = |result: &str| format!("connectivity.{name}.{result}");
    let (status, checks) = match &page.answer {
        Ok(answer) => answer,
        Err(error) => {
            return Rung::new(
                &id("unknown"),
                Severity::Info,
                &what,
                error,
                Some(page.took),
            );
        }
    };
    let failing: Vec<&HealthCheck> = checks.iter().filter(|c| !c.passed).collect();
    if *status == 200 && failing.is_empty() {
        return Rung::pass(
            &id("ok"),
            &what,
            format!("200, {} checks passed", checks.len()),
            Some(page.took),
        );
    }
    let names: Vec<&str> = failing.iter().map(|c| c.name.as_str()).collect();
    let rows = failing
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.says.clone(),
                meaning(&c.name, name).to_string(),
            ]
        })
        .collect();
    let verdict = if names.is_empty() {
        format!("{status}, no check listed as failing")
    } else {
        format!("{status}, failing: {}", names.join(", "))
    };
    Rung::new(&id("failing"), Severity::Critical, &what, verdict, Some(page.took)).with(|f| {
        f.detail(format!(
            "kubectl's own requests may still work on another replica, but a load balancer or kubelet probing /{name} takes this one out. The root page withholds reasons; `kubectl get --raw '/{name}/<check>'` shows one check's error (it needs permission on that path)."
        ))
        .evidence(Evidence::table("failing checks", &["check", "says", "what it means"], rows))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const READYZ_SLOW_ETCD: &str = "[+]ping ok\n[+]log ok\n[-]etcd-readiness failed: reason withheld\n[+]informer-sync ok\n[+]poststarthook/start-apiextensions-informers ok\n[+]shutdown ok\nreadyz check failed\n";

    #[test]
    fn verbose_pages_are_parsed_check_by_check() {
        let checks = parse(READYZ_SLOW_ETCD);
        assert_eq!(checks.len(), 6);
        assert_eq!(
            checks[2],
            HealthCheck {
                name: "etcd-readiness".into(),
                passed: false,
                says: "failed: reason withheld".into()
            }
        );
        assert!(checks.iter().filter(|c| c.passed).count() == 5);
        assert_eq!(
            parse("[+]etcd excluded: ok\nlivez check passed\n")[0].says,
            "excluded: ok"
        );
    }

    #[test]
    fn slow_etcd_is_named_as_the_reason_readyz_fails() {
        let page = Page {
            path: "/readyz?verbose",
            took: Duration::from_millis(2100),
            answer: Ok((500, parse(READYZ_SLOW_ETCD))),
        };
        let rung = judge(&page, "readyz");
        assert_eq!(rung.finding.id, "connectivity.readyz.failing");
        assert_eq!(rung.finding.severity, Severity::Critical);
        assert_eq!(
            rung.finding.title,
            "GET /readyz?verbose: 500, failing: etcd-readiness (2.1 s)"
        );
        assert!(rung.finding.evidence[0].rows[0][2].contains("kubectl apidiag etcd"));
    }

    #[test]
    fn a_passing_page_counts_its_checks() {
        let page = Page {
            path: "/livez?verbose",
            took: Duration::from_millis(3),
            answer: Ok((200, parse("[+]ping ok\n[+]etcd ok\nlivez check passed\n"))),
        };
        let rung = judge(&page, "livez");
        assert_eq!(
            rung.finding.title,
            "GET /livez?verbose: 200, 2 checks passed (3 ms)"
        );
        assert_eq!(rung.finding.severity, Severity::Ok);
    }
}
