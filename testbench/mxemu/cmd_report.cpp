// `mxemu report STATS.json [--timeline T.json] [--config C.toml] -o report.html`: one
// self-contained HTML page (inline SVG and CSS, no script, no network) drawn from a run's
// statistics and, when given, its timeline: per chip, engine utilisation over time, the stall
// breakdown, a roofline placing the kernel against the chip's compute and HBM roofs, HBM
// bandwidth and row hits; for a pod, link utilisation. How to read each plot: docs/REPORT.md.
//
// The page is written to OUT.partial and renamed to OUT once complete, so a failed run never
// leaves a file at OUT that looks finished.
#include <fmt/core.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "model/common/error.h"
#include "model/sim/sim_config.h"
#include "testbench/mxemu/commands.h"

namespace mxemu::cli {

namespace {

using nlohmann::json;

struct ReportOptions {
  std::string stats, timeline, output, config;
  std::uint32_t bins = 240;
};

// ---------------------------------------------------------------------------------------------
// Statistics: checked for shape, every missing or mistyped field named by its path.

[[noreturn]] void wrong_shape(const std::string& file, const std::string& path,
                              const std::string& what) {
  throw_bad_input("{}: not statistics of `mxemu run` or `mxemu gemm --stats`: {} {}", file, path,
                  what);
}

const json& member(const json& j, const char* key, const std::string& file,
                   const std::string& path) {
  if (!j.is_object())
    wrong_shape(file, path, fmt::format("is {}, expected an object", j.type_name()));
  if (!j.contains(key)) wrong_shape(file, path.empty() ? key : path + "." + key, "is missing");
  return j.at(key);
}

double number_at(const json& v, const std::string& file, const std::string& path) {
  if (!v.is_number()) {
    wrong_shape(file, path, fmt::format("is {}, expected a number", v.type_name()));
  }
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < 0) wrong_shape(file, path, "is negative or not finite");
  return d;
}

double number(const json& j, const char* key, const std::string& file, const std::string& path) {
  return number_at(member(j, key, file, path), file, path.empty() ? key : path + "." + key);
}

double number_or(const json& j, const char* key, double fallback) {
  return j.is_object() && j.contains(key) && j.at(key).is_number() ? j.at(key).get<double>()
                                                                   : fallback;
}

std::string string_or(const json& j, const char* key, const std::string& fallback) {
  return j.is_object() && j.contains(key) && j.at(key).is_string() ? j.at(key).get<std::string>()
                                                                   : fallback;
}

struct EngineStats {
  std::string name;
  double busy = 0, descriptors = 0;
  std::vector<std::pair<std::string, double>> stalls;  // cause, cycles
};

struct ChannelStats {
  double channel = 0, bandwidth_gbps = 0, row_hit_rate = 0;
};

struct ChipStats {
  int index = 0;
  std::string name, firmware, outcome;
  double cycles = 0, clock_hz = 0, period_ps = 0, macs = 0, mxu_utilization = 0;
  double hbm_read = 0, hbm_written = 0, hbm_peak_gbps = 0, hbm_efficiency = 0;
  double row_hit = 0, read_row_hit = -1, write_row_hit = -1;
  double core_cycles = 0, instret = 0;
  std::vector<std::pair<std::string, double>> core_stalls;
  std::vector<EngineStats> engines;
  std::vector<ChannelStats> channels;
  double peak_macs_per_cycle = 0;
  std::string peak_source;
};

struct LinkStats {
  std::string from, to;
  double utilization = 0, payload_bytes = 0;
};

struct RunStats {
  bool pod = false;
  std::vector<int> shape;
  std::string topology;
  double pod_cycles = 0;
  std::vector<ChipStats> chips;
  std::vector<LinkStats> links;
};

ChipStats parse_chip(const json& c, const std::string& file, const std::string& path,
                     const sim::SimConfig& config) {
  ChipStats s;
  if (!c.is_object()) {
    wrong_shape(file, path.empty() ? "the top level" : path,
                fmt::format("is {}, expected an object", c.type_name()));
  }
  s.index = static_cast<int>(number_or(c, "chip_index", 0));
  s.name = string_or(c, "chip", "chip");
  s.firmware = string_or(c, "firmware", "firmware");
  s.outcome = string_or(c, "outcome", "?");
  s.cycles = number(c, "total_cycles", file, path);
  const std::string core_path = path.empty() ? "core" : path + ".core";
  const json& core = member(c, "core", file, path);
  s.clock_hz = number(core, "clock_hz", file, core_path);
  if (s.clock_hz <= 0) wrong_shape(file, core_path + ".clock_hz", "is 0");
  s.core_cycles = number_or(core, "cycles", s.cycles);
  s.instret = number_or(core, "instret", 0);
  for (const char* k :
       {"fence_stall_cycles", "push_stall_cycles", "stall_cycles", "sleep_cycles"}) {
    if (core.contains(k) && core.at(k).is_number())
      s.core_stalls.emplace_back(k, core.at(k).get<double>());
  }
  s.period_ps = c.contains("simulated_time_ps") && s.cycles > 0
                    ? number(c, "simulated_time_ps", file, path) / s.cycles
                    : 1e12 / s.clock_hz;
  s.macs = number(c, "mxu_macs", file, path);
  s.mxu_utilization = number(c, "mxu_utilization", file, path);
  s.hbm_read = number(c, "hbm_bytes_read", file, path);
  s.hbm_written = number(c, "hbm_bytes_written", file, path);
  const std::string epath = path.empty() ? "engines" : path + ".engines";
  const json& engines = member(c, "engines", file, path);
  if (!engines.is_object() || engines.empty()) {
    wrong_shape(file, epath, "is not an object of engines");
  }
  for (const auto& [name, e] : engines.items()) {
    EngineStats es;
    es.name = name;
    std::string p = epath;
    p += ".";
    p += name;
    es.busy = number(e, "busy_cycles", file, p);
    es.descriptors = number_or(e, "descriptors", 0);
    const json& st = member(e, "stall_cycles", file, p);
    if (!st.is_object()) wrong_shape(file, p + ".stall_cycles", "is not an object of causes");
    for (const auto& [cause, v] : st.items()) {
      es.stalls.emplace_back(cause,
                             number_at(v, file, fmt::format("{}.stall_cycles.{}", p, cause)));
    }
    s.engines.push_back(std::move(es));
  }
  const std::string hpath = path.empty() ? "hbm" : path + ".hbm";
  const json& hbm = member(c, "hbm", file, path);
  s.hbm_peak_gbps = number(hbm, "peak_gbps", file, hpath);
  s.row_hit = number(hbm, "row_hit_rate", file, hpath);
  s.hbm_efficiency = number_or(hbm, "efficiency", 0);
  if (hbm.contains("read")) s.read_row_hit = number_or(hbm.at("read"), "row_hit_rate", -1);
  if (hbm.contains("write")) s.write_row_hit = number_or(hbm.at("write"), "row_hit_rate", -1);
  if (hbm.contains("channels") && hbm.at("channels").is_array()) {
    for (const json& ch : hbm.at("channels")) {
      s.channels.push_back({number_or(ch, "channel", static_cast<double>(s.channels.size())),
                            number_or(ch, "bandwidth_gbps", 0), number_or(ch, "row_hit_rate", 0)});
    }
  }
  // Peak MACs per cycle: the stats tell it when the MXUs did work (utilisation = MACs / (peak x
  // cycles)); otherwise the config's MXU count x rows x columns.
  if (s.macs > 0 && s.mxu_utilization > 0 && s.cycles > 0) {
    s.peak_macs_per_cycle = std::round(s.macs / (s.mxu_utilization * s.cycles));
    s.peak_source = "from the statistics (MXU MACs / (utilisation x cycles))";
  } else {
    const auto& m = config.chip.mxu;
    s.peak_macs_per_cycle = config.chip.peak_macs_per_cycle();
    s.peak_source = fmt::format("from config {} ({}: {} MXUs x {}x{})", config.source,
                                config.chip.name, m.count, m.rows, m.cols);
  }
  return s;
}

RunStats parse_stats(const json& j, const std::string& file, const sim::SimConfig& config) {
  RunStats r;
  if (!j.is_object()) {
    wrong_shape(file, "the top level", fmt::format("is {}, expected an object", j.type_name()));
  }
  if (j.contains("chips")) {
    r.pod = true;
    const json& chips = j.at("chips");
    if (!chips.is_array() || chips.empty()) wrong_shape(file, "chips", "is not a list of chips");
    for (std::size_t i = 0; i < chips.size(); ++i) {
      r.chips.push_back(parse_chip(chips[i], file, fmt::format("chips[{}]", i), config));
    }
    const json& pod = member(j, "pod", file, "");
    r.pod_cycles = number(pod, "total_cycles", file, "pod");
    if (pod.contains("shape") && pod.at("shape").is_array()) {
      for (const json& d : pod.at("shape")) {
        if (d.is_number_integer()) r.shape.push_back(d.get<int>());
      }
    }
    if (pod.contains("ici") && pod.at("ici").is_object()) {
      const json& ici = pod.at("ici");
      r.topology = string_or(ici, "topology", "");
      if (ici.contains("links") && ici.at("links").is_array()) {
        for (const json& l : ici.at("links")) {
          if (!l.contains("directions") || !l.at("directions").is_array()) continue;
          for (const json& d : l.at("directions")) {
            r.links.push_back({string_or(d, "from", "?"), string_or(d, "to", "?"),
                               number_or(d, "utilization", 0), number_or(d, "payload_bytes", 0)});
          }
        }
      }
    }
  } else {
    r.chips.push_back(parse_chip(j, file, "", config));
    r.pod_cycles = r.chips[0].cycles;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Timeline (Chrome / Perfetto trace events): slices per track, counters per process.

struct Track {
  std::string name;
  std::vector<std::pair<double, double>> spans;  // [start, end) in microseconds
};

struct Process {
  std::string name;
  std::map<long long, Track> tracks;
  std::map<std::string, std::vector<std::pair<double, double>>> counters;  // (ts us, value)
};

using Timeline = std::map<long long, Process>;

[[noreturn]] void wrong_trace(const std::string& file, const std::string& what) {
  throw_bad_input("{}: not a timeline of `mxemu run/gemm --timeline`: {}", file, what);
}

double event_number(const json& e, const char* key, const std::string& file, std::size_t i,
                    bool required) {
  if (!e.contains(key)) {
    if (required) wrong_trace(file, fmt::format("traceEvents[{}] has no \"{}\"", i, key));
    return 0;
  }
  const json& v = e.at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>())) {
    wrong_trace(file,
                fmt::format("traceEvents[{}].{} is {}, expected a number", i, key, v.type_name()));
  }
  return v.get<double>();
}

Timeline parse_timeline(const json& j, const std::string& file) {
  const json* events = &j;
  if (j.is_object()) {
    if (!j.contains("traceEvents")) wrong_trace(file, "no \"traceEvents\" list");
    events = &j.at("traceEvents");
  }
  if (!events->is_array()) wrong_trace(file, "\"traceEvents\" is not a list");
  Timeline t;
  std::map<std::pair<long long, long long>, std::vector<double>> open;  // B/E stacks
  for (std::size_t i = 0; i < events->size(); ++i) {
    const json& e = (*events)[i];
    if (!e.is_object() || !e.contains("ph") || !e.at("ph").is_string()) {
      wrong_trace(file, fmt::format("traceEvents[{}] is not an event with a \"ph\"", i));
    }
    const std::string ph = e.at("ph").get<std::string>();
    const auto pid = static_cast<long long>(event_number(e, "pid", file, i, false));
    const auto tid = static_cast<long long>(event_number(e, "tid", file, i, false));
    const std::string name = string_or(e, "name", "");
    if (ph == "M") {
      const std::string arg = e.contains("args") ? string_or(e.at("args"), "name", "") : "";
      if (name == "process_name") t[pid].name = arg;
      if (name == "thread_name") t[pid].tracks[tid].name = arg;
    } else if (ph == "X") {
      const double ts = event_number(e, "ts", file, i, true);
      const double dur = event_number(e, "dur", file, i, true);
      if (dur < 0) wrong_trace(file, fmt::format("traceEvents[{}].dur is negative", i));
      t[pid].tracks[tid].spans.emplace_back(ts, ts + dur);
    } else if (ph == "B") {
      open[{pid, tid}].push_back(event_number(e, "ts", file, i, true));
    } else if (ph == "E") {
      auto& stack = open[{pid, tid}];
      const double ts = event_number(e, "ts", file, i, true);
      if (stack.empty()) wrong_trace(file, fmt::format("traceEvents[{}] ends no slice", i));
      t[pid].tracks[tid].spans.emplace_back(stack.back(), std::max(ts, stack.back()));
      stack.pop_back();
    } else if (ph == "C") {
      const double ts = event_number(e, "ts", file, i, true);
      if (!e.contains("args") || !e.at("args").is_object()) {
        wrong_trace(file, fmt::format("counter traceEvents[{}] has no \"args\" object", i));
      }
      for (const auto& [key, v] : e.at("args").items()) {
        if (!v.is_number()) continue;
        const std::string series =
            e.at("args").size() == 1 ? name : fmt::format("{} {}", name, key);
        t[pid].counters[series].emplace_back(ts, v.get<double>());
      }
    }
  }
  return t;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The process of chip `index`: named "chip<index> ..." (mxemu's own naming), else pid == index.
const Process* chip_process(const Timeline& t, int index) {
  const std::string want = fmt::format("chip{}", index);
  for (const auto& [pid, p] : t) {
    if (p.name.rfind(want, 0) == 0 &&
        (p.name.size() == want.size() ||
         !std::isdigit(static_cast<unsigned char>(p.name[want.size()])))) {
      return &p;
    }
  }
  const auto it = t.find(index);
  return it != t.end() && it->second.name.empty() ? &it->second : nullptr;
}

const Process* links_process(const Timeline& t) {
  for (const auto& [pid, p] : t) {
    if (lower(p.name).find("link") != std::string::npos) return &p;
  }
  return nullptr;
}

// Share of each of `bins` equal bins of [t0, t1) covered by the union of `spans`.
std::vector<double> busy_fraction(std::vector<std::pair<double, double>> spans, double t0,
                                  double t1, std::size_t bins) {
  std::vector<double> out(bins, 0.0);
  if (t1 <= t0 || bins == 0) return out;
  std::sort(spans.begin(), spans.end());
  const double w = (t1 - t0) / static_cast<double>(bins);
  auto add = [&](double a, double b) {
    a = std::max(a, t0);
    b = std::min(b, t1);
    if (b <= a) return;
    auto i = static_cast<std::size_t>((a - t0) / w);
    for (; i < bins; ++i) {
      const double lo = t0 + static_cast<double>(i) * w, hi = lo + w;
      if (lo >= b) break;
      out[i] += std::min(b, hi) - std::max(a, lo);
    }
  };
  double cur_a = 0, cur_b = 0;
  bool have = false;
  for (const auto& [a, b] : spans) {
    if (have && a <= cur_b) {
      cur_b = std::max(cur_b, b);
      continue;
    }
    if (have) add(cur_a, cur_b);
    cur_a = a;
    cur_b = b;
    have = true;
  }
  if (have) add(cur_a, cur_b);
  for (double& v : out) v = std::clamp(v / w, 0.0, 1.0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// SVG and HTML.

std::string esc(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

// 1234567 -> "1.23 M"; small values keep their digits.
std::string si(double v, const char* unit = "") {
  static constexpr const char* kUp[] = {"", " k", " M", " G", " T", " P", " E"};
  static constexpr const char* kDown[] = {"", " m", " \u00b5", " n", " p"};
  const double a = std::fabs(v);
  const std::string plain_unit = *unit != 0 ? std::string(" ") + unit : std::string();
  if (a == 0 || !std::isfinite(v)) return fmt::format("{:.4g}", v) + plain_unit;
  int p = 0;
  double m = v;
  if (a >= 1000) {
    while (std::fabs(m) >= 1000 && p < 6) {
      m /= 1000;
      ++p;
    }
    return fmt::format("{:.3g}", m) + kUp[p] + unit;
  }
  if (a < 1 && *unit != 0) {
    while (std::fabs(m) < 1 && p < 4) {
      m *= 1000;
      ++p;
    }
    return fmt::format("{:.3g}", m) + kDown[p] + unit;
  }
  return fmt::format("{:.4g}", m) + plain_unit;
}

std::string pct(double share) {
  return fmt::format("{:.1f} %", 100 * share);
}

// Tick positions for [0, hi]: about five at 1, 2 or 5 times a power of ten.
std::vector<double> ticks(double hi) {
  std::vector<double> t;
  if (!(hi > 0) || !std::isfinite(hi)) return {0};
  const double raw = hi / 5;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  double step = p;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * p;
    if (step >= raw) break;
  }
  for (int i = 0; static_cast<double>(i) * step <= hi * (1 + 1e-9); ++i) {
    t.push_back(static_cast<double>(i) * step);
  }
  return t;
}

std::string color(std::size_t i) {
  static constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                             "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

std::string engine_color(const std::string& name) {
  const std::string n = lower(name);
  if (n.rfind("mxu", 0) == 0) return "#e15759";
  if (n.rfind("dma", 0) == 0) return "#4e79a7";
  if (n.rfind("vpu", 0) == 0) return "#f28e2b";
  if (n.rfind("ici", 0) == 0) return "#59a14f";
  if (n.rfind("hbm", 0) == 0) return "#b07aa1";
  return "#76b7b2";
}

constexpr double kWidth = 980, kLeft = 150, kRight = 20;
constexpr double kPlotW = kWidth - kLeft - kRight;

// The x axis (cycles) under a plot whose bottom edge is at y.
std::string x_axis(double y, double x_max, const char* label) {
  std::string s =
      fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" class="axis"/>)", kLeft,
                  y, kLeft + kPlotW, y);
  for (const double t : ticks(x_max)) {
    const double x = kLeft + (x_max > 0 ? t / x_max : 0) * kPlotW;
    s +=
        fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" class="axis"/>)"
                    R"(<text x="{0:.1f}" y="{3:.1f}" class="tick" text-anchor="middle">{4}</text>)",
                    x, y, y + 4, y + 15, esc(si(t)));
  }
  s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="tick" text-anchor="middle">{}</text>)",
                   kLeft + kPlotW / 2, y + 30, esc(label));
  return s;
}

struct Strip {
  std::string label, color;
  std::vector<double> values;  // each in [0, 1]
  std::string note;            // right of the label: e.g. the mean
};

// Small multiples: one filled area per strip, 0..100 %, sharing the x axis (cycles).
std::string svg_strips(const std::vector<Strip>& strips, double x_max, const char* title,
                       const char* x_label = "cycles") {
  const double h = 30, gap = 8, top = 6;
  const double height = top + static_cast<double>(strips.size()) * (h + gap) + 40;
  std::string s = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" role="img" aria-label="{}">)",
      kWidth, height, esc(title));
  double y = top;
  for (const Strip& st : strips) {
    s +=
        fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" class="frame"/>)",
                    kLeft, y, kPlotW, h);
    std::string path = fmt::format("M{:.1f},{:.1f}", kLeft, y + h);
    const auto n = static_cast<double>(st.values.size());
    for (std::size_t i = 0; i < st.values.size(); ++i) {
      const double x0 = kLeft + static_cast<double>(i) / n * kPlotW;
      const double x1 = kLeft + static_cast<double>(i + 1) / n * kPlotW;
      const double v = y + h - st.values[i] * h;
      path += fmt::format(" L{:.1f},{:.1f} L{:.1f},{:.1f}", x0, v, x1, v);
    }
    path += fmt::format(" L{:.1f},{:.1f} Z", kLeft + kPlotW, y + h);
    s += fmt::format(R"(<path d="{}" fill="{}" fill-opacity="0.85" stroke="none"/>)", path,
                     st.color);
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="label" text-anchor="end">{}</text>)",
                     kLeft - 6, y + h / 2, esc(st.label));
    if (!st.note.empty()) {
      s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="tick" text-anchor="end">{}</text>)",
                       kLeft - 6, y + h / 2 + 12, esc(st.note));
    }
    y += h + gap;
  }
  s += x_axis(y, x_max, x_label);
  s += "</svg>\n";
  return s;
}

