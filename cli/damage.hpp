#pragma once
// Damaged records (a version or data the backend cannot read): one rule for
// every listing command. Each is reported with its key and the reason (a
// warning on stderr, or a {"key","damaged"} line / item in jsonl / json), the
// walk goes on, and the exit status is exit_invalid (6) when any was met and
// left in place.

#include "context.hpp"

#include <cstdint>
#include <string_view>

namespace taskstore {
struct DamagedRecord;
}

namespace taskctl {

// {"key": KEY, "damaged": REASON}.
Json damaged_json(const taskstore::DamagedRecord& record);

// "taskctl: warning: damaged record KEY: REASON[; FATE]" (unless --quiet).
void warn_damaged(const Context& ctx, const taskstore::DamagedRecord& record, std::string_view fate = {});

// After a walk that met count damaged records left in place: a summary
// warning naming how to deal with them, and exit_invalid; exit_ok when none.
int damaged_exit(const Context& ctx, std::uint64_t count);

} // namespace taskctl
