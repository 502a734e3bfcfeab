#pragma once
// The terminal side of the output: taskctl's own stdout buffer (every byte of
// data goes through it), the pager and the progress line. output.hpp
// includes this header; the writers of documents, tables and errors are there.

#include "context.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskctl {

// Writes all of text to fd, again after a signal (EINTR) and after short
// writes. Returns false (errno set) on an error; EPIPE is the caller's to judge.
bool write_fully(int fd, std::string_view text);

// Writes bytes to stdout exactly as given: through taskctl's own 4 KiB
// buffer (at once on a terminal), written with write(2) again after EINTR,
// so a signal never cuts the output short. Throws CliError io_error when
// stdout is broken; a closed pipe (EPIPE) ends the process with exit 0.
void write_stdout(std::string_view text);
// Writes what is buffered; throws CliError io_error when stdout is broken.
void flush_stdout();
// The same, never throwing (before writing to stderr, forking a pager or an editor).
void flush_stdout_quietly() noexcept;

// Sends stdout through a pager while it lives, as git does: only when
// wanted and stdout is a terminal. The pager is $TASKCTL_PAGER, else $PAGER,
// else "less -FRX" (which exits at once when the text fits the screen), run
// by /bin/sh; an empty value or "cat" means none. The destructor flushes,
// closes the pager's input and waits for it to exit (the user quitting it
// early makes the next write end taskctl quietly with exit 0: see
// install_signal_handlers).
class Pager
{
public:
  Pager(const Context& ctx, bool wanted);
  ~Pager();
  Pager(const Pager&) = delete;
  Pager& operator=(const Pager&) = delete;
  bool active() const { return pid_ > 0; }

private:
  int pid_ = -1;
  int saved_stdout_ = -1;
};

// "scanned N records..." on stderr, at most once a second, only when stderr
// is a terminal and not --quiet; cleared before data is written to a
// terminal stdout and at the end.
class Progress
{
public:
  // "WHAT: N records SCANNED_WORD, M MATCHED_WORD (T s, R records/s)".
  Progress(const Context& ctx, std::string what, std::string scanned_word = "scanned",
           std::string matched_word = "matched");
  ~Progress();
  // Call for every record scanned; cheap.
  void tick(std::uint64_t scanned, std::uint64_t matched);
  // Knowing how many records the work will take turns the line into
  // "WHAT: N of TOTAL records SCANNED_WORD (P%, R records/s, ETA T s)",
  // drawn at once and then at most once a second by tick (matched unused).
  void set_total(std::uint64_t total);
  // Call before writing data to stdout.
  void before_output();
  void clear();

private:
  void draw(std::uint64_t scanned, std::uint64_t matched, std::chrono::steady_clock::time_point now);

  bool enabled_;
  bool stdout_tty_;
  bool shown_ = false;
  std::optional<std::uint64_t> total_;
  std::string what_;
  std::string scanned_word_;
  std::string matched_word_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_draw_;
  std::chrono::steady_clock::time_point last_output_;
};

} // namespace taskctl
