# SPDX-License-Identifier: MIT
# nsfun_project_target(<target>): the strict warning set, sanitizers and hardening for nsfun's
# own targets (PRIVATE: never imposed on consumers).

function(nsfun_project_target target)
  set(common
    -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wold-style-cast
    -Wnon-virtual-dtor -Woverloaded-virtual -Wcast-qual -Wformat=2 -Wundef
    -Wimplicit-fallthrough -Wmissing-declarations -Wzero-as-null-pointer-constant)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    list(APPEND common -Wduplicated-cond -Wduplicated-branches -Wlogical-op -Wuseless-cast)
  endif()
  target_compile_options(${target} PRIVATE ${common})
  if(NSFUN_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror -pedantic-errors)
  endif()
  # Hardening where optimisation is on (_FORTIFY_SOURCE needs it).
  target_compile_definitions(${target} PRIVATE
    $<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:_FORTIFY_SOURCE=2>
    _GLIBCXX_ASSERTIONS)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  nsfun_enable_sanitizers(${target})
endfunction()