struct Segment {
  std::string legend;  // shared across bars: same legend, same colour
  double value = 0;
};

struct Bar {
  std::string label;
  std::vector<Segment> segments;
  std::string note;
};

// Horizontal stacked bars against a common scale `full` (e.g. the run's cycles).
std::string svg_bars(const std::vector<Bar>& bars, double full, const char* axis_label,
                     const char* title) {
  std::vector<std::string> legends;
  auto legend_index = [&](const std::string& l) {
    const auto it = std::find(legends.begin(), legends.end(), l);
    if (it != legends.end()) return static_cast<std::size_t>(it - legends.begin());
    legends.push_back(l);
    return legends.size() - 1;
  };
  double scale = full;
  for (const Bar& b : bars) {
    double sum = 0;
    for (const Segment& g : b.segments) sum += g.value;
    scale = std::max(scale, sum);
  }
  for (const Bar& b : bars) {
    for (const Segment& g : b.segments) legend_index(g.legend);
  }
  const double h = 24, gap = 6, top = 6;
  const double legend_rows = std::ceil(static_cast<double>(legends.size()) / 5.0);
  const double height =
      top + static_cast<double>(bars.size()) * (h + gap) + 40 + legend_rows * 18 + 10;
  std::string s = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" role="img" aria-label="{}">)",
      kWidth, height, esc(title));
  double y = top;
  for (const Bar& b : bars) {
    double x = kLeft;
    s +=
        fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" class="frame"/>)",
                    kLeft, y, scale > 0 ? full / scale * kPlotW : kPlotW, h);
    for (const Segment& g : b.segments) {
      const double w = scale > 0 ? g.value / scale * kPlotW : 0;
      if (w > 0) {
        s += fmt::format(
            R"(<rect x="{:.1f}" y="{:.1f}" width="{:.2f}" height="{:.1f}" fill="{}"><title>{}: {}</title></rect>)",
            x, y, w, h, color(legend_index(g.legend)), esc(b.label + " " + g.legend),
            esc(si(g.value)));
      }
      x += w;
    }
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="label" text-anchor="end">{}</text>)",
                     kLeft - 6, y + 11, esc(b.label));
    if (!b.note.empty()) {
      s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="note" text-anchor="end">{}</text>)",
                       kLeft - 6, y + 22, esc(b.note));
    }
    y += h + gap;
  }
  s += x_axis(y, scale, axis_label);
  y += 44;
  for (std::size_t i = 0; i < legends.size(); ++i) {
    const double lx = kLeft + static_cast<double>(i % 5) * (kPlotW / 5);
    const double ly = y + std::floor(static_cast<double>(i) / 5) * 18;
    s += fmt::format(
        R"(<rect x="{:.1f}" y="{:.1f}" width="12" height="12" fill="{}"/><text x="{:.1f}" y="{:.1f}" class="tick">{}</text>)",
        lx, ly, color(i), lx + 16, ly + 10, esc(legends[i]));
  }
  s += "</svg>\n";
  return s;
}

