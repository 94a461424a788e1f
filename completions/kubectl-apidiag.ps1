
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-apidiag' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-apidiag'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kubectl-apidiag' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeat for several groups)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour in human output (NO_COLOR is honoured)')
            [CompletionResult]::new('--qps', '--qps', [CompletionResultType]::ParameterName, 'Requests per second, at most, averaged over a run')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Requests that may be sent back to back before --qps applies')
            [CompletionResult]::new('--max-requests', '--max-requests', [CompletionResultType]::ParameterName, 'Requests one run may send in all; checks that would need more stop and say so')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Objects per page in LIST requests')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Human output: print only the summary (one line per finding above ok) and the cost')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and dry-run it on the server, then stop without changing anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('etcd', 'etcd', [CompletionResultType]::ParameterValue, 'Find what fills etcd (size, objects per type, completed Jobs, failed Pods, Helm history, large objects) and clean it up safely')
            [CompletionResult]::new('guard', 'guard', [CompletionResultType]::ParameterValue, 'Find the AKS managed API server guard, explain what it throttles, and remove or relax it safely')
            [CompletionResult]::new('throttle', 'throttle', [CompletionResultType]::ParameterValue, 'Find what and who loads the API server (live from /metrics, or from an audit log) and throttle the offending client with a FlowSchema')
            [CompletionResult]::new('webhooks', 'webhooks', [CompletionResultType]::ParameterValue, 'Find the admission webhook that blocks the cluster, prove why, and change it safely')
            [CompletionResult]::new('connectivity', 'connectivity', [CompletionResultType]::ParameterValue, 'Check every path to and from the API server, rung by rung, and aggregated APIs')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Restore a backup bundle written by a remediation (default: the newest one not yet restored in which something changed)')
            [CompletionResult]::new('backups', 'backups', [CompletionResultType]::ParameterValue, 'List the backup bundles remediations have written')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version and the commit it was built from')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print shell completions for kubectl-apidiag')
            [CompletionResult]::new('__complete', '__complete', [CompletionResultType]::ParameterValue, 'Candidates for kubectl''s plugin completion (see completions/kubectl_complete-apidiag)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-apidiag;etcd' {
            [CompletionResult]::new('--quota', '--quota', [CompletionResultType]::ParameterName, 'The etcd quota (--quota-backend-bytes) the database size is compared with; 8 GiB on AKS')
            [CompletionResult]::new('--object-threshold', '--object-threshold', [CompletionResultType]::ParameterName, 'Objects of one type above which a type that leaks is flagged (guide: 10,000); types that grow with the cluster get at least as much, more on a big cluster (docs/checks/etcd.md)')
            [CompletionResult]::new('--history-max', '--history-max', [CompletionResultType]::ParameterName, 'Helm revisions per release above which the release is flagged (Helm''s --history-max default)')
            [CompletionResult]::new('--large-object-size', '--large-object-size', [CompletionResultType]::ParameterName, 'ConfigMaps and Secrets from this size are listed as large')
            [CompletionResult]::new('--fix', '--fix', [CompletionResultType]::ParameterName, 'Apply one of the guide''s fixes (previewed, dry-run, confirmed, backed up, undoable)')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Only objects at least this old (creation time, as kubectl''s AGE): 30m, 12h, 7d')
            [CompletionResult]::new('--in', '--in', [CompletionResultType]::ParameterName, 'Fix in this namespace (repeatable); without it a terminal offers a multi-select')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'With --fix helm-history: revisions to keep per release (the deployed one is always kept)')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'With --fix cronjob-ttl: ttlSecondsAfterFinished to set [default: 86400]')
            [CompletionResult]::new('--quota-objects', '--quota-objects', [CompletionResultType]::ParameterName, 'With --fix object-quota: the limit for each counted kind [default: 5000]')
            [CompletionResult]::new('--delete-qps', '--delete-qps', [CompletionResultType]::ParameterName, 'Requests per second at most while a fix deletes (the diagnosis keeps --qps); the pace adapts below it')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeat for several groups)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour in human output (NO_COLOR is honoured)')
            [CompletionResult]::new('--qps', '--qps', [CompletionResultType]::ParameterName, 'Requests per second, at most, averaged over a run')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Requests that may be sent back to back before --qps applies')
            [CompletionResult]::new('--max-requests', '--max-requests', [CompletionResultType]::ParameterName, 'Requests one run may send in all; checks that would need more stop and say so')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Objects per page in LIST requests')
            [CompletionResult]::new('--scan-sizes', '--scan-sizes', [CompletionResultType]::ParameterName, 'Read every ConfigMap, Secret and Pod to list the largest, even when the metrics say size is not the problem')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Fix in every namespace (one cluster-wide listing)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Fix in every namespace (one cluster-wide listing)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Human output: print only the summary (one line per finding above ok) and the cost')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and dry-run it on the server, then stop without changing anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-apidiag;guard' {
            [CompletionResult]::new('--fix', '--fix', [CompletionResultType]::ParameterName, 'Apply one of the guide''s fixes (previewed, confirmed, backed up, undoable)')
            [CompletionResult]::new('--shares', '--shares', [CompletionResultType]::ParameterName, 'With --fix raise-shares: the new concurrency shares (default: double the current)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeat for several groups)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour in human output (NO_COLOR is honoured)')
            [CompletionResult]::new('--qps', '--qps', [CompletionResultType]::ParameterName, 'Requests per second, at most, averaged over a run')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Requests that may be sent back to back before --qps applies')
            [CompletionResult]::new('--max-requests', '--max-requests', [CompletionResultType]::ParameterName, 'Requests one run may send in all; checks that would need more stop and say so')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Objects per page in LIST requests')
            [CompletionResult]::new('--clients-fixed', '--clients-fixed', [CompletionResultType]::ParameterName, 'With --fix delete --yes: confirm that the offending clients were found and fixed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Human output: print only the summary (one line per finding above ok) and the cost')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and dry-run it on the server, then stop without changing anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-apidiag;throttle' {
            [CompletionResult]::new('--window', '--window', [CompletionResultType]::ParameterName, 'Without --audit-log: how long to wait between the two /metrics scrapes (0: read the counters since the API server started)')
            [CompletionResult]::new('--audit-log', '--audit-log', [CompletionResultType]::ParameterName, 'Audit logs to read: files, folders, globs, `-` for standard input (repeat or give several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only requests received at or after this: RFC 3339, or a duration before the newest event (15m, 2h)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only requests received at or before this: RFC 3339, or a duration before the newest event')
            [CompletionResult]::new('--user-agent', '--user-agent', [CompletionResultType]::ParameterName, 'Only user agents that start with this (`kubectl/` matches every kubectl)')
            [CompletionResult]::new('--audit-user', '--audit-user', [CompletionResultType]::ParameterName, 'Only requests of this user, exactly (e.g. system:serviceaccount:ns:name)')
            [CompletionResult]::new('--bin', '--bin', [CompletionResultType]::ParameterName, 'Width of the latency time bins')
            [CompletionResult]::new('--server-version', '--server-version', [CompletionResultType]::ParameterName, 'The server''s Kubernetes version, for where LISTs are served from (default: the live server''s /version)')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'How many user agents the tables and the chart show')
            [CompletionResult]::new('--html', '--html', [CompletionResultType]::ParameterName, 'Also write one self-contained HTML page (inline SVG chart and the tables, no network)')
            [CompletionResult]::new('--kql', '--kql', [CompletionResultType]::ParameterName, 'Print the Log Analytics query that exports what this check reads, and exit')
            [CompletionResult]::new('--fix', '--fix', [CompletionResultType]::ParameterName, 'Throttle a client with API Priority and Fairness, or remove what apidiag created (previewed, dry-run, confirmed, backed up, undoable)')
            [CompletionResult]::new('--service-account', '--service-account', [CompletionResultType]::ParameterName, 'With --fix flowschema: a service account to throttle (repeatable)')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'With --fix flowschema: a group to throttle (repeatable)')
            [CompletionResult]::new('--subject-user', '--subject-user', [CompletionResultType]::ParameterName, 'With --fix flowschema: a user to throttle (repeatable; --user is kubectl''s kubeconfig user)')
            [CompletionResult]::new('--verbs', '--verbs', [CompletionResultType]::ParameterName, 'With --fix flowschema: the verbs to throttle (default: those of the audit log, else every verb)')
            [CompletionResult]::new('--resources', '--resources', [CompletionResultType]::ParameterName, 'With --fix flowschema: the resources to throttle, `pods`, `deployments.apps`, `pods/log` (default: the audit log''s, else all)')
            [CompletionResult]::new('--in-namespaces', '--in-namespaces', [CompletionResultType]::ParameterName, 'With --fix flowschema: the namespaces to throttle in (default: every namespace and namespace-less calls)')
            [CompletionResult]::new('--seats', '--seats', [CompletionResultType]::ParameterName, 'With --fix flowschema: the seats the throttled calls may hold at once (a LIST takes about one per 100 objects)')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'Check that a throttle FlowSchema took effect: digested, dispatching, nobody else''s 429s up (over --window)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeat for several groups)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour in human output (NO_COLOR is honoured)')
            [CompletionResult]::new('--qps', '--qps', [CompletionResultType]::ParameterName, 'Requests per second, at most, averaged over a run')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Requests that may be sent back to back before --qps applies')
            [CompletionResult]::new('--max-requests', '--max-requests', [CompletionResultType]::ParameterName, 'Requests one run may send in all; checks that would need more stop and say so')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Objects per page in LIST requests')
            [CompletionResult]::new('--reject', '--reject', [CompletionResultType]::ParameterName, 'With --fix flowschema: answer calls beyond the cap with 429 at once instead of queueing them')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Human output: print only the summary (one line per finding above ok) and the cost')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and dry-run it on the server, then stop without changing anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-apidiag;webhooks' {
            [CompletionResult]::new('--fix', '--fix', [CompletionResultType]::ParameterName, 'Apply a fix to the webhooks named by --webhook (previewed, dry-run, confirmed, backed up, undoable)')
            [CompletionResult]::new('--webhook', '--webhook', [CompletionResultType]::ParameterName, 'With --fix: a webhook to change, by its name in the configuration (repeatable); delete removes its whole configuration')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeat for several groups)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour in human output (NO_COLOR is honoured)')
            [CompletionResult]::new('--qps', '--qps', [CompletionResultType]::ParameterName, 'Requests per second, at most, averaged over a run')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Requests that may be sent back to back before --qps applies')
            [CompletionResult]::new('--max-requests', '--max-requests', [CompletionResultType]::ParameterName, 'Requests one run may send in all; checks that would need more stop and say so')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Objects per page in LIST requests')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Human output: print only the summary (one line per finding above ok) and the cost')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and dry-run it on the server, then stop without changing anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-apidiag;connectivity' {
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long one TCP connect may take (the TLS handshake gets twice as long): 5s, 500ms')
            [CompletionResult]::new('--client-ip', '--client-ip', [CompletionResultType]::ParameterName, 'Your public egress IP, to check against --authorized-ip-ranges (apidiag never looks it up)')
            [CompletionResult]::new('--authorized-ip-ranges', '--authorized-ip-ranges', [CompletionResultType]::ParameterName, 'The cluster''s authorized IP ranges, as `az aks show --query apiServerAccessProfile.authorizedIpRanges` prints them (repeatable, or comma-separated)')
            [CompletionResult]::new('--tunnel-nodes', '--tunnel-nodes', [CompletionResultType]::ParameterName, 'Probe the path API server → kubelet on at most N nodes (with and without an agent) by reading one byte of a pod''s log there; 0 turns the probe off')
            [CompletionResult]::new('--from-node', '--from-node', [CompletionResultType]::ParameterName, 'Probe from this node (repeatable): a short-lived Pod on its host network resolves and connects to the API server (on AKS also to the required outbound endpoints) and is deleted after. It creates Pods, so it is previewed and confirmed like a fix')
            [CompletionResult]::new('--sample-nodes', '--sample-nodes', [CompletionResultType]::ParameterName, 'Probe from N nodes, chosen across node pools, instead of naming them')
            [CompletionResult]::new('--probe-image', '--probe-image', [CompletionResultType]::ParameterName, 'The probe''s image: it needs sh, nslookup and nc (busybox has them); where egress allows only MCR, an MCR busybox such as mcr.microsoft.com/azurelinux/busybox:1.36')
            [CompletionResult]::new('--probe-timeout', '--probe-timeout', [CompletionResultType]::ParameterName, 'How long a probe Pod may take to start and finish before it is given up (and deleted)')
            [CompletionResult]::new('--fix', '--fix', [CompletionResultType]::ParameterName, 'Apply a fix (previewed, dry-run, confirmed, backed up, undoable)')
            [CompletionResult]::new('--apiservice', '--apiservice', [CompletionResultType]::ParameterName, 'With --fix delete-apiservice: an APIService to delete, by name (repeatable)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeat for several groups)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour in human output (NO_COLOR is honoured)')
            [CompletionResult]::new('--qps', '--qps', [CompletionResultType]::ParameterName, 'Requests per second, at most, averaged over a run')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Requests that may be sent back to back before --qps applies')
            [CompletionResult]::new('--max-requests', '--max-requests', [CompletionResultType]::ParameterName, 'Requests one run may send in all; checks that would need more stop and say so')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Objects per page in LIST requests')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Human output: print only the summary (one line per finding above ok) and the cost')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and dry-run it on the server, then stop without changing anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-apidiag;undo' {
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Objects per second at most while a cleanup is restored (the diagnosis keeps --qps); the pace adapts below it')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Restored Jobs whose ttlSecondsAfterFinished has passed (the TTL controller deletes them again at once): keep (as saved), drop (they stay), or a duration such as 24h (they stay that long)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeat for several groups)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour in human output (NO_COLOR is honoured)')
            [CompletionResult]::new('--qps', '--qps', [CompletionResultType]::ParameterName, 'Requests per second, at most, averaged over a run')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Requests that may be sent back to back before --qps applies')
            [CompletionResult]::new('--max-requests', '--max-requests', [CompletionResultType]::ParameterName, 'Requests one run may send in all; checks that would need more stop and say so')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Objects per page in LIST requests')
            [CompletionResult]::new('--rerun-pods', '--rerun-pods', [CompletionResultType]::ParameterName, 'Confirm, with --yes, that restored Pods run again (a restored Pod is a new Pod: it is scheduled and its containers start over)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Human output: print only the summary (one line per finding above ok) and the cost')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and dry-run it on the server, then stop without changing anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-apidiag;backups' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeat for several groups)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour in human output (NO_COLOR is honoured)')
            [CompletionResult]::new('--qps', '--qps', [CompletionResultType]::ParameterName, 'Requests per second, at most, averaged over a run')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Requests that may be sent back to back before --qps applies')
            [CompletionResult]::new('--max-requests', '--max-requests', [CompletionResultType]::ParameterName, 'Requests one run may send in all; checks that would need more stop and say so')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Objects per page in LIST requests')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Human output: print only the summary (one line per finding above ok) and the cost')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and dry-run it on the server, then stop without changing anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-apidiag;version' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeat for several groups)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour in human output (NO_COLOR is honoured)')
            [CompletionResult]::new('--qps', '--qps', [CompletionResultType]::ParameterName, 'Requests per second, at most, averaged over a run')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Requests that may be sent back to back before --qps applies')
            [CompletionResult]::new('--max-requests', '--max-requests', [CompletionResultType]::ParameterName, 'Requests one run may send in all; checks that would need more stop and say so')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Objects per page in LIST requests')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Human output: print only the summary (one line per finding above ok) and the cost')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and dry-run it on the server, then stop without changing anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-apidiag;completion' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeat for several groups)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour in human output (NO_COLOR is honoured)')
            [CompletionResult]::new('--qps', '--qps', [CompletionResultType]::ParameterName, 'Requests per second, at most, averaged over a run')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Requests that may be sent back to back before --qps applies')
            [CompletionResult]::new('--max-requests', '--max-requests', [CompletionResultType]::ParameterName, 'Requests one run may send in all; checks that would need more stop and say so')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Objects per page in LIST requests')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Human output: print only the summary (one line per finding above ok) and the cost')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and dry-run it on the server, then stop without changing anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-apidiag;__complete' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace for namespaced checks (default: the context''s namespace)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeat for several groups)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour in human output (NO_COLOR is honoured)')
            [CompletionResult]::new('--qps', '--qps', [CompletionResultType]::ParameterName, 'Requests per second, at most, averaged over a run')
            [CompletionResult]::new('--burst', '--burst', [CompletionResultType]::ParameterName, 'Requests that may be sent back to back before --qps applies')
            [CompletionResult]::new('--max-requests', '--max-requests', [CompletionResultType]::ParameterName, 'Requests one run may send in all; checks that would need more stop and say so')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Objects per page in LIST requests')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Human output: show `ok` findings in full, not as a count')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Human output: print only the summary (one line per finding above ok) and the cost')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the chosen remediation without asking (a backup is still written first)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan and dry-run it on the server, then stop without changing anything')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-apidiag;help' {
            [CompletionResult]::new('etcd', 'etcd', [CompletionResultType]::ParameterValue, 'Find what fills etcd (size, objects per type, completed Jobs, failed Pods, Helm history, large objects) and clean it up safely')
            [CompletionResult]::new('guard', 'guard', [CompletionResultType]::ParameterValue, 'Find the AKS managed API server guard, explain what it throttles, and remove or relax it safely')
            [CompletionResult]::new('throttle', 'throttle', [CompletionResultType]::ParameterValue, 'Find what and who loads the API server (live from /metrics, or from an audit log) and throttle the offending client with a FlowSchema')
            [CompletionResult]::new('webhooks', 'webhooks', [CompletionResultType]::ParameterValue, 'Find the admission webhook that blocks the cluster, prove why, and change it safely')
            [CompletionResult]::new('connectivity', 'connectivity', [CompletionResultType]::ParameterValue, 'Check every path to and from the API server, rung by rung, and aggregated APIs')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Restore a backup bundle written by a remediation (default: the newest one not yet restored in which something changed)')
            [CompletionResult]::new('backups', 'backups', [CompletionResultType]::ParameterValue, 'List the backup bundles remediations have written')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version and the commit it was built from')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print shell completions for kubectl-apidiag')
            [CompletionResult]::new('__complete', '__complete', [CompletionResultType]::ParameterValue, 'Candidates for kubectl''s plugin completion (see completions/kubectl_complete-apidiag)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-apidiag;help;etcd' {
            break
        }
        'kubectl-apidiag;help;guard' {
            break
        }
        'kubectl-apidiag;help;throttle' {
            break
        }
        'kubectl-apidiag;help;webhooks' {
            break
        }
        'kubectl-apidiag;help;connectivity' {
            break
        }
        'kubectl-apidiag;help;undo' {
            break
        }
        'kubectl-apidiag;help;backups' {
            break
        }
        'kubectl-apidiag;help;version' {
            break
        }
        'kubectl-apidiag;help;completion' {
            break
        }
        'kubectl-apidiag;help;__complete' {
            break
        }
        'kubectl-apidiag;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
