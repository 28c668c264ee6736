#include "observe/http_server/health.h"

#include "observe/redact/redact.h"

namespace sg::observe {

void HealthChecks::Add(std::string name, HealthCheck check) {
  std::lock_guard<std::mutex> l(mu_);
  checks_.emplace_back(std::move(name), std::move(check));
}

std::vector<HealthChecks::Result> HealthChecks::Run() const {
  std::vector<std::pair<std::string, HealthCheck>> checks;
  {
    std::lock_guard<std::mutex> l(mu_);
    checks = checks_;  // run without the lock: a slow check must not block Add
  }
  std::vector<Result> out;
  for (auto& [name, check] : checks) {
    Status s;
    try {
      s = check();
    } catch (...) {  // a check must not take the server down
      s = InternalError("check threw an exception");
    }
    out.push_back({name, std::move(s)});
  }
  return out;
}

HealthReport HealthChecks::Evaluate(bool verbose, const HealthChecks* extra) const {
  std::vector<Result> results;
  if (extra) results = extra->Run();
  for (auto& r : Run()) results.push_back(std::move(r));
  bool ok = true;
  for (const auto& r : results) ok = ok && r.status.ok();
  HealthReport report;
  report.http_status = ok ? 200 : 500;
  if (ok && !verbose) {
    report.body = "ok";
    return report;
  }
  for (const auto& r : results) {
    if (r.status.ok()) {
      report.body += "[+]" + r.name + " ok\n";
    } else {
      report.body += "[-]" + r.name + " failed: " + RedactText(r.status.message()) + "\n";
    }
  }
  report.body += kind_ + (ok ? " check passed" : " check failed");
  return report;
}

}  // namespace sg::observe
