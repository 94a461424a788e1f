//! `kubectl apidiag backups`: what the remediations have backed up, for `undo`.

use apidiag_core::backup;
use apidiag_core::cli::{OutputArgs, OutputFormat};
use apidiag_core::exit::Outcome;
use apidiag_core::run::{with_hint, write_stdout};
use apidiag_core::style::Palette;

/// `kubectl apidiag backups`: the bundles remediations have written, newest last.
pub fn run(output: &OutputArgs) -> Outcome {
    let root = match backup::root() {
        Ok(root) => root,
        Err(error) => {
            eprintln!("error: {}", with_hint(&error, error.hint()));
            return Outcome::Usage;
        }
    };
    let bundles = match backup::list(&root) {
        Ok(bundles) => bundles,
        Err(error) => {
            eprintln!("error: {}", with_hint(&error, error.hint()));
            return Outcome::Internal;
        }
    };
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        name: String,
        path: String,
        created: String,
        check: String,
        plan: String,
        operations: usize,
        done: usize,
        restored: bool,
        server: String,
    }
    let rows: Vec<Row> = bundles
        .iter()
        .map(|(bundle, manifest)| Row {
            name: bundle.name(),
            path: bundle.dir.display().to_string(),
            created: manifest.created.clone(),
            check: manifest.check.clone(),
            plan: manifest.plan_id.clone(),
            operations: manifest.operations.len(),
            done: bundle
                .journal()
                .map(|j| {
                    j.values()
                        .filter(|e| e.outcome == backup::OperationOutcome::Done)
                        .count()
                })
                .unwrap_or(0),
            restored: bundle.restored(),
            server: manifest.server.clone(),
        })
        .collect();
    match output.output {
        OutputFormat::Json => match serde_json::to_string_pretty(&rows) {
            Ok(text) => write_stdout(&format!("{text}\n")),
            Err(error) => eprintln!("error: {error}"),
        },
        OutputFormat::Yaml => match serde_saphyr::to_string(&rows) {
            Ok(text) => write_stdout(&text),
            Err(error) => eprintln!("error: {error}"),
        },
        OutputFormat::Human => {
            if rows.is_empty() {
                eprintln!("no backup bundles in {}", root.display());
                return Outcome::Healthy;
            }
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        r.plan.clone(),
                        format!("{}/{}", r.done, r.operations),
                        if r.restored {
                            "restored".into()
                        } else {
                            "".into()
                        },
                        r.server.clone(),
                    ]
                })
                .collect();
            let columns: Vec<String> = ["bundle", "plan", "done", "state", "server"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            // One write: `kubectl apidiag backups | head -1` closes the pipe early,
            // which must end the command quietly, not in a panic.
            let mut text = String::new();
            for line in apidiag_core::render::table(&columns, &table) {
                text.push_str(&line);
                text.push('\n');
            }
            text.push_str(&format!(
                "\n{}\n",
                Palette::for_stdout(output.color).dim(&format!("in {}", root.display()))
            ));
            write_stdout(&text);
        }
    }
    Outcome::Healthy
}
