#include "taskstore/backends/redis/walk.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace taskstore::redis_detail {

// ---------------------------------------------------------------------------
// IndexWalk

std::vector<Command>
IndexWalk::next(const Scripts& scripts) const
{
  const std::string from = std::to_string(start_);
  const std::string to = std::to_string(start_ + page_size - 1);
  if (locate_) {
    Command cmd = scripts.head(ScriptId::locate, 1);
    cmd << index_key_ << last_.score_text;
    for (std::size_t i = 0; i < recent_.size(); ++i) {
      cmd << recent_[recent_.size() - 1 - i];
    }
    return {std::move(cmd)};
  }
  Command range{"ZRANGE", index_key_, from, to, "WITHSCORES"};
  if (check_.empty()) {
    return {std::move(range)};
  }
  Command check = check_by_rank_ ? Command{"ZRANK", index_key_, check_}
                                 : Command{"ZCOUNT", index_key_, "-inf", "(" + check_};
  return {Command{"MULTI"}, std::move(check), std::move(range), Command{"EXEC"}};
}

std::vector<IndexEntry>
IndexWalk::accept(Connection& c, std::vector<Reply> replies)
{
  if (locate_) {
    Reply r = c.checked(std::move(replies.back()), "");
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->element[0]->type != REDIS_REPLY_INTEGER) {
      c.fail("unexpected reply locating a page of the index " + index_key_, "");
    }
    start_ = r->element[0]->integer;
    if (r->elements > 1) {
      check_by_rank_ = true;
      check_ = std::string(reply_text(r->element[1]));
      check_value_ = start_ - 1;
    } else {
      check_by_rank_ = false;
      check_ = last_.score_text;
      check_value_ = start_;
    }
    locate_ = false;
    return {};
  }
  Reply holder;
  const redisReply* range = nullptr;
  if (check_.empty()) {
    holder = c.checked(std::move(replies.back()), "");
    range = holder.get();
  } else {
    for (Reply& r : replies) {
      r = c.checked(std::move(r), "");
    }
    Reply exec = std::move(replies.back());
    if (exec->type != REDIS_REPLY_ARRAY || exec->elements != 2) {
      c.fail("unexpected reply reading the index " + index_key_, "");
    }
    const redisReply* check = exec->element[0];
    if (check->type != REDIS_REPLY_INTEGER || check->integer != check_value_) {
      locate_ = true; // moved: find the start again
      return {};
    }
    range = exec->element[1];
    holder = std::move(exec);
  }
  return page(c, range);
}

std::vector<IndexEntry>
IndexWalk::page(Connection& c, const redisReply* reply)
{
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 0) {
    c.fail("unexpected reply reading the index " + index_key_, "");
  }
  const std::size_t count = reply->elements / 2;
  done_ = count < page_size;
  std::vector<IndexEntry> out;
  out.reserve(count);
  if (count > 0) {
    recent_.clear();
  }
  for (std::size_t i = 0; i < count; ++i) {
    IndexEntry e;
    e.member = std::string(reply_text(reply->element[2 * i]));
    e.score_text = std::string(reply_text(reply->element[2 * i + 1]));
    e.score = std::strtod(e.score_text.c_str(), nullptr);
    if (count - i <= anchor_candidates) {
      recent_.push_back(e.member);
    }
    if (i + 1 == count) {
      check_ = e.member;
      check_by_rank_ = true;
    }
    const bool after =
      !started_ || e.score > last_.score || (e.score == last_.score && e.member > last_.member);
    if (after) {
      last_ = e;
      started_ = true;
      out.push_back(std::move(e));
    }
  }
  start_ += static_cast<long long>(count);
  check_value_ = start_ - 1;
  return out;
}

// ---------------------------------------------------------------------------
// KeyScan

std::vector<Command>
KeyScan::next() const
{
  return {Command{"SCAN", cursor_, "MATCH", pattern_, "COUNT", std::to_string(scan_count)}};
}

