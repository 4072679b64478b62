// SPDX-License-Identifier: MIT
// nsfun – loads the task iterator (task_ns.bpf.c) from its light skeleton: plain bpf() calls,
// with the kernel applying the CO-RE relocations, so no BTF is read in user space. C, because
// bpftool's generated skeleton is C.

#ifndef NSFUN_TASK_NS_LOADER_H
#define NSFUN_TASK_NS_LOADER_H

#ifdef __cplusplus
extern "C" {
#endif

// An fd to read struct nsfun_task_ns records from (one pass over every task), or -errno when the
// iterator cannot be loaded here (no CAP_BPF/CAP_PERFMON, no BTF, an older kernel, lockdown).
// Every other fd it made is closed again.
int nsfun_task_ns_open(void);

#ifdef __cplusplus
}
#endif

#endif
