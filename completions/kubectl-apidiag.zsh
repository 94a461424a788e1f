#compdef kubectl-apidiag

autoload -U is-at-least

_kubectl-apidiag() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file to use (default\: \$KUBECONFIG, merged, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--cluster=[The kubeconfig cluster to use]:NAME:_default' \
'--user=[The kubeconfig user to use]:NAME:_default' \
'-n+[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--namespace=[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--as=[Username to impersonate for the operation]:USER:_default' \
'*--as-group=[Group to impersonate (repeat for several groups)]:GROUP:_default' \
'--request-timeout=[How long to wait for one API request before giving up\: 30s, 1m, 0 for no limit]:DURATION:_default' \
'-o+[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--output=[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--color=[When to use colour in human output (NO_COLOR is honoured)]:COLOR:(auto always never)' \
'--qps=[Requests per second, at most, averaged over a run]:N:_default' \
'--burst=[Requests that may be sent back to back before --qps applies]:N:_default' \
'--max-requests=[Requests one run may send in all; checks that would need more stop and say so]:N:_default' \
'--page-size=[Objects per page in LIST requests]:N:_default' \
'-v[Human output\: show \`ok\` findings in full, not as a count]' \
'--verbose[Human output\: show \`ok\` findings in full, not as a count]' \
'(-v --verbose)--summary[Human output\: print only the summary (one line per finding above ok) and the cost]' \
'-y[Apply the chosen remediation without asking (a backup is still written first)]' \
'--yes[Apply the chosen remediation without asking (a backup is still written first)]' \
'(-y --yes)--dry-run[Show the plan and dry-run it on the server, then stop without changing anything]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_kubectl-apidiag_commands" \
"*::: :->kubectl-apidiag" \
&& ret=0
    case $state in
    (kubectl-apidiag)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:kubectl-apidiag-command-$line[1]:"
        case $line[1] in
            (etcd)
_arguments "${_arguments_options[@]}" : \
'--quota=[The etcd quota (--quota-backend-bytes) the database size is compared with; 8 GiB on AKS]:SIZE:_default' \
'--object-threshold=[Objects of one type above which a type that leaks is flagged (guide\: 10,000); types that grow with the cluster get at least as much, more on a big cluster (docs/checks/etcd.md)]:N:_default' \
'--history-max=[Helm revisions per release above which the release is flagged (Helm'\''s --history-max default)]:N:_default' \
'--large-object-size=[ConfigMaps and Secrets from this size are listed as large]:SIZE:_default' \
'--fix=[Apply one of the guide'\''s fixes (previewed, dry-run, confirmed, backed up, undoable)]:FIX:((completed-jobs\:"Delete completed Jobs (status.successful=1 and a Complete condition), with their Pods"
failed-pods\:"Delete Pods in phase Failed"
helm-history\:"Delete Helm revisions beyond the newest --keep per release; the deployed one stays"
cronjob-ttl\:"Add ttlSecondsAfterFinished (--ttl) to the job templates of CronJobs that have none"
object-quota\:"Create object-count ResourceQuotas (--quota-objects) in namespaces where objects pile up"))' \
'--older-than=[Only objects at least this old (creation time, as kubectl'\''s AGE)\: 30m, 12h, 7d]:DURATION:_default' \
'(-A --all-namespaces)*--in=[Fix in this namespace (repeatable); without it a terminal offers a multi-select]:NAMESPACE:_default' \
'--keep=[With --fix helm-history\: revisions to keep per release (the deployed one is always kept)]:N:_default' \
'--ttl=[With --fix cronjob-ttl\: ttlSecondsAfterFinished to set \[default\: 86400\]]:SECONDS:_default' \
'--quota-objects=[With --fix object-quota\: the limit for each counted kind \[default\: 5000\]]:N:_default' \
'--delete-qps=[Requests per second at most while a fix deletes (the diagnosis keeps --qps); the pace adapts below it]:N:_default' \
'--kubeconfig=[Path to the kubeconfig file to use (default\: \$KUBECONFIG, merged, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--cluster=[The kubeconfig cluster to use]:NAME:_default' \
'--user=[The kubeconfig user to use]:NAME:_default' \
'-n+[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--namespace=[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--as=[Username to impersonate for the operation]:USER:_default' \
'*--as-group=[Group to impersonate (repeat for several groups)]:GROUP:_default' \
'--request-timeout=[How long to wait for one API request before giving up\: 30s, 1m, 0 for no limit]:DURATION:_default' \
'-o+[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--output=[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--color=[When to use colour in human output (NO_COLOR is honoured)]:COLOR:(auto always never)' \
'--qps=[Requests per second, at most, averaged over a run]:N:_default' \
'--burst=[Requests that may be sent back to back before --qps applies]:N:_default' \
'--max-requests=[Requests one run may send in all; checks that would need more stop and say so]:N:_default' \
'--page-size=[Objects per page in LIST requests]:N:_default' \
'--scan-sizes[Read every ConfigMap, Secret and Pod to list the largest, even when the metrics say size is not the problem]' \
'-A[Fix in every namespace (one cluster-wide listing)]' \
'--all-namespaces[Fix in every namespace (one cluster-wide listing)]' \
'-v[Human output\: show \`ok\` findings in full, not as a count]' \
'--verbose[Human output\: show \`ok\` findings in full, not as a count]' \
'(-v --verbose)--summary[Human output\: print only the summary (one line per finding above ok) and the cost]' \
'-y[Apply the chosen remediation without asking (a backup is still written first)]' \
'--yes[Apply the chosen remediation without asking (a backup is still written first)]' \
'(-y --yes)--dry-run[Show the plan and dry-run it on the server, then stop without changing anything]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(guard)
_arguments "${_arguments_options[@]}" : \
'--fix=[Apply one of the guide'\''s fixes (previewed, confirmed, backed up, undoable)]:FIX:((skip-update\:"Label both objects \`aks-managed-skip-update-operation=true\`, so AKS keeps your changes"
raise-shares\:"Raise the guard'\''s concurrency shares (and label it, or AKS would undo the change)"
delete\:"Delete both objects; only after the offending clients were fixed"))' \
'--shares=[With --fix raise-shares\: the new concurrency shares (default\: double the current)]:N:_default' \
'--kubeconfig=[Path to the kubeconfig file to use (default\: \$KUBECONFIG, merged, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--cluster=[The kubeconfig cluster to use]:NAME:_default' \
'--user=[The kubeconfig user to use]:NAME:_default' \
'-n+[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--namespace=[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--as=[Username to impersonate for the operation]:USER:_default' \
'*--as-group=[Group to impersonate (repeat for several groups)]:GROUP:_default' \
'--request-timeout=[How long to wait for one API request before giving up\: 30s, 1m, 0 for no limit]:DURATION:_default' \
'-o+[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--output=[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--color=[When to use colour in human output (NO_COLOR is honoured)]:COLOR:(auto always never)' \
'--qps=[Requests per second, at most, averaged over a run]:N:_default' \
'--burst=[Requests that may be sent back to back before --qps applies]:N:_default' \
'--max-requests=[Requests one run may send in all; checks that would need more stop and say so]:N:_default' \
'--page-size=[Objects per page in LIST requests]:N:_default' \
'--clients-fixed[With --fix delete --yes\: confirm that the offending clients were found and fixed]' \
'-v[Human output\: show \`ok\` findings in full, not as a count]' \
'--verbose[Human output\: show \`ok\` findings in full, not as a count]' \
'(-v --verbose)--summary[Human output\: print only the summary (one line per finding above ok) and the cost]' \
'-y[Apply the chosen remediation without asking (a backup is still written first)]' \
'--yes[Apply the chosen remediation without asking (a backup is still written first)]' \
'(-y --yes)--dry-run[Show the plan and dry-run it on the server, then stop without changing anything]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(throttle)
_arguments "${_arguments_options[@]}" : \
'(--audit-log)--window=[Without --audit-log\: how long to wait between the two /metrics scrapes (0\: read the counters since the API server started)]:DURATION:_default' \
'(--kql)*--audit-log=[Audit logs to read\: files, folders, globs, \`-\` for standard input (repeat or give several)]:PATH:_default' \
'--since=[Only requests received at or after this\: RFC 3339, or a duration before the newest event (15m, 2h)]:TIME:_default' \
'--until=[Only requests received at or before this\: RFC 3339, or a duration before the newest event]:TIME:_default' \
'--user-agent=[Only user agents that start with this (\`kubectl/\` matches every kubectl)]:PREFIX:_default' \
'--audit-user=[Only requests of this user, exactly (e.g. system\:serviceaccount\:ns\:name)]:NAME:_default' \
'--bin=[Width of the latency time bins]:DURATION:_default' \
'--server-version=[The server'\''s Kubernetes version, for where LISTs are served from (default\: the live server'\''s /version)]:VERSION:_default' \
'--top=[How many user agents the tables and the chart show]:N:_default' \
'--html=[Also write one self-contained HTML page (inline SVG chart and the tables, no network)]:FILE:_files' \
'--kql=[Print the Log Analytics query that exports what this check reads, and exit]:MODE:((resource-specific\:"Resource-specific tables (\`AKSAudit\`)"
azure-diagnostics\:"The legacy \`AzureDiagnostics\` table (\`log_s\`)"))' \
'(--kql --verify)--fix=[Throttle a client with API Priority and Fairness, or remove what apidiag created (previewed, dry-run, confirmed, backed up, undoable)]:FIX:((flowschema\:"Throttle one client\: a PriorityLevelConfiguration with a hard seat cap and a FlowSchema ahead of the one that catches it today"
remove\:"Delete every FlowSchema and PriorityLevelConfiguration apidiag created (label apidiag.io/generated)"))' \
'*--service-account=[With --fix flowschema\: a service account to throttle (repeatable)]:NS/NAME:_default' \
'*--group=[With --fix flowschema\: a group to throttle (repeatable)]:NAME:_default' \
'*--subject-user=[With --fix flowschema\: a user to throttle (repeatable; --user is kubectl'\''s kubeconfig user)]:NAME:_default' \
'*--verbs=[With --fix flowschema\: the verbs to throttle (default\: those of the audit log, else every verb)]:VERB,…:_default' \
'*--resources=[With --fix flowschema\: the resources to throttle, \`pods\`, \`deployments.apps\`, \`pods/log\` (default\: the audit log'\''s, else all)]:RESOURCE,…:_default' \
'*--in-namespaces=[With --fix flowschema\: the namespaces to throttle in (default\: every namespace and namespace-less calls)]:NS,…:_default' \
'--seats=[With --fix flowschema\: the seats the throttled calls may hold at once (a LIST takes about one per 100 objects)]:N:_default' \
'(--audit-log)--verify=[Check that a throttle FlowSchema took effect\: digested, dispatching, nobody else'\''s 429s up (over --window)]:NAME:_default' \
'--kubeconfig=[Path to the kubeconfig file to use (default\: \$KUBECONFIG, merged, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--cluster=[The kubeconfig cluster to use]:NAME:_default' \
'--user=[The kubeconfig user to use]:NAME:_default' \
'-n+[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--namespace=[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--as=[Username to impersonate for the operation]:USER:_default' \
'*--as-group=[Group to impersonate (repeat for several groups)]:GROUP:_default' \
'--request-timeout=[How long to wait for one API request before giving up\: 30s, 1m, 0 for no limit]:DURATION:_default' \
'-o+[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--output=[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--color=[When to use colour in human output (NO_COLOR is honoured)]:COLOR:(auto always never)' \
'--qps=[Requests per second, at most, averaged over a run]:N:_default' \
'--burst=[Requests that may be sent back to back before --qps applies]:N:_default' \
'--max-requests=[Requests one run may send in all; checks that would need more stop and say so]:N:_default' \
'--page-size=[Objects per page in LIST requests]:N:_default' \
'--reject[With --fix flowschema\: answer calls beyond the cap with 429 at once instead of queueing them]' \
'-v[Human output\: show \`ok\` findings in full, not as a count]' \
'--verbose[Human output\: show \`ok\` findings in full, not as a count]' \
'(-v --verbose)--summary[Human output\: print only the summary (one line per finding above ok) and the cost]' \
'-y[Apply the chosen remediation without asking (a backup is still written first)]' \
'--yes[Apply the chosen remediation without asking (a backup is still written first)]' \
'(-y --yes)--dry-run[Show the plan and dry-run it on the server, then stop without changing anything]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(webhooks)
_arguments "${_arguments_options[@]}" : \
'--fix=[Apply a fix to the webhooks named by --webhook (previewed, dry-run, confirmed, backed up, undoable)]:FIX:_default' \
'*--webhook=[With --fix\: a webhook to change, by its name in the configuration (repeatable); delete removes its whole configuration]:NAME:_default' \
'--kubeconfig=[Path to the kubeconfig file to use (default\: \$KUBECONFIG, merged, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--cluster=[The kubeconfig cluster to use]:NAME:_default' \
'--user=[The kubeconfig user to use]:NAME:_default' \
'-n+[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--namespace=[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--as=[Username to impersonate for the operation]:USER:_default' \
'*--as-group=[Group to impersonate (repeat for several groups)]:GROUP:_default' \
'--request-timeout=[How long to wait for one API request before giving up\: 30s, 1m, 0 for no limit]:DURATION:_default' \
'-o+[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--output=[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--color=[When to use colour in human output (NO_COLOR is honoured)]:COLOR:(auto always never)' \
'--qps=[Requests per second, at most, averaged over a run]:N:_default' \
'--burst=[Requests that may be sent back to back before --qps applies]:N:_default' \
'--max-requests=[Requests one run may send in all; checks that would need more stop and say so]:N:_default' \
'--page-size=[Objects per page in LIST requests]:N:_default' \
'-v[Human output\: show \`ok\` findings in full, not as a count]' \
'--verbose[Human output\: show \`ok\` findings in full, not as a count]' \
'(-v --verbose)--summary[Human output\: print only the summary (one line per finding above ok) and the cost]' \
'-y[Apply the chosen remediation without asking (a backup is still written first)]' \
'--yes[Apply the chosen remediation without asking (a backup is still written first)]' \
'(-y --yes)--dry-run[Show the plan and dry-run it on the server, then stop without changing anything]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(connectivity)
_arguments "${_arguments_options[@]}" : \
'--connect-timeout=[How long one TCP connect may take (the TLS handshake gets twice as long)\: 5s, 500ms]:DURATION:_default' \
'--client-ip=[Your public egress IP, to check against --authorized-ip-ranges (apidiag never looks it up)]:ADDR:_default' \
'*--authorized-ip-ranges=[The cluster'\''s authorized IP ranges, as \`az aks show --query apiServerAccessProfile.authorizedIpRanges\` prints them (repeatable, or comma-separated)]:CIDR:_default' \
'--tunnel-nodes=[Probe the path API server → kubelet on at most N nodes (with and without an agent) by reading one byte of a pod'\''s log there; 0 turns the probe off]:N:_default' \
'(--fix)*--from-node=[Probe from this node (repeatable)\: a short-lived Pod on its host network resolves and connects to the API server (on AKS also to the required outbound endpoints) and is deleted after. It creates Pods, so it is previewed and confirmed like a fix]:NODE:_default' \
'(--from-node --fix)--sample-nodes=[Probe from N nodes, chosen across node pools, instead of naming them]:N:_default' \
'--probe-image=[The probe'\''s image\: it needs sh, nslookup and nc (busybox has them); where egress allows only MCR, an MCR busybox such as mcr.microsoft.com/azurelinux/busybox\:1.36]:IMAGE:_default' \
'--probe-timeout=[How long a probe Pod may take to start and finish before it is given up (and deleted)]:DURATION:_default' \
'--fix=[Apply a fix (previewed, dry-run, confirmed, backed up, undoable)]:FIX:((delete-apiservice\:"Delete the APIServices named by --apiservice whose Service or namespace is gone"
restart-tunnel\:"Restart the tunnel agents (a rollout restart of konnectivity-agent, as Microsoft documents)"))' \
'*--apiservice=[With --fix delete-apiservice\: an APIService to delete, by name (repeatable)]:NAME:_default' \
'--kubeconfig=[Path to the kubeconfig file to use (default\: \$KUBECONFIG, merged, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--cluster=[The kubeconfig cluster to use]:NAME:_default' \
'--user=[The kubeconfig user to use]:NAME:_default' \
'-n+[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--namespace=[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--as=[Username to impersonate for the operation]:USER:_default' \
'*--as-group=[Group to impersonate (repeat for several groups)]:GROUP:_default' \
'--request-timeout=[How long to wait for one API request before giving up\: 30s, 1m, 0 for no limit]:DURATION:_default' \
'-o+[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--output=[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--color=[When to use colour in human output (NO_COLOR is honoured)]:COLOR:(auto always never)' \
'--qps=[Requests per second, at most, averaged over a run]:N:_default' \
'--burst=[Requests that may be sent back to back before --qps applies]:N:_default' \
'--max-requests=[Requests one run may send in all; checks that would need more stop and say so]:N:_default' \
'--page-size=[Objects per page in LIST requests]:N:_default' \
'-v[Human output\: show \`ok\` findings in full, not as a count]' \
'--verbose[Human output\: show \`ok\` findings in full, not as a count]' \
'(-v --verbose)--summary[Human output\: print only the summary (one line per finding above ok) and the cost]' \
'-y[Apply the chosen remediation without asking (a backup is still written first)]' \
'--yes[Apply the chosen remediation without asking (a backup is still written first)]' \
'(-y --yes)--dry-run[Show the plan and dry-run it on the server, then stop without changing anything]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(undo)
_arguments "${_arguments_options[@]}" : \
'--rate=[Objects per second at most while a cleanup is restored (the diagnosis keeps --qps); the pace adapts below it]:N:_default' \
'--ttl=[Restored Jobs whose ttlSecondsAfterFinished has passed (the TTL controller deletes them again at once)\: keep (as saved), drop (they stay), or a duration such as 24h (they stay that long)]:keep|drop|DURATION:_default' \
'--kubeconfig=[Path to the kubeconfig file to use (default\: \$KUBECONFIG, merged, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--cluster=[The kubeconfig cluster to use]:NAME:_default' \
'--user=[The kubeconfig user to use]:NAME:_default' \
'-n+[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--namespace=[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--as=[Username to impersonate for the operation]:USER:_default' \
'*--as-group=[Group to impersonate (repeat for several groups)]:GROUP:_default' \
'--request-timeout=[How long to wait for one API request before giving up\: 30s, 1m, 0 for no limit]:DURATION:_default' \
'-o+[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--output=[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--color=[When to use colour in human output (NO_COLOR is honoured)]:COLOR:(auto always never)' \
'--qps=[Requests per second, at most, averaged over a run]:N:_default' \
'--burst=[Requests that may be sent back to back before --qps applies]:N:_default' \
'--max-requests=[Requests one run may send in all; checks that would need more stop and say so]:N:_default' \
'--page-size=[Objects per page in LIST requests]:N:_default' \
'--rerun-pods[Confirm, with --yes, that restored Pods run again (a restored Pod is a new Pod\: it is scheduled and its containers start over)]' \
'-v[Human output\: show \`ok\` findings in full, not as a count]' \
'--verbose[Human output\: show \`ok\` findings in full, not as a count]' \
'(-v --verbose)--summary[Human output\: print only the summary (one line per finding above ok) and the cost]' \
'-y[Apply the chosen remediation without asking (a backup is still written first)]' \
'--yes[Apply the chosen remediation without asking (a backup is still written first)]' \
'(-y --yes)--dry-run[Show the plan and dry-run it on the server, then stop without changing anything]' \
'-h[Print help]' \
'--help[Print help]' \
'::bundle -- Bundle name (from `kubectl apidiag backups`) or path:_default' \
&& ret=0
;;
(backups)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file to use (default\: \$KUBECONFIG, merged, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--cluster=[The kubeconfig cluster to use]:NAME:_default' \
'--user=[The kubeconfig user to use]:NAME:_default' \
'-n+[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--namespace=[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--as=[Username to impersonate for the operation]:USER:_default' \
'*--as-group=[Group to impersonate (repeat for several groups)]:GROUP:_default' \
'--request-timeout=[How long to wait for one API request before giving up\: 30s, 1m, 0 for no limit]:DURATION:_default' \
'-o+[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--output=[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--color=[When to use colour in human output (NO_COLOR is honoured)]:COLOR:(auto always never)' \
'--qps=[Requests per second, at most, averaged over a run]:N:_default' \
'--burst=[Requests that may be sent back to back before --qps applies]:N:_default' \
'--max-requests=[Requests one run may send in all; checks that would need more stop and say so]:N:_default' \
'--page-size=[Objects per page in LIST requests]:N:_default' \
'-v[Human output\: show \`ok\` findings in full, not as a count]' \
'--verbose[Human output\: show \`ok\` findings in full, not as a count]' \
'(-v --verbose)--summary[Human output\: print only the summary (one line per finding above ok) and the cost]' \
'-y[Apply the chosen remediation without asking (a backup is still written first)]' \
'--yes[Apply the chosen remediation without asking (a backup is still written first)]' \
'(-y --yes)--dry-run[Show the plan and dry-run it on the server, then stop without changing anything]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(version)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file to use (default\: \$KUBECONFIG, merged, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--cluster=[The kubeconfig cluster to use]:NAME:_default' \
'--user=[The kubeconfig user to use]:NAME:_default' \
'-n+[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--namespace=[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--as=[Username to impersonate for the operation]:USER:_default' \
'*--as-group=[Group to impersonate (repeat for several groups)]:GROUP:_default' \
'--request-timeout=[How long to wait for one API request before giving up\: 30s, 1m, 0 for no limit]:DURATION:_default' \
'-o+[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--output=[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--color=[When to use colour in human output (NO_COLOR is honoured)]:COLOR:(auto always never)' \
'--qps=[Requests per second, at most, averaged over a run]:N:_default' \
'--burst=[Requests that may be sent back to back before --qps applies]:N:_default' \
'--max-requests=[Requests one run may send in all; checks that would need more stop and say so]:N:_default' \
'--page-size=[Objects per page in LIST requests]:N:_default' \
'-v[Human output\: show \`ok\` findings in full, not as a count]' \
'--verbose[Human output\: show \`ok\` findings in full, not as a count]' \
'(-v --verbose)--summary[Human output\: print only the summary (one line per finding above ok) and the cost]' \
'-y[Apply the chosen remediation without asking (a backup is still written first)]' \
'--yes[Apply the chosen remediation without asking (a backup is still written first)]' \
'(-y --yes)--dry-run[Show the plan and dry-run it on the server, then stop without changing anything]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(completion)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file to use (default\: \$KUBECONFIG, merged, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--cluster=[The kubeconfig cluster to use]:NAME:_default' \
'--user=[The kubeconfig user to use]:NAME:_default' \
'-n+[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--namespace=[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--as=[Username to impersonate for the operation]:USER:_default' \
'*--as-group=[Group to impersonate (repeat for several groups)]:GROUP:_default' \
'--request-timeout=[How long to wait for one API request before giving up\: 30s, 1m, 0 for no limit]:DURATION:_default' \
'-o+[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--output=[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--color=[When to use colour in human output (NO_COLOR is honoured)]:COLOR:(auto always never)' \
'--qps=[Requests per second, at most, averaged over a run]:N:_default' \
'--burst=[Requests that may be sent back to back before --qps applies]:N:_default' \
'--max-requests=[Requests one run may send in all; checks that would need more stop and say so]:N:_default' \
'--page-size=[Objects per page in LIST requests]:N:_default' \
'-v[Human output\: show \`ok\` findings in full, not as a count]' \
'--verbose[Human output\: show \`ok\` findings in full, not as a count]' \
'(-v --verbose)--summary[Human output\: print only the summary (one line per finding above ok) and the cost]' \
'-y[Apply the chosen remediation without asking (a backup is still written first)]' \
'--yes[Apply the chosen remediation without asking (a backup is still written first)]' \
'(-y --yes)--dry-run[Show the plan and dry-run it on the server, then stop without changing anything]' \
'-h[Print help]' \
'--help[Print help]' \
':shell:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(__complete)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file to use (default\: \$KUBECONFIG, merged, then ~/.kube/config)]:FILE:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--cluster=[The kubeconfig cluster to use]:NAME:_default' \
'--user=[The kubeconfig user to use]:NAME:_default' \
'-n+[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--namespace=[Namespace for namespaced checks (default\: the context'\''s namespace)]:NAME:_default' \
'--as=[Username to impersonate for the operation]:USER:_default' \
'*--as-group=[Group to impersonate (repeat for several groups)]:GROUP:_default' \
'--request-timeout=[How long to wait for one API request before giving up\: 30s, 1m, 0 for no limit]:DURATION:_default' \
'-o+[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--output=[Output format\: human for people, json or yaml for scripts (schema\: docs/report-schema.md)]:OUTPUT:(human json yaml)' \
'--color=[When to use colour in human output (NO_COLOR is honoured)]:COLOR:(auto always never)' \
'--qps=[Requests per second, at most, averaged over a run]:N:_default' \
'--burst=[Requests that may be sent back to back before --qps applies]:N:_default' \
'--max-requests=[Requests one run may send in all; checks that would need more stop and say so]:N:_default' \
'--page-size=[Objects per page in LIST requests]:N:_default' \
'-v[Human output\: show \`ok\` findings in full, not as a count]' \
'--verbose[Human output\: show \`ok\` findings in full, not as a count]' \
'(-v --verbose)--summary[Human output\: print only the summary (one line per finding above ok) and the cost]' \
'-y[Apply the chosen remediation without asking (a backup is still written first)]' \
'--yes[Apply the chosen remediation without asking (a backup is still written first)]' \
'(-y --yes)--dry-run[Show the plan and dry-run it on the server, then stop without changing anything]' \
'-h[Print help]' \
'--help[Print help]' \
'*::words -- The words after `kubectl apidiag`; the last one is being completed:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_kubectl-apidiag__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:kubectl-apidiag-help-command-$line[1]:"
        case $line[1] in
            (etcd)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(guard)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(throttle)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(webhooks)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(connectivity)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(undo)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(backups)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(version)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completion)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(__complete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_kubectl-apidiag_commands] )) ||
_kubectl-apidiag_commands() {
    local commands; commands=(
'etcd:Find what fills etcd (size, objects per type, completed Jobs, failed Pods, Helm history, large objects) and clean it up safely' \
'guard:Find the AKS managed API server guard, explain what it throttles, and remove or relax it safely' \
'throttle:Find what and who loads the API server (live from /metrics, or from an audit log) and throttle the offending client with a FlowSchema' \
'webhooks:Find the admission webhook that blocks the cluster, prove why, and change it safely' \
'connectivity:Check every path to and from the API server, rung by rung, and aggregated APIs' \
'undo:Restore a backup bundle written by a remediation (default\: the newest one not yet restored in which something changed)' \
'backups:List the backup bundles remediations have written' \
'version:Print the version and the commit it was built from' \
'completion:Print shell completions for kubectl-apidiag' \
'__complete:Candidates for kubectl'\''s plugin completion (see completions/kubectl_complete-apidiag)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'kubectl-apidiag commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd____complete_commands] )) ||
_kubectl-apidiag__subcmd____complete_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag __complete commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__backups_commands] )) ||
_kubectl-apidiag__subcmd__backups_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag backups commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__completion_commands] )) ||
_kubectl-apidiag__subcmd__completion_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag completion commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__connectivity_commands] )) ||
_kubectl-apidiag__subcmd__connectivity_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag connectivity commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__etcd_commands] )) ||
_kubectl-apidiag__subcmd__etcd_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag etcd commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__guard_commands] )) ||
_kubectl-apidiag__subcmd__guard_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag guard commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help_commands] )) ||
_kubectl-apidiag__subcmd__help_commands() {
    local commands; commands=(
'etcd:Find what fills etcd (size, objects per type, completed Jobs, failed Pods, Helm history, large objects) and clean it up safely' \
'guard:Find the AKS managed API server guard, explain what it throttles, and remove or relax it safely' \
'throttle:Find what and who loads the API server (live from /metrics, or from an audit log) and throttle the offending client with a FlowSchema' \
'webhooks:Find the admission webhook that blocks the cluster, prove why, and change it safely' \
'connectivity:Check every path to and from the API server, rung by rung, and aggregated APIs' \
'undo:Restore a backup bundle written by a remediation (default\: the newest one not yet restored in which something changed)' \
'backups:List the backup bundles remediations have written' \
'version:Print the version and the commit it was built from' \
'completion:Print shell completions for kubectl-apidiag' \
'__complete:Candidates for kubectl'\''s plugin completion (see completions/kubectl_complete-apidiag)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'kubectl-apidiag help commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd____complete_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd____complete_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help __complete commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd__backups_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd__backups_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help backups commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd__completion_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd__completion_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help completion commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd__connectivity_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd__connectivity_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help connectivity commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd__etcd_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd__etcd_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help etcd commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd__guard_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd__guard_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help guard commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd__help_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help help commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd__throttle_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd__throttle_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help throttle commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd__undo_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd__undo_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help undo commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd__version_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd__version_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help version commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd__webhooks_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd__webhooks_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help webhooks commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__throttle_commands] )) ||
_kubectl-apidiag__subcmd__throttle_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag throttle commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__undo_commands] )) ||
_kubectl-apidiag__subcmd__undo_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag undo commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__version_commands] )) ||
_kubectl-apidiag__subcmd__version_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag version commands' commands "$@"
}
(( $+functions[_kubectl-apidiag__subcmd__webhooks_commands] )) ||
_kubectl-apidiag__subcmd__webhooks_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag webhooks commands' commands "$@"
}

if [ "$funcstack[1]" = "_kubectl-apidiag" ]; then
    _kubectl-apidiag "$@"
else
    compdef _kubectl-apidiag kubectl-apidiag
fi