struct Series {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (cycle, value), a step function
};

// Step curves over cycles (counters from the timeline).
std::string svg_steps(const std::vector<Series>& series, double x_max, const char* title) {
  const double h = 140, top = 10;
  double y_max = 0;
  for (const Series& se : series) {
    for (const auto& p : se.points) y_max = std::max(y_max, p.second);
  }
  if (y_max <= 0) y_max = 1;
  const auto yt = ticks(y_max);
  y_max = std::max(y_max, yt.back());
  const double height = top + h + 44 + 18 * static_cast<double>(series.size());
  std::string s = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" role="img" aria-label="{}">)",
      kWidth, height, esc(title));
  s += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" class="frame"/>)",
                   kLeft, top, kPlotW, h);
  for (const double t : yt) {
    const double y = top + h - t / y_max * h;
    s += fmt::format(
        R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" class="grid"/><text x="{:.1f}" y="{:.1f}" class="tick" text-anchor="end">{}</text>)",
        kLeft, y, kLeft + kPlotW, y, kLeft - 4, y + 4, esc(si(t)));
  }
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& se = series[k];
    std::string path;
    double prev_y = top + h;
    for (std::size_t i = 0; i < se.points.size(); ++i) {
      const double x = kLeft + std::clamp(se.points[i].first / x_max, 0.0, 1.0) * kPlotW;
      const double y = top + h - std::clamp(se.points[i].second / y_max, 0.0, 1.0) * h;
      path += i == 0 ? fmt::format("M{:.1f},{:.1f}", x, y)
                     : fmt::format(" L{:.1f},{:.1f} L{:.1f},{:.1f}", x, prev_y, x, y);
      prev_y = y;
    }
    if (!path.empty()) {
      path += fmt::format(" L{:.1f},{:.1f}", kLeft + kPlotW, prev_y);
      s += fmt::format(R"(<path d="{}" fill="none" stroke="{}" stroke-width="1.5"/>)", path,
                       color(k));
    }
    const double ly = top + h + 44 + 18 * static_cast<double>(k);
    s += fmt::format(
        R"(<rect x="{:.1f}" y="{:.1f}" width="12" height="12" fill="{}"/><text x="{:.1f}" y="{:.1f}" class="tick">{}</text>)",
        kLeft, ly - 10, color(k), kLeft + 16, ly, esc(se.label));
  }
  s += x_axis(top + h, x_max, "cycles");
  s += "</svg>\n";
  return s;
}

