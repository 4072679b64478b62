// SPDX-License-Identifier: MIT
// nsfun::net – Rtnl, the rtnetlink socket: the implementation (see <nsfun/config.hpp>).
// Creation inside a namespace, request/ack, dumps, ext ack.
#pragma once

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

struct Rtnl::State {
  UniqueFd fd;
  NetNs ns;
  std::uint32_t seq = 0;
  std::vector<char> buf;
};

namespace detail {

// The receive buffer: the kernel sizes dump batches up to 32 KiB, whatever the reader asks for.
inline constexpr std::size_t rtnl_recv_buffer_size = 64 * 1024;

inline result<UniqueFd> rtnl_socket() noexcept {
  int raw = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (raw < 0) {
    return errno_error(errno, "socket NETLINK_ROUTE");
  }
  UniqueFd fd = UniqueFd::adopt(raw);  // owns: just created
  int one = 1;
  // Best effort: older kernels lack them, and requests work without (only less detail).
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) < 0) {
    return errno_error(errno, "bind NETLINK_ROUTE");
  }
  return fd;
}

// The NLMSGERR_ATTR_MSG text of an NLMSG_ERROR or NLMSG_DONE message (a view into the message),
// or "". Its attributes follow the fixed part of `fixed` bytes.
inline std::string_view extack_of(const nlmsghdr& h, std::size_t fixed) noexcept {
  if (!(h.nlmsg_flags & NLM_F_ACK_TLVS)) {
    return {};
  }
  const char* payload = static_cast<const char*>(mnl_nlmsg_get_payload(&h));
  std::size_t total = mnl_nlmsg_get_payload_len(&h);
  std::size_t offset = (fixed + 3U) & ~std::size_t{3};
  if (offset >= total) {
    return {};
  }
  std::array<const nlattr*, NLMSGERR_ATTR_MAX + 1> tb{};
  parse_attrs(payload + offset, total - offset, tb.data(), tb.size());
  const nlattr* msg = tb[NLMSGERR_ATTR_MSG];
  if (msg == nullptr) {
    return {};
  }
  std::string_view text(static_cast<const char*>(mnl_attr_get_payload(msg)),
                        mnl_attr_get_payload_len(msg));
  while (!text.empty() && text.back() == '\0') {
    text.remove_suffix(1);
  }
  return text;
}

// The size of an NLMSG_ERROR's fixed part: the nlmsgerr, and the request it echoes unless the
// kernel capped it (NETLINK_CAP_ACK).
inline std::size_t error_fixed_size(const nlmsghdr& h) noexcept {
  if (mnl_nlmsg_get_payload_len(&h) < sizeof(nlmsgerr)) {
    return mnl_nlmsg_get_payload_len(&h);
  }
  nlmsgerr err{};
  std::memcpy(&err, mnl_nlmsg_get_payload(&h), sizeof(err));
  std::size_t fixed = sizeof(nlmsgerr);
  if (!(h.nlmsg_flags & NLM_F_CAPPED) && err.msg.nlmsg_len > sizeof(nlmsghdr)) {
    fixed += err.msg.nlmsg_len - sizeof(nlmsghdr);
  }
  return fixed;
}

// The namespace a socket was asked for, as the object of an error that has none yet:
// "socket NETLINK_ROUTE in net:[4026532301]: Too many open files".
inline error on_netns(error e, const NetNs& ns) noexcept {
  if (e.object().empty()) {
    e.on("in net:[", ns.identity().ino(), "]");
  }
  return e;
}

}  // namespace detail

NSFUN_INLINE result<Rtnl> Rtnl::open() noexcept {
  try {
    auto state = std::make_shared<State>();
    NSFUN_TRY(state->ns, NetNs::current());
    auto fd = detail::rtnl_socket();
    if (!fd) {
      return detail::on_netns(std::move(fd).assume_error(), state->ns);
    }
    state->fd = std::move(fd).assume_value();
    state->buf.resize(detail::rtnl_recv_buffer_size);
    return Rtnl(std::move(state));
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "open rtnetlink");
  }
}

NSFUN_INLINE result<Rtnl> Rtnl::open(const NetNs& ns) noexcept {
  if (!ns) {
    return errno_error(EBADF, "open rtnetlink").because("empty NetNs handle");
  }
  try {
    auto state = std::make_shared<State>();
    auto fd = nsfun::detail::run_in_known(ns, [] { return detail::rtnl_socket(); });
    if (!fd) {
      return detail::on_netns(std::move(fd).assume_error(), ns);
    }
    state->fd = std::move(fd).assume_value();
    NSFUN_TRY(auto copy, ns.ns().clone());
    NSFUN_TRY(state->ns, NetNs::from(std::move(copy)));
    state->buf.resize(detail::rtnl_recv_buffer_size);
    return Rtnl(std::move(state));
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "open rtnetlink");
  }
}

NSFUN_INLINE const NetNs& Rtnl::netns() const noexcept {
  static const NetNs none;
  return state_ ? state_->ns : none;
}

