// SPDX-License-Identifier: MIT
// Fuzz target: the text parsers of nsfun::net: IpAddress::parse, IpPrefix::parse ("10.0.0.1/24",
// "fd00::1/64"), MacAddress::parse and check_ifname. An accepted address is what inet_pton
// makes of the whole text (no NUL, nothing after it) and prints back to a text that parses to
// the same; an accepted prefix has a length within its family's; network() and contains() agree.
#include <arpa/inet.h>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nsfun/net/address.hpp>
#include <nsfun/net/link.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace net = nsfun::net;
  using nsfun::fuzz::check;
  const std::string_view text = nsfun::fuzz::text_of(data, size);

  if (auto a = net::IpAddress::parse(text)) {
    check(text.find('\0') == std::string_view::npos, "an address with a NUL in its text");
    const std::string own(text);
    unsigned char bytes[16] = {};
    check(::inet_pton(a.value().family, own.c_str(), bytes) == 1, "inet_pton refuses it");
    auto again = net::IpAddress::parse(a.value().to_string());
    check(again && again.value() == a.value(), "an address does not print back the same");
  } else {
    nsfun::fuzz::check_error(a.error());
  }

  if (auto p = net::IpPrefix::parse(text)) {
    const net::IpPrefix& prefix = p.value();
    check(prefix.length <= prefix.address.max_prefix(), "a prefix longer than its family's");
    check(text.find('\0') == std::string_view::npos, "a prefix with a NUL in its text");
    auto again = net::IpPrefix::parse(prefix.to_string());
    check(again && again.value() == prefix, "a prefix does not print back the same");
    check(prefix.contains(prefix.address) && prefix.network().contains(prefix.address) &&
              prefix.network().network() == prefix.network(),
          "network() and contains() disagree");
  } else {
    nsfun::fuzz::check_error(p.error());
  }

  if (auto mac = net::MacAddress::parse(text)) {
    auto again = net::MacAddress::parse(mac.value().to_string());
    check(again && again.value() == mac.value(), "a MAC address does not print back the same");
  } else {
    nsfun::fuzz::check_error(mac.error());
  }

  if (auto ok = net::check_ifname(text); ok) {
    check(!text.empty() && text.size() <= net::max_ifname_length &&
              text.find_first_of("/: \t\n\r\f\v") == std::string_view::npos &&
              text.find('\0') == std::string_view::npos,
          "check_ifname accepted a name the kernel refuses");
  } else {
    nsfun::fuzz::check_error(ok.error());
  }
  return 0;
}
