// SPDX-License-Identifier: MIT
// nsfun – NsMonitor's BPF programs: every namespace as it is made and freed, with the task that
// made it, streamed through a ring buffer to <nsfun/impl/monitor_bpf.ipp>.
//
// Only BTF tracepoints (tp_btf) are used: on kernels that refuse fentry/fexit (lockdown, or no
// trampolines) they still load, and they need no kprobes.
// - task_newtask(p, clone_flags): every namespace a clone or clone3 makes is in the child's
//   nsproxy (or, for CLONE_NEWUSER, its credentials) by then. A new process also JOINs.
// - sys_exit of unshare (returning 0): the namespaces its flags asked for are the caller's now.
//   sys_exit of setns/unshare: JOIN and LEAVE against the state sys_enter kept (with processes).
// - kfree and kmem_cache_free of a namespace made while watching: FREED, for the types whose
//   free is not deferred by kfree_rcu (ipc, pid, mnt, net, time); the reader finds the others gone
//   by asking the kernel after HINTs.
// - HINTs, when a namespace may have lost a reference: a process's exit (sched_process_exit) and
//   release (sched_process_free), the close of an nsfs fd, setns and unshare (the namespaces the
//   caller was in, kept at sys_enter), and umount2 (a HINT to recheck all, at most one per
//   type outstanding: `ip netns delete` unmounts the namespace's bind mount). close_range is not
//   hinted (spawners call it in every child; an nsfs fd closed by it is found by the reader's
//   once-a-second recheck). And the end of the work items that free user and net namespaces
//   (free_user_ns, cleanup_net, seen at workqueue_execute_start and _end: a HINT to recheck all
//   of that type), which run after RCU grace periods, long after any other hint. Exits and
//   releases send a HINT only where reference counts say the namespace may go with them.
//
// The kernel structures read are declared in kernel_ns.h (shared with task_ns.bpf.c). The 64-bit
// ns_id (Linux 6.18+) is read only where the running kernel has it.

// clang-format off
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
// clang-format on

#include <nsfun/detail/ns_monitor_record.h>

#include "kernel_ns.h"

// Type indexes (nsfun::NsType order).
#define T_USER 0
#define T_MNT 1
#define T_UTS 2
#define T_IPC 3
#define T_PID 4
#define T_NET 5
#define T_CGROUP 6
#define T_TIME 7

#define CLONE_NEWTIME 0x00000080
#define CLONE_NEWNS 0x00020000
#define CLONE_NEWCGROUP 0x02000000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWPID 0x20000000
#define CLONE_NEWNET 0x40000000
#define CLONE_THREAD 0x00010000

#define NSFS_MAGIC 0x6e736673

// x86_64 and arm64 (whichever the running kernel has): the syscall number and first argument.
struct pt_regs {
  unsigned long di;
  unsigned long orig_ax;
} NSFUN_CORE;

struct user_pt_regs {
  __u64 regs[31];
} NSFUN_CORE;

struct pt_regs___arm64 {
  struct user_pt_regs user_regs;
  __u64 orig_x0;
  __s32 syscallno;
} NSFUN_CORE;

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// Set by the reader before loading.
const volatile __u32 nsfun_types = 0xff;                // bit i: type index i is watched
const volatile __u32 nsfun_processes = 0;               // JOIN/LEAVE wanted
const volatile __u32 nsfun_own[NSFUN_MON_TYPES] = {0};  // the reader's namespaces: never hinted
// The kernel's addresses of the work functions that free user and net namespaces (free_user_ns,
// cleanup_net), from /proc/kallsyms; 0 where it does not show them.
const volatile __u64 nsfun_free_work[2] = {0, 0};
const volatile long nsfun_nr_unshare = -1;
const volatile long nsfun_nr_setns = -1;
const volatile long nsfun_nr_close = -1;
const volatile long nsfun_nr_umount2 = -1;