// Rows of cells coloured by share (0: white, 1: full colour), sharing the x axis (cycles).
std::string svg_heatmap(const std::vector<Strip>& rows, double x_max, const char* title,
                        double full) {
  const double h = 11, top = 6;
  const double height = top + static_cast<double>(rows.size()) * h + 40;
  std::string s = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" role="img" aria-label="{}">)",
      kWidth, height, esc(title));
  double y = top;
  for (const Strip& r : rows) {
    const auto n = static_cast<double>(r.values.size());
    s +=
        fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" class="frame"/>)",
                    kLeft, y, kPlotW, h);
    for (std::size_t i = 0; i < r.values.size(); ++i) {
      if (r.values[i] <= 0) continue;
      const double x0 = kLeft + static_cast<double>(i) / n * kPlotW;
      s += fmt::format(
          R"(<rect x="{:.1f}" y="{:.1f}" width="{:.2f}" height="{:.1f}" fill="{}" fill-opacity="{:.3f}"/>)",
          x0, y, kPlotW / n, h, r.color, 0.15 + 0.85 * std::min(1.0, r.values[i] / full));
    }
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="small" text-anchor="end">{}</text>)",
                     kLeft - 6, y + h - 2, esc(r.label));
    y += h;
  }
  s += x_axis(y, x_max, "cycles");
  s += "</svg>\n";
  return s;
}

