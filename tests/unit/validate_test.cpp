// Tests of lib/taskstore/validate.* (one test file per lib module: a little
// over 800 lines, since validate is the module with the most rules).
#include "taskstore/json/parse.hpp"
#include "taskstore/error.hpp"
#include "taskstore/validate.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

using namespace taskstore;

namespace {

std::string
repeat(std::string_view s, std::size_t n)
{
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.append(s);
  }
  return out;
}

// `value` wrapped in n objects {"a": ...}.
std::string
in_objects(std::size_t n, const std::string& value)
{
  return repeat(R"({"a":)", n) + value + repeat("}", n);
}

// `value` wrapped in n arrays.
std::string
in_arrays(std::size_t n, const std::string& value)
{
  return repeat("[", n) + value + repeat("]", n);
}

ValidateOptions
options(DocumentKind kind = DocumentKind::detect)
{
  ValidateOptions o;
  o.kind = kind;
  return o;
}

// A file that removes itself.
class TempFile
{
public:
  explicit TempFile(const std::string& contents)
  {
    path_ = (std::filesystem::temp_directory_path() /
             ("taskctl-validate-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".json"))
              .string();
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

private:
  static inline int counter_ = 0;
  std::string path_;
};

void
check_same(const ValidationReport& a, const ValidationReport& b)
{
  CHECK(a.total_violations == b.total_violations);
  CHECK(a.is_record == b.is_record);
  CHECK(a.variables_size == b.variables_size);
  REQUIRE(a.violations.size() == b.violations.size());
  for (std::size_t i = 0; i < a.violations.size(); ++i) {
    INFO("violation " << i);
    CHECK(a.violations[i].pointer == b.violations[i].pointer);
    CHECK(a.violations[i].rule == b.violations[i].rule);
    CHECK(a.violations[i].message == b.violations[i].message);
    CHECK(a.violations[i].limit == b.violations[i].limit);
    CHECK(a.violations[i].actual == b.violations[i].actual);
  }
}

// Validates `doc` every way there is and checks that all of them agree; returns
// the streamed report.
ValidationReport
validate_everywhere(const std::string& doc, const StoreConfig& limits = {})
{
  ValidateOptions o;
  o.limits = limits;
  const ValidationReport streamed = validate_bytes(doc, o);
  {
    std::istringstream in(doc);
    check_same(validate_stream(in, o), streamed);
  }
  {
    TempFile f(doc);
    const ValidationReport from_file = validate_file(f.path(), o);
    check_same(from_file, streamed);
    CHECK(from_file.bytes_read == doc.size());
  }
  CHECK(streamed.bytes_read == doc.size());
  if (!streamed.syntax_error_at) {
    const Json j = parse_json(doc);
    const ValidationReport in_memory =
      streamed.is_record ? validate_record(j, limits) : validate_variables(j, limits);
    check_same(in_memory, streamed);
    const Json* variables = streamed.is_record ? &j["variables"] : &j;
    if (variables->is_object()) {
      // A record's variables as stored; a variables document as set_variables
      // measures its input (null-valued variables dropped).
      Json measured = *variables;
      if (!streamed.is_record) {
        for (auto it = measured.begin(); it != measured.end();) {
          it = it->is_null() ? measured.erase(it) : std::next(it);
        }
      }
      CHECK(streamed.variables_size == serde_json_size(measured));
      CHECK(streamed.variables_size == to_serde_json(measured).size());
    }
  }
  return streamed;
}

const std::string k_record_head =
  R"({"task":{"taskId":"786512e2-9e0d-44bd-8f29-789f320fe840","status":"working","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z","ttl":3600000,"pollInterval":500},"ownerId":"user-123",)";
const std::string k_record_tail =
  R"(,"result":null,"requestMethod":"tools/call","expiresAt":"2025-11-25T11:30:00.123456789Z"})";

std::string
record_with(const std::string& variables)
{
  return k_record_head + R"("variables":)" + variables + k_record_tail;
}

} // namespace

TEST_CASE("to_string(Rule)")
{
  CHECK(to_string(Rule::depth) == "depth");
  CHECK(to_string(Rule::string_length) == "string_length");
  CHECK(to_string(Rule::size) == "size");
  CHECK(to_string(Rule::syntax) == "syntax");
  CHECK(to_string(Rule::schema) == "schema");
}

TEST_CASE("validate_variables: depth (facts §7.2)")
{
  const StoreConfig limits; // max depth 10

  SECTION("scalars, shallow values and the root itself pass")
  {
    CHECK(validate_everywhere(R"({"v":1,"w":"s","x":null,"y":{"a":1},"z":[]})").ok());
    CHECK(validate_everywhere("{}").ok());
  }
  SECTION("a scalar in exactly 10 objects passes; in 11 it fails")
  {
    CHECK(validate_everywhere(R"({"v":)" + in_objects(10, "1") + "}").ok());
    const auto r = validate_everywhere(R"({"v":)" + in_objects(11, "1") + "}");
    REQUIRE(r.total_violations == 1);
    const Violation& v = r.violations.at(0);
    CHECK(v.rule == Rule::depth);
    CHECK(v.pointer == "/v" + repeat("/a", 11));
    CHECK(v.limit == 10);
    CHECK(v.actual == 11);
    CHECK(v.message == "nesting depth 11 exceeds maximum 10");
  }
  SECTION("the empty-container edge case: 11 nested arrays ending in [] pass, 12 fail")
  {
    CHECK(validate_everywhere(R"({"v":)" + in_arrays(11, "") + "}").ok());
    const auto r = validate_everywhere(R"({"v":)" + in_arrays(12, "") + "}");
    REQUIRE(r.total_violations == 1);
    CHECK(r.violations[0].pointer == "/v" + repeat("/0", 11));
    CHECK(r.violations[0].actual == 11);
  }
  SECTION("depth counts from each variable's value, not from the variables object")
  {
    StoreConfig shallow;
    shallow.max_variable_depth = 1;
    CHECK(validate_everywhere(R"({"a":{"b":1},"c":[1,2]})", shallow).ok());
    const auto r = validate_everywhere(R"({"a":{"b":{"c":1}},"d":[[1]]})", shallow);
    REQUIRE(r.total_violations == 2);
    CHECK(r.violations[0].pointer == "/a/b/c");
    CHECK(r.violations[1].pointer == "/d/0/0");
    StoreConfig zero;
    zero.max_variable_depth = 0;
    CHECK(validate_everywhere(R"({"a":1,"b":{},"c":[]})", zero).ok());
    CHECK(validate_everywhere(R"({"a":[1]})", zero).total_violations == 1);
  }
  SECTION("one violation per offending subtree, reporting the deepest depth in it")
  {
    const auto r = validate_everywhere(R"({"v":[)" + in_arrays(10, in_objects(9, "1")) + "," +
                                       in_arrays(10, "[[1]]") + R"(],"w":)" + in_objects(12, "[]") + "}");
    REQUIRE(r.total_violations == 3);
    CHECK(r.violations[0].pointer == "/v" + repeat("/0", 11));
    CHECK(r.violations[0].actual == 20);
    CHECK(r.violations[0].message == "nesting depth 20 exceeds maximum 10");
    CHECK(r.violations[1].pointer == "/v/1" + repeat("/0", 10));
    CHECK(r.violations[1].actual == 13);
    CHECK(r.violations[2].pointer == "/w" + repeat("/a", 11));
    CHECK(r.violations[2].actual == 12);
  }
}

TEST_CASE("validate_variables: string length (facts §7.3)")
{
  SECTION("exactly the limit passes, one byte more fails")
  {
    CHECK(validate_everywhere(R"({"s":")" + std::string(65'536, 'x') + R"("})").ok());
    const auto r = validate_everywhere(R"({"s":")" + std::string(65'537, 'x') + R"("})");
    REQUIRE(r.total_violations == 1);
    CHECK(r.violations[0].rule == Rule::string_length);
    CHECK(r.violations[0].pointer == "/s");
    CHECK(r.violations[0].limit == 65'536);
    CHECK(r.violations[0].actual == 65'537);
    CHECK(r.violations[0].message == "string value length 65537 bytes exceeds maximum 65536 bytes");
  }
  SECTION("UTF-8 bytes are counted, after unescaping")
  {
    StoreConfig limits;
    limits.max_string_length = 4;
    CHECK(validate_everywhere(R"({"s":"éé","t":"\u00e9\u00e9","u":"\n\n\n\n"})", limits).ok());
    const auto r = validate_everywhere(R"({"s":"ééé","t":"\ud83d\ude00x","u":"abcd"})", limits);
    REQUIRE(r.total_violations == 2);
    CHECK(r.violations[0].pointer == "/s");
    CHECK(r.violations[0].actual == 6);
    CHECK(r.violations[1].pointer == "/t");
    CHECK(r.violations[1].actual == 5);
  }
  SECTION("keys are not checked")
  {
    StoreConfig limits;
    limits.max_string_length = 3;
    CHECK(validate_everywhere(R"({"a very long key":{"another long key":"abc"}})", limits).ok());
  }
  SECTION("nested strings, with RFC 6901 pointers")
  {
    StoreConfig limits;
    limits.max_string_length = 2;
    const auto r = validate_everywhere(R"({"a/b":{"m~n":["ok","long"]},"":{"":"xyz"}})", limits);
    REQUIRE(r.total_violations == 2);
    CHECK(r.violations[0].pointer == "/a~1b/m~0n/1");
    CHECK(r.violations[1].pointer == "//");
  }
}

TEST_CASE("validate_variables: size (facts §7.3)")
{
  StoreConfig limits;
  limits.max_variable_size_bytes = 100;

  SECTION("the worked example")
  {
    const auto a = validate_everywhere(R"({"a":")" + std::string(30, 'x') + R"("})", limits);
    CHECK(a.ok());
    CHECK(a.variables_size == 38);

    const auto b = validate_everywhere(
      R"({"a":")" + std::string(30, 'x') + R"(","b":")" + std::string(60, 'y') + R"("})", limits);
    CHECK(b.variables_size == 105);
    REQUIRE(b.total_violations == 1);
    CHECK(b.violations[0].rule == Rule::size);
    CHECK(b.violations[0].pointer.empty());
    CHECK(b.violations[0].limit == 100);
    CHECK(b.violations[0].actual == 105);
    CHECK(b.violations[0].message == "variables size 105 bytes exceeds maximum 100 bytes");

    const auto c = validate_everywhere(R"({"big":")" + std::string(200, 'x') + R"("})", limits);
    CHECK(c.variables_size == 210);
    CHECK(c.total_violations == 1);
  }
  SECTION("exactly the limit passes; the empty map is 2 bytes")
  {
    CHECK(validate_everywhere("{}", limits).variables_size == 2);
    CHECK(validate_everywhere(R"({"a":")" + std::string(92, 'x') + R"("})", limits).ok());
    CHECK_FALSE(validate_everywhere(R"({"a":")" + std::string(93, 'x') + R"("})", limits).ok());
  }
  SECTION("measured as serde_json writes the document, whatever the input's spelling")
  {
    // Whitespace is not counted; escapes and floats are re-written as serde does.
    const auto r = validate_everywhere(" {\n \"a\" : 1E2 , \"b\":\"\\u00e9\\/\\u001F\" ,\"c\":[ 0.10 , -5 ,1e21]}\n");
    CHECK(r.variables_size == std::string(R"({"a":100.0,"b":"é/\u001f","c":[0.1,-5,1e+21]})").size());
  }
  SECTION("-0 is the float -0.0 for serde_json")
  {
    const auto r = validate_everywhere(R"({"z":-0,"u":0})");
    CHECK(r.variables_size == std::string(R"({"z":-0.0,"u":0})").size());
  }
  SECTION("serde sizes of every kind of value agree with the serializer")
  {
    for (const char* doc :
         {R"({"k":"\"\\\b\f\n\r\t\u0000\u007f/é😀"})", R"({"n":[0,-1,18446744073709551615,-9223372036854775808]})",
          R"({"f":[1.0,0.5,1e-7,1.5e300,123456789012345678901234567890,2.2250738585072014e-308,-0.0]})",
          R"({"b":[true,false,null],"o":{"":{},"x":[]}})", R"({"\u0001key\"":{"é":1}})"}) {
      INFO(doc);
      validate_everywhere(doc);
    }
  }
}

TEST_CASE("validate_variables: every violation, capped reporting")
{
  StoreConfig limits;
  limits.max_string_length = 1;
  limits.max_variable_size_bytes = 10;
  limits.max_variable_depth = 2;
  const std::string doc = R"({"a":"xx","b":[[["deep"]]],"c":{"d":"yy"},"e":"zz"})";
  const auto all = validate_everywhere(doc, limits);
  REQUIRE(all.total_violations == 6);
  REQUIRE(all.violations.size() == 6);
  CHECK(all.violations[0].pointer == "/a");
  CHECK(all.violations[1].pointer == "/b/0/0/0"); // depth (reported first: it starts the subtree)
  CHECK(all.violations[1].rule == Rule::depth);
  CHECK(all.violations[2].pointer == "/b/0/0/0");
  CHECK(all.violations[2].rule == Rule::string_length);
  CHECK(all.violations[3].pointer == "/c/d");
  CHECK(all.violations[4].pointer == "/e");
  CHECK(all.violations[5].rule == Rule::size);

  ValidateOptions o;
  o.limits = limits;
  o.max_reported = 2;
  const auto capped = validate_bytes(doc, o);
  CHECK(capped.total_violations == 6);
  REQUIRE(capped.violations.size() == 2);
  CHECK(capped.violations[0].pointer == "/a");
  CHECK(capped.violations[1].rule == Rule::size); // document-level violations always make it in
  o.max_reported = 0;
  CHECK(validate_bytes(doc, o).violations.empty());
  CHECK(validate_bytes(doc, o).total_violations == 6);
}

TEST_CASE("validate_bytes: a depth bomb of 1,000,000 nested arrays")
{
  const std::size_t n = 1'000'000;
  const std::string bomb = R"({"bomb":)" + in_arrays(n, "") + "}";
  ValidateOptions o = options();
  o.limits.max_variable_size_bytes = 1U << 30;
  const auto r = validate_bytes(bomb, o);
  // The variable's depth, and serde_json's recursion limit (once).
  REQUIRE(r.total_violations == 2);
  CHECK(r.violations[0].rule == Rule::depth);
  CHECK(r.violations[0].pointer == "/bomb" + repeat("/0", 11));
  CHECK(r.violations[0].actual == n - 1);
  CHECK(r.violations[0].message == "nesting depth 999999 exceeds maximum 10");
  CHECK(r.violations[1].rule == Rule::depth);
  CHECK(r.violations[1].limit == k_serde_max_nesting);
  CHECK(r.violations[1].actual == 128);
  CHECK(r.violations[1].pointer == "/bomb" + repeat("/0", 125));
  CHECK(r.variables_size == bomb.size());

  SECTION("inside a record")
  {
    const auto rec = validate_bytes(record_with(R"({"bomb":)" + in_arrays(n, "1") + "}"), o);
    CHECK(rec.is_record);
    REQUIRE(rec.total_violations == 2);
    CHECK(rec.violations[0].pointer == "/variables/bomb" + repeat("/0", 11));
    CHECK(rec.violations[0].actual == n);
    CHECK(rec.violations[1].message == "nesting depth 128 exceeds serde_json's recursion limit: pmcp-tasks cannot read it");
  }
  SECTION("in a record's _meta and result: no variable limit, but serde_json's recursion limit")
  {
    std::string doc = record_with("{}");
    doc.replace(doc.find(R"("pollInterval":500})"), 19, R"("pollInterval":500,"_meta":{"m":)" + in_arrays(n, "") + "}}");
    doc.replace(doc.find(R"("result":null)"), 13, R"("result":)" + in_arrays(n, ""));
    const auto rec = validate_bytes(doc, o);
    CHECK(rec.is_record);
    REQUIRE(rec.total_violations == 1);
    CHECK(rec.violations[0].rule == Rule::depth);
    // The 128th container from the record's root (root, task, _meta, then the
    // 125th array), where serde_json stops. (Until "ownerId" came, a record
    // was once judged as a variables document, one level off: 123.)
    CHECK(rec.violations[0].pointer == "/task/_meta/m" + repeat("/0", 124));
  }
  SECTION("as the root: not a variables object")
  {
    const auto root = validate_bytes(in_arrays(n, ""), options());
    REQUIRE(root.total_violations == 2); // and serde_json's recursion limit
    CHECK(root.violations[0].rule == Rule::depth);
    CHECK(root.violations[1].rule == Rule::schema);
    CHECK(root.violations[1].message == "expected a JSON object of variables, found an array");
  }
  SECTION("truncated")
  {
    const auto cut = validate_bytes(R"({"bomb":)" + repeat("[", n), o);
    CHECK(cut.syntax_error_at);
    CHECK(cut.total_violations == 3); // the depth, serde's recursion limit, the syntax error
    // The pointer is abbreviated past 256 levels (issue 14 #15): the first
    // and last 128 tokens and how many were skipped, never 2 bytes per level.
    const std::string& pointer = cut.violations.back().pointer;
    CHECK(pointer.rfind("/bomb/0/0", 0) == 0);
    CHECK(pointer.find("(" + std::to_string(n - 256) + " more levels)") != std::string::npos);
    CHECK(pointer.size() < 600);
  }
}

TEST_CASE("validate_bytes: malformed JSON")
{
  SECTION("position and message")
  {
    const auto r = validate_everywhere(R"({"a": [1, 2,, 3]})");
    REQUIRE(r.syntax_error_at);
    CHECK(r.syntax_error_at->byte_offset == 12);
    CHECK(r.syntax_error_at->line == 1);
    CHECK(r.syntax_error_at->column == 13);
    REQUIRE(r.total_violations == 1);
    CHECK(r.violations[0].rule == Rule::syntax);
    CHECK(r.violations[0].pointer == "/a");
    CHECK(r.violations[0].message ==
          "malformed JSON at line 1, column 13 (byte offset 12): syntax error while parsing value - "
          "unexpected ','; expected '[', '{', or a literal");
  }
  SECTION("lines and columns")
  {
    const auto r = validate_everywhere("{\n  \"a\": {\n    \"b\": nul }\n}");
    REQUIRE(r.syntax_error_at);
    CHECK(r.syntax_error_at->line == 3);
    CHECK(r.syntax_error_at->column == 13);
    CHECK(r.syntax_error_at->byte_offset == 23);
    CHECK(r.violations.at(0).pointer == "/a");
    CHECK_THAT(r.violations[0].message, Catch::Contains("invalid literal"));
  }
  SECTION("truncated documents")
  {
    const auto r = validate_everywhere(R"({"a":[1,2)");
    REQUIRE(r.syntax_error_at);
    CHECK(r.syntax_error_at->byte_offset == 9);
    CHECK(r.syntax_error_at->column == 10);
    CHECK_THAT(r.violations.at(0).message, Catch::Contains("unexpected end of input"));
    const auto e = validate_everywhere("");
    REQUIRE(e.syntax_error_at);
    CHECK(e.syntax_error_at->byte_offset == 0);
    CHECK(e.syntax_error_at->line == 1);
    CHECK(e.syntax_error_at->column == 1);
    CHECK(e.violations.at(0).pointer.empty());
    const auto s = validate_everywhere(R"({"a":"abc)");
    CHECK(s.syntax_error_at);
  }
  SECTION("trailing bytes, bad UTF-8, numbers out of range")
  {
    CHECK_THAT(validate_everywhere("{} x").violations.at(0).message, Catch::Contains("expected end of input"));
    CHECK(validate_everywhere("{\"a\":\"\xff\"}").syntax_error_at);
    const auto big = validate_everywhere(R"({"a":1e400})");
    REQUIRE(big.syntax_error_at);
    CHECK_THAT(big.violations.at(0).message, Catch::Contains("number overflow parsing '1e400'"));
  }
  SECTION("violations before the error are kept; no size or schema check on a broken document")
  {
    StoreConfig limits;
    limits.max_string_length = 1;
    limits.max_variable_size_bytes = 2;
    const auto r = validate_everywhere(R"({"a":"xx","b":)", limits);
    REQUIRE(r.total_violations == 2);
    CHECK(r.violations[0].rule == Rule::string_length);
    CHECK(r.violations[1].rule == Rule::syntax);
    const auto rec = validate_everywhere(k_record_head);
    CHECK(rec.is_record);
    REQUIRE(rec.total_violations == 1);
    CHECK(rec.violations[0].rule == Rule::syntax);
  }
  SECTION("an error at the last byte of a 1 MiB read buffer")
  {
    // A raw newline in a string is the error; it ends the first buffer.
    const std::size_t chunk = 1U << 20;
    std::string doc = R"({"a":")" + std::string(chunk - 7, 'x') + "\n" + R"(rest"})";
    REQUIRE(doc[chunk - 1] == '\n');
    const auto r = validate_everywhere(doc);
    REQUIRE(r.syntax_error_at);
    CHECK(r.syntax_error_at->byte_offset == chunk - 1);
    CHECK(r.syntax_error_at->line == 1);
    CHECK(r.syntax_error_at->column == chunk);
    CHECK_THAT(r.violations.at(0).message, Catch::Contains("must be escaped"));
    // A number token that ends the buffer, out of range.
    std::string num = "{\n\"n\":" + std::string(chunk - 11, ' ') + "1e400}";
    REQUIRE(num.substr(chunk - 5, 5) == "1e400");
    const auto n = validate_everywhere(num);
    REQUIRE(n.syntax_error_at);
    CHECK(n.syntax_error_at->line == 2);
  }
  SECTION("positions across buffer refills")
  {
    std::string doc = "{\n";
    for (int i = 0; i < 60'000; ++i) {
      doc += "  \"key" + std::to_string(i) + "\": [1, 2.5, \"text\", {\"x\": null}],\n";
    }
    doc += "  \"last\": ]\n}";
    const auto r = validate_everywhere(doc);
    REQUIRE(r.syntax_error_at);
    CHECK(r.syntax_error_at->line == 60'002);
    CHECK(r.syntax_error_at->column == 11);
    CHECK(r.syntax_error_at->byte_offset == doc.size() - 3);
  }
}

TEST_CASE("validate_bytes: records")
{
  SECTION("a record is detected and its variables checked")
  {
    StoreConfig limits;
    limits.max_string_length = 3;
    const auto r = validate_everywhere(record_with(R"({"a":"long","b":{"c":[1,"xyzw"]}})"), limits);
    CHECK(r.is_record);
    CHECK(r.variables_size == std::string(R"({"a":"long","b":{"c":[1,"xyzw"]}})").size());
    REQUIRE(r.total_violations == 2);
    CHECK(r.violations[0].pointer == "/variables/a");
    CHECK(r.violations[1].pointer == "/variables/b/c/1");
  }
  SECTION("fields outside variables are not checked against the limits")
  {
    StoreConfig limits;
    limits.max_string_length = 3;
    limits.max_variable_depth = 0;
    limits.max_variable_size_bytes = 2;
    const std::string doc = k_record_head + R"("variables":{},"result":[[["a long result"]]],"requestMethod":"tools/call","expiresAt":null})";
    const auto r = validate_everywhere(doc, limits);
    CHECK(r.is_record);
    CHECK(r.ok());
  }
  SECTION("size violations point at /variables")
  {
    StoreConfig limits;
    limits.max_variable_size_bytes = 10;
    const auto r = validate_everywhere(record_with(R"({"a":"0123456789"})"), limits);
    REQUIRE(r.total_violations == 1);
    CHECK(r.violations[0].pointer == "/variables");
    CHECK(r.violations[0].rule == Rule::size);
  }
  SECTION("schema problems are violations with pointers")
  {
    std::string doc = record_with(R"({"a":1})");
    doc.replace(doc.find("\"working\""), 9, "\"Working\"");
    doc.replace(doc.find("2025-11-25T11:30:00.123456789Z"), 30, "not a time");
    const auto r = validate_everywhere(doc);
    CHECK(r.is_record);
    REQUIRE(r.total_violations == 2);
    CHECK(r.violations[0].rule == Rule::schema);
    CHECK(r.violations[0].pointer == "/task/status");
    CHECK(r.violations[1].pointer == "/expiresAt");
    CHECK(r.violations[1].message == "invalid RFC 3339 timestamp \"not a time\"");
  }
  SECTION("keys in any order; variables of the wrong type")
  {
    const auto r = validate_everywhere(
      R"({"variables":{"x":")" + std::string(70'000, 'x') +
      R"("},"requestMethod":"m","ownerId":"o","task":{"taskId":"t","status":"working","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:30:00.123Z"}})");
    CHECK(r.is_record);
    REQUIRE(r.total_violations == 1);
    CHECK(r.violations[0].pointer == "/variables/x");

