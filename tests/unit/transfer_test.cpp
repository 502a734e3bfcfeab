#include "taskstore/json/peek.hpp"
#include "taskstore/transfer.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>

using namespace taskstore;

TEST_CASE("base64: RFC 4648 vectors, round trips, and refusals")
{
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_decode("Zm9vYmE=") == std::string("fooba"));
  std::mt19937 rng(7);
  for (int n = 0; n < 300; ++n) {
    std::string bytes(static_cast<std::size_t>(n), '\0');
    for (auto& c : bytes) {
      c = static_cast<char>(rng() & 0xff);
    }
    CHECK(base64_decode(base64_encode(bytes)) == bytes);
  }
  CHECK_FALSE(base64_decode("Zm9"));       // not a multiple of 4
  CHECK_FALSE(base64_decode("Zm9v!A=="));  // not the alphabet
  CHECK_FALSE(base64_decode("Zg==Zm8=")); // padding inside
  CHECK_FALSE(base64_decode("Z==="));
  CHECK_FALSE(base64_decode("Zm 9"));
}

TEST_CASE("export lines: records inline byte for byte, others in base64, read back exactly")
{
  const std::string record = R"({"task":{"taskId":"t"},"ownerId":"o","v":"caf\u00e9 \"q\"","n":1.50})";
  std::string line;
  append_export_line(line, "o:t", VersionedRecord{record, 7});
  CHECK(line == R"({"key":"o:t","version":7,"record":)" + record + "}");
  auto parsed = parse_export_line(line);
  REQUIRE(parsed.record);
  CHECK(parsed.record->key == "o:t");
  CHECK(parsed.record->version == 7);
  CHECK(parsed.record->data == record);
  CHECK(parsed.record->inline_record);

  // Not inline: a line break, bytes that are not UTF-8, not JSON, too deep, empty.
  for (const std::string& data : {std::string("{\n\"a\": 1\n}"), std::string("\xff\xfe"), std::string("not json"),
                                  std::string(150, '[') + std::string(150, ']'), std::string()}) {
    line.clear();
    append_export_line(line, "o:t", VersionedRecord{data, 1});
    CHECK(line.find("\"data_b64\":\"") != std::string::npos);
    CHECK(line.find('\n') == std::string::npos);
    parsed = parse_export_line(line);
    REQUIRE(parsed.record);
    CHECK(parsed.record->data == data);
    CHECK_FALSE(parsed.record->inline_record);
  }
  // Member order and spacing of another writer (jq) are read too.
  parsed = parse_export_line(R"( { "record" : {"a":1} , "key" : "o:\u0074" } )");
  REQUIRE(parsed.record);
  CHECK(parsed.record->key == "o:t");
  CHECK(parsed.record->data == R"({"a":1})");
  CHECK(parsed.record->version == 0);
}

TEST_CASE("parse_export_line: every malformed line gets its reason")
{
  const auto error_of = [](const std::string& line) {
    auto parsed = parse_export_line(line);
    CHECK_FALSE(parsed.record);
    return parsed.error;
  };
  CHECK(error_of("not json").starts_with("not JSON"));
  CHECK(error_of("[1,2]") == "not a JSON object");
  CHECK(error_of(R"({"key":"o:t","record":{}} trailing)").starts_with("not JSON"));
  CHECK(error_of(R"({"record":{}})") == "no \"key\" string");
  CHECK(error_of(R"({"key":7,"record":{}})") == "no \"key\" string");
  CHECK(error_of(R"({"key":"nocolon","record":{}})").find("OWNER:TASK_ID") != std::string::npos);
  CHECK(error_of(R"({"key":":t","record":{}})").find("OWNER:TASK_ID") != std::string::npos);
  CHECK(error_of(R"({"key":"o:","record":{}})").find("OWNER:TASK_ID") != std::string::npos);
  CHECK(error_of(R"({"key":"o:t","version":-1,"record":{}})") == "\"version\" is not a positive integer");
  CHECK(error_of(R"({"key":"o:t","version":"3","record":{}})") == "\"version\" is not a positive integer");
  CHECK(error_of(R"({"key":"o:t","version":18446744073709551616,"record":{}})") ==
        "\"version\" is not a positive integer");
  CHECK(error_of(R"({"key":"o:t"})") == "neither \"record\" nor \"data_b64\"");
  CHECK(error_of(R"({"key":"o:t","record":{},"data_b64":""})") == "both \"record\" and \"data_b64\"");
  CHECK(error_of(R"({"key":"o:t","data_b64":"@@@@"})") == "\"data_b64\" is not a base64 string");
  CHECK(error_of(R"({"key":"o:t","data_b64":5})") == "\"data_b64\" is not a base64 string");
  CHECK(error_of(R"({"key":"o:t","key":"o:u","record":{}})") == "\"key\" appears twice");
  CHECK(is_json_text(R"({"a":[1,2,{"b":null}]})"));
  CHECK_FALSE(is_json_text(R"({"a":})"));
  CHECK_FALSE(is_json_text("\"\xff\""));
}

TEST_CASE("peek_object_members and peek_string")
{
  std::vector<std::pair<std::string, std::string>> members;
  CHECK(peek_object_members(R"({"a" : [1, {"x":"}"}] ,"b\n":"s\"","c":{}} )", [&](std::string_view n, std::string_view v) {
    members.emplace_back(n, v);
    return true;
  }));
  REQUIRE(members.size() == 3);
  CHECK(members[0] == std::pair<std::string, std::string>{"a", R"([1, {"x":"}"}])"});
  CHECK(members[1] == std::pair<std::string, std::string>{"b\n", R"("s\"")"});
  CHECK(members[2] == std::pair<std::string, std::string>{"c", "{}"});
  CHECK_FALSE(peek_object_members("[1]", [](std::string_view, std::string_view) { return true; }));
  CHECK_FALSE(peek_object_members(R"({"a":1} x)", [](std::string_view, std::string_view) { return true; }));
  CHECK(peek_string(R"("a\u00e9\n")") == std::string("a\xc3\xa9\n"));
  CHECK_FALSE(peek_string("7"));
  CHECK_FALSE(peek_string(R"("a" "b")"));
  CHECK(peek_member_text(R"({"x":1,"record": {"a" : 2} })", "record") == std::string_view(R"({"a" : 2})"));
}