// Roofline: attainable FLOP/s = min(peak, intensity x HBM bandwidth), log-log, the kernel a dot.
std::string svg_roofline(const ChipStats& c) {
  const double peak = 2 * c.peak_macs_per_cycle * c.clock_hz;  // FLOP/s
  const double bw = c.hbm_peak_gbps * 1e9;                     // B/s
  const double bytes = c.hbm_read + c.hbm_written;
  const double seconds = c.cycles / c.clock_hz;
  const bool have_point = c.macs > 0 && bytes > 0 && seconds > 0;
  const double ai = have_point ? 2 * c.macs / bytes : 0;
  const double achieved = have_point ? 2 * c.macs / seconds : 0;
  const double ridge = bw > 0 ? peak / bw : 1;
  double lo = ridge / 100, hi = ridge * 100;
  if (have_point) {
    lo = std::min(lo, ai / 10);
    hi = std::max(hi, ai * 10);
  }
  const double x0 = std::floor(std::log10(lo)), x1 = std::ceil(std::log10(hi));
  double y1 = std::ceil(std::log10(peak * 2)), y0 = y1 - 5;
  if (have_point) y0 = std::min(y0, std::floor(std::log10(achieved / 3)));
  const double w = 600, h = 330, left = 90, top = 12;
  auto px = [&](double v) { return left + (std::log10(v) - x0) / (x1 - x0) * w; };
  auto py = [&](double v) { return top + h - (std::log10(v) - y0) / (y1 - y0) * h; };
  std::string s = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" role="img" aria-label="roofline">)",
      left + w + 260, top + h + 50);
  s += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" class="frame"/>)",
                   left, top, w, h);
  for (int k = 0; k <= static_cast<int>(x1 - x0); ++k) {
    const double e = x0 + k;
    const double x = px(std::pow(10.0, e));
    s += fmt::format(
        R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" class="grid"/><text x="{0:.1f}" y="{3:.1f}" class="tick" text-anchor="middle">{4}</text>)",
        x, top, top + h, top + h + 15, esc(si(std::pow(10.0, e))));
  }
  for (int k = 0; k <= static_cast<int>(y1 - y0); ++k) {
    const double e = y0 + k;
    const double y = py(std::pow(10.0, e));
    s += fmt::format(
        R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" class="grid"/><text x="{:.1f}" y="{:.1f}" class="tick" text-anchor="end">{}</text>)",
        left, y, left + w, y, left - 4, y + 4, esc(si(std::pow(10.0, e), "FLOP/s")));
  }
  s += fmt::format(
      R"(<text x="{:.1f}" y="{:.1f}" class="tick" text-anchor="middle">arithmetic intensity (FLOP per HBM byte)</text>)",
      left + w / 2, top + h + 34);
  // The roofs: HBM slope up to the ridge, compute flat after it.
  const double xl = std::pow(10.0, x0), xr = std::pow(10.0, x1);
  const double yl = std::max(xl * bw, std::pow(10.0, y0));
  const double xs = yl / bw;  // where the slope enters the plot
  s += fmt::format(
      R"(<path d="M{:.1f},{:.1f} L{:.1f},{:.1f} L{:.1f},{:.1f}" fill="none" stroke="#333" stroke-width="2.5"/>)",
      px(xs), py(yl), px(ridge), py(peak), px(xr), py(peak));
  s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="tick">compute roof {}</text>)",
                   px(ridge) + 6, py(peak) - 6, esc(si(peak, "FLOP/s")));
  s += fmt::format(
      R"(<text x="{:.1f}" y="{:.1f}" class="tick" text-anchor="end">HBM roof {}</text>)",
      px(ridge) - 8, py(peak / 4), esc(si(bw, "B/s")));
  s += fmt::format(
      R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" class="ridge"/><text x="{3:.1f}" y="{2:.1f}" class="small">ridge {4:.3g}</text>)",
      px(ridge), py(peak), top + h - 4, px(ridge) + 3, ridge);
  if (have_point) {
    s += fmt::format(
        R"(<circle cx="{:.1f}" cy="{:.1f}" r="6" fill="#e15759" stroke="#000"><title>{}</title></circle>)",
        px(ai), py(achieved), esc(c.firmware));
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="label">{}</text>)", px(ai) + 9,
                     py(achieved) + 4, esc(c.firmware));
  }
  // The key figures to the right.
  const double kx = left + w + 16;
  std::vector<std::string> lines = {
      fmt::format("peak {} MAC/cycle", si(c.peak_macs_per_cycle)),
      fmt::format("clock {}", si(c.clock_hz, "Hz")),
      fmt::format("compute roof {}", si(peak, "FLOP/s")),
      fmt::format("HBM roof {}", si(bw, "B/s")),
  };
  if (have_point) {
    lines.push_back(fmt::format("intensity {:.3g} FLOP/B", ai));
    lines.push_back(fmt::format("achieved {}", si(achieved, "FLOP/s")));
    lines.push_back(fmt::format("= {} of the roof", pct(achieved / std::min(peak, ai * bw))));
    lines.emplace_back(ai < ridge ? "bound: HBM bandwidth" : "bound: compute");
  } else {
    lines.emplace_back(c.macs > 0 ? "no HBM traffic: intensity unbounded"
                                  : "no MXU work: no point to place");
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="tick">{}</text>)", kx,
                     top + 16 + 18 * static_cast<double>(i), esc(lines[i]));
  }
  s += "</svg>\n";
  return s;
}

