#include "taskstore/error.hpp"
#include "taskstore/status.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>

using namespace taskstore;

namespace {

const std::array<TaskStatus, 5> k_all = {TaskStatus::working, TaskStatus::input_required,
                                         TaskStatus::completed, TaskStatus::failed,
                                         TaskStatus::cancelled};

} // namespace

TEST_CASE("to_string(TaskStatus) and parse_task_status")
{
  CHECK(to_string(TaskStatus::working) == "working");
  CHECK(to_string(TaskStatus::input_required) == "input_required");
  CHECK(to_string(TaskStatus::completed) == "completed");
  CHECK(to_string(TaskStatus::failed) == "failed");
  CHECK(to_string(TaskStatus::cancelled) == "cancelled");
  for (const auto s : k_all) {
    CHECK(parse_task_status(to_string(s)) == s);
  }
  for (const char* bad : {"Working", "WORKING", "inputRequired", "input-required", "canceled", "", " working", "done"}) {
    INFO(bad);
    CHECK_FALSE(parse_task_status(bad));
  }
}

TEST_CASE("is_terminal")
{
  CHECK_FALSE(is_terminal(TaskStatus::working));
  CHECK_FALSE(is_terminal(TaskStatus::input_required));
  CHECK(is_terminal(TaskStatus::completed));
  CHECK(is_terminal(TaskStatus::failed));
  CHECK(is_terminal(TaskStatus::cancelled));
}

TEST_CASE("can_transition: the 25-cell table of facts §1.3")
{
  // Rows: from; columns: to (working, input_required, completed, failed, cancelled).
  const bool table[5][5] = {
    {false, true, true, true, true},
    {true, false, true, true, true},
    {false, false, false, false, false},
    {false, false, false, false, false},
    {false, false, false, false, false},
  };
  int allowed = 0;
  for (std::size_t f = 0; f < 5; ++f) {
    for (std::size_t t = 0; t < 5; ++t) {
      INFO(to_string(k_all[f]) << " -> " << to_string(k_all[t]));
      CHECK(can_transition(k_all[f], k_all[t]) == table[f][t]);
      allowed += table[f][t] ? 1 : 0;
    }
  }
  CHECK(allowed == 8);
}

TEST_CASE("validate_transition")
{
  for (const auto from : k_all) {
    for (const auto to : k_all) {
      INFO(to_string(from) << " -> " << to_string(to));
      if (can_transition(from, to)) {
        CHECK_NOTHROW(validate_transition("t1", from, to));
        continue;
      }
      try {
        validate_transition("t1", from, to);
        FAIL("no exception");
      } catch (const TaskError& e) {
        CHECK(e.kind() == TaskErrorKind::invalid_transition);
        CHECK(e.task_id() == "t1");
        CHECK(e.error_code() == -32602);
        CHECK(std::string(e.what()) == "invalid transition from " + std::string(to_string(from)) + " to " +
                                         std::string(to_string(to)) + " for task t1");
        REQUIRE(e.suggested_action());
        if (is_terminal(from)) {
          CHECK(*e.suggested_action() == "task is in a terminal state and cannot be transitioned");
        } else {
          CHECK(*e.suggested_action() == "task is already in " + std::string(to_string(from)) + " state");
        }
      }
    }
  }
}

