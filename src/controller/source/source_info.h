// What the controller knows about a ConfigMap migration source without
// running anything: which ConfigMaps it consists of, a checksum over its
// files (so an edit is noticed) and the versions it holds (so the default
// target is known). The operator reads ConfigMaps, never Secrets.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "controller/api/schema_migration.h"

namespace sg::controller {

struct SourceInfo {
  std::vector<std::string> config_maps;  // sorted names (empty for an image)
  std::string checksum;                  // SHA-256 hex; the image ref for images
  std::vector<int64_t> versions;         // sorted versions of *.up.sql files
  // false for an image: its versions are learnt from the runner's result.
  bool versions_known = true;
  std::optional<int64_t> Newest() const;
  // Versions v with after < v <= upto (after nullopt: all up to `upto`).
  int32_t CountBetween(std::optional<int64_t> after, int64_t upto) const;
};

// Picks the ConfigMaps `source` names (kNotFound naming the first missing
// one) and those its selector matches among `candidates` (the ConfigMaps of
// the SchemaMigration's namespace).
StatusOr<std::vector<nlohmann::json>> SelectConfigMaps(
    const SourceSpec& source, const std::vector<nlohmann::json>& candidates);

// What the ConfigMap cache keeps of a ConfigMap (the informer's transform):
// metadata.name, namespace, uid, resourceVersion, labels and
// deletionTimestamp, and for each string `data` key under "files" its size,
// SHA-256 and whether it is blank. The contents, binaryData, annotations and
// managedFields are dropped: the runner reads the files from its volume, so
// the operator's memory grows with the number of ConfigMaps in its scope,
// not with their size.
void SummarizeConfigMap(nlohmann::json& config_map);

// Checksum: SHA-256 over, for each file in name order, the name, a NUL, the
// content length in decimal, a NUL, the content's SHA-256 in hex and a NUL.
// Files are the `data` keys of all ConfigMaps (summarized or not); a key
// present in two ConfigMaps is kInvalid (naming both); no ConfigMap or no
// file at all is kNotFound.
StatusOr<SourceInfo> SourceFromConfigMaps(const std::vector<nlohmann::json>& config_maps);

// For an image source: checksum = the image reference, versions unknown.
SourceInfo SourceFromImage(const ImageSource& image);

}  // namespace sg::controller
