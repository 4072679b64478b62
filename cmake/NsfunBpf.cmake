# SPDX-License-Identifier: MIT
# The BPF programs: the task iterator (src/bpf/task_ns.bpf.c) that the /proc scan uses when it may,
# and NsMonitor's tracepoint programs (src/bpf/ns_monitor.bpf.c). Each is compiled for the BPF
# target by clang, turned into a light skeleton by bpftool (plain bpf() calls; the kernel applies
# the CO-RE relocations) and made C++ (cmake/bpf_skel_cxx.sh) as
# ${PROJECT_BINARY_DIR}/include/nsfun/detail/NAME.skel.hpp, which <nsfun/impl/task_iter.ipp> and
# <nsfun/impl/monitor_bpf.ipp> include where NSFUN_HAVE_BPF is 1: privately for the compiled
# nsfun, as a usage requirement of nsfun_header_only (and installed next to the other private
# headers), so a header-only program needs no nsfun library for them either, only libbpf's
# headers. Needs clang, bpftool
# and libbpf's headers (Debian: clang, bpftool, libbpf-dev; cmake/setup-deps.sh installs them).
# NSFUN_BPF=AUTO builds without them when one is missing (the scan reads /proc only, and
# NsMonitor's bpf backend says the build has none), ON makes that an error.
# Included at file scope after the nsfun and nsfun_header_only targets exist.

set(NSFUN_BPF AUTO CACHE STRING
    "Build the BPF programs (the scan's task iterator, NsMonitor's bpf backend): ON, OFF, AUTO")
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
    message(STATUS "nsfun: building without the BPF programs (needs clang, bpftool, "
                   "libbpf-dev); the scan reads /proc only, NsMonitor has no bpf backend")
  endif()
endif()

# nsfun_bpf_skeleton(NAME SKEL DEPENDS...): src/bpf/NAME.bpf.c compiled for the BPF target and made
# the C++ light skeleton include/nsfun/detail/NAME.skel.hpp (struct SKEL) in the build tree,
# generated before nsfun and nsfun_header_only compile, and installed with the private headers.
function(nsfun_bpf_skeleton name skel_name)
  set(_gen "${PROJECT_BINARY_DIR}/bpf")
  set(_gen_include "${PROJECT_BINARY_DIR}/include")
  set(_skel "${_gen_include}/nsfun/detail/${name}.skel.hpp")
  set(_src "${PROJECT_SOURCE_DIR}/src/bpf")
  # The BPF target has no libc headers of its own: linux/types.h needs the multiarch asm/ dir.
  set(_arch_include "/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}")
  set(_deps "")
  foreach(_dep IN LISTS ARGN)
    list(APPEND _deps "${PROJECT_SOURCE_DIR}/${_dep}")
  endforeach()
  add_custom_command(
    OUTPUT "${_gen}/${name}.bpf.o"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_gen}"
    COMMAND "${NSFUN_CLANG}" -g -O2 -target bpf -Wall -Werror
            -I "${_src}" -I "${PROJECT_SOURCE_DIR}/include" -I "${NSFUN_LIBBPF_INCLUDE_DIR}" -idirafter "${_arch_include}"
            -c "${_src}/${name}.bpf.c" -o "${_gen}/${name}.bpf.o"
    DEPENDS "${_src}/${name}.bpf.c" "${_src}/kernel_ns.h" ${_deps}
    COMMENT "BPF: ${name}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT "${_skel}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_gen_include}/nsfun/detail"
    COMMAND sh "${PROJECT_SOURCE_DIR}/cmake/bpf_skel_cxx.sh"
            "${NSFUN_BPFTOOL}" "${_gen}/${name}.bpf.o" "${skel_name}" "${_skel}"
    DEPENDS "${_gen}/${name}.bpf.o" "${PROJECT_SOURCE_DIR}/cmake/bpf_skel_cxx.sh"
    COMMENT "BPF: light skeleton as C++, include/nsfun/detail/${name}.skel.hpp"
    VERBATIM)
  # Generated before anything that includes it compiles: nsfun, and (INTERFACE dependencies are
  # followed by whoever links the target) every in-tree user of nsfun_header_only.
  add_custom_target(${skel_name} DEPENDS "${_skel}")
  add_dependencies(nsfun ${skel_name})
  add_dependencies(nsfun_header_only ${skel_name})
  if(NSFUN_INSTALL)
    install(FILES "${_skel}" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/nsfun/detail")
  endif()
endfunction()

if(_nsfun_bpf)
  # The scanner's task iterator, and NsMonitor's programs (src/bpf/ns_monitor.bpf.c, loaded by
  # <nsfun/impl/monitor_bpf.ipp>).
  nsfun_bpf_skeleton(task_ns nsfun_task_ns_skel include/nsfun/detail/task_ns_record.h)
  nsfun_bpf_skeleton(ns_monitor nsfun_ns_monitor_skel include/nsfun/detail/ns_monitor_record.h)

  set(_gen_include "${PROJECT_BINARY_DIR}/include")
  target_compile_definitions(nsfun PRIVATE NSFUN_HAVE_BPF=1)
  target_include_directories(nsfun SYSTEM PRIVATE "${_gen_include}")
  target_compile_definitions(nsfun_header_only INTERFACE NSFUN_HAVE_BPF=1)
  target_include_directories(nsfun_header_only SYSTEM INTERFACE $<BUILD_INTERFACE:${_gen_include}>)
endif()
