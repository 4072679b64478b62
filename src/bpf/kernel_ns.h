// SPDX-License-Identifier: MIT
// nsfun – the kernel structures nsfun's BPF programs read (task_ns.bpf.c, ns_monitor.bpf.c),
// declared with only the fields some program reads. CO-RE relocations (applied by the kernel
// while loading, through the light skeleton) find each field a program does read in the running
// kernel's layout; a field no program reads costs nothing. Include after <linux/types.h>.
#pragma once

#define NSFUN_CORE __attribute__((preserve_access_index))

typedef struct {
  int counter;
} atomic_t;

typedef struct {
  long counter;
} atomic_long_t;

struct refcount_struct {
  atomic_t refs;
} NSFUN_CORE;

struct ns_common {
  __u32 ns_type;
  unsigned int inum;
  __u64 ns_id;
  struct refcount_struct __ns_ref;  // Linux 6.18+
  struct refcount_struct count;     // before
} NSFUN_CORE;

struct user_namespace {
  struct user_namespace* parent;
  struct ns_common ns;
} NSFUN_CORE;

struct uts_namespace {
  struct user_namespace* user_ns;
  struct ns_common ns;
} NSFUN_CORE;

struct ipc_namespace {
  struct user_namespace* user_ns;
  struct ns_common ns;
} NSFUN_CORE;

struct mnt_namespace {
  struct user_namespace* user_ns;
  struct ns_common ns;
} NSFUN_CORE;

struct net {
  struct user_namespace* user_ns;
  struct ns_common ns;
} NSFUN_CORE;

struct cgroup_namespace {
  struct user_namespace* user_ns;
  struct ns_common ns;
} NSFUN_CORE;

struct time_namespace {
  struct user_namespace* user_ns;
  struct ns_common ns;
} NSFUN_CORE;

struct task_struct;

struct pid_namespace {
  struct task_struct* child_reaper;
  struct user_namespace* user_ns;
  struct ns_common ns;
} NSFUN_CORE;

struct nsproxy {
  struct refcount_struct count;
  struct uts_namespace* uts_ns;
  struct ipc_namespace* ipc_ns;
  struct mnt_namespace* mnt_ns;
  struct pid_namespace* pid_ns_for_children;
  struct net* net_ns;
  struct time_namespace* time_ns;
  struct time_namespace* time_ns_for_children;
  struct cgroup_namespace* cgroup_ns;
} NSFUN_CORE;

struct upid {
  int nr;
  struct pid_namespace* ns;
} NSFUN_CORE;

struct pid {
  unsigned int level;
  struct upid numbers[1];
} NSFUN_CORE;

struct cred {
  atomic_long_t usage;
  struct user_namespace* user_ns;
} NSFUN_CORE;

struct super_block {
  unsigned long s_magic;
} NSFUN_CORE;

struct inode {
  struct super_block* i_sb;
  void* i_private;
} NSFUN_CORE;

struct file {
  struct inode* f_inode;
} NSFUN_CORE;

struct fdtable {
  unsigned int max_fds;
  struct file** fd;
} NSFUN_CORE;

struct files_struct {
  struct fdtable* fdt;
} NSFUN_CORE;

struct work_struct;
typedef void (*work_func_t)(struct work_struct* work);

struct work_struct {
  work_func_t func;
} NSFUN_CORE;

struct task_struct {
  int pid;
  int tgid;
  char comm[16];
  struct nsproxy* nsproxy;
  const struct cred* real_cred;
  struct pid* thread_pid;
  struct files_struct* files;
  struct task_struct* group_leader;
} NSFUN_CORE;
