// The factories of the engines built into the library (registered in engine_registry.cpp),
// one source file each: engine_reference.cpp, engine_emulation.cpp.
#pragma once

#include <memory>

#include "zipserv/llama/matmul_engine.h"

namespace zipserv::llama {

std::unique_ptr<MatmulEngine> make_reference_engine(const EngineOptions& options);
std::unique_ptr<MatmulEngine> make_emulation_engine(const EngineOptions& options);

}  // namespace zipserv::llama
