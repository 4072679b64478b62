// SPDX-License-Identifier: MIT
// nsfun::net – Rtnl, a rtnetlink socket bound to one network namespace.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <linux/netlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun::net {

class RtnlBatch;

/// A NETLINK_ROUTE socket (SOCK_CLOEXEC) that talks to the kernel about one network namespace:
/// the one it was created in. It is created on a short-lived thread that entered the namespace
/// (run_in), and then used from any thread: a netlink socket stays bound to the namespace it was
/// made in, whichever thread uses it later.
///
/// Rtnl is a shared handle: copies (and the Link, Veth, … objects made from it) use the same
/// socket, which closes with the last copy. A moved-from Rtnl is empty. It is not safe to use
/// one socket from two threads at once; open one Rtnl per thread instead.
///
/// Kernel errors come back as an nsfun::error whose step is the request type and whose note is
/// the kernel's extended-ack text (NLMSGERR_ATTR_MSG) when it sent one; nsfun's own calls name
/// the object too: "RTM_NEWADDR 10.0.0.1/24 on nsft0: No such device (ipv4: Device not found)".
class Rtnl {
 public:
  /// A function called with each reply message of a request or dump.
  using MessageFn = std::function<result<void>(const nlmsghdr&)>;

  /// An empty handle; every request on it fails with std::errc::bad_file_descriptor.
  Rtnl() noexcept = default;

  /// A socket in the calling thread's network namespace.
  /// Wraps: socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)
  /// https://man7.org/linux/man-pages/man7/rtnetlink.7.html
  /// Errors: std::errc::too_many_files_open, std::errc::address_family_not_supported.
  [[nodiscard]] static result<Rtnl> open() noexcept;

  /// A socket in `ns`, created on a short-lived thread that entered it; no thread of the caller
  /// changes namespace.
  /// Needs: CAP_SYS_ADMIN in the user namespace owning `ns` (setns).
  /// Errors: std::errc::bad_file_descriptor (empty `ns`), std::errc::operation_not_permitted,
  /// and those of open().
  [[nodiscard]] static result<Rtnl> open(const NetNs& ns) noexcept;

  /// The namespace this socket talks to (an fd of its own on it).
  [[nodiscard]] const NetNs& netns() const noexcept;

  /// Sends one request and waits for the kernel's acknowledgement. NLM_F_REQUEST, NLM_F_ACK, a
  /// fresh sequence number and the length are set here; the caller sets type, flags and payload.
  /// Replies that come before the ack (e.g. the link of an RTM_GETLINK) are passed to `each`.
  /// `step` must be a string literal: it names the request in errors ("RTM_NEWLINK").
  /// Errors: the kernel's errno, with `step` and the kernel's extended-ack text as the error's
  /// note(); std::errc::bad_file_descriptor on an empty handle. The error has no object: the
  /// caller knows what the request was about and names it, e.g.
  /// `nsfun::with_context(rtnl.request(m, "RTM_NEWLINK"), [&](error& e) { e.on(ifname); })`.
  /// Not noexcept (nor is dump()): an exception
  /// thrown by `each` (or `restart`) propagates; nothing else throws.
  [[nodiscard]] result<void> request(nlmsghdr& msg,
                                     std::string_view step,
                                     const MessageFn& each = {}) const;

  /// Sends a dump request (NLM_F_DUMP added) and passes every reply to `each`. When the kernel
  /// marks the dump inconsistent (NLM_F_DUMP_INTR: the table changed meanwhile), `restart` is
  /// called and the dump is asked again, up to 10 times.
  /// Errors: as request(); std::errc::interrupted when the dump stays inconsistent.
  [[nodiscard]] result<void> dump(nlmsghdr& msg,
                                  std::string_view step,
                                  const std::function<void()>& restart,
                                  const MessageFn& each) const;

  /// An empty batch of requests for this socket: see RtnlBatch.
  [[nodiscard]] RtnlBatch batch() const noexcept;

  /// The socket's fd, borrowed (for poll(2) or diagnostics): still owned by the Rtnl, and valid
  /// while any copy of it lives. FdRef(-1) on an empty handle.
  [[nodiscard]] FdRef fd() const noexcept;

  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(state_); }

  /// True when both handles share one socket.
  friend bool operator==(const Rtnl& a, const Rtnl& b) noexcept { return a.state_ == b.state_; }

 private:
  struct State;

  explicit Rtnl(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}

  [[nodiscard]] result<void> exchange(nlmsghdr& msg,
                                      std::string_view step,
                                      bool is_dump,
                                      bool& interrupted,
                                      const MessageFn& each) const;

  [[nodiscard]] result<void> exchange_batch(std::vector<char>& msgs,
                                            std::vector<std::uint32_t>& offsets,
                                            std::vector<int>& status,
                                            std::vector<std::string>& notes) const;

  friend class RtnlBatch;

  std::shared_ptr<State> state_;
};

