// SPDX-License-Identifier: MIT
// nsfun – the child side of spawn's capability and seccomp settings (not API).
//
// Declared with their public types, in <nsfun/capabilities.hpp> (drop_bounding, apply_sets) and
// <nsfun/seccomp.hpp> (set_no_new_privs, load_seccomp), all in nsfun::detail::security. They run
// in a child made by clone3 without CLONE_VM (a copy of a possibly multithreaded parent) between
// clone and execve, so they make only raw system calls and allocate nothing.
//
// Why not libcap-ng's capng_apply() there (libcap-ng 0.8.3's src/cap-ng.c, and measured with
// strace on a clone3 child of a parent whose thread had called capng_get_caps_process()):
// - libcap-ng's state lives in a thread-local struct whose capset header keeps the thread id
//   found at its first use; it resets only through a pthread_atfork() handler, which clone3
//   does not run. The child's copy names the parent: capng_apply(CAPNG_SELECT_CAPS) made
//   `capset({pid=PARENT}, …) = -1 EPERM` and returned -5, and each call read
//   /proc/PARENT/status, the wrong process's sets;
// - it reads that file with fopen() and fgets/sscanf (capng_get_caps_process(), which
//   capng_apply(CAPNG_SELECT_BOUNDS) calls first): stdio allocates its FILE with malloc, which
//   may deadlock in the child of a multithreaded parent (another thread may have held malloc's
//   lock at clone time);
// - capng_capability_to_name() calls asprintf for numbers it does not know.
// So the child uses prctl(PR_CAPBSET_DROP), capset(2) and prctl(PR_CAP_AMBIENT) directly, and
// libcap-ng is used in the parent for the names (capng_name_to_capability,
// capng_capability_to_name).
#pragma once

#include <nsfun/capabilities.hpp>
#include <nsfun/seccomp.hpp>
