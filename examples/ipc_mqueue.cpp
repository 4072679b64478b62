// SPDX-License-Identifier: MIT
// Recipe 17: an IPC namespace of its own —
//
//   unshare --ipc sh -c 'mq_create /nsfun-example-queue; ls /dev/mqueue'   (and outside: nothing)
//
// POSIX message queues (like System V IPC objects) live in an IPC namespace. A new one, held by
// an fd, gets a queue with one message in it (on a short thread inside it, with run_in); the
// same name does not exist in ours. The queue goes with the namespace when the program ends.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <mqueue.h>

#include <nsfun/acquire.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/namespace.hpp>

#include "example_util.hpp"

namespace {

constexpr const char* queue = "/nsfun-example-queue";

// How many messages the queue holds, or -errno when it cannot be opened.
long messages_in_queue() {
  mqd_t q = ::mq_open(queue, O_RDONLY | O_CLOEXEC);
  if (q == -1) {
    return -errno;
  }
  mq_attr attr{};
  ::mq_getattr(q, &attr);
  ::mq_close(q);
  return attr.mq_curmsgs;
}

std::string said(long n) {
  return n >= 0 ? "exists, " + std::to_string(n) + " message(s)"
                : std::string("mq_open: ") + std::strerror(static_cast<int>(-n));
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only std::bad_alloc may escape (then terminate)
int main() {
  auto ipc = nsfun::acquire<nsfun::NsType::ipc>();
  if (!ipc) {
    return example::fail("ipc_mqueue", ipc.error());
  }
  auto made = nsfun::run_in(ipc.value().ns(), []() -> nsfun::result<void> {
    mqd_t q = ::mq_open(queue, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600, nullptr);
    if (q == -1) {
      return nsfun::errno_error(errno, std::string("mq_open ") + queue);
    }
    const int sent = ::mq_send(q, "hello", 5, 0);
    ::mq_close(q);
    if (sent < 0) {
      return nsfun::errno_error(errno, "mq_send");
    }
    return nsfun::success();
  });
  if (!made) {
    return example::fail_after("ipc_mqueue", made.error());
  }
  auto here = nsfun::NsFd::current(nsfun::NsType::ipc);
  auto in = nsfun::run_in(ipc.value().ns(), messages_in_queue);
  const long inside = in ? in.value() : -ECHILD;
  const long outside = messages_in_queue();
  std::printf("inside %s: %s %s\n", ipc.value().identity().to_string().c_str(), queue,
              said(inside).c_str());
  std::printf("outside %s: %s %s\n", here ? here.value().identity().to_string().c_str() : "(ours)",
              queue, said(outside).c_str());
  return inside == 1 && outside == -ENOENT ? 0 : 1;
}
