// End-to-end tests of taskctl on terminals and signals against temporary
// SQLite stores ([sqlite-cli]): colour, Ctrl-C and --quiet.

#include "cli_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include <unistd.h>

using namespace clitest;

TEST_CASE("colour: only on a terminal, never with NO_COLOR or --color never", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1", "failed"));
  RunOptions tty;
  tty.tty_stdout = true;
  auto r = store.run({"ls"}, tty); // a terminal: table by default, in colour
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.tty, "KEY"));
  CHECK(contains(r.tty, "\033["));

  RunOptions no_color = tty;
  no_color.env["NO_COLOR"] = "1";
  r = store.run({"ls"}, no_color);
  CHECK(contains(r.tty, "alice:t1"));
  CHECK_FALSE(contains(r.tty, "\033["));

  r = store.run({"--color", "never", "ls"}, tty);
  CHECK(contains(r.tty, "alice:t1"));
  CHECK_FALSE(contains(r.tty, "\033["));

  r = store.run({"--color", "always", "ls", "-o", "table"});
  CHECK(contains(r.out, "\033["));
  r = store.run({"ls", "-o", "table"});
  CHECK_FALSE(contains(r.out, "\033["));

  // json is pretty on a terminal, compact otherwise.
  r = store.run({"get", "alice:t1"}, tty);
  CHECK(contains(r.tty, "\n  \"key\": \"alice:t1\""));
  r = store.run({"get", "alice:t1"});
  CHECK(r.out.find('\n') == r.out.size() - 1);
}

TEST_CASE("Ctrl-C exits 130 and leaves nothing half-written", "[sqlite-cli]")
{
  auto interrupt_after = [](int ms) {
    return [ms](pid_t pid) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      ::kill(pid, SIGINT);
    };
  };
  RunOptions slow;
  slow.keep_stdin_open = true;
  slow.input = "{\"a\": [1, 2, ";
  slow.on_start = interrupt_after(300);
  auto r = taskctl({"validate", "-"}, slow);
  INFO(describe(r));
  CHECK(r.exit_code == 130);
  CHECK(r.term_signal == 0); // taskctl handled it and exited 130 itself
  CHECK(contains(r.err, "interrupted"));
  CHECK_FALSE(r.timed_out);

  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  const auto before = snapshot(store.lib());
  RunOptions put = slow;
  put.input = record_json("alice", "t1", "completed").substr(0, 40);
  r = store.run({"put", "alice:t1", "-"}, put);
  INFO(describe(r));
  CHECK(r.exit_code == 130);
  CHECK(r.term_signal == 0);
  CHECK(snapshot(store.lib()) == before);

  r = store.run({"-o", "json", "put", "alice:t1", "-"}, put);
  CHECK(r.exit_code == 130);
  CHECK(parse_json(r.err)["error"]["code"] == "interrupted");
}

TEST_CASE("--quiet silences summaries and warnings, not data or errors", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  auto r = store.run({"-q", "validate", "--stored"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  r = store.run({"-q", "get", "alice:nope"});
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err, "key not found"));
}

TEST_CASE("a table on a terminal goes through the pager; --no-pager, PAGER=cat and a pipe do not", "[sqlite-cli]")
{
  SqliteStore store;
  store.seed("alice:t1", record_json("alice", "t1"));
  const std::string paged = store.dir.file("paged.txt");
  RunOptions tty;
  tty.tty_stdout = true;
  tty.env["TASKCTL_PAGER"] = "cat > '" + paged + "'";
  auto r = store.run({"ls"}, tty);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK_FALSE(contains(r.tty, "alice:t1")); // the pager had it
  CHECK(contains(read_file(paged), "alice:t1"));
  CHECK(contains(read_file(paged), "LAST UPDATED"));

  write_file(paged, "");
  r = store.run({"ls", "--no-pager"}, tty);
  CHECK(contains(r.tty, "alice:t1"));
  CHECK(read_file(paged).empty());

  RunOptions cat = tty;
  cat.env["TASKCTL_PAGER"] = "cat";
  r = store.run({"ls"}, cat);
  CHECK(contains(r.tty, "alice:t1"));

  RunOptions piped;
  piped.env["TASKCTL_PAGER"] = "cat > '" + paged + "'";
  r = store.run({"ls", "-o", "table"}, piped);
  CHECK(contains(r.out, "alice:t1"));
  CHECK(read_file(paged).empty());
}