std::vector<std::string>
KeyScan::accept(Connection& c, std::vector<Reply> replies)
{
  Reply reply = c.checked(std::move(replies.back()), "");
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || reply->element[1]->type != REDIS_REPLY_ARRAY) {
    c.fail("unexpected reply to SCAN", "");
  }
  cursor_ = std::string(reply_text(reply->element[0]));
  done_ = cursor_ == "0";
  std::vector<std::string> keys;
  keys.reserve(reply->element[1]->elements);
  for (std::size_t i = 0; i < reply->element[1]->elements; ++i) {
    keys.emplace_back(reply_text(reply->element[1]->element[i]));
  }
  return keys;
}

// ---------------------------------------------------------------------------
// Sources

OwnerSource::OwnerSource(const Layout& layout, KeyParts parts)
  : layout_(layout), parts_(std::move(parts)), walk_(layout.index_key(parts_.owner_id))
{
}

std::vector<Item>
OwnerSource::accept(Connection& c, std::vector<Reply> replies)
{
  std::vector<Item> items;
  for (IndexEntry& e : walk_.accept(c, std::move(replies))) {
    if (e.member.starts_with(parts_.task_id)) {
      std::string hash = layout_.hash_key(parts_.owner_id, e.member);
      items.push_back(Item{parts_.owner_id + ":" + e.member, std::move(hash), std::move(e.member)});
    }
  }
  return items;
}

KeySource::KeySource(const Layout& layout, std::string_view prefix)
  : layout_(layout), prefix_(prefix), scan_(glob_escape(layout.tasks_prefix()) + glob_escape(prefix) + "*")
{
}

std::vector<Item>
KeySource::accept(Connection& c, std::vector<Reply> replies)
{
  std::vector<Item> items;
  for (std::string& h : scan_.accept(c, std::move(replies))) {
    if (auto k = layout_.composite_of(h, prefix_)) {
      items.push_back(Item{std::move(*k), std::move(h), std::string()});
    }
  }
  return items;
}

OrderedKeySource::OrderedKeySource(const Layout& layout, std::string_view prefix, std::string start_after,
                                   std::size_t round_keys)
  : layout_(layout)
  , prefix_(prefix)
  , pattern_(glob_escape(layout.tasks_prefix()) + glob_escape(prefix) + "*")
  , cursor_(std::move(start_after))
  , round_keys_(std::max<std::size_t>(round_keys, 1))
  , scan_(pattern_)
{
}

std::vector<Item>
OrderedKeySource::accept(Connection& c, std::vector<Reply> replies)
{
  for (std::string& h : scan_.accept(c, std::move(replies))) {
    auto k = layout_.composite_of(h, prefix_);
    if (!k || *k <= cursor_) {
      continue;
    }
    if (round_.size() == round_keys_) {
      if (*k >= *round_.rbegin()) {
        continue;
      }
      round_.erase(std::prev(round_.end()));
    }
    round_.insert(std::move(*k));
  }
  if (!scan_.done()) {
    return {};
  }
  std::vector<Item> items;
  items.reserve(round_.size());
  for (const std::string& k : round_) {
    items.push_back(Item{k, layout_.tasks_prefix() + k, std::string()});
  }
  if (round_.size() < round_keys_) {
    done_ = true;
  } else {
    cursor_ = *round_.rbegin();
    scan_ = KeyScan(pattern_);
  }
  round_.clear();
  return items;
}

// ---------------------------------------------------------------------------
// Walk

void
Walk::Sizer::observe(std::size_t largest)
{
  const std::size_t fit = batch_bytes / std::max<std::size_t>(largest, 1);
  chunk_ = std::clamp<std::size_t>(std::min(fit, chunk_ * 2), min_chunk, batch_size);
}

const std::string&
Walk::Flight::key_at(std::size_t i) const
{
  if (i < writes.size()) {
    return writes[i].key;
  }
  i -= writes.size();
  if (i < items.size()) {
    return items[i].key;
  }
  return ask[i - items.size()].key;
}

std::vector<Command>
Walk::Flight::aligned() const
{
  std::vector<Command> out = writes;
  out.resize(writes.size() + items.size());
  out.insert(out.end(), ask.begin(), ask.end());
  return out;
}

