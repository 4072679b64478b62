// SPDX-License-Identifier: MIT
// Recipe 18: a cgroup namespace —
//
//   mkdir /sys/fs/cgroup/job; echo $$ > /sys/fs/cgroup/job/cgroup.procs
//   cat /proc/self/cgroup                     # 0::/job
//   unshare --cgroup cat /proc/self/cgroup    # 0::/
//
// Two children are born in the cgroup nsfun-example-PID (clone3 CLONE_INTO_CGROUP), the second
// in a new cgroup namespace too, which is rooted at that cgroup: the first reads its path, the
// second "/". The cgroup is removed at the end.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

#include <nsfun/cgroup.hpp>
#include <nsfun/spawn.hpp>

#include "example_util.hpp"

namespace {

// The cgroup v2 line ("0::/PATH") of a /proc/PID/cgroup text.
std::string v2_line(const std::string& text) {
  const std::size_t at = text.rfind("0::");
  return at == std::string::npos ? "" : text.substr(at, text.find('\n', at) - at);
}

// What `cat /proc/self/cgroup` says, born in `cgroup`, in new namespaces of `types`.
nsfun::result<std::string> cgroup_of_child(const nsfun::CgroupDir& cgroup, nsfun::NsTypeSet types) {
  NSFUN_TRY(auto child, nsfun::spawn(nsfun::Command("cat")
                                         .arg("/proc/self/cgroup")
                                         .namespaces(types)
                                         .cgroup(cgroup.fd())
                                         .capture_stdout()));
  NSFUN_TRY(auto out, child.wait_with_output());
  return v2_line(out.out);
}

nsfun::result<int> demo() {
  NSFUN_TRY(auto root, nsfun::CgroupDir::root());
  NSFUN_TRY(auto job,
            nsfun::CgroupDir::create(root, "nsfun-example-" + std::to_string(::getpid())));
  NSFUN_TRY(std::string where, job.path());
  NSFUN_TRY(std::string plain, cgroup_of_child(job, {}));
  NSFUN_TRY(std::string own_ns, cgroup_of_child(job, {nsfun::NsType::cgroup}));
  std::ifstream file("/proc/self/cgroup");
  const std::string ours{std::istreambuf_iterator<char>(file), {}};
  std::printf("the children are in %s\n", where.c_str());
  std::printf("without a cgroup namespace a child reads: %s\n", plain.c_str());
  std::printf("in its own cgroup namespace a child reads: %s\n", own_ns.c_str());
  std::printf("this program reads: %s\n", v2_line(ours).c_str());
  return own_ns == "0::/" && plain != own_ns ? 0 : 1;
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only std::bad_alloc may escape (then terminate)
int main() {
  auto r = demo();
  return r ? r.value() : example::fail("cgroup_namespace", r.error());
}
