# bash completion for taskctl                              -*- shell-script -*-
#
# Installed as share/bash-completion/completions/taskctl (loaded on demand by
# bash-completion); or source this file from ~/.bashrc. It needs nothing from
# bash-completion itself.
#
# Completes subcommands, the options of each (global options are accepted
# after the subcommand too), option values (-o formats, --color, --status,
# --sort, --columns, --by, store URI schemes, files for sqlite:, durations,
# @FILE for --result), the STATUS of set-status and the ACTION of vars, the
# store URIs of copy, files where a FILE is expected,
# keys read from the store with `taskctl ls --keys-only` (1000 at most), and
# owners from what was typed with `taskctl ls --owners PREFIX` (1000 at most, the
# walk bounded by --within 1s), each bounded by a 2 s timeout, errors
# silenced, so completion never hangs.
# The store is the one given on the line (-s/--store), else TASKCTL_STORE,
# else the default store.
#
# Keep in agreement with `taskctl --help`, man/taskctl.1 and the zsh and fish
# completions (tests/docs checks this).

_taskctl_commands='get put cas delete ls gc validate cancel set-status vars expire edit stats export import copy stores whoami help version'
_taskctl_global_opts='-h --help --version -s --store -o --output --timeout --color -q --quiet --create --allow-write --wide'
# Options taking a value (global and per subcommand); the rest are flags.
_taskctl_value_opts='-s --store -o --output --timeout --color -e --expect-version --owner --status
  --limit --max-delete --batch --max-depth --max-string-length --max-size --max-record-size --max-violations -m --message
  --result --retries --string --extend --in --at --method --created-before --created-after --updated-before
  --updated-after --columns --sort --sort-memory --start-after --within --by -f --file --src-password-file
  --dst-password-file'
_taskctl_limit_opts='--max-depth --max-string-length --max-size'
# The record filters of ls, stats and export.
_taskctl_filter_opts='--owner --status --method --expired --live --created-before --created-after
  --updated-before --updated-after'
# The options every repair command (cancel, set-status, vars, expire) shares.
_taskctl_repair_opts="--retries -n --dry-run --force $_taskctl_limit_opts"
_taskctl_statuses='working input_required completed failed cancelled'
_taskctl_columns='key owner task version status message method created updated age expires expired size'

# Prints the options of subcommand $1 (its own, then the global ones).
_taskctl_command_opts()
{
  local own
  case $1 in
  get) own='-h --help' ;;
  put) own="-h --help --no-validate -n --dry-run --force --if-absent --max-record-size $_taskctl_limit_opts" ;;
  cas) own="-h --help -e --expect-version --no-validate -n --dry-run --force --max-record-size $_taskctl_limit_opts" ;;
  delete) own='-h --help --owner --ignore-not-found -n --dry-run -y --yes -e --expect-version --max-delete --batch' ;;
  ls) own="-h --help $_taskctl_filter_opts --limit --keys-only --count --columns --sort --desc --sort-memory
    --start-after --no-pager --owners --within" ;;
  stats) own="-h --help $_taskctl_filter_opts --by" ;;
  export) own="-h --help $_taskctl_filter_opts -f --file" ;;
  import) own="-h --help --if-absent --overwrite -n --dry-run --no-validate --max-record-size $_taskctl_limit_opts" ;;
  copy) own='-h --help --owner --if-absent --overwrite --include-expired -n --dry-run --src-password-file
    --dst-password-file' ;;
  gc) own='-h --help --owner -n --dry-run -y --yes --include-damaged --max-delete --batch' ;;
  validate) own="-h --help --record --variables --stored --as-stored --owner --max-violations $_taskctl_limit_opts" ;;
  cancel) own="-h --help -m --message $_taskctl_repair_opts" ;;
  set-status) own="-h --help -m --message --clear-message --result $_taskctl_repair_opts" ;;
  vars) own="-h --help --string $_taskctl_repair_opts" ;;
  expire) own="-h --help --extend --in --at --never $_taskctl_repair_opts" ;;
  edit) own="-h --help -n --dry-run --force $_taskctl_limit_opts" ;;
  stores) own='-h --help --check' ;;
  whoami) own='-h --help' ;;
  help | version) own='-h --help' ;;
  esac
  printf '%s\n' "$own ${_taskctl_global_opts/-h --help /}"
}

