# SPDX-License-Identifier: MIT
# ctest consumer.install: install nsfun's build tree into a fresh prefix, check the package files,
# then, against that prefix only:
#   - build and run tests/consumer/install (nsfun::nsfun) while libmnl and libnftables cannot be
#     found: the core must not need them (it needs libcap-ng and libseccomp, which stay);
#   - check find_package(nsfun)'s components in that state (tests/consumer/components);
#   - with NET=ON, build and run it again with find_package(nsfun COMPONENTS net) and nsfun::net;
#   - build the programs once more with the flags from nsfun.pc (and nsfun-net.pc);
#   - the core and net programs are also built against nsfun::header_only and
#     nsfun::net_header_only, and once more header-only from the plain include path, no CMake.
#
#   cmake -DNSFUN_BINARY_DIR=... -DCONSUMER_SOURCE_DIR=... -DCOMPONENTS_SOURCE_DIR=...
#         -DWORK_DIR=... -DGENERATOR=... -DCXX_COMPILER=... -DPKG_CONFIG=... -DNET=ON|OFF
#         [-DMAKE_PROGRAM=...] [-DBUILD_TYPE=...] [-DSANITIZE=address,undefined]
#         [-DEXAMPLES=name,name,...] (each must be installed as libexec/nsfun/NAME, and lsns runs)
#         -P run_install.cmake
cmake_minimum_required(VERSION 3.21)
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")
consumer_require(NSFUN_BINARY_DIR CONSUMER_SOURCE_DIR COMPONENTS_SOURCE_DIR WORK_DIR GENERATOR
  CXX_COMPILER PKG_CONFIG NET)

set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Nothing but the prefix may lead find_package() or pkg-config to nsfun.
foreach(var CMAKE_PREFIX_PATH nsfun_DIR nsfun_ROOT NSFUN_ROOT PKG_CONFIG_PATH)
  unset(ENV{${var}})
endforeach()

# 1. Install.
set(config_args)
if(BUILD_TYPE)
  set(config_args --config "${BUILD_TYPE}")
endif()
consumer_step(install
  COMMAND "${CMAKE_COMMAND}" --install "${NSFUN_BINARY_DIR}" --prefix "${prefix}" ${config_args})

file(GLOB_RECURSE installed LIST_DIRECTORIES false RELATIVE "${prefix}" "${prefix}/*")
list(SORT installed)
list(JOIN installed "\n  " manifest)
message(STATUS "consumer: installed files:\n  ${manifest}")

# 2. The package files. GNUInstallDirs picks the library directory (lib, lib64 or
# lib/<multiarch>), so find it from where the config file went.
file(GLOB_RECURSE configs "${prefix}/*/cmake/nsfun/nsfun-config.cmake")
list(LENGTH configs nconfigs)
if(NOT nconfigs EQUAL 1)
  message(FATAL_ERROR "consumer: expected one LIBDIR/cmake/nsfun/nsfun-config.cmake, found "
    "${nconfigs}:\n  ${manifest}")
endif()
get_filename_component(cmake_dir "${configs}" DIRECTORY)
get_filename_component(libdir "${cmake_dir}/../.." ABSOLUTE)
file(RELATIVE_PATH rel_libdir "${prefix}" "${libdir}")
message(STATUS "consumer: library directory ${rel_libdir}")

set(missing)
foreach(file
    include/nsfun/nsfun.hpp
    include/nsfun/version.hpp
    ${rel_libdir}/cmake/nsfun/nsfun-config.cmake
    ${rel_libdir}/cmake/nsfun/nsfun-config-version.cmake
    ${rel_libdir}/cmake/nsfun/nsfun-targets.cmake
    ${rel_libdir}/pkgconfig/nsfun.pc)
  if(NOT EXISTS "${prefix}/${file}")
    list(APPEND missing "${file}")
  endif()
endforeach()
file(GLOB libraries "${libdir}/libnsfun.a" "${libdir}/libnsfun.so*")
if(NOT libraries)
  list(APPEND missing "${rel_libdir}/libnsfun.{a,so}")
