#!/usr/bin/env zsh
# Usage: zsh -f bash_readline.zsh COMPLETION_FILE LINE...
# Types each LINE into a real interactive bash (readline, in a pseudo-terminal
# driven by zsh/zpty), presses TAB once and then Enter, and prints
# "LINE => WORDS": the words the command line held after completion. taskctl
# is a shell function there that prints its arguments, so nothing runs; the
# completion itself still finds the real binary on PATH (type -P).
emulate -L zsh
zmodload zsh/zpty || { print -u2 'error: zsh/zpty not available'; exit 2 }
local file=$1
shift
zpty b bash --norc --noprofile -i
zpty -w b "PS1='> '; bind 'set bell-style none'; source ${(q)file}; taskctl() { printf '<<ARGS:%s>>\n' \"\$*\"; }; echo '<<READY>>'"
local out
while zpty -r b out; do [[ $out == '<<READY>>'* ]] && break; done
local line
for line in "$@"; do
  zpty -w -n b "$line"$'\t\n'
  while zpty -r b out; do
    if [[ $out == *'<<ARGS:'*'>>'* ]]; then
      out=${out#*<<ARGS:}
      print -r -- "$line => ${out%%>>*}"
      break
    fi
  done
done
zpty -d b
