# SPDX-License-Identifier: MIT
# Benchmark tools (include()d from bench/CMakeLists.txt):
#   load_gen  starts N sleeping processes, half of them in new namespaces (needs root)
#   paired    times commands against each other, round by round
# bench/compare_lsns.sh uses both to compare lsns with examples/list_namespaces.

add_executable(nsfun_load_gen ${CMAKE_CURRENT_LIST_DIR}/load_gen.cpp)
target_link_libraries(nsfun_load_gen PRIVATE nsfun::nsfun)
set_target_properties(nsfun_load_gen PROPERTIES OUTPUT_NAME load_gen)
nsfun_project_target(nsfun_load_gen)

add_executable(nsfun_paired ${CMAKE_CURRENT_LIST_DIR}/paired.cpp)
target_link_libraries(nsfun_paired PRIVATE nsfun::nsfun)
set_target_properties(nsfun_paired PROPERTIES OUTPUT_NAME paired)
nsfun_project_target(nsfun_paired)
