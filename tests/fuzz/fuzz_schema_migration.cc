// Fuzz target: a SchemaMigration object as the API server may hand it over
// (the CRD's schema is not a guarantee: older objects, other writers) through
// everything the controller does with it without I/O: metadata, spec and
// status parsing, the job policy, the decision, and the Job it would
// create. Beyond "no crash": the status survives a round trip.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "controller/api/job_policy.h"
#include "controller/api/migration_status.h"
#include "controller/api/schema_migration.h"
#include "controller/decide/decide.h"
#include "controller/job/job_builder.h"
#include "controller/source/source_info.h"

using nlohmann::json;
using namespace sg::controller;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json object = json::parse(data, data + size, nullptr, false);
  if (object.is_discarded() || !object.is_object()) return 0;
  Observed in;
  in.meta = ParseMeta(object);
  in.status = StatusFromJson(object.value("status", json::object()));
  if (!(StatusFromJson(StatusToJson(in.status)) == in.status)) __builtin_trap();
  in.spec = ParseSpec(object.value("spec", json()));
  in.default_image = "schemagate:dev";
  in.holder_identity = "fuzz";
  in.lease.tried = true;
  in.lease.held = true;
  in.lease.holder = "fuzz";
  in.lease.fencing_token = 7;
  if (in.spec.ok()) {
    (void)CheckJobPolicy(*in.spec, JobPolicy{});
    // The object's own "configMaps" member, if any, plays the cache.
    std::vector<json> cms;
    if (auto c = object.find("configMaps"); c != object.end() && c->is_array()) {
      for (json cm : *c) {
        SummarizeConfigMap(cm);
        cms.push_back(std::move(cm));
      }
    }
    auto picked = SelectConfigMaps(in.spec->source, cms);
    in.source =
        picked.ok() ? SourceFromConfigMaps(*picked) : sg::StatusOr<SourceInfo>(picked.status());
    if (in.spec->source.image) in.source = SourceFromImage(*in.spec->source.image);
  }
  Decision d = Decide(in);
  if (d.create_job && in.spec.ok()) (void)BuildJob(in.meta, *in.spec, *d.create_job).dump();
  (void)StatusToJson(d.status).dump();
  return 0;
}
