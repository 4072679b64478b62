# SPDX-License-Identifier: MIT
# Dependencies of nsfun::net for consumers of the installed package: nsfun_net is a static
# library whose link interface names PkgConfig::NSFUN_NET_DEPS (libmnl, libnftables). To be
# include()d by nsfun-config.cmake before nsfun-targets.cmake.
include(CMakeFindDependencyMacro)
find_dependency(PkgConfig)
if(NOT TARGET PkgConfig::NSFUN_NET_DEPS)
  pkg_check_modules(NSFUN_NET_DEPS REQUIRED IMPORTED_TARGET GLOBAL libmnl libnftables)
endif()