# Runs the real CLI on the store of the line with the arguments given (after
# the global options that bound it: --timeout 1s, within 2 s in all), errors
# silenced, stdin closed.
# Prints the names of the config file's stores (@NAME, one per line), as
# `taskctl stores -o raw` lists them: errors silenced, 2 seconds at most.
_taskctl_store_names()
{
  local -a cmd=("${_taskctl_words[0]}")
  [[ ${cmd[0]} == */* || -z ${cmd[0]} ]] || cmd[0]=$(type -P -- "${cmd[0]}" 2>/dev/null)
  [[ -n ${cmd[0]} && -x ${cmd[0]} ]] || return 0
  if type -P timeout >/dev/null 2>&1; then
    cmd=(timeout -k 1 2 "${cmd[@]}")
  fi
  "${cmd[@]}" --color never -q stores -o raw 2>/dev/null </dev/null | head -n 1000
}

_taskctl_run_store()
{
  # copy before its SRC_URI: no store to read.
  ((_taskctl_no_store)) && return 0
  local -a cmd=("${_taskctl_words[0]}")
  [[ ${cmd[0]} == */* || -z ${cmd[0]} ]] || cmd[0]=$(type -P -- "${cmd[0]}" 2>/dev/null)
  [[ -n ${cmd[0]} && -x ${cmd[0]} ]] || return 0
  [[ -n $_taskctl_store ]] && cmd+=(--store "$_taskctl_store")
  if type -P timeout >/dev/null 2>&1; then
    cmd=(timeout -k 1 2 "${cmd[@]}")
  fi
  cmd+=(--timeout 1s --color never -q "$@")
  "${cmd[@]}" 2>/dev/null </dev/null
}

# Prints the keys of the store (one per line) that start with $1: at most 1000.
_taskctl_store_keys()
{
  if [[ -n $1 ]]; then
    _taskctl_run_store ls --keys-only -o raw --limit 1000 -- "$1"
  else
    _taskctl_run_store ls --keys-only -o raw --limit 1000
  fi
}

# Prints the owners of the store whose name starts with $1 (one per line), as
# `taskctl ls --owners` finds them from what was typed: at most 1000, the
# walk bounded by --within 1s.
_taskctl_store_owners()
{
  if [[ -n $1 ]]; then
    _taskctl_run_store ls --owners --within 1s -o raw --limit 1000 -- "$1"
  else
    _taskctl_run_store ls --owners --within 1s -o raw --limit 1000
  fi
}

# Adds the words of $1 that start with $cur to COMPREPLY.
_taskctl_add_words()
{
  local IFS=$' \t\n'
  local w
  for w in $1; do
    [[ $w == "$cur"* ]] && COMPREPLY+=("$w")
  done
}

# Adds lines of stdin that start with $cur to COMPREPLY.
_taskctl_add_lines()
{
  local line
  while IFS= read -r line; do
    [[ -n $line && $line == "$cur"* ]] && COMPREPLY+=("$line")
  done
}

