#pragma once
// What taskctl reads from the user: a record or document (a file, or standard
// input, interruptible by SIGINT), and the guards before a removal: the
// confirmation prompt, --yes and --max-delete.

#include <cstdint>
#include <optional>
#include <streambuf>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}

namespace taskctl {

struct Context;

// The largest record taskctl reads or writes by default (--max-record-size).
inline constexpr std::size_t k_default_max_record_size = 16u << 20;

// Reads a value: spec "" = stdin when it is not a terminal (usage error when
// it is), "-" = stdin, else a file. Returns every byte read. Throws CliError
// io_error (exit 1) when the file cannot be read, record_too_large (exit 6)
// as soon as more than max_bytes arrive (reading stops there: /dev/zero
// ends), Interrupted on SIGINT / SIGTERM (checked between reads, so even an
// endless fast input stops).
std::string read_input(const Context& ctx, const std::string& spec,
                       std::size_t max_bytes = k_default_max_record_size);

// A std::streambuf over a file descriptor whose reads stop (EOF) when SIGINT
// arrives, so a blocked read of a slow stdin returns.
class FdStreamBuf : public std::streambuf
{
public:
  explicit FdStreamBuf(int fd) : fd_(fd) {}
  // Whether a read failed (not EOF, not SIGINT), and its errno.
  bool failed() const { return failed_; }
  int error() const { return errno_; }

protected:
  int_type underflow() override;

private:
  int fd_;
  bool failed_ = false;
  int errno_ = 0;
  char buffer_[1 << 16];
};

// Asks "question [y/N]" on /dev/tty and returns when the answer is yes.
// With yes == true returns at once. When stdin is not a terminal and yes is
// false, throws CliError confirmation_required (exit 2) saying taskctl refuses
// to <action> and telling the user to pass --yes or --dry-run. Any answer but
// y/yes throws CliError aborted (exit 1); SIGINT while waiting, Interrupted.
void confirm(const Context& ctx, bool yes, const std::string& action, const std::string& question);

// Returns the question of a bulk removal's confirmation: question, then one
// line per sample key ("  KEY", printable() and abbreviated; the first 5 of
// samples), then "  … and N more" when count exceeds the keys shown. It ends
// with a newline, so confirm puts "[y/N] " on a line of its own.
std::string question_with_samples(const std::string& question, const std::vector<std::string>& samples,
                                  std::uint64_t count);
inline constexpr std::size_t k_prompt_samples = 5;

// Returns true for the answers confirm takes as yes: "y" or "yes" in any
// case, with blanks and tabs around them.
bool answer_is_yes(std::string answer);

// Throws CliError confirmation_required (exit 2) when yes is false and stdin
// is not a terminal: checked before the store is opened.
void require_yes_without_tty(const Context& ctx, bool yes, const std::string& action);

// Makes a count option (N) refuse anything but decimal digits at parse time
// (exit 2): "-1" would otherwise wrap to the largest unsigned value, and ""
// would read as 0.
CLI::Option* require_count_value(CLI::Option* option);

// --max-delete N of delete --owner and gc: nothing is removed when more than
// N records would go.
class MaxDeleteOption
{
public:
  // Adds --max-delete N to app, described by help.
  void add_to(CLI::App& app, const std::string& help);
  // Returns N when --max-delete was given (after parsing), else nullopt.
  std::optional<std::uint64_t> limit() const;
  // Throws CliError max_delete_exceeded (exit 4; extra "count" and
  // "max_delete") saying "refusing to <what>: more than --max-delete N",
  // with hint, when count exceeds the limit.
  void check(std::uint64_t count, const std::string& what, const std::string& hint) const;

private:
  std::uint64_t value_ = 0;
  CLI::Option* option_ = nullptr;
};

// --batch N of delete --owner and gc: this run removes at most N records
// (the rest are left for the next run), for jobs that must stay short.
class BatchOption
{
public:
  // Adds --batch N to app, described by help; N must be at least 1.
  void add_to(CLI::App& app, const std::string& help);
  // Returns N when --batch was given (after parsing), else nullopt.
  std::optional<std::uint64_t> limit() const;

private:
  std::uint64_t value_ = 0;
  CLI::Option* option_ = nullptr;
};

} // namespace taskctl
