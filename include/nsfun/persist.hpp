// SPDX-License-Identifier: MIT
// nsfun – keeping namespaces alive with bind mounts; named network namespaces (ip netns).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nsfun/config.hpp>
#include <nsfun/ns_fd.hpp>

namespace nsfun {

/// Keeps `ns` alive after its last process and fd are gone by bind-mounting it onto `path`, which
/// is created as an empty file and must not exist yet. Undo with unpin().
/// Wraps: mount(2) with MS_BIND. Needs: CAP_SYS_ADMIN.
/// Errors, each naming `path`: std::errc::file_exists (`create pin file /run/netns/web: File
/// exists`), std::errc::bad_file_descriptor (empty `ns`); on any error nothing is left at
/// `path`.
[[nodiscard]] result<void> pin(const NsFd& ns, const char* path) noexcept;

/// Removes what pin() made: detaches the bind mount (MNT_DETACH) and removes the file. A file
/// that is no longer a mount point is still removed.
/// Errors, naming `path`: std::errc::no_such_file_or_directory (`umount /run/x: No such file or
/// directory`).
[[nodiscard]] result<void> unpin(const char* path) noexcept;

/// An owned pin: a namespace bind-mounted onto a file, unpinned (unmounted and the file removed)
/// when the handle dies unless keep() was called. Made by Pin::create (which pins) or taken over
/// with Pin::adopt (a pin that exists, such as one a crashed program left). Move-only; usable for
/// any pin path, /run/netns/NAME included (then it is what `ip netns add` makes).
///
///     NSFUN_TRY(auto p, nsfun::Pin::create(ns, "/run/netns/web"));
///     …                  // on an error return, the pin is removed again
///     p.keep();          // it outlives the program
class Pin {
 public:
  /// Pins `ns` onto `path` as pin() does. Errors: as pin(); std::errc::not_enough_memory.
  [[nodiscard]] static result<Pin> create(const NsFd& ns, std::string_view path) noexcept;

  /// Takes over the pin at `path` (not checked: unpin tolerates a file that is no longer
  /// mounted). Errors: std::errc::not_enough_memory.
  [[nodiscard]] static result<Pin> adopt(std::string_view path) noexcept;

  Pin() noexcept = default;

  Pin(Pin&& other) noexcept : path_(std::move(other.path_)), kept_(other.kept_) {
    other.path_.clear();
  }

  Pin& operator=(Pin&& other) noexcept {
    if (this != &other) {
      drop();
      path_ = std::move(other.path_);
      kept_ = other.kept_;
      other.path_.clear();
    }
    return *this;
  }

  Pin(const Pin&) = delete;
  Pin& operator=(const Pin&) = delete;

  /// Unpins, unless kept or empty; errors are ignored (use unpin() to see them).
  ~Pin() { drop(); }

  /// The pin's path; empty for an empty handle.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// Leaves the pin in place when the handle dies; the handle stays usable.
  void keep() noexcept { kept_ = true; }

  /// Whether keep() was called.
  [[nodiscard]] bool kept() const noexcept { return kept_; }

  /// Unpins now (also a kept pin) and leaves the handle empty. Errors: as unpin(path).
  [[nodiscard]] result<void> unpin() noexcept;

  /// True unless empty.
  [[nodiscard]] explicit operator bool() const noexcept { return !path_.empty(); }

 private:
  void drop() noexcept;

  std::string path_;
  bool kept_ = false;
};

/// True when `name` can name a persistent namespace: 1 to 255 bytes, no '/', no NUL, not "."
/// or "..".
[[nodiscard]] bool is_valid_ns_name(std::string_view name) noexcept;

/// Named network namespaces in /run/netns, interchangeable with `ip netns`: a namespace added
/// here is usable with `ip netns exec NAME`, and one added by `ip netns add` opens here.
namespace netns {

/// The directory iproute2 keeps named network namespaces in.
inline constexpr const char* run_dir = "/run/netns";

/// Where per-namespace overrides of /etc files live (/etc/netns/NAME/resolv.conf, …), bound over
/// /etc by `ip netns exec` and by Command::netns.
inline constexpr const char* etc_dir = "/etc/netns";

/// Creates a new network namespace and pins it as /run/netns/NAME, exactly as `ip netns add`
/// does (the directory is made a shared mount so the pin propagates to other mount namespaces).
/// Needs: CAP_SYS_ADMIN. Errors: std::errc::file_exists (naming the pin file),
/// nsfun::errc::invalid_name (naming the name and saying why: `netns name "a/b": contains '/'`).
/// On any error no pin file is left behind (the shared /run/netns mount stays, as with
/// iproute2).
[[nodiscard]] result<NetNs> add(std::string_view name) noexcept;

/// Pins an existing network namespace as /run/netns/NAME (`ip netns attach`).
[[nodiscard]] result<void> attach(std::string_view name, const NetNs& ns) noexcept;

/// Opens /run/netns/NAME. Errors: std::errc::no_such_file_or_directory,
/// nsfun::errc::invalid_name, nsfun::errc::not_a_namespace, nsfun::errc::wrong_namespace_type.
[[nodiscard]] result<NetNs> open(std::string_view name) noexcept;

/// Unpins /run/netns/NAME (`ip netns delete`); the namespace lives on while anything holds it.
[[nodiscard]] result<void> remove(std::string_view name) noexcept;

/// The names in /run/netns, sorted; empty when the directory does not exist.
[[nodiscard]] result<std::vector<std::string>> list() noexcept;

}  // namespace netns

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/persist.ipp>
#endif
