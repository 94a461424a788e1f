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
            (undo)
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
'undo:Restore a backup bundle written by a remediation (default\: the newest)' \
'backups:List the backup bundles remediations have written' \
'version:Print the version' \
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
(( $+functions[_kubectl-apidiag__subcmd__help_commands] )) ||
_kubectl-apidiag__subcmd__help_commands() {
    local commands; commands=(
'undo:Restore a backup bundle written by a remediation (default\: the newest)' \
'backups:List the backup bundles remediations have written' \
'version:Print the version' \
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
(( $+functions[_kubectl-apidiag__subcmd__help__subcmd__help_commands] )) ||
_kubectl-apidiag__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-apidiag help help commands' commands "$@"
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

if [ "$funcstack[1]" = "_kubectl-apidiag" ]; then
    _kubectl-apidiag "$@"
else
    compdef _kubectl-apidiag kubectl-apidiag
fi
