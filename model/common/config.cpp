#include "model/common/config.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "model/common/error.h"

namespace mxemu::cfg {

namespace {
// Configs are small; anything larger is not a config (and would take long to parse).
constexpr std::size_t kMaxConfigBytes = 1u << 20;
}  // namespace

Document parse_document(std::string_view text, const std::string& source) {
  if (text.size() > kMaxConfigBytes) {
    throw_bad_input("{}: config file of {} bytes is larger than the limit ({} bytes)", source,
                    text.size(), kMaxConfigBytes);
  }
  Document d;
  d.source = source;
  try {
    d.root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw_bad_input("{}: malformed TOML: {} (line {})", source, e.description(),
                    e.source().begin.line);
  }
  return d;
}

Document load_document(const std::string& path) {
  if (path.empty()) return Document{"defaults", {}};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("cannot open config file '{}'", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_document(ss.str(), path);
}

// ---------------------------------------------------------------------------------------------
// Reader

Reader::Reader(const Document& doc) : source_(doc.source) {
  stack_.push_back(Frame{&doc.root, "", {}});
}

void Reader::fail(std::string_view key, const std::string& problem) const {
  const std::string& path = stack_.back().path;
  if (path.empty()) throw_bad_input("{}: {} {}", source_, key, problem);
  throw_bad_input("{}: [{}] {} {}", source_, path, key, problem);
}

void Reader::enter(std::string_view name) {
  Frame& parent = stack_.back();
  const std::string path =
      parent.path.empty() ? std::string(name) : parent.path + "." + std::string(name);
  const toml::table* t = nullptr;
  if (parent.table != nullptr) {
    if (const toml::node* n = parent.table->get(name)) {
      parent.used.emplace(name);
      if (!n->is_table()) throw_bad_input("{}: [{}] must be a table", source_, path);
      t = n->as_table();
    }
  }
  stack_.push_back(Frame{t, path, {}});
}

void Reader::refuse_unknown(const Frame& f) const {
  if (f.table == nullptr) return;
  for (const auto& [k, v] : *f.table) {
    if (f.used.contains(k.str())) continue;
    if (f.path.empty()) throw_bad_input("{}: unknown key '{}' at the top level", source_, k.str());
    throw_bad_input("{}: unknown key '{}' in [{}]", source_, k.str(), f.path);
  }
}

void Reader::leave() {
  refuse_unknown(stack_.back());
  stack_.pop_back();
}

void Reader::finish() {
  refuse_unknown(stack_.front());
}

void Reader::guard_impl(const std::function<void()>& fn) const {
  try {
    fn();
  } catch (const Error& e) {
    const std::string& path = stack_.back().path;
    if (path.empty()) throw Error(e.code(), fmt::format("{}: {}", source_, e.what()));
    throw Error(e.code(), fmt::format("{}: [{}] {}", source_, path, e.what()));
  }
}

std::size_t Reader::begin_items(std::string_view key, std::size_t max_items) {
  const toml::node* n = node(key);
  if (n == nullptr) return 0;
  const toml::array* a = n->as_array();
  if (a == nullptr || !a->is_array_of_tables()) {
    fail(key,
         "must be an array of tables ([[" + stack_.back().path + "." + std::string(key) + "]])");
  }
  if (a->size() > max_items) {
    fail(key, fmt::format("has {} entries; at most {}", a->size(), max_items));
  }
  return a->size();
}

void Reader::enter_item(std::string_view key, std::size_t i) {
  const Frame& parent = stack_.back();
  const toml::table* t = parent.table->get(key)->as_array()->get(i)->as_table();
  const std::string base =
      parent.path.empty() ? std::string(key) : parent.path + "." + std::string(key);
  stack_.push_back(Frame{t, fmt::format("{}[{}]", base, i), {}});
}

bool Reader::given(std::string_view key) const {
  const Frame& f = stack_.back();
  return f.table != nullptr && f.table->get(key) != nullptr;
}

const toml::node* Reader::node(std::string_view key) {
  Frame& f = stack_.back();
  if (f.table == nullptr) return nullptr;
  const toml::node* n = f.table->get(key);
  if (n != nullptr) f.used.emplace(key);
  return n;
}

std::optional<std::int64_t> Reader::read_integer(std::string_view key, std::int64_t lo,
                                                 std::int64_t hi) {
  const toml::node* n = node(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_integer()) fail(key, "must be an integer");
  const std::int64_t v = *n->value<std::int64_t>();
  if (v < lo || v > hi) fail(key, fmt::format("= {} is out of range [{}, {}]", v, lo, hi));
  return v;
}

bool Reader::read_string(std::string_view key, std::string& out) {
  const toml::node* n = node(key);
  if (n == nullptr) return false;
  if (!n->is_string()) fail(key, "must be a string");
  out = *n->value<std::string>();
  return true;
}

void Reader::field(std::string_view key, double& v, double lo, double hi,
                   std::string_view /*doc*/) {
  const toml::node* n = node(key);
  if (n == nullptr) return;
  if (!n->is_number()) fail(key, "must be a number");
  const double x = *n->value<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    fail(key, fmt::format("= {} is out of range [{}, {}]", x, lo, hi));
  }
  v = x;
}

void Reader::field(std::string_view key, bool& v, std::string_view /*doc*/) {
  const toml::node* n = node(key);
  if (n == nullptr) return;
  if (!n->is_boolean()) fail(key, "must be true or false");
  v = *n->value<bool>();
}

void Reader::field(std::string_view key, std::string& v, std::string_view /*doc*/) {
  read_string(key, v);
}

void Reader::field(std::string_view key, std::vector<std::uint32_t>& v, std::size_t min_len,
                   std::size_t max_len, std::uint32_t lo, std::uint32_t hi,
                   std::string_view /*doc*/) {
  const toml::node* n = node(key);
  if (n == nullptr) return;
  const toml::array* a = n->as_array();
  if (a == nullptr) fail(key, "must be a list of integers");
  if (a->size() < min_len || a->size() > max_len) {
    fail(key, fmt::format("has {} entries; it takes {} to {}", a->size(), min_len, max_len));
  }
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = *a->get(i);
    if (!e.is_integer()) fail(key, fmt::format("entry {} must be an integer", i));
    const std::int64_t x = *e.value<std::int64_t>();
    if (x < lo || x > hi) {
      fail(key, fmt::format("entry {} = {} is out of range [{}, {}]", i, x, lo, hi));
    }
    out.push_back(static_cast<std::uint32_t>(x));
  }
  v = std::move(out);
}

