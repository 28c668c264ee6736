#include "kube/events/event_recorder.h"

#include <cstdio>

#include "kube/lease/lease_record.h"  // FormatMicroTime

namespace sg::kube {

using nlohmann::json;

namespace {

constexpr size_t kMaxNoteBytes = 1024;  // events.k8s.io/v1 validation limit

std::string MetaString(const json& object, const char* field) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto it = meta->find(field);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

std::string TopString(const json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string Truncate(std::string s) {
  if (s.size() <= kMaxNoteBytes) return s;
  s.resize(kMaxNoteBytes);
  // Do not cut a UTF-8 sequence in half.
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
  if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80)) s.pop_back();
  return s;
}

}  // namespace

ObjectRef ObjectRef::From(const json& object) {
  ObjectRef ref;
  ref.api_version = TopString(object, "apiVersion");
  ref.kind = TopString(object, "kind");
  ref.ns = MetaString(object, "namespace");
  ref.name = MetaString(object, "name");
  ref.uid = MetaString(object, "uid");
  return ref;
}

json ObjectRef::ToJson() const {
  json j = json::object();
  if (!api_version.empty()) j["apiVersion"] = api_version;
  if (!kind.empty()) j["kind"] = kind;
  if (!ns.empty()) j["namespace"] = ns;
  if (!name.empty()) j["name"] = name;
  if (!uid.empty()) j["uid"] = uid;
  return j;
}

EventRecorder::EventRecorder(EventSink* sink, Clock* clock, EventRecorderOptions options)
    : sink_(sink),
      clock_(clock),
      options_(std::move(options)),
      bucket_(options_.qps, options_.burst, clock) {
  sender_ = std::thread([this] { SenderLoop(); });
}

EventRecorder::~EventRecorder() { Shutdown(); }

void EventRecorder::Event(const ObjectRef& regarding, EventType type, const std::string& reason,
                          const std::string& action, const std::string& note) {
  Pending p{regarding, type, reason, action, Truncate(note), clock_->Now(), clock_->WallNow()};
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_ || queue_.size() >= options_.queue_capacity) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(p));
  cv_.notify_all();
}

void EventRecorder::Shutdown() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (sender_.joinable()) sender_.join();
}

uint64_t EventRecorder::dropped() const {
  std::lock_guard<std::mutex> l(mu_);
  return dropped_;
}

uint64_t EventRecorder::write_failures() const {
  std::lock_guard<std::mutex> l(mu_);
  return write_failures_;
}

EventRecorder::Key EventRecorder::KeyFor(const Pending& p) {
  const std::string who =
      p.regarding.uid.empty() ? p.regarding.ns + "/" + p.regarding.name : p.regarding.uid;
  return {who,      p.regarding.kind, p.type == EventType::kWarning ? "Warning" : "Normal",
          p.reason, p.action,         p.note};
}

Clock::TimePoint EventRecorder::NextFlushLocked() const {
  Clock::TimePoint next = Clock::TimePoint::max();
  for (const auto& [key, s] : series_) {
    if (s.dirty) next = std::min(next, s.last_write + options_.series_flush_interval);
  }
  return next;
}

void EventRecorder::SenderLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!queue_.empty()) {
      Pending p = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      Process(p);
      lock.lock();
      continue;
    }
    const auto next_flush = NextFlushLocked();
    if (stopping_ || clock_->Now() >= next_flush) {
      // Flush due series (all of them when stopping).
      std::vector<Key> due;
      const auto now = clock_->Now();
      for (const auto& [key, s] : series_) {
        if (s.dirty && (stopping_ || s.last_write + options_.series_flush_interval <= now)) {
          due.push_back(key);
        }
      }
      lock.unlock();
      for (const auto& key : due) FlushSeries(key);
      lock.lock();
      if (stopping_ && queue_.empty()) return;
      continue;
    }
    if (next_flush == Clock::TimePoint::max()) {
      Clock::Wait(lock, cv_);
    } else {
      clock_->WaitUntil(lock, cv_, next_flush);
    }
  }
}

