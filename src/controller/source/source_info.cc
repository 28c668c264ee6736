#include "controller/source/source_info.h"

#include <algorithm>
#include <map>
#include <regex>

#include "controller/api/identity.h"
#include "migrate/migration.h"

namespace sg::controller {

using nlohmann::json;

std::optional<int64_t> SourceInfo::Newest() const {
  if (versions.empty()) return std::nullopt;
  return versions.back();
}

int32_t SourceInfo::CountBetween(std::optional<int64_t> after, int64_t upto) const {
  int32_t n = 0;
  for (int64_t v : versions) {
    if ((!after || v > *after) && v <= upto) ++n;
  }
  return n;
}

namespace {

std::string NameOf(const json& cm) {
  static const json::json_pointer kName("/metadata/name");
  if (!cm.is_object() || !cm.contains(kName) || !cm.at(kName).is_string()) return "";
  return cm.at(kName).get<std::string>();
}

}  // namespace

StatusOr<std::vector<json>> SelectConfigMaps(const SourceSpec& source,
                                             const std::vector<json>& candidates) {
  std::map<std::string, const json*> by_name;
  for (const auto& cm : candidates) {
    by_name[NameOf(cm)] = &cm;
  }
  std::map<std::string, json> picked;
  for (const auto& name : source.config_maps) {
    auto it = by_name.find(name);
    if (it == by_name.end()) return NotFoundError("ConfigMap \"" + name + "\" not found");
    picked[name] = *it->second;
  }
  if (source.selector) {
    for (const auto& [name, cm] : by_name) {
      static const json::json_pointer kLabels("/metadata/labels");
      if (source.selector->Matches(cm->contains(kLabels) ? cm->at(kLabels) : json())) {
        picked[name] = *cm;
      }
    }
  }
  if (picked.empty()) return NotFoundError("no ConfigMap matches spec.source.configMapSelector");
  std::vector<json> out;
  for (auto& [name, cm] : picked) out.push_back(std::move(cm));
  return out;
}

namespace {

// The runner's rules for a source, applied to what the ConfigMaps hold:
// names, duplicate versions, a down without its up, empty files. Files that
// do not end in .sql (or start with '.') are ignored, as the runner does.
struct FileSummary {
  std::string config_map;
  std::string sha256;
  int64_t size = 0;
  bool blank = false;
};

Status CheckFiles(const std::map<std::string, FileSummary>& files) {
  struct Seen {
    std::string up, down;
  };
  std::map<int64_t, Seen> versions;
  std::vector<std::string> problems;
  auto where = [&](const std::string& file) {
    return "ConfigMap \"" + files.at(file).config_map + "\": " + file;
  };
  for (const auto& [file, v] : files) {
    if (file.starts_with(".") || !file.ends_with(".sql")) continue;
    auto parsed = migrate::ParseFileName(file);
    if (!parsed) {
      problems.push_back(where(file) +
                         ": malformed name: expected <version>_<name>.up.sql or "
                         "<version>_<name>.down.sql with a version of digits (at most 18)");
      continue;
    }
    std::string& slot = parsed->direction == migrate::Direction::kUp
                            ? versions[parsed->version].up
                            : versions[parsed->version].down;
    if (!slot.empty()) {
      problems.push_back(where(file) + ": duplicate version " + std::to_string(parsed->version) +
                         " (also " + slot + ")");
      continue;
    }
    slot = file;
    if (v.blank) {
      problems.push_back(where(file) + ": empty (no SQL statements)");
    }
  }
  for (const auto& [version, seen] : versions) {
    if (seen.up.empty() && !seen.down.empty()) {
      problems.push_back(where(seen.down) + ": down migration without an up file");
    }
  }
  if (problems.empty()) return OkStatus();
  std::string message = problems.front();
  for (size_t i = 1; i < problems.size() && i < 5; ++i) message += "; " + problems[i];
  if (problems.size() > 5) message += " (and " + std::to_string(problems.size() - 5) + " more)";
  return InvalidError(message);
}

// The "files" summary of one ConfigMap, from the cache (already summarized)
// or from a whole object.
json FilesOf(const json& cm) {
  if (auto f = cm.find("files"); f != cm.end() && f->is_object()) return *f;
  json copy = cm;
  SummarizeConfigMap(copy);
  return copy["files"];
}

}  // namespace

void SummarizeConfigMap(json& cm) {
  if (!cm.is_object()) {
    cm = json::object();
    return;
  }
  json meta = json::object();
  if (auto md = cm.find("metadata"); md != cm.end() && md->is_object()) {
    for (const char* k :
         {"name", "namespace", "uid", "resourceVersion", "labels", "deletionTimestamp"}) {
      if (auto v = md->find(k); v != md->end()) meta[k] = std::move(*v);
    }
  }
  json files = json::object();
  if (auto data = cm.find("data"); data != cm.end() && data->is_object()) {
    for (auto& [key, value] : data->items()) {
      if (!value.is_string()) continue;
      const std::string& text = value.get_ref<const std::string&>();
      files[key] = {{"size", text.size()},
                    {"sha256", Sha256Hex(text)},
                    {"blank", text.find_first_not_of(" \t\r\n") == std::string::npos}};
    }
  }
  cm = json{{"metadata", std::move(meta)}, {"files", std::move(files)}};
}

StatusOr<SourceInfo> SourceFromConfigMaps(const std::vector<json>& config_maps) {
  static const std::regex kUp(R"(^([0-9]{1,18})_.+\.up\.sql$)");
  std::map<std::string, FileSummary> files;
  SourceInfo info;
  for (const auto& cm : config_maps) {
    std::string cm_name = NameOf(cm);
    info.config_maps.push_back(cm_name);
    const json cm_files = FilesOf(cm);
    for (const auto& [key, f] : cm_files.items()) {
      if (!f.is_object()) continue;
      FileSummary summary{cm_name, f.value("sha256", ""), f.value("size", int64_t{0}),
                          f.value("blank", false)};
      auto [it, inserted] = files.emplace(key, std::move(summary));
      if (!inserted) {
        return InvalidError("file " + key + " is in both ConfigMap \"" + it->second.config_map +
                            "\" and ConfigMap \"" + cm_name + "\"");
      }
    }
  }
  std::sort(info.config_maps.begin(), info.config_maps.end());
  if (files.empty()) return NotFoundError("the source ConfigMaps hold no files");
  SG_RETURN_IF_ERROR(CheckFiles(files));
  std::string canon;
  for (const auto& [name, f] : files) {
    canon += name;
    canon += '\0';
    canon += std::to_string(f.size);
    canon += '\0';
    canon += f.sha256;
    canon += '\0';
    std::smatch m;
    if (std::regex_match(name, m, kUp)) info.versions.push_back(std::stoll(m[1].str()));
  }
  std::sort(info.versions.begin(), info.versions.end());
  info.checksum = Sha256Hex(canon);
  return info;
}

SourceInfo SourceFromImage(const ImageSource& image) {
  SourceInfo info;
  info.checksum = image.ref;
  info.versions_known = false;
  return info;
}

}  // namespace sg::controller
