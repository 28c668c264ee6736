#include "kube/config/kubeconfig.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kube/config/base64.h"

namespace sg::kube {

namespace fs = std::filesystem;

namespace {

// Reads scalar fields of one entry, naming "<origin>.<key>" in errors.
class Fields {
 public:
  Fields(const YAML::Node& node, std::string origin, std::string dir)
      : node_(node), origin_(std::move(origin)), dir_(std::move(dir)) {}

  const std::string& origin() const { return origin_; }
  std::string Field(std::string_view key) const { return origin_ + "." + std::string(key); }

  StatusOr<std::string> String(const char* key) const {
    YAML::Node n = node_[key];
    if (!n || n.IsNull()) return std::string();
    if (!n.IsScalar()) return InvalidError(Field(key) + ": must be a string");
    return n.as<std::string>();
  }

  StatusOr<bool> Bool(const char* key) const {
    YAML::Node n = node_[key];
    if (!n || n.IsNull()) return false;
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
      return InvalidError(Field(key) + ": must be true or false");
    }
    return v;
  }

  // A path, made absolute against the file's directory.
  StatusOr<std::string> Path(const char* key) const {
    SG_ASSIGN_OR_RETURN(std::string p, String(key));
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (fs::path(dir_) / p).lexically_normal().string();
  }

  // `key` (a path) or `key-data` (base64 PEM), never both.
  StatusOr<PemSource> Pem(const std::string& key) const {
    PemSource s;
    std::string data_key = key + "-data";
    SG_ASSIGN_OR_RETURN(s.file, Path(key.c_str()));
    SG_ASSIGN_OR_RETURN(std::string b64, String(data_key.c_str()));
    if (!s.file.empty() && !b64.empty()) {
      return InvalidError(origin_ + ": both " + key + " and " + data_key + " are set");
    }
    if (!b64.empty()) {
      auto decoded = Base64Decode(b64);
      // Do not echo the value: for client-key-data it is a secret.
      if (!decoded) return InvalidError(Field(data_key) + ": not valid base64");
      s.data = std::move(*decoded);
      s.field = Field(data_key);
    } else {
      s.field = Field(key);
    }
    return s;
  }

