#include "kube/client/client.h"

#include <utility>

namespace sg::kube {

namespace {

void AddParam(std::string* q, std::string_view key, std::string_view value) {
  *q += q->empty() ? '?' : '&';
  *q += key;
  *q += '=';
  *q += EscapeComponent(value);
}

std::string WriteQuery(const WriteOptions& o) {
  std::string q;
  if (!o.field_manager.empty()) AddParam(&q, "fieldManager", o.field_manager);
  if (o.dry_run) AddParam(&q, "dryRun", "All");
  return q;
}

std::string_view ContentType(PatchType t) {
  switch (t) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

Status CheckNamespace(const Gvr& gvr, std::string_view ns, const Json& object) {
  if (!object.is_object()) return InvalidError(gvr.ToString() + ": object is not a JSON object");
  if (gvr.namespaced && ns.empty()) {
    return InvalidError(gvr.ToString() + " is namespaced: a namespace is required");
  }
  auto meta = object.find("metadata");
  if (meta != object.end() && meta->is_object()) {
    auto it = meta->find("namespace");
    if (it != meta->end() && it->is_string() && !it->get<std::string>().empty() &&
        it->get<std::string>() != ns) {
      return InvalidError(gvr.ToString() + ": metadata.namespace \"" + it->get<std::string>() +
                          "\" does not match \"" + std::string(ns) + "\"");
    }
  }
  return OkStatus();
}

std::string NameOf(const Json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto it = meta->find("name");
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

Request GetRequest(std::string path) {
  Request r;
  r.path = std::move(path);
  return r;
}

}  // namespace

std::string ListQuery(const ListOptions& o, bool watch) {
  std::string q;
  if (watch) AddParam(&q, "watch", "1");
  if (!o.label_selector.empty()) AddParam(&q, "labelSelector", o.label_selector);
  if (!o.field_selector.empty()) AddParam(&q, "fieldSelector", o.field_selector);
  if (!watch && o.limit > 0) AddParam(&q, "limit", std::to_string(o.limit));
  if (!watch && !o.continue_token.empty()) AddParam(&q, "continue", o.continue_token);
  if (!o.resource_version.empty()) AddParam(&q, "resourceVersion", o.resource_version);
  if (!o.resource_version_match.empty()) {
    AddParam(&q, "resourceVersionMatch", o.resource_version_match);
  }
  if (watch && o.allow_watch_bookmarks) AddParam(&q, "allowWatchBookmarks", "true");
  if (o.timeout_seconds) AddParam(&q, "timeoutSeconds", std::to_string(*o.timeout_seconds));
  return q;
}

Client::Client(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}

StatusOr<Json> Client::Send(Request request) {
  SG_ASSIGN_OR_RETURN(Response r, transport_->Do(request));
  if (r.body.empty()) return Json::object();
  Json j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InternalError(request.method + " " + request.path + ": response is not JSON");
  }
  return j;
}

StatusOr<Json> Client::Get(const Gvr& gvr, std::string_view ns, std::string_view name) {
  if (name.empty()) return InvalidError("get " + gvr.ToString() + ": empty name");
  return Send(GetRequest(ResourcePath(gvr, ns, name)));
}

StatusOr<Json> Client::List(const Gvr& gvr, std::string_view ns, const ListOptions& options) {
  return Send(GetRequest(ResourcePath(gvr, ns) + ListQuery(options, false)));
}

StatusOr<Json> Client::Create(const Gvr& gvr, std::string_view ns, const Json& object,
                              const WriteOptions& options) {
  SG_RETURN_IF_ERROR(CheckNamespace(gvr, ns, object));
  return Send(Request{.method = "POST",
                      .path = ResourcePath(gvr, ns) + WriteQuery(options),
                      .headers = {{"Content-Type", "application/json"}},
                      .body = object.dump()});
}

StatusOr<Json> Client::PutImpl(const Gvr& gvr, std::string_view ns, const Json& object,
                               std::string_view subresource, const WriteOptions& options) {
  SG_RETURN_IF_ERROR(CheckNamespace(gvr, ns, object));
  std::string name = NameOf(object);
  if (name.empty()) return InvalidError("update " + gvr.ToString() + ": metadata.name is empty");
  return Send(Request{.method = "PUT",
                      .path = ResourcePath(gvr, ns, name, subresource) + WriteQuery(options),
                      .headers = {{"Content-Type", "application/json"}},
                      .body = object.dump()});
}

StatusOr<Json> Client::Update(const Gvr& gvr, std::string_view ns, const Json& object,
                              const WriteOptions& options) {
  return PutImpl(gvr, ns, object, "", options);
}

StatusOr<Json> Client::UpdateStatus(const Gvr& gvr, std::string_view ns, const Json& object,
                                    const WriteOptions& options) {
  return PutImpl(gvr, ns, object, "status", options);
}

Status Client::Delete(const Gvr& gvr, std::string_view ns, std::string_view name,
                      const DeleteOptions& options) {
  if (name.empty()) return InvalidError("delete " + gvr.ToString() + ": empty name");
  Json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  switch (options.propagation) {
    case PropagationPolicy::kDefault:
      break;
    case PropagationPolicy::kOrphan:
      body["propagationPolicy"] = "Orphan";
      break;
    case PropagationPolicy::kBackground:
      body["propagationPolicy"] = "Background";
      break;
    case PropagationPolicy::kForeground:
      body["propagationPolicy"] = "Foreground";
      break;
  }
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  if (options.dry_run) body["dryRun"] = Json::array({"All"});
  auto r = Send(Request{.method = "DELETE",
                        .path = ResourcePath(gvr, ns, name),
                        .headers = {{"Content-Type", "application/json"}},
                        .body = body.dump()});
  return r.status();
}

StatusOr<Json> Client::PatchImpl(const Gvr& gvr, std::string_view ns, std::string_view name,
                                 std::string_view subresource, PatchType type, const Json& patch,
                                 const PatchOptions& options) {
  if (name.empty()) return InvalidError("patch " + gvr.ToString() + ": empty name");
  if (type == PatchType::kApply && options.field_manager.empty()) {
    return InvalidError("server-side apply of " + gvr.ToString() + " needs a fieldManager");
  }
  if (type == PatchType::kJson && !patch.is_array()) {
    return InvalidError("JSON patch of " + gvr.ToString() + " must be an array of operations");
  }
  std::string q;
  if (!options.field_manager.empty()) AddParam(&q, "fieldManager", options.field_manager);
  if (type == PatchType::kApply && options.force) AddParam(&q, "force", "true");
  if (options.dry_run) AddParam(&q, "dryRun", "All");
  return Send(Request{.method = "PATCH",
                      .path = ResourcePath(gvr, ns, name, subresource) + q,
                      .headers = {{"Content-Type", std::string(ContentType(type))}},
                      .body = patch.dump()});
}

StatusOr<Json> Client::Patch(const Gvr& gvr, std::string_view ns, std::string_view name,
                             PatchType type, const Json& patch, const PatchOptions& options) {
  return PatchImpl(gvr, ns, name, "", type, patch, options);
}

StatusOr<Json> Client::PatchStatus(const Gvr& gvr, std::string_view ns, std::string_view name,
                                   PatchType type, const Json& patch, const PatchOptions& options) {
  return PatchImpl(gvr, ns, name, "status", type, patch, options);
}

Status Client::WatchRaw(const Gvr& gvr, std::string_view ns, const ListOptions& options,
                        const Transport::DataCallback& on_data, const Cancellation& cancel) {
  Request r = GetRequest(ResourcePath(gvr, ns) + ListQuery(options, true));
  if (options.timeout_seconds) {
    // The server ends the watch after timeoutSeconds; our deadline is a
    // backstop for a silently dead connection.
    r.timeout = std::chrono::seconds(*options.timeout_seconds + 30);
  }
  return transport_->Stream(r, on_data, cancel);
}

StatusOr<std::unique_ptr<Client>> NewClient(const RestConfig& config, TransportOptions options) {
  SG_ASSIGN_OR_RETURN(auto transport, RestTransport::Create(config, std::move(options)));
  return std::make_unique<Client>(std::move(transport));
}

StatusOr<Json> ListAll(Reader& reader, const Gvr& gvr, std::string_view ns, ListOptions options) {
  if (options.limit <= 0) options.limit = 500;
  Json all;
  Json items = Json::array();
  for (bool first = true;; first = false) {
    SG_ASSIGN_OR_RETURN(Json page, reader.List(gvr, ns, options));
    if (first) all = page;
    if (auto it = page.find("items"); it != page.end() && it->is_array()) {
      for (auto& item : *it) items.push_back(std::move(item));
    }
    std::string next = page.value(Json::json_pointer("/metadata/continue"), std::string());
    if (next.empty()) break;
    options.continue_token = next;
    // Later pages must not carry resourceVersion: the token pins the snapshot.
    options.resource_version.clear();
    options.resource_version_match.clear();
  }
  all["items"] = std::move(items);
  if (all.contains("metadata")) all["metadata"].erase("continue");
  return all;
}

}  // namespace sg::kube
