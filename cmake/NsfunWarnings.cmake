# SPDX-License-Identifier: MIT
# nsfun_project_target(<target>): the strict warning set, sanitizers, hardening and (for programs,
# NsfunStaticRuntime.cmake) the static runtime for nsfun's own targets (PRIVATE: never imposed on
# consumers). Needs NsfunSanitizers and NsfunStaticRuntime included first.

# The warnings, then the C++-only ones (nsfun has no C source left: the BPF program is built by
# clang for the BPF target, with its own flags, in NsfunBpf.cmake).
set(NSFUN_WARNINGS
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wcast-qual -Wformat=2 -Wundef
  -Wimplicit-fallthrough -Wmissing-declarations)
set(NSFUN_CXX_WARNINGS
  -Wold-style-cast -Wnon-virtual-dtor -Woverloaded-virtual -Wzero-as-null-pointer-constant)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND NSFUN_WARNINGS -Wduplicated-cond -Wduplicated-branches -Wlogical-op)
  list(APPEND NSFUN_CXX_WARNINGS -Wuseless-cast)
endif()

function(nsfun_project_target target)
  target_compile_options(${target} PRIVATE ${NSFUN_WARNINGS} ${NSFUN_CXX_WARNINGS})
  if(NSFUN_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror -pedantic-errors)
  endif()
  # Hardening where optimisation is on (_FORTIFY_SOURCE needs it), except in sanitized builds:
  # the fortified string functions (__memcpy_chk, ...) are checked by glibc, not the sanitizer,
  # whose reports (with the stack) are what those builds are for.
  if(NOT NSFUN_SANITIZE)
    target_compile_definitions(${target} PRIVATE
      $<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:_FORTIFY_SOURCE=2>)
  endif()
  target_compile_definitions(${target} PRIVATE _GLIBCXX_ASSERTIONS)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  nsfun_enable_sanitizers(${target})
  nsfun_static_runtime(${target})
endfunction()
