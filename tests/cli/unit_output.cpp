// Unit tests of cli/output: violation lines and objects, secret scrubbing,
// colour, the streaming JSON writer, per-key results, the error printer and
// warnings (the tables: unit_table.cpp).

#include "output.hpp"
#include "unit_support.hpp"

#include "support/temp_dir.hpp"
#include "taskstore/validate.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <stdexcept>

#include <unistd.h>

using namespace taskctl;
using clitest::captured;
using clitest::ScopedEnv;

TEST_CASE("format_violation: /pointer: message, figures for the depth, string-length and size rules", "[unit]")
{
  using taskstore::Rule;
  CHECK(format_violation({"/variables/a", Rule::depth, "nesting depth 11 exceeds maximum 10", 10, 11}) ==
        "/variables/a: nesting depth 11 exceeds maximum 10 (11 > 10)");
  CHECK(format_violation({"/variables/s", Rule::string_length, "too long", 65536, 70000}) ==
        "/variables/s: too long (70000 > 65536)");
  CHECK(format_violation({"/variables", Rule::size, "too big", 100, 101}) == "/variables: too big (101 > 100)");
  CHECK(format_violation({"", Rule::syntax, "unexpected end of input", 0, 0}) == "/: unexpected end of input");
  CHECK(format_violation({"/task/status", Rule::schema, "unknown status", 3, 4}) == "/task/status: unknown status");
}

TEST_CASE("violation_to_json: pointer, rule, message; limit and actual only where they mean something", "[unit]")
{
  using taskstore::Rule;
  CHECK(violation_to_json({"/variables/a", Rule::depth, "deep", 10, 11}).dump() ==
        R"({"pointer":"/variables/a","rule":"depth","message":"deep","limit":10,"actual":11})");
  CHECK(violation_to_json({"", Rule::schema, "not an object", 1, 2}).dump() ==
        R"({"pointer":"","rule":"schema","message":"not an object"})");
  CHECK(violation_to_json({"/v", Rule::string_length, "long", 5, 6})["rule"] == "string_length");
}

TEST_CASE("scrub_secrets: URL passwords and the known secrets become ********", "[unit]")
{
  ScopedEnv env;
  env.set("TASKCTL_STORE_PASSWORD", std::nullopt);
  CHECK(scrub_secrets("cannot connect to redis://admin:s3cret@127.0.0.1:6379/0") ==
        "cannot connect to redis://admin:********@127.0.0.1:6379/0");
  CHECK(scrub_secrets("see 'redis://:pw@host' and dynamodb://t") == "see 'redis://:********@host' and dynamodb://t");
  CHECK(scrub_secrets("no url: a:b@c") == "no url: a:b@c");

  env.set("TASKCTL_STORE_PASSWORD", "hunter2");
  CHECK(scrub_secrets("AUTH hunter2 failed; hunter2 again") == "AUTH ******** failed; ******** again");
  // A short secret is replaced where it stands whole (issue 14 #10: "however
  // short"), not inside other words, so messages stay readable.
  env.set("TASKCTL_STORE_PASSWORD", "ab");
  CHECK(scrub_secrets("a table about abc") == "a table about abc");
  CHECK(scrub_secrets("AUTH 'ab' refused: user:ab@h, p=ab&x, ab") ==
        "AUTH '********' refused: user:********@h, p=********&x, ********");
  env.set("TASKCTL_STORE_PASSWORD", "/");
  CHECK(scrub_secrets("password '/' refused at /tmp/x") == "password '********' refused at /tmp/x");
}

