// Fuzz target: the record parser (parse_json, parse_record, record_from_json),
// the one write path (prepare_record) and the DOM-free listing reader
// (summarize_record, record_document) on arbitrary bytes.
//
// Properties (abort on violation):
//  - only taskstore's error types leave the library, and prepare_record and
//    summarize_record never throw for bad bytes;
//  - a record parse_record accepts is written (serialize_record) as bytes that
//    parse again to the same bytes (the canonical form is a fixed point);
//  - a record prepare_record accepts is readable by parse_record, and preparing
//    its canonical bytes again under the same key is accepted unchanged;
//  - summarize_record, which reads without a tree, finds the owner, task id,
//    status and expiry that the tree parse found.

#include "fuzz_support.hpp"

#include "taskstore/error.hpp"
#include "taskstore/json/parse.hpp"
#include "taskstore/json/serde.hpp"
#include "taskstore/key.hpp"
#include "taskstore/prepare.hpp"
#include "taskstore/record.hpp"
#include "taskstore/summary.hpp"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

using taskctl_fuzz::check;
using taskctl_fuzz::fail;

namespace {

// Runs f; a taskstore InvalidArgument is an accepted refusal (returns false),
// anything else escaping is a finding.
template <typename F>
bool
refused_or_ok(F&& f, std::string_view what)
{
  try {
    f();
    return true;
  } catch (const taskstore::InvalidArgument&) {
    return false;
  } catch (const std::exception& e) {
    fail(what, std::string("unexpected exception: ") + e.what());
  }
}

void
check_summary(std::string_view bytes, const taskstore::TaskRecord& r, std::string_view what)
{
  const taskstore::RecordSummary s = taskstore::summarize_record(bytes);
  check(s.json, what, "summarize_record: not a JSON object");
  check(s.owner_id && *s.owner_id == r.owner_id, what, "summarize_record: ownerId differs from the tree's");
  check(s.task_id && *s.task_id == r.task.task_id, what, "summarize_record: task.taskId differs from the tree's");
  check(s.status && *s.status == taskstore::to_string(r.task.status), what,
        "summarize_record: task.status differs from the tree's");
  check(s.request_method && *s.request_method == r.request_method, what,
        "summarize_record: requestMethod differs from the tree's");
  check(s.expires == r.expires_at, what, "summarize_record: expiresAt differs from the tree's");
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // The tree parser: a value it reads is written and read back to the same bytes.
  std::optional<taskstore::Json> tree;
  refused_or_ok([&] { tree = taskstore::parse_json(bytes); }, "parse_json");
  if (tree) {
    const std::string once = taskstore::to_serde_json(*tree);
    taskstore::Json again;
    check(refused_or_ok([&] { again = taskstore::parse_json(once); }, "parse_json of its own output"),
          "parse_json refuses what to_serde_json wrote", once);
    check(taskstore::to_serde_json(again) == once, "to_serde_json(parse_json(x)) is not a fixed point", once);
  }

  // The record parser.
  std::optional<taskstore::TaskRecord> record;
  refused_or_ok([&] { record = taskstore::parse_record(bytes); }, "parse_record");
  std::string key = "o:t";
  if (record) {
    const std::string canonical = taskstore::serialize_record(*record);
    std::optional<taskstore::TaskRecord> reread;
    check(refused_or_ok([&] { reread = taskstore::parse_record(canonical); }, "parse_record of serialize_record"),
          "parse_record refuses what serialize_record wrote", canonical);
    check(taskstore::serialize_record(*reread) == canonical, "serialize_record is not a fixed point", canonical);
    check_summary(bytes, *record, "summary of the input");
    check_summary(canonical, *record, "summary of the canonical bytes");
    if (!record->owner_id.empty() && !record->task.task_id.empty() &&
        record->owner_id.find(':') == std::string::npos) {
      key = record->owner_id + ":" + record->task.task_id;
    }
  }

  // The DOM-free readers never throw.
  try {
    (void)taskstore::summarize_record(bytes);
    (void)taskstore::record_document(bytes);
  } catch (const std::exception& e) {
    fail("summarize_record/record_document threw", e.what());
  }

  // The write path.
  const taskstore::StoreConfig limits;
  taskstore::PreparedRecord prepared;
  try {
    prepared = taskstore::prepare_record(key, bytes, limits);
  } catch (const std::exception& e) {
    fail("prepare_record threw", e.what());
  }
  check(prepared.ok() == prepared.record.has_value(), "prepare_record: ok() without a record, or a record not ok");
  check(prepared.violations.size() <= prepared.total_violations, "prepare_record: more violations than counted");
  if (prepared.ok()) {
    check(!prepared.bytes.empty(), "prepare_record: ok with no bytes");
    check(record.has_value(), "prepare_record accepts what parse_record refuses");
    std::optional<taskstore::TaskRecord> stored;
    check(refused_or_ok([&] { stored = taskstore::parse_record(prepared.bytes); }, "parse_record of prepared bytes"),
          "parse_record refuses prepared bytes", prepared.bytes);
    check(taskstore::serialize_record(*stored) == prepared.bytes, "prepared bytes are not canonical", prepared.bytes);
    taskstore::PreparedRecord twice;
    try {
      twice = taskstore::prepare_record(key, prepared.bytes, limits);
    } catch (const std::exception& e) {
      fail("prepare_record threw on its own output", e.what());
    }
    check(twice.ok(), "prepare_record refuses its own output", prepared.bytes);
    check(twice.bytes == prepared.bytes, "prepare_record is not a fixed point", prepared.bytes);
    check_summary(prepared.bytes, *stored, "summary of the prepared bytes");
  }
  return 0;
}
