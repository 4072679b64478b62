// SPDX-License-Identifier: MIT
// nsfun (private) – the text the kernel takes in /proc/PID/timens_offsets, shared by
// set_time_offsets and spawn (whose child writes what the parent formatted).
#pragma once

#include <string>

#include <nsfun/time_ns.hpp>

namespace nsfun::detail {

/// "monotonic <sec> <nsec>\nboottime <sec> <nsec>\n", with 0 <= nsec < 1e9 as the kernel wants:
/// a negative offset has a negative second count and a positive nanosecond part (-1.5 s is
/// "-2 500000000").
[[nodiscard]] std::string time_offsets_text(const TimeOffsets& offsets);

}  // namespace nsfun::detail
