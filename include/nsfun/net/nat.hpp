// SPDX-License-Identifier: MIT
// nsfun::net – source NAT (masquerade) through nftables, in a table of its own.
#pragma once

#include <string>
#include <string_view>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/ns_fd.hpp>

namespace nsfun::net {

/// A masquerade rule owned by nsfun: packets from a source subnet that leave namespace `router`
/// (optionally only through one interface) get the address of the outgoing interface as source,
/// like `iptables -t nat -A POSTROUTING -s SUBNET [-o IF] -j MASQUERADE`.
///
/// The rule lives in an nftables table of its own (`table ip nsfun_nat_<pid>_<n>`, or ip6 for
/// an IPv6 subnet) with a postrouting nat chain, so removing it deletes exactly that table and
/// never touches rules nsfun did not make. The destructor removes it unless keep() was called.
/// Move-only: a moved-from Masquerade is empty; assigning over one first removes its table.
/// Neither the destructor nor the move-assignment throws or reports: call remove() to see
/// errors. Every nftables command runs through libnftables on a short-lived thread inside
/// `router`. Forwarding must be on for routed traffic:
/// sysctl::write(router, "net.ipv4.ip_forward", "1").
class Masquerade {
 public:
  Masquerade() noexcept = default;

  /// Adds the table, chain and rule in one nftables transaction (all or nothing).
  /// `out_interface`, when not empty, limits the rule to packets leaving through it (oifname).
  /// Needs: CAP_NET_ADMIN in the namespace; the nf_tables and nft masquerade kernel support.
  /// Errors: std::errc::bad_file_descriptor (empty `router`), those of check_ifname(),
  /// std::errc::invalid_argument (nftables refused: as nft_run(), with the context
  /// "masquerade SUBNET [oifname IF]"), std::errc::not_enough_memory.
  [[nodiscard]] static result<Masquerade> create(const NetNs& router,
                                                 const IpPrefix& source,
                                                 std::string_view out_interface = {}) noexcept;

  Masquerade(Masquerade&& other) noexcept;
  Masquerade& operator=(Masquerade&& other) noexcept;
  Masquerade(const Masquerade&) = delete;
  Masquerade& operator=(const Masquerade&) = delete;

  /// Deletes the table if still owned; errors are ignored.
  ~Masquerade();

  /// Deletes the table now (`delete table ip NAME`), also after keep(). The handle is empty
  /// afterwards either way; nothing to do (success) on an empty handle. Errors: as nft_run().
  [[nodiscard]] result<void> remove() noexcept;

  /// Leaves the table in place when the handle dies (the destructor and move-assignment no
  /// longer delete it). The handle stays usable: table(), family() and remove() still work.
  void keep() noexcept;

  /// "ip" or "ip6".
  [[nodiscard]] const char* family() const noexcept { return family_; }

  /// The table's name, e.g. "nsfun_nat_1234_0".
  [[nodiscard]] const std::string& table() const noexcept { return table_; }

  /// True while the handle owns the table: until keep(), remove() or a move away.
  [[nodiscard]] explicit operator bool() const noexcept { return owned_; }

 private:
  NetNs ns_;
  std::string table_;
  const char* family_ = "ip";
  bool owned_ = false;

  // remove() while owned: for the destructor and the move-assignment.
  void destroy() noexcept;
};

/// Runs nftables commands (the nft(8) language) in namespace `ns` through libnftables, on a
/// short-lived thread inside it, and returns what they print (e.g. for "list ruleset").
/// Errors: std::errc::invalid_argument when nftables refuses, step "nft", the command it
/// refused as the object and nftables' own first line of error as the note:
/// `nft add rule ip t c drop: Invalid argument (Could not process rule: No such file or
/// directory)`; std::errc::bad_file_descriptor (empty `ns`).
[[nodiscard]] result<std::string> nft_run(const NetNs& ns, std::string_view commands) noexcept;

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/nat.ipp>
#endif