NSFUN_INLINE FdRef Rtnl::fd() const noexcept {
  return state_ ? state_->fd.ref() : FdRef(-1);
}

NSFUN_INLINE result<void> Rtnl::request(nlmsghdr& msg,
                                        std::string_view step,
                                        const MessageFn& each) const {
  bool interrupted = false;
  return exchange(msg, step, false, interrupted, each);
}

NSFUN_INLINE result<void> Rtnl::dump(nlmsghdr& msg,
                                     std::string_view step,
                                     const std::function<void()>& restart,
                                     const MessageFn& each) const {
  constexpr int max_attempts = 10;
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    bool interrupted = false;
    NSFUN_TRYV(exchange(msg, step, true, interrupted, each));
    if (!interrupted) {
      return success();
    }
    if (restart) {
      restart();
    }
  }
  return errno_error(EINTR, step).with_note("the dump kept changing (NLM_F_DUMP_INTR)");
}

NSFUN_INLINE result<void> Rtnl::exchange(nlmsghdr& msg,
                                         std::string_view step,
                                         bool is_dump,
                                         bool& interrupted,
                                         const MessageFn& each) const {
  if (!state_) {
    return errno_error(EBADF, step).because("empty Rtnl handle");
  }
  State& s = *state_;
  msg.nlmsg_seq = ++s.seq;
  msg.nlmsg_pid = 0;
  msg.nlmsg_flags = static_cast<std::uint16_t>(msg.nlmsg_flags | NLM_F_REQUEST |
                                               (is_dump ? NLM_F_DUMP : NLM_F_ACK));
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(s.fd.get(), &msg, msg.nlmsg_len, 0, reinterpret_cast<const sockaddr*>(&kernel),
                    sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    return errno_error(errno, step).with_note("sendto");
  }
  for (;;) {
    ssize_t n = ::recv(s.fd.get(), s.buf.data(), s.buf.size(), MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(errno, step).with_note("recv");
    }
    if (static_cast<std::size_t>(n) > s.buf.size()) {
      return errno_error(EMSGSIZE, step).with_note("recv: a reply over ", s.buf.size(), " bytes");
    }
    int len = static_cast<int>(n);
    auto* h = reinterpret_cast<const nlmsghdr*>(s.buf.data());
    for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
      if (h->nlmsg_seq != s.seq) {
        continue;  // a late reply to an earlier request, or a notification
      }
      if (h->nlmsg_flags & NLM_F_DUMP_INTR) {
        interrupted = true;
      }
      switch (h->nlmsg_type) {
        case NLMSG_NOOP:
        case NLMSG_OVERRUN:
          break;
        case NLMSG_ERROR: {
          nlmsgerr err{};
          if (mnl_nlmsg_get_payload_len(h) < sizeof(int)) {
            return errno_error(EBADMSG, step).with_note("a short NLMSG_ERROR");
          }
          std::memcpy(&err.error, mnl_nlmsg_get_payload(h), sizeof(int));
          if (err.error == 0) {
            return success();  // an ack; its extack, if any, is only a warning
          }
          return errno_error(-err.error, step)
              .with_note(detail::extack_of(*h, detail::error_fixed_size(*h)));
        }
        case NLMSG_DONE: {
          int status = 0;
          if (mnl_nlmsg_get_payload_len(h) >= sizeof(int)) {
            std::memcpy(&status, mnl_nlmsg_get_payload(h), sizeof(int));
          }
          if (status < 0) {
            return errno_error(-status, step).with_note(detail::extack_of(*h, sizeof(int)));
          }
          return success();
        }
        default:
          if (each) {
            NSFUN_TRYV(each(*h));
          }
          break;
      }
    }
  }
}

NSFUN_INLINE RtnlBatch Rtnl::batch() const noexcept {
  return RtnlBatch(*this);
}

