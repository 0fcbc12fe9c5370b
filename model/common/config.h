// The one typed config reader of mxemu (and its writer, for `mxemu config --dump`).
//
// A config file is TOML, parsed once into a Document. Every unit describes its configuration by
// a `visit(V&)` member template over its struct: the struct's initialisers are the defaults (the
// only place they live), and each field names its key, its range and a line of documentation.
// The same visit drives
//   - Reader: reads the keys present, checks type and range, refuses unknown keys;
//   - Writer: prints the effective configuration as TOML, documented (`mxemu config --dump`).
// Every error names the file, the table and the key, in one format:
//   <file>: [<table>] <key> = <value> is out of range [<lo>, <hi>]
//   <file>: [<table>] <key> must be an integer
//   <file>: unknown key '<key>' in [<table>]
#pragma once

#include <toml++/toml.h>

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace mxemu::cfg {

// A parsed config file. An empty path gives an empty document named "defaults".
struct Document {
  std::string source;  // the file's path (for messages)
  toml::table root;
};
Document parse_document(std::string_view text, const std::string& source);
Document load_document(const std::string& path);

// One name of an enumerated field.
template <typename E>
struct Choice {
  std::string_view name;
  E value;
};

class Reader {
 public:
  explicit Reader(const Document& doc);

  // Visits sub-table `name` of the current table: fn() reads its fields; an absent table leaves
  // the defaults. Keys of the table that fn() did not visit are refused.
  template <typename Fn>
  void table(std::string_view name, std::string_view /*doc*/, Fn&& fn) {
    enter(name);
    std::forward<Fn>(fn)();
    leave();
  }

  template <std::integral T>
  requires(!std::same_as<T, bool>) void field(std::string_view key, T& v,
                                              std::type_identity_t<T> lo,
                                              std::type_identity_t<T> hi,
                                              std::string_view /*doc*/) {
    if (const auto x = read_integer(key, static_cast<std::int64_t>(lo), to_i64(hi))) {
      v = static_cast<T>(*x);
    }
  }
  void field(std::string_view key, double& v, double lo, double hi, std::string_view doc);
  void field(std::string_view key, bool& v, std::string_view doc);
  void field(std::string_view key, std::string& v, std::string_view doc);
  // A list of integers, each in [lo, hi], with min_len..max_len entries.
  void field(std::string_view key, std::vector<std::uint32_t>& v, std::size_t min_len,
             std::size_t max_len, std::uint32_t lo, std::uint32_t hi, std::string_view doc);

  template <typename E>
  void choice(std::string_view key, E& v, std::initializer_list<Choice<E>> names,
              std::string_view /*doc*/) {
    std::string s;
    if (!read_string(key, s)) return;
    for (const Choice<E>& c : names) {
      if (c.name == s) {
        v = c.value;
        return;
      }
    }
    std::string known;
    for (const Choice<E>& c : names)
      known += (known.empty() ? "\"" : ", \"") + std::string(c.name) + "\"";
    fail(key, "= \"" + s + "\" is not one of " + known);
  }

  // A key read elsewhere or kept only for old files (not printed by the Writer).
  template <std::integral T>
  void alias(std::string_view key, T& v, std::type_identity_t<T> lo, std::type_identity_t<T> hi) {
    field(key, v, lo, hi, "");
  }

  // An array of tables ([[table.key]]), each item read by its own visit; at most max_items.
  template <typename T>
  void items(std::string_view key, std::vector<T>& out, std::size_t max_items,
             std::string_view /*doc*/) {
    const std::size_t n = begin_items(key, max_items);
    if (n == 0) return;
    std::vector<T> got;
    for (std::size_t i = 0; i < n; ++i) {
      enter_item(key, i);
      T item{};
      item.visit(*this);
      leave();
      got.push_back(std::move(item));
    }
    out = std::move(got);
  }

  // A cross-field rule: when `ok` is false, fails naming the current table and `key`.
  void check(bool ok, std::string_view key, const std::string& problem) const {
    if (!ok) fail(key, problem);
  }
  // Runs fn (a check written as a function that throws mxemu::Error) and names the current
  // table in the error it throws.
  template <typename Fn>
  void guard(Fn&& fn) const {
    guard_impl(std::function<void()>(std::forward<Fn>(fn)));
  }
  // Whether `key` is present in the current table (before or after reading it).
  bool given(std::string_view key) const;
  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;
  // Refuses unknown top-level keys; call after visiting everything.
  void finish();

  const std::string& source() const { return source_; }
  static constexpr bool kReading = true;

 private:
  struct Frame {
    const toml::table* table;  // nullptr: absent
    std::string path;          // dotted, "" at the top
    std::set<std::string, std::less<>> used;
  };
  void enter(std::string_view name);
  void leave();
  const toml::node* node(std::string_view key);
  std::optional<std::int64_t> read_integer(std::string_view key, std::int64_t lo, std::int64_t hi);
  bool read_string(std::string_view key, std::string& out);
  void refuse_unknown(const Frame& f) const;
  void guard_impl(const std::function<void()>& fn) const;
  std::size_t begin_items(std::string_view key, std::size_t max_items);
  void enter_item(std::string_view key, std::size_t i);
  template <typename T>
  static std::int64_t to_i64(T hi) {
    if constexpr (std::numeric_limits<T>::max() > std::numeric_limits<std::int64_t>::max()) {
      return hi > static_cast<T>(std::numeric_limits<std::int64_t>::max())
                 ? std::numeric_limits<std::int64_t>::max()
                 : static_cast<std::int64_t>(hi);
    } else {
      return static_cast<std::int64_t>(hi);
    }
  }

  std::string source_;
  std::vector<Frame> stack_;
};

// Prints what it visits as documented TOML: tables in visiting order, each key with its value
// and, as a comment, its documentation and range.
class Writer {
 public:
  template <typename Fn>
  void table(std::string_view name, std::string_view doc, Fn&& fn) {
    const std::string saved = path_;
    path_ = path_.empty() ? std::string(name) : path_ + "." + std::string(name);
    open(doc);
    std::forward<Fn>(fn)();
    path_ = saved;
  }

  template <std::integral T>
  requires(!std::same_as<T, bool>) void field(std::string_view key, const T& v,
                                              std::type_identity_t<T> lo,
                                              std::type_identity_t<T> hi, std::string_view doc) {
    line(key, std::to_string(v), range_doc(doc, std::to_string(lo), std::to_string(hi)));
  }
  void field(std::string_view key, const double& v, double lo, double hi, std::string_view doc);
  void field(std::string_view key, const bool& v, std::string_view doc);
  void field(std::string_view key, const std::string& v, std::string_view doc);
  void field(std::string_view key, const std::vector<std::uint32_t>& v, std::size_t min_len,
             std::size_t max_len, std::uint32_t lo, std::uint32_t hi, std::string_view doc);

  template <typename E>
  void choice(std::string_view key, const E& v, std::initializer_list<Choice<E>> names,
              std::string_view doc) {
    std::string value, all;
    for (const Choice<E>& c : names) {
      if (c.value == v) value = std::string(c.name);
      all += (all.empty() ? "" : " | ") + std::string(c.name);
    }
    line(key, quote(value), std::string(doc) + " (" + all + ")");
  }
  template <std::integral T>
  void alias(std::string_view /*key*/, const T& /*v*/, std::type_identity_t<T> /*lo*/,
             std::type_identity_t<T> /*hi*/) {}
  void check(bool /*ok*/, std::string_view /*key*/, const std::string& /*problem*/) const {}
  template <typename Fn>
  void guard(Fn&& /*fn*/) const {}
  bool given(std::string_view /*key*/) const { return false; }
  template <typename T>
  void items(std::string_view key, std::vector<T>& v, std::size_t /*max_items*/,
             std::string_view doc) {
    const std::string saved = path_;
    const std::string path = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    for (T& item : v) {
      path_ = path;
      tables_.push_back(Table{path_, std::string(doc), {}, true});
      item.visit(*this);
    }
    path_ = saved;
  }

  // The document: a header comment, then every table.
  std::string text(std::string_view header) const;
  static constexpr bool kReading = false;

 private:
  struct Table {
    std::string path, doc;
    std::vector<std::string> lines;
    bool array_item = false;  // printed as [[path]]
  };
  void open(std::string_view doc);
  void line(std::string_view key, const std::string& value, const std::string& comment);
  static std::string quote(const std::string& s);
  static std::string range_doc(std::string_view doc, const std::string& lo, const std::string& hi);

  std::string path_;
  std::vector<Table> tables_;
};

// Checks a configuration built in code (not read from a file) against the same ranges and rules
// as the Reader: the first violation throws bad input naming the table and key.
class Validator {
 public:
  explicit Validator(std::string context) : context_(std::move(context)) {}

  template <typename Fn>
  void table(std::string_view name, std::string_view /*doc*/, Fn&& fn) {
    const std::string saved = path_;
    path_ = path_.empty() ? std::string(name) : path_ + "." + std::string(name);
    std::forward<Fn>(fn)();
    path_ = saved;
  }
  template <std::integral T>
  requires(!std::same_as<T, bool>) void field(std::string_view key, const T& v,
                                              std::type_identity_t<T> lo,
                                              std::type_identity_t<T> hi,
                                              std::string_view /*doc*/) {
    if (v < lo || v > hi) {
      fail(key, "= " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
    }
  }
  void field(std::string_view key, const double& v, double lo, double hi, std::string_view doc);
  void field(std::string_view /*key*/, const bool& /*v*/, std::string_view /*doc*/) {}
  void field(std::string_view /*key*/, const std::string& /*v*/, std::string_view /*doc*/) {}
  void field(std::string_view key, const std::vector<std::uint32_t>& v, std::size_t min_len,
             std::size_t max_len, std::uint32_t lo, std::uint32_t hi, std::string_view doc);
  template <typename E>
  void choice(std::string_view /*key*/, const E& /*v*/, std::initializer_list<Choice<E>> /*names*/,
              std::string_view /*doc*/) {}
  template <std::integral T>
  void alias(std::string_view /*key*/, const T& /*v*/, std::type_identity_t<T> /*lo*/,
             std::type_identity_t<T> /*hi*/) {}
  void check(bool ok, std::string_view key, const std::string& problem) const {
    if (!ok) fail(key, problem);
  }
  template <typename Fn>
  void guard(Fn&& fn) const {
    std::forward<Fn>(fn)();
  }
  bool given(std::string_view /*key*/) const { return false; }
  template <typename T>
  void items(std::string_view key, std::vector<T>& v, std::size_t max_items,
             std::string_view /*doc*/) {
    if (v.size() > max_items) {
      fail(key,
           "has " + std::to_string(v.size()) + " entries; at most " + std::to_string(max_items));
    }
    const std::string saved = path_;
    for (std::size_t i = 0; i < v.size(); ++i) {
      path_ = (saved.empty() ? std::string(key) : saved + "." + std::string(key)) + "[" +
              std::to_string(i) + "]";
      v[i].visit(*this);
    }
    path_ = saved;
  }
  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;
  static constexpr bool kReading = false;

 private:
  std::string context_;
  std::string path_;
};

// Checks `config` (anything with a visit member) by the rules its visit states.
template <typename Config>
void validate_config(Config& config, const std::string& context) {
  Validator v(context);
  config.visit(v);
}

}  // namespace mxemu::cfg
