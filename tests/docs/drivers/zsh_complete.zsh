#!/usr/bin/env zsh
# Usage: zsh -f zsh_complete.zsh FPATH_DIR LINE...
# For each LINE, prints "### LINE" and then the completion candidates zsh
# offers when TAB is pressed at its end, one per line (sorted). It runs one
# interactive zsh in a pseudo-terminal (zsh/zpty) with compinit loaded from
# FPATH_DIR first (where _taskctl is) and compadd wrapped so every match it
# is given is printed; nothing is ever executed from the line. ZCOMPDUMP names
# a compinit dump file to reuse between runs (compinit is slow without one).
emulate -L zsh
zmodload zsh/zpty || { print -u2 'error: zsh/zpty not available'; exit 2 }
local dir=$1
shift
local tmp=$(mktemp -d ${TMPDIR:-/tmp}/taskctl-zcomplete.XXXXXX)
trap "rm -rf ${(q)tmp}" EXIT
cat >$tmp/init.zsh <<INIT
PROMPT='' RPROMPT='' PS2='' LISTMAX=0
unsetopt zle_bracketed_paste auto_list list_beep beep 2>/dev/null
fpath=(${(q)dir} \$fpath)
autoload -Uz compinit && compinit -u -d ${ZCOMPDUMP:-$tmp/zcompdump}
zstyle ':completion:*' insert-tab false
# The hook: print every match compadd is given (after its own matching).
compadd() {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "\$@"
    return
  fi
  local -a __hits
  builtin compadd -A __hits "\$@"
  local -A __o
  zparseopts -E -A __o P: S: p: s:
  local h
  for h in \$__hits; do
    print -r -- "<<M:\${IPREFIX}\${__o[-P]}\${__o[-p]}\$h\${__o[-s]}\${__o[-S]}>>"
  done
  builtin compadd "\$@"
}
__capture() {
  print -r -- '<<BEGIN>>'
  zle complete-word
  print -r -- '<<END>>'
}
zle -N __capture
bindkey '^I' __capture
bindkey '^U' kill-whole-line
bindkey '^M' undefined-key
bindkey '^J' undefined-key
print -r -- '<<READY>>'
INIT
zpty z zsh -f -i
zpty -w z "source ${(q)tmp}/init.zsh"
local out
while zpty -r z out; do [[ $out == *'<<READY>>'* ]] && break; done
local line
local -a found
for line in "$@"; do
  print -r -- "### $line"
  zpty -w -n z "$line"$'\t'
  found=()
  while zpty -r z out; do
    found+=(${(f)out})
    [[ $out == *'<<END>>'* ]] && break
  done
  zpty -w -n z $'\C-U'
  for out in $found; do
    while [[ $out == *'<<M:'*'>>'* ]]; do
      out=${out#*<<M:}
      print -r -- ${out%%>>*}
      out=${out#*>>}
    done
  done | LC_ALL=C sort -u
done
zpty -d z
