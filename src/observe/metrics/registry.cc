#include "observe/metrics/registry.h"

#include <algorithm>
#include <cmath>

namespace sg::observe {
namespace {

bool ValidMetricName(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool ValidLabelName(std::string_view n) {
  if (n.find(':') != std::string_view::npos || n.starts_with("__")) return false;
  return ValidMetricName(n);
}

}  // namespace

// ---- Family -------------------------------------------------------------

Family::Family(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

bool Family::CheckArity(const LabelValues& values) const {
  if (values.size() == label_names_.size()) return true;
  dropped_.fetch_add(1);
  return false;
}

std::string Family::SeriesName(std::string_view suffix, const LabelValues& values,
                               std::string_view extra_label, std::string_view extra_value) const {
  std::string s = name_;
  s += suffix;
  if (values.empty() && extra_label.empty()) return s;
  s += '{';
  bool first = true;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!first) s += ',';
    first = false;
    s += label_names_[i];
    s += "=\"";
    s += EscapeLabelValue(values[i]);
    s += '"';
  }
  if (!extra_label.empty()) {
    if (!first) s += ',';
    s += extra_label;
    s += "=\"";
    s += EscapeLabelValue(extra_value);
    s += '"';
  }
  s += '}';
  return s;
}

void Family::WriteHeader(std::string& out, std::string_view type) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += EscapeHelp(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type;
  out += '\n';
}

// ---- Counter ------------------------------------------------------------

void Counter::Inc(const LabelValues& labels, double amount) {
  if (!CheckArity(labels)) return;
  if (!(amount >= 0)) {  // also rejects NaN
    dropped_.fetch_add(1);
    return;
  }
  std::lock_guard<std::mutex> l(mu_);
  values_[labels] += amount;
}

double Counter::Value(const LabelValues& labels) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = values_.find(labels);
  return it == values_.end() ? 0 : it->second;
}

void Counter::Write(std::string& out) const {
  WriteHeader(out, "counter");
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [labels, v] : values_) {
    out += SeriesName("", labels);
    out += ' ';
    out += FormatValue(v);
    out += '\n';
  }
}

// ---- Gauge --------------------------------------------------------------

void Gauge::Set(const LabelValues& labels, double value) {
  if (!CheckArity(labels)) return;
  std::lock_guard<std::mutex> l(mu_);
  values_[labels] = value;
}

void Gauge::Add(const LabelValues& labels, double delta) {
  if (!CheckArity(labels)) return;
  std::lock_guard<std::mutex> l(mu_);
  values_[labels] += delta;
}

void Gauge::Remove(const LabelValues& labels) {
  std::lock_guard<std::mutex> l(mu_);
  values_.erase(labels);
}

void Gauge::Clear() {
  std::lock_guard<std::mutex> l(mu_);
  values_.clear();
}

double Gauge::Value(const LabelValues& labels) const {
  if (func_ && labels.empty()) return func_();
  std::lock_guard<std::mutex> l(mu_);
  auto it = values_.find(labels);
  return it == values_.end() ? 0 : it->second;
}

void Gauge::Write(std::string& out) const {
  WriteHeader(out, "gauge");
  if (func_) {  // read without holding our lock: the function may take its own
    out += name_;
    out += ' ';
    out += FormatValue(func_());
    out += '\n';
    return;
  }
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [labels, v] : values_) {
    out += SeriesName("", labels);
    out += ' ';
    out += FormatValue(v);
    out += '\n';
  }
}

// ---- Histogram ----------------------------------------------------------

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> bounds)
    : Family(std::move(name), std::move(help), std::move(label_names)),
      bounds_(std::move(bounds)) {}

void Histogram::Observe(const LabelValues& labels, double value) {
  if (!CheckArity(labels)) return;
  if (std::isnan(value)) {
    dropped_.fetch_add(1);
    return;
  }
  // Bucket i counts values <= bounds_[i]; the last one is +Inf.
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  std::lock_guard<std::mutex> l(mu_);
  Series& s = series_[labels];
  if (s.counts.empty()) s.counts.assign(bounds_.size() + 1, 0);
  s.counts[i]++;
  s.sum += value;
  s.count++;
}

