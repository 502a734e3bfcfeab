#include "values.hpp"

#include "input.hpp"

#include "taskstore/error.hpp"
#include "taskstore/json/parse.hpp"

#include <fmt/format.h>

namespace taskctl {

Json
read_json_value(const Context& ctx, const std::string& spec, const std::string& what, const std::string& hint)
{
  const bool from_file = !spec.empty() && spec.front() == '@';
  const std::string text = from_file ? read_input(ctx, spec.substr(1).empty() ? "-" : spec.substr(1)) : spec;
  try {
    return taskstore::parse_json(text, "JSON in " + what);
  } catch (const taskstore::InvalidArgument& e) {
    CliError error(exit_invalid, "invalid_json", fmt::format("{} is not one JSON value", what));
    error.causes.push_back(e.what());
    error.hint = !hint.empty() ? hint
                 : from_file ? "fix the file's JSON"
                             : "quote JSON for the shell, e.g. '{\"answer\":42}' or '\"text\"'; @FILE reads a file";
    error.extra["what"] = what;
    throw error;
  }
}

std::pair<std::string, std::string>
split_assignment(const std::string& assignment)
{
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    CliError error(exit_usage, "usage",
                   fmt::format("expected NAME=VALUE, got '{}'", assignment));
    error.hint = "e.g. `taskctl vars KEY set retries=3 --string note=hello`";
    throw error;
  }
  return {assignment.substr(0, eq), assignment.substr(eq + 1)};
}

} // namespace taskctl
