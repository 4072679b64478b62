// SPDX-License-Identifier: MIT
// Fuzz target: the readers of /proc/PID text: stat (parse_stat: ppid and a name that may hold
// ')'), status (parse_nspid), cmdline (join_cmdline), the ns links' "net:[4026531833]"
// (parse_ns_link, and the Snapshot's parse_ino). Then the whole per-process read, scan_proc_at
// and the Snapshot's read_facts, on a scratch directory standing in for /proc whose pid 1 has
// the input as its stat, status and cmdline and (up to its first NUL) as every ns link's target.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <nsfun/detail/proc_util.hpp>
#include <nsfun/proc_scan.hpp>
#include <nsfun/snapshot.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using nsfun::fuzz::check;
  static const nsfun::fuzz::ScratchDir proc{"1", "1/ns"};
  const std::string_view text = nsfun::fuzz::text_of(data, size);

  pid_t ppid = 0;
  std::string comm;
  nsfun::detail::parse_stat(text, ppid, comm);
  check(comm.size() <= text.size(), "a name longer than the stat text");
  std::vector<pid_t> nspid;
  nsfun::detail::parse_nspid(text, nspid);
  check(nspid.size() <= text.size(), "more NSpid values than bytes");
  std::string cmdline(text);
  nsfun::detail::join_cmdline(cmdline);
  check(cmdline.size() <= text.size() && cmdline.find('\0') == std::string::npos,
        "a joined command line with a NUL");
  (void)nsfun::detail::scan::parse_ns_link(text.data(), text.size());
  (void)nsfun::detail::snap::parse_ino(text);

  // The fake /proc/1.
  proc.write("1/stat", text);
  proc.write("1/status", text);
  proc.write("1/cmdline", text);
  std::string target(text.substr(0, std::min<std::size_t>(text.find('\0'), 200)));
  if (target.empty()) {
    target = "x";
  }
  for (nsfun::NsLink l : nsfun::all_ns_links) {
    const std::string link = "1/ns/" + std::string(nsfun::name(l));
    (void)::unlinkat(proc.fd(), link.c_str(), 0);
    check(::symlinkat(target.c_str(), proc.fd(), link.c_str()) == 0, "symlinkat");
  }
  nsfun::ProcScanOptions o;
  o.ppid = o.uid = o.cmdline = o.nspid = true;
  if (auto e = nsfun::detail::scan_proc_at(proc.fd(), 1, o)) {
    check(e.value().pid == 1 && e.value().comm.size() <= text.size(), "scan_proc_at: wrong entry");
  } else {
    nsfun::fuzz::check_error(e.error());
  }
  auto facts = nsfun::detail::snap::read_facts(proc.fd(), 1, true);
  check(facts.pid == 1 && facts.command.size() <= text.size(), "read_facts: wrong facts");
  return 0;
}