// Read by the reader.
__u64 nsfun_lost = 0;  // records that found the ring full
// The types (bit i: type index i) of the HINTs "all" in the ring and not yet read (the reader
// clears it before its checks).
__u64 nsfun_all_pending = 0;
__u64 nsfun_freeable_n = 0;  // entries ever put in nsfun_freeable (0: kfree has nothing to do)

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 22);  // the reader sets MonitorOptions::ring_bytes before loading
} nsfun_ring SEC(".maps");

// Namespaces made while watching whose free is traceable, by the address of their structure.
struct nsfun_freeable_ns {
  __u64 id;
  __u32 inum;
  __u32 type;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct nsfun_freeable_ns);
} nsfun_freeable SEC(".maps");

// A thread's namespaces at sys_enter of setns or unshare, for its sys_exit.
struct nsfun_snapshot {
  __u32 ino[NSFUN_MON_TYPES];
  __u64 id[NSFUN_MON_TYPES];
};

// LRU: the entry of a thread killed inside the syscall goes by itself.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct nsfun_snapshot);
} nsfun_before SEC(".maps");

static __always_inline __u64 ns_id(struct ns_common* ns) {
  if (bpf_core_field_exists(ns->ns_id)) {
    return BPF_CORE_READ(ns, ns_id);
  }
  return 0;
}

// References to a namespace (racy: a hint is sent below a margin, see few_refs).
static __always_inline int ns_refs(struct ns_common* ns) {
  if (bpf_core_field_exists(ns->__ns_ref)) {
    return BPF_CORE_READ(ns, __ns_ref.refs.counter);
  }
  if (bpf_core_field_exists(ns->count)) {
    return BPF_CORE_READ(ns, count.refs.counter);
  }
  return 0;
}

// Whether dropping one reference of `refs` may be the last one. One more than the last is let
// through, for two holders that let go at once (each reads 2 before either drops).
static __always_inline int few_refs(long refs) {
  return refs <= 2;
}

static __always_inline void* reserve(__u64 size) {
  void* r = bpf_ringbuf_reserve(&nsfun_ring, size, 0);
  if (!r) {
    __sync_fetch_and_add(&nsfun_lost, 1);
  }
  return r;
}

static __always_inline void head_current(struct nsfun_mon_head* h, __u32 kind) {
  __u64 pt = bpf_get_current_pid_tgid();
  h->time = bpf_ktime_get_ns();
  h->kind = kind;
  h->pid = (__u32)(pt >> 32);
  h->tid = (__u32)pt;
  h->pad = 0;
  bpf_get_current_comm(h->comm, sizeof(h->comm));
}

static __always_inline void head_task(struct nsfun_mon_head* h, __u32 kind, struct task_struct* t) {
  h->time = bpf_ktime_get_ns();
  h->kind = kind;
  h->pid = (__u32)BPF_CORE_READ(t, tgid);
  h->tid = (__u32)BPF_CORE_READ(t, pid);
  h->pad = 0;
  BPF_CORE_READ_STR_INTO(&h->comm, t, comm);
}

// NEW for the namespace whose structure is `obj` (its ns_common `ns`, its owner `owner`).
static __always_inline void new_ns(__u32 type,
                                   void* obj,
                                   struct ns_common* ns,
                                   struct user_namespace* owner) {
  if (!obj || !(nsfun_types & (1u << type))) {
    return;
  }
  __u32 inum = BPF_CORE_READ(ns, inum);
  __u64 id = ns_id(ns);
  struct nsfun_mon_ns* r = reserve(sizeof(*r));
  if (r) {
    head_current(&r->head, NSFUN_MON_NEW);
    r->type = type;
    r->inum = inum;
    r->id = id;
    r->owner = owner ? BPF_CORE_READ(owner, ns.inum) : 0;
    r->pad = 0;
    bpf_ringbuf_submit(r, 0);
  }
  if (type == T_IPC || type == T_PID || type == T_MNT || type == T_NET || type == T_TIME) {
    __u64 key = (__u64)obj;
    struct nsfun_freeable_ns v = {id, inum, type};
    bpf_map_update_elem(&nsfun_freeable, &key, &v, BPF_ANY);
    __sync_fetch_and_add(&nsfun_freeable_n, 1);
  }
}

