# SPDX-License-Identifier: MIT
# ctest consumer.library_links_no_fmt: nsfun's compiled libraries call no fmt function, so they
# hold no fmt symbol, defined or undefined. fmt is a usage requirement of <nsfun/format.hpp> only
# (nsfun::nsfun's INTERFACE): a libnsfun that needed libfmt itself would make that wrong.
#
#   cmake -DNM=... -DLIBRARY=<path> [-DLIBRARY_NET=<path>] -P run_link_deps.cmake
cmake_minimum_required(VERSION 3.21)
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")
consumer_require(NM LIBRARY)

foreach(library IN ITEMS "${LIBRARY}" "${LIBRARY_NET}")
  if(library STREQUAL "")
    continue()
  endif()
  # A shared library: its dynamic symbols (what it exports and what it needs); an archive: all.
  set(dynamic)
  if(library MATCHES "\\.so(\\.|$)")
    set(dynamic -D)
  endif()
  consumer_step(nm COMMAND "${NM}" -C ${dynamic} "${library}" OUTPUT_VARIABLE symbols)
  # Plain string searches: demangled names hold brackets that would upset CMake's list splitting.
  string(FIND "${symbols}" "fmt::" at)
  if(NOT at EQUAL -1)
    string(REGEX MATCH "[^\n]*fmt::[^\n]*" first "${symbols}")
    message(FATAL_ERROR "consumer: ${library} has fmt symbols, e.g.:\n  ${first}\n"
      "A compiled source uses fmt: make fmt a PRIVATE (or header-only) dependency of that "
      "library, not only the INTERFACE one that format.hpp needs.")
  endif()
  string(LENGTH "${symbols}" size)
  if(size EQUAL 0)
    message(FATAL_ERROR "consumer: nm printed nothing for ${library}")
  endif()
  message(STATUS "consumer: ${library}: no fmt symbol")
endforeach()
