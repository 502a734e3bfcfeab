#pragma once
// JSON values given on the command line: --result JSON|@FILE, and the
// NAME=JSON / NAME=TEXT assignments of `vars set`.

#include "context.hpp" // Json

#include <string>
#include <utility>

namespace taskctl {

// Returns the JSON value spec names: "@FILE" reads the file, "@-" stdin,
// anything else is the JSON text itself. Throws CliError invalid_json
// (exit 6) naming what (e.g. "--result") and the parse position when it is
// not one JSON value, with hint as its hint (a default when empty);
// CliError io_error (exit 1) when the file cannot be read.
Json read_json_value(const Context& ctx, const std::string& spec, const std::string& what,
                     const std::string& hint = {});

// Splits "NAME=VALUE" at the first '='. Throws CliError usage (exit 2) when
// there is no '=' or NAME is empty.
std::pair<std::string, std::string> split_assignment(const std::string& assignment);

} // namespace taskctl
