// SPDX-License-Identifier: MIT
// nsfun – the records NsMonitor's BPF programs (src/bpf/ns_monitor.bpf.c) write to their ring
// buffer, shared by the BPF programs and the C++ reader (<nsfun/impl/monitor_bpf.ipp>, which
// includes it inside nsfun::detail::monitor_bpf and undoes its macros). Plain C, including nothing:
// it is compiled for the BPF target too.

#ifndef NSFUN_NS_MONITOR_RECORD_H
#define NSFUN_NS_MONITOR_RECORD_H

// Namespace types are indexed in nsfun::NsType order (user, mnt, uts, ipc, pid, net, cgroup, time).
#define NSFUN_MON_TYPES 8

// Record kinds.
#define NSFUN_MON_NEW 1    // nsfun_mon_ns: a namespace was made (clone, clone3, unshare)
#define NSFUN_MON_FREED 2  // nsfun_mon_ns: its memory was freed (kfree, kmem_cache_free)
#define NSFUN_MON_PROC \
  3  // nsfun_mon_proc: a process's namespaces changed (fork, setns, unshare, exit)
#define NSFUN_MON_HINT 4  // nsfun_mon_hint: namespaces that may just have lost a reference

// What every record starts with. pid: the thread group id; tid: the thread's.
struct nsfun_mon_head {
  unsigned long long time;  // bpf_ktime_get_ns(): CLOCK_MONOTONIC
  unsigned int kind;
  unsigned int pid;
  unsigned int tid;
  unsigned int pad;
  char comm[16];
};

// NEW and FREED: one namespace. owner: the owning user namespace's inode (for a user namespace,
// its parent's); 0 in FREED.
struct nsfun_mon_ns {
  struct nsfun_mon_head head;
  unsigned int type;
  unsigned int inum;
  unsigned long long id;  // the kernel's 64-bit ns id; 0 where it has none (before Linux 6.18)
  unsigned int owner;
  unsigned int pad;
};

// PROC: the process's namespaces before and after, per type (0: none, e.g. before a fork or after
// an exit). Only the types of the monitor's mask are filled.
struct nsfun_mon_proc {
  struct nsfun_mon_head head;
  unsigned int before[NSFUN_MON_TYPES];
  unsigned int after[NSFUN_MON_TYPES];
  unsigned long long before_id[NSFUN_MON_TYPES];
  unsigned long long after_id[NSFUN_MON_TYPES];
};

// HINT: all != 0: any namespace of these types (bit i: type index i) may have lost its last
// reference (umount2; the kernel's work that frees user or net namespaces), recheck them all;
// otherwise the ids (per type, 0: none) of those that may have (exit, setns, unshare, close of an
// nsfs fd).
struct nsfun_mon_hint {
  struct nsfun_mon_head head;
  unsigned int all;
  unsigned int pad;
  unsigned long long id[NSFUN_MON_TYPES];
};

#endif
