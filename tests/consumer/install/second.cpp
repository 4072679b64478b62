// SPDX-License-Identifier: MIT
// nsfun consumer test – a second translation unit that includes all of nsfun: header-only, both
// units then hold every implementation, and a definition that is not inline fails the link
// ("multiple definition of ...").

#include <nsfun/nsfun.hpp>

#include "consumer.hpp"

int consumer_second() {
  auto t = nsfun::parse_ns_type("net");
  return t && t.value() == nsfun::NsType::net ? 0 : 1;
}
