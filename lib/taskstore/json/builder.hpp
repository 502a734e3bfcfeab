#pragma once
// INTERNAL (not installed): the SAX handler that builds a Json tree. It is
// nlohmann's json_sax interface, so this header exposes nlohmann::detail and
// stays out of the public API; parse_json (json/parse.hpp) is the public way in.

#include "taskstore/json/serde.hpp"

#include <cstddef>
#include <exception>
#include <string>
#include <vector>

namespace taskstore {

// A SAX handler that builds a Json the way parse_json does. Also usable to
// capture one value out of a larger SAX stream: feed it the events of that
// value only, then take() it. Objects are assembled when they close, so no
// member is ever copied (nlohmann's copy recurses once per nesting level, and
// ordered_map copies its members when it grows).
class JsonBuilder final : public nlohmann::json_sax<Json>
{
public:
  JsonBuilder();
  ~JsonBuilder() override;
  JsonBuilder(const JsonBuilder&) = delete;
  JsonBuilder& operator=(const JsonBuilder&) = delete;

  bool null() override;
  bool boolean(bool v) override;
  bool number_integer(number_integer_t v) override;
  bool number_unsigned(number_unsigned_t v) override;
  bool number_float(number_float_t v, const string_t& raw) override;
  bool string(string_t& v) override;
  bool binary(binary_t& v) override;
  bool start_object(std::size_t n) override;
  bool key(string_t& k) override;
  bool end_object() override;
  bool start_array(std::size_t n) override;
  bool end_array() override;
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override;

  // True once a whole value has been built (and no container is open).
  bool complete() const;
  // The value built; the builder is empty again afterwards.
  Json take();
  // After parse_error: the parser's position (bytes read) and exception.
  std::size_t error_position() const { return error_position_; }
  const std::string& error_message() const { return error_message_; }
  std::exception_ptr error() const { return error_; }

private:
  struct Frame;
  Json* place(Json v);
  Json root_;
  bool has_root_ = false;
  std::vector<Frame> stack_;
  std::string key_;
  std::size_t error_position_ = 0;
  std::string error_message_;
  std::exception_ptr error_;
};

// Sends sax the events a parser would send for root (iteratively: any depth).
void replay_sax(const Json& root, nlohmann::json_sax<Json>& sax);

} // namespace taskstore
