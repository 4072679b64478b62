// SPDX-License-Identifier: MIT
// nsfun – the C side of the task iterator: load, attach, open one iteration.

#include "task_ns_loader.h"

#include <errno.h>
#include <string.h>

#include "task_ns.lskel.h"

int nsfun_task_ns_open(void) {
  struct nsfun_task_ns* skel = nsfun_task_ns__open_and_load();
  if (!skel) {
    return errno != 0 ? -errno : -EINVAL;
  }
  int err = 0;
  int link = skel_link_create(skel->progs.nsfun_task_ns.prog_fd, 0, BPF_TRACE_ITER);
  int iter = -1;
  if (link < 0) {
    err = -errno;
  } else {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.iter_create.link_fd = (__u32)link;
    iter = skel_sys_bpf(BPF_ITER_CREATE, &attr, sizeof(attr));
    if (iter < 0) {
      err = -errno;
    }
    close(link);  // the iterator's fd holds the link (and so the program) for as long as it lives
  }
  nsfun_task_ns__destroy(skel);
  return iter >= 0 ? iter : err;
}
