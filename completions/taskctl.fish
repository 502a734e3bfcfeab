# fish completion for taskctl
#
# Installed as share/fish/vendor_completions.d/taskctl.fish; or copy it to
# ~/.config/fish/completions/. Completes subcommands, the options of each
# (global options are accepted after the subcommand too), option values
# (-o formats, --color, --status, --sort, --columns, --by, store URI schemes,
# files for sqlite:, durations, @FILE for --result), the STATUS of set-status
# and the ACTION of vars, the store URIs of copy, files where a FILE is
# expected, keys read from the store with `taskctl ls --keys-only` (1000 at
# most), and owners from what was typed with `taskctl ls --owners PREFIX`
# (1000 at most, the walk bounded by --within 1s), each bounded by a 2 s
# timeout, errors silenced, so completion never hangs. The store is the one given on the line
# (-s/--store), else TASKCTL_STORE, else the default store.
#
# Keep in agreement with `taskctl --help`, man/taskctl.1 and the bash and zsh
# completions (tests/docs checks this).

set -l __taskctl_commands get put cas delete ls gc validate cancel set-status vars expire edit stats export import copy stores whoami help version

# Runs the real CLI on the store of the line with the arguments given (after
# the global options that bound it: --timeout 1s, within 2 s in all), errors
# silenced, stdin closed.
function __taskctl_run_store
    set -l tokens (commandline -opc)
    set -l cmd $tokens[1]
    if not string match -q -- '*/*' $cmd
        set cmd (command -s -- $cmd 2>/dev/null)
    end
    test -n "$cmd"; and test -x "$cmd"; or return 0
    set -l args
    # The store given on the line, if any.
    set -l i 2
    while test $i -le (count $tokens)
        switch $tokens[$i]
            case -s --store
                set i (math $i + 1)
                test $i -le (count $tokens); and set args --store $tokens[$i]
            case '--store=*'
                set args --store (string replace -- '--store=' '' $tokens[$i])
        end
        set i (math $i + 1)
    end
    # copy reads its PREFIX and --owner from SRC_URI (--store is not used).
    set -l src (__taskctl_copy_source)
    switch $status
        case 0
            set args --store $src
        case 2
            return 0
    end
    set -l run $cmd $args --timeout 1s --color never -q $argv
    if command -sq timeout
        timeout -k 1 2 $run 2>/dev/null </dev/null
    else
        $run 2>/dev/null </dev/null
    end
end

# The token being completed, without an "--NAME=" in front.
function __taskctl_token
    commandline -ct | string replace -r -- '^--[a-z-]+=' ''
end

# Prints the store keys that start with the token being completed: at most 1000.
function __taskctl_keys
    set -l prefix (__taskctl_token)
    if test -n "$prefix"
        __taskctl_run_store ls --keys-only -o raw --limit 1000 -- $prefix
    else
        __taskctl_run_store ls --keys-only -o raw --limit 1000
    end
end