# Adds files (and directories) matching $cur, with $1 in front (e.g. "sqlite:").
# A plain file argument lets bash quote the names and mark directories
# (-o filenames); behind a prefix, directories get their '/' here.
_taskctl_add_files()
{
  local prefix=$1 f
  local path=${cur#"$prefix"}
  # Tilde expansion of the typed text, as bash's own filename completion does.
  if [[ $path == '~'* ]]; then
    path=${path/#\~/$HOME}
  fi
  if [[ -z $prefix ]] && compopt -o filenames 2>/dev/null; then
    while IFS= read -r f; do
      COMPREPLY+=("$f")
    done < <(compgen -f -- "$path")
    return
  fi
  while IFS= read -r f; do
    [[ -d $f ]] && f+=/
    COMPREPLY+=("$prefix$f")
  done < <(compgen -f -- "$path")
  _taskctl_nospace=1
}

# Adds the words of $1 as the last element of the comma-separated list in $cur
# (skipping the elements already given).
_taskctl_add_list()
{
  local IFS=$' \t\n'
  local done=${cur%"${cur##*,}"} s
  for s in $1; do
    [[ $done$s == "$cur"* && ,$done, != *,$s,* ]] && COMPREPLY+=("$done$s")
  done
}

# Adds the PREFIX candidates for $cur: owners ("OWNER:") first, keys once an
# owner is typed.
_taskctl_add_prefixes()
{
  if [[ $cur == *:* ]]; then
    _taskctl_add_lines < <(_taskctl_store_keys "$cur")
  else
    local owner
    while IFS= read -r owner; do
      [[ -n $owner && $owner: == "$cur"* ]] && COMPREPLY+=("$owner:")
    done < <(_taskctl_store_owners "$cur")
    _taskctl_nospace=1
  fi
}

# Completes the value of option $1.
_taskctl_option_value()
{
  case $1 in
  -o | --output) _taskctl_add_words 'json jsonl table raw' ;;
  --color) _taskctl_add_words 'auto always never' ;;
  --status) _taskctl_add_list "$_taskctl_statuses" ;;
  --columns) _taskctl_add_list "$_taskctl_columns" ;;
  --sort) _taskctl_add_words 'created updated expires key' ;;
  --by) _taskctl_add_words 'owner status method day' ;;
  # WHEN: a duration ago, or an RFC 3339 time (nothing to offer).
  --created-before | --created-after | --updated-before | --updated-after) _taskctl_add_words '30m 1h 2h 1d 7d 30d' ;;
  -f | --file | --src-password-file | --dst-password-file) _taskctl_add_files '' ;;
  --start-after) _taskctl_add_lines < <(_taskctl_store_keys "$cur") ;;
  -s | --store)
    case $cur in
    sqlite:///*) _taskctl_add_files 'sqlite://' ;;
    sqlite:*) _taskctl_add_files 'sqlite:' ;;
    @*) _taskctl_add_lines < <(_taskctl_store_names) ;;
    *)
      _taskctl_add_words 'mem:// sqlite: redis:// rediss:// redis+unix:// dynamodb://'
      _taskctl_add_lines < <(_taskctl_store_names)
      _taskctl_nospace=1
      ;;
    esac
    ;;
  --timeout) _taskctl_add_words '500ms 1s 2s 5s 10s 30s 1m' ;;
  --extend | --in) _taskctl_add_words '500ms 2s 1m 1h 7d' ;;
  --result)
    # JSON text (nothing to offer), or @FILE / @- (stdin).
    if [[ -z $cur || $cur == @* ]]; then
      _taskctl_add_files '@'
      [[ @- == "$cur"* ]] && COMPREPLY+=(@-)
    fi
    ;;
  --owner) _taskctl_add_lines < <(_taskctl_store_owners "$cur") ;;
  --within) _taskctl_add_words '500ms 1s 2s 5s 10s' ;;
  esac
  # Numbers (--limit, --max-delete, --max-depth, -e, --retries, --sort-memory
  # ...), texts (--message, --string NAME=TEXT, --method) and times (--at):
  # nothing to offer.
}

