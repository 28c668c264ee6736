#include "chart/rendered.h"

#include <yaml-cpp/yaml.h>

#include <unistd.h>
#include <charconv>
#include <cmath>
#include <limits>
#include <regex>

#include "support/subprocess.h"

namespace sg::testing {
namespace {

using nlohmann::json;

// YAML 1.1's implicit types as PyYAML resolves them: the chart's assertions
// (e.g. allowPrivilegeEscalation is false, replicas is 2) are about types.
json ResolvePlain(const std::string& s) {
  static const std::regex kNull("~|null|Null|NULL|");
  static const std::regex kTrue("yes|Yes|YES|true|True|TRUE|on|On|ON");
  static const std::regex kFalse("no|No|NO|false|False|FALSE|off|Off|OFF");
  static const std::regex kInt("[-+]?(0|[1-9][0-9_]*)");
  static const std::regex kHex("0x[0-9a-fA-F_]+");
  static const std::regex kFloat("[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?");
  if (std::regex_match(s, kNull)) return nullptr;
  if (std::regex_match(s, kTrue)) return true;
  if (std::regex_match(s, kFalse)) return false;
  std::string digits;
  for (char ch : s) {
    if (ch != '_') digits += ch;
  }
  if (std::regex_match(s, kInt) || std::regex_match(s, kHex)) {
    bool hex = digits.rfind("0x", 0) == 0;
    const char* first = digits.data() + (hex ? 2 : (digits[0] == '+' ? 1 : 0));
    int64_t v = 0;
    auto [end, ec] = std::from_chars(first, digits.data() + digits.size(), v, hex ? 16 : 10);
    if (ec == std::errc() && end == digits.data() + digits.size()) return v;
    return s;  // out of range: keep the text rather than guess
  }
  if (s != "." && std::regex_match(s, kFloat)) return std::stod(digits);
  if (s == ".inf" || s == "+.inf" || s == ".Inf" || s == ".INF") {
    return std::numeric_limits<double>::infinity();
  }
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -std::numeric_limits<double>::infinity();
  return s;
}

json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      // "?": plain and untagged, so its type is implicit; "!" (quoted) and
      // explicit tags other than the core scalar ones stay strings.
      if (n.Tag() == "?" || n.Tag().rfind("tag:yaml.org,2002:", 0) == 0) {
        if (n.Tag() == "tag:yaml.org,2002:str") return n.Scalar();
        return ResolvePlain(n.Scalar());
      }
      return n.Scalar();
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : n) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : n) out[kv.first.Scalar()] = ToJson(kv.second);
      return out;
    }
  }
  return nullptr;
}

}  // namespace

std::string RenderedObject::Id() const {
  return ns.empty() ? kind + "/" + name : kind + "/" + ns + "/" + name;
}

json YamlTextToJson(const std::string& yaml) { return ToJson(YAML::Load(yaml)); }

StatusOr<std::string> FindHelm() {
  std::string where;
  if (const char* h = std::getenv("HELM"); h && *h) {
    where = std::string(h) + " ($HELM)";
    if (::access(h, X_OK) == 0) return std::string(h);
  } else {
    RunResult bin = RunCommand({"bash", "-c",
                                "ROOT=" + std::string(SG_SOURCE_DIR) +
                                    "; source \"$ROOT/scripts/cluster-env.sh\"; "
                                    "printf %s \"$CLUSTER_BIN/helm\""});
    if (bin.exit_code != 0 || bin.out.empty()) {
      return FailedPreconditionError("scripts/cluster-env.sh did not give CLUSTER_BIN: " + bin.err);
    }
    if (::access(bin.out.c_str(), X_OK) == 0) return bin.out;
    where = bin.out + " ($CLUSTER_BIN/helm from scripts/cluster-env.sh)";
  }
  return FailedPreconditionError("helm not found or not executable at " + where +
                                 ": build the pinned helm with `scripts/cluster-build.sh helm` "
                                 "(or scripts/test-prepare.sh), or set HELM");
}

StatusOr<std::vector<RenderedObject>> ParseRendered(const std::string& yaml) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(yaml);
  } catch (const YAML::Exception& e) {
    return InvalidError(std::string("rendered YAML does not parse: ") + e.what());
  }
  std::vector<RenderedObject> out;
  for (size_t i = 0; i < docs.size(); ++i) {
    json doc = ToJson(docs[i]);
    if (doc.is_null() || (doc.is_object() && doc.empty())) continue;
    std::string where = "rendered document " + std::to_string(i + 1);
    if (!doc.is_object()) return InvalidError(where + " is not a mapping: " + doc.dump());
    RenderedObject o;
    if (!doc.contains("kind") || !doc["kind"].is_string()) {
      return InvalidError(where + ": no kind: " + doc.dump().substr(0, 200));
    }
    o.kind = doc["kind"];
    const json* name =
        doc.contains("metadata") && doc["metadata"].is_object() && doc["metadata"].contains("name")
            ? &doc["metadata"]["name"]
            : nullptr;
    if (!name || !name->is_string()) {
      return InvalidError(where + " (" + o.kind + "): no metadata.name");
    }
    o.name = *name;
    if (const json& ns = doc["metadata"].value("namespace", json()); ns.is_string()) o.ns = ns;
    o.doc = std::move(doc);
    out.push_back(std::move(o));
  }
  return out;
}

StatusOr<std::vector<RenderedObject>> HelmTemplate(const std::string& helm,
                                                   const std::vector<std::string>& args) {
  std::vector<std::string> argv = {helm, "template"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = RunCommand(argv);
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += " " + a;
    return FailedPreconditionError("`" + cmd.substr(1) + "` exited " + std::to_string(r.exit_code) +
                                   ": " + r.err);
  }
  return ParseRendered(r.out);
}

}  // namespace sg::testing
