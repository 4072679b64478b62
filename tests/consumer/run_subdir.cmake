# SPDX-License-Identifier: MIT
# ctest consumer.subdir: configure, build and run tests/consumer/subdir, which pulls nsfun in with
# add_subdirectory(), in a fresh binary directory, and runs its program linked with nsfun::nsfun
# and with nsfun::header_only. With NET=ON (the parent build has the net
# component) the subproject builds it too and the consumer links nsfun::net as well.
#
#   cmake -DNSFUN_SOURCE_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=...
#         -DCXX_COMPILER=... -DNET=ON|OFF [-DMAKE_PROGRAM=...] [-DBUILD_TYPE=...]
#         -P run_subdir.cmake
cmake_minimum_required(VERSION 3.21)
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")
consumer_require(NSFUN_SOURCE_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER NET)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

if(NET)
  set(net ON)
else()
  set(net OFF)
endif()
consumer_configure_args(configure_args)
consumer_step(configure COMMAND "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}"
  ${configure_args} "-DNSFUN_SOURCE_DIR=${NSFUN_SOURCE_DIR}" "-DNSFUN_BUILD_NET=${net}")
consumer_build_args(build_args)
consumer_step(build COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}" ${build_args})

foreach(name consumer consumer_header_only)
  consumer_executable(program "${WORK_DIR}" ${name})
  consumer_step(run-${name} COMMAND "${program}" OUTPUT_VARIABLE output)
  consumer_check_output(run-${name} "${output}")
endforeach()

if(NET)
  foreach(name consumer_net consumer_net_header_only)
    consumer_executable(program "${WORK_DIR}" ${name})
    consumer_step(run-${name} COMMAND "${program}" OUTPUT_VARIABLE output)
    if(NOT output MATCHES "nsfun-net consumer ok")
      message(FATAL_ERROR "consumer: the ${name} program printed '${output}'")
    endif()
  endforeach()
endif()
