// Reads the shared golden vectors (../shared/vectors/*.tsv): one header line, tab-separated, hex.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mxemu::test {

inline std::string vectors_dir() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read-only, no thread changes the environment
  if (const char* d = std::getenv("MXEMU_VECTORS_DIR")) return d;
  return "../shared/vectors";
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  std::size_t col(const std::string& name) const {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    throw std::runtime_error("no column " + name);
  }
};

inline std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, '\t')) out.push_back(f);
  return out;
}

// Throws if the file is missing: a missing golden file must fail the test, never skip it.
inline Table read_table(const std::string& file) {
  const std::string path = vectors_dir() + "/" + file;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open golden vectors " + path);
  Table t;
  std::string line;
  std::getline(in, line);
  t.header = split_tabs(line);
  while (std::getline(in, line)) {
    if (!line.empty()) t.rows.push_back(split_tabs(line));
  }
  return t;
}

inline std::uint32_t hex(const std::string& s) {
  return static_cast<std::uint32_t>(std::stoul(s, nullptr, 16));
}

}  // namespace mxemu::test