// ---------------------------------------------------------------------------------------------
// Writer

void Writer::open(std::string_view doc) {
  for (const Table& t : tables_) {
    if (t.path == path_) return;
  }
  tables_.push_back(Table{path_, std::string(doc), {}});
}

void Writer::line(std::string_view key, const std::string& value, const std::string& comment) {
  Table* t = nullptr;
  for (Table& x : tables_) {
    if (x.path == path_) t = &x;  // the last one: an array's newest item
  }
  if (t == nullptr) {  // as open(""): a table without a doc comment
    tables_.push_back(Table{path_, std::string(), {}});
    t = &tables_.back();
  }
  std::string l = fmt::format("{} = {}", key, value);
  if (!comment.empty()) l = fmt::format("{:<34}# {}", l + " ", comment);
  t->lines.push_back(std::move(l));
}

std::string Writer::quote(const std::string& s) {
  // A TOML basic string: quote, backslash and the control characters but tab escaped (a dump
  // must read back: `mxemu config --dump`).
  std::string q = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      q += '\\';
      q += c;
    } else if (c == '\n') {
      q += "\\n";
    } else if (c == '\r') {
      q += "\\r";
    } else if (c == '\f') {
      q += "\\f";
    } else if (c == '\b') {
      q += "\\b";
    } else if ((u < 0x20 && c != '\t') || u == 0x7F) {
      q += fmt::format("\\u{:04X}", u);
    } else {
      q += c;
    }
  }
  return q + "\"";
}

std::string Writer::range_doc(std::string_view doc, const std::string& lo, const std::string& hi) {
  return fmt::format("{} [{}, {}]", doc, lo, hi);
}

void Writer::field(std::string_view key, const double& v, double lo, double hi,
                   std::string_view doc) {
  line(key, fmt::format("{}", v), range_doc(doc, fmt::format("{}", lo), fmt::format("{}", hi)));
}

void Writer::field(std::string_view key, const bool& v, std::string_view doc) {
  line(key, v ? "true" : "false", std::string(doc));
}

void Writer::field(std::string_view key, const std::string& v, std::string_view doc) {
  line(key, quote(v), std::string(doc));
}

void Writer::field(std::string_view key, const std::vector<std::uint32_t>& v, std::size_t min_len,
                   std::size_t max_len, std::uint32_t lo, std::uint32_t hi, std::string_view doc) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i == 0 ? "" : ", ") + std::to_string(v[i]);
  line(key, s + "]",
       fmt::format("{} ({} to {} entries in [{}, {}])", doc, min_len, max_len, lo, hi));
}

std::string Writer::text(std::string_view header) const {
  std::string out;
  for (std::string_view rest = header; !rest.empty();) {
    const std::size_t nl = rest.find('\n');
    out += "# " + std::string(rest.substr(0, nl)) + "\n";
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  for (const Table& t : tables_) {
    if (t.lines.empty()) continue;
    out += "\n";
    if (!t.doc.empty()) out += "# " + t.doc + "\n";
    out += t.array_item ? "[[" + t.path + "]]\n" : "[" + t.path + "]\n";
    for (const std::string& l : t.lines) out += l + "\n";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validator

void Validator::fail(std::string_view key, const std::string& problem) const {
  if (path_.empty()) throw_bad_input("{}: {} {}", context_, key, problem);
  throw_bad_input("{}: [{}] {} {}", context_, path_, key, problem);
}

void Validator::field(std::string_view key, const double& v, double lo, double hi,
                      std::string_view /*doc*/) {
  if (!std::isfinite(v) || v < lo || v > hi) {
    fail(key, fmt::format("= {} is out of range [{}, {}]", v, lo, hi));
  }
}

void Validator::field(std::string_view key, const std::vector<std::uint32_t>& v,
                      std::size_t min_len, std::size_t max_len, std::uint32_t lo, std::uint32_t hi,
                      std::string_view /*doc*/) {
  if (v.size() < min_len || v.size() > max_len) {
    fail(key, fmt::format("has {} entries; it takes {} to {}", v.size(), min_len, max_len));
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] < lo || v[i] > hi) {
      fail(key, fmt::format("entry {} = {} is out of range [{}, {}]", i, v[i], lo, hi));
    }
  }
}

}  // namespace mxemu::cfg
