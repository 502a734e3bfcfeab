#include "damage.hpp"

#include "output.hpp"

#include "taskstore/backend.hpp"

#include <fmt/format.h>

namespace taskctl {

Json
damaged_json(const taskstore::DamagedRecord& record)
{
  return Json{{"key", record.key}, {"damaged", record.reason}};
}

void
warn_damaged(const Context& ctx, const taskstore::DamagedRecord& record, std::string_view fate)
{
  warn(ctx, fmt::format("damaged record {}: {}{}{}", record.key, record.reason, fate.empty() ? "" : "; ", fate));
}

int
damaged_exit(const Context& ctx, std::uint64_t count)
{
  if (count == 0) {
    return exit_ok;
  }
  warn(ctx, fmt::format("{} damaged record{} (a version or data that cannot be read); inspect with "
                        "`taskctl get KEY`, remove with `taskctl delete KEY` or `taskctl gc --include-damaged`",
                        count, count == 1 ? "" : "s"));
  return exit_invalid;
}

} // namespace taskctl
