#include "input.hpp"

#include "context.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace taskctl {

// --- input -------------------------------------------------------------------

namespace {

CliError
io_error(const std::string& what, int err)
{
  return CliError(exit_failure, "io_error", fmt::format("cannot read {}: {}", what, std::strerror(err)));
}

} // namespace

std::string
read_input(const Context& ctx, const std::string& spec, std::size_t max_bytes)
{
  int fd = STDIN_FILENO;
  std::string name = "standard input";
  if (spec.empty()) {
    if (ctx.stdin_tty) {
      CliError error(exit_usage, "usage", "no input: standard input is a terminal");
      error.hint = "give a FILE argument, or - to read standard input, or pipe the record in";
      throw error;
    }
  } else if (spec != "-") {
    name = spec;
    fd = ::open(spec.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      throw io_error(name, errno);
    }
  }
  std::string data;
  char buffer[1 << 16];
  const auto close_input = [&] {
    if (fd != STDIN_FILENO) {
      ::close(fd);
    }
  };
  for (;;) {
    if (interrupted()) {
      close_input();
      throw Interrupted();
    }
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      data.append(buffer, static_cast<std::size_t>(n));
      if (data.size() > max_bytes) {
        close_input();
        CliError error(exit_invalid, "record_too_large",
                       fmt::format("{} is larger than the maximum record size of {} bytes "
                                   "(stopped reading after {} bytes)",
                                   name, max_bytes, data.size()));
        error.hint = "records this large are refused; --max-record-size N raises the limit";
        error.extra["max_record_size"] = max_bytes;
        throw error;
      }
      continue;
    }
    if (n == 0) {
      break;
    }
    const int err = errno;
    if (err == EINTR) {
      if (interrupted()) {
        if (fd != STDIN_FILENO) {
          ::close(fd);
        }
        throw Interrupted();
      }
      continue;
    }
    if (fd != STDIN_FILENO) {
      ::close(fd);
    }
    throw io_error(name, err);
  }
  if (fd != STDIN_FILENO) {
    ::close(fd);
  }
  check_interrupted();
  return data;
}

FdStreamBuf::int_type
FdStreamBuf::underflow()
{
  if (gptr() < egptr()) {
    return traits_type::to_int_type(*gptr());
  }
  for (;;) {
    if (interrupted()) {
      return traits_type::eof(); // for good: a later read would block again
    }
    const ssize_t n = ::read(fd_, buffer_, sizeof buffer_);
    if (n > 0) {
      setg(buffer_, buffer_, buffer_ + n);
      return traits_type::to_int_type(*gptr());
    }
    if (n == 0) {
      return traits_type::eof();
    }
    if (errno == EINTR) {
      if (interrupted()) {
        return traits_type::eof();
      }
      continue;
    }
    failed_ = true;
    errno_ = errno;
    return traits_type::eof();
  }
}

// --- confirmation ------------------------------------------------------------

void
require_yes_without_tty(const Context& ctx, bool yes, const std::string& action)
{
  if (yes || ctx.stdin_tty) {
    return;
  }
  CliError error(exit_usage, "confirmation_required",
                 fmt::format("refusing to {} without confirmation: standard input is not a terminal", action));
  error.hint = "pass --yes to go ahead, or --dry-run to see what would be done";
  throw error;
}

void
confirm(const Context& ctx, bool yes, const std::string& action, const std::string& question)
{
  if (yes) {
    return;
  }
  require_yes_without_tty(ctx, yes, action);
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    CliError error(exit_usage, "confirmation_required",
                   fmt::format("refusing to {} without confirmation: cannot open /dev/tty: {}", action,
                               std::strerror(errno)));
    error.hint = "pass --yes to go ahead, or --dry-run to see what would be done";
    throw error;
  }
  // Each line shown printable(): the question may quote an owner or a store's path.
  std::string prompt;
  for (std::size_t at = 0; at < question.size();) {
    const std::size_t end = std::min(question.find('\n', at), question.size());
    prompt += printable(std::string_view(question).substr(at, end - at));
    if (end < question.size()) {
      prompt += '\n';
    }
    at = end + 1;
  }
  prompt += !question.empty() && question.back() == '\n' ? "[y/N] " : " [y/N] ";
  [[maybe_unused]] const ssize_t written = ::write(fd, prompt.data(), prompt.size());
  std::string answer;
  char c = 0;
  for (;;) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n == 1) {
      if (c == '\n' || c == '\r') {
        break;
      }
      answer += c;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      if (interrupted()) {
        ::close(fd);
        throw Interrupted();
      }
      continue;
    }
    break; // EOF or error: treat as "no"
  }
  ::close(fd);
  if (!answer_is_yes(answer)) {
    throw CliError(exit_failure, "aborted", "aborted: nothing was changed");
  }
}

std::string
question_with_samples(const std::string& question, const std::vector<std::string>& samples, std::uint64_t count)
{
  std::string text = question + "\n";
  const std::size_t shown = std::min(samples.size(), k_prompt_samples);
  for (std::size_t i = 0; i < shown; ++i) {
    text += "  " + abbreviate_long_words(printable(samples[i]), 120) + "\n";
  }
  if (count > shown && shown > 0) {
    text += fmt::format("  … and {} more\n", count - shown);
  }
  return text;
}

bool
answer_is_yes(std::string answer)
{
  answer.erase(0, answer.find_first_not_of(" \t"));
  answer.erase(answer.find_last_not_of(" \t") + 1);
  std::transform(answer.begin(), answer.end(), answer.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return answer == "y" || answer == "yes";
}

// --- --max-delete --------------------------------------------------------------

void
MaxDeleteOption::add_to(CLI::App& app, const std::string& help)
{
  option_ = require_count_value(app.add_option("--max-delete", value_, help)->type_name("N"));
}

std::optional<std::uint64_t>
MaxDeleteOption::limit() const
{
  if (option_ == nullptr || option_->count() == 0) {
    return std::nullopt;
  }
  return value_;
}

void
MaxDeleteOption::check(std::uint64_t count, const std::string& what, const std::string& hint) const
{
  const auto max = limit();
  if (!max || count <= *max) {
    return;
  }
  CliError error(exit_conflict, "max_delete_exceeded",
                 fmt::format("refusing to {}: more than --max-delete {}", what, *max));
  error.extra["count"] = count;
  error.extra["max_delete"] = *max;
  error.hint = hint;
  throw error;
}

// --- --batch --------------------------------------------------------------------

void
BatchOption::add_to(CLI::App& app, const std::string& help)
{
  option_ = require_count_value(app.add_option("--batch", value_, help)->type_name("N"))
              ->check([](const std::string& value) {
                return value.find_first_not_of('0') == std::string::npos ? std::string("--batch must be at least 1")
                                                                          : std::string();
              });
}

std::optional<std::uint64_t>
BatchOption::limit() const
{
  if (option_ == nullptr || option_->count() == 0) {
    return std::nullopt;
  }
  return value_;
}

CLI::Option*
require_count_value(CLI::Option* option)
{
  return option->check(
    [](const std::string& value) {
      const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
      if (!digits) {
        return "\"" + value + "\" is not a count: give a non-negative whole number";
      }
      // Within u64: CLI11 would clamp 18446744073709551616 to the largest value.
      std::uint64_t parsed = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (ec != std::errc{} || end != value.data() + value.size()) {
        return "\"" + value + "\" is too large: the largest count is 18446744073709551615";
      }
      return std::string();
    },
    "");
}

} // namespace taskctl