// NEW for each namespace `flags` made: those of `t` now (its nsproxy and credentials).
static __always_inline void new_all(struct task_struct* t, __u64 flags) {
  struct nsproxy* n = BPF_CORE_READ(t, nsproxy);
  if (!n) {
    return;
  }
  if (flags & CLONE_NEWUSER) {
    struct user_namespace* u = BPF_CORE_READ(t, real_cred, user_ns);
    new_ns(T_USER, u, &u->ns, BPF_CORE_READ(u, parent));
  }
  if (flags & CLONE_NEWNS) {
    struct mnt_namespace* m = BPF_CORE_READ(n, mnt_ns);
    new_ns(T_MNT, m, &m->ns, BPF_CORE_READ(m, user_ns));
  }
  if (flags & CLONE_NEWUTS) {
    struct uts_namespace* u = BPF_CORE_READ(n, uts_ns);
    new_ns(T_UTS, u, &u->ns, BPF_CORE_READ(u, user_ns));
  }
  if (flags & CLONE_NEWIPC) {
    struct ipc_namespace* i = BPF_CORE_READ(n, ipc_ns);
    new_ns(T_IPC, i, &i->ns, BPF_CORE_READ(i, user_ns));
  }
  if (flags & CLONE_NEWPID) {
    struct pid_namespace* p = BPF_CORE_READ(n, pid_ns_for_children);
    new_ns(T_PID, p, &p->ns, BPF_CORE_READ(p, user_ns));
  }
  if (flags & CLONE_NEWNET) {
    struct net* x = BPF_CORE_READ(n, net_ns);
    new_ns(T_NET, x, &x->ns, BPF_CORE_READ(x, user_ns));
  }
  if (flags & CLONE_NEWCGROUP) {
    struct cgroup_namespace* c = BPF_CORE_READ(n, cgroup_ns);
    new_ns(T_CGROUP, c, &c->ns, BPF_CORE_READ(c, user_ns));
  }
  if (flags & CLONE_NEWTIME) {
    struct time_namespace* x = BPF_CORE_READ(n, time_ns_for_children);
    new_ns(T_TIME, x, &x->ns, BPF_CORE_READ(x, user_ns));
  }
}

static __always_inline void put_ns(struct nsfun_snapshot* s, __u32 type, struct ns_common* ns) {
  if (nsfun_types & (1u << type)) {
    s->ino[type] = BPF_CORE_READ(ns, inum);
    s->id[type] = ns_id(ns);
  }
}

// The namespaces `t` is in, as its /proc/PID/ns links show them (0 where unreadable).
static __always_inline void snapshot(struct task_struct* t, struct nsfun_snapshot* s) {
  __builtin_memset(s, 0, sizeof(*s));
  struct user_namespace* u = BPF_CORE_READ(t, real_cred, user_ns);
  if (u) {
    put_ns(s, T_USER, &u->ns);
  }
  struct pid* p = BPF_CORE_READ(t, thread_pid);
  if (p) {
    unsigned int level = BPF_CORE_READ(p, level);
    struct pid_namespace* pn = BPF_CORE_READ(p, numbers[level].ns);
    if (pn) {
      put_ns(s, T_PID, &pn->ns);
    }
  }
  struct nsproxy* n = BPF_CORE_READ(t, nsproxy);
  if (!n) {
    return;
  }
  struct mnt_namespace* m = BPF_CORE_READ(n, mnt_ns);
  put_ns(s, T_MNT, &m->ns);
  struct uts_namespace* ut = BPF_CORE_READ(n, uts_ns);
  put_ns(s, T_UTS, &ut->ns);
  struct ipc_namespace* i = BPF_CORE_READ(n, ipc_ns);
  put_ns(s, T_IPC, &i->ns);
  struct net* x = BPF_CORE_READ(n, net_ns);
  put_ns(s, T_NET, &x->ns);
  struct cgroup_namespace* c = BPF_CORE_READ(n, cgroup_ns);
  put_ns(s, T_CGROUP, &c->ns);
  struct time_namespace* tn = BPF_CORE_READ(n, time_ns);
  put_ns(s, T_TIME, &tn->ns);
}

