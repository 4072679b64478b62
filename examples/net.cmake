# SPDX-License-Identifier: MIT
# Examples of the nsfun::net component (include()d from examples/CMakeLists.txt; they exist when
# the nsfun_net target does, i.e. NSFUN_BUILD_NET is on). Each is run as a test; they need privileges (label "priv", exit 77
# = cannot run here, reported as skipped).

if(TARGET nsfun_net)
  function(nsfun_net_example name)
    cmake_parse_arguments(ARG "" "EXPECT" "ARGS" ${ARGN})
    add_executable(nsfun_example_${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp)
    target_link_libraries(nsfun_example_${name} PRIVATE nsfun::net)
    nsfun_project_target(nsfun_example_${name})
    set_target_properties(nsfun_example_${name} PROPERTIES OUTPUT_NAME ${name})
    if(NSFUN_BUILD_TESTS)
      add_test(NAME example.${name} COMMAND nsfun_example_${name} ${ARG_ARGS})
      set_tests_properties(example.${name} PROPERTIES
        LABELS "example;priv" SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
      if(ARG_EXPECT)
        set_tests_properties(example.${name} PROPERTIES PASS_REGULAR_EXPRESSION "${ARG_EXPECT}")
      endif()
    endif()
  endfunction()

  # The summary is printed only once the kernel acknowledged every request; then the teardown.
  nsfun_net_example(net_cheatsheet EXPECT "10.200.0.1/24 <-> veth1 10.200.0.2/24 .*all up.*torn down")
endif()
