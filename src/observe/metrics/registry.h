// Registry: Prometheus metrics in the text exposition format 0.0.4, without
// a third-party library. Three kinds, each a family of series keyed by label
// values (in the order of the label names given at registration):
//
//   Counter   monotonically increasing (Inc with a non-negative amount)
//   Gauge     set/add; Remove() drops one series (e.g. an object deleted);
//             AddGaugeFunc() reads an unlabelled value at scrape time
//   Histogram cumulative buckets (upper bounds given at registration; +Inf
//             is implicit), _sum and _count
//
// A call whose number of label values does not match the family's label
// names is dropped (and counted in dropped()): instrumentation never fails
// the caller.
//
// Exposition (Expose()): families sorted by name, series sorted by label
// values; HELP text escapes '\' and newline, label values escape '\', '"' and
// newline; numbers in shortest round-trip form, +Inf/-Inf/NaN spelled as
// Prometheus does; histogram buckets as name_bucket{...,le="<bound>"}.
// A family with no series yet prints only its HELP and TYPE lines (an
// unlabelled family starts with its one series at 0).
//
// Thread-safety: everything may be called from any thread; a family's
// methods take that family's lock only. Gauge functions run during Expose()
// without any registry lock held and must be thread-safe themselves.
// Ownership: the Registry owns its families; the pointers it returns stay
// valid for its lifetime.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sg::observe {

using LabelValues = std::vector<std::string>;

// The Content-Type of Expose()'s output.
inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

class Family {
 public:
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Number of calls dropped for a wrong number of label values.
  uint64_t dropped() const { return dropped_.load(); }

  // Appends this family's HELP, TYPE and sample lines to `out`.
  virtual void Write(std::string& out) const = 0;

 protected:
  Family(std::string name, std::string help, std::vector<std::string> label_names);
  bool CheckArity(const LabelValues& values) const;
  // `name{a="x",b="y"` + extra + `}` (no braces when there are no labels).
  std::string SeriesName(std::string_view suffix, const LabelValues& values,
                         std::string_view extra_label = {},
                         std::string_view extra_value = {}) const;
  void WriteHeader(std::string& out, std::string_view type) const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable std::atomic<uint64_t> dropped_{0};
  mutable std::mutex mu_;
};

class Counter final : public Family {
 public:
  // Adds `amount` (negative amounts are dropped: counters never go down).
  void Inc(const LabelValues& labels = {}, double amount = 1);
  // 0 for a series never touched.
  double Value(const LabelValues& labels = {}) const;
  void Write(std::string& out) const override;

 private:
  friend class Registry;
  using Family::Family;
  std::map<LabelValues, double> values_;
};

class Gauge final : public Family {
 public:
  void Set(const LabelValues& labels, double value);
  void Set(double value) { Set({}, value); }
  void Add(const LabelValues& labels, double delta);
  void Add(double delta) { Add({}, delta); }
  // Drops the series (it disappears from the exposition).
  void Remove(const LabelValues& labels);
  // Drops every series.
  void Clear();
  double Value(const LabelValues& labels = {}) const;
  void Write(std::string& out) const override;

 private:
  friend class Registry;
  using Family::Family;
  std::map<LabelValues, double> values_;
  std::function<double()> func_;  // AddGaugeFunc: read at scrape time
};

class Histogram final : public Family {
 public:
  void Observe(const LabelValues& labels, double value);
  void Observe(double value) { Observe({}, value); }
  struct Snapshot {
    std::vector<uint64_t> buckets;  // cumulative, one per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Get(const LabelValues& labels = {}) const;
  const std::vector<double>& bounds() const { return bounds_; }
  void Write(std::string& out) const override;

 private:
  friend class Registry;
  Histogram(std::string name, std::string help, std::vector<std::string> label_names,
            std::vector<double> bounds);
  struct Series {
    std::vector<uint64_t> counts;  // per bucket (not cumulative), +Inf last
    double sum = 0;
    uint64_t count = 0;
  };
  const std::vector<double> bounds_;
  std::map<LabelValues, Series> series_;
};

// Prometheus client defaults: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
std::vector<double> DefaultBuckets();
// start, start*factor, ... (`count` bounds).
std::vector<double> ExponentialBuckets(double start, double factor, int count);

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // kInvalid for a bad metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*, label
  // names without ':' and not starting with "__"; "le" is reserved for
  // histograms), bucket bounds that are not strictly increasing;
  // kAlreadyExists for a name taken.
  StatusOr<Counter*> AddCounter(std::string name, std::string help,
                                std::vector<std::string> label_names = {});
  StatusOr<Gauge*> AddGauge(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  // An unlabelled gauge whose value is `read()` at every scrape (e.g. a work
  // queue's length).
  StatusOr<Gauge*> AddGaugeFunc(std::string name, std::string help, std::function<double()> read);
  StatusOr<Histogram*> AddHistogram(std::string name, std::string help, std::vector<double> bounds,
                                    std::vector<std::string> label_names = {});

  // The text exposition (format 0.0.4) of every family.
  std::string Expose() const;

 private:
  Status CheckNew(const std::string& name, const std::vector<std::string>& label_names) const;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;
};

// Exposition helpers (exposition.cc), public for tests and other writers.
// "1", "0.25", "1e-05", "+Inf", "-Inf", "NaN".
std::string FormatValue(double v);
// Escapes '\', '"' and newline.
std::string EscapeLabelValue(std::string_view v);
// Escapes '\' and newline.
std::string EscapeHelp(std::string_view v);

}  // namespace sg::observe