endif()
if(NET)
  foreach(file
      ${rel_libdir}/cmake/nsfun/nsfun-net-targets.cmake
      ${rel_libdir}/cmake/nsfun/nsfun-net-deps.cmake
      ${rel_libdir}/pkgconfig/nsfun-net.pc)
    if(NOT EXISTS "${prefix}/${file}")
      list(APPEND missing "${file}")
    endif()
  endforeach()
  file(GLOB libraries "${libdir}/libnsfun_net.a" "${libdir}/libnsfun_net.so*")
  if(NOT libraries)
    list(APPEND missing "${rel_libdir}/libnsfun_net.{a,so}")
  endif()
endif()
# The examples, under libexec/nsfun/ (GNUInstallDirs' LIBEXECDIR), executable; the one that
# needs no privileges (lsns) runs from there.
if(EXAMPLES)
  string(REPLACE "," ";" examples "${EXAMPLES}")
  foreach(name IN LISTS examples)
    if(NOT EXISTS "${prefix}/libexec/nsfun/${name}" OR IS_DIRECTORY "${prefix}/libexec/nsfun/${name}")
      list(APPEND missing "libexec/nsfun/${name}")
    endif()
  endforeach()
  if("lsns" IN_LIST examples AND EXISTS "${prefix}/libexec/nsfun/lsns")
    consumer_step(installed-example COMMAND "${prefix}/libexec/nsfun/lsns"
      OUTPUT_VARIABLE lsns_out)
    if(NOT lsns_out MATCHES "[0-9]+ +pid +[0-9]+")
      message(FATAL_ERROR "consumer: the installed lsns example listed no pid namespace:\n${lsns_out}")
    endif()
  endif()
endif()
if(missing)
  list(JOIN missing "\n  " missing)
  message(FATAL_ERROR "consumer: missing from the install prefix:\n  ${missing}\n"
    "installed:\n  ${manifest}")
endif()

if(NOT PKG_CONFIG)
  message(FATAL_ERROR "consumer: pkg-config not found (${PKG_CONFIG}); it is needed to check "
    "nsfun.pc and to hide libmnl (cmake/setup-deps.sh installs it)")
endif()

# 3. find_package(nsfun) with the prefix as the only way in, and libmnl and libnftables out of
# reach: pkg-config (the only way nsfun's package looks for them) sees a directory that holds
# only what the core needs, libcap-ng.pc and libseccomp.pc.
set(no_pc_dir "${WORK_DIR}/no-pkgconfig")
file(MAKE_DIRECTORY "${no_pc_dir}")
foreach(module libcap-ng libseccomp)
  consumer_step(pcfiledir-${module}
    COMMAND "${PKG_CONFIG}" --variable=pcfiledir ${module} OUTPUT_VARIABLE pc_dir)
  string(STRIP "${pc_dir}" pc_dir)
  file(COPY "${pc_dir}/${module}.pc" DESTINATION "${no_pc_dir}")
endforeach()
set(ENV{PKG_CONFIG_LIBDIR} "${no_pc_dir}")
set(ENV{PKG_CONFIG_PATH} "")
execute_process(COMMAND "${PKG_CONFIG}" --exists libmnl RESULT_VARIABLE rc)
if(rc EQUAL 0)
  message(FATAL_ERROR "consumer: pkg-config still finds libmnl with PKG_CONFIG_LIBDIR=${no_pc_dir}")
endif()
execute_process(COMMAND "${PKG_CONFIG}" --exists libcap-ng libseccomp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "consumer: pkg-config does not find libcap-ng and libseccomp with "
    "PKG_CONFIG_LIBDIR=${no_pc_dir}")
endif()
message(STATUS "consumer: libmnl and libnftables hidden, libcap-ng and libseccomp kept "
  "(PKG_CONFIG_LIBDIR=${no_pc_dir})")

set(sanitize_flags)
if(SANITIZE)
  # A sanitized static libnsfun needs the sanitizer runtime in whatever links it.
  set(sanitize_flags "-fsanitize=${SANITIZE}" -fno-omit-frame-pointer)
endif()
list(JOIN sanitize_flags " " sanitize_flags_string)

