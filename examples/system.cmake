# SPDX-License-Identifier: MIT
# Recipes 10 and 15-20 (see examples/CMakeLists.txt).
nsfun_example(cgroup_limits)       # 10 cgroup v2 limits and placement
nsfun_example(container)           # 15 a container from scratch (busybox)
nsfun_example(mount_propagation)   # 16 mount namespace; private, shared and slave side by side
nsfun_example(ipc_mqueue)          # 17 a POSIX message queue in an IPC namespace
nsfun_example(cgroup_namespace)    # 18 /proc/self/cgroup reads 0::/ inside
nsfun_example(time_namespace)      # 19 boottime and monotonic offsets
nsfun_example(watch_namespaces)    # 20 the monitor and short-lived namespaces
