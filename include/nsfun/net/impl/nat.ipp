// SPDX-License-Identifier: MIT
// nsfun::net – NAT: the implementation (see <nsfun/config.hpp>). Masquerade through
// libnftables, inside the router's namespace.
#pragma once

#include <atomic>
#include <cerrno>
#include <memory>
#include <new>
#include <nftables/libnftables.h>
#include <string>
#include <string_view>
#include <utility>

#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/nat.hpp>
#include <nsfun/ns_fd.hpp>

namespace nsfun::net {

namespace detail {

struct NftCtxFree {
  void operator()(nft_ctx* ctx) const noexcept { nft_ctx_free(ctx); }
};

// Numbers the tables of one process (nsfun_nat_<pid>_<n>).
inline std::atomic<unsigned> nat_table_counter{0};

// The line of `text` that starts at `from`, without its newline.
inline std::string_view nft_line_at(std::string_view text, std::size_t from) noexcept {
  if (from >= text.size()) {
    return {};
  }
  std::string_view rest = text.substr(from);
  return rest.substr(0, rest.find('\n'));
}

// The longest command an error's object shows (longer ones end in "..."), so that nft's own
// words still fit in the error's fixed buffer.
inline constexpr std::size_t nft_max_command_shown = 100;

// Names a failure after nftables' own words. nft prints
//   Error: Could not process rule: No such file or directory
//   add rule ip nsft_nowhere c drop
//               ^^^^^^^^^^^^
// The first line (without "Error: ") becomes the note, the command it quotes the object; when
// nft quotes none, the first line of what was run.
inline void name_nft_failure(error& e, std::string_view said, std::string_view commands) noexcept {
  std::string_view message = nft_line_at(said, 0);
  std::string_view command = nft_line_at(said, message.size() + 1);
  constexpr std::string_view prefix = "Error: ";
  if (message.substr(0, prefix.size()) == prefix) {
    message.remove_prefix(prefix.size());
  }
  if (command.empty() || command.find_first_not_of(" ^~") == std::string_view::npos) {
    command = nft_line_at(commands, 0);
  }
  if (command.size() > nft_max_command_shown) {
    e.on(command.substr(0, nft_max_command_shown - 3), "...");
  } else {
    e.on(command);
  }
  if (!message.empty()) {
    e.with_note(message);
  }
}

// Runs `commands` with a fresh libnftables context on the calling thread; output and errors
// are buffered (the library never prints).
inline result<std::string> nft_run_here(const std::string& commands) {
  std::unique_ptr<nft_ctx, NftCtxFree> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) {
    return errno_error(ENOMEM, "nft_ctx_new");
  }
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    return errno_error(ENOMEM, "nft_ctx_buffer_output");
  }
  if (nft_run_cmd_from_buffer(ctx.get(), commands.c_str()) != 0) {
    const char* said = nft_ctx_get_error_buffer(ctx.get());
    error e = errno_error(EINVAL, "nft");
    name_nft_failure(e, said != nullptr ? said : "", commands);
    return e;
  }
  const char* out = nft_ctx_get_output_buffer(ctx.get());
  return std::string(out != nullptr ? out : "");
}

}  // namespace detail

NSFUN_INLINE result<std::string> nft_run(const NetNs& ns, std::string_view commands) noexcept {
  try {
    if (!ns) {
      return errno_error(EBADF, "nft")
          .on(detail::nft_line_at(commands, 0))
          .because("empty NetNs handle");
    }
    std::string cmd(commands);
    return nsfun::detail::run_in_known(ns, [&] { return detail::nft_run_here(cmd); });
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "nft").on(detail::nft_line_at(commands, 0));
  }
}

