// SPDX-License-Identifier: MIT
// Fuzz target: detail::parse_time_offsets, the reader of /proc/PID/timens_offsets. Accepted
// offsets are within the kernel's range and come back the same from the text written to the
// kernel; the shown form and the range check run on them too.
#include <cstddef>
#include <cstdint>

#include <nsfun/detail/sys.hpp>
#include <nsfun/time_ns.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace tn = nsfun::detail::timens;
  using nsfun::fuzz::check;
  auto parsed = nsfun::detail::parse_time_offsets(nsfun::fuzz::text_of(data, size), "fuzz");
  if (!parsed) {
    nsfun::fuzz::check_error(parsed.error());
    check(parsed.error() == std::errc::invalid_argument, "parse_time_offsets: another code");
    return 0;
  }
  const nsfun::TimeOffsets& o = parsed.value();
  for (auto off : {o.monotonic, o.boottime}) {
    const tn::SecNsec s = tn::split_offset(off);
    check(s.nsec >= 0 && s.nsec < tn::ns_per_s && s.sec <= tn::ktime_sec_max &&
              s.sec >= -tn::ktime_sec_max,
          "an accepted offset out of the kernel's range");
  }
  nsfun::detail::sys::PathBuf kernel;
  tn::put_kernel_text(kernel, o);
  auto again = nsfun::detail::parse_time_offsets(std::string_view(kernel.c_str(), kernel.size()),
                                                 "kernel text");
  check(again && again.value() == o, "the kernel text does not parse back the same");
  nsfun::detail::sys::PathBuf shown;
  tn::put_shown_clock(shown, " monotonic ", o.monotonic);
  tn::put_shown_clock(shown, " boottime ", o.boottime);
  (void)tn::range_problem(o);
  return 0;
}
