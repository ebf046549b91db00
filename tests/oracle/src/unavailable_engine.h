/*! \file unavailable_engine.h
 *  \brief A stand-in registered under a built-in engine's name when this build lacks it, so
 *         `zipserv check` lists it as skipped with the reason instead of not knowing the name.
 */
#pragma once

#include <string>
#include <utility>

#include "zipserv/oracle/engine.h"

namespace zipserv::oracle::detail {

/// An engine that never runs: unavailable_reason() says why.
class UnavailableEngine final : public Engine {
 public:
  /// `name` as registered, `reason` as printed ("not built: ...").
  UnavailableEngine(std::string name, std::string reason) : name_(std::move(name)), reason_(std::move(reason)) {}
  std::string name() const override { return name_; }
  std::string unavailable_reason() const override { return reason_; }

 private:
  std::string name_, reason_;
};

}  // namespace zipserv::oracle::detail
