// Client: access to any Kubernetes resource by GroupVersionResource, with
// objects as nlohmann::json.
//
// Split as controller-runtime does: Reader (get, list), Writer (create,
// update, delete, patch) and StatusWriter (the /status subresource), so code
// that only reads can say so, and tests of pure logic can supply an
// in-memory Reader. Client implements all three over a Transport.
//
// Semantics are the API server's: Update sends metadata.resourceVersion and
// a stale one fails with kConflict; Create of an existing name fails with
// kAlreadyExists; missing objects give kNotFound; errors carry the API's
// reason and message (api_status.h). Every call is a single request (plus
// the transport's retries); ListAll follows `continue` pages.
//
// Thread-safety: Client is safe for concurrent use. Ownership: the Client
// owns its Transport.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "kube/client/gvr.h"
#include "kube/client/options.h"
#include "kube/transport/rest_transport.h"
#include "kube/transport/transport.h"

namespace sg::kube {

using Json = nlohmann::json;

class Reader {
 public:
  virtual ~Reader() = default;
  virtual StatusOr<Json> Get(const Gvr& gvr, std::string_view ns, std::string_view name) = 0;
  // One page: a List object (items, metadata.resourceVersion,
  // metadata.continue).
  virtual StatusOr<Json> List(const Gvr& gvr, std::string_view ns,
                              const ListOptions& options = {}) = 0;
};

class Writer {
 public:
  virtual ~Writer() = default;
  // Namespace comes from `ns` (the object's metadata.namespace must be empty
  // or equal). Returns the object as stored.
  virtual StatusOr<Json> Create(const Gvr& gvr, std::string_view ns, const Json& object,
                                const WriteOptions& options = {}) = 0;
  // PUT of the whole object; its metadata.name names it and its
  // metadata.resourceVersion (if set) guards it.
  virtual StatusOr<Json> Update(const Gvr& gvr, std::string_view ns, const Json& object,
                                const WriteOptions& options = {}) = 0;
  virtual Status Delete(const Gvr& gvr, std::string_view ns, std::string_view name,
                        const DeleteOptions& options = {}) = 0;
  virtual StatusOr<Json> Patch(const Gvr& gvr, std::string_view ns, std::string_view name,
                               PatchType type, const Json& patch,
                               const PatchOptions& options = {}) = 0;
};

class StatusWriter {
 public:
  virtual ~StatusWriter() = default;
  virtual StatusOr<Json> UpdateStatus(const Gvr& gvr, std::string_view ns, const Json& object,
                                      const WriteOptions& options = {}) = 0;
  virtual StatusOr<Json> PatchStatus(const Gvr& gvr, std::string_view ns, std::string_view name,
                                     PatchType type, const Json& patch,
                                     const PatchOptions& options = {}) = 0;
};

class Client final : public Reader, public Writer, public StatusWriter {
 public:
  explicit Client(std::unique_ptr<Transport> transport);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  StatusOr<Json> Get(const Gvr& gvr, std::string_view ns, std::string_view name) override;
  StatusOr<Json> List(const Gvr& gvr, std::string_view ns,
                      const ListOptions& options = {}) override;

  StatusOr<Json> Create(const Gvr& gvr, std::string_view ns, const Json& object,
                        const WriteOptions& options = {}) override;
  StatusOr<Json> Update(const Gvr& gvr, std::string_view ns, const Json& object,
                        const WriteOptions& options = {}) override;
  Status Delete(const Gvr& gvr, std::string_view ns, std::string_view name,
                const DeleteOptions& options = {}) override;
  StatusOr<Json> Patch(const Gvr& gvr, std::string_view ns, std::string_view name, PatchType type,
                       const Json& patch, const PatchOptions& options = {}) override;

  StatusOr<Json> UpdateStatus(const Gvr& gvr, std::string_view ns, const Json& object,
                              const WriteOptions& options = {}) override;
  StatusOr<Json> PatchStatus(const Gvr& gvr, std::string_view ns, std::string_view name,
                             PatchType type, const Json& patch,
                             const PatchOptions& options = {}) override;

  // Opens a watch (?watch=1 plus `options`) and passes the raw body bytes to
  // `on_data` until the server ends it, `cancel` fires or an error occurs
  // (Transport::Stream semantics). The watch library parses the bytes.
  Status WatchRaw(const Gvr& gvr, std::string_view ns, const ListOptions& options,
                  const Transport::DataCallback& on_data, const Cancellation& cancel);

  Transport& transport() { return *transport_; }

 private:
  StatusOr<Json> Send(Request request);
  StatusOr<Json> PatchImpl(const Gvr& gvr, std::string_view ns, std::string_view name,
                           std::string_view subresource, PatchType type, const Json& patch,
                           const PatchOptions& options);
  StatusOr<Json> PutImpl(const Gvr& gvr, std::string_view ns, const Json& object,
                         std::string_view subresource, const WriteOptions& options);

  std::unique_ptr<Transport> transport_;
};

// A Client over a RestTransport for `config` (the usual way to get one:
// LoadRestConfig -> NewClient). Fails as RestTransport::Create does.
StatusOr<std::unique_ptr<Client>> NewClient(const RestConfig& config,
                                            TransportOptions options = {});

// Lists every page (following metadata.continue, `options.limit` per page,
// 500 if unset) and returns one List object holding all items, with the
// resourceVersion of the (consistent) snapshot. If the continue token
// expires mid-way (410) the error is returned: the caller re-lists.
StatusOr<Json> ListAll(Reader& reader, const Gvr& gvr, std::string_view ns,
                       ListOptions options = {});

// The query string ("?a=b&c=d", or "") for list/watch options.
std::string ListQuery(const ListOptions& options, bool watch);

}  // namespace sg::kube
