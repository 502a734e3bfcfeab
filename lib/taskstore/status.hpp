#pragma once
// TaskStatus and pmcp-tasks' transition table (facts §1.2-1.3).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskstore {

enum class TaskStatus
{
  working,
  input_required,
  completed,
  failed,
  cancelled,
};

// "working", "input_required", "completed", "failed", "cancelled".
std::string_view to_string(TaskStatus status);
// Exact, case-sensitive; nullopt for anything else.
std::optional<TaskStatus> parse_task_status(std::string_view text);
bool is_terminal(TaskStatus status);
// The legal transition table of facts §1.3 (self-transitions are illegal).
bool can_transition(TaskStatus from, TaskStatus to);
// The statuses from may move to, in enum order (none from a terminal status).
std::vector<TaskStatus> legal_targets(TaskStatus from);
// Throws TaskError::invalid_transition with the anchor's suggested_action.
void validate_transition(const std::string& task_id, TaskStatus from, TaskStatus to);

} // namespace taskstore
