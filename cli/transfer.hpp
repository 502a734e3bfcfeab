#pragma once
// What import and copy share: writing records into a store in the batches
// it is fast at (put_batch), the per-record outcomes (jsonl / json results),
// the counts, the summary and the exit status.

#include "context.hpp"
#include "output.hpp"

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace taskstore {
class StorageBackend;
struct BatchResult;
}

namespace taskctl {

// Lines of a file, or of stdin for "-", plain or gzip-compressed (zlib
// reads both, whatever the name). Throws CliError (exit 7) when the file
// cannot be opened, exit 1 for a read error (a corrupt gzip stream).
class LineReader
{
public:
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  // The next line, without its line break (and a '\r' before it); false at
  // the end. A line longer than max_bytes is not kept: too_long is set and
  // line holds its first max_bytes bytes only.
  bool next(std::string& line, bool& too_long, std::size_t max_bytes);
  std::uint64_t line_number() const { return number_; }

private:
  void* file_ = nullptr; // gzFile
  std::string path_;
  std::vector<char> buffer_;
  std::size_t pos_ = 0, len_ = 0; // the unread bytes of buffer_
  std::uint64_t number_ = 0;
};

// Where export writes: stdout for "-", else the file, gzip-compressed when
// its name ends in ".gz" (created 0600: records may hold secrets). Throws
// CliError for a file that cannot be created or written.
class OutputFile
{
public:
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  void write(std::string_view text);
  // Flushes and closes (the gzip trailer is written here); throws on error.
  void close();

private:
  std::string path_;
  void* gz_ = nullptr;   // gzFile
  std::FILE* plain_ = nullptr;
};

// What a write does to a key that exists.
enum class OnExisting
{
  refuse,    // default: nothing written, the record reported "exists", exit 4
  skip,      // --if-absent: nothing written, reported "skipped"
  overwrite, // --overwrite: written (the target's version + 1)
};

// Adds --if-absent and --overwrite (exclusive) to app.
void add_existing_options(CLI::App* app, bool& if_absent, bool& overwrite);
OnExisting on_existing(bool if_absent, bool overwrite);

// Writes records into a store in batches, reporting each outcome in order:
// "created", "overwritten", "skipped", "exists", "invalid" (the line or the
// record failed a check: nothing written), "failed" (the store refused it),
// or on a dry run "would_write".
class Loader
{
public:
  // what: "import" or "copy" (for the summary and the progress line).
  Loader(Context& ctx, taskstore::StorageBackend& target, OnExisting mode, bool dry_run, std::string what);
  ~Loader();

  // Queues a record (line: its line number in the input, 0 for none).
  void add(std::string key, std::string data, std::uint64_t line);
  // Reports a record (or line) that is not written: status "invalid".
  void reject(std::uint64_t line, const std::string& key, const std::string& error);
  // Sends what is queued as one batch (after settling the batch before it).
  // A batch is written on another thread while the caller reads and checks
  // the next one; its outcomes are reported, in order, when it is settled.
  void flush();
  // Counts a record read but not offered (copy: an expired record left out).
  void left_out() { ++left_out_; }
  // Flushes, then prints the summary ({"summary":{…}} in jsonl, the json
  // document's tail, else a sentence on stderr). Returns the exit status:
  // 130/143 when interrupted, else 6 when a line was invalid, 4 when a key
  // existed (refuse), 1 when the store refused a write, 0 otherwise.
  int finish(bool interrupted);

  std::uint64_t read() const { return read_; }
  std::uint64_t written() const { return created_ + overwritten_; }

private:
  struct Pending
  {
    std::string key;
    std::string data;
    std::uint64_t line = 0;
  };
  void report(std::uint64_t line, const std::string& key, const char* status, std::uint64_t version,
              const std::string& error = {});
  // Waits for the batch being written, then reports its outcomes.
  void settle();
  struct InFlight
  {
    std::vector<Pending> records;
    std::future<std::vector<taskstore::BatchResult>> results;
  };

  Context& ctx_;
  taskstore::StorageBackend& target_;
  OnExisting mode_;
  bool dry_run_;
  std::string what_;
  std::size_t batch_records_;
  std::size_t batch_bytes_;
  std::size_t pending_bytes_ = 0;
  std::vector<Pending> pending_;
  std::unique_ptr<InFlight> in_flight_;
  std::optional<FinishBatchOnSignal> finish_batch_;
  std::optional<JsonStreamWriter> json_;
  Progress progress_;
  std::chrono::steady_clock::time_point started_;
  std::uint64_t read_ = 0, created_ = 0, overwritten_ = 0, skipped_ = 0, existed_ = 0, invalid_ = 0, failed_ = 0,
                would_ = 0, left_out_ = 0, warned_ = 0;
};

} // namespace taskctl
