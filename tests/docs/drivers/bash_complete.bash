#!/usr/bin/env bash
# Usage: bash --norc --noprofile bash_complete.bash COMPLETION_FILE LINE...
# Loads a bash completion file in this non-interactive bash, then for each
# LINE prints "### LINE" followed by the candidates (COMPREPLY, sorted, one per
# line) that the function registered for taskctl (`complete -p taskctl`)
# returns when TAB is pressed at the end of LINE, each printed as the whole
# word it makes (readline keeps the part of the word before a ':' or '='). COMP_LINE, COMP_POINT,
# COMP_WORDS and COMP_CWORD are set the way readline sets them: blanks separate
# words, and each COMP_WORDBREAKS character (':' '=' ...) is a word of its own.
set -u
source "$1" || exit 2
shift
spec=$(complete -p taskctl) || {
  echo "error: the completion file registers nothing for taskctl" >&2
  exit 2
}
func=${spec##*-F }
func=${func%% *}

for line in "$@"; do
  printf '### %s\n' "$line"
  COMP_LINE=$line
  COMP_POINT=${#line}
  words=()
  w=''
  for ((i = 0; i < ${#line}; i++)); do
    c=${line:i:1}
    if [[ $c == [[:blank:]] ]]; then
      [[ -n $w ]] && words+=("$w")
      w=''
    elif [[ $COMP_WORDBREAKS == *"$c"* ]]; then
      [[ -n $w ]] && words+=("$w")
      if [[ ${#words[@]} -gt 0 && ${words[-1]} == *"$c" && ${line:i-1:1} == "$c" ]]; then
        words[-1]+=$c
      else
        words+=("$c")
      fi
      w=''
    else
      w+=$c
    fi
  done
  if [[ -n $w || $line == *[[:blank:]] ]]; then
    words+=("$w")
  fi
  COMP_WORDS=("${words[@]}")
  COMP_CWORD=$((${#words[@]} - 1))
  COMP_TYPE=9
  COMP_KEY=9
  COMPREPLY=()
  "$func" taskctl "${words[COMP_CWORD]}" "${words[COMP_CWORD - 1]:-}"
  # Readline replaces only the text after the last COMP_WORDBREAKS character
  # of the word; print what the word becomes (as fish and zsh show it).
  token=${line##*[[:blank:]]}
  head=''
  for ((i = ${#token} - 1; i >= 0; i--)); do
    if [[ $COMP_WORDBREAKS == *"${token:i:1}"* ]]; then
      head=${token:0:i+1}
      break
    fi
  done
  if ((${#COMPREPLY[@]})); then
    printf -- "${head//%/%%}%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort -u
  fi
done