// PROC: `before` and `after` (either may be all zero) when they differ.
static __always_inline void emit_proc(struct nsfun_mon_head* h,
                                      struct nsfun_snapshot* before,
                                      struct nsfun_snapshot* after) {
  int differ = 0;
  for (int i = 0; i < NSFUN_MON_TYPES; i++) {
    if (before->id[i] != after->id[i] || before->ino[i] != after->ino[i]) {
      differ = 1;
    }
  }
  if (!differ) {
    return;
  }
  struct nsfun_mon_proc* r = reserve(sizeof(*r));
  if (!r) {
    return;
  }
  r->head = *h;
  for (int i = 0; i < NSFUN_MON_TYPES; i++) {
    r->before[i] = before->ino[i];
    r->after[i] = after->ino[i];
    r->before_id[i] = before->id[i];
    r->after_id[i] = after->id[i];
  }
  bpf_ringbuf_submit(r, 0);
}

// HINT for the namespaces of `s` (those not the reader's own).
static __always_inline void hint_some(struct nsfun_snapshot* s) {
  int any = 0;
  for (int i = 0; i < NSFUN_MON_TYPES; i++) {
    if (s->ino[i] != 0 && s->ino[i] != nsfun_own[i]) {
      any = 1;
    }
  }
  if (!any) {
    return;
  }
  struct nsfun_mon_hint* r = reserve(sizeof(*r));
  if (!r) {
    return;
  }
  head_current(&r->head, NSFUN_MON_HINT);
  r->all = 0;
  r->pad = 0;
  for (int i = 0; i < NSFUN_MON_TYPES; i++) {
    r->id[i] = s->ino[i] != 0 && s->ino[i] != nsfun_own[i] ? s->id[i] : 0;
  }
  bpf_ringbuf_submit(r, 0);
}

// Of `s`, keeps only the namespaces that may lose their last reference when `t` exits (its
// nsproxy goes only with its last task; each namespace only with its last reference) or is
// released (its credentials and pid): the exits of the many processes that share a namespace
// send no HINT but the last (or last two, when they race).
static __always_inline void keep_dying(struct task_struct* t,
                                       struct nsfun_snapshot* s,
                                       int released) {
  if (released) {
    struct user_namespace* u = BPF_CORE_READ(t, real_cred, user_ns);
    // real_cred and cred are one struct with two references for most tasks.
    if (!u || BPF_CORE_READ(t, real_cred, usage.counter) > 3 || !few_refs(ns_refs(&u->ns))) {
      s->ino[T_USER] = 0;
      s->id[T_USER] = 0;
    }
    struct pid* p = BPF_CORE_READ(t, thread_pid);
    unsigned int level = p ? BPF_CORE_READ(p, level) : 0;
    struct pid_namespace* pn = p ? BPF_CORE_READ(p, numbers[level].ns) : 0;
    if (!pn || !few_refs(ns_refs(&pn->ns))) {
      s->ino[T_PID] = 0;
      s->id[T_PID] = 0;
    }
    return;
  }
  // At exit the task drops its nsproxy; the pid and credentials stay until it is released.
  s->ino[T_USER] = 0;
  s->id[T_USER] = 0;
  s->ino[T_PID] = 0;
  s->id[T_PID] = 0;
  struct nsproxy* n = BPF_CORE_READ(t, nsproxy);
  if (!n || !few_refs(BPF_CORE_READ(n, count.refs.counter))) {
    __builtin_memset(s, 0, sizeof(*s));
    return;
  }
  struct mnt_namespace* m = BPF_CORE_READ(n, mnt_ns);
  if (!few_refs(ns_refs(&m->ns))) {
    s->ino[T_MNT] = 0;
  }
  struct uts_namespace* ut = BPF_CORE_READ(n, uts_ns);
  if (!few_refs(ns_refs(&ut->ns))) {
    s->ino[T_UTS] = 0;
  }
  struct ipc_namespace* i = BPF_CORE_READ(n, ipc_ns);
  if (!few_refs(ns_refs(&i->ns))) {
    s->ino[T_IPC] = 0;
  }
  struct net* x = BPF_CORE_READ(n, net_ns);
  if (!few_refs(ns_refs(&x->ns))) {
    s->ino[T_NET] = 0;
  }
  struct cgroup_namespace* c = BPF_CORE_READ(n, cgroup_ns);
  if (!few_refs(ns_refs(&c->ns))) {
    s->ino[T_CGROUP] = 0;
  }
  struct time_namespace* tn = BPF_CORE_READ(n, time_ns);
  if (!few_refs(ns_refs(&tn->ns))) {
    s->ino[T_TIME] = 0;
  }
}