constexpr const char* kStyle = R"(
body { font: 14px/1.4 sans-serif; margin: 24px; color: #222; background: #fff; max-width: 1020px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 6px;
  border-bottom: 2px solid #4e79a7; } h3 { font-size: 15px; margin: 18px 0 4px; }
p.meta, p.note { color: #555; margin: 4px 0; } p.warn { color: #8a4b00; background: #fff4e0;
  padding: 4px 8px; }
table { border-collapse: collapse; margin: 6px 0; } td, th { padding: 2px 10px; text-align: right;
  border-bottom: 1px solid #ddd; } th { background: #f3f3f3; } td:first-child, th:first-child {
  text-align: left; }
svg { display: block; margin: 4px 0 10px; }
svg .axis { stroke: #333; stroke-width: 1; } svg .grid { stroke: #ddd; stroke-width: 1; }
svg .frame { fill: #f7f7f7; stroke: #ccc; stroke-width: 0.5; }
svg .ridge { stroke: #999; stroke-dasharray: 4 3; }
svg text { font-family: sans-serif; fill: #222; } svg .tick { font-size: 11px; }
svg .label { font-size: 12px; } svg .small { font-size: 9px; } svg .note { font-size: 10px; fill: #555; }
)";

struct Page {
  std::string html;
  void add(const std::string& s) { html += s; }
};

std::string kv_table(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string s = "<table>";
  for (const auto& [k, v] : rows)
    s += fmt::format("<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
  return s + "</table>\n";
}

void chip_section(Page& page, const ChipStats& c, const Process* proc, bool have_timeline,
                  std::size_t bins) {
  page.add(fmt::format(R"(<section id="chip{}"><h2>chip {} ({}): {}, {}</h2>)", c.index, c.index,
                       esc(c.name), esc(c.firmware), esc(c.outcome)));
  const double bytes = c.hbm_read + c.hbm_written;
  const double seconds = c.cycles / c.clock_hz;
  page.add(kv_table({
      {"cycles",
       fmt::format("{:.0f} ({} at {})", c.cycles, si(seconds, "s"), si(c.clock_hz, "Hz"))},
      {"MXU MACs", si(c.macs)},
      {"MXU utilisation", pct(c.mxu_utilization)},
      {"core instructions", fmt::format("{:.0f} (IPC {:.3f})", c.instret,
                                        c.core_cycles > 0 ? c.instret / c.core_cycles : 0)},
      {"HBM bytes (read + written)",
       fmt::format("{} + {}", si(c.hbm_read, "B"), si(c.hbm_written, "B"))},
      {"HBM bandwidth over the run",
       fmt::format(
           "{} of {} peak ({})", si(seconds > 0 ? bytes / seconds : 0, "B/s"),
           si(c.hbm_peak_gbps * 1e9, "B/s"),
           pct(seconds > 0 && c.hbm_peak_gbps > 0 ? bytes / seconds / (c.hbm_peak_gbps * 1e9)
                                                  : 0))},
      {"HBM row-hit rate", c.read_row_hit >= 0 && c.write_row_hit >= 0
                               ? fmt::format("{} (reads {}, writes {})", pct(c.row_hit),
                                             pct(c.read_row_hit), pct(c.write_row_hit))
                               : pct(c.row_hit)},
  }));

  // Utilisation over time.
  page.add("<h3>Utilisation over time, per engine</h3>\n");
  if (!have_timeline) {
    page.add(
        R"(<p class="warn">No timeline given: totals only. Run with <code>--timeline T.json</code> and pass it to <code>mxemu report --timeline</code> for curves over time.</p>)");
  } else if (proc == nullptr) {
    page.add(R"(<p class="warn">The timeline has no process for this chip: totals only.</p>)");
  } else {
    const double t1 = c.cycles * c.period_ps / 1e6;  // microseconds
    std::vector<Strip> strips;
    for (const auto& [tid, tr] : proc->tracks) {
      std::vector<double> v = busy_fraction(tr.spans, 0, t1, bins);
      double mean = 0;
      for (const double x : v) mean += x;
      mean /= static_cast<double>(std::max<std::size_t>(1, v.size()));
      const std::string name = tr.name.empty() ? fmt::format("track {}", tid) : tr.name;
      strips.push_back({name, engine_color(name), std::move(v),
                        fmt::format("{} busy, {} slices", pct(mean), tr.spans.size())});
    }
    if (strips.empty()) {
      page.add(R"(<p class="warn">The timeline has no tracks for this chip.</p>)");
    } else {
      page.add(svg_strips(strips, c.cycles, "utilisation over time"));
      page.add(fmt::format(
          R"(<p class="note">Share of each of {} bins ({} cycles each) in which the track ran a command (overlapping commands counted once).</p>)",
          bins, si(c.cycles / static_cast<double>(bins))));
    }
  }

  // Busy and stalls per engine.
  page.add("<h3>Busy cycles and stall breakdown</h3>\n");
  std::vector<Bar> bars;
  for (const EngineStats& e : c.engines) {
    Bar b{e.name, {{"busy", e.busy}}, ""};
    double stalled = 0;
    for (const auto& [cause, n] : e.stalls) {
      b.segments.push_back({"stall: " + cause, n});
      stalled += n;
    }
    b.note = fmt::format("busy {}, stalled {}", pct(c.cycles > 0 ? e.busy / c.cycles : 0),
                         pct(c.cycles > 0 ? stalled / c.cycles : 0));
    bars.push_back(std::move(b));
  }
  if (!c.core_stalls.empty()) {
    Bar b{"core", {}, ""};
    for (const auto& [k, n] : c.core_stalls) {
      std::string cause = k;
      const auto pos = cause.find("_cycles");
      if (pos != std::string::npos) cause.erase(pos);
      b.segments.push_back({"core: " + cause, n});
    }
    bars.push_back(std::move(b));
  }
  page.add(svg_bars(bars, c.cycles, "cycles", "busy and stall cycles"));
  page.add(
      R"(<p class="note">Each bar is one engine over the whole run (the grey frame: the run's cycles); stall causes are the engine's own counters and are not necessarily disjoint from busy time.</p>)");

  // Roofline.
  page.add("<h3>Roofline</h3>\n");
  page.add(svg_roofline(c));
  page.add(fmt::format(
      R"(<p class="note">Peak {} MAC/cycle {}; HBM roof: the controller's peak ({} GB/s); intensity = 2 x MACs / HBM bytes read and written.</p>)",
      si(c.peak_macs_per_cycle), esc(c.peak_source), fmt::format("{:.1f}", c.hbm_peak_gbps)));

  // HBM.
  page.add("<h3>HBM bandwidth and row hits</h3>\n");
  std::vector<Series> bw_series, hit_series;
  if (proc != nullptr) {
    for (const auto& [name, pts] : proc->counters) {
      const std::string n = lower(name);
      if (n.find("hbm") == std::string::npos) continue;
      Series se{name, {}};
      for (const auto& [ts, v] : pts) se.points.emplace_back(ts * 1e6 / c.period_ps, v);
      std::sort(se.points.begin(), se.points.end());
      (n.find("hit") != std::string::npos ? hit_series : bw_series).push_back(std::move(se));
    }
  }
  if (!bw_series.empty()) page.add(svg_steps(bw_series, c.cycles, "HBM bandwidth over time"));
  if (!hit_series.empty()) page.add(svg_steps(hit_series, c.cycles, "HBM row hits over time"));
  if (bw_series.empty() && hit_series.empty()) {
    page.add(fmt::format(
        R"(<p class="warn">{}: HBM totals only (bandwidth {} over the run, row-hit rate {}).</p>)",
        have_timeline ? "The timeline has no HBM counters for this chip" : "No timeline given",
        si(seconds > 0 ? bytes / seconds : 0, "B/s"), pct(c.row_hit)));
  }
  if (!c.channels.empty()) {
    double peak_ch = 0;
    for (const ChannelStats& k : c.channels) peak_ch = std::max(peak_ch, k.bandwidth_gbps);
    Strip bw{"bandwidth (GB/s)", "#4e79a7", {}, ""};
    Strip hit{"row-hit rate", "#59a14f", {}, ""};
    for (const ChannelStats& k : c.channels) {
      bw.values.push_back(peak_ch > 0 ? k.bandwidth_gbps / peak_ch : 0);
      hit.values.push_back(k.row_hit_rate);
    }
    page.add(fmt::format(
        R"(<p class="note">Per channel (0..{}): bandwidth relative to the busiest channel ({:.2f} GB/s) and row-hit rate (0..100 %).</p>)",
        c.channels.size() - 1, peak_ch));
    page.add(
        svg_strips({bw, hit}, static_cast<double>(c.channels.size()), "HBM channels", "channel"));
  }
  page.add("</section>\n");
}

void links_section(Page& page, const RunStats& r, const Process* links, bool have_timeline,
                   std::size_t bins) {
  page.add("<h2>Interconnect links</h2>\n");
  if (r.links.empty() && links == nullptr) {
    page.add(R"(<p class="note">The statistics have no link figures.</p>)");
    return;
  }
  if (!r.links.empty()) {
    std::vector<Bar> bars;
    std::size_t idle = 0;
    std::vector<LinkStats> ls = r.links;
    std::stable_sort(ls.begin(), ls.end(), [](const LinkStats& a, const LinkStats& b) {
      return a.utilization > b.utilization;
    });
    for (const LinkStats& l : ls) {
      if (l.utilization <= 0) {
        ++idle;
        continue;
      }
      bars.push_back({l.from + " -> " + l.to,
                      {{"utilisation", 100 * l.utilization}},
                      fmt::format("{}, {}", pct(l.utilization), si(l.payload_bytes, "B"))});
    }
    page.add(fmt::format(
        R"(<p class="note">Utilisation of each link direction over the run ({} directions, {} idle and not drawn).</p>)",
        ls.size(), idle));
    double top = 0;
    for (const LinkStats& l : ls) top = std::max(top, 100 * l.utilization);
    if (!bars.empty()) page.add(svg_bars(bars, top, "% of the run's time on the wire", "links"));
  }
  if (!have_timeline) {
    page.add(R"(<p class="warn">No timeline given: link totals only.</p>)");
  } else if (links == nullptr) {
    page.add(R"(<p class="warn">The timeline has no link tracks.</p>)");
  } else {
    const ChipStats& c0 = r.chips[0];
    const double t1 = r.pod_cycles * c0.period_ps / 1e6;
    std::vector<Strip> rows;
    std::size_t idle = 0;
    double full = 0;
    for (const auto& [tid, tr] : links->tracks) {
      if (tr.spans.empty()) {
        ++idle;
        continue;
      }
      rows.push_back({tr.name.empty() ? fmt::format("link {}", tid) : tr.name, "#59a14f",
                      busy_fraction(tr.spans, 0, t1, bins), ""});
      for (const double v : rows.back().values) full = std::max(full, v);
    }
    page.add(fmt::format(
        R"(<p class="note">Link activity over time, {} bins: the darker a cell, the larger the share of the bin with a packet on the wire (darkest: {} of the bin; {} link directions without traffic not drawn).</p>)",
        bins, pct(full), idle));
    if (!rows.empty()) {
      page.add(svg_heatmap(rows, r.pod_cycles, "link activity over time", full));
    }
  }
}

std::string render(const RunStats& r, const Timeline* t, const ReportOptions& o) {
  Page page;
  page.add(fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mxemu report: "
      "{}</title><style>{}</style></head><body>\n",
      esc(o.stats), kStyle));
  page.add("<h1>mxemu report</h1>\n");
  page.add(fmt::format(R"(<p class="meta">statistics: {}; timeline: {}</p>)", esc(o.stats),
                       t != nullptr ? esc(o.timeline) : "none (totals only)"));
  if (r.pod) {
    std::string shape;
    for (const int d : r.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    page.add(fmt::format(R"(<h2>Pod {}{}: {} chips, {} cycles</h2>)", esc(shape),
                         r.topology.empty() ? "" : " " + esc(r.topology), r.chips.size(),
                         fmt::format("{:.0f}", r.pod_cycles)));
    std::string rows =
        "<table><tr><th>chip</th><th>firmware</th><th>outcome</th><th>cycles</th><th>MXU "
        "utilisation</th><th>HBM bytes</th><th>HBM row hits</th></tr>";
    for (const ChipStats& c : r.chips) {
      rows += fmt::format(
          R"(<tr><td><a href="#chip{}">chip {}</a></td><td>{}</td><td>{}</td><td>{:.0f}</td><td>{}</td><td>{}</td><td>{}</td></tr>)",
          c.index, c.index, esc(c.firmware), esc(c.outcome), c.cycles, pct(c.mxu_utilization),
          esc(si(c.hbm_read + c.hbm_written, "B")), pct(c.row_hit));
    }
    page.add(rows + "</table>\n");
    links_section(page, r, t != nullptr ? links_process(*t) : nullptr, t != nullptr, o.bins);
  }
  for (const ChipStats& c : r.chips) {
    const auto bins =
        static_cast<std::size_t>(std::clamp<double>(c.cycles, 1, static_cast<double>(o.bins)));
    chip_section(page, c, t != nullptr ? chip_process(*t, c.index) : nullptr, t != nullptr, bins);
  }
  page.add(
      "<p class=\"meta\">Written by mxemu report; how to read each plot: docs/REPORT.md.</p>\n");
  page.add("</body></html>\n");
  return page.html;
}

json read_json(const std::string& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw_bad_input("{} {}: no such file", what, path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("{} {}: cannot be read", what, path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::parse_error& e) {
    throw_bad_input("{} {}: not JSON ({})", what, path, e.what());
  }
}

// Writes `text` to OUT.partial, then renames it to OUT: OUT is either complete or untouched.
void write_atomically(const std::string& out, const std::string& text) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(out);
  if (fs::is_directory(p, ec))
    throw_bad_input("cannot write the report to {}: it is a directory", out);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    throw_bad_input("cannot write the report to {}: directory {} does not exist", out,
                    dir.string());
  }
  const std::string tmp = out + ".partial";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) {
      const int err = errno;
      throw_bad_input("cannot write the report to {}: cannot create {}: {}", out, tmp,
                      std::generic_category().message(err));
    }
    f << text;
    f.flush();
    if (!f) {
      f.close();
      fs::remove(tmp, ec);
      throw_bad_input("cannot write the report to {}: writing {} failed (disk full?)", out, tmp);
    }
  }
  fs::rename(tmp, p, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw_bad_input("cannot write the report to {}: {}", out, ec.message());
  }
}

int run_report(const ReportOptions& o) {
  const sim::SimConfig config = sim::load_sim_config(o.config);  // refuses a bad file (exit 2)
  const RunStats stats = parse_stats(read_json(o.stats, "statistics"), o.stats, config);
  Timeline timeline;
  if (!o.timeline.empty()) timeline = parse_timeline(read_json(o.timeline, "timeline"), o.timeline);
  const std::string html = render(stats, o.timeline.empty() ? nullptr : &timeline, o);
  write_atomically(o.output, html);
  fmt::print("wrote {} ({} chip{}, {})\n", o.output, stats.chips.size(),
             stats.chips.size() == 1 ? "" : "s",
             o.timeline.empty() ? "totals only: no timeline" : "with the timeline");
  return 0;
}

}  // namespace

void register_report_command(CLI::App& app, Action& action) {
  auto opts = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand(
      "report", "Draw a run's statistics (and timeline) as one self-contained HTML page");
  cmd->add_option("stats", opts->stats, "STATS.json written by `mxemu run/gemm --stats`")
      ->required();
  cmd->add_option("--timeline", opts->timeline,
                  "T.json written by --timeline: curves over time (without it: totals only)");
  cmd->add_option("-o,--output", opts->output, "the HTML page to write")->required();
  cmd->add_option("--config", opts->config,
                  "config of the run (TOML; default mx1): the MXU geometry when the statistics "
                  "cannot tell it (no MXU work)");
  cmd->add_option("--bins", opts->bins, "time bins of the curves over time")
      ->check(CLI::Range(1, 4000));
  cmd->callback([&action, opts] { action = [opts] { return run_report(*opts); }; });
}

}  // namespace mxemu::cli