consumer_configure_args(configure_args)
list(APPEND configure_args
  "-DCMAKE_PREFIX_PATH=${prefix}"
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  "-DCMAKE_CXX_FLAGS=${sanitize_flags_string}"
  "-DCMAKE_EXE_LINKER_FLAGS=${sanitize_flags_string}")
consumer_step(configure COMMAND "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${build}"
  ${configure_args})

file(STRINGS "${build}/CMakeCache.txt" found_dir REGEX "^nsfun_DIR:")
string(REGEX REPLACE "^[^=]*=" "" found_dir "${found_dir}")
file(REAL_PATH "${found_dir}" found_dir)
file(REAL_PATH "${cmake_dir}" expected_dir)
if(NOT found_dir STREQUAL expected_dir)
  message(FATAL_ERROR "consumer: find_package(nsfun) used ${found_dir}, not ${expected_dir}")
endif()

consumer_build_args(build_args)
consumer_step(build COMMAND "${CMAKE_COMMAND}" --build "${build}" ${build_args})
foreach(name consumer consumer_header_only)
  consumer_executable(program "${build}" ${name})
  consumer_step(run-${name} COMMAND "${program}" OUTPUT_VARIABLE output)
  consumer_check_output(run-${name} "${output}")
endforeach()

# 4. The components, still without libmnl and libnftables: asking for net looks for them and
# fails cleanly, OPTIONAL_COMPONENTS net keeps the core, an unknown component is refused.
if(NET)
  set(net_built ON)
else()
  set(net_built OFF)
endif()
consumer_step(components-probe
  COMMAND "${CMAKE_COMMAND}" -S "${COMPONENTS_SOURCE_DIR}" -B "${WORK_DIR}/components-probe"
    ${configure_args} -DCASE=probe "-DNET_BUILT=${net_built}")
set(unknown_dir "${WORK_DIR}/components-unknown")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${COMPONENTS_SOURCE_DIR}" -B "${unknown_dir}" ${configure_args}
    -DCASE=unknown
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(FIND "${out}" "no component \"bogus\"" at)
if(rc EQUAL 0 OR at EQUAL -1)
  message(FATAL_ERROR "consumer: find_package(nsfun REQUIRED COMPONENTS bogus) should fail "
    "naming the component (exit ${rc}):\n---- output ----\n${out}---- end of output ----")
endif()
message(STATUS "consumer: find_package(nsfun REQUIRED COMPONENTS bogus) failed as it should")

unset(ENV{PKG_CONFIG_LIBDIR})
unset(ENV{PKG_CONFIG_PATH})

# 5. find_package(nsfun COMPONENTS net) with the libraries back in reach: nsfun::net links.
if(NET)
  set(build_net "${WORK_DIR}/build-net")
  consumer_step(configure-net COMMAND "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}"
    -B "${build_net}" ${configure_args} -DNSFUN_CONSUMER_NET=ON)
  consumer_step(build-net COMMAND "${CMAKE_COMMAND}" --build "${build_net}" ${build_args})
  foreach(name consumer_net consumer_net_header_only)
    consumer_executable(program "${build_net}" ${name})
    consumer_step(run-${name} COMMAND "${program}" OUTPUT_VARIABLE output)
    if(NOT output MATCHES "nsfun-net consumer ok")
      message(FATAL_ERROR "consumer: the COMPONENTS net program ${name} printed '${output}'")
    endif()
  endforeach()
endif()

# 6. nsfun.pc: the same program built with `pkg-config --cflags --libs nsfun` alone.
set(ENV{PKG_CONFIG_PATH} "${libdir}/pkgconfig")
consumer_step(pkg-config COMMAND "${PKG_CONFIG}" --cflags --libs nsfun OUTPUT_VARIABLE pc_flags)
string(STRIP "${pc_flags}" pc_flags)
message(STATUS "consumer: pkg-config --cflags --libs nsfun: ${pc_flags}")
consumer_step(pkg-config-includedir
  COMMAND "${PKG_CONFIG}" --variable=includedir nsfun OUTPUT_VARIABLE pc_includedir)
