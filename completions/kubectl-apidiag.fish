# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_apidiag_global_optspecs
    string join \n kubeconfig= context= cluster= user= n/namespace= as= as-group= request-timeout= o/output= color= v/verbose summary qps= burst= max-requests= page-size= y/yes dry-run h/help V/version
end

function __fish_kubectl_apidiag_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_apidiag_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_apidiag_using_subcommand
    set -l cmd (__fish_kubectl_apidiag_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l kubeconfig -d 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -s n -l namespace -d 'Namespace for namespaced checks (default: the context\'s namespace)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l as-group -d 'Group to impersonate (repeat for several groups)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l request-timeout -d 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -s o -l output -d 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)' -r -f -a "human\t''
json\t''
yaml\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l color -d 'When to use colour in human output (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l qps -d 'Requests per second, at most, averaged over a run' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l burst -d 'Requests that may be sent back to back before --qps applies' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l max-requests -d 'Requests one run may send in all; checks that would need more stop and say so' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l page-size -d 'Objects per page in LIST requests' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -s v -l verbose -d 'Human output: show `ok` findings in full, not as a count'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l summary -d 'Human output: print only the summary (one line per finding above ok) and the cost'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -s y -l yes -d 'Apply the chosen remediation without asking (a backup is still written first)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -l dry-run -d 'Show the plan and dry-run it on the server, then stop without changing anything'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -f -a "etcd" -d 'Find what fills etcd (size, objects per type, completed Jobs, failed Pods, Helm history, large objects) and clean it up safely'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -f -a "guard" -d 'Find the AKS managed API server guard, explain what it throttles, and remove or relax it safely'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -f -a "throttle" -d 'Find what and who loads the API server (live from /metrics, or from an audit log) and throttle the offending client with a FlowSchema'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -f -a "webhooks" -d 'Find the admission webhook that blocks the cluster, prove why, and change it safely'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -f -a "connectivity" -d 'Check every path to and from the API server, rung by rung, and aggregated APIs'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -f -a "undo" -d 'Restore a backup bundle written by a remediation (default: the newest one not yet restored in which something changed)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -f -a "backups" -d 'List the backup bundles remediations have written'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -f -a "version" -d 'Print the version and the commit it was built from'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -f -a "completion" -d 'Print shell completions for kubectl-apidiag'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -f -a "__complete" -d 'Candidates for kubectl\'s plugin completion (see completions/kubectl_complete-apidiag)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l quota -d 'The etcd quota (--quota-backend-bytes) the database size is compared with; 8 GiB on AKS' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l object-threshold -d 'Objects of one type above which a type that leaks is flagged (guide: 10,000); types that grow with the cluster get at least as much, more on a big cluster (docs/checks/etcd.md)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l history-max -d 'Helm revisions per release above which the release is flagged (Helm\'s --history-max default)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l large-object-size -d 'ConfigMaps and Secrets from this size are listed as large' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l fix -d 'Apply one of the guide\'s fixes (previewed, dry-run, confirmed, backed up, undoable)' -r -f -a "completed-jobs\t'Delete completed Jobs (status.successful=1 and a Complete condition), with their Pods'
failed-pods\t'Delete Pods in phase Failed'
helm-history\t'Delete Helm revisions beyond the newest --keep per release; the deployed one stays'
cronjob-ttl\t'Add ttlSecondsAfterFinished (--ttl) to the job templates of CronJobs that have none'
object-quota\t'Create object-count ResourceQuotas (--quota-objects) in namespaces where objects pile up'"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l older-than -d 'Only objects at least this old (creation time, as kubectl\'s AGE): 30m, 12h, 7d' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l in -d 'Fix in this namespace (repeatable); without it a terminal offers a multi-select' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l keep -d 'With --fix helm-history: revisions to keep per release (the deployed one is always kept)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l ttl -d 'With --fix cronjob-ttl: ttlSecondsAfterFinished to set [default: 86400]' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l quota-objects -d 'With --fix object-quota: the limit for each counted kind [default: 5000]' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l delete-qps -d 'Requests per second at most while a fix deletes (the diagnosis keeps --qps); the pace adapts below it' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l kubeconfig -d 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -s n -l namespace -d 'Namespace for namespaced checks (default: the context\'s namespace)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l as-group -d 'Group to impersonate (repeat for several groups)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l request-timeout -d 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -s o -l output -d 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)' -r -f -a "human\t''
json\t''
yaml\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l color -d 'When to use colour in human output (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l qps -d 'Requests per second, at most, averaged over a run' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l burst -d 'Requests that may be sent back to back before --qps applies' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l max-requests -d 'Requests one run may send in all; checks that would need more stop and say so' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l page-size -d 'Objects per page in LIST requests' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l scan-sizes -d 'Read every ConfigMap, Secret and Pod to list the largest, even when the metrics say size is not the problem'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -s A -l all-namespaces -d 'Fix in every namespace (one cluster-wide listing)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -s v -l verbose -d 'Human output: show `ok` findings in full, not as a count'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l summary -d 'Human output: print only the summary (one line per finding above ok) and the cost'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -s y -l yes -d 'Apply the chosen remediation without asking (a backup is still written first)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -l dry-run -d 'Show the plan and dry-run it on the server, then stop without changing anything'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand etcd" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l fix -d 'Apply one of the guide\'s fixes (previewed, confirmed, backed up, undoable)' -r -f -a "skip-update\t'Label both objects `aks-managed-skip-update-operation=true`, so AKS keeps your changes'
raise-shares\t'Raise the guard\'s concurrency shares (and label it, or AKS would undo the change)'
delete\t'Delete both objects; only after the offending clients were fixed'"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l shares -d 'With --fix raise-shares: the new concurrency shares (default: double the current)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l kubeconfig -d 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -s n -l namespace -d 'Namespace for namespaced checks (default: the context\'s namespace)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l as-group -d 'Group to impersonate (repeat for several groups)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l request-timeout -d 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -s o -l output -d 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)' -r -f -a "human\t''
json\t''
yaml\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l color -d 'When to use colour in human output (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l qps -d 'Requests per second, at most, averaged over a run' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l burst -d 'Requests that may be sent back to back before --qps applies' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l max-requests -d 'Requests one run may send in all; checks that would need more stop and say so' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l page-size -d 'Objects per page in LIST requests' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l clients-fixed -d 'With --fix delete --yes: confirm that the offending clients were found and fixed'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -s v -l verbose -d 'Human output: show `ok` findings in full, not as a count'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l summary -d 'Human output: print only the summary (one line per finding above ok) and the cost'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -s y -l yes -d 'Apply the chosen remediation without asking (a backup is still written first)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -l dry-run -d 'Show the plan and dry-run it on the server, then stop without changing anything'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand guard" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l window -d 'Without --audit-log: how long to wait between the two /metrics scrapes (0: read the counters since the API server started)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l audit-log -d 'Audit logs to read: files, folders, globs, `-` for standard input (repeat or give several)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l since -d 'Only requests received at or after this: RFC 3339, or a duration before the newest event (15m, 2h)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l until -d 'Only requests received at or before this: RFC 3339, or a duration before the newest event' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l user-agent -d 'Only user agents that start with this (`kubectl/` matches every kubectl)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l audit-user -d 'Only requests of this user, exactly (e.g. system:serviceaccount:ns:name)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l bin -d 'Width of the latency time bins' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l server-version -d 'The server\'s Kubernetes version, for where LISTs are served from (default: the live server\'s /version)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l top -d 'How many user agents the tables and the chart show' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l html -d 'Also write one self-contained HTML page (inline SVG chart and the tables, no network)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l kql -d 'Print the Log Analytics query that exports what this check reads, and exit' -r -f -a "resource-specific\t'Resource-specific tables (`AKSAudit`)'
azure-diagnostics\t'The legacy `AzureDiagnostics` table (`log_s`)'"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l fix -d 'Throttle a client with API Priority and Fairness, or remove what apidiag created (previewed, dry-run, confirmed, backed up, undoable)' -r -f -a "flowschema\t'Throttle one client: a PriorityLevelConfiguration with a hard seat cap and a FlowSchema ahead of the one that catches it today'
remove\t'Delete every FlowSchema and PriorityLevelConfiguration apidiag created (label apidiag.io/generated)'"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l service-account -d 'With --fix flowschema: a service account to throttle (repeatable)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l group -d 'With --fix flowschema: a group to throttle (repeatable)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l subject-user -d 'With --fix flowschema: a user to throttle (repeatable; --user is kubectl\'s kubeconfig user)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l verbs -d 'With --fix flowschema: the verbs to throttle (default: those of the audit log, else every verb)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l resources -d 'With --fix flowschema: the resources to throttle, `pods`, `deployments.apps`, `pods/log` (default: the audit log\'s, else all)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l in-namespaces -d 'With --fix flowschema: the namespaces to throttle in (default: every namespace and namespace-less calls)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l seats -d 'With --fix flowschema: the seats the throttled calls may hold at once (a LIST takes about one per 100 objects)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l verify -d 'Check that a throttle FlowSchema took effect: digested, dispatching, nobody else\'s 429s up (over --window)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l kubeconfig -d 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -s n -l namespace -d 'Namespace for namespaced checks (default: the context\'s namespace)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l as-group -d 'Group to impersonate (repeat for several groups)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l request-timeout -d 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -s o -l output -d 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)' -r -f -a "human\t''
json\t''
yaml\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l color -d 'When to use colour in human output (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l qps -d 'Requests per second, at most, averaged over a run' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l burst -d 'Requests that may be sent back to back before --qps applies' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l max-requests -d 'Requests one run may send in all; checks that would need more stop and say so' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l page-size -d 'Objects per page in LIST requests' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l reject -d 'With --fix flowschema: answer calls beyond the cap with 429 at once instead of queueing them'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -s v -l verbose -d 'Human output: show `ok` findings in full, not as a count'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l summary -d 'Human output: print only the summary (one line per finding above ok) and the cost'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -s y -l yes -d 'Apply the chosen remediation without asking (a backup is still written first)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -l dry-run -d 'Show the plan and dry-run it on the server, then stop without changing anything'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand throttle" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l fix -d 'Apply a fix to the webhooks named by --webhook (previewed, dry-run, confirmed, backed up, undoable)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l webhook -d 'With --fix: a webhook to change, by its name in the configuration (repeatable); delete removes its whole configuration' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l kubeconfig -d 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -s n -l namespace -d 'Namespace for namespaced checks (default: the context\'s namespace)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l as-group -d 'Group to impersonate (repeat for several groups)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l request-timeout -d 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -s o -l output -d 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)' -r -f -a "human\t''
json\t''
yaml\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l color -d 'When to use colour in human output (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l qps -d 'Requests per second, at most, averaged over a run' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l burst -d 'Requests that may be sent back to back before --qps applies' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l max-requests -d 'Requests one run may send in all; checks that would need more stop and say so' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l page-size -d 'Objects per page in LIST requests' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -s v -l verbose -d 'Human output: show `ok` findings in full, not as a count'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l summary -d 'Human output: print only the summary (one line per finding above ok) and the cost'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -s y -l yes -d 'Apply the chosen remediation without asking (a backup is still written first)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -l dry-run -d 'Show the plan and dry-run it on the server, then stop without changing anything'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand webhooks" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l connect-timeout -d 'How long one TCP connect may take (the TLS handshake gets twice as long): 5s, 500ms' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l client-ip -d 'Your public egress IP, to check against --authorized-ip-ranges (apidiag never looks it up)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l authorized-ip-ranges -d 'The cluster\'s authorized IP ranges, as `az aks show --query apiServerAccessProfile.authorizedIpRanges` prints them (repeatable, or comma-separated)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l tunnel-nodes -d 'Probe the path API server → kubelet on at most N nodes (with and without an agent) by reading one byte of a pod\'s log there; 0 turns the probe off' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l from-node -d 'Probe from this node (repeatable): a short-lived Pod on its host network resolves and connects to the API server (on AKS also to the required outbound endpoints) and is deleted after. It creates Pods, so it is previewed and confirmed like a fix' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l sample-nodes -d 'Probe from N nodes, chosen across node pools, instead of naming them' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l probe-image -d 'The probe\'s image: it needs sh, nslookup and nc (busybox has them); where egress allows only MCR, an MCR busybox such as mcr.microsoft.com/azurelinux/busybox:1.36' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l probe-timeout -d 'How long a probe Pod may take to start and finish before it is given up (and deleted)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l fix -d 'Apply a fix (previewed, dry-run, confirmed, backed up, undoable)' -r -f -a "delete-apiservice\t'Delete the APIServices named by --apiservice whose Service or namespace is gone'
restart-tunnel\t'Restart the tunnel agents (a rollout restart of konnectivity-agent, as Microsoft documents)'"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l apiservice -d 'With --fix delete-apiservice: an APIService to delete, by name (repeatable)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l kubeconfig -d 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -s n -l namespace -d 'Namespace for namespaced checks (default: the context\'s namespace)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l as-group -d 'Group to impersonate (repeat for several groups)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l request-timeout -d 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -s o -l output -d 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)' -r -f -a "human\t''
json\t''
yaml\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l color -d 'When to use colour in human output (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l qps -d 'Requests per second, at most, averaged over a run' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l burst -d 'Requests that may be sent back to back before --qps applies' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l max-requests -d 'Requests one run may send in all; checks that would need more stop and say so' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l page-size -d 'Objects per page in LIST requests' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -s v -l verbose -d 'Human output: show `ok` findings in full, not as a count'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l summary -d 'Human output: print only the summary (one line per finding above ok) and the cost'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -s y -l yes -d 'Apply the chosen remediation without asking (a backup is still written first)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -l dry-run -d 'Show the plan and dry-run it on the server, then stop without changing anything'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand connectivity" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l rate -d 'Objects per second at most while a cleanup is restored (the diagnosis keeps --qps); the pace adapts below it' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l ttl -d 'Restored Jobs whose ttlSecondsAfterFinished has passed (the TTL controller deletes them again at once): keep (as saved), drop (they stay), or a duration such as 24h (they stay that long)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l kubeconfig -d 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -s n -l namespace -d 'Namespace for namespaced checks (default: the context\'s namespace)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l as-group -d 'Group to impersonate (repeat for several groups)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l request-timeout -d 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -s o -l output -d 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)' -r -f -a "human\t''
json\t''
yaml\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l color -d 'When to use colour in human output (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l qps -d 'Requests per second, at most, averaged over a run' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l burst -d 'Requests that may be sent back to back before --qps applies' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l max-requests -d 'Requests one run may send in all; checks that would need more stop and say so' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l page-size -d 'Objects per page in LIST requests' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l rerun-pods -d 'Confirm, with --yes, that restored Pods run again (a restored Pod is a new Pod: it is scheduled and its containers start over)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -s v -l verbose -d 'Human output: show `ok` findings in full, not as a count'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l summary -d 'Human output: print only the summary (one line per finding above ok) and the cost'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -s y -l yes -d 'Apply the chosen remediation without asking (a backup is still written first)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -l dry-run -d 'Show the plan and dry-run it on the server, then stop without changing anything'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand undo" -s h -l help -d 'Print help'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l kubeconfig -d 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -s n -l namespace -d 'Namespace for namespaced checks (default: the context\'s namespace)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l as-group -d 'Group to impersonate (repeat for several groups)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l request-timeout -d 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -s o -l output -d 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)' -r -f -a "human\t''
json\t''
yaml\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l color -d 'When to use colour in human output (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l qps -d 'Requests per second, at most, averaged over a run' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l burst -d 'Requests that may be sent back to back before --qps applies' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l max-requests -d 'Requests one run may send in all; checks that would need more stop and say so' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l page-size -d 'Objects per page in LIST requests' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -s v -l verbose -d 'Human output: show `ok` findings in full, not as a count'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l summary -d 'Human output: print only the summary (one line per finding above ok) and the cost'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -s y -l yes -d 'Apply the chosen remediation without asking (a backup is still written first)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -l dry-run -d 'Show the plan and dry-run it on the server, then stop without changing anything'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand backups" -s h -l help -d 'Print help'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -s n -l namespace -d 'Namespace for namespaced checks (default: the context\'s namespace)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l as-group -d 'Group to impersonate (repeat for several groups)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l request-timeout -d 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -s o -l output -d 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)' -r -f -a "human\t''
json\t''
yaml\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l color -d 'When to use colour in human output (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l qps -d 'Requests per second, at most, averaged over a run' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l burst -d 'Requests that may be sent back to back before --qps applies' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l max-requests -d 'Requests one run may send in all; checks that would need more stop and say so' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l page-size -d 'Objects per page in LIST requests' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -s v -l verbose -d 'Human output: show `ok` findings in full, not as a count'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l summary -d 'Human output: print only the summary (one line per finding above ok) and the cost'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -s y -l yes -d 'Apply the chosen remediation without asking (a backup is still written first)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -l dry-run -d 'Show the plan and dry-run it on the server, then stop without changing anything'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand version" -s h -l help -d 'Print help'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -s n -l namespace -d 'Namespace for namespaced checks (default: the context\'s namespace)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l as-group -d 'Group to impersonate (repeat for several groups)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l request-timeout -d 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -s o -l output -d 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)' -r -f -a "human\t''
json\t''
yaml\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l color -d 'When to use colour in human output (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l qps -d 'Requests per second, at most, averaged over a run' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l burst -d 'Requests that may be sent back to back before --qps applies' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l max-requests -d 'Requests one run may send in all; checks that would need more stop and say so' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l page-size -d 'Objects per page in LIST requests' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -s v -l verbose -d 'Human output: show `ok` findings in full, not as a count'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l summary -d 'Human output: print only the summary (one line per finding above ok) and the cost'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -s y -l yes -d 'Apply the chosen remediation without asking (a backup is still written first)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -l dry-run -d 'Show the plan and dry-run it on the server, then stop without changing anything'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l kubeconfig -d 'Path to the kubeconfig file to use (default: $KUBECONFIG, merged, then ~/.kube/config)' -r -F
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -s n -l namespace -d 'Namespace for namespaced checks (default: the context\'s namespace)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l as-group -d 'Group to impersonate (repeat for several groups)' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l request-timeout -d 'How long to wait for one API request before giving up: 30s, 1m, 0 for no limit' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -s o -l output -d 'Output format: human for people, json or yaml for scripts (schema: docs/report-schema.md)' -r -f -a "human\t''
json\t''
yaml\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l color -d 'When to use colour in human output (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l qps -d 'Requests per second, at most, averaged over a run' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l burst -d 'Requests that may be sent back to back before --qps applies' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l max-requests -d 'Requests one run may send in all; checks that would need more stop and say so' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l page-size -d 'Objects per page in LIST requests' -r
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -s v -l verbose -d 'Human output: show `ok` findings in full, not as a count'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l summary -d 'Human output: print only the summary (one line per finding above ok) and the cost'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -s y -l yes -d 'Apply the chosen remediation without asking (a backup is still written first)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -l dry-run -d 'Show the plan and dry-run it on the server, then stop without changing anything'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand __complete" -s h -l help -d 'Print help'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand help; and not __fish_seen_subcommand_from etcd guard throttle webhooks connectivity undo backups version completion __complete help" -f -a "etcd" -d 'Find what fills etcd (size, objects per type, completed Jobs, failed Pods, Helm history, large objects) and clean it up safely'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand help; and not __fish_seen_subcommand_from etcd guard throttle webhooks connectivity undo backups version completion __complete help" -f -a "guard" -d 'Find the AKS managed API server guard, explain what it throttles, and remove or relax it safely'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand help; and not __fish_seen_subcommand_from etcd guard throttle webhooks connectivity undo backups version completion __complete help" -f -a "throttle" -d 'Find what and who loads the API server (live from /metrics, or from an audit log) and throttle the offending client with a FlowSchema'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand help; and not __fish_seen_subcommand_from etcd guard throttle webhooks connectivity undo backups version completion __complete help" -f -a "webhooks" -d 'Find the admission webhook that blocks the cluster, prove why, and change it safely'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand help; and not __fish_seen_subcommand_from etcd guard throttle webhooks connectivity undo backups version completion __complete help" -f -a "connectivity" -d 'Check every path to and from the API server, rung by rung, and aggregated APIs'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand help; and not __fish_seen_subcommand_from etcd guard throttle webhooks connectivity undo backups version completion __complete help" -f -a "undo" -d 'Restore a backup bundle written by a remediation (default: the newest one not yet restored in which something changed)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand help; and not __fish_seen_subcommand_from etcd guard throttle webhooks connectivity undo backups version completion __complete help" -f -a "backups" -d 'List the backup bundles remediations have written'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand help; and not __fish_seen_subcommand_from etcd guard throttle webhooks connectivity undo backups version completion __complete help" -f -a "version" -d 'Print the version and the commit it was built from'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand help; and not __fish_seen_subcommand_from etcd guard throttle webhooks connectivity undo backups version completion __complete help" -f -a "completion" -d 'Print shell completions for kubectl-apidiag'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand help; and not __fish_seen_subcommand_from etcd guard throttle webhooks connectivity undo backups version completion __complete help" -f -a "__complete" -d 'Candidates for kubectl\'s plugin completion (see completions/kubectl_complete-apidiag)'
complete -c kubectl-apidiag -n "__fish_kubectl_apidiag_using_subcommand help; and not __fish_seen_subcommand_from etcd guard throttle webhooks connectivity undo backups version completion __complete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
