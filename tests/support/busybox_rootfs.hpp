// SPDX-License-Identifier: MIT
// nsfun tests – a temporary rootfs holding a static busybox (Debian's busybox-static), removed
// when the test ends.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nsfun::test {

/// A directory /tmp/nsfun-test-rootfs-XXXXXX that a container can run from with nothing of the
/// host: bin/busybox (static) with links for the usual applets (bin/sh, bin/ls, bin/cat …),
/// and empty dev/, proc/, sys/, tmp/ (1777), etc/, root/ and mnt/. Readable by everyone (mode
/// 755), so that an unprivileged test process can use it too.
///
/// The destructor removes it, unless something is still mounted inside it (as seen from the
/// caller's mount namespace): then it is left alone, with a warning, rather than deleting files
/// through a mount. Test with `if (!root) skip(...)`: empty when /bin/busybox is missing or the
/// copy failed.
class BusyboxRootfs {
 public:
  /// The applets given a link in bin/.
  static constexpr const char* applets[] = {
      "sh",    "ls", "cat",   "echo",     "id",   "mount", "umount",   "stat",   "touch",
      "mkdir", "rm", "ln",    "readlink", "test", "true",  "false",    "sleep",  "grep",
      "head",  "wc", "mknod", "chmod",    "env",  "ps",    "hostname", "printf", "dd"};

  /// True when a static busybox is installed (Debian: busybox-static).
  static bool available() { return ::access("/bin/busybox", X_OK) == 0; }

  BusyboxRootfs() {
    if (!available()) {
      return;
    }
    char tmpl[] = "/tmp/nsfun-test-rootfs-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      return;
    }
    dir_ = tmpl;
    std::error_code ec;
    std::filesystem::permissions(dir_, std::filesystem::perms(0755), ec);
    for (const char* sub : {"bin", "dev", "proc", "sys", "tmp", "etc", "root", "mnt"}) {
      std::filesystem::create_directory(dir_ / sub, ec);
      ::chmod((dir_ / sub).c_str(), 0755);
    }
    ::chmod((dir_ / "tmp").c_str(), 01777);
    if (!std::filesystem::copy_file("/bin/busybox", dir_ / "bin" / "busybox", ec) || ec) {
      return;
    }
    ::chmod((dir_ / "bin" / "busybox").c_str(), 0755);
    for (const char* a : applets) {
      std::filesystem::create_symlink("busybox", dir_ / "bin" / a, ec);
    }
    std::ofstream(dir_ / "etc" / "passwd") << "root:x:0:0:root:/root:/bin/sh\n"
                                              "nobody:x:65534:65534:nobody:/:/bin/sh\n";
    std::ofstream(dir_ / "etc" / "group") << "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n";
    ok_ = true;
  }

  BusyboxRootfs(const BusyboxRootfs&) = delete;
  BusyboxRootfs& operator=(const BusyboxRootfs&) = delete;

  ~BusyboxRootfs() {
    if (dir_.empty()) {
      return;
    }
    if (has_mounts_inside()) {
      std::fprintf(stderr, "BusyboxRootfs: %s still has mounts inside, left in place\n",
                   dir_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  explicit operator bool() const noexcept { return ok_; }

  /// The rootfs directory (absolute).
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }

  /// The same as a string, as Command::rootfs and ContainerFs take it.
  [[nodiscard]] std::string path() const { return dir_.string(); }

  /// The host path of `rel` inside the rootfs: path_of("etc/passwd").
  [[nodiscard]] std::string path_of(const std::string& rel) const { return (dir_ / rel).string(); }

  /// True when a mount point of the caller's mount namespace lies in the rootfs (or is it).
  [[nodiscard]] bool has_mounts_inside() const {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    const std::string prefix = dir_.string();
    while (std::getline(in, line)) {
      // Field 5 is the mount point (spaces in it are escaped as \040).
      std::size_t pos = 0;
      for (int field = 0; field < 4 && pos != std::string::npos; ++field) {
        pos = line.find(' ', pos);
        if (pos != std::string::npos) {
          ++pos;
        }
      }
      if (pos == std::string::npos) {
        continue;
      }
      std::string point = line.substr(pos, line.find(' ', pos) - pos);
      if (point == prefix || point.rfind(prefix + "/", 0) == 0) {
        return true;
      }
    }
    return false;
  }

 private:
  std::filesystem::path dir_;
  bool ok_ = false;
};

}  // namespace nsfun::test
