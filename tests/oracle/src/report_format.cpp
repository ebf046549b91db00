// Text and JSON renderings of an oracle Report.
#include "zipserv/oracle/report_format.h"

#include <cstdio>

namespace zipserv::oracle {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", ch);
      out += buf;
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

std::string format_text(const Report& report) {
  std::string line = report.case_name + "  " + report.engine + " ";
  for (const CheckpointResult& r : report.results)
    line += std::string(" ") + checkpoint_name(r.checkpoint) + "=" + status_name(r.status);
  line += "\n";
  if (const Divergence* d = report.first_divergence()) line += "    first divergence: " + d->describe() + "\n";
  return line;
}

std::string format_json(const Report& report) {
  std::string out = "{\"case\":" + json_string(report.case_name) + ",\"engine\":" + json_string(report.engine) +
                    ",\"passed\":" + (report.passed() ? "true" : "false") + ",\"checkpoints\":{";
  for (size_t i = 0; i < report.results.size(); ++i) {
    const CheckpointResult& r = report.results[i];
    if (i) out.append(",");
    out.append(json_string(checkpoint_name(r.checkpoint))).append(":").append(json_string(status_name(r.status)));
  }
  out += "},\"first_divergence\":";
  if (const Divergence* d = report.first_divergence()) {
    const Place& p = d->place;
    out += "{\"checkpoint\":" + json_string(checkpoint_name(d->checkpoint)) + ",\"array\":" + json_string(d->array) +
           ",\"index\":" + std::to_string(d->index) + ",\"block_tile\":" + std::to_string(p.block_tile) +
           ",\"warp\":" + std::to_string(p.warp) + ",\"slice\":" + std::to_string(p.slice) +
           ",\"lane\":" + std::to_string(p.lane) + ",\"reg\":" + std::to_string(p.reg) +
           ",\"row\":" + std::to_string(p.row) + ",\"col\":" + std::to_string(p.col) +
           ",\"expected\":" + json_string(hex(d->expected, d->bits)) + ",\"actual\":" + json_string(hex(d->actual, d->bits)) +
           ",\"description\":" + json_string(d->describe()) + "}";
  } else {
    out += "null";
  }
  return out + "}";
}

}  // namespace zipserv::oracle
