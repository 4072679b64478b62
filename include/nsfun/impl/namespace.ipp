// SPDX-License-Identifier: MIT
// nsfun – Namespace, printing an identity: the implementation (see <nsfun/config.hpp>).
#pragma once

#include <string>

#include <nsfun/config.hpp>
#include <nsfun/namespace.hpp>
#include <nsfun/ns_type.hpp>

namespace nsfun {

NSFUN_INLINE std::string Namespace::to_string() const {
  std::string s(name(type_));
  s += ":[";
  s += std::to_string(ino_);
  s += ']';
  return s;
}

}  // namespace nsfun