Histogram::Snapshot Histogram::Get(const LabelValues& labels) const {
  Snapshot snap;
  snap.buckets.assign(bounds_.size() + 1, 0);
  std::lock_guard<std::mutex> l(mu_);
  auto it = series_.find(labels);
  if (it == series_.end()) return snap;
  uint64_t cum = 0;
  for (size_t i = 0; i < it->second.counts.size(); ++i) {
    cum += it->second.counts[i];
    snap.buckets[i] = cum;
  }
  snap.sum = it->second.sum;
  snap.count = it->second.count;
  return snap;
}

void Histogram::Write(std::string& out) const {
  WriteHeader(out, "histogram");
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [labels, s] : series_) {
    uint64_t cum = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      cum += s.counts[i];
      std::string le = i < bounds_.size() ? FormatValue(bounds_[i]) : "+Inf";
      out += SeriesName("_bucket", labels, "le", le);
      out += ' ';
      out += std::to_string(cum);
      out += '\n';
    }
    out += SeriesName("_sum", labels);
    out += ' ';
    out += FormatValue(s.sum);
    out += '\n';
    out += SeriesName("_count", labels);
    out += ' ';
    out += std::to_string(s.count);
    out += '\n';
  }
}

std::vector<double> DefaultBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

// ---- Registry -----------------------------------------------------------

Status Registry::CheckNew(const std::string& name,
                          const std::vector<std::string>& label_names) const {
  if (!ValidMetricName(name)) return InvalidError("invalid metric name \"" + name + "\"");
  for (size_t i = 0; i < label_names.size(); ++i) {
    const std::string& l = label_names[i];
    if (!ValidLabelName(l)) {
      return InvalidError("metric " + name + ": invalid label name \"" + l + "\"");
    }
    if (std::find(label_names.begin(), label_names.begin() + i, l) != label_names.begin() + i) {
      return InvalidError("metric " + name + ": duplicate label name \"" + l + "\"");
    }
  }
  if (families_.count(name)) return AlreadyExistsError("metric " + name + " already registered");
  return OkStatus();
}

StatusOr<Counter*> Registry::AddCounter(std::string name, std::string help,
                                        std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> l(mu_);
  SG_RETURN_IF_ERROR(CheckNew(name, label_names));
  auto* c = new Counter(name, std::move(help), std::move(label_names));
  families_[name].reset(c);
  if (c->label_names().empty()) c->values_[{}] = 0;
  return c;
}

StatusOr<Gauge*> Registry::AddGauge(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> l(mu_);
  SG_RETURN_IF_ERROR(CheckNew(name, label_names));
  auto* g = new Gauge(name, std::move(help), std::move(label_names));
  families_[name].reset(g);
  if (g->label_names().empty()) g->values_[{}] = 0;
  return g;
}

StatusOr<Gauge*> Registry::AddGaugeFunc(std::string name, std::string help,
                                        std::function<double()> read) {
  if (!read) return InvalidError("metric " + name + ": no function");
  std::lock_guard<std::mutex> l(mu_);
  SG_RETURN_IF_ERROR(CheckNew(name, {}));
  auto* g = new Gauge(name, std::move(help), {});
  g->func_ = std::move(read);
  families_[name].reset(g);
  return g;
}

StatusOr<Histogram*> Registry::AddHistogram(std::string name, std::string help,
                                            std::vector<double> bounds,
                                            std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> l(mu_);
  SG_RETURN_IF_ERROR(CheckNew(name, label_names));
  if (std::find(label_names.begin(), label_names.end(), "le") != label_names.end()) {
    return InvalidError("metric " + name + ": label name \"le\" is reserved for buckets");
  }
  if (bounds.empty()) return InvalidError("metric " + name + ": no bucket bounds");
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (std::isnan(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
      return InvalidError("metric " + name + ": bucket bounds must increase strictly");
    }
  }
  if (std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();  // implicit
  auto* h = new Histogram(name, std::move(help), std::move(label_names), std::move(bounds));
  families_[name].reset(h);
  if (h->label_names().empty()) h->series_[{}].counts.assign(h->bounds_.size() + 1, 0);
  return h;
}

std::string Registry::Expose() const {
  std::vector<const Family*> families;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [name, f] : families_) families.push_back(f.get());
  }
  std::string out;
  for (const Family* f : families) f->Write(out);
  return out;
}

}  // namespace sg::observe
