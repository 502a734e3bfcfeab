// taskstore/interrupt: the flag, the self-pipe every network wait polls, and
// the interruptible sleep (issue 14, defect 7).
#include "taskstore/interrupt.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <future>
#include <thread>

#include <poll.h>

using namespace taskstore;
using Clock = std::chrono::steady_clock;

namespace {

// Whether the interrupt fd polls readable within wait_ms.
bool
fd_ready(int wait_ms)
{
  pollfd p{interrupt_fd(), POLLIN, 0};
  return ::poll(&p, 1, wait_ms) == 1 && (p.revents & POLLIN) != 0;
}

// Clears the interrupt when a test ends, whatever it did.
struct Cleared
{
  Cleared() { clear_interrupt(); }
  ~Cleared() { clear_interrupt(); }
};

} // namespace

TEST_CASE("interrupt: nothing is requested until request_interrupt", "[interrupt]")
{
  Cleared cleared;
  CHECK_FALSE(interrupt_requested());
  REQUIRE(interrupt_fd() >= 0);
  CHECK(interrupt_fd() == interrupt_fd());
  CHECK_FALSE(fd_ready(0));
  CHECK_FALSE(sleep_unless_interrupted(std::chrono::milliseconds(20)));
}

TEST_CASE("interrupt: request_interrupt sets the flag and the fd stays readable for every waiter",
          "[interrupt]")
{
  Cleared cleared;
  request_interrupt();
  request_interrupt(); // idempotent
  CHECK(interrupt_requested());
  CHECK(fd_ready(0));
  CHECK(fd_ready(0)); // never drained by a waiter
  CHECK(sleep_unless_interrupted(std::chrono::seconds(30)));
  clear_interrupt();
  CHECK_FALSE(interrupt_requested());
  CHECK_FALSE(fd_ready(0));
}

TEST_CASE("interrupt: a signal handler may call it; errno is kept", "[interrupt]")
{
  Cleared cleared;
  struct sigaction action {};
  struct sigaction old {};
  action.sa_handler = [](int) {
    errno = 42;
    request_interrupt();
    if (errno != 42) {
      ::_exit(99);
    }
  };
  sigemptyset(&action.sa_mask);
  REQUIRE(::sigaction(SIGUSR1, &action, &old) == 0);
  std::raise(SIGUSR1);
  ::sigaction(SIGUSR1, &old, nullptr);
  CHECK(interrupt_requested());
  CHECK(fd_ready(0));
}

TEST_CASE("interrupt: a request from another thread wakes a blocked poll and a sleep at once",
          "[interrupt]")
{
  Cleared cleared;
  SECTION("poll(2) on the fd with no timeout")
  {
    auto waiter = std::async(std::launch::async, [] { return fd_ready(-1); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(waiter.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
    request_interrupt();
    // A watchdog, not a measure of speed.
    REQUIRE(waiter.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(waiter.get());
  }
  SECTION("sleep_unless_interrupted")
  {
    const auto start = Clock::now();
    auto sleeper = std::async(std::launch::async, [] { return sleep_unless_interrupted(std::chrono::seconds(60)); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    request_interrupt();
    REQUIRE(sleeper.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(sleeper.get());
    CHECK(Clock::now() - start < std::chrono::seconds(30));
  }
}