TEST_CASE("scrub_secrets: every source of a secret, in all its forms (issue 14 #10)", "[unit]")
{
  ScopedEnv env;
  for (const char* name : {"TASKCTL_STORE_PASSWORD", "TASKCTL_STORE_PASSWORD_FILE", "TASKCTL_STORE",
                           "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"}) {
    env.set(name, std::nullopt);
  }
  env.set("AWS_SECRET_ACCESS_KEY", "wJalr/XUtnFEMI%K7MDENG");
  env.set("AWS_SESSION_TOKEN", "FwoGZXIv@sess:tok");
  CHECK(scrub_secrets("signing with wJalr/XUtnFEMI%K7MDENG failed") == "signing with ******** failed");
  CHECK(scrub_secrets("encoded wJalr%2FXUtnFEMI%25K7MDENG and wJalr%2fXUtnFEMI%25K7MDENG") ==
        "encoded ******** and ********");
  CHECK(scrub_secrets("token FwoGZXIv@sess:tok, FwoGZXIv%40sess%3Atok") == "token ********, ********");

  // The store URI from the environment, even one that does not parse.
  env.set("TASKCTL_STORE", "dynamodb://t?endpoint=http://alice:a%2Fb9Secret@127.0.0.1:1/&region=x");
  CHECK(scrub_secrets("cannot reach http://alice:a/b9Secret@127.0.0.1:1/") ==
        "cannot reach http://alice:********@127.0.0.1:1/");
  CHECK(scrub_secrets("as given: a%2Fb9Secret") == "as given: ********");
  env.set("TASKCTL_STORE", "redis://u:Pw/9x@h:1");
  CHECK(scrub_secrets("port Pw/9x") == "port ********");

  // The password file's text, whatever wins.
  taskstore::testing::TempDir dir;
  const std::string file = dir.file("password");
  std::ofstream(file) << "s3cr/t-file\n";
  env.set("TASKCTL_STORE_PASSWORD", "other-one");
  env.set("TASKCTL_STORE_PASSWORD_FILE", file);
  CHECK(scrub_secrets("unexpected 's3cr/t-file' at 1:1") == "unexpected '********' at 1:1");
}