    const auto wrong = validate_everywhere(record_with("[1,2]"));
    CHECK(wrong.is_record);
    REQUIRE(wrong.total_violations == 1);
    CHECK(wrong.violations[0].pointer == "/variables");
    CHECK(wrong.violations[0].message == "expected an object, found an array");
    const auto scalar = validate_everywhere(record_with("5"));
    CHECK(scalar.violations.at(0).message == "expected an object, found integer 5");
    const auto missing = validate_everywhere(k_record_head + R"("requestMethod":"m"})");
    CHECK(missing.violations.at(0).message == "missing required field \"variables\"");
  }
  SECTION("any TaskRecord field makes a record, whose missing fields are reported")
  {
    for (const std::string doc : {R"({"task":{"a":1},"variables":{}})", R"({"ownerId":"o","variables":{}})",
                                  R"({"variables":{},"requestMethod":"m"})", R"({"expiresAt":null})"}) {
      INFO(doc);
      const auto r = validate_everywhere(doc);
      CHECK(r.is_record);
      CHECK_FALSE(r.ok());
      CHECK(r.violations.at(0).message.find("missing required field") != std::string::npos);
    }
    // Other keys (a variable named "variables" or "result" included) keep a variables object.
    const auto r = validate_everywhere(R"({"variables":{},"result":1,"x":2})");
    CHECK_FALSE(r.is_record);
    CHECK(r.ok());
    // --variables forces the other reading.
    ValidateOptions as_variables;
    as_variables.kind = DocumentKind::variables;
    const auto forced = validate_bytes(R"({"task":{"a":1},"variables":{}})", as_variables);
    CHECK_FALSE(forced.is_record);
    CHECK(forced.ok());
    CHECK(forced.variables_size == std::string(R"({"task":{"a":1},"variables":{}})").size());
  }
  SECTION("the kind can be forced")
  {
    const std::string rec = record_with("{}");
    ValidateOptions as_given = options(DocumentKind::variables);
    as_given.size_as_stored = true;
    const auto as_variables = validate_bytes(rec, as_given);
    CHECK_FALSE(as_variables.is_record);
    CHECK(as_variables.variables_size == rec.size());
    const auto as_record = validate_bytes(R"({"a":1})", options(DocumentKind::record));
    CHECK(as_record.is_record);
    CHECK(as_record.total_violations == 4);
    CHECK(as_record.violations[0].rule == Rule::schema);
    const auto not_object = validate_bytes("[1]", options(DocumentKind::record));
    REQUIRE(not_object.total_violations == 1);
    CHECK(not_object.violations[0].message == "expected a task record object, found an array");
  }
  SECTION("in-memory validate_record agrees")
  {
    StoreConfig limits;
    limits.max_variable_depth = 1;
    const std::string doc = record_with(R"({"a":[[1]],"b":{"c":{"d":2}}})");
    const auto mem = validate_record(Json::parse(doc), limits);
    CHECK(mem.is_record);
    REQUIRE(mem.total_violations == 2);
    CHECK(mem.violations[0].pointer == "/variables/a/0/0");
    CHECK(mem.violations[1].pointer == "/variables/b/c/d");
  }
}

