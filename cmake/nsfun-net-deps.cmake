# SPDX-License-Identifier: MIT
# What the net component of the installed package needs: nsfun_net's link interface names
# PkgConfig::NSFUN_NET_DEPS (libmnl, libnftables; a static libnsfun_net needs them on every link
# line). include()d by nsfun-config.cmake only for find_package(nsfun COMPONENTS net); sets
# _nsfun_comp_found, and _nsfun_comp_reason when they are missing. Not found is not an error
# here: nsfun-config.cmake decides (OPTIONAL_COMPONENTS net leaves nsfun found without it).
if(NOT TARGET PkgConfig::NSFUN_NET_DEPS)
  set(_nsfun_quiet)
  if(nsfun_FIND_QUIETLY)
    set(_nsfun_quiet QUIET)
  endif()
  find_package(PkgConfig ${_nsfun_quiet})
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(NSFUN_NET_DEPS ${_nsfun_quiet} IMPORTED_TARGET GLOBAL libmnl libnftables)
  endif()
  unset(_nsfun_quiet)
endif()
if(TARGET PkgConfig::NSFUN_NET_DEPS)
  set(_nsfun_comp_found TRUE)
elseif(NOT PKG_CONFIG_FOUND)
  set(_nsfun_comp_reason "the net component needs pkg-config to find libmnl and libnftables")
else()
  string(CONCAT _nsfun_comp_reason "the net component needs libmnl and libnftables, which "
    "pkg-config did not find (Debian: libmnl-dev libnftables-dev)")
endif()