NSFUN_INLINE result<Masquerade> Masquerade::create(const NetNs& router,
                                                   const IpPrefix& source,
                                                   std::string_view out_interface) noexcept {
  try {
    constexpr std::string_view step = "masquerade";
    if (!router) {
      return errno_error(EBADF, step).on(source.to_string()).because("empty NetNs handle");
    }
    if (source.address.family != AF_INET && source.address.family != AF_INET6) {
      return errno_error(EINVAL, step).because("no source address (an empty IpPrefix)");
    }
    if (!out_interface.empty()) {
      NSFUN_TRYV(check_ifname(out_interface));
      if (out_interface.find('"') != std::string_view::npos ||
          out_interface.find('\\') != std::string_view::npos) {
        return errno_error(EINVAL, "check interface name")
            .on('"', out_interface, '"')
            .because("contains a quote or a backslash");
      }
    }
    // The namespace handle first: once the table exists, nothing may fail without removing it.
    NSFUN_TRY(auto copy, router.ns().clone());
    NSFUN_TRY(auto ns, NetNs::from(std::move(copy)));
    Masquerade m;
    m.family_ = source.address.family == AF_INET ? "ip" : "ip6";
    std::string subnet = source.network().to_string();
    std::string table =
        "nsfun_nat_" + std::to_string(::getpid()) + "_" +
        std::to_string(detail::nat_table_counter.fetch_add(1, std::memory_order_relaxed));
    std::string t = std::string(m.family_) + " " + table;
    std::string cmd = "create table " + t + "\n";
    cmd += "add chain " + t +
           " postrouting { type nat hook postrouting priority 100; policy accept; }\n";
    cmd += "add rule " + t + " postrouting " + m.family_ + " saddr " + subnet;
    if (!out_interface.empty()) {
      cmd += " oifname \"" + std::string(out_interface) + "\"";
    }
    cmd += " masquerade\n";
    auto added = nft_run(ns, cmd);
    if (!added) {
      if (out_interface.empty()) {
        added.assume_error().with_context(step, " ", subnet);
      } else {
        added.assume_error().with_context(step, " ", subnet, " oifname ", out_interface);
      }
      return std::move(added).as_failure();
    }
    m.ns_ = std::move(ns);
    m.table_ = std::move(table);
    m.owned_ = true;
    return m;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "masquerade").on(source.address.family == AF_INET ? "ip" : "ip6");
  }
}

NSFUN_INLINE Masquerade::Masquerade(Masquerade&& other) noexcept
    : ns_(std::move(other.ns_)),
      table_(std::exchange(other.table_, std::string())),
      family_(other.family_),
      owned_(std::exchange(other.owned_, false)) {
  other.ns_ = NetNs();
}

NSFUN_INLINE Masquerade& Masquerade::operator=(Masquerade&& other) noexcept {
  if (this != &other) {
    destroy();  // our own table first
    ns_ = std::move(other.ns_);
    other.ns_ = NetNs();
    table_ = std::exchange(other.table_, std::string());
    family_ = other.family_;
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

NSFUN_INLINE Masquerade::~Masquerade() {
  destroy();
}

NSFUN_INLINE void Masquerade::destroy() noexcept {
  if (owned_) {
    (void)remove();
  }
  // remove() empties the handle; this is for the record.
  table_.clear();
  ns_ = NetNs();
  owned_ = false;
}

NSFUN_INLINE result<void> Masquerade::remove() noexcept {
  if (table_.empty()) {
    return success();
  }
  // Empty the handle first (these moves cannot throw), so that it is empty however this ends.
  NetNs ns = std::move(ns_);
  ns_ = NetNs();
  owned_ = false;
  std::string table = std::exchange(table_, std::string());
  if (!ns) {
    return errno_error(EBADF, "nft")
        .on("delete table ", family_, " ", table)
        .because("no namespace");
  }
  std::string cmd;
  try {
    cmd = "delete table " + std::string(family_) + " " + table + "\n";
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "nft").on("delete table ", family_, " ", table);
  }
  NSFUN_TRYV(nft_run(ns, cmd));
  return success();
}

NSFUN_INLINE void Masquerade::keep() noexcept {
  owned_ = false;
}

}  // namespace nsfun::net
