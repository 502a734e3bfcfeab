// The interrupt flag and its self-pipe (interrupt.hpp).
#include "taskstore/interrupt.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace taskstore {
namespace {

std::atomic<bool> g_requested{false};
// The pipe's ends, -1 until created. Lock-free atomics, so the signal handler
// may read them.
std::atomic<int> g_read_fd{-1};
std::atomic<int> g_write_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);

// Writes the wake-up byte (a full pipe is readable already: EAGAIN is fine).
void
poke(int fd) noexcept
{
  const char byte = 1;
  ssize_t n = 0;
  do {
    n = ::write(fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
}

// Creates the pipe once. When an interrupt came before the pipe existed, the
// byte is written here: the handler stores the flag before it reads the fd,
// this stores the fd before it reads the flag, so one of them writes it.
void
create_pipe() noexcept
{
  static std::once_flag once;
  std::call_once(once, [] {
    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
      return;
    }
    g_read_fd.store(fds[0]);
    g_write_fd.store(fds[1]);
    if (g_requested.load()) {
      poke(fds[1]);
    }
  });
}

} // namespace

void
request_interrupt() noexcept
{
  const int saved = errno;
  g_requested.store(true);
  if (const int fd = g_write_fd.load(); fd >= 0) {
    poke(fd);
  }
  errno = saved;
}

bool
interrupt_requested() noexcept
{
  return g_requested.load(std::memory_order_relaxed);
}

int
interrupt_fd() noexcept
{
  if (const int fd = g_read_fd.load(std::memory_order_acquire); fd >= 0) {
    return fd;
  }
  create_pipe();
  return g_read_fd.load();
}

void
clear_interrupt() noexcept
{
  g_requested.store(false);
  if (const int fd = g_read_fd.load(); fd >= 0) {
    char buffer[64];
    while (::read(fd, buffer, sizeof buffer) > 0) {
    }
  }
}

bool
sleep_unless_interrupted(std::chrono::milliseconds duration) noexcept
{
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + duration;
  const int fd = interrupt_fd();
  for (;;) {
    if (interrupt_requested()) {
      return true;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) {
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    // Without a pipe, look at the flag at least every 50 ms.
    const int wait = fd >= 0 ? static_cast<int>(std::min<long long>(left, 1 << 30))
                             : static_cast<int>(std::min<long long>(left, 50));
    ::poll(&p, fd >= 0 ? 1 : 0, wait);
  }
}

} // namespace taskstore
