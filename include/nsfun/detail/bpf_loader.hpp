// SPDX-License-Identifier: MIT
// nsfun – private: libbpf's light-skeleton loader helpers (<bpf/skel_internal.h>: static inline
// functions at global scope, C that compiles as C++ once <cerrno> and <cstring> are in), with the
// macros it and <bpf/bpf.h> define undone at once, so that none outlives nsfun's headers (the
// consumer test header_only_macros checks). Include it, then a generated skeleton
// (cmake/bpf_skel_cxx.sh) in a namespace of its own: the skeletons need only the functions.
#pragma once

#include <bpf/skel_internal.h>
#include <cerrno>
#include <cstring>

#undef offsetofend
#undef set_err
#undef LIBBPF_MAJOR_VERSION
#undef LIBBPF_MINOR_VERSION
#undef LIBBPF_API
#undef LIBBPF_DEPRECATED
#undef LIBBPF_DEPRECATED_SINCE
#undef LIBBPF_OPTS
#undef DECLARE_LIBBPF_OPTS
#undef bpf_map_create_opts__last_field
#undef bpf_prog_load_opts__last_field
#undef MAPS_RELAX_COMPAT
#undef BPF_LOG_BUF_SIZE
#undef bpf_btf_load_opts__last_field
#undef bpf_map_batch_opts__last_field
#undef bpf_obj_get_opts__last_field
#undef bpf_prog_attach_opts__last_field
#undef bpf_link_create_opts__last_field
#undef bpf_link_update_opts__last_field
#undef bpf_get_fd_by_id_opts__last_field
#undef bpf_prog_query_opts__last_field
#undef bpf_prog_bind_opts__last_field
#undef bpf_test_run_opts__last_field
