#include "model/waves/writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <system_error>

#include "model/common/error.h"
#include "model/waves/fst_file.h"

namespace mxemu::waves {

namespace {

// One signal of the file: which recorder and which of its signals.
struct FileSignal {
  const Recorder* rec;
  const Signal* sig;
};

// Every change of every recorder in time order (stable: within one time, recording order).
struct Merged {
  std::vector<FileSignal> signals;
  struct Item {
    std::uint64_t time;
    std::uint32_t signal;  // index into `signals`
    std::uint64_t value;
  };
  std::vector<Item> items;
  std::uint64_t start = 0, end = 0;
};

Merged merge(const std::vector<const Recorder*>& recs) {
  Merged m;
  std::uint64_t last = 0;
  bool any = false;
  for (const Recorder* r : recs) {
    const auto base = static_cast<std::uint32_t>(m.signals.size());
    for (const Signal& s : r->signals()) m.signals.push_back({r, &s});
    for (const Change& c : r->changes()) m.items.push_back({c.time, base + c.signal, c.value});
    last = std::max(last, r->end_time());
    m.start = r->window().start;
    m.end = r->window().end;
    any = true;
  }
  if (!any) return m;
  std::stable_sort(m.items.begin(), m.items.end(),
                   [](const Merged::Item& a, const Merged::Item& b) { return a.time < b.time; });
  if (m.end == 0 || m.end > last + 1) m.end = std::max(last + 1, m.start);
  return m;
}

// Calls emit(time, signal, value) for the changes that survive: per time the last value of
// each signal, and only when it differs from the value written before.
template <typename Emit, typename Time>
void replay(const Merged& m, Time&& at_time, Emit&& emit) {
  std::vector<std::uint64_t> written(m.signals.size());
  for (std::size_t i = 0; i < m.signals.size(); ++i) written[i] = m.signals[i].sig->initial;
  std::vector<std::uint64_t> pending_value(m.signals.size());
  std::vector<char> pending(m.signals.size(), 0);
  std::vector<std::uint32_t> touched;
  std::size_t i = 0;
  while (i < m.items.size()) {
    const std::uint64_t t = m.items[i].time;
    touched.clear();
    for (; i < m.items.size() && m.items[i].time == t; ++i) {
      const Merged::Item& it = m.items[i];
      if (pending[it.signal] == 0) touched.push_back(it.signal);
      pending[it.signal] = 1;
      pending_value[it.signal] = it.value;
    }
    std::sort(touched.begin(), touched.end());
    bool stamped = false;
    for (const std::uint32_t s : touched) {
      pending[s] = 0;
      if (pending_value[s] == written[s]) continue;
      written[s] = pending_value[s];
      if (!stamped) at_time(t);
      stamped = true;
      emit(s, pending_value[s]);
    }
  }
}

std::string vcd_id(std::size_t i) {
  std::string s;
  do {
    s += static_cast<char>('!' + i % 94);
    i /= 94;
  } while (i != 0);
  return s;
}

std::string bits(std::uint64_t v, std::uint32_t width) {
  std::string s(width, '0');
  for (std::uint32_t b = 0; b < width; ++b) {
    if (((v >> b) & 1u) != 0) s[width - 1 - b] = '1';
  }
  return s;
}

std::string vcd_value(std::uint64_t v, std::uint32_t width, const std::string& id) {
  if (width == 1) return fmt::format("{}{}\n", v & 1u, id);
  return fmt::format("b{:b} {}\n", v, id);
}

// Walks the scope tree: open(name), var(index), close(). Scopes come in the order they first
// appear, each once with all its signals (in declaration order) and then its sub-scopes.
struct ScopeNode {
  std::string name;
  std::vector<std::size_t> vars;
  std::vector<std::unique_ptr<ScopeNode>> children;
  ScopeNode* child(const std::string& n) {
    for (const auto& c : children) {
      if (c->name == n) return c.get();
    }
    children.push_back(std::make_unique<ScopeNode>());
    children.back()->name = n;
    return children.back().get();
  }
};

template <typename Open, typename Var, typename Close>
void walk_node(const ScopeNode& node, Open& open, Var& var, Close& close) {
  for (const std::size_t i : node.vars) var(i);
  for (const auto& c : node.children) {
    open(c->name);
    walk_node(*c, open, var, close);
    close();
  }
}

template <typename Open, typename Var, typename Close>
void walk_scopes(const Merged& m, Open&& open, Var&& var, Close&& close) {
  ScopeNode root;
  for (std::size_t i = 0; i < m.signals.size(); ++i) {
    ScopeNode* n = &root;
    for (const std::string& part : m.signals[i].sig->scope) n = n->child(part);
    n->vars.push_back(i);
  }
  walk_node(root, open, var, close);
}

void write_vcd(const std::string& tmp, const Merged& m, const FileInfo& info) {
  std::ofstream f(tmp, std::ios::binary);
  if (!f) {
    throw_bad_input("cannot write waveform file '{}': {}", tmp,
                    std::generic_category().message(errno));
  }
  f << "$version mxemu $end\n";
  if (!info.comment.empty()) f << "$comment " << info.comment << " $end\n";
  f << "$timescale " << info.timescale << " $end\n";
  walk_scopes(
      m, [&](const std::string& n) { f << "$scope module " << n << " $end\n"; },
      [&](std::size_t i) {
        const Signal& s = *m.signals[i].sig;
        f << "$var wire " << s.width << ' ' << vcd_id(i) << ' ' << s.name;
        if (s.width > 1) f << " [" << s.width - 1 << ":0]";
        f << " $end\n";
      },
      [&] { f << "$upscope $end\n"; });
  f << "$enddefinitions $end\n";
  f << '#' << m.start << "\n$dumpvars\n";
  for (std::size_t i = 0; i < m.signals.size(); ++i) {
    f << vcd_value(m.signals[i].sig->initial, m.signals[i].sig->width, vcd_id(i));
  }
  f << "$end\n";
  std::uint64_t last = m.start;
  replay(
      m,
      [&](std::uint64_t t) {
        if (t != m.start) f << '#' << t << '\n';
        last = t;
      },
      [&](std::uint32_t s, std::uint64_t v) {
        f << vcd_value(v, m.signals[s].sig->width, vcd_id(s));
      });
  if (m.end > last) f << '#' << m.end << '\n';
  f.flush();
  if (!f) throw_bad_input("could not write the whole waveform file '{}'", tmp);
}

void write_fst(const std::string& tmp, const Merged& m, const FileInfo& info) {
  FstFile f(tmp, info.timescale, info.comment);
  std::vector<FstFile::Handle> handles(m.signals.size());
  walk_scopes(
      m, [&](const std::string& n) { f.scope(n); },
      [&](std::size_t i) { handles[i] = f.var(m.signals[i].sig->name, m.signals[i].sig->width); },
      [&] { f.upscope(); });
  f.time(m.start);
  for (std::size_t i = 0; i < m.signals.size(); ++i) {
    f.value(handles[i], bits(m.signals[i].sig->initial, m.signals[i].sig->width));
  }
  replay(
      m, [&](std::uint64_t t) { f.time(t); },
      [&](std::uint32_t s, std::uint64_t v) {
        f.value(handles[s], bits(v, m.signals[s].sig->width));
      });
  f.time(m.end);
  f.close();
}

}  // namespace

bool is_fst(const std::string& path, const std::string& option) {
  if (path.ends_with(".fst")) return true;
  if (path.ends_with(".vcd")) return false;
  throw_bad_input("{} {}: the file must end in .vcd or .fst", option, path);
}

void check_writable(const std::string& path, const std::string& option) {
  is_fst(path, option);
  const std::string probe = path + ".partial";
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (f == nullptr) {
    throw_bad_input("{} {}: cannot write the waveform file: {}", option, path,
                    std::generic_category().message(errno));
  }
  std::fclose(f);
  std::remove(probe.c_str());
}

void write_waves(const std::string& path, const std::vector<const Recorder*>& recorders,
                 const FileInfo& info) {
  const bool fst = is_fst(path, "waveform file");
  const Merged m = merge(recorders);
  const std::string tmp = path + ".partial";
  try {
    if (fst) {
      write_fst(tmp, m, info);
    } else {
      write_vcd(tmp, m, info);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw_bad_input("cannot write waveform file '{}': {}", path, ec.message());
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

std::string timescale_for_period_ps(std::uint64_t period_ps) {
  static constexpr const char* kUnits[] = {"ps", "ns", "us", "ms", "s"};
  std::uint64_t v = period_ps;
  for (const char* u : kUnits) {
    if (v == 1 || v == 10 || v == 100) return fmt::format("{}{}", v, u);
    if (v % 1000 != 0) return {};
    v /= 1000;
  }
  return {};
}

}  // namespace mxemu::waves
