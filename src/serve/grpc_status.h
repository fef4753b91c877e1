// embody Status <-> gRPC status. embody's codes are the canonical gRPC numbers where they exist
// (3, 5, 9, 11, 12, 13, 15); IoError has none and travels as UNAVAILABLE. Transport failures
// (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, ...) have no embody code: they come back as
// IoError with the gRPC code's name in the message.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "core/status.h"

namespace embody::serve {

grpc::Status ToGrpc(const Status& s);
// `what` names the call and the server, e.g. "Predict at localhost:50051".
Status FromGrpc(const grpc::Status& s, const std::string& what);

}  // namespace embody::serve