 private:
  YAML::Node node_;
  std::string origin_;
  std::string dir_;
};

StatusOr<ExecConfig> ParseExec(const YAML::Node& node, const std::string& origin,
                               const std::string& dir) {
  if (!node.IsMap()) return InvalidError(origin + ": must be a map");
  Fields f(node, origin, dir);
  ExecConfig c;
  c.origin = origin;
  SG_ASSIGN_OR_RETURN(c.api_version, f.String("apiVersion"));
  SG_ASSIGN_OR_RETURN(c.command, f.String("command"));
  // client-go: a relative command containing a separator is relative to the
  // kubeconfig file; a bare name is looked up in PATH.
  if (c.command.find('/') != std::string::npos && !fs::path(c.command).is_absolute()) {
    c.command = (fs::path(dir) / c.command).lexically_normal().string();
  }
  SG_ASSIGN_OR_RETURN(c.interactive_mode, f.String("interactiveMode"));
  SG_ASSIGN_OR_RETURN(c.provide_cluster_info, f.Bool("provideClusterInfo"));
  if (YAML::Node args = node["args"]; args && !args.IsNull()) {
    if (!args.IsSequence()) return InvalidError(origin + ".args: must be a list");
    for (const auto& a : args) c.args.push_back(a.as<std::string>());
  }
  if (YAML::Node env = node["env"]; env && !env.IsNull()) {
    if (!env.IsSequence()) return InvalidError(origin + ".env: must be a list");
    size_t i = 0;
    for (const auto& e : env) {
      std::string where = origin + ".env[" + std::to_string(i++) + "]";
      if (!e.IsMap() || !e["name"]) return InvalidError(where + ": needs name and value");
      c.env.emplace_back(e["name"].as<std::string>(),
                         e["value"] ? e["value"].as<std::string>() : std::string());
    }
  }
  SG_RETURN_IF_ERROR(ValidateExecConfig(c));
  return c;
}

// Calls fn(fields, name, index) for each "{name: x, <kind>: {...}}" entry.
template <typename Fn>
Status ForEachEntry(const YAML::Node& root, const char* list, const char* kind,
                    const std::string& prefix, const std::string& dir, Fn fn) {
  YAML::Node seq = root[list];
  if (!seq || seq.IsNull()) return OkStatus();
  if (!seq.IsSequence()) return InvalidError(prefix + list + ": must be a list");
  size_t i = 0;
  for (const auto& entry : seq) {
    std::string where = prefix + list + "[" + std::to_string(i++) + "]";
    if (!entry.IsMap()) return InvalidError(where + ": must be a map");
    YAML::Node name = entry["name"];
    if (!name || !name.IsScalar() || name.as<std::string>().empty()) {
      return InvalidError(where + ".name: must be set");
    }
    YAML::Node body = entry[kind];
    if (body && !body.IsNull() && !body.IsMap()) {
      return InvalidError(where + "." + kind + ": must be a map");
    }
    std::string origin = where + "." + kind;
    SG_RETURN_IF_ERROR(fn(Fields(body ? body : YAML::Node(YAML::NodeType::Map), origin, dir), body,
                          name.as<std::string>()));
  }
  return OkStatus();
}

StatusOr<Kubeconfig> ParseImpl(std::string_view text, const std::string& path) {
  const std::string prefix = "kubeconfig " + path + ": ";
  const std::string dir = fs::path(path).parent_path().string();
  YAML::Node root = YAML::Load(std::string(text));
  Kubeconfig kc;
  kc.files.push_back(path);
  if (!root || root.IsNull()) return kc;  // an empty file is an empty config
  if (!root.IsMap()) return InvalidError(prefix + "not a kubeconfig (expected a map)");
  if (YAML::Node cc = root["current-context"]; cc && cc.IsScalar()) {
    kc.current_context = cc.as<std::string>();
  }
  SG_RETURN_IF_ERROR(ForEachEntry(
      root, "clusters", "cluster", prefix, dir,
      [&](const Fields& f, const YAML::Node&, const std::string& name) -> Status {
        KubeconfigCluster c;
        c.origin = f.origin();
        SG_ASSIGN_OR_RETURN(c.server, f.String("server"));
        SG_ASSIGN_OR_RETURN(c.certificate_authority, f.Pem("certificate-authority"));
        SG_ASSIGN_OR_RETURN(c.insecure_skip_tls_verify, f.Bool("insecure-skip-tls-verify"));
        kc.clusters.emplace(name, std::move(c));
        return OkStatus();
      }));
  SG_RETURN_IF_ERROR(ForEachEntry(
      root, "users", "user", prefix, dir,
      [&](const Fields& f, const YAML::Node& body, const std::string& name) -> Status {
        KubeconfigUser u;
        u.origin = f.origin();
        SG_ASSIGN_OR_RETURN(u.client_certificate, f.Pem("client-certificate"));
        SG_ASSIGN_OR_RETURN(u.client_key, f.Pem("client-key"));
        SG_ASSIGN_OR_RETURN(u.token, f.String("token"));
        SG_ASSIGN_OR_RETURN(u.token_file, f.Path("tokenFile"));
        for (const char* unsupported : {"auth-provider", "username", "password"}) {
          if (body && body[unsupported]) {
            return InvalidError(u.origin + "." + unsupported + ": not supported");
          }
        }
        if (body && body["exec"] && !body["exec"].IsNull()) {
          SG_ASSIGN_OR_RETURN(u.exec, ParseExec(body["exec"], u.origin + ".exec", dir));
        }
        kc.users.emplace(name, std::move(u));
        return OkStatus();
      }));
  SG_RETURN_IF_ERROR(
      ForEachEntry(root, "contexts", "context", prefix, dir,
                   [&](const Fields& f, const YAML::Node&, const std::string& name) -> Status {
                     KubeconfigContext c;
                     c.origin = f.origin();
                     SG_ASSIGN_OR_RETURN(c.cluster, f.String("cluster"));
                     SG_ASSIGN_OR_RETURN(c.user, f.String("user"));
                     SG_ASSIGN_OR_RETURN(c.namespace_, f.String("namespace"));
                     kc.contexts.emplace(name, std::move(c));
                     return OkStatus();
                   }));
  return kc;
}

Status CheckReadable(const PemSource& s) {
  if (s.file.empty()) return OkStatus();
  std::ifstream in(s.file);
  if (!in) return InvalidError(s.field + ": cannot read " + s.file);
  return OkStatus();
}

StatusOr<std::string> ReadPem(const PemSource& s) {
  if (!s.data.empty() || s.file.empty()) return s.data;
  std::ifstream in(s.file, std::ios::binary);
  if (!in) return InvalidError(s.field + ": cannot read " + s.file);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

StatusOr<Kubeconfig> ParseKubeconfig(std::string_view yaml_text, const std::string& path) {
  try {
    return ParseImpl(yaml_text, path);
  } catch (const YAML::Exception& e) {
    // yaml-cpp messages quote the position, not the content.
    return InvalidError("kubeconfig " + path + ": line " + std::to_string(e.mark.line + 1) + ": " +
                        e.msg);
  }
}

StatusOr<Kubeconfig> LoadKubeconfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidError("kubeconfig " + path + ": cannot read the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string abs = fs::absolute(path).lexically_normal().string();
  return ParseKubeconfig(ss.str(), abs);
}

Kubeconfig MergeKubeconfigs(const std::vector<Kubeconfig>& configs) {
  Kubeconfig out;
  for (const auto& c : configs) {
    // map::emplace keeps the existing entry: first definition wins.
    for (const auto& kv : c.clusters) out.clusters.emplace(kv);
    for (const auto& kv : c.users) out.users.emplace(kv);
    for (const auto& kv : c.contexts) out.contexts.emplace(kv);
    if (out.current_context.empty()) out.current_context = c.current_context;
    out.files.insert(out.files.end(), c.files.begin(), c.files.end());
  }
  return out;
}

StatusOr<RestConfig> BuildRestConfig(const Kubeconfig& config, std::string_view context,
                                     Clock* clock) {
  std::string files;
  for (const auto& f : config.files) files += (files.empty() ? "" : ":") + f;
  const std::string where = "kubeconfig " + (files.empty() ? std::string("(none)") : files);
  std::string name(context.empty() ? config.current_context : context);
  if (name.empty()) return InvalidError(where + ": no current-context set (pass --context)");
  auto ctx = config.contexts.find(name);
  if (ctx == config.contexts.end()) {
    return InvalidError(where + ": context \"" + name + "\" not found");
  }
  const KubeconfigContext& c = ctx->second;
  auto cl = config.clusters.find(c.cluster);
  if (cl == config.clusters.end()) {
    return InvalidError(c.origin + ".cluster: cluster \"" + c.cluster + "\" not found");
  }
  const KubeconfigCluster& cluster = cl->second;
  if (cluster.server.empty()) return InvalidError(cluster.origin + ".server: must be set");
  if (cluster.server.rfind("https://", 0) != 0 && cluster.server.rfind("http://", 0) != 0) {
    return InvalidError(cluster.origin + ".server: \"" + cluster.server +
                        "\" is not an http(s) URL");
  }
  if (cluster.insecure_skip_tls_verify && !cluster.certificate_authority.empty()) {
    return InvalidError(cluster.origin +
                        ": certificate-authority and insecure-skip-tls-verify are both set");
  }
  SG_RETURN_IF_ERROR(CheckReadable(cluster.certificate_authority));

  RestConfig rc;
  rc.server = cluster.server;
  while (rc.server.size() > 8 && rc.server.back() == '/') rc.server.pop_back();
  rc.tls.ca = cluster.certificate_authority;
  rc.tls.insecure_skip_verify = cluster.insecure_skip_tls_verify;
  rc.namespace_ = c.namespace_.empty() ? "default" : c.namespace_;
  rc.context = name;
  rc.source = where;

  if (c.user.empty()) return rc;  // anonymous
  auto us = config.users.find(c.user);
  if (us == config.users.end()) {
    return InvalidError(c.origin + ".user: user \"" + c.user + "\" not found");
  }
  const KubeconfigUser& u = us->second;
  if (u.client_certificate.empty() != u.client_key.empty()) {
    return InvalidError(u.origin + ": client-certificate and client-key must be set together");
  }
  SG_RETURN_IF_ERROR(CheckReadable(u.client_certificate));
  SG_RETURN_IF_ERROR(CheckReadable(u.client_key));
  rc.tls.client_cert = u.client_certificate;
  rc.tls.client_key = u.client_key;
  int methods = (u.exec ? 1 : 0) + (!u.token.empty() || !u.token_file.empty() ? 1 : 0);
  if (methods > 1) return InvalidError(u.origin + ": both exec and token are set");
  if (u.exec) {
    ExecConfig exec = *u.exec;
    if (exec.provide_cluster_info) {
      exec.cluster_info = {{"server", rc.server},
                           {"insecure-skip-tls-verify", rc.tls.insecure_skip_verify}};
      if (!rc.tls.ca.empty()) {
        SG_ASSIGN_OR_RETURN(std::string ca, ReadPem(rc.tls.ca));
        exec.cluster_info["certificate-authority-data"] = Base64Encode(ca);
      }
    }
    rc.credentials = std::make_shared<ExecCredentials>(std::move(exec), clock);
  } else if (!u.token_file.empty()) {
    // client-go prefers the file: it may be rotated, a literal cannot.
    std::ifstream in(u.token_file);
    if (!in) return InvalidError(u.origin + ".tokenFile: cannot read " + u.token_file);
    rc.credentials = std::make_shared<TokenFileCredentials>(u.token_file, clock);
  } else if (!u.token.empty()) {
    rc.credentials = std::make_shared<StaticTokenCredentials>(u.token);
  }
  return rc;
}

}  // namespace sg::kube
