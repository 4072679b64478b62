# SPDX-License-Identifier: MIT
# nsfun_static_runtime(<target>): when NSFUN_STATIC_RUNTIME is on, link one of nsfun's own
# programs with libstdc++ and libgcc built in and fmt header-only. nsfun_project_target() calls it
# for every target; it acts on executables only.
#
# Why: a start then loads only libc (and libmnl for nsfun::net): about 1.8 ms less per process on
# a small VM, which is most of what separates a one-shot tool such as `nsm list` from `true`. fmt
# goes header-only too, or libfmt.so would bring the shared libstdc++ back along.
#
# Off by default: a distribution package expects its programs to use the system libstdc++ (one
# copy to update, one set of symbols). The developer presets (default, ci, debug) turn it on.
#
# Never affected:
# - libraries: a consumer of libnsfun chooses its own runtime;
# - sanitized builds: the sanitizer runtimes expect the shared libstdc++;
# - programs that link another C++ shared library (Google Benchmark), which would bring the
#   shared libstdc++ back: call this after target_link_libraries(), it reads LINK_LIBRARIES;
# - compilers other than GCC (-static-libstdc++ is a GCC driver option here), and an fmt without
#   the fmt::fmt-header-only target.

function(nsfun_static_runtime target)
  if(NOT NSFUN_STATIC_RUNTIME OR NSFUN_SANITIZE OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU"
     OR NOT TARGET fmt::fmt-header-only)
    return()
  endif()
  get_target_property(type ${target} TYPE)
  get_target_property(libs ${target} LINK_LIBRARIES)
  if(NOT type STREQUAL "EXECUTABLE" OR "${libs}" MATCHES "benchmark::")
    return()
  endif()
  target_link_libraries(${target} PRIVATE fmt::fmt-header-only)
  target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
endfunction()
