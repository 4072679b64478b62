// SPDX-License-Identifier: MIT
// nsfun – private: the scanner's entry points on an already open /proc, so that a Snapshot, a
// diff or a listing opens /proc and reads the nsfs device once.
#pragma once

#include <cstdint>
#include <vector>

#include <sys/types.h>

#include <nsfun/proc_scan.hpp>
#include <nsfun/snapshot.hpp>

namespace nsfun::detail {

[[nodiscard]] result<ProcScan> scan_procs_at(int proc_fd,
                                             std::uint64_t nsfs_dev,
                                             const ProcScanOptions& options) noexcept;

[[nodiscard]] result<ProcEntry> scan_proc_at(int proc_fd,
                                             pid_t pid,
                                             const ProcScanOptions& options) noexcept;

[[nodiscard]] result<std::vector<NsfsMount>> nsfs_mounts_at(int proc_fd,
                                                            std::uint64_t nsfs_dev) noexcept;

}  // namespace nsfun::detail
