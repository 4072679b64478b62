// SPDX-License-Identifier: MIT
// nsfun – private: the scanner's entry points on an already open /proc, so that a Snapshot, a
// diff or a listing opens /proc and reads the nsfs device once (defined in
// <nsfun/impl/proc_scan.ipp>).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <nsfun/detail/task_iter.hpp>
#include <nsfun/proc_scan.hpp>

namespace nsfun::detail {

// The owner of process `pid_dir` ("PID/" under proc_fd) as lsns shows it: its effective uid.
// `file_owner` is the owner of a file of it already fstat'ed. The kernel makes the files of a
// non-dumpable process (one that changed uid without exec, e.g. a daemon worker after setuid)
// root-owned, but never the /proc/PID directory itself (fs/proc/base.c, task_dump_owner), so a
// root-owned file is checked against the directory; any other owner is the euid already.
[[nodiscard]] inline uid_t process_owner(int proc_fd,
                                         const char* pid_dir,
                                         uid_t file_owner) noexcept {
  if (file_owner != 0) {
    return file_owner;
  }

  struct stat st {};

  return ::fstatat(proc_fd, pid_dir, &st, 0) == 0 ? st.st_uid : file_owner;
}

// Takes what a caller keeps of each block of a scan. The scan hands out blocks of consecutive
// pids to its threads; as each thread finishes a block it calls take() with the block's entries,
// so a caller can boil them down (group, count, read more) in parallel and in little memory.
class BlockSink {
 public:
  // What take() kept of one block: the entries it keeps, if any, and whatever a derived part
  // adds.
  struct Part {
    Part() = default;
    Part(const Part&) = delete;
    Part& operator=(const Part&) = delete;
    virtual ~Part() = default;

    std::vector<ProcEntry> procs;
  };

  BlockSink() = default;
  BlockSink(const BlockSink&) = delete;
  BlockSink& operator=(const BlockSink&) = delete;
  virtual ~BlockSink() = default;

  // Called on any of the scanning threads, concurrently for different blocks. `procs` are the
  // block's entries in ascending pid order; take() may move from them (the vector is reused
  // for the thread's next block). Throws std::bad_alloc.
  [[nodiscard]] virtual std::unique_ptr<Part> take(std::vector<ProcEntry>& procs) = 0;
};

// What scan_blocks_at returns: the parts, in /proc order, and the counts.
struct ScannedBlocks {
  std::vector<std::unique_ptr<BlockSink::Part>> parts;
  ProcScanStats stats;
};

// The entries the parts kept, in order, moved into one vector.
[[nodiscard]] std::vector<ProcEntry> join_procs(
    const std::vector<std::unique_ptr<BlockSink::Part>>& parts);

// Scans /proc (or options.pids) into `sink`. An exception thrown on any scanning thread
// (std::bad_alloc) is rethrown here, once every thread has stopped. With `iter` (a task iterator
// the caller keeps loaded), the links come from one pass of it whatever the number of processes
// (unless options.task_iter is false), instead of from a fresh load past task_iter_threshold.
[[nodiscard]] ScannedBlocks scan_blocks_at(int proc_fd,
                                           const ProcScanOptions& options,
                                           BlockSink& sink,
                                           const TaskIterLink* iter = nullptr);

[[nodiscard]] result<ProcScan> scan_procs_at(int proc_fd,
                                             std::uint64_t nsfs_dev,
                                             const ProcScanOptions& options,
                                             const TaskIterLink* iter = nullptr) noexcept;

[[nodiscard]] result<ProcEntry> scan_proc_at(int proc_fd,
                                             pid_t pid,
                                             const ProcScanOptions& options) noexcept;

}  // namespace nsfun::detail

// Header-only: the scanner's implementation, here rather than at the end of <nsfun/proc_scan.hpp>
// (see there).
#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/proc_scan.ipp>
#endif
