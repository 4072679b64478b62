# SPDX-License-Identifier: MIT
# The BPF task iterator (src/bpf/task_ns.bpf.c) that the /proc scan uses when it may: compiled for
# the BPF target by clang, turned into a light skeleton by bpftool (plain bpf() calls; the kernel
# applies the CO-RE relocations) and made C++ (cmake/bpf_skel_cxx.sh) as
# ${PROJECT_BINARY_DIR}/include/nsfun/detail/task_ns.skel.hpp, which <nsfun/impl/task_iter.ipp>
# includes where NSFUN_HAVE_BPF is 1: privately for the compiled nsfun, as a usage requirement of
# nsfun_header_only (and installed next to the other private headers), so a header-only program
# needs no nsfun library for the fast path either, only libbpf's headers. Needs clang, bpftool
# and libbpf's headers (Debian: clang, bpftool, libbpf-dev; cmake/setup-deps.sh installs them).
# NSFUN_BPF=AUTO builds without the iterator when one is missing, ON makes that an error.
# Included at file scope after the nsfun and nsfun_header_only targets exist.

set(NSFUN_BPF AUTO CACHE STRING "Build the BPF task iterator used by the /proc scan (ON, OFF, AUTO)")
set_property(CACHE NSFUN_BPF PROPERTY STRINGS ON OFF AUTO)

set(_nsfun_bpf 0)
if(NOT NSFUN_BPF STREQUAL "OFF")
  find_program(NSFUN_CLANG NAMES clang clang-16 clang-15 clang-14)
  find_program(NSFUN_BPFTOOL bpftool PATHS /usr/sbin /sbin)
  find_path(NSFUN_LIBBPF_INCLUDE_DIR bpf/skel_internal.h)
  if(NSFUN_CLANG AND NSFUN_BPFTOOL AND NSFUN_LIBBPF_INCLUDE_DIR)
    set(_nsfun_bpf 1)
  elseif(NSFUN_BPF STREQUAL "ON")
    message(FATAL_ERROR "NSFUN_BPF=ON needs clang, bpftool and libbpf's headers "
                        "(clang: ${NSFUN_CLANG}, bpftool: ${NSFUN_BPFTOOL}, "
                        "bpf/skel_internal.h: ${NSFUN_LIBBPF_INCLUDE_DIR}); "
                        "run cmake/setup-deps.sh")
  else()
    message(STATUS "nsfun: building without the BPF task iterator (needs clang, bpftool, "
                   "libbpf-dev); the scan reads /proc only")
  endif()
endif()

if(_nsfun_bpf)
  set(_gen "${PROJECT_BINARY_DIR}/bpf")
  set(_gen_include "${PROJECT_BINARY_DIR}/include")
  set(_skel "${_gen_include}/nsfun/detail/task_ns.skel.hpp")
  set(_src "${PROJECT_SOURCE_DIR}/src/bpf")
  # The BPF target has no libc headers of its own: linux/types.h needs the multiarch asm/ dir.
  set(_arch_include "/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}")
  add_custom_command(
    OUTPUT "${_gen}/task_ns.bpf.o"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_gen}"
    COMMAND "${NSFUN_CLANG}" -g -O2 -target bpf -Wall -Werror
            -I "${_src}" -I "${PROJECT_SOURCE_DIR}/include" -I "${NSFUN_LIBBPF_INCLUDE_DIR}" -idirafter "${_arch_include}"
            -c "${_src}/task_ns.bpf.c" -o "${_gen}/task_ns.bpf.o"
    DEPENDS "${_src}/task_ns.bpf.c" "${PROJECT_SOURCE_DIR}/include/nsfun/detail/task_ns_record.h"
    COMMENT "BPF: task_ns.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT "${_skel}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_gen_include}/nsfun/detail"
    COMMAND sh "${PROJECT_SOURCE_DIR}/cmake/bpf_skel_cxx.sh"
            "${NSFUN_BPFTOOL}" "${_gen}/task_ns.bpf.o" nsfun_task_ns_skel "${_skel}"
    DEPENDS "${_gen}/task_ns.bpf.o" "${PROJECT_SOURCE_DIR}/cmake/bpf_skel_cxx.sh"
    COMMENT "BPF: light skeleton as C++, include/nsfun/detail/task_ns.skel.hpp"
    VERBATIM)
  # Generated before anything that includes it compiles: nsfun, and (INTERFACE dependencies are
  # followed by whoever links the target) every in-tree user of nsfun_header_only.
  add_custom_target(nsfun_task_ns_skel DEPENDS "${_skel}")
  add_dependencies(nsfun nsfun_task_ns_skel)
  add_dependencies(nsfun_header_only nsfun_task_ns_skel)

  target_compile_definitions(nsfun PRIVATE NSFUN_HAVE_BPF=1)
  target_include_directories(nsfun SYSTEM PRIVATE "${_gen_include}")
  target_compile_definitions(nsfun_header_only INTERFACE NSFUN_HAVE_BPF=1)
  target_include_directories(nsfun_header_only SYSTEM INTERFACE $<BUILD_INTERFACE:${_gen_include}>)
  if(NSFUN_INSTALL)
    install(FILES "${_skel}" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/nsfun/detail")
  endif()
endif()