TEST_CASE("validate_variables: the root must be an object")
{
  for (const char* doc : {"[]", "1", "\"s\"", "null", "true"}) {
    INFO(doc);
    const auto r = validate_everywhere(doc);
    REQUIRE(r.total_violations == 1);
    CHECK(r.violations[0].rule == Rule::schema);
    CHECK(r.violations[0].pointer.empty());
  }
  CHECK(validate_variables(Json::array(), StoreConfig{}).violations.at(0).message ==
        "expected a JSON object of variables, found an array");
}

TEST_CASE("validate_stream")
{
  const std::string doc = R"({"a":[1,2,{"b":"c"}]})";
  std::istringstream in(doc);
  const auto r = validate_stream(in, options());
  CHECK(r.ok());
  CHECK(r.bytes_read == doc.size());
  CHECK(r.variables_size == doc.size());
  SECTION("a stream that throws at its end")
  {
    std::istringstream throwing(doc);
    throwing.exceptions(std::ios::failbit | std::ios::eofbit);
    CHECK(validate_stream(throwing, options()).ok());
  }
}

TEST_CASE("validate_file")
{
  SECTION("a missing file is an InvalidArgument naming it")
  {
    CHECK_THROWS_AS(validate_file("/nonexistent/dir/vars.json", options()), InvalidArgument);
    CHECK_THROWS_WITH(validate_file("/nonexistent/dir/vars.json", options()),
                      Catch::Contains("/nonexistent/dir/vars.json") && Catch::Contains("No such file"));
    CHECK_THROWS_WITH(validate_file("/", options()), Catch::Contains("Is a directory"));
  }
  SECTION("a generated ~20 MB document, streamed")
  {
    // Compact, serde-formatted text: its measured size must be its length.
    std::mt19937 rng(1234);
    std::string doc = "{";
    std::size_t long_at = 0;
    for (int i = 0; doc.size() < 20'000'000; ++i) {
      if (i > 0) {
        doc += ',';
      }
      doc += "\"var" + std::to_string(i) + "\":{\"id\":" + std::to_string(rng()) + ",\"score\":" +
             format_serde_double(static_cast<double>(rng()) / 7.0) + ",\"tags\":[\"a\",\"b\\n\",\"é\"],\"nested\":" +
             in_objects(rng() % 8, "[true,null,-" + std::to_string(1 + rng() % 1000) + "]") + ",\"text\":\"" +
             std::string(rng() % 200, 'x') + "\"}";
      if (i == 50'000) {
        long_at = static_cast<std::size_t>(i);
        doc += ",\"big\":\"" + std::string(70'000, 'y') + "\"";
      }
    }
    doc += "}";
    TempFile f(doc);
    ValidateOptions o = options();
    o.limits.max_variable_size_bytes = 1U << 30;
    const auto r = validate_file(f.path(), o);
    CHECK(r.bytes_read == doc.size());
    CHECK(r.variables_size == doc.size());
    REQUIRE(r.total_violations == 1);
    CHECK(long_at == 50'000);
    CHECK(r.violations[0].pointer == "/big");
    std::ifstream in(f.path(), std::ios::binary);
    check_same(validate_stream(in, o), r);
  }
}

TEST_CASE("validate_and_parse: the check and the tree in one pass")
{
  ValidateOptions options;
  options.kind = DocumentKind::variables;
  std::optional<Json> tree;
  // Many containers side by side are not deep: the tree is built.
  std::string wide = "{\"a\":[";
  for (int i = 0; i < 2000; ++i) {
    wide += (i > 0 ? ",[{}]" : "[{}]");
  }
  wide += "]}";
  auto report = validate_and_parse(wide, options, tree, 8);
  CHECK(report.ok());
  CHECK(report.max_nesting_depth == 4);
  REQUIRE(tree);
  CHECK((*tree)["a"].size() == 2000);
  CHECK(to_serde_json(*tree) == wide);

  // The same report as validate_bytes.
  const std::string deep = "{\"v\":" + std::string(20, '[') + std::string(20, ']') + "}";
  report = validate_and_parse(deep, options, tree, 8);
  CHECK_FALSE(tree);
  const auto plain = validate_bytes(deep, options);
  CHECK(report.total_violations == plain.total_violations);
  CHECK(report.max_nesting_depth == 21);
  CHECK_FALSE(report.ok());

  report = validate_and_parse("{\"a\":", options, tree, 8);
  CHECK(report.syntax_error_at);
  CHECK_FALSE(tree);
}

TEST_CASE("validate: serde_json's framing (a BOM, a NUL byte, trailing bytes)")
{
  const std::string doc = R"({"a":1})";
  for (const std::string& bad : {std::string("\xEF\xBB\xBF") + doc, doc + std::string(1, '\0'),
                                 doc + std::string("\0{{{garbage", 11), doc + " x"}) {
    INFO(bad);
    const auto r = validate_bytes(bad, options());
    REQUIRE(r.syntax_error_at);
    std::istringstream in(bad);
    CHECK(validate_stream(in, options()).syntax_error_at);
    TempFile f(bad);
    CHECK(validate_file(f.path(), options()).syntax_error_at);
  }
  const auto bom = validate_bytes("\xEF\xBB\xBF" + doc, options());
  CHECK(bom.syntax_error_at->byte_offset == 0);
  CHECK_THAT(bom.violations.at(0).message, Catch::Contains("byte order mark"));
  const auto nul = validate_bytes(doc + std::string("\0x", 2), options());
  CHECK(nul.syntax_error_at->byte_offset == doc.size());
  CHECK_THAT(nul.violations.at(0).message, Catch::Contains("trailing characters"));
  const auto mid = validate_bytes(std::string("{\"a\":\"x\0y\"}", 11), options());
  CHECK(mid.syntax_error_at->byte_offset == 7);
  CHECK(validate_bytes(doc + " \t\r\n", options()).ok());
}

TEST_CASE("validate: a declared field given twice is refused, as serde refuses it")
{
  const std::string rec = record_with("{}");
  const std::pair<std::string, std::string> dups[] = {
    {R"("ownerId":)", "/ownerId"},   {R"("task":)", "/task"},       {R"("variables":)", "/variables"},
    {R"("result":)", "/result"},     {R"("expiresAt":)", "/expiresAt"}, {R"("requestMethod":)", "/requestMethod"},
    {R"("status":)", "/task/status"}, {R"("ttl":)", "/task/ttl"},    {R"("taskId":)", "/task/taskId"}};
  for (const auto& [field, pointer] : dups) {
    INFO(field);
    // Repeat the field with the same value right after itself.
    const auto at = rec.find(field);
    REQUIRE(at != std::string::npos);
    std::size_t end = at + field.size();
    int depth = 0;
    bool in_string = false;
    for (; end < rec.size(); ++end) {
      const char c = rec[end];
      if (in_string) {
        in_string = c != '"' || rec[end - 1] == '\\';
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth-- == 0) {
          break;
        }
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    const std::string member = rec.substr(at, end - at);
    const std::string doubled = rec.substr(0, end) + "," + member + rec.substr(end);
    const auto r = validate_bytes(doubled, options(DocumentKind::record));
    CHECK_FALSE(r.ok());
    bool found = false;
    for (const auto& v : r.violations) {
      found = found || (v.pointer == pointer && v.message.find("duplicate field") != std::string::npos);
    }
    CHECK(found);
  }
  // _meta too, and an unknown key may repeat freely.
  std::string meta = rec;
  meta.replace(meta.find(R"("pollInterval":500})"), 19, R"("pollInterval":500,"_meta":{},"_meta":{}})");
  CHECK_FALSE(validate_bytes(meta, options(DocumentKind::record)).ok());
  std::string unknown = rec;
  unknown.insert(1, R"("zz":1,"zz":2,"version":1,"version":2,)");
  CHECK(validate_bytes(unknown, options(DocumentKind::record)).ok());
}

TEST_CASE("validate: a key repeated inside a value is judged as serde keeps it (last value)")
{
  // serde keeps {"a":1}: the deep first value is discarded, so nothing is wrong.
  const std::string doc = R"({"a":)" + in_arrays(11, "1") + R"(,"a":1})";
  CHECK(validate_bytes(doc, options()).ok());
  TempFile f(doc);
  CHECK(validate_file(f.path(), options()).ok()); // re-read whole: repeated keys
  std::istringstream in(doc);
  CHECK_FALSE(validate_stream(in, options()).ok()); // a stream is judged as written
  // The last value is judged: here it is the deep one.
  const std::string bad = R"({"a":1,"a":)" + in_arrays(11, "1") + "}";
  CHECK_FALSE(validate_bytes(bad, options()).ok());
  // Inside a record's variables, and the size is the kept map's.
  const auto rec = validate_bytes(record_with(R"({"x":"long string","x":1})"), options(DocumentKind::record));
  CHECK(rec.ok());
}

TEST_CASE("validate: the size of a variables document as set_variables measures it")
{
  // A 65,536-byte string plus ten null-valued variables: pmcp-tasks drops
  // the nulls before it measures (65,544 bytes); as given it is 65,644.
  std::string doc = R"({"s":")" + std::string(65'536, 'x') + "\"";
  for (int i = 0; i < 10; ++i) {
    doc += ",\"n" + std::to_string(i) + "\":null";
  }
  doc += "}";
  ValidateOptions o = options(DocumentKind::variables);
  o.limits.max_variable_size_bytes = 65'600;
  const auto input = validate_bytes(doc, o);
  CHECK(input.ok());
  CHECK(input.variables_size == 65'544);
  o.size_as_stored = true;
  const auto stored = validate_bytes(doc, o);
  CHECK_FALSE(stored.ok());
  CHECK(stored.variables_size == 65'644);
  CHECK(stored.variables_size == doc.size());
  // The same in memory.
  const Json j = parse_json(doc);
  CHECK(validate_variables(j, o.limits).variables_size == 65'544);
  CHECK(validate_variables(j, o.limits, true).variables_size == 65'644);
  // Only nulls, and a null first.
  CHECK(validate_bytes(R"({"a":null,"b":null})", options()).variables_size == 2);
  CHECK(validate_bytes(R"({"a":null,"b":1})", options()).variables_size == std::string(R"({"b":1})").size());
}

TEST_CASE("validate: numbers serde_json refuses, in the fields it reads")
{
  const auto r = validate_bytes(R"({"a":1.7976931348623158e308})", options());
  CHECK_FALSE(r.ok());
  CHECK(r.violations.at(0).pointer == "/a");
  CHECK_THAT(r.violations.at(0).message, Catch::Contains("out of range"));
  CHECK(validate_bytes(R"({"a":1.7976931348623157e308})", options()).ok());
  // An unknown field of a record is never read by serde.
  std::string rec = record_with("{}");
  rec.insert(1, R"("zz":1.7976931348623158e308,)");
  CHECK(validate_bytes(rec, options(DocumentKind::record)).ok());
}
