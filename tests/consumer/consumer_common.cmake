# SPDX-License-Identifier: MIT
# Helpers shared by run_install.cmake and run_subdir.cmake (cmake -P scripts).

# consumer_require(<var>...): fail unless each variable was passed with -D.
function(consumer_require)
  foreach(var ${ARGN})
    if(NOT DEFINED ${var})
      message(FATAL_ERROR "consumer: -D${var}=... is required")
    endif()
  endforeach()
endfunction()

# consumer_step(<name> COMMAND <cmd>... [WORKING_DIRECTORY <dir>] [OUTPUT_VARIABLE <var>]):
# run one command; on failure print the command and everything it wrote, then stop.
function(consumer_step name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "WORKING_DIRECTORY;OUTPUT_VARIABLE" "COMMAND")
  set(pretty)
  foreach(arg IN LISTS ARG_COMMAND)
    if(arg MATCHES "[ \t]" OR arg STREQUAL "")
      set(arg "'${arg}'")
    endif()
    string(APPEND pretty " ${arg}")
  endforeach()
  string(STRIP "${pretty}" pretty)
  message(STATUS "consumer: ${name}: ${pretty}")
  set(wd)
  if(ARG_WORKING_DIRECTORY)
    set(wd WORKING_DIRECTORY "${ARG_WORKING_DIRECTORY}")
  endif()
  execute_process(COMMAND ${ARG_COMMAND} ${wd}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "consumer: ${name} failed (${rc}):\n  ${pretty}\n"
      "---- output ----\n${out}---- end of output ----")
  endif()
  if(ARG_OUTPUT_VARIABLE)
    set(${ARG_OUTPUT_VARIABLE} "${out}" PARENT_SCOPE)
  endif()
endfunction()

# consumer_check_output(<name> <output>): the consumer prints the caller's net namespace.
function(consumer_check_output name output)
  string(STRIP "${output}" output)
  if(NOT output MATCHES "net:\\[[0-9]+\\]")
    message(FATAL_ERROR "consumer: ${name} printed '${output}', expected net:[INODE]")
  endif()
  message(STATUS "consumer: ${name} printed ${output}")
endfunction()

# consumer_executable(<var> <build dir> <name>): the built program, for single- and multi-config
# generators.
function(consumer_executable var dir name)
  foreach(candidate "${dir}/${name}" "${dir}/${BUILD_TYPE}/${name}")
    if(EXISTS "${candidate}" AND NOT IS_DIRECTORY "${candidate}")
      set(${var} "${candidate}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "consumer: no ${name} program under ${dir}")
endfunction()

# The configure arguments both consumers share: the parent build's generator, compiler, build
# type and that type's flags.
function(consumer_configure_args var)
  set(args -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
  if(MAKE_PROGRAM)
    list(APPEND args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  if(BUILD_TYPE)
    list(APPEND args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
    if(DEFINED BUILD_TYPE_FLAGS)
      string(TOUPPER "${BUILD_TYPE}" type)
      list(APPEND args "-DCMAKE_CXX_FLAGS_${type}=${BUILD_TYPE_FLAGS}")
    endif()
  endif()
  set(${var} ${args} PARENT_SCOPE)
endfunction()

# consumer_build_args(<var>): arguments after `cmake --build <dir>`.
function(consumer_build_args var)
  set(args --parallel 2)
  if(BUILD_TYPE)
    list(APPEND args --config "${BUILD_TYPE}")
  endif()
  set(${var} ${args} PARENT_SCOPE)
endfunction()
