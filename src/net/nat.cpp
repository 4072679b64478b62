// SPDX-License-Identifier: MIT
// nsfun::net – masquerade through libnftables, inside the router's namespace.

#include <atomic>
#include <cerrno>
#include <memory>
#include <nftables/libnftables.h>

#include <unistd.h>

#include <nsfun/enter.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/nat.hpp>

namespace nsfun::net {

namespace {

struct CtxFree {
  void operator()(nft_ctx* ctx) const noexcept { nft_ctx_free(ctx); }
};

std::atomic<unsigned> table_counter{0};

// Runs `commands` with a fresh libnftables context on the calling thread; output and errors
// are buffered (the library never prints).
result<std::string> run_here(const std::string& commands, std::string* nft_error) {
  std::unique_ptr<nft_ctx, CtxFree> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) {
    return errno_error(ENOMEM, "nft_ctx_new");
  }
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    return errno_error(ENOMEM, "nft_ctx_buffer_output");
  }
  if (nft_run_cmd_from_buffer(ctx.get(), commands.c_str()) != 0) {
    if (nft_error != nullptr) {
      const char* text = nft_ctx_get_error_buffer(ctx.get());
      *nft_error = text != nullptr ? text : "";
    }
    return errno_error(EINVAL, "nft_run_cmd_from_buffer");
  }
  const char* out = nft_ctx_get_output_buffer(ctx.get());
  return std::string(out != nullptr ? out : "");
}

}  // namespace

result<std::string> nft_run(const NetNs& ns, std::string_view commands, std::string* nft_error) {
  if (!ns) {
    return errno_error(EBADF, "nft_run_cmd_from_buffer");
  }
  std::string cmd(commands);
  return run_in(ns, [&] { return run_here(cmd, nft_error); });
}

result<Masquerade> Masquerade::create(const NetNs& router,
                                      const IpPrefix& source,
                                      std::string_view out_interface,
                                      std::string* nft_error) {
  if (!router) {
    return errno_error(EBADF, "nft add masquerade");
  }
  if (source.address.family != AF_INET && source.address.family != AF_INET6) {
    return errno_error(EINVAL, "parse address");
  }
  if (!out_interface.empty()) {
    NSFUN_TRYV(check_ifname(out_interface));
    if (out_interface.find('"') != std::string_view::npos ||
        out_interface.find('\\') != std::string_view::npos) {
      return errno_error(EINVAL, "check interface name");
    }
  }
  Masquerade m;
  m.family_ = source.address.family == AF_INET ? "ip" : "ip6";
  std::string table = "nsfun_nat_" + std::to_string(::getpid()) + "_" +
                      std::to_string(table_counter.fetch_add(1, std::memory_order_relaxed));
  std::string t = std::string(m.family_) + " " + table;
  std::string cmd = "create table " + t + "\n";
  cmd += "add chain " + t +
         " postrouting { type nat hook postrouting priority 100; policy accept; }\n";
  cmd += "add rule " + t + " postrouting " + m.family_ + " saddr " + source.network().to_string();
  if (!out_interface.empty()) {
    cmd += " oifname \"" + std::string(out_interface) + "\"";
  }
  cmd += " masquerade\n";
  NSFUN_TRYV(nft_run(router, cmd, nft_error));
  NSFUN_TRY(auto copy, router.fd().clone());
  auto typed = NetNs::from(std::move(copy));
  m.table_ = std::move(table);
  if (!typed) {
    (void)m.remove();
    return std::move(typed).as_failure();
  }
  m.ns_ = std::move(typed).value();
  return m;
}

Masquerade::Masquerade(Masquerade&& other) noexcept
    : ns_(std::move(other.ns_)), table_(std::move(other.table_)), family_(other.family_) {
  other.table_.clear();
}

Masquerade& Masquerade::operator=(Masquerade&& other) noexcept {
  if (this != &other) {
    (void)remove();
    ns_ = std::move(other.ns_);
    table_ = std::move(other.table_);
    other.table_.clear();
    family_ = other.family_;
  }
  return *this;
}

Masquerade::~Masquerade() {
  try {
    (void)remove();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor reports nothing
  }
}

result<void> Masquerade::remove(std::string* nft_error) {
  if (table_.empty()) {
    return success();
  }
  std::string cmd = "delete table " + std::string(family_) + " " + table_ + "\n";
  table_.clear();
  if (!ns_) {
    return errno_error(EBADF, "nft delete table");
  }
  NSFUN_TRYV(nft_run(ns_, cmd, nft_error));
  ns_ = NetNs();
  return success();
}

std::string Masquerade::release() noexcept {
  ns_ = NetNs();
  return std::exchange(table_, std::string());
}

}  // namespace nsfun::net
