#include "transfer.hpp"

#include "errors.hpp"

#include "taskstore/backend.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <algorithm>
#include <cmath>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace taskctl {

namespace {

// Records and bytes per put_batch: what each backend writes fast in one go.
// SQLite: one transaction, each page a batch touches written once at its
// commit, so big batches (a SCAN's keys land all over the tree: 4,000 per
// commit rewrote most of it each time); Redis: one pipeline (sent in
// chunks); DynamoDB: 16 requests in flight.
struct BatchSize
{
  std::size_t records;
  std::size_t bytes;
};

BatchSize
batch_size_for(std::string_view backend)
{
  if (backend == "sqlite") {
    return {16000, 16u << 20};
  }
  if (backend == "dynamodb") {
    return {256, 8u << 20};
  }
  return {1000, 8u << 20};
}

// Problems warned about one by one in a human-readable run; the rest are counted.
constexpr std::uint64_t k_warnings_shown = 20;

} // namespace

// ------------------------------------------------------------- files

LineReader::LineReader(const std::string& path) : path_(path), buffer_(256 << 10)
{
  if (path == "-") {
    const int fd = ::dup(STDIN_FILENO);
    file_ = fd < 0 ? nullptr : gzdopen(fd, "rb");
  } else {
    file_ = gzopen(path.c_str(), "rb");
  }
  if (file_ == nullptr) {
    throw CliError(exit_config, "config",
                   fmt::format("cannot open {}: {}", path == "-" ? "standard input" : printable(path),
                               std::strerror(errno)));
  }
  gzbuffer(static_cast<gzFile>(file_), 256 << 10);
}

LineReader::~LineReader()
{
  if (file_ != nullptr) {
    gzclose(static_cast<gzFile>(file_));
  }
}

bool
LineReader::next(std::string& line, bool& too_long, std::size_t max_bytes)
{
  line.clear();
  too_long = false;
  auto* f = static_cast<gzFile>(file_);
  bool any = false;
  for (;;) {
    if (pos_ == len_) {
      const int n = gzread(f, buffer_.data(), static_cast<unsigned>(buffer_.size()));
      if (n < 0) {
        int code = Z_OK;
        const char* message = gzerror(f, &code);
        throw CliError(exit_failure, "io_error",
                       fmt::format("cannot read {} (line {}): {}", path_ == "-" ? "standard input" : printable(path_),
                                   number_ + 1, code == Z_ERRNO ? std::strerror(errno) : message));
      }
      pos_ = 0;
      len_ = static_cast<std::size_t>(n);
      if (len_ == 0) {
        break; // the end (a last line without a line break included)
      }
    }
    any = true;
    const char* start = buffer_.data() + pos_;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', len_ - pos_));
    const std::size_t take = newline != nullptr ? static_cast<std::size_t>(newline - start) : len_ - pos_;
    if (!too_long) {
      line.append(start, std::min(take, max_bytes + 1 - std::min(line.size(), max_bytes + 1)));
      if (line.size() > max_bytes) {
        too_long = true;
        line.resize(max_bytes);
      }
    }
    pos_ += take + (newline != nullptr ? 1 : 0);
    if (newline != nullptr) {
      break;
    }
  }
  if (!any) {
    return false;
  }
  if (!too_long && !line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  ++number_;
  return true;
}

OutputFile::OutputFile(const std::string& path) : path_(path)
{
  if (path == "-") {
    return;
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw CliError(exit_config, "config", fmt::format("cannot create {}: {}", printable(path), std::strerror(errno)));
  }
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
    gz_ = gzdopen(fd, "wb6");
    if (gz_ != nullptr) {
      gzbuffer(static_cast<gzFile>(gz_), 256 << 10);
    }
  } else {
    plain_ = ::fdopen(fd, "wb");
  }
  if (gz_ == nullptr && plain_ == nullptr) {
    ::close(fd);
    throw CliError(exit_failure, "io_error", fmt::format("cannot write {}", printable(path)));
  }
}

OutputFile::~OutputFile()
{
  if (gz_ != nullptr) {
    gzclose(static_cast<gzFile>(gz_));
  }
  if (plain_ != nullptr) {
    std::fclose(plain_);
  }
}