# Prints copy's SRC_URI, its first positional (status 0); status 1 when the
# subcommand is not copy, 2 when SRC_URI is not on the line yet.
function __taskctl_copy_source
    set -l tokens (commandline -opc)
    set -l seen 0
    set -l skip 0
    for tok in $tokens[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $tok
            case -s --store -o --output --timeout --color -e --expect-version --owner --status --limit \
                --max-delete --batch --max-depth --max-string-length --max-size --max-record-size --max-violations -m --message \
                --result --retries --string --extend --in --at --method --created-before --created-after \
                --updated-before --updated-after --columns --sort --sort-memory --start-after --within --by -f --file \
                --src-password-file --dst-password-file
                set skip 1
            case '-*'
            case '*'
                if test $seen -eq 0
                    test $tok = copy; or return 1
                    set seen 1
                else
                    echo $tok
                    return 0
                end
        end
    end
    test $seen -eq 1; and return 2
    return 1
end

# Prints the owners whose name starts with the token being completed, as
# `taskctl ls --owners` finds them from what was typed: at most 1000, the
# walk bounded by --within 1s.
function __taskctl_owners
    set -l prefix (__taskctl_token)
    if test -n "$prefix"
        __taskctl_run_store ls --owners --within 1s -o raw --limit 1000 -- $prefix
    else
        __taskctl_run_store ls --owners --within 1s -o raw --limit 1000
    end
end

# The store URI schemes; after "sqlite:", files.
function __taskctl_store_values
    set -l tok (commandline -ct | string replace -r -- '^--store=' '')
    switch $tok
        case 'sqlite:*'
            set -l path (string replace -- 'sqlite:' '' $tok)
            for f in (__fish_complete_path $path)
                echo sqlite:$f
            end
        case '*'
            printf '%s\n' mem:// sqlite: redis:// rediss:// redis+unix:// dynamodb://
            __taskctl_store_names
    end
end

# The config file's named stores (@NAME), as `taskctl stores -o raw` lists
# them: errors silenced, 2 seconds at most, 1000 at most.
function __taskctl_store_names
    set -l cmd (commandline -opc)[1]
    test -n "$cmd"; or return 0
    if command -sq timeout
        timeout -k 1 2 $cmd --color never -q stores -o raw 2>/dev/null </dev/null | head -n 1000
    else
        $cmd --color never -q stores -o raw 2>/dev/null </dev/null | head -n 1000
    end
end

# --status takes a comma-separated list: complete its last element.
function __taskctl_status_values
    set -l tok (commandline -ct | string replace -r -- '^--status=' '')
    set -l done (string replace -r -- '[^,]*$' '' $tok)
    for s in working input_required completed failed cancelled
        echo $done$s
    end
end

# ls --columns takes a comma-separated list: complete its last element.
function __taskctl_column_values
    set -l tok (commandline -ct | string replace -r -- '^--columns=' '')
    set -l done (string replace -r -- '[^,]*$' '' $tok)
    for c in key owner task version status message method created updated age expires expired size
        echo $done$c
    end
end

# set-status --result: JSON text (nothing to offer), or @FILE and @- (stdin).
function __taskctl_result_values
    set -l tok (commandline -ct | string replace -r -- '^--result=' '')
    switch $tok
        case '' '@*'
            set -l path (string replace -r -- '^@' '' $tok)
            for f in (__fish_complete_path $path)
                echo @$f
            end
            echo @-
    end
end

# True when the subcommand is $argv[1] and fewer than $argv[2] positionals follow it.
function __taskctl_positional_before -a command max
    set -l tokens (commandline -opc)
    set -l seen 0
    set -l count 0
    set -l skip 0
    for tok in $tokens[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $tok
            case -s --store -o --output --timeout --color -e --expect-version --owner --status --limit \
                --max-delete --batch --max-depth --max-string-length --max-size --max-record-size --max-violations -m --message \
                --result --retries --string --extend --in --at --method --created-before --created-after \
                --updated-before --updated-after --columns --sort --sort-memory --start-after --within --by -f --file \
                --src-password-file --dst-password-file
                set skip 1
            case '-*'
            case '*'
                if test $seen -eq 0
                    test $tok = $command; or return 1
                    set seen 1
                else
                    set count (math $count + 1)
                end
        end
    end
    test $seen -eq 1; and test $count -lt $max
end

complete -c taskctl -f

# Subcommands.
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a get -d 'Print one record, its version and whether it is expired'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a put -d 'Write a record (validated)'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a cas -d 'Write a record only if its version is the one expected'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a delete -d 'Delete records by key, or every record of one owner'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a ls -d 'List records, with filters'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a gc -d 'Remove expired records'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a validate -d 'Check variables, records or the store against the limits'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a cancel -d "Cancel tasks, as pmcp-tasks' cancel does"
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a set-status -d 'Move a task to another status'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a vars -d "Print a task's variables, or set and unset them"
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a expire -d 'Change when a task expires'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a edit -d 'Edit a record in $VISUAL / $EDITOR, then write it back'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a stats -d 'Count, size and date the records'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a export -d 'Write records as JSON lines (a backup)'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a import -d 'Write the records of an export file into the store'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a copy -d 'Copy records from one store into another'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a stores -d 'List the named stores of the config file'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a whoami -d 'Show what the store authenticates with'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a help -d 'Print the help of taskctl, or of one command'
complete -c taskctl -n "not __fish_seen_subcommand_from $__taskctl_commands" -a version -d 'Print the version, the backends and their libraries'
complete -c taskctl -n "__fish_seen_subcommand_from help; and not __fish_seen_subcommand_from $__taskctl_commands[1..-3]" -x -a "$__taskctl_commands"

# Global options (also accepted after the subcommand).
complete -c taskctl -s h -l help -d 'Print help and exit'
complete -c taskctl -l version -d 'Print the version and the compiled-in backends'
complete -c taskctl -s s -l store -x -a '(__taskctl_store_values)' -d 'Store URI'
complete -c taskctl -s o -l output -x -a 'json jsonl table raw' -d 'Output format'
complete -c taskctl -l timeout -x -a '500ms 1s 2s 5s 10s 30s 1m' -d 'Connect and request timeout'
complete -c taskctl -l color -x -a 'auto always never' -d 'Colour'
complete -c taskctl -s q -l quiet -d 'Suppress warnings, summaries and progress'
complete -c taskctl -l create -d 'Let a write create a store that does not exist'
complete -c taskctl -l allow-write -d 'Let a command write to a read_only named store'
complete -c taskctl -n '__fish_seen_subcommand_from stores' -l check -d 'Open each store: reachable or unreachable'
complete -c taskctl -l wide -d "Never cut a table to the terminal's width"

# get KEY
complete -c taskctl -n '__taskctl_positional_before get 1' -a '(__taskctl_keys)'

# put KEY [FILE|-]  and  cas KEY [FILE|-]
for c in put cas
    complete -c taskctl -n "__taskctl_positional_before $c 1" -a '(__taskctl_keys)'
    complete -c taskctl -n "__fish_seen_subcommand_from $c; and not __taskctl_positional_before $c 1; and __taskctl_positional_before $c 2" -F -a - -d 'standard input'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l no-validate -d 'Store the input bytes exactly as given'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -s n -l dry-run -d 'Validate and report; write nothing'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l force -d 'Write even a status transition pmcp-tasks forbids'
end
complete -c taskctl -n '__fish_seen_subcommand_from put' -l if-absent -d 'Create only: exit 4 when the key exists'
complete -c taskctl -n '__fish_seen_subcommand_from cas' -s e -l expect-version -x -d 'The version the record must have now'

# delete [KEY...]
complete -c taskctl -n '__taskctl_positional_before delete 1000000' -a '(__taskctl_keys)'
complete -c taskctl -n '__fish_seen_subcommand_from delete' -l owner -x -a '(__taskctl_owners)' -d 'Delete every record of this owner'
complete -c taskctl -n '__fish_seen_subcommand_from delete' -l ignore-not-found -d 'A missing key is not an error'
complete -c taskctl -n '__fish_seen_subcommand_from delete' -s n -l dry-run -d 'Report what would be deleted'
complete -c taskctl -n '__fish_seen_subcommand_from delete' -s y -l yes -d 'Do not ask for confirmation'
complete -c taskctl -n '__fish_seen_subcommand_from delete' -s e -l expect-version -x -d 'Delete the one KEY only if its version is N'
complete -c taskctl -n '__fish_seen_subcommand_from delete' -l max-delete -x -d 'Refuse when more than N would go'
complete -c taskctl -n '__fish_seen_subcommand_from delete' -l batch -x -d 'Delete at most N in this run'

# The record filters of ls, stats and export, and their PREFIX.
for c in ls stats export
    complete -c taskctl -n "__taskctl_positional_before $c 1" -a '(__taskctl_owners | string replace -r -- "\$" ":")'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l owner -x -a '(__taskctl_owners)' -d "Only this owner's records"
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l status -x -a '(__taskctl_status_values)' -d 'Only records in these states'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l method -x -d 'Only records with one of these requestMethods'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l expired -d 'Only expired records'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l live -d 'Only records that are not expired'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l created-before -x -a '30m 1h 2h 1d 7d 30d' -d 'Only records created before WHEN (ago, or RFC 3339)'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l created-after -x -a '30m 1h 2h 1d 7d 30d' -d 'Only records created after WHEN'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l updated-before -x -a '30m 1h 2h 1d 7d 30d' -d 'Only records last updated before WHEN'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l updated-after -x -a '30m 1h 2h 1d 7d 30d' -d 'Only records last updated after WHEN'
end

# ls [PREFIX]
complete -c taskctl -n '__fish_seen_subcommand_from ls' -l limit -x -d 'Stop after N matching records'
complete -c taskctl -n '__fish_seen_subcommand_from ls' -l keys-only -d 'Print only the keys'
complete -c taskctl -n '__fish_seen_subcommand_from ls' -l count -d 'Print only the number of records'
complete -c taskctl -n '__fish_seen_subcommand_from ls' -l columns -x -a '(__taskctl_column_values)' -d 'Columns of the table, fields of jsonl/json'
complete -c taskctl -n '__fish_seen_subcommand_from ls' -l sort -x -a 'created updated expires key' -d 'Sort by this field (held in memory)'
complete -c taskctl -n '__fish_seen_subcommand_from ls' -l desc -d 'With --sort: largest (newest, latest) first'
complete -c taskctl -n '__fish_seen_subcommand_from ls' -l sort-memory -x -d 'With --sort: most records it may hold'
complete -c taskctl -n '__fish_seen_subcommand_from ls' -l start-after -x -a '(__taskctl_keys)' -d 'Resume a listing after this key'
complete -c taskctl -n '__fish_seen_subcommand_from ls' -l no-pager -d 'Never send a table through $PAGER'
complete -c taskctl -n '__fish_seen_subcommand_from ls' -l owners -d 'List the distinct owners of the records in scope instead'
complete -c taskctl -n '__fish_seen_subcommand_from ls' -l within -x -a '500ms 1s 2s 5s 10s' -d 'With --owners: stop looking after DURATION'

# stats [PREFIX]
complete -c taskctl -n '__fish_seen_subcommand_from stats' -l by -x -a 'owner status method day' -d 'Also count the records per group'

# export [PREFIX]
complete -c taskctl -n '__fish_seen_subcommand_from export' -s f -l file -r -F -d 'Write to FILE (gzip when it ends in .gz)'

# import [FILE|-]
complete -c taskctl -n '__taskctl_positional_before import 1' -F -a - -d 'standard input'
complete -c taskctl -n '__fish_seen_subcommand_from import' -s n -l dry-run -d 'Check every line; write nothing'
complete -c taskctl -n '__fish_seen_subcommand_from import' -l no-validate -d 'Import invalid records as they are'

# copy SRC_URI DST_URI [PREFIX]
complete -c taskctl -n '__taskctl_positional_before copy 2' -a '(__taskctl_store_values)'
complete -c taskctl -n '__fish_seen_subcommand_from copy; and not __taskctl_positional_before copy 2; and __taskctl_positional_before copy 3' -a '(__taskctl_owners | string replace -r -- "\$" ":")'
complete -c taskctl -n '__fish_seen_subcommand_from copy' -l owner -x -a '(__taskctl_owners)' -d "Only this owner's records (of the source)"
complete -c taskctl -n '__fish_seen_subcommand_from copy' -l include-expired -d 'Copy expired records too'
complete -c taskctl -n '__fish_seen_subcommand_from copy' -s n -l dry-run -d 'Read the source and report; write nothing'
complete -c taskctl -n '__fish_seen_subcommand_from copy' -l src-password-file -r -F -d "The source store's password, from FILE"
complete -c taskctl -n '__fish_seen_subcommand_from copy' -l dst-password-file -r -F -d "The target store's password, from FILE"
for c in import copy
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l if-absent -d 'Write only absent keys; skip the others'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l overwrite -d 'Overwrite the keys that exist'
end

# gc
complete -c taskctl -n '__fish_seen_subcommand_from gc' -l owner -x -a '(__taskctl_owners)' -d "Only this owner's records"
complete -c taskctl -n '__fish_seen_subcommand_from gc' -s n -l dry-run -d 'List what would be removed'
complete -c taskctl -n '__fish_seen_subcommand_from gc' -s y -l yes -d 'Do not ask for confirmation'
complete -c taskctl -n '__fish_seen_subcommand_from gc' -l include-damaged -d 'Also remove damaged records'
complete -c taskctl -n '__fish_seen_subcommand_from put cas import' -l max-record-size -x -d 'Largest record read, in bytes'
complete -c taskctl -n '__fish_seen_subcommand_from gc' -l max-delete -x -d 'Refuse when more than N would go'
complete -c taskctl -n '__fish_seen_subcommand_from gc' -l batch -x -d 'Remove at most N in this run'

# validate [FILE...|-]
complete -c taskctl -n '__fish_seen_subcommand_from validate' -F -a - -d 'standard input'
complete -c taskctl -n '__fish_seen_subcommand_from validate' -l record -d 'Every file is a whole TaskRecord'
complete -c taskctl -n '__fish_seen_subcommand_from validate' -l variables -d 'Every file is a variables object'
complete -c taskctl -n '__fish_seen_subcommand_from validate' -l stored -d 'Check every record in the store'
complete -c taskctl -n '__fish_seen_subcommand_from validate' -l as-stored -d "Measure a variables file's size as the bytes are given"
complete -c taskctl -n '__fish_seen_subcommand_from validate' -l owner -x -a '(__taskctl_owners)' -d "With --stored: only this owner's records"
complete -c taskctl -n '__fish_seen_subcommand_from validate' -l max-violations -x -d 'Report at most N violations per document'

# cancel KEY...
complete -c taskctl -n '__taskctl_positional_before cancel 1000000' -a '(__taskctl_keys)'
complete -c taskctl -n '__fish_seen_subcommand_from cancel' -s m -l message -x -d 'Set this statusMessage (default: clear it)'
complete -c taskctl -n '__fish_seen_subcommand_from cancel' -l force -d 'Cancel even a terminal or an expired task'

# set-status KEY STATUS
complete -c taskctl -n '__taskctl_positional_before set-status 1' -a '(__taskctl_keys)'
complete -c taskctl -n '__fish_seen_subcommand_from set-status; and not __taskctl_positional_before set-status 1; and __taskctl_positional_before set-status 2' -a 'working input_required completed failed cancelled'
complete -c taskctl -n '__fish_seen_subcommand_from set-status' -s m -l message -x -d 'Set this statusMessage'
complete -c taskctl -n '__fish_seen_subcommand_from set-status' -l clear-message -d 'Remove the statusMessage'
complete -c taskctl -n '__fish_seen_subcommand_from set-status' -l result -x -a '(__taskctl_result_values)' -d 'Also set the result: JSON, @FILE or @-'
complete -c taskctl -n '__fish_seen_subcommand_from set-status' -l force -d 'Write a forbidden transition, or change an expired task'

# vars KEY [set NAME=JSON... | unset NAME...]
complete -c taskctl -n '__taskctl_positional_before vars 1' -a '(__taskctl_keys)'
complete -c taskctl -n '__fish_seen_subcommand_from vars; and not __taskctl_positional_before vars 1; and __taskctl_positional_before vars 2' -a set -d 'Set NAME=JSON (or NAME=@FILE)...'
complete -c taskctl -n '__fish_seen_subcommand_from vars; and not __taskctl_positional_before vars 1; and __taskctl_positional_before vars 2' -a unset -d 'Remove NAME...'
complete -c taskctl -n '__fish_seen_subcommand_from vars' -l string -x -d 'With set: NAME=TEXT, stored as a JSON string'
complete -c taskctl -n '__fish_seen_subcommand_from vars' -l force -d 'Change the variables of an expired task'

# expire KEY (--extend D | --in D | --at TIME | --never)
complete -c taskctl -n '__taskctl_positional_before expire 1' -a '(__taskctl_keys)'
complete -c taskctl -n '__fish_seen_subcommand_from expire' -l extend -x -a '500ms 2s 1m 1h 7d' -d 'Move the expiry this much later'
complete -c taskctl -n '__fish_seen_subcommand_from expire' -l in -x -a '500ms 2s 1m 1h 7d' -d 'Expire this long from now'
complete -c taskctl -n '__fish_seen_subcommand_from expire' -l at -x -d 'Expire at this RFC 3339 time'
complete -c taskctl -n '__fish_seen_subcommand_from expire' -l never -d 'Never expire'
complete -c taskctl -n '__fish_seen_subcommand_from expire' -l force -d 'Accepted for symmetry'

# edit KEY
complete -c taskctl -n '__taskctl_positional_before edit 1' -a '(__taskctl_keys)'
complete -c taskctl -n '__fish_seen_subcommand_from edit' -s n -l dry-run -d 'Edit, check and print the diff; write nothing'
complete -c taskctl -n '__fish_seen_subcommand_from edit' -l force -d 'Write even a status transition pmcp-tasks forbids'

# The options the repair commands share (edit has no --retries).
for c in cancel set-status vars expire
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l retries -x -d 'Re-reads after a version conflict (then exit 4)'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -s n -l dry-run -d 'Print the unified diff; write nothing'
end

# The limits of put, cas, import, validate and the repair commands.
for c in put cas import validate cancel set-status vars expire edit
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l max-depth -x -d 'Largest nesting depth of a value'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l max-string-length -x -d 'Largest UTF-8 byte length of a string'
    complete -c taskctl -n "__fish_seen_subcommand_from $c" -l max-size -x -d 'Largest size of the variables, in bytes'
end