/// Requests queued to go to the kernel together: commit() sends them with as few sendmsg calls
/// as the socket's buffers allow (all of them in one up to `max_per_send`), then reads every
/// acknowledgement. Creating 1,000 links with an address each then costs a few dozen system
/// calls instead of 4,000, and no more round trips than sends.
///
/// The kernel handles each request on its own and in order, as if sent one by one: a request
/// that fails does not stop those after it (which may then fail too, e.g. an address on a link
/// whose creation failed). commit() reports the first failure, named by the label it was queued
/// with and in the kernel's words, after every ack has been read; failures() lists them all.
///
/// Any request type fits (links, addresses, routes, neighbours, rules, …): add() takes a message
/// as Rtnl::request() does. Replies other than acks (e.g. to NLM_F_ECHO) are not read: batch
/// only requests that change something. Like its Rtnl, a batch is for one thread at a time.
///
///     auto batch = rtnl.batch();
///     NSFUN_TRYV(batch.add(msg, "RTM_NEWADDR", "10.0.0.1/24 on nsft0"));
///     NSFUN_TRYV(batch.commit());  // "batch request 1 of 1: RTM_NEWADDR 10.0.0.1/24 on nsft0: …"
class RtnlBatch {
 public:
  /// The most requests per sendmsg: their acks must fit in the socket's receive buffer (the
  /// kernel drops what does not, ENOBUFS). 128 acks take about 100 KiB of the default 208 KiB.
  static constexpr std::size_t max_per_send = 128;

  /// One failed request of the last commit().
  struct Failure {
    std::size_t position = 0;  ///< 0-based, in the order of add()
    error err;                 ///< as Rtnl::request() reports it, with the label as object
  };

  /// An empty batch on an empty Rtnl: commit() of anything fails with bad_file_descriptor.
  RtnlBatch() noexcept = default;

  explicit RtnlBatch(Rtnl rtnl) noexcept : rtnl_(std::move(rtnl)) {}

  /// Queues a copy of `msg`: type, flags (e.g. NLM_F_CREATE | NLM_F_EXCL) and payload set by
  /// the caller; NLM_F_REQUEST | NLM_F_ACK and the sequence number are set by commit().
  /// `step` must be a string literal (the request type: "RTM_NEWLINK"); `label` names the
  /// request's object in errors ("nsft7 type dummy"). Errors: std::errc::not_enough_memory;
  /// std::errc::message_size when msg.nlmsg_len is shorter than a header;
  /// std::errc::invalid_argument for a dump (NLM_F_DUMP: answered by NLMSG_DONE, not an ack).
  [[nodiscard]] result<void> add(const nlmsghdr& msg,
                                 std::string_view step,
                                 std::string_view label) noexcept;

  /// Queued requests.
  [[nodiscard]] std::size_t size() const noexcept { return steps_.size(); }

  [[nodiscard]] bool empty() const noexcept { return steps_.empty(); }

  /// Sends every queued request and reads every ack; the batch is empty afterwards, whatever
  /// happened. Success when every request succeeded. Otherwise the first failure's error
  /// (its request type as step, its label as object, the kernel's extended ack as note) with
  /// the context "batch request K of N" ("… of N, M failed" when more did); failures() then
  /// has each. A failure of the socket itself (sendmsg, recv) ends the commit with that error:
  /// requests already sent may then have been carried out or not.
  [[nodiscard]] result<void> commit() noexcept;

  /// The requests that failed in the last commit(), in order.
  [[nodiscard]] const std::vector<Failure>& failures() const noexcept { return failures_; }

  [[nodiscard]] const Rtnl& rtnl() const noexcept { return rtnl_; }

 private:
  Rtnl rtnl_;
  std::vector<char> msgs_;               // the messages, each NLMSG_ALIGNed
  std::vector<std::uint32_t> offsets_;   // where each starts in msgs_
  std::vector<std::string_view> steps_;  // string literals
  std::vector<std::string> labels_;
  std::vector<Failure> failures_;
};

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/rtnl.ipp>
#endif
