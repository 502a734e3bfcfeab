// The terminal side of the output: taskctl's own stdout buffer and its EPIPE
// rule (every writer in output.cpp and table.cpp flushes through it), the
// pager a terminal table goes through, and the progress line on stderr.

#include "terminal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <sys/wait.h>
#include <unistd.h>

namespace taskctl {

bool
write_fully(int fd, std::string_view text)
{
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// --- stdout ------------------------------------------------------------------

namespace {

// taskctl's own stdout buffer: stdio's cannot resume a write that a signal
// interrupted (fwrite gives up on EINTR and the rest of its buffer is lost,
// cutting a JSON line in half when Ctrl-C arrives while a pipe is full).
constexpr std::size_t k_stdout_block = 4u << 10; // as stdio buffers a pipe: a stalled reader holds taskctl back soon

struct StdoutBuffer
{
  std::string data;
  int terminal = -1; // whether fd 1 is a terminal (-1: not known yet): then nothing waits
};

StdoutBuffer&
stdout_buffer()
{
  static StdoutBuffer b;
  if (b.terminal < 0) {
    b.terminal = ::isatty(STDOUT_FILENO) != 0 ? 1 : 0;
  }
  return b;
}

// Writes all of text to fd 1. Returns false (errno set) on an error.
bool
write_all(std::string_view text)
{
  if (write_fully(STDOUT_FILENO, text)) {
    return true;
  }
  if (errno == EPIPE) {
    // The reader is gone (`ls | head`, a pager quit early): nobody is left
    // to tell, so the run ends here, quietly and successfully, as SIGPIPE
    // would end it but with exit 0. Every write to a store is one atomic
    // operation, so nothing is left half-written.
    ::_exit(exit_ok);
  }
  return false;
}

[[noreturn]] void
throw_stdout_error()
{
  throw CliError(exit_failure, "io_error", fmt::format("cannot write to standard output: {}", std::strerror(errno)));
}

} // namespace

void
write_stdout(std::string_view text)
{
  if (text.empty()) {
    return;
  }
  auto& b = stdout_buffer();
  if (b.terminal == 1 || b.data.size() + text.size() > k_stdout_block) {
    flush_stdout();
    if (b.terminal == 1 || text.size() >= k_stdout_block) {
      if (!write_all(text)) {
        throw_stdout_error();
      }
      return;
    }
  }
  b.data.append(text);
}

void
flush_stdout()
{
  std::fflush(stdout); // whatever went through stdio first (none of taskctl's own output)
  auto& b = stdout_buffer();
  if (!b.data.empty()) {
    const bool ok = write_all(b.data);
    b.data.clear();
    if (!ok) {
      throw_stdout_error();
    }
  }
}

void
flush_stdout_quietly() noexcept
{
  try {
    flush_stdout();
  } catch (...) {
    // reported by the flush_stdout at the end of the run, or moot after an error
  }
}

// --- pager -------------------------------------------------------------------

Pager::Pager(const Context& ctx, bool wanted)
{
  if (!wanted || !ctx.stdout_tty) {
    return;
  }
  const char* configured = std::getenv("TASKCTL_PAGER");
  if (configured == nullptr) {
    configured = std::getenv("PAGER");
  }
  const std::string command = configured != nullptr ? configured : "less -FRX";
  if (command.find_first_not_of(" \t") == std::string::npos || command == "cat") {
    return;
  }
  int fds[2];
  if (::pipe(fds) != 0) {
    return; // no pager: the output goes to the terminal as it is
  }
  flush_stdout_quietly();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return;
  }
  if (pid == 0) {
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    if (std::getenv("LESS") == nullptr) {
      ::setenv("LESS", "FRX", 0);
    }
    if (sigpipe_was_default()) {
      ::signal(SIGPIPE, SIG_DFL); // taskctl ignores it for itself only
    }
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  saved_stdout_ = ::dup(STDOUT_FILENO);
  ::dup2(fds[1], STDOUT_FILENO);
  ::close(fds[1]);
  pid_ = pid;
}

Pager::~Pager()
{
  if (pid_ <= 0) {
    return;
  }
  flush_stdout_quietly();
  ::dup2(saved_stdout_, STDOUT_FILENO); // the pager's input closes: it sees the end
  ::close(saved_stdout_);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

// --- progress ----------------------------------------------------------------

Progress::Progress(const Context& ctx, std::string what, std::string scanned_word, std::string matched_word)
  : enabled_(ctx.stderr_tty && !ctx.global.quiet), stdout_tty_(ctx.stdout_tty), what_(std::move(what)),
    scanned_word_(std::move(scanned_word)), matched_word_(std::move(matched_word)),
    started_(std::chrono::steady_clock::now()), last_draw_(started_), last_output_(started_)
{
}

Progress::~Progress()
{
  clear();
}

void
Progress::tick(std::uint64_t scanned, std::uint64_t matched)
{
  if (!enabled_ || (scanned & 0xff) != 0) {
    return; // look at the clock every 256 records only
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::seconds(1) || (stdout_tty_ && now - last_output_ < std::chrono::seconds(1))) {
    return;
  }
  draw(scanned, matched, now);
}

void
Progress::set_total(std::uint64_t total)
{
  total_ = total;
  started_ = std::chrono::steady_clock::now();
  if (enabled_) {
    draw(0, 0, started_);
  }
}

void
Progress::draw(std::uint64_t scanned, std::uint64_t matched, std::chrono::steady_clock::time_point now)
{
  last_draw_ = now;
  const double seconds = std::chrono::duration<double>(now - started_).count();
  const double rate = seconds > 0 ? static_cast<double>(scanned) / seconds : 0.0;
  std::string text;
  if (total_) {
    const std::uint64_t total = std::max(*total_, scanned);
    const double percent = total == 0 ? 100.0 : 100.0 * static_cast<double>(scanned) / static_cast<double>(total);
    const std::string eta =
      rate > 0 ? fmt::format("ETA {:.0f} s", static_cast<double>(total - scanned) / rate) : std::string("ETA -");
    text = fmt::format("\r\033[K{}: {} of {} records {} ({:.0f}%, {:.0f} records/s, {})", what_, scanned, total,
                       scanned_word_, percent, rate, eta);
  } else {
    text = fmt::format("\r\033[K{}: {} records {}, {} {} ({:.0f} s, {:.0f} records/s)", what_, scanned,
                       scanned_word_, matched, matched_word_, seconds, rate);
  }
  flush_stdout_quietly();
  [[maybe_unused]] const auto n = std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
  shown_ = true;
}

void
Progress::before_output()
{
  if (!enabled_) {
    return;
  }
  if (stdout_tty_) {
    last_output_ = std::chrono::steady_clock::now();
    clear();
  }
}

void
Progress::clear()
{
  if (shown_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    shown_ = false;
  }
}

} // namespace taskctl
