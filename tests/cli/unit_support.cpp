#include "unit_support.hpp"

#include "output.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <thread>

#include <unistd.h>

namespace clitest {

namespace {

// Puts file descriptor fd back to what saved duplicates, when destroyed.
struct Restore
{
  int fd;
  int saved;
  ~Restore()
  {
    std::fflush(stdout);
    std::fflush(stderr);
    ::dup2(saved, fd);
    ::close(saved);
  }
};

} // namespace

std::string
captured(int fd, const std::function<void()>& f)
{
  std::fflush(stdout);
  std::fflush(stderr);
  FILE* file = std::tmpfile();
  if (file == nullptr) {
    throw std::runtime_error("tmpfile failed");
  }
  {
    Restore restore{fd, ::dup(fd)};
    ::dup2(::fileno(file), fd);
    f();
    taskctl::flush_stdout_quietly(); // taskctl's own stdout buffer, into the file
  }
  std::string text;
  std::rewind(file);
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
    text.append(buffer, n);
  }
  std::fclose(file);
  return text;
}

void
with_stdin(const std::string& data, const std::function<void()>& f)
{
  std::signal(SIGPIPE, SIG_IGN); // a write to the closed pipe fails instead
  int fds[2];
  if (::pipe(fds) != 0) {
    throw std::runtime_error("pipe failed");
  }
  // A writer thread: data may be larger than the pipe's buffer.
  std::thread writer([&data, out = fds[1]] {
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(out, data.data() + done, data.size() - done);
      if (n <= 0) {
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    ::close(out);
  });
  std::exception_ptr failure;
  {
    Restore restore{STDIN_FILENO, ::dup(STDIN_FILENO)};
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
    try {
      f();
    } catch (...) {
      failure = std::current_exception();
    }
  }
  // The read end is closed now: a writer f did not drain gets EPIPE and ends.
  writer.join();
  if (failure) {
    std::rethrow_exception(failure);
  }
}

std::optional<taskctl::CliError>
cli_error(const std::function<void()>& f)
{
  try {
    f();
  } catch (const taskctl::CliError& e) {
    return e;
  }
  return std::nullopt;
}

} // namespace clitest
