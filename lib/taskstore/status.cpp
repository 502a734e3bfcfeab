#include "taskstore/status.hpp"

#include "taskstore/error.hpp"

#include <string>

namespace taskstore {

// ---------------------------------------------------------------------------
// TaskStatus

std::string_view
to_string(TaskStatus status)
{
  switch (status) {
  case TaskStatus::working:
    return "working";
  case TaskStatus::input_required:
    return "input_required";
  case TaskStatus::completed:
    return "completed";
  case TaskStatus::failed:
    return "failed";
  case TaskStatus::cancelled:
    return "cancelled";
  }
  return "working"; // unreachable: every enumerator is handled above
}

std::optional<TaskStatus>
parse_task_status(std::string_view text)
{
  if (text == "working") {
    return TaskStatus::working;
  }
  if (text == "input_required") {
    return TaskStatus::input_required;
  }
  if (text == "completed") {
    return TaskStatus::completed;
  }
  if (text == "failed") {
    return TaskStatus::failed;
  }
  if (text == "cancelled") {
    return TaskStatus::cancelled;
  }
  return std::nullopt;
}

bool
is_terminal(TaskStatus status)
{
  return status == TaskStatus::completed || status == TaskStatus::failed ||
         status == TaskStatus::cancelled;
}

bool
can_transition(TaskStatus from, TaskStatus to)
{
  // Self-transitions first (facts §1.3), then: nothing leaves a terminal
  // state, and a non-terminal state may go anywhere else.
  if (from == to) {
    return false;
  }
  return !is_terminal(from);
}

std::vector<TaskStatus>
legal_targets(TaskStatus from)
{
  std::vector<TaskStatus> out;
  for (auto to : {TaskStatus::working, TaskStatus::input_required, TaskStatus::completed, TaskStatus::failed,
                  TaskStatus::cancelled}) {
    if (can_transition(from, to)) {
      out.push_back(to);
    }
  }
  return out;
}

void
validate_transition(const std::string& task_id, TaskStatus from, TaskStatus to)
{
  if (can_transition(from, to)) {
    return;
  }
  std::optional<std::string> suggested_action;
  if (is_terminal(from)) {
    suggested_action = "task is in a terminal state and cannot be transitioned";
  } else if (from == to) {
    suggested_action = "task is already in " + std::string(to_string(from)) + " state";
  }
  throw TaskError::invalid_transition(task_id, std::string(to_string(from)),
                                      std::string(to_string(to)), std::move(suggested_action));
}

} // namespace taskstore
