// PolicyServer: a gRPC server holding one runtime::Policy for remote robots (issue 6, the
// scale-out path for boards too small for the model). Protocol: proto/policy_service.proto.
//
// The server owns the policy and one policy thread: the policy is built, run and destroyed
// there (a model's kernels run on the thread that built them, runtime/sched/executor.h), so
// predictions are serialised. A request that has not started by its client's deadline is
// skipped instead of computing a chunk nobody waits for. A policy that fails or throws answers
// that request with the error (its embody code as the gRPC code) and the server keeps serving.
//
// Thread safety: all methods may be called from any thread; gRPC runs handlers on its own pool.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "runtime/async/policy.h"

namespace embody::serve {

// What Describe() tells clients beyond the Policy interface.
struct PolicyDescription {
  struct Camera {
    std::string key;
    int height = 0, width = 0;
  };
  std::vector<Camera> cameras;  // in observation order
  int state_dim = 0;
  bool needs_sim_state = false;
};

struct ServerOptions {
  std::string listen = "0.0.0.0:50051";  // host:port; port 0 picks a free one (see port())
  int max_message_bytes = 64 << 20;      // three 480x640 RGB frames are ~2.8 MB
  int threads = 0;                       // the policy thread's OpenMP threads (<= 0: all cores)
};

// Builds the policy and says what Describe() reports beyond the Policy interface.
using PolicyFactory = std::function<Result<std::unique_ptr<runtime::Policy>>(PolicyDescription*)>;

struct ServerStats {
  int64_t predictions = 0, errors = 0, refused_late = 0;
  double last_ms = 0;
};

class PolicyServer {
 public:
  // Builds the policy with `make` on the policy thread, then listens. Errors: the factory's, or
  // the address cannot be bound.
  static Result<std::unique_ptr<PolicyServer>> Start(const PolicyFactory& make, const ServerOptions& options);
  ~PolicyServer();  // Shutdown()

  int port() const;
  std::string_view policy_name() const;
  int chunk_size() const;
  int action_dim() const;
  const PolicyDescription& description() const;
  // Stops accepting calls; calls in flight get `grace_ms` to finish, then are cancelled.
  void Shutdown(double grace_ms = 1000);
  // Blocks until Shutdown() (from another thread or a signal handler's helper).
  void Wait();
  ServerStats stats() const;

 private:
  struct Impl;
  explicit PolicyServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace embody::serve