Walk::~Walk()
{
  try {
    c_.drain(); // a visitor stopped or threw: leave the connection clean
  } catch (...) {
  }
}

bool
Walk::launch(std::vector<Command> writes)
{
  Flight f;
  f.writes = std::move(writes);
  const std::size_t n = std::min(queue_.size(), sizer_.chunk());
  f.items.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    f.items.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  // Keys run a round trip ahead of the HMGETs (two chunks' worth), so the
  // next round trip can leave before this one's answer is back.
  if (!asking_ && !source_.done() && queue_.size() < 2 * batch_size) {
    f.ask = source_.next(scripts_);
    asking_ = true;
  }
  if (f.size() == 0) {
    return false;
  }
  for (const Command& cmd : f.writes) {
    c_.append(cmd);
  }
  for (const Item& item : f.items) {
    c_.append_hmget(item.hash, item.key);
  }
  for (const Command& cmd : f.ask) {
    c_.append(cmd);
  }
  f.replies.reserve(f.size());
  flights_.push_back(std::move(f));
  return true;
}

void
Walk::read_until(std::size_t index, std::size_t count)
{
  for (std::size_t i = 0; i <= index; ++i) {
    Flight& f = flights_[i];
    const std::size_t want = i < index ? f.size() : count;
    while (f.replies.size() < want) {
      f.replies.push_back(c_.read(f.key_at(f.replies.size())));
    }
  }
}

void
Walk::fix_noscript(std::size_t index)
{
  const std::vector<Reply>& replies = flights_[index].replies;
  if (std::none_of(replies.begin(), replies.end(), [](const Reply& r) { return Scripts::is_noscript(r.get()); })) {
    return;
  }
  read_until(flights_.size() - 1, flights_.back().size());
  Flight& f = flights_[index];
  scripts_.retry_noscript(c_, f.aligned(), f.replies);
}

std::vector<Reply>
Walk::write(std::vector<Command> writes)
{
  if (writes.empty()) {
    return {};
  }
  const std::size_t n = writes.size();
  launch(std::move(writes));
  const std::size_t last = flights_.size() - 1;
  read_until(last, n);
  fix_noscript(last);
  std::vector<Reply> replies;
  replies.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    replies.push_back(std::move(flights_[last].replies[i]));
  }
  return replies;
}

void
Walk::run(const Visit& visit, const std::function<void()>& batch_end)
{
  for (;;) {
    if (stop_ && stop_()) {
      return; // the replies still due are read by the destructor
    }
    while (flights_.size() < 2 && launch({})) {
    }
    if (flights_.empty()) {
      return;
    }

    read_until(0, flights_.front().size());
    fix_noscript(0);
    Flight f = std::move(flights_.front());
    flights_.pop_front();
    const std::size_t writes = f.writes.size(); // their replies went to write()
    std::vector<Fetched> records;
    records.reserve(f.items.size());
    std::size_t largest = 0;
    for (std::size_t i = 0; i < f.items.size(); ++i) {
      Reply& raw = f.replies[writes + i];
      if (is_error(raw.get()) && error_code(reply_text(raw.get())) == "WRONGTYPE") {
        records.push_back(Fetched{std::nullopt, std::string(not_a_hash)});
        continue;
      }
      Reply r = c_.checked(std::move(raw), f.items[i].key);
      records.push_back(read_fetched(r.get(), f.items[i].key));
      if (records.back().record) {
        largest = std::max(largest, records.back().record->data.size());
      }
    }
    if (!f.ask.empty()) {
      asking_ = false;
      std::vector<Reply> answer;
      for (std::size_t i = writes + f.items.size(); i < f.replies.size(); ++i) {
        answer.push_back(std::move(f.replies[i]));
      }
      for (Item& item : source_.accept(c_, std::move(answer))) {
        queue_.push_back(std::move(item));
      }
    }
    f.replies.clear();
    if (!f.items.empty()) {
      sizer_.observe(largest);
    }
    for (std::size_t i = 0; i < f.items.size(); ++i) {
      if (!visit(f.items[i], records[i])) {
        return;
      }
    }
    if (batch_end) {
      batch_end();
    }
  }
}

} // namespace taskstore::redis_detail