// HINT to recheck all namespaces of the `types` (bit i: type index i), unless a HINT in the
// ring asks for them already.
static __always_inline void hint_all(__u64 types) {
  types &= nsfun_types;
  if (!types || (nsfun_all_pending & types) == types ||
      (__sync_fetch_and_or(&nsfun_all_pending, types) & types) == types) {
    return;
  }
  struct nsfun_mon_hint* r = reserve(sizeof(*r));
  if (!r) {
    __sync_fetch_and_and(&nsfun_all_pending, ~types);
    return;
  }
  head_current(&r->head, NSFUN_MON_HINT);
  r->all = (__u32)types;
  r->pad = 0;
  for (int i = 0; i < NSFUN_MON_TYPES; i++) {
    r->id[i] = 0;
  }
  bpf_ringbuf_submit(r, 0);
}

static __always_inline long syscall_nr(struct pt_regs* regs) {
  if (bpf_core_field_exists(regs->orig_ax)) {
    return (long)BPF_CORE_READ(regs, orig_ax);
  }
  struct pt_regs___arm64* a = (void*)regs;
  if (bpf_core_field_exists(a->syscallno)) {
    return BPF_CORE_READ(a, syscallno);
  }
  return -1;
}

static __always_inline __u64 syscall_arg0(struct pt_regs* regs) {
  if (bpf_core_field_exists(regs->di)) {
    return BPF_CORE_READ(regs, di);
  }
  struct pt_regs___arm64* a = (void*)regs;
  if (bpf_core_field_exists(a->orig_x0)) {
    return BPF_CORE_READ(a, orig_x0);
  }
  return 0;
}

// clang-format off
SEC("tp_btf/task_newtask") int nsfun_newtask(__u64* ctx) {
  // clang-format on
  struct task_struct* p = (struct task_struct*)ctx[0];
  __u64 flags = ctx[1];
  new_all(p, flags);
  if (nsfun_processes && !(flags & CLONE_THREAD)) {
    struct nsfun_snapshot none = {0};
    struct nsfun_snapshot now;
    struct nsfun_mon_head h;
    snapshot(p, &now);
    head_task(&h, NSFUN_MON_PROC, p);
    emit_proc(&h, &none, &now);
  }
  return 0;
}