void EventRecorder::Process(const Pending& p) {
  const Key key = KeyFor(p);
  bool flush_now = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = series_.find(key);
    if (it != series_.end() && p.at - it->second.last_observed <= options_.aggregation_window) {
      Series& s = it->second;
      ++s.count;
      s.last_observed = p.at;
      s.last_observed_wall = p.wall;
      s.dirty = true;
      flush_now = p.at >= s.last_write + options_.series_flush_interval;
      if (!flush_now) return;  // folded into the next patch
    }
  }
  if (flush_now) {
    FlushSeries(key);
    return;
  }
  CreateEvent(key, p);
}

void EventRecorder::WaitForToken() {
  const auto delay = bucket_.When("");
  if (delay <= Clock::Duration::zero()) return;
  const auto until = clock_->Now() + delay;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_ && clock_->Now() < until) clock_->WaitUntil(lock, cv_, until);
}

void EventRecorder::CreateEvent(const Key& key, const Pending& p) {
  WaitForToken();
  std::string ns = p.regarding.ns.empty() ? "default" : p.regarding.ns;
  char suffix[40];
  uint64_t seq;
  {
    std::lock_guard<std::mutex> l(mu_);
    seq = ++name_seq_;
  }
  // client-go names events <object>.<unix nanos in hex>; the sequence keeps
  // two events in the same nanosecond (a FakeClock) apart.
  std::snprintf(suffix, sizeof(suffix), ".%llx%llx",
                static_cast<unsigned long long>(p.wall.time_since_epoch().count()),
                static_cast<unsigned long long>(seq));
  json event = {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", {{"name", p.regarding.name + suffix}, {"namespace", ns}}},
      {"eventTime", FormatMicroTime(p.wall)},
      {"reportingController", options_.reporting_controller},
      {"reportingInstance", options_.reporting_instance},
      {"action", p.action},
      {"reason", p.reason},
      {"note", p.note},
      {"type", p.type == EventType::kWarning ? "Warning" : "Normal"},
      {"regarding", p.regarding.ToJson()},
  };
  auto created = sink_->Create(ns, event);
  std::lock_guard<std::mutex> l(mu_);
  if (!created.ok()) {
    ++write_failures_;
    return;
  }
  Series s;
  s.regarding = p.regarding;
  s.ns = ns;
  s.name = *created;
  s.last_observed = p.at;
  s.last_observed_wall = p.wall;
  s.last_write = clock_->Now();
  series_[key] = s;
  EvictLocked(p.at);
}

void EventRecorder::FlushSeries(const Key& key) {
  WaitForToken();
  Series s;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = series_.find(key);
    if (it == series_.end() || !it->second.dirty) return;
    s = it->second;
    it->second.dirty = false;
    it->second.last_write = clock_->Now();
  }
  json patch = {
      {"series",
       {{"count", s.count}, {"lastObservedTime", FormatMicroTime(s.last_observed_wall)}}}};
  Status st = sink_->PatchSeries(s.ns, s.name, patch);
  if (st.ok()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (st.code() != Code::kNotFound) {
      ++write_failures_;
      return;
    }
    // The Event expired or was deleted: start a new one.
    series_.erase(key);
  }
  Pending p;
  p.regarding = s.regarding;
  p.type = std::get<2>(key) == "Warning" ? EventType::kWarning : EventType::kNormal;
  p.reason = std::get<3>(key);
  p.action = std::get<4>(key);
  p.note = std::get<5>(key);
  p.at = s.last_observed;
  p.wall = s.last_observed_wall;
  CreateEvent(key, p);
}

void EventRecorder::EvictLocked(Clock::TimePoint now) {
  if (series_.size() <= options_.max_tracked) return;
  for (auto it = series_.begin(); it != series_.end();) {
    if (!it->second.dirty && now - it->second.last_observed > options_.aggregation_window) {
      it = series_.erase(it);
    } else {
      ++it;
    }
  }
  while (series_.size() > options_.max_tracked) {
    auto oldest = series_.begin();
    for (auto it = series_.begin(); it != series_.end(); ++it) {
      if (it->second.last_observed < oldest->second.last_observed) oldest = it;
    }
    series_.erase(oldest);
  }
}

}  // namespace sg::kube
