# SPDX-License-Identifier: MIT
# The BPF task iterator (src/bpf/task_ns.bpf.c) that the /proc scan uses when it may: compiled for
# the BPF target by clang, turned into a light skeleton by bpftool (plain bpf() calls; the kernel
# applies the CO-RE relocations), and its C loader built into the nsfun target. Needs clang,
# bpftool and libbpf's headers (Debian: clang, bpftool, libbpf-dev; cmake/setup-deps.sh installs
# them). NSFUN_BPF=AUTO builds without the iterator when one is missing, ON makes that an error.
# Included at file scope after the nsfun target exists (enable_language must not be in a function).

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

target_compile_definitions(nsfun PRIVATE NSFUN_HAVE_BPF=${_nsfun_bpf})

if(_nsfun_bpf)
  enable_language(C)
  set(_gen "${PROJECT_BINARY_DIR}/bpf")
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
    OUTPUT "${_gen}/task_ns.lskel.h"
    COMMAND sh -c "\"$0\" gen skeleton -L \"$1\" name nsfun_task_ns > \"$2.tmp\" && mv \"$2.tmp\" \"$2\""
            "${NSFUN_BPFTOOL}" "${_gen}/task_ns.bpf.o" "${_gen}/task_ns.lskel.h"
    DEPENDS "${_gen}/task_ns.bpf.o"
    COMMENT "BPF: light skeleton task_ns.lskel.h"
    VERBATIM)

  add_library(nsfun_task_iter OBJECT "${_src}/task_ns_loader.c" "${_gen}/task_ns.lskel.h")
  # The generated skeleton is bpftool's code, not ours: a system include, outside our warnings.
  target_include_directories(nsfun_task_iter SYSTEM PRIVATE "${_gen}")
  set_target_properties(nsfun_task_iter PROPERTIES
    C_STANDARD 11
    C_EXTENSIONS ON
    POSITION_INDEPENDENT_CODE ON)
  nsfun_c_target(nsfun_task_iter)
  target_sources(nsfun PRIVATE $<TARGET_OBJECTS:nsfun_task_iter>)
endif()