// clang-format off
SEC("tp_btf/sys_enter") int nsfun_sys_enter(__u64* ctx) {
  // clang-format on
  long nr = (long)ctx[1];
  if (nr == nsfun_nr_close) {
    // The close of an nsfs fd may drop a namespace's last reference. (The reader's own checks
    // close theirs with close_range, which sends none: each would ask for the next check.)
    struct pt_regs* regs = (struct pt_regs*)ctx[0];
    __u64 fd = syscall_arg0(regs);
    struct task_struct* t = bpf_get_current_task_btf();
    struct fdtable* fdt = BPF_CORE_READ(t, files, fdt);
    if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds)) {
      return 0;
    }
    struct file** fds = BPF_CORE_READ(fdt, fd);
    struct file* f = 0;
    bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
    if (!f) {
      return 0;
    }
    struct inode* ino = BPF_CORE_READ(f, f_inode);
    if (BPF_CORE_READ(ino, i_sb, s_magic) != NSFS_MAGIC) {
      return 0;
    }
    struct ns_common* ns = BPF_CORE_READ(ino, i_private);
    if (!ns || !bpf_core_field_exists(ns->ns_type)) {
      hint_all(0xff);
      return 0;
    }
    __u32 flag = BPF_CORE_READ(ns, ns_type);
    __u32 type = flag == CLONE_NEWUSER     ? T_USER
                 : flag == CLONE_NEWNS     ? T_MNT
                 : flag == CLONE_NEWUTS    ? T_UTS
                 : flag == CLONE_NEWIPC    ? T_IPC
                 : flag == CLONE_NEWPID    ? T_PID
                 : flag == CLONE_NEWNET    ? T_NET
                 : flag == CLONE_NEWCGROUP ? T_CGROUP
                 : flag == CLONE_NEWTIME   ? T_TIME
                                           : NSFUN_MON_TYPES;
    if (type >= NSFUN_MON_TYPES || !(nsfun_types & (1u << type))) {
      return 0;
    }
    struct nsfun_snapshot s = {0};
    s.ino[type] = BPF_CORE_READ(ns, inum);
    s.id[type] = ns_id(ns);
    hint_some(&s);
    return 0;
  }
  if (nr == nsfun_nr_setns || nr == nsfun_nr_unshare) {
    struct nsfun_snapshot s;
    snapshot(bpf_get_current_task_btf(), &s);
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    bpf_map_update_elem(&nsfun_before, &tid, &s, BPF_ANY);
  }
  return 0;
}

// clang-format off
SEC("tp_btf/sys_exit") int nsfun_sys_exit(__u64* ctx) {
  // clang-format on
  struct pt_regs* regs = (struct pt_regs*)ctx[0];
  long ret = (long)ctx[1];
  long nr = syscall_nr(regs);
  if (nr < 0) {
    return 0;
  }
  if (nr == nsfun_nr_unshare || nr == nsfun_nr_setns) {
    struct task_struct* t = bpf_get_current_task_btf();
    if (ret == 0 && nr == nsfun_nr_unshare) {
      new_all(t, syscall_arg0(regs));
    }
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct nsfun_snapshot* before = bpf_map_lookup_elem(&nsfun_before, &tid);
    if (!before) {
      if (ret == 0) {
        hint_all(0xff);  // the state before was not kept (the map was full)
      }
      return 0;
    }
    if (ret == 0) {
      if (nsfun_processes) {
        struct nsfun_snapshot now;
        struct nsfun_mon_head h;
        snapshot(t, &now);
        head_current(&h, NSFUN_MON_PROC);
        emit_proc(&h, before, &now);
      }
      hint_some(before);  // what the caller left may have gone with it
    }
    bpf_map_delete_elem(&nsfun_before, &tid);
    return 0;
  }
  if (nr == nsfun_nr_umount2 && ret == 0) {
    hint_all(0xff);
  }
  return 0;
}