void
OutputFile::write(std::string_view text)
{
  if (gz_ == nullptr && plain_ == nullptr) {
    write_stdout(text);
    return;
  }
  const bool ok = gz_ != nullptr
                    ? gzwrite(static_cast<gzFile>(gz_), text.data(), static_cast<unsigned>(text.size())) ==
                        static_cast<int>(text.size())
                    : ::fwrite_unlocked(text.data(), 1, text.size(), plain_) == text.size();
  if (!ok) {
    throw CliError(exit_failure, "io_error", fmt::format("cannot write {}: {}", printable(path_), std::strerror(errno)));
  }
}

void
OutputFile::close()
{
  if (gz_ == nullptr && plain_ == nullptr) {
    flush_stdout();
    return;
  }
  int rc = 0;
  if (gz_ != nullptr) {
    rc = gzclose(static_cast<gzFile>(gz_)) == Z_OK ? 0 : -1;
    gz_ = nullptr;
  } else {
    rc = std::fclose(plain_);
    plain_ = nullptr;
  }
  if (rc != 0) {
    throw CliError(exit_failure, "io_error", fmt::format("cannot write {}: {}", printable(path_), std::strerror(errno)));
  }
}

// ------------------------------------------------------------- loading

void
add_existing_options(CLI::App* app, bool& if_absent, bool& overwrite)
{
  auto* a = app->add_flag("--if-absent", if_absent,
                          "Write only the records whose key is absent in the target; skip the others");
  auto* o = app->add_flag("--overwrite", overwrite, "Overwrite the records whose key exists in the target");
  a->excludes(o);
}

OnExisting
on_existing(bool if_absent, bool overwrite)
{
  return if_absent ? OnExisting::skip : overwrite ? OnExisting::overwrite : OnExisting::refuse;
}

Loader::Loader(Context& ctx, taskstore::StorageBackend& target, OnExisting mode, bool dry_run, std::string what)
  : ctx_(ctx)
  , target_(target)
  , mode_(mode)
  , dry_run_(dry_run)
  , what_(std::move(what))
  , batch_records_(batch_size_for(target.name()).records)
  , batch_bytes_(batch_size_for(target.name()).bytes)
  , progress_(ctx, what_, "read", dry_run ? "checked" : "written")
  , started_(std::chrono::steady_clock::now())
{
  if (ctx.format == Format::json) {
    json_.emplace(ctx, Json{{"dry_run", dry_run}}, "results");
  }
}

Loader::~Loader()
{
  if (in_flight_ && in_flight_->results.valid()) {
    in_flight_->results.wait(); // never leave a write running behind an error
  }
}

void
Loader::report(std::uint64_t line, const std::string& key, const char* status, std::uint64_t version,
               const std::string& error)
{
  progress_.tick(read_, created_ + overwritten_ + would_);
  const bool problem = !error.empty();
  if (ctx_.format == Format::jsonl || json_) {
    Json item = Json::object();
    if (line > 0) {
      item["line"] = line;
    }
    item["key"] = key.empty() ? Json(nullptr) : Json(key);
    item["status"] = status;
    if (version > 0) {
      item["version"] = version;
    }
    if (problem) {
      item["error"] = error;
    }
    progress_.before_output();
    if (json_) {
      json_->item(item);
    } else {
      write_stdout(dump_json(item) + "\n");
    }
  } else if (problem && ++warned_ > k_warnings_shown) {
    return; // the rest are counted in the summary (-o jsonl lists each)
  } else if (problem) {
    warn(ctx_, line > 0 ? fmt::format("line {}: {}{}", line, key.empty() ? "" : printable(key) + ": ", error)
                        : fmt::format("{}: {}", printable(key), error));
  }
}

void
Loader::add(std::string key, std::string data, std::uint64_t line)
{
  ++read_;
  pending_bytes_ += data.size();
  pending_.push_back(Pending{std::move(key), std::move(data), line});
  if (pending_.size() >= batch_records_ || pending_bytes_ >= batch_bytes_) {
    flush();
  }
}

void
Loader::reject(std::uint64_t line, const std::string& key, const std::string& error)
{
  ++read_;
  ++invalid_;
  report(line, key, "invalid", 0, error);
}

