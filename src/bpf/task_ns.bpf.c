// SPDX-License-Identifier: MIT
// nsfun – a BPF task iterator that reports, for every process, the inode of each namespace its
// /proc/PID/ns links would show. One read() of the iterator replaces one readlinkat per link
// per process; src/task_iter.cpp loads it and falls back to /proc whenever it cannot.
//
// What each link shows, as fs/proc/namespaces.c and the ns_operations get() functions read it:
// - user: the task's real credentials' user namespace;
// - pid: the namespace of the task's own pid (task_active_pid_ns), not nsproxy's;
// - pid_for_children: nsproxy's, and only once that namespace has its init (child_reaper);
// - the others: nsproxy's. A zombie has no nsproxy, so only user and pid are readable; 0 here.
//
// The kernel structures read are declared in kernel_ns.h, shared with ns_monitor.bpf.c.

// linux/types.h first: the bpf headers use its types without including it.
// clang-format off
#include <linux/types.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
// clang-format on

#include <nsfun/detail/task_ns_record.h>

#include "kernel_ns.h"

struct seq_file;

struct bpf_iter_meta {
  struct seq_file* seq;
  __u64 session_id;
  __u64 seq_num;
} NSFUN_CORE;

struct bpf_iter__task {
  struct bpf_iter_meta* meta;
  struct task_struct* task;
} NSFUN_CORE;

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// The namespace of a task's own pid: numbers[level] of its struct pid. The index is a variable,
// which the verifier does not allow on a BTF pointer: read through bpf_probe_read_kernel.
static __u32 active_pid_ns(struct task_struct* t) {
  struct pid* p = BPF_CORE_READ(t, thread_pid);
  if (!p) {
    return 0;
  }
  unsigned int level = BPF_CORE_READ(p, level);
  struct pid_namespace* ns = BPF_CORE_READ(p, numbers[level].ns);
  return ns ? BPF_CORE_READ(ns, ns.inum) : 0;
}

// clang-format off
SEC("iter/task") int nsfun_task_ns(struct bpf_iter__task* ctx) {
  // clang-format on
  struct seq_file* seq = ctx->meta->seq;
  struct task_struct* t = ctx->task;

  if (ctx->meta->seq_num == 0) {
    // The reader's pid namespace level: the reader keeps the records only when the pids they
    // carry are the ones its /proc shows.
    struct task_struct* me = bpf_get_current_task_btf();
    struct nsfun_task_ns head = {0};
    head.ino[0] = NSFUN_TASK_NS_MAGIC;
    head.ino[1] = BPF_CORE_READ(me, thread_pid, level);
    bpf_seq_write(seq, &head, sizeof(head));
  }
  if (!t || t->pid != t->tgid) {
    return 0;  // the end, or a thread: /proc lists processes
  }

  struct nsfun_task_ns r = {0};
  r.pid = (__u32)t->tgid;
  r.ino[NSFUN_LINK_USER] = t->real_cred->user_ns->ns.inum;
  r.ino[NSFUN_LINK_PID] = active_pid_ns(t);
  struct nsproxy* nsp = t->nsproxy;
  if (nsp) {
    r.ino[NSFUN_LINK_MNT] = nsp->mnt_ns->ns.inum;
    r.ino[NSFUN_LINK_UTS] = nsp->uts_ns->ns.inum;
    r.ino[NSFUN_LINK_IPC] = nsp->ipc_ns->ns.inum;
    r.ino[NSFUN_LINK_NET] = nsp->net_ns->ns.inum;
    r.ino[NSFUN_LINK_CGROUP] = nsp->cgroup_ns->ns.inum;
    r.ino[NSFUN_LINK_TIME] = nsp->time_ns->ns.inum;
    r.ino[NSFUN_LINK_TIME_FOR_CHILDREN] = nsp->time_ns_for_children->ns.inum;
    struct pid_namespace* children = nsp->pid_ns_for_children;
    if (children->child_reaper) {
      r.ino[NSFUN_LINK_PID_FOR_CHILDREN] = children->ns.inum;
    }
  }
  bpf_seq_write(seq, &r, sizeof(r));
  return 0;
}
