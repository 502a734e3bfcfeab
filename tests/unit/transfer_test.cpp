#include "taskstore/json/peek.hpp"
#include "taskstore/transfer.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

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

TEST_CASE("is_json_line accepts what nlohmann's parser accepts, on one line, within the depth")
{
  // The oracle: nlohmann::json::accept, no line break, the nesting depth,
  // no byte-order mark. Every one-byte change, insertion and cut of these
  // texts must be judged alike, and export must inline exactly those.
  const auto expected = [](const std::string& text, std::size_t max_depth) {
    return nlohmann::json::accept(text) && text.find_first_of("\n\r") == std::string::npos &&
           peek_nesting_depth(text) <= max_depth && text.rfind("\xEF\xBB\xBF", 0) != 0;
  };
  const std::vector<std::string> seeds = {
    R"({"task":{"taskId":"t-1","status":"working","createdAt":"2025-11-25T10:30:00.123Z","ttl":3600000},"ownerId":"o","variables":{"a":[1,-2.5e3,true,false,null,{}],"b":[]},"result":null})",
    R"(["caf\u00e9 \"q\" \\ \/ \b\f\n\r\t", "\ud83d\ude00", "é€😀", 0, -0, 0.5, 1E+2, 1e-2, 12345678901234567890123])",
    R"( { "a" : [ 1 , 2 ] , "b" : "x" } )",
    "\t\"only a string\"\t",
    "1e308",
    "[[[[[[[[[[1]]]]]]]]]]",
  };
  const std::string alphabet = std::string("{}[]:,\" \\/\t\n0123456789-+.eEtfnlrsua\x01\x7f\x80\xc3\xa9\xed\xa0\xef", 43);
  std::size_t checked = 0;
  for (const std::string& seed : seeds) {
    std::vector<std::string> texts = {seed};
    for (std::size_t i = 0; i <= seed.size(); ++i) {
      texts.push_back(seed.substr(0, i));
      for (const char c : alphabet) {
        texts.push_back(seed.substr(0, i) + c + seed.substr(i));
        if (i < seed.size()) {
          std::string changed = seed;
          changed[i] = c;
          texts.push_back(changed);
        }
      }
    }
    for (const std::string& text : texts) {
      INFO(text);
      REQUIRE(is_json_line(text, 5) == expected(text, 5));
      REQUIRE(is_json_line(text, 100) == expected(text, 100));
      ++checked;
    }
  }
  CHECK(checked > 10000);
  for (const std::string& text : {std::string("1e999"), std::string("-1e400"), std::string("[1e-999]"),
                                  std::string(400, '9'), std::string("\"\\ud800\""), std::string("\"\\udc00\""), std::string("\"\\ud800\\u0041\""),
                                  std::string("\xEF\xBB\xBF{}"), std::string(100, '[') + std::string(100, ']'),
                                  std::string(101, '[') + std::string(101, ']'), std::string("\"a\0b\"", 5)}) {
    INFO(text);
    CHECK(is_json_line(text, 100) == expected(text, 100));
    std::string line;
    append_export_line(line, "o:t", VersionedRecord{text, 1});
    CHECK((line.find("\"data_b64\":\"") == std::string::npos) == expected(text, 100));
  }
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