void
Loader::flush()
{
  settle();
  if (pending_.empty()) {
    return;
  }
  if (dry_run_) {
    for (const auto& p : pending_) {
      ++would_;
      report(p.line, p.key, "would_write", 0);
    }
    pending_.clear();
    pending_bytes_ = 0;
    return;
  }
  in_flight_ = std::make_unique<InFlight>();
  in_flight_->records = std::move(pending_);
  pending_.clear();
  pending_bytes_ = 0;
  // A first Ctrl-C lets the batch under way finish (its outcomes known and
  // reported); the loading stops before the next one.
  finish_batch_.emplace();
  in_flight_->results = std::async(std::launch::async, [this, &records = in_flight_->records] {
    std::vector<taskstore::BatchWrite> writes;
    writes.reserve(records.size());
    for (const auto& p : records) {
      writes.push_back(taskstore::BatchWrite{p.key, p.data, mode_ != OnExisting::overwrite});
    }
    return target_.put_batch(writes);
  });
}

void
Loader::settle()
{
  if (!in_flight_) {
    return;
  }
  const std::unique_ptr<InFlight> batch = std::move(in_flight_);
  std::vector<taskstore::BatchResult> results;
  try {
    results = batch->results.get();
  } catch (...) {
    finish_batch_.reset();
    throw;
  }
  finish_batch_.reset();
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const auto& p = batch->records[i];
    if (r.error) {
      ++failed_;
      report(p.line, p.key, "failed", 0, failure_report(ctx_, r.error).message);
    } else if (r.version == 0) {
      if (mode_ == OnExisting::skip) {
        ++skipped_;
        report(p.line, p.key, "skipped", 0);
      } else {
        ++existed_;
        report(p.line, p.key, "exists", 0, "the key exists in the target (--if-absent skips it, --overwrite replaces it)");
      }
    } else if (r.version == 1 || mode_ != OnExisting::overwrite) {
      ++created_;
      report(p.line, p.key, "created", r.version);
    } else {
      ++overwritten_;
      report(p.line, p.key, "overwritten", r.version);
    }
  }
}

int
Loader::finish(bool interrupted)
{
  if (!interrupted) {
    flush();
  }
  settle(); // a batch under way is written whole, and reported
  progress_.clear();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const double rate = seconds > 0 ? static_cast<double>(read_) / seconds : 0.0;
  Json summary = {{"read", read_},
                  {"created", created_},
                  {"overwritten", overwritten_},
                  {"skipped", skipped_},
                  {"exists", existed_},
                  {"invalid", invalid_},
                  {"failed", failed_}};
  if (left_out_ > 0) {
    summary["expired_left_out"] = left_out_;
  }
  if (dry_run_) {
    summary["would_write"] = would_;
  }
  summary["dry_run"] = dry_run_;
  summary["interrupted"] = interrupted;
  summary["seconds"] = std::round(seconds * 1000) / 1000;
  if (json_) {
    json_->finish(summary);
  } else if (ctx_.format == Format::jsonl) {
    write_stdout(dump_json(Json{{"summary", summary}}) + "\n");
  }
  std::string text =
    dry_run_ ? fmt::format("{}: {} records read, {} would be written", what_, read_, would_)
             : fmt::format("{}: {} records read, {} created, {} overwritten, {} skipped", what_, read_, created_,
                           overwritten_, skipped_);
  if (existed_ + invalid_ + failed_ > 0) {
    text += fmt::format(", {} existed, {} invalid, {} failed", existed_, invalid_, failed_);
  }
  if (left_out_ > 0) {
    text += fmt::format(", {} expired left out", left_out_);
  }
  text += fmt::format(" in {:.1f} s ({:.0f} records/s){}", seconds, rate, interrupted ? "; interrupted" : "");
  if (warned_ > k_warnings_shown) {
    text += fmt::format(" ({} more problems not shown: -o jsonl lists every record)", warned_ - k_warnings_shown);
  }
  note(ctx_, text);
  flush_stdout();
  if (interrupted) {
    return interrupt_exit_code();
  }
  if (invalid_ > 0) {
    return exit_invalid;
  }
  if (existed_ > 0) {
    return exit_conflict;
  }
  return failed_ > 0 ? exit_failure : exit_ok;
}

} // namespace taskctl
