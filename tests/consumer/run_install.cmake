# SPDX-License-Identifier: MIT
# ctest consumer.install: install nsfun's build tree into a fresh prefix, check the package files,
# then build and run tests/consumer/install against that prefix only, and build the same program
# once more with the flags from nsfun.pc.
#
#   cmake -DNSFUN_BINARY_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=...
#         -DCXX_COMPILER=... -DPKG_CONFIG=... [-DMAKE_PROGRAM=...] [-DBUILD_TYPE=...]
#         [-DSANITIZE=address,undefined] -P run_install.cmake
cmake_minimum_required(VERSION 3.21)
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")
consumer_require(NSFUN_BINARY_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER PKG_CONFIG)

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
if(missing)
  list(JOIN missing "\n  " missing)
  message(FATAL_ERROR "consumer: missing from the install prefix:\n  ${missing}\n"
    "installed:\n  ${manifest}")
endif()

# 3. find_package(nsfun) with the prefix as the only way in.
set(sanitize_flags)
if(SANITIZE)
  # A sanitized static libnsfun needs the sanitizer runtime in whatever links it.
  set(sanitize_flags "-fsanitize=${SANITIZE}" -fno-omit-frame-pointer)
endif()
list(JOIN sanitize_flags " " sanitize_flags_string)

consumer_configure_args(configure_args)
consumer_step(configure COMMAND "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${build}"
  ${configure_args}
  "-DCMAKE_PREFIX_PATH=${prefix}"
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  "-DCMAKE_CXX_FLAGS=${sanitize_flags_string}"
  "-DCMAKE_EXE_LINKER_FLAGS=${sanitize_flags_string}")

file(STRINGS "${build}/CMakeCache.txt" found_dir REGEX "^nsfun_DIR:")
string(REGEX REPLACE "^[^=]*=" "" found_dir "${found_dir}")
file(REAL_PATH "${found_dir}" found_dir)
file(REAL_PATH "${cmake_dir}" expected_dir)
if(NOT found_dir STREQUAL expected_dir)
  message(FATAL_ERROR "consumer: find_package(nsfun) used ${found_dir}, not ${expected_dir}")
endif()

consumer_build_args(build_args)
consumer_step(build COMMAND "${CMAKE_COMMAND}" --build "${build}" ${build_args})
consumer_executable(program "${build}" consumer)
consumer_step(run COMMAND "${program}" OUTPUT_VARIABLE output)
consumer_check_output(run "${output}")

# 4. nsfun.pc: the same program built with `pkg-config --cflags --libs nsfun` alone.
if(NOT PKG_CONFIG)
  message(FATAL_ERROR "consumer: pkg-config not found (${PKG_CONFIG}); it is needed to check "
    "nsfun.pc (cmake/setup-deps.sh installs it)")
endif()
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
    -o "${WORK_DIR}/consumer-pkg-config" ${pc_flags})
# In case nsfun is a shared library.
set(ENV{LD_LIBRARY_PATH} "${libdir}:$ENV{LD_LIBRARY_PATH}")
consumer_step(pkg-config-run COMMAND "${WORK_DIR}/consumer-pkg-config" OUTPUT_VARIABLE output)
consumer_check_output(pkg-config-run "${output}")

# 5. nsfun-net.pc (when the network part was built): a program using nsfun::net, built with
# `pkg-config --cflags --libs nsfun-net` alone, so the link line must bring libmnl and
# libnftables too when libnsfun_net is static.
if(EXISTS "${libdir}/pkgconfig/nsfun-net.pc")
  consumer_step(pkg-config-net
    COMMAND "${PKG_CONFIG}" --cflags --libs nsfun-net OUTPUT_VARIABLE pc_net_flags)
  string(STRIP "${pc_net_flags}" pc_net_flags)
  message(STATUS "consumer: pkg-config --cflags --libs nsfun-net: ${pc_net_flags}")
  separate_arguments(pc_net_flags UNIX_COMMAND "${pc_net_flags}")
  file(WRITE "${WORK_DIR}/net_main.cpp" [=[
#include <cstdio>
#include <nsfun/net/net.hpp>
int main() {
  auto p = nsfun::net::IpPrefix::parse("10.0.0.1/24");
  std::printf("%s\n", p ? "nsfun-net consumer ok" : "parse failed");
  return p ? 0 : 1;
}
]=])
  consumer_step(pkg-config-net-build
    COMMAND "${CXX_COMPILER}" ${sanitize_flags} "${WORK_DIR}/net_main.cpp"
      -o "${WORK_DIR}/consumer-pkg-config-net" ${pc_net_flags})
  consumer_step(pkg-config-net-run
    COMMAND "${WORK_DIR}/consumer-pkg-config-net" OUTPUT_VARIABLE output)
  if(NOT output MATCHES "nsfun-net consumer ok")
    message(FATAL_ERROR "consumer: the nsfun-net.pc program printed '${output}'")
  endif()
endif()
