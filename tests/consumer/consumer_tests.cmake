# SPDX-License-Identifier: MIT
# Consumer tests (label "consumer"), included from tests/CMakeLists.txt: use nsfun the way a user
# does, from an install prefix (consumer.install, also find_package's components) and as a
# subdirectory (consumer.subdir). Each configures and builds a small project with the parent
# build's generator, compiler and build type. consumer.library_links_no_fmt checks that the
# compiled libraries need no fmt of their own; consumer.header_only_macros that including nsfun
# header-only defines no macro outside NSFUN_*.

# Without pkg-config, consumer.install fails with a clear message rather than skip the nsfun.pc
# check.
find_program(NSFUN_PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)

# A list such as "address;undefined" would split the command line: pass "address,undefined".
string(REPLACE ";" "," _nsfun_consumer_sanitize "${NSFUN_SANITIZE}")

# Whether this build has the net component (NSFUN_BUILD_NET): the consumers then require it.
if(TARGET nsfun_net)
  set(_nsfun_consumer_net ON)
else()
  set(_nsfun_consumer_net OFF)
endif()

# The build type's flags too (the ci preset's -O2 -g1), so that a consumer compiles as this build
# does (single-config generators; a multi-config one keeps CMake's defaults).
string(TOUPPER "${CMAKE_BUILD_TYPE}" _nsfun_consumer_type)
set(_nsfun_consumer_args
  "-DGENERATOR=${CMAKE_GENERATOR}"
  "-DCXX_COMPILER=${CMAKE_CXX_COMPILER}"
  "-DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}"
  "-DBUILD_TYPE=$<CONFIG>")
if(_nsfun_consumer_type)
  list(APPEND _nsfun_consumer_args
    "-DBUILD_TYPE_FLAGS=${CMAKE_CXX_FLAGS_${_nsfun_consumer_type}}")
endif()

# The examples the build installs (libexec/nsfun/NAME), which the installed tree must have.
get_property(_nsfun_example_targets GLOBAL PROPERTY NSFUN_EXAMPLE_TARGETS)
list(TRANSFORM _nsfun_example_targets REPLACE "^nsfun_example_" "")
list(JOIN _nsfun_example_targets "," _nsfun_examples)

add_test(NAME consumer.install
  COMMAND "${CMAKE_COMMAND}"
    ${_nsfun_consumer_args}
    "-DEXAMPLES=${_nsfun_examples}"
    "-DNSFUN_BINARY_DIR=${PROJECT_BINARY_DIR}"
    "-DCONSUMER_SOURCE_DIR=${CMAKE_CURRENT_LIST_DIR}/install"
    "-DCOMPONENTS_SOURCE_DIR=${CMAKE_CURRENT_LIST_DIR}/components"
    "-DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer-install"
    "-DNET=${_nsfun_consumer_net}"
    "-DPKG_CONFIG=${NSFUN_PKG_CONFIG_EXECUTABLE}"
    "-DSANITIZE=${_nsfun_consumer_sanitize}"
    -P "${CMAKE_CURRENT_LIST_DIR}/run_install.cmake")

add_test(NAME consumer.subdir
  COMMAND "${CMAKE_COMMAND}"
    ${_nsfun_consumer_args}
    "-DNSFUN_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    "-DCONSUMER_SOURCE_DIR=${CMAKE_CURRENT_LIST_DIR}/subdir"
    "-DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer-subdir"
    "-DNET=${_nsfun_consumer_net}"
    -P "${CMAKE_CURRENT_LIST_DIR}/run_subdir.cmake")

add_test(NAME consumer.header_only_macros
  COMMAND "${CMAKE_COMMAND}"
    "-DCXX_COMPILER=${CMAKE_CXX_COMPILER}"
    "-DINCLUDES=$<JOIN:$<TARGET_PROPERTY:nsfun_header_only,INTERFACE_INCLUDE_DIRECTORIES>,|>"
    "-DDEFINITIONS=$<JOIN:$<TARGET_PROPERTY:nsfun_header_only,INTERFACE_COMPILE_DEFINITIONS>,|>"
    "-DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer-macros"
    "-DNET=${_nsfun_consumer_net}"
    -P "${CMAKE_CURRENT_LIST_DIR}/run_macros.cmake")

set(_nsfun_consumer_libraries "-DLIBRARY=$<TARGET_FILE:nsfun>")
if(TARGET nsfun_net)
  list(APPEND _nsfun_consumer_libraries "-DLIBRARY_NET=$<TARGET_FILE:nsfun_net>")
endif()
add_test(NAME consumer.library_links_no_fmt
  COMMAND "${CMAKE_COMMAND}" "-DNM=${CMAKE_NM}" ${_nsfun_consumer_libraries}
    -P "${CMAKE_CURRENT_LIST_DIR}/run_link_deps.cmake")

set_tests_properties(consumer.install consumer.subdir PROPERTIES LABELS consumer TIMEOUT 600)
set_tests_properties(consumer.library_links_no_fmt consumer.header_only_macros
  PROPERTIES LABELS consumer TIMEOUT 60)