// clang-format off
SEC("tp_btf/sched_process_exit") int nsfun_exit(__u64* ctx) {
  // clang-format on
  struct task_struct* t = (struct task_struct*)ctx[0];
  int group_dead = (int)(ctx[1] & 0xff);
  // A thread's exit drops nothing the process does not still hold, unless it has namespaces of
  // its own (it called unshare or setns).
  if (!group_dead && BPF_CORE_READ(t, nsproxy) == BPF_CORE_READ(t, group_leader, nsproxy)) {
    return 0;
  }
  struct nsfun_snapshot s;
  snapshot(t, &s);
  if (nsfun_processes && group_dead) {
    struct nsfun_snapshot none = {0};
    struct nsfun_mon_head h;
    head_task(&h, NSFUN_MON_PROC, t);
    emit_proc(&h, &s, &none);
  }
  keep_dying(t, &s, 0);
  hint_some(&s);
  return 0;
}

// clang-format off
SEC("tp_btf/sched_process_free") int nsfun_free(__u64* ctx) {
  // clang-format on
  // The release of the credentials (user) and pid (pid) of a process: its leader is freed last.
  struct task_struct* t = (struct task_struct*)ctx[0];
  if (BPF_CORE_READ(t, pid) != BPF_CORE_READ(t, tgid)) {
    return 0;
  }
  struct nsfun_snapshot s;
  snapshot(t, &s);
  keep_dying(t, &s, 1);
  hint_some(&s);
  return 0;
}

static __always_inline void freed(__u64 ptr) {
  if (nsfun_freeable_n == 0) {
    return;
  }
  struct nsfun_freeable_ns* v = bpf_map_lookup_elem(&nsfun_freeable, &ptr);
  if (!v) {
    return;
  }
  struct nsfun_mon_ns* r = reserve(sizeof(*r));
  if (r) {
    head_current(&r->head, NSFUN_MON_FREED);
    r->type = v->type;
    r->inum = v->inum;
    r->id = v->id;
    r->owner = 0;
    r->pad = 0;
    bpf_ringbuf_submit(r, 0);
  }
  bpf_map_delete_elem(&nsfun_freeable, &ptr);
}

// clang-format off
SEC("tp_btf/kfree") int nsfun_kfree(__u64* ctx) {
  // clang-format on
  freed(ctx[1]);
  return 0;
}

// clang-format off
SEC("tp_btf/kmem_cache_free") int nsfun_cache_free(__u64* ctx) {
  // clang-format on
  freed(ctx[1]);
  return 0;
}

// The kworkers running free_user_ns or cleanup_net now (by tid: the type bit of what it frees),
// and how many there are.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u32);
} nsfun_freeing SEC(".maps");

__u64 nsfun_freeing_n = 0;

// clang-format off
SEC("tp_btf/workqueue_execute_start") int nsfun_work_start(__u64* ctx) {
  // clang-format on
  struct work_struct* work = (struct work_struct*)ctx[0];
  __u64 fn = (__u64)BPF_CORE_READ(work, func);
  if (fn != 0 && (fn == nsfun_free_work[0] || fn == nsfun_free_work[1])) {
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    __u32 type = fn == nsfun_free_work[0] ? 1u << T_USER : 1u << T_NET;
    bpf_map_update_elem(&nsfun_freeing, &tid, &type, BPF_ANY);
    __sync_fetch_and_add(&nsfun_freeing_n, 1);
  }
  return 0;
}

// clang-format off
SEC("tp_btf/workqueue_execute_end") int nsfun_work_end(__u64* ctx) {
  // clang-format on
  // free_user_ns or cleanup_net has just run (its work item may be freed with the namespace:
  // only the kworker's tid tells): the user or net namespaces it freed are gone now, after
  // RCU grace periods, long after any other HINT. Recheck that type.
  if (nsfun_freeing_n == 0) {
    return 0;
  }
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  __u32* type = bpf_map_lookup_elem(&nsfun_freeing, &tid);
  if (type) {
    __u64 types = *type;
    bpf_map_delete_elem(&nsfun_freeing, &tid);
    __sync_fetch_and_add(&nsfun_freeing_n, -1);
    hint_all(types);
  }
  return 0;
}