string(STRIP "${pc_includedir}" pc_includedir)
if(NOT EXISTS "${pc_includedir}/nsfun/nsfun.hpp")
  message(FATAL_ERROR "consumer: nsfun.pc's includedir '${pc_includedir}' has no "
    "nsfun/nsfun.hpp, but nsfun was installed to ${prefix}: nsfun.pc does not follow the "
    "install prefix (`cmake --install --prefix`)")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
consumer_step(pkg-config-build
  COMMAND "${CXX_COMPILER}" ${sanitize_flags} "${CONSUMER_SOURCE_DIR}/main.cpp"
    "${CONSUMER_SOURCE_DIR}/second.cpp" -o "${WORK_DIR}/consumer-pkg-config" ${pc_flags})
# In case nsfun is a shared library.
set(ENV{LD_LIBRARY_PATH} "${libdir}:$ENV{LD_LIBRARY_PATH}")
consumer_step(pkg-config-run COMMAND "${WORK_DIR}/consumer-pkg-config" OUTPUT_VARIABLE output)
consumer_check_output(pkg-config-run "${output}")

# 7. nsfun-net.pc (when the network part was built): a program using nsfun::net, built with
# `pkg-config --cflags --libs nsfun-net` alone, so the link line must bring libmnl and
# libnftables too when libnsfun_net is static.
if(NET)
  consumer_step(pkg-config-net
    COMMAND "${PKG_CONFIG}" --cflags --libs nsfun-net OUTPUT_VARIABLE pc_net_flags)
  string(STRIP "${pc_net_flags}" pc_net_flags)
  message(STATUS "consumer: pkg-config --cflags --libs nsfun-net: ${pc_net_flags}")
  separate_arguments(pc_net_flags UNIX_COMMAND "${pc_net_flags}")
  consumer_step(pkg-config-net-build
    COMMAND "${CXX_COMPILER}" ${sanitize_flags} "${CONSUMER_SOURCE_DIR}/net_main.cpp"
      -o "${WORK_DIR}/consumer-pkg-config-net" ${pc_net_flags})
  consumer_step(pkg-config-net-run
    COMMAND "${WORK_DIR}/consumer-pkg-config-net" OUTPUT_VARIABLE output)
  if(NOT output MATCHES "nsfun-net consumer ok")
    message(FATAL_ERROR "consumer: the nsfun-net.pc program printed '${output}'")
  endif()
endif()

# 8. Header-only from a plain include path: no CMake, no pkg-config, no nsfun library; the
# compiler is given the installed include directory, NSFUN_HEADER_ONLY, and the libraries nsfun
# uses (fmt for the formatters; libcap-ng and libseccomp for spawn's container settings; libmnl
# and libnftables for net).
consumer_step(plain-build
  COMMAND "${CXX_COMPILER}" -std=c++20 -DNSFUN_HEADER_ONLY -DNSFUN_CONSUMER_HEADER_ONLY
    "-I${prefix}/include" "${CONSUMER_SOURCE_DIR}/main.cpp" "${CONSUMER_SOURCE_DIR}/second.cpp"
    -o "${WORK_DIR}/consumer-plain" -lcap-ng -lseccomp -lfmt -pthread)
consumer_step(plain-run COMMAND "${WORK_DIR}/consumer-plain" OUTPUT_VARIABLE output)
consumer_check_output(plain-run "${output}")
if(NET)
  consumer_step(plain-net-build
    COMMAND "${CXX_COMPILER}" -std=c++20 -DNSFUN_HEADER_ONLY "-I${prefix}/include"
      "${CONSUMER_SOURCE_DIR}/net_main.cpp" -o "${WORK_DIR}/consumer-plain-net"
      -lmnl -lnftables -lcap-ng -lseccomp -lfmt -pthread)
  consumer_step(plain-net-run COMMAND "${WORK_DIR}/consumer-plain-net" OUTPUT_VARIABLE output)
  if(NOT output MATCHES "nsfun-net consumer ok")
    message(FATAL_ERROR "consumer: the plain header-only net program printed '${output}'")
  endif()
endif()
