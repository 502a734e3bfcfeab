#include "subprocess.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char** environ;

namespace clitest {

namespace {

std::vector<std::string>
child_environment(const RunOptions& options)
{
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    std::string name = entry.substr(0, eq);
    if (name.rfind("TASKCTL_", 0) == 0 || name == "NO_COLOR" || name == "XDG_DATA_HOME") {
      continue;
    }
    env[name] = entry.substr(eq + 1);
  }
  // A table on a terminal goes through $PAGER: none unless a test asks
  // (TASKCTL_PAGER), so no test waits on less.
  env["PAGER"] = "cat";
  for (const auto& [name, value] : options.env) {
    if (value) {
      env[name] = *value;
    } else {
      env.erase(name);
    }
  }
  std::vector<std::string> out;
  for (const auto& [name, value] : env) {
    out.push_back(name + "=" + value);
  }
  return out;
}

void
set_nonblocking(int fd)
{
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

} // namespace

RunResult
run(const std::string& path, const std::vector<std::string>& args, const RunOptions& options)
{
  // A child that exits before reading all its input must not kill the test.
  ::signal(SIGPIPE, SIG_IGN);
  const bool any_tty = options.tty_stdin || options.tty_stdout || options.tty_stderr;
  int in_pipe[2] = {-1, -1};
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int master = -1;
  int slave = -1;
  if (any_tty) {
    struct winsize ws {};
    ws.ws_row = 40;
    ws.ws_col = options.tty_columns;
    if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0) {
      throw std::runtime_error(std::string("openpty: ") + std::strerror(errno));
    }
  }
  if ((!options.tty_stdin && ::pipe2(in_pipe, O_CLOEXEC) != 0) ||
      (!options.tty_stdout && ::pipe2(out_pipe, O_CLOEXEC) != 0) ||
      (!options.tty_stderr && ::pipe2(err_pipe, O_CLOEXEC) != 0)) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }

  std::vector<std::string> argv_storage;
  argv_storage.push_back(path);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = child_environment(options);
  std::vector<char*> envp;
  for (auto& e : env_storage) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);

  // The child's ru_maxrss counts the pages it shares with this process between
  // fork and execve. Give memory the test freed back to the system first, so
  // max_rss_kb measures taskctl, not what the test built and dropped.
  ::malloc_trim(0);
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    if (any_tty) {
      ::setsid();
      ::ioctl(slave, TIOCSCTTY, 0);
    }
    ::dup2(options.tty_stdin ? slave : in_pipe[0], STDIN_FILENO);
    ::dup2(options.tty_stdout ? slave : out_pipe[1], STDOUT_FILENO);
    ::dup2(options.tty_stderr ? slave : err_pipe[1], STDERR_FILENO);
    if (any_tty) {
      ::close(slave);
      ::close(master);
    }
    // Default signal dispositions for the child.
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }

  if (any_tty) {
    ::close(slave);
  }
  int in_fd = -1;
  int out_fd = -1;
  int err_fd = -1;
  if (!options.tty_stdin) {
    ::close(in_pipe[0]);
    in_fd = in_pipe[1];
  }
  if (!options.tty_stdout) {
    ::close(out_pipe[1]);
    out_fd = out_pipe[0];
  }
  if (!options.tty_stderr) {
    ::close(err_pipe[1]);
    err_fd = err_pipe[0];
  }

  RunResult result;
  bool started = !options.on_start;

  // Terminal input first (the pty buffers it), then the pipes.
  std::string pending_stdin = options.tty_stdin ? std::string() : options.input;
  std::size_t stdin_written = 0;
  if (master >= 0) {
    set_nonblocking(master);
    if (!options.tty_input.empty()) {
      [[maybe_unused]] const auto n = ::write(master, options.tty_input.data(), options.tty_input.size());
    }
  }
  if (in_fd >= 0) {
    set_nonblocking(in_fd);
    if (pending_stdin.empty() && !options.keep_stdin_open) {
      ::close(in_fd);
      in_fd = -1;
    }
  }
  if (out_fd >= 0) {
    set_nonblocking(out_fd);
  }
  if (err_fd >= 0) {
    set_nonblocking(err_fd);
  }

  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  int status = 0;
  bool exited = false;
  struct rusage usage {};
  char buffer[65536];
  auto drain_master = [&] {
    if (master < 0) {
      return;
    }
    ssize_t n;
    while ((n = ::read(master, buffer, sizeof buffer)) > 0) {
      result.tty.append(buffer, static_cast<std::size_t>(n));
    }
  };
  for (;;) {
    if (!started && (in_fd < 0 || stdin_written >= pending_stdin.size())) {
      // The input is in the pipe: now let the test act on the running child.
      started = true;
      options.on_start(pid);
    }
    if (!exited && ::wait4(pid, &status, WNOHANG, &usage) == pid) {
      exited = true;
    }
    if (exited && out_fd < 0 && err_fd < 0) {
      drain_master();
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      result.timed_out = true;
      if (!exited) {
        ::wait4(pid, &status, 0, &usage);
        exited = true;
      }
      break;
    }
    std::vector<pollfd> fds;
    for (int fd : {out_fd, err_fd, master}) {
      if (fd >= 0) {
        fds.push_back({fd, POLLIN, 0});
      }
    }
    if (in_fd >= 0 && stdin_written < pending_stdin.size()) {
      fds.push_back({in_fd, POLLOUT, 0});
    }
    if (::poll(fds.data(), fds.size(), 20) <= 0) {
      continue;
    }
    for (const auto& p : fds) {
      if (p.revents == 0) {
        continue;
      }
      if (p.fd == in_fd) {
        const ssize_t n = ::write(in_fd, pending_stdin.data() + stdin_written, pending_stdin.size() - stdin_written);
        if (n > 0) {
          stdin_written += static_cast<std::size_t>(n);
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          stdin_written = pending_stdin.size(); // EPIPE: the child stopped reading
        }
        if (stdin_written >= pending_stdin.size() && !options.keep_stdin_open) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      const ssize_t n = ::read(p.fd, buffer, sizeof buffer);
      if (n > 0) {
        std::string& sink = p.fd == out_fd ? result.out : p.fd == err_fd ? result.err : result.tty;
        sink.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        // EOF on a pipe, EIO on a terminal whose other side is gone.
        if (p.fd == out_fd) {
          ::close(out_fd);
          out_fd = -1;
        } else if (p.fd == err_fd) {
          ::close(err_fd);
          err_fd = -1;
        } else {
          ::close(master);
          master = -1;
        }
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd, master}) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
    result.term_signal = WTERMSIG(status);
  }
  result.max_rss_kb = usage.ru_maxrss;
  return result;
}

} // namespace clitest
