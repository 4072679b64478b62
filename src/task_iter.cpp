// SPDX-License-Identifier: MIT
// nsfun – compiled once: the BPF task iterator's table (<nsfun/impl/task_iter.ipp>).
#include <nsfun/impl/task_iter.ipp>
