# SPDX-License-Identifier: MIT
# Recipes 1-7 and 11-14 (see examples/CMakeLists.txt), one program each.
nsfun_example(uts_hostname)      # 1  unshare --uts
nsfun_example(pid_namespace)     # 2  unshare --pid --fork --mount-proc
if(TARGET nsfun_net)
  nsfun_example(blank_network NET)  # 3  unshare --net
endif()
nsfun_example(the_works)         # 4  unshare --pid --uts --mount --ipc --net --cgroup --fork
nsfun_example(rootless)          # 5  unshare --user --map-root-user
nsfun_example(join_by_pid)       # 6  nsenter --target PID --all / --net
nsfun_example(named_netns)       # 7  ip netns add/list/exec/del
nsfun_example(inspect_proc)      # 11 ls -l /proc/self/ns; equal inode = same namespace
nsfun_example(lsns)              # 12 lsns, lsns -t net
nsfun_example(find_isolated)     # 13 processes whose pid namespace is not init's
nsfun_example(find_debug)        # 14 nsm diff 1 PID

# Not a recipe: the fast lsns-style lister that bench/compare_lsns.sh times (--scan-only,
# --proc-only); recipe 12 is lsns.
nsfun_example(list_namespaces)