_taskctl()
{
  COMPREPLY=()
  local _taskctl_nospace=0 _taskctl_store=${TASKCTL_STORE-} _taskctl_no_store=0
  local -a _taskctl_words
  local cur

  # Words from the line up to the cursor, split on blanks only: ':' and '='
  # (in COMP_WORDBREAKS) are part of keys, URIs and --store=URI.
  local line=${COMP_LINE:0:COMP_POINT}
  read -r -a _taskctl_words <<<"$line"
  if [[ -z $line || $line == *[[:blank:]] ]]; then
    cur=''
  else
    cur=${_taskctl_words[-1]}
    unset '_taskctl_words[-1]'
  fi

  # Walk the words: find the subcommand, the store given on the line, the
  # positionals so far, and whether the word before cur wants a value.
  local command='' prev_opt='' w i positionals=0 after_dashdash=0 first_positional=''
  for ((i = 1; i < ${#_taskctl_words[@]}; i++)); do
    w=${_taskctl_words[i]}
    if [[ -n $prev_opt ]]; then
      [[ $prev_opt == -s || $prev_opt == --store ]] && _taskctl_store=$w
      prev_opt=''
      continue
    fi
    if ((after_dashdash)) || [[ $w != -* || $w == - ]]; then
      if [[ -z $command ]]; then
        command=$w
      else
        ((positionals++ == 0)) && first_positional=$w
      fi
      continue
    fi
    case $w in
    --) after_dashdash=1 ;;
    --store=*) _taskctl_store=${w#--store=} ;;
    -s?*) _taskctl_store=${w#-s} ;;
    --*=*) ;;
    *) [[ " "$_taskctl_value_opts" " == *[[:space:]]"$w"[[:space:]]* ]] && prev_opt=$w ;;
    esac
  done

  # copy reads its PREFIX and --owner from SRC_URI, its first positional
  # (--store is not used).
  if [[ $command == copy ]]; then
    _taskctl_store=$first_positional
    [[ -n $first_positional ]] || _taskctl_no_store=1
  fi

  if [[ -n $prev_opt ]]; then
    _taskctl_option_value "$prev_opt"
  elif ((!after_dashdash)) && [[ $cur == --*=* ]]; then
    # NAME=VALUE (e.g. --store=URI): complete the value, keeping "NAME=" in front.
    local opt=${cur%%=*}
    cur=${cur#*=}
    _taskctl_option_value "$opt"
    local k
    for k in "${!COMPREPLY[@]}"; do
      COMPREPLY[k]=$opt=${COMPREPLY[k]}
    done
    cur=$opt=$cur
  elif ((!after_dashdash)) && [[ $cur == -* ]]; then
    if [[ -z $command ]]; then
      _taskctl_add_words "$_taskctl_global_opts"
    else
      _taskctl_add_words "$(_taskctl_command_opts "$command")"
    fi
  elif [[ -z $command ]]; then
    _taskctl_add_words "$_taskctl_commands"
  else
    case $command in
    get) ((positionals == 0)) && _taskctl_add_lines < <(_taskctl_store_keys "$cur") ;;
    put | cas)
      if ((positionals == 0)); then
        _taskctl_add_lines < <(_taskctl_store_keys "$cur")
      elif ((positionals == 1)); then
        _taskctl_add_files ''
        [[ - == "$cur"* ]] && COMPREPLY+=(-)
      fi
      ;;
    delete) _taskctl_add_lines < <(_taskctl_store_keys "$cur") ;;
    ls | stats | export)
      # PREFIX: owners ("OWNER:") first, keys once an owner is typed.
      ((positionals == 0)) && _taskctl_add_prefixes
      ;;
    import)
      if ((positionals == 0)); then
        _taskctl_add_files ''
        [[ - == "$cur"* ]] && COMPREPLY+=(-)
      fi
      ;;
    help)
      ((positionals == 0)) && COMPREPLY+=($(compgen -W "$_taskctl_commands" -- "$cur"))
      ;;
    copy)
      # SRC_URI DST_URI, then a PREFIX of the source store.
      if ((positionals < 2)); then
        _taskctl_option_value --store
      elif ((positionals == 2)); then
        _taskctl_add_prefixes
      fi
      ;;
    validate)
      _taskctl_add_files ''
      [[ - == "$cur"* ]] && COMPREPLY+=(-)
      ;;
    cancel) _taskctl_add_lines < <(_taskctl_store_keys "$cur") ;;
    set-status)
      if ((positionals == 0)); then
        _taskctl_add_lines < <(_taskctl_store_keys "$cur")
      elif ((positionals == 1)); then
        _taskctl_add_words "$_taskctl_statuses"
      fi
      ;;
    vars)
      # KEY, then the ACTION; NAME=JSON and NAME are the user's to type.
      if ((positionals == 0)); then
        _taskctl_add_lines < <(_taskctl_store_keys "$cur")
      elif ((positionals == 1)); then
        _taskctl_add_words 'set unset'
      fi
      ;;
    expire | edit) ((positionals == 0)) && _taskctl_add_lines < <(_taskctl_store_keys "$cur") ;;
    esac
  fi

  # Bash replaces only the text after the last COMP_WORDBREAKS character of
  # the word (e.g. after ':' in OWNER:TASK or '=' in --store=URI): drop the
  # part before it from every candidate.
  local breaks=${COMP_WORDBREAKS// /}
  breaks=${breaks//$'\t'/}
  breaks=${breaks//$'\n'/}
  local head=$cur
  if [[ -n $breaks && $cur == *["$breaks"]* ]]; then
    head=${cur%"${cur##*["$breaks"]}"}
    local k
    for k in "${!COMPREPLY[@]}"; do
      COMPREPLY[k]=${COMPREPLY[k]#"$head"}
    done
  fi
  if ((_taskctl_nospace)); then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}

complete -F _taskctl taskctl
