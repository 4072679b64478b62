# SPDX-License-Identifier: MIT
# NSFUN_FUZZ: the libFuzzer targets of tests/fuzz (one per parser of outside input), built by
# clang with -fsanitize=fuzzer,address,undefined against nsfun::header_only (and
# nsfun::net_header_only), and a bounded run of each as a ctest test labelled "fuzz": it runs
# NSFUN_FUZZ_SECONDS over the seed corpus in tests/fuzz/corpus/<name>/, adding what it finds to a
# work corpus in the build tree (the source tree is only read). tests/fuzz/run.sh makes long runs.
#
#   cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DNSFUN_FUZZ=ON
#   cmake --build build/fuzz --target nsfun_fuzz && ctest --test-dir build/fuzz -L fuzz
#
# Included at file scope after the nsfun_header_only and nsfun_net_header_only targets exist.

option(NSFUN_FUZZ "Build the libFuzzer targets (clang) and run each for a few seconds in ctest" OFF)
set(NSFUN_FUZZ_SECONDS 5 CACHE STRING "Seconds each fuzz target runs under ctest (label fuzz)")

if(NSFUN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "NSFUN_FUZZ=ON needs clang's libFuzzer: configure with "
                        "-DCMAKE_CXX_COMPILER=clang++ (this is ${CMAKE_CXX_COMPILER_ID})")
  endif()
  enable_testing()
  add_subdirectory("${PROJECT_SOURCE_DIR}/tests/fuzz" "${PROJECT_BINARY_DIR}/tests/fuzz")
endif()
