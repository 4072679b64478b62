# SPDX-License-Identifier: MIT
# nsfun_enable_sanitizers(<target>): applies NSFUN_SANITIZE (a list such as "address;undefined").

function(nsfun_enable_sanitizers target)
  if(NOT NSFUN_SANITIZE)
    return()
  endif()
  list(JOIN NSFUN_SANITIZE "," list)
  set(flags -fsanitize=${list} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  # PUBLIC on a library, so that whatever links it also links the sanitizer runtime.
  # GCC's -Wmaybe-uninitialized is unreliable with the sanitizers' instrumentation (GCC's manual
  # warns of false positives under -fsanitize): at -O1 with ASan it fires inside libstdc++'s
  # <regex> (std::function in regex_automaton.h), which -Werror turns into a failed build. The
  # unsanitized builds keep the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE")
    target_compile_options(${target} PRIVATE ${flags})
    target_link_options(${target} PRIVATE ${flags})
  else()
    target_compile_options(${target} PUBLIC $<BUILD_INTERFACE:${flags}>)
    # Also in the installed interface: an installed sanitized library needs the runtime.
    target_link_options(${target} PUBLIC ${flags})
  endif()
endfunction()