// Sends the messages of `msgs` (starting at `offsets`) in chunks of up to max_per_send, and
// reads the acks of each chunk before sending the next. status[i] is 0 (acked) or the
// kernel's errno for message i, notes[i] its extended ack. An error only for the socket.
NSFUN_INLINE result<void> Rtnl::exchange_batch(std::vector<char>& msgs,
                                               std::vector<std::uint32_t>& offsets,
                                               std::vector<int>& status,
                                               std::vector<std::string>& notes) const {
  constexpr std::string_view step = "rtnetlink batch";
  if (!state_) {
    return errno_error(EBADF, step).because("empty Rtnl handle");
  }
  State& s = *state_;
  const std::size_t n = offsets.size();
  status.assign(n, 0);
  notes.assign(n, std::string());
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (std::size_t first = 0; first < n; first += RtnlBatch::max_per_send) {
    const std::size_t count = std::min(RtnlBatch::max_per_send, n - first);
    const std::size_t begin = offsets[first];
    const std::size_t end = first + count < n ? offsets[first + count] : msgs.size();
    // Sequence numbers first_seq .. first_seq + count - 1, one per message, in order.
    const std::uint32_t first_seq = s.seq + 1;
    for (std::size_t i = 0; i < count; ++i) {
      nlmsghdr h{};
      std::memcpy(&h, msgs.data() + offsets[first + i], sizeof(h));
      h.nlmsg_seq = ++s.seq;
      h.nlmsg_pid = 0;
      h.nlmsg_flags = static_cast<std::uint16_t>(h.nlmsg_flags | NLM_F_REQUEST | NLM_F_ACK);
      std::memcpy(msgs.data() + offsets[first + i], &h, sizeof(h));
    }
    ssize_t sent;
    do {
      sent = ::sendto(s.fd.get(), msgs.data() + begin, end - begin, 0,
                      reinterpret_cast<const sockaddr*>(&kernel), sizeof(kernel));
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      return errno_error(errno, step).with_note("sendto");
    }
    std::size_t acked = 0;
    std::vector<bool> seen(count, false);
    while (acked < count) {
      ssize_t got = ::recv(s.fd.get(), s.buf.data(), s.buf.size(), MSG_TRUNC);
      if (got < 0) {
        if (errno == EINTR) {
          continue;
        }
        return errno_error(errno, step).with_note("recv");
      }
      if (static_cast<std::size_t>(got) > s.buf.size()) {
        return errno_error(EMSGSIZE, step).with_note("recv: a reply over ", s.buf.size(), " bytes");
      }
      int len = static_cast<int>(got);
      auto* h = reinterpret_cast<const nlmsghdr*>(s.buf.data());
      for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
        std::uint32_t k = h->nlmsg_seq - first_seq;  // wraps for an earlier request's reply
        if (k >= count || h->nlmsg_type != NLMSG_ERROR || seen[k]) {
          continue;  // a late reply to an earlier request, a notification, a non-ack reply
        }
        int err = 0;
        if (mnl_nlmsg_get_payload_len(h) >= sizeof(int)) {
          std::memcpy(&err, mnl_nlmsg_get_payload(h), sizeof(int));
        } else {
          err = -EBADMSG;
        }
        seen[k] = true;
        ++acked;
        if (err != 0) {
          status[first + k] = -err;
          notes[first + k] = detail::extack_of(*h, detail::error_fixed_size(*h));
        }
      }
    }
  }
  return success();
}

NSFUN_INLINE result<void> RtnlBatch::add(const nlmsghdr& msg,
                                         std::string_view step,
                                         std::string_view label) noexcept {
  if (msg.nlmsg_len < sizeof(nlmsghdr)) {
    return errno_error(EMSGSIZE, step).on(label).because("a message shorter than its header");
  }
  if ((msg.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP) {
    // A dump ends with NLMSG_DONE, not with the ack commit() waits for.
    return errno_error(EINVAL, step).on(label).because("a dump request (use Rtnl::dump)");
  }
  const std::size_t at = msgs_.size();
  std::string copy;
  try {
    copy = label;
    // Room for one more everywhere first, so that nothing below throws and a failure leaves the
    // batch as it was (amortised: reserve alone may allocate exactly what it is asked for).
    auto room = [](auto& v) {
      if (v.size() == v.capacity()) {
        v.reserve(v.capacity() * 2 + 16);
      }
    };
    room(offsets_);
    room(steps_);
    room(labels_);
    msgs_.resize(at + ((msg.nlmsg_len + 3U) & ~std::size_t{3}), '\0');
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, step).on(label);
  }
  std::memcpy(msgs_.data() + at, &msg, msg.nlmsg_len);
  offsets_.push_back(static_cast<std::uint32_t>(at));
  steps_.push_back(step);
  labels_.push_back(std::move(copy));
  return success();
}

NSFUN_INLINE result<void> RtnlBatch::commit() noexcept {
  // Take the queue out first: the batch is empty however this ends.
  auto msgs = std::exchange(msgs_, {});
  auto offsets = std::exchange(offsets_, {});
  auto steps = std::exchange(steps_, {});
  auto labels = std::exchange(labels_, {});
  failures_.clear();
  if (steps.empty()) {
    return success();
  }
  try {
    std::vector<int> status;
    std::vector<std::string> notes;
    NSFUN_TRYV(rtnl_.exchange_batch(msgs, offsets, status, notes));
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (status[i] != 0) {
        failures_.push_back(
            Failure{i, errno_error(status[i], steps[i]).on(labels[i]).with_note(notes[i])});
      }
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "rtnetlink batch");
  }
  if (failures_.empty()) {
    return success();
  }
  error first = failures_.front().err;
  if (failures_.size() == 1) {
    first.with_context("batch request ", failures_.front().position + 1, " of ", steps.size());
  } else {
    first.with_context("batch request ", failures_.front().position + 1, " of ", steps.size(), ", ",
                       failures_.size(), " failed");
  }
  return first;
}

}  // namespace nsfun::net