TEST_CASE("replace_secret: linear on any input, whole occurrences only when asked", "[unit]")
{
  CHECK(replace_secret("aaaa", "aa", false) == "****************");
  CHECK(replace_secret("xaay", "aa", true) == "xaay");
  CHECK(replace_secret("aa", "aa", true) == "********");
  CHECK(replace_secret("abab abab", "abab", false) == "******** ********");
  CHECK(replace_secret("", "x", false).empty());
  CHECK(replace_secret("x", "", false) == "x");
  // The worst case of a naive search (aaa...ab in aaa...a) is one pass here.
  const std::string text(1'000'000, 'a');
  CHECK(replace_secret(text, std::string(5'000, 'a') + "b", false) == text);
}

TEST_CASE("printable: control bytes, DEL, C1 and invalid UTF-8 escaped; nothing vanishes (issue 14 #15)", "[unit]")
{
  using namespace std::string_literals;
  CHECK(printable("plain text: a:b /x {\"k\":1} \\ ok") == "plain text: a:b /x {\"k\":1} \\ ok");
  CHECK(printable("Redis user '\0'"s) == "Redis user '\\x00'");
  CHECK(printable("\x1b]0;pwned\x07 \x1b[31mred") == "\\x1b]0;pwned\\x07 \\x1b[31mred");
  CHECK(printable("a\tb\nc\rd\x7f\x01") == "a\\tb\\nc\\rd\\x7f\\x01");
  CHECK(printable("csi \u009b31m nel \u0085 nbsp \u00a0 \u00e9 \u4e2d \U0001F600") ==
        "csi \\u009b31m nel \\u0085 nbsp \u00a0 \u00e9 \u4e2d \U0001F600");
  // Invalid UTF-8: a lone continuation byte, a truncated sequence, an
  // overlong, a surrogate, past U+10FFFF.
  CHECK(printable("\x9b[31m") == "\\x9b[31m");
  CHECK(printable("\xe2\x82") == "\\xe2\\x82");
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
  CHECK(printable("") == "");
  // Idempotent, and only printable bytes come out.
  std::string all;
  for (int c = 0; c < 256; ++c) {
    all += static_cast<char>(c);
  }
  all += "\u0080\u009f\u00a0";
  const auto once = printable(all);
  CHECK(printable(once) == once);
  for (const char c : once) {
    const auto u = static_cast<unsigned char>(c);
    CHECK((u >= 0x20 && u != 0x7f));
  }
}

TEST_CASE("diagnostics are printable: error, causes, details, hint, warnings and notes (issue 14 #15)", "[unit]")
{
  using namespace std::string_literals;
  Context ctx;
  ErrorReport report;
  report.code = "x";
  report.message = "Redis user '\0' \x1b]0;pwned\x07"s;
  report.causes = {"\x1b[31mred\u009b"};
  report.details = {"line\nbreak"};
  report.hint = "tab\there";
  auto err = captured(STDERR_FILENO, [&] { print_error(ctx, report); });
  CHECK(err == "taskctl: error: Redis user '\\x00' \\x1b]0;pwned\\x07\n"
               "  caused by: \\x1b[31mred\\u009b\n"
               "  line\\nbreak\n"
               "  hint: tab\\there\n");
  // JSON: the serde writer escapes control characters; nothing is lost.
  ctx.global.output = Format::json;
  err = captured(STDERR_FILENO, [&] { print_error(ctx, report); });
  CHECK(err.find('\x1b') == std::string::npos);
  CHECK(Json::parse(err)["error"]["message"].get<std::string>() == report.message);

  ctx.global.output = Format::unset;
  err = captured(STDERR_FILENO, [&] {
    warn(ctx, "field \x1b[2J");
    note(ctx, "key a:\x1b[2J\x00"s);
  });
  CHECK(err == "taskctl: warning: field \\x1b[2J\n"
               "key a:\\x1b[2J\\x00\n");

  // The 200-byte abbreviation never cuts an escape in half.
  for (std::size_t pad = 190; pad <= 200; ++pad) {
    INFO(pad);
    const auto line = captured(STDERR_FILENO, [&] { warn(ctx, std::string(pad, 'k') + std::string(20, '\x1b')); });
    const auto cut = line.find("\u2026");
    REQUIRE(cut != std::string::npos);
    const auto before = line.substr(0, cut);
    CHECK((before.size() - std::string("taskctl: warning: ").size() - pad) % 4 == 0); // whole \x1b escapes
  }
}

TEST_CASE("ResultStream: keys and the summary sentence printable", "[unit]")
{
  Context ctx;
  ctx.format = Format::table;
  const auto lines = captured(STDOUT_FILENO, [&] {
    ResultStream results(ctx, Json::object());
    results.result("a:\x1b[2J", "deleted", 2);
    // The sentence may quote an owner from the command line.
    results.finish(Json::object(), "deleted 1 record of owner \x1b]0;pwned\x07");
  });
  CHECK(lines == "deleted a:\\x1b[2J (version 2)\n");
  const auto missing = captured(STDERR_FILENO, [&] {
    ResultStream results(ctx, Json::object());
    results.result("a:\x1b[2J", "not_found", 0);
    results.finish(Json::object(), "deleted 0 records of owner \x1b]0;pwned\x07");
  });
  CHECK(missing == "not found a:\\x1b[2J\ndeleted 0 records of owner \\x1b]0;pwned\\x07\n");
}

TEST_CASE("scrub_userinfo: the URL patterns, in linear time on any input", "[unit]")
{
  CHECK(scrub_userinfo("x redis://u:p@h y rediss://v:q:r@h2/0 z") == "x redis://u:********@h y rediss://v:********@h2/0 z");
  CHECK(scrub_userinfo("9redis://u:p@h") == "9redis://u:********@h");       // the scheme starts at a letter
  CHECK(scrub_userinfo("://u:p@h") == "://u:p@h");                          // no scheme
  CHECK(scrub_userinfo("redis://u:@h") == "redis://u:@h");                  // no password
  CHECK(scrub_userinfo("redis://u:p/x@h") == "redis://u:p/x@h");            // '/' ends the password, as before
  CHECK(scrub_userinfo("http://h:8080/path") == "http://h:8080/path");      // a port, not a password
  CHECK(scrub_userinfo("a://b:c@d e://f:g@h") == "a://b:********@d e://f:********@h");
  CHECK(scrub_userinfo("") == "");
  // 30,000 letters crashed the std::regex this replaced (a recursion per
  // character), and 16,000 took 19 s; now it is one pass.
  const std::string letters(30'000, 'k');
  CHECK(scrub_userinfo(letters) == letters);
  CHECK(scrub_userinfo("a:" + letters) == "a:" + letters);
  const std::string url = "redis://" + letters + ":" + letters + "@host";
  CHECK(scrub_userinfo(url) == "redis://" + letters + ":********@host");
  std::string many;
  for (int i = 0; i < 20'000; ++i) {
    many += "s://u:p@h ";
  }
  CHECK(scrub_userinfo(many).find(":p@") == std::string::npos);
}

TEST_CASE("paint colours only when enabled; status_color per task status", "[unit]")
{
  CHECK(paint("x", Color::red, false) == "x");
  CHECK(paint("x", Color::none, true) == "x");
  CHECK(paint("x", Color::red, true) == "\033[1;31mx\033[0m");
  CHECK(paint("x", Color::dim, true) == "\033[2mx\033[0m");
  CHECK(status_color("working") == Color::blue);
  CHECK(status_color("input_required") == Color::magenta);
  CHECK(status_color("completed") == Color::green);
  CHECK(status_color("failed") == Color::red);
  CHECK(status_color("cancelled") == Color::yellow);
  CHECK(status_color("running") == Color::none);
}

TEST_CASE("JsonStreamWriter: one document, the array streamed; pretty only for json on a terminal", "[unit]")
{
  Context ctx;
  ctx.format = Format::json;
  auto out = captured(STDOUT_FILENO, [&] {
    JsonStreamWriter json(ctx, Json{{"prefix", "a:"}}, "records");
    json.item(Json{{"key", "a:1"}});
    json.item(Json(2));
    json.finish(Json{{"count", 2}});
  });
  CHECK(out == R"({"schema_version":1,"prefix":"a:","records":[{"key":"a:1"},2],"count":2})"
               "\n");

  out = captured(STDOUT_FILENO, [&] {
    JsonStreamWriter json(ctx, Json::object(), "keys");
    json.finish(Json::object());
  });
  CHECK(out == "{\"schema_version\":1,\"keys\":[]}\n");

  // Issue 12: a tail field named like a head field is not repeated; an
  // error before the first item leaves stdout empty; one after it closes
  // the document, marked "complete": false.
  out = captured(STDOUT_FILENO, [&] {
    JsonStreamWriter json(ctx, Json{{"dry_run", true}}, "results");
    json.finish(Json{{"would_delete", 0}, {"dry_run", true}});
  });
  CHECK(out == "{\"schema_version\":1,\"dry_run\":true,\"results\":[],\"would_delete\":0}\n");
  out = captured(STDOUT_FILENO, [&] {
    try {
      JsonStreamWriter json(ctx, Json{{"owner", "a"}}, "results");
      throw std::runtime_error("refused before any result");
    } catch (const std::runtime_error&) {
    }
  });
  CHECK(out == "");
  out = captured(STDOUT_FILENO, [&] {
    try {
      JsonStreamWriter json(ctx, Json{{"owner", "a"}}, "results");
      json.item(Json{{"key", "a:1"}});
      throw std::runtime_error("failed after one result");
    } catch (const std::runtime_error&) {
    }
  });
  CHECK(out == "{\"schema_version\":1,\"owner\":\"a\",\"results\":[{\"key\":\"a:1\"}],\"complete\":false}\n");

  ctx.stdout_tty = true;
  out = captured(STDOUT_FILENO, [&] {
    JsonStreamWriter json(ctx, Json{{"head", Json{{"a", 1}}}}, "items");
    json.item(Json{{"k", "v"}});
    json.finish(Json{{"n", 1}});
  });
  CHECK(out == "{\n"
               "  \"schema_version\": 1,\n"
               "  \"head\": {\n"
               "    \"a\": 1\n"
               "  },\n"
               "  \"items\": [\n"
               "    {\n"
               "      \"k\": \"v\"\n"
               "    }\n"
               "  ],\n"
               "  \"n\": 1\n"
               "}\n");
}

TEST_CASE("ResultStream: jsonl lines then a summary; table sentences; raw keys", "[unit]")
{
  Context ctx;
  ctx.format = Format::jsonl;
  auto out = captured(STDOUT_FILENO, [&] {
    ResultStream results(ctx, Json{{"dry_run", false}});
    results.result("a:1", "deleted", 3, std::string("2020-01-01T00:00:00Z"));
    results.result("a:2", "not_found", 0);
    results.finish(Json{{"deleted", 1}}, "deleted 1 record");
  });
  CHECK(out == R"({"key":"a:1","status":"deleted","version":3,"expiresAt":"2020-01-01T00:00:00Z"})"
               "\n"
               R"({"key":"a:2","status":"not_found","version":null})"
               "\n"
               R"({"summary":{"deleted":1}})"
               "\n");

  // Table: the keys that go on stdout; "not found" and the summary are
  // notes on stderr (issue 12), which --quiet silences.
  ctx.format = Format::table;
  std::string err;
  out = captured(STDOUT_FILENO, [&] {
    err = captured(STDERR_FILENO, [&] {
      ResultStream results(ctx, Json::object());
      results.result("a:1", "would_delete", 2);
      results.result("a:2", "deleted", 4, std::string("2020-01-01T00:00:00Z"));
      results.result("a:3", "not_found", 0);
      results.finish(Json::object(), "would delete 1 record");
    });
  });
  CHECK(out == "would delete a:1 (version 2)\n"
               "deleted a:2 (version 4, expired at 2020-01-01T00:00:00Z)\n");
  CHECK(err == "not found a:3\n"
               "would delete 1 record\n");

  out = captured(STDOUT_FILENO, [&] {
    err = captured(STDERR_FILENO, [&] {
      ResultStream results(ctx, Json::object(), false); // no per-key lines, only the sentence
      results.result("a:1", "deleted", 2);
      results.finish(Json::object(), "removed 1 expired record");
    });
  });
  CHECK(out == "");
  CHECK(err == "removed 1 expired record\n");
  ctx.global.quiet = true;
  err = captured(STDERR_FILENO, [&] {
    ResultStream results(ctx, Json::object(), false);
    results.finish(Json::object(), "removed 1 expired record");
  });
  CHECK(err == "");
  ctx.global.quiet = false;

  ctx.format = Format::raw;
  out = captured(STDOUT_FILENO, [&] {
    ResultStream results(ctx, Json::object());
    results.result("a:1", "deleted", 2);
    results.finish(Json::object(), "ignored");
  });
  CHECK(out == "a:1\n");
}

TEST_CASE("print_error: text with causes, details and hint; or one JSON object; secrets scrubbed", "[unit]")
{
  ErrorReport report;
  report.code = "unavailable";
  report.exit_code = exit_unavailable;
  report.message = "backend error: redis://u:pw12@h:1 refused";
  report.causes = {"connection refused"};
  report.details = {"detail one"};
  report.hint = "is the store reachable?";
  report.extra["key"] = "a:1";

  Context ctx;
  auto err = captured(STDERR_FILENO, [&] { print_error(ctx, report); });
  CHECK(err == "taskctl: error: backend error: redis://u:********@h:1 refused\n"
               "  caused by: connection refused\n"
               "  detail one\n"
               "  hint: is the store reachable?\n");

  ctx.global.output = Format::jsonl;
  err = captured(STDERR_FILENO, [&] { print_error(ctx, report); });
  CHECK(err == R"({"error":{"code":"unavailable","exit":5,"message":"backend error: redis://u:********@h:1 refused",)"
               R"("causes":["connection refused"],"details":["detail one"],"hint":"is the store reachable?",)"
               R"("key":"a:1"}})"
               "\n");

  ctx.global.output = Format::unset;
  ctx.color_stderr = true;
  err = captured(STDERR_FILENO, [&] { print_error(ctx, ErrorReport{"x", 1, "m", {}, {}, {}, Json::object()}); });
  CHECK(err == "taskctl: \033[1;31merror:\033[0m m\n");
}

TEST_CASE("warn and note go to stderr unless --quiet; unknown fields are warned about by pointer", "[unit]")
{
  Context ctx;
  auto err = captured(STDERR_FILENO, [&] {
    warn(ctx, "careful");
    note(ctx, "3 records");
    warn_unknown_fields(ctx, {"/extra", "/task/extra"});
  });
  CHECK(err == "taskctl: warning: careful\n"
               "3 records\n"
               "taskctl: warning: unknown field /extra is not stored (pmcp-tasks ignores it too)\n"
               "taskctl: warning: unknown field /task/extra is not stored (pmcp-tasks ignores it too)\n");

  ctx.global.quiet = true;
  err = captured(STDERR_FILENO, [&] {
    warn(ctx, "careful");
    note(ctx, "3 records");
    warn_unknown_fields(ctx, {"/extra"});
  });
  CHECK(err.empty());
}

TEST_CASE("print_document: compact, or pretty for json on a terminal", "[unit]")
{
  Context ctx;
  ctx.format = Format::jsonl;
  CHECK(new_document(ctx).dump() == "{}");
  ctx.format = Format::json;
  CHECK(new_document(ctx).dump() == R"({"schema_version":1})");
  const Json doc = {{"schema_version", 1}, {"key", "a:1"}};
  CHECK(captured(STDOUT_FILENO, [&] { print_document(ctx, doc); }) == "{\"schema_version\":1,\"key\":\"a:1\"}\n");
  ctx.stdout_tty = true;
  CHECK(captured(STDOUT_FILENO, [&] { print_document(ctx, doc); }) ==
        "{\n  \"schema_version\": 1,\n  \"key\": \"a:1\"\n}\n");
  ctx.format = Format::jsonl; // one line even on a terminal
  CHECK(captured(STDOUT_FILENO, [&] { print_document(ctx, doc); }) == "{\"schema_version\":1,\"key\":\"a:1\"}\n");
  CHECK(dump_json(Json("\xff")) == "\"\xEF\xBF\xBD\""); // invalid UTF-8 is replaced, not thrown
}

TEST_CASE("abbreviate_long_words bounds what a diagnostic quotes, linearly", "[unit]")
{
  CHECK(abbreviate_long_words("key not found: a:b") == "key not found: a:b");
  const std::string long_key = "a:" + std::string(30'000, 'k');
  const auto shown = abbreviate_long_words("key not found: " + long_key + " (version 3)");
  CHECK(shown == "key not found: a:" + std::string(198, 'k') + "\u2026(29802 more bytes) (version 3)");
  // Never inside a UTF-8 sequence: 199 ASCII bytes, then 2-byte characters.
  std::string utf8 = std::string(199, 'x');
  for (int i = 0; i < 10; ++i) {
    utf8 += "\u00e9";
  }
  CHECK(abbreviate_long_words(utf8) == std::string(199, 'x') + "\u2026(20 more bytes)");
  // A million-letter word (the old regex scrubber crashed at 26,000) is one cut.
  CHECK(abbreviate_long_words(std::string(1'000'000, 'z')).size() < 300);
}
