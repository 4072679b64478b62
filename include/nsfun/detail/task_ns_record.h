// SPDX-License-Identifier: MIT
// nsfun – the record the task iterator (task_ns.bpf.c) writes per process, shared by the BPF
// program and the C++ reader (<nsfun/detail/task_iter.hpp>, which includes it inside
// nsfun::detail and undoes its macros). Plain C, including nothing: it is compiled for the BPF
// target too.

#ifndef NSFUN_TASK_NS_RECORD_H
#define NSFUN_TASK_NS_RECORD_H

// Link slots, in nsfun::NsLink order (checked by static_asserts in task_iter.hpp).
#define NSFUN_LINK_USER 0
#define NSFUN_LINK_MNT 1
#define NSFUN_LINK_UTS 2
#define NSFUN_LINK_IPC 3
#define NSFUN_LINK_PID 4
#define NSFUN_LINK_NET 5
#define NSFUN_LINK_CGROUP 6
#define NSFUN_LINK_TIME 7
#define NSFUN_LINK_PID_FOR_CHILDREN 8
#define NSFUN_LINK_TIME_FOR_CHILDREN 9
#define NSFUN_LINK_COUNT 10

// The first record: pid 0, ino[0] this magic, ino[1] the level of the reader's pid namespace (0:
// the initial one).
#define NSFUN_TASK_NS_MAGIC 0x6e736e73u

// One process: its pid (in the iterator's pid namespace) and the inode behind each link, 0
// where the link would not be readable.
struct nsfun_task_ns {
  unsigned int pid;
  unsigned int ino[NSFUN_LINK_COUNT];
};

#endif
