# SPDX-License-Identifier: MIT
# bash completion for nsm(1)

_nsm_pids() {
  COMPREPLY=($(compgen -W "$(cd /proc 2>/dev/null && echo [0-9]*)" -- "$1"))
}

_nsm_pids_add() {
  COMPREPLY+=($(compgen -W "$(cd /proc 2>/dev/null && echo [0-9]*)" -- "$1"))
}

# Named sets in /run/nsm (readable by root only; nothing otherwise), and with "netns" the
# names of ip netns too (inspect, enter and exec take them as net-only sets).
_nsm_sets() {
  local netns=
  [[ $2 == netns ]] && netns=$(ls /run/netns 2>/dev/null)
  COMPREPLY+=($(compgen -W "$(ls /run/nsm 2>/dev/null) $netns" -- "$1"))
}

_nsm() {
  local cur prev cmd i
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  local types="user mnt uts ipc pid net cgroup time all"
  local columns="NS TYPE PATH NPROCS PID PPID COMMAND UID USER NETNSID NSFS PNS ONS NSID"

  cmd=
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      -*) ;;
      *) cmd=${COMP_WORDS[i]}; break ;;
    esac
  done

  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "list ls tree inspect info diff compare ps procs create new enter shell exec run destroy rm del monitor watch help --help --version" -- "$cur"))
    return
  fi

  # --tree=REL: bash splits the word at '=' (COMP_WORDBREAKS), or not when that was changed.
  local rels="owner parent process"
  if [[ $cur == = && $prev == --tree ]]; then
    COMPREPLY=($(compgen -W "$rels"))
    return
  fi
  if [[ $prev == = && ${COMP_WORDS[COMP_CWORD - 2]} == --tree ]]; then
    COMPREPLY=($(compgen -W "$rels" -- "$cur"))
    return
  fi
  if [[ $cur == --tree=* ]]; then
    COMPREPLY=($(compgen -P "--tree=" -W "$rels" -- "${cur#--tree=}"))
    return
  fi

  case $prev in
    -Q | --filter)
      return ;;  # an expression: nothing to offer
    --ns-type)
      COMPREPLY=($(compgen -W "${types% all} pid_for_children time_for_children" -- "$cur"))
      return ;;
    --backend)
      COMPREPLY=($(compgen -W "auto bpf connector poll" -- "$cur"))
      return ;;
    --interval)
      return ;;  # a number of milliseconds: nothing to offer
    -t | --target)
      # nsm enter -t is nsenter's --target PID; elsewhere -t is --type.
      case $cmd in
        enter | shell | exec | run) _nsm_pids "$cur" ;;
        *) COMPREPLY=($(compgen -W "$types" -- "$cur")) ;;
      esac
      return ;;
    --type)
      COMPREPLY=($(compgen -W "$types" -- "$cur"))
      return ;;
    -p | --task)
      _nsm_pids "$cur"
      return ;;
    -o | --output)
      local prefix=${cur%,*} word=${cur##*,}
      [[ $prefix == "$cur" ]] && prefix= || prefix="$prefix,"
      COMPREPLY=($(compgen -P "$prefix" -W "$columns" -- "${word#+}"))
      return ;;
    -T | --tree)
      COMPREPLY=($(compgen -W "$rels" -- "$cur"))
      return ;;
  esac

  case $cmd in
    list | ls)
      COMPREPLY=($(compgen -W "-t --type -p --task -o --output --output-all -J --json -r --raw
        -n --noheadings -l --list -W --nowrap -u --notruncate -P --persistent -Q --filter
        -H --list-columns --named -T --tree --help" -- "$cur")) ;;
    tree)
      COMPREPLY=($(compgen -W "-J --json --help" -- "$cur")) ;;
    inspect | info)
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "-J --json --help" -- "$cur"))
      else
        _nsm_pids "$cur"
        _nsm_sets "$cur" netns
      fi ;;
    diff | compare)
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "-J --json --help" -- "$cur"))
      else
        _nsm_pids "$cur"
      fi ;;
    ps | procs)
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--ns-type -J --json --help" -- "$cur"))
      else
        COMPREPLY=($(compgen -W "${types% all} pid_for_children time_for_children" -- "$cur"))
      fi ;;
    create | new)
      COMPREPLY=($(compgen -W "-t --type -r --map-root-user --no-map --help" -- "$cur")) ;;
    monitor | watch)
      COMPREPLY=($(compgen -W "-t --type -J --json --backend --interval --processes --help" -- "$cur")) ;;
    help)
      COMPREPLY=($(compgen -W "list tree inspect diff ps create enter exec destroy monitor" -- "$cur")) ;;
    enter | shell | exec | run)
      if [[ $prev == -S || $prev == --setuid || $prev == -G || $prev == --setgid ]]; then
        COMPREPLY=()
      elif [[ $prev == -W ]]; then
        COMPREPLY=($(compgen -d -- "$cur"))
      elif [[ $cur == --*=* ]]; then
        # --net=FILE, --root=DIR, --wd=DIR, --wdns=DIR
        COMPREPLY=($(compgen -f -P "${cur%%=*}=" -- "${cur#*=}"))
      elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "-t --target --type -a --all -m --mount -u --uts -i --ipc -n --net
          -p --pid -C --cgroup -U --user -T --time -S --setuid -G --setgid --preserve-credentials
          --keep-caps -r --root -w --wd -W --wdns -e --env -c --join-cgroup -F --no-fork --help" -- "$cur"))
      else
        COMPREPLY=()
        _nsm_sets "$cur" netns
        [[ $cmd == enter || $cmd == shell ]] && _nsm_pids_add "$cur"
      fi ;;
    destroy | rm | del)
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--help" -- "$cur"))
      else
        COMPREPLY=()
        _nsm_sets "$cur"
      fi ;;
  esac
}

complete -F _nsm nsm
