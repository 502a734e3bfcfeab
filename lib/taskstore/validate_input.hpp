#pragma once
// INTERNAL (not installed): where the streaming validator's bytes come from:
// a file descriptor or a std::istream, read in large chunks that nlohmann's
// SAX parser walks through with ChunkIterator, keeping the line count so a
// syntax error is reported with its line and column.

#include "taskstore/error.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <istream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

namespace taskstore::validate_input {

constexpr std::size_t k_npos = static_cast<std::size_t>(-1);

// Where streamed bytes come from: fills buf with up to cap bytes, returns 0 at
// the end of the input; throws InvalidArgument on a read error.
class Source
{
public:
  virtual ~Source() = default;
  virtual std::size_t read(char* buf, std::size_t cap) = 0;
};

class FdSource final : public Source
{
public:
  FdSource(int fd, const std::string& path) : fd_(fd), path_(path) {}
  std::size_t read(char* buf, std::size_t cap) override
  {
    for (;;) {
      const ssize_t n = ::read(fd_, buf, cap);
      if (n >= 0) {
        return static_cast<std::size_t>(n);
      }
      if (errno != EINTR) {
        throw InvalidArgument("cannot read " + path_ + ": " + std::strerror(errno));
      }
    }
  }

private:
  int fd_;
  const std::string& path_;
};

class StreamSource final : public Source
{
public:
  explicit StreamSource(std::istream& in) : in_(in) {}
  std::size_t read(char* buf, std::size_t cap) override
  {
    if (!in_.good()) {
      return 0;
    }
    try {
      in_.read(buf, static_cast<std::streamsize>(cap));
    } catch (const std::ios_base::failure&) {
      // A stream with exceptions enabled throws at its end, too.
      if (in_.bad()) {
        std::throw_with_nested(InvalidArgument("cannot read the input stream"));
      }
    }
    if (in_.bad()) {
      throw InvalidArgument("cannot read the input stream");
    }
    return static_cast<std::size_t>(in_.gcount());
  }

private:
  std::istream& in_;
};

// Counts newlines in [p, p + n) and reports where the last one is.
inline std::uint64_t
count_newlines(const char* p, std::size_t n, std::size_t& last)
{
  std::uint64_t lines = 0;
  const char* end = p + n;
  for (const char* q = p; (q = static_cast<const char*>(std::memchr(q, '\n', static_cast<std::size_t>(end - q)))) != nullptr; ++q) {
    ++lines;
    last = static_cast<std::size_t>(q - p);
  }
  return lines;
}

// Two large buffers filled alternately from a Source. The previous chunk is
// kept with its line count: the parser may report an error at a byte it read
// just before a refill (the last byte of a chunk, or a token it read past).
class ChunkedInput
{
public:
  static constexpr std::size_t k_capacity = std::size_t{1} << 20;

  explicit ChunkedInput(Source& source)
    : source_(source), bufs_{std::make_unique<char[]>(k_capacity), std::make_unique<char[]>(k_capacity)}
  {
  }

  // Makes the next bytes current; pos/end delimit them (pos == end at the end
  // of the input).
  void refill(const char*& pos, const char*& end)
  {
    prev_ = cur_;
    std::size_t last = k_npos;
    const std::uint64_t lines = count_newlines(bufs_[cur_.slot].get(), cur_.len, last);
    cur_.slot ^= 1;
    cur_.start += cur_.len;
    cur_.lines_before += lines;
    if (last != k_npos) {
      cur_.line_start = prev_.start + last + 1;
    }
    cur_.len = 0;
    char* buf = bufs_[cur_.slot].get();
    if (!eof_) {
      // Read until the buffer is reasonably full or the input ends.
      while (cur_.len < k_capacity / 2) {
        const std::size_t n = source_.read(buf + cur_.len, k_capacity - cur_.len);
        if (n == 0) {
          eof_ = true;
          break;
        }
        cur_.len += n;
      }
    }
    if (cur_.start == 0 && cur_.len >= 3 && std::memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
      bom_ = true; // not JSON for serde: the parser is given nothing
      cur_.len = 0;
      eof_ = true;
    }
    if (const void* z = std::memchr(buf, 0, cur_.len); z != nullptr) {
      // The parser would take a NUL for the end: stop there and say where it is.
      const auto at = static_cast<std::size_t>(static_cast<const char*>(z) - buf);
      nul_offset_ = cur_.start + at;
      cur_.len = at;
      eof_ = true;
    }
    pos = buf;
    end = buf + cur_.len;
  }

  std::uint64_t bytes_read() const { return cur_.start + cur_.len; }
  // The input began with a UTF-8 byte order mark.
  bool bom() const { return bom_; }
  // Where the first NUL byte is, when there is one.
  std::optional<std::uint64_t> nul_offset() const { return nul_offset_; }

  // Line and column (1-based, in bytes) of absolute offset `offset`, which
  // lies in the current or the previous chunk (or at the end of the input).
  ParsePosition position_of(std::uint64_t offset) const
  {
    const Chunk& c = offset >= cur_.start || offset < prev_.start ? cur_ : prev_;
    ParsePosition p;
    p.byte_offset = offset;
    std::uint64_t line_start = c.line_start;
    std::uint64_t lines = c.lines_before;
    if (offset >= c.start) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(offset - c.start, c.len));
      std::size_t last = k_npos;
      lines += count_newlines(bufs_[c.slot].get(), n, last);
      if (last != k_npos) {
        line_start = c.start + last + 1;
      }
    }
    p.line = lines + 1;
    p.column = offset >= line_start ? offset - line_start + 1 : 1;
    return p;
  }

private:
  struct Chunk
  {
    int slot = 0;
    std::size_t len = 0;
    std::uint64_t start = 0;        // absolute offset of its first byte
    std::uint64_t lines_before = 0; // newlines before start
    std::uint64_t line_start = 0;   // absolute offset where the line at start begins
  };

  Source& source_;
  std::unique_ptr<char[]> bufs_[2];
  Chunk cur_;
  Chunk prev_;
  bool eof_ = false;
  bool bom_ = false;
  std::optional<std::uint64_t> nul_offset_;
};

// The input iterator nlohmann's parser reads from: a pointer into the chunk,
// refilled when it runs out. The default-constructed iterator is the end.
class ChunkIterator
{
public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  ChunkIterator() = default;
  explicit ChunkIterator(ChunkedInput* input) : input_(input) { input_->refill(pos_, end_); }

  reference operator*() const { return *pos_; }
  ChunkIterator& operator++()
  {
    if (++pos_ == end_) {
      input_->refill(pos_, end_);
    }
    return *this;
  }
  ChunkIterator operator++(int)
  {
    ChunkIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const ChunkIterator& other) const
  {
    const bool done = pos_ == end_;
    const bool other_done = other.pos_ == other.end_;
    return done || other_done ? done == other_done : pos_ == other.pos_;
  }

private:
  ChunkedInput* input_ = nullptr;
  const char* pos_ = nullptr;
  const char* end_ = nullptr;
};


} // namespace taskstore::validate_input
