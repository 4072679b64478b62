// SPDX-License-Identifier: MIT
// Recipe 10: cgroup v2 limits —
//
//   mkdir /sys/fs/cgroup/box; echo +memory +pids > /sys/fs/cgroup/box/cgroup.subtree_control
//   mkdir /sys/fs/cgroup/box/job; echo 64M > .../job/memory.max; echo 16 > .../job/pids.max
//   echo $PID > /sys/fs/cgroup/box/job/cgroup.procs
//
// The cgroups are nsfun-example-PID and job inside it, in the cgroup2 hierarchy wherever it is
// mounted (/sys/fs/cgroup/unified on a hybrid host), and are removed at the end. A hybrid host's
// v2 hierarchy has only the controllers no v1 hierarchy took: a limit whose controller is
// missing is reported as such, and the placement of the child, which needs no controller, is
// shown all the same.
#include <cstdio>
#include <string>
#include <string_view>

#include <unistd.h>

#include <nsfun/cgroup.hpp>
#include <nsfun/spawn.hpp>

#include "example_util.hpp"

namespace {

nsfun::result<int> demo() {
  NSFUN_TRY(std::string mount, nsfun::cgroup2_mount());
  NSFUN_TRY(auto root, nsfun::CgroupDir::root());
  NSFUN_TRY(auto available, root.controllers());
  std::string names;
  for (const auto& c : available) {
    names += " " + c;
  }
  std::printf("cgroup2 hierarchy at %s, controllers:%s\n", mount.c_str(), names.c_str());

  const std::string name = "nsfun-example-" + std::to_string(::getpid());
  NSFUN_TRY(auto box, nsfun::CgroupDir::create(root, name));
  NSFUN_TRY(auto job, nsfun::CgroupDir::create(box, "job"));
  for (auto [key, value] :
       {std::pair<std::string_view, std::string_view>{"memory.max", "64M"}, {"pids.max", "16"}}) {
    const std::string_view controller = key.substr(0, key.find('.'));
    auto set = box.enable({controller});  // job may use it
    if (set) {
      set = job.set(key, value);
    }
    if (set) {
      NSFUN_TRY(std::string now, job.get(key));
      std::printf("%s = %s\n", std::string(key).c_str(), now.c_str());
    } else if (set.error() == nsfun::errc::controller_not_available) {
      std::printf("%s: not available here: %s\n", std::string(key).c_str(),
                  set.error().message().c_str());
    } else {
      return set.error();
    }
  }

  // Born in the cgroup (clone3 CLONE_INTO_CGROUP): the child says where it is.
  NSFUN_TRY(auto child,
            nsfun::spawn(
                nsfun::Command("cat").arg("/proc/self/cgroup").cgroup(job.fd()).capture_stdout()));
  NSFUN_TRY(auto out, child.wait_with_output());
  for (std::size_t pos = 0; pos < out.out.size();) {  // its v2 line: "0::/PATH"
    std::size_t end = out.out.find('\n', pos);
    if (out.out.compare(pos, 3, "0::") == 0) {
      std::printf("the child's cgroup: %s\n", out.out.substr(pos + 3, end - pos - 3).c_str());
    }
    pos = end == std::string::npos ? end : end + 1;
  }
  NSFUN_TRYV(job.remove());
  NSFUN_TRYV(box.remove());
  std::printf("removed %s/%s\n", mount.c_str(), name.c_str());
  return out.status.success() ? 0 : 1;
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only std::bad_alloc may escape (then terminate)
int main() {
  auto r = demo();
  return r ? r.value() : example::fail("cgroup_limits", r.error());
}
