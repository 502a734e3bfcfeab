#pragma once
// The network fault scenarios, run against a server of the test's own
// (net_redis_test.cpp, net_dynamodb_test.cpp): the server is paused (SIGSTOP)
// before or in the middle of a taskctl command, and the command must end with
// the documented exit within its timeout (or at once on SIGINT/SIGTERM), the
// store intact afterwards.

#include "net_support.hpp"

#include "taskstore/backend.hpp"

#include <functional>
#include <memory>
#include <string>

namespace faults {

// A store on a server the test controls.
struct Target
{
  std::string uri;
  std::function<void()> pause;
  std::function<void()> resume;
  std::unique_ptr<taskstore::StorageBackend> lib; // to seed and inspect
  std::string timeout_text; // what the exit-5 message says about the timeout ("within 2000 ms")
  // The records of a listing: enough that the walk still needs the server
  // once taskctl blocks on its full stdout (Redis fetches 1000 per round
  // trip; DynamoDB pages of 1 MB, one prefetched).
  int ls_records = 3000;
  std::size_t ls_filler = 600;
};

// Stores count records owner:t0.. (expired ones when expired), each carrying
// a variable of filler bytes; several writers at once.
void seed(taskstore::StorageBackend& store, const std::string& owner, int count, bool expired,
          std::size_t filler = 0);

// get and put on a paused server with --timeout 2s: exit 5 within the timeout
// (a watchdog of timeout + 5 s), the message naming the timeout; afterwards
// the record is intact (the put: either intact or exactly the new record: a
// request that was sent may still run when the server resumes).
void paused_get_put(Target& t);

// ls over a few thousand records, the server paused mid-walk: exit 5, records intact.
void paused_mid_ls(Target& t);

// gc --yes / delete --owner --yes, the server paused mid-operation: exit 5;
// every record reported removed is gone, only records in scope are gone,
// every other record is intact; at most one batch in flight is gone unreported.
void paused_mid_gc(Target& t);
void paused_mid_delete_owner(Target& t);

// SIGINT and SIGTERM sent to taskctl while it waits on the paused server
// (--timeout 30s): exit 130 / 143 within a few seconds, records intact.
void signal_while_waiting(Target& t, int signal);

} // namespace faults
