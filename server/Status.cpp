//===- server/Status.cpp ----------------------------------------------------------===//
#include "server/Status.h"

namespace cocktail::server {

Status Status::fromIr(const ir::Status& s, Code code) {
  if (s.ok()) return {};
  std::string m = s.str();
  while (!m.empty() && m.back() == '\n') m.pop_back();
  return {code, std::move(m)};
}

Status Status::fromRun(const ir::Status& s) {
  switch (s.kind()) {
    case ir::ErrorKind::User: return fromIr(s, Code::InvalidArgument);
    case ir::ErrorKind::Unsupported: return fromIr(s, Code::FailedPrecondition);
    case ir::ErrorKind::Internal: break;
  }
  return fromIr(s, Code::Internal);
}

const char* codeName(Status::Code code) {
  switch (code) {
    case Status::Code::Ok: return "OK";
    case Status::Code::InvalidArgument: return "INVALID_ARGUMENT";
    case Status::Code::NotFound: return "NOT_FOUND";
    case Status::Code::Unavailable: return "UNAVAILABLE";
    case Status::Code::ResourceExhausted: return "RESOURCE_EXHAUSTED";
    case Status::Code::DeadlineExceeded: return "DEADLINE_EXCEEDED";
    case Status::Code::Cancelled: return "CANCELLED";
    case Status::Code::FailedPrecondition: return "FAILED_PRECONDITION";
    case Status::Code::Unimplemented: return "UNIMPLEMENTED";
    case Status::Code::Internal: return "INTERNAL";
  }
  return "UNKNOWN";
}

}  // namespace cocktail::server
