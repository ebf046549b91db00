/*! \file report_format.h
 *  \brief Printing oracle reports: one line per (case, engine) for people, JSON for programs.
 */
#pragma once

#include <string>

#include "zipserv/oracle/checkpoint.h"

namespace zipserv::oracle {

/// \addtogroup oracle
/// \{

/// "<case>  <engine>  window=pass bitmaps=pass ... gemm_output=FAIL" and, if a checkpoint
/// failed, a second line with Divergence::describe().
std::string format_text(const Report& report);

/// One JSON object: {"case", "engine", "passed", "checkpoints": {name: status}, "first_divergence":
/// {...} or null}. Strings are escaped, so tensor names with quotes stay valid JSON.
std::string format_json(const Report& report);

/// `s` as a JSON string literal, quotes included.
std::string json_string(const std::string& s);

/// \}

}  // namespace zipserv::oracle
