#include "context.hpp"

#include "taskstore/interrupt.hpp"

#include <csignal>
#include <cstdlib>
#include <initializer_list>
#include <utility>

#include <unistd.h>

namespace taskctl {

// --- formats and colour ------------------------------------------------------

namespace {

template <class T>
using Names = std::initializer_list<std::pair<std::string_view, T>>;

const Names<Format> k_formats = {
  {"json", Format::json}, {"jsonl", Format::jsonl}, {"table", Format::table}, {"raw", Format::raw}};
const Names<ColorMode> k_color_modes = {
  {"auto", ColorMode::auto_}, {"always", ColorMode::always}, {"never", ColorMode::never}};

// The value called name in names, nullopt when none is.
template <class T>
std::optional<T>
find_name(const Names<T>& names, std::string_view name)
{
  for (const auto& [text, value] : names) {
    if (text == name) {
      return value;
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<Format>
parse_format(std::string_view name)
{
  return find_name(k_formats, name);
}

std::optional<ColorMode>
parse_color_mode(std::string_view name)
{
  return find_name(k_color_modes, name);
}

Format
prescan_output(int argc, const char* const* argv)
{
  auto to_format = [](std::string_view v) {
    const auto format = parse_format(v);
    return format == Format::json || format == Format::jsonl ? *format : Format::unset;
  };
  Format found = Format::unset;
  if (const char* env = std::getenv("TASKCTL_OUTPUT"); env != nullptr) {
    found = to_format(env);
  }
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      break;
    }
    if ((arg == "-o" || arg == "--output") && i + 1 < argc) {
      found = to_format(argv[i + 1]);
    } else if (arg.rfind("--output=", 0) == 0) {
      found = to_format(arg.substr(9));
    } else if (arg.size() > 2 && arg.rfind("-o", 0) == 0) {
      found = to_format(arg.substr(2));
    }
  }
  return found;
}

bool
environment_allows_color()
{
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return (no_color == nullptr || *no_color == '\0') && !(term != nullptr && std::string_view(term) == "dumb");
}

// --- Context -----------------------------------------------------------------

void
Context::detect_terminal()
{
  set_terminal(::isatty(STDIN_FILENO) == 1, ::isatty(STDOUT_FILENO) == 1, ::isatty(STDERR_FILENO) == 1);
}

void
Context::set_terminal(bool in_tty, bool out_tty, bool err_tty)
{
  stdin_tty = in_tty;
  stdout_tty = out_tty;
  stderr_tty = err_tty;
  switch (global.color) {
  case ColorMode::always:
    color_stdout = color_stderr = true;
    break;
  case ColorMode::never:
    color_stdout = color_stderr = false;
    break;
  case ColorMode::auto_: {
    const bool env_allows = environment_allows_color();
    color_stdout = stdout_tty && env_allows;
    color_stderr = stderr_tty && env_allows;
    break;
  }
  }
}

void
Context::resolve_format(Format subcommand_default)
{
  format = global.output == Format::unset ? subcommand_default : global.output;
}

// --- SIGINT ------------------------------------------------------------------

namespace {

volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_finish_batch = 0; // a FinishBatchOnSignal lives
std::sig_atomic_t g_sigpipe_default = 1;        // SIGPIPE's action at start was SIG_DFL

extern "C" void
on_signal(int sig)
{
  if (g_signal != 0) {
    // Second signal: the user insists. Every write is one atomic backend
    // call, so stopping here leaves no half-written record.
    ::_exit(128 + sig);
  }
  g_signal = sig;
  // Wakes every network wait of the library (a Redis reply, a DynamoDB
  // request, a retry's backoff) at once: they poll its fd beside the socket.
  // Not while a removal batch must finish to be reported.
  if (g_finish_batch == 0) {
    taskstore::request_interrupt();
  }
}

} // namespace

void
install_signal_handlers()
{
  (void)taskstore::interrupt_fd(); // the self-pipe exists before the handler may need it
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0; // no SA_RESTART: a blocked read returns EINTR and sees the flag
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  struct sigaction before {};
  ::sigaction(SIGPIPE, &ignore, &before);
  g_sigpipe_default = before.sa_handler == SIG_DFL ? 1 : 0;
}

bool
sigpipe_was_default() noexcept
{
  return g_sigpipe_default != 0;
}

FinishBatchOnSignal::FinishBatchOnSignal()
{
  g_finish_batch = 1;
}

FinishBatchOnSignal::~FinishBatchOnSignal()
{
  g_finish_batch = 0;
  if (g_signal != 0) {
    taskstore::request_interrupt(); // what the handler left undone
  }
}

bool
interrupted() noexcept
{
  return g_signal != 0;
}

int
interrupt_exit_code() noexcept
{
  return g_signal == 0 ? exit_interrupted : 128 + static_cast<int>(g_signal);
}

void
check_interrupted()
{
  if (interrupted()) {
    throw Interrupted();
  }
}

} // namespace taskctl
