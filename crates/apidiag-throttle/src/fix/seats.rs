//! From a target in seats to concurrency shares, and back.
//!
//! Shares are not concurrent calls: a level's nominal limit is
//! `ceil(ServerCL × shares / Σ shares)` seats (`apf_controller.go`), where ServerCL is
//! `--max-requests-inflight` + `--max-mutating-requests-inflight` (600 by default)
//! and the sum runs over every level, the exempt one included (its shares default
//! to 0). Adding a level of N shares therefore gives it `ceil(ServerCL × N / (S + N))`
//! seats and shrinks every other level by `S / (S + N)`. For a target of C seats,
//! N = `ceil(C × S / (ServerCL − C))`: the smallest N whose exact share of the
//! server, before the server's ceil, is C seats or more. The ceil may then grant a
//! seat or two more than asked, never fewer.

use serde_json::Value;

use apidiag_core::flowcontrol::FlowControlApi;

use super::matching::name;

/// ServerCL when the caller could not read `apiserver_flowcontrol_nominal_limit_seats`.
pub const DEFAULT_SERVER_SEATS: u64 = 600;

/// A limited level's shares when the field is unset (v1 defaulting).
pub const DEFAULT_LIMITED_SHARES: u64 = 30;

/// Σ shares of the levels, leaving out `except` (the level being replaced by a rerun).
/// Limited levels count their versioned shares field (30 when unset), exempt levels
/// `exempt.nominalConcurrencyShares` (0 when unset or before 1.28).
pub fn total_shares(levels: &[Value], api: &FlowControlApi, except: &str) -> u64 {
    levels
        .iter()
        .filter(|level| name(level) != except)
        .map(|level| {
            let spec = &level["spec"];
            let shares = match spec["type"].as_str() {
                Some("Exempt") => spec["exempt"]["nominalConcurrencyShares"].as_i64(),
                _ => Some(
                    spec["limited"][api.shares_field()]
                        .as_i64()
                        .unwrap_or(DEFAULT_LIMITED_SHARES as i64),
                ),
            };
            // Negative shares fail validation; never let one shrink the sum.
            shares.map_or(0, |s| u64::try_from(s).unwrap_or(0))
        })
        .sum()
}

/// ServerCL from the caller's Σ `nominal_limit_seats`; 600 when unknown or unusable
/// (absent metric, NaN, below one seat). The flag says whether it was assumed.
pub fn server_seats(measured: Option<f64>) -> (u64, bool) {
    match measured {
        Some(seats) if seats.is_finite() && seats >= 1.0 => (seats.round() as u64, false),
        _ => (DEFAULT_SERVER_SEATS, true),
    }
}

/// The shares that give at least `target` seats next to levels summing to `total`
/// shares: `ceil(C × S / (ServerCL − C))`, at least 1. `None` when the target is
/// not below ServerCL (no number of shares gets there).
pub fn shares_for(target: u64, total: u64, server: u64) -> Option<u64> {
    if target >= server {
        return None;
    }
    let shares = (target * total).div_ceil(server - target);
    Some(shares.max(1))
}

/// The seats a level of `shares` gets next to levels summing to `total` shares.
pub fn effective_seats(shares: u64, total: u64, server: u64) -> u64 {
    (server * shares).div_ceil(total + shares)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::fixtures::bootstrap_levels;
    use serde_json::json;

    fn v1() -> FlowControlApi {
        FlowControlApi {
            version: "v1".into(),
        }
    }

    #[test]
    fn the_default_levels_sum_to_245() {
        assert_eq!(total_shares(&bootstrap_levels(), &v1(), ""), 245);
        assert_eq!(
            total_shares(&bootstrap_levels(), &v1(), "workload-low"),
            145
        );
    }

    #[test]
    fn versioned_field_defaults_and_exempt_shares() {
        let beta = FlowControlApi {
            version: "v1beta2".into(),
        };
        let levels = vec![
            json!({"metadata": {"name": "a"}, "spec": {"type": "Limited", "limited": {"assuredConcurrencyShares": 7}}}),
            json!({"metadata": {"name": "b"}, "spec": {"type": "Limited", "limited": {}}}),
            json!({"metadata": {"name": "e"}, "spec": {"type": "Exempt"}}),
            json!({"metadata": {"name": "f"}, "spec": {"type": "Exempt", "exempt": {"nominalConcurrencyShares": 4}}}),
            json!({"metadata": {"name": "g"}, "spec": {"type": "Limited", "limited": {"assuredConcurrencyShares": -3}}}),
        ];
        assert_eq!(total_shares(&levels, &beta, ""), 7 + 30 + 4);
        // Read in v1, the beta field is not there: defaulted to 30 each.
        assert_eq!(total_shares(&levels, &v1(), ""), 30 + 30 + 4 + 30);
    }

    #[test]
    fn twelve_seats_are_five_shares_on_defaults() {
        // The research's worked example: NCS 5 next to 245 gives ceil(600×5/250) = 12.
        assert_eq!(shares_for(12, 245, 600), Some(5));
        assert_eq!(effective_seats(5, 245, 600), 12);
        // One seat more needs a sixth share, which gives 15 seats (ceil rounds up).
        assert_eq!(shares_for(13, 245, 600), Some(6));
        assert_eq!(effective_seats(6, 245, 600), 15);
        // The smallest target still takes a whole share: 3 seats.
        assert_eq!(shares_for(1, 245, 600), Some(1));
        assert_eq!(effective_seats(1, 245, 600), 3);
    }

    #[test]
    fn the_shares_always_reach_the_target_and_one_fewer_would_not() {
        for server in [300u64, 600, 1200, 3000] {
            for total in [5u64, 245, 1000] {
                for target in 1..server.min(400) {
                    let n = shares_for(target, total, server).expect("below ServerCL");
                    assert!(effective_seats(n, total, server) >= target);
                    if n > 1 {
                        // One share fewer is below the target before rounding.
                        assert!(
                            server * (n - 1) < target * (total + n - 1),
                            "{server} {total} {target}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn no_shares_reach_the_whole_server() {
        assert_eq!(shares_for(600, 245, 600), None);
        assert_eq!(shares_for(601, 245, 600), None);
    }

    #[test]
    fn server_seats_fall_back_to_600() {
        assert_eq!(server_seats(Some(612.0)), (612, false));
        assert_eq!(server_seats(None), (600, true));
        assert_eq!(server_seats(Some(f64::NAN)), (600, true));
        assert_eq!(server_seats(Some(0.0)), (600, true));
    }
}
