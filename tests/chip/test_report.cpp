// `mxemu report`: the HTML page of a single chip's run and of a pod's, rendered in headless
// Chromium (Debian `chromium`): no console messages, a screenshot that is not blank, every plot in
// the DOM; and bad input (a stats file of the wrong shape, not JSON, an unwritable output) refused
// with status 2, the cause named and no file left at the output path.
#include <zlib.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "model/common/npy.h"
#include "tests/core/subprocess.h"

using namespace mxemu;

namespace {

struct Result {
  int rc;
  std::string out, err;
};

Result run(const std::vector<std::string>& argv, double timeout_s = 300) {
  test::Child c(argv);
  const int rc = c.finish(timeout_s);
  return {rc, c.out(), c.err()};
}

Result mxemu_cli(std::vector<std::string> args) {
  args.insert(args.begin(), test::mxemu_binary());
  return run(args);
}

// A fresh directory per test case.
std::filesystem::path scratch(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("mxemu_report_" + std::to_string(getpid()) + "_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// Chromium: absent is a failure, not a skip (tools/bootstrap.sh installs it).
std::string chromium() {
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): read-only
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const auto p = std::filesystem::path(dir) / name;
      if (access(p.c_str(), X_OK) == 0) return p.string();
    }
  }
  FAIL(
      "chromium is not installed: the report test renders the page in headless Chromium. "
      "Install it with `apt-get install --no-install-recommends chromium` (tools/bootstrap.sh "
      "does)");
  return {};
}

// A decoded PNG: 8-bit RGB(A), non-interlaced (what Chromium writes for screenshots).
struct Image {
  std::uint32_t width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;  // rows of width * channels bytes
};

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[at + 3]));
}

Image decode_png(const std::string& png) {
  REQUIRE(png.size() > 8);
  REQUIRE(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  Image img;
  std::string idat;
  for (std::size_t at = 8; at + 8 <= png.size();) {
    const std::uint32_t len = be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    REQUIRE(at + 12 + len <= png.size());
    if (type == "IHDR") {
      img.width = be32(png, at + 8);
      img.height = be32(png, at + 12);
      const int depth = static_cast<std::uint8_t>(png[at + 16]);
      const int color = static_cast<std::uint8_t>(png[at + 17]);
      const int interlace = static_cast<std::uint8_t>(png[at + 20]);
      REQUIRE(depth == 8);
      REQUIRE((color == 2 || color == 6));
      REQUIRE(interlace == 0);
      img.channels = color == 6 ? 4 : 3;
    } else if (type == "IDAT") {
      idat += png.substr(at + 8, len);
    } else if (type == "IEND") {
      break;
    }
    at += 12 + len;
  }
  REQUIRE(img.width > 0);
  const std::size_t stride = std::size_t{img.width} * img.channels;
  std::vector<std::uint8_t> raw((stride + 1) * img.height);
  uLongf raw_len = raw.size();
  REQUIRE(uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()),
                     idat.size()) == Z_OK);
  REQUIRE(raw_len == raw.size());
  img.pixels.assign(stride * img.height, 0);
  const std::size_t bpp = img.channels;
  for (std::size_t y = 0; y < img.height; ++y) {
    const std::uint8_t filter = raw[y * (stride + 1)];
    const std::uint8_t* in = &raw[y * (stride + 1) + 1];
    std::uint8_t* out = &img.pixels[y * stride];
    const std::uint8_t* up = y > 0 ? &img.pixels[(y - 1) * stride] : nullptr;
    for (std::size_t x = 0; x < stride; ++x) {
      const int a = x >= bpp ? out[x - bpp] : 0;
      const int b = up != nullptr ? up[x] : 0;
      const int c = x >= bpp && up != nullptr ? up[x - bpp] : 0;
      int pred = 0;
      switch (filter) {
        case 0:
          pred = 0;
          break;
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) / 2;
          break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
          break;
        }
        default:
          FAIL("PNG row filter " << int{filter});
      }
      out[x] = static_cast<std::uint8_t>(in[x] + pred);
    }
  }
  return img;
}

// Share of pixels that are not (near) white.
double ink(const Image& img) {
  std::size_t n = 0;
  const std::size_t pixels = std::size_t{img.width} * img.height;
  for (std::size_t i = 0; i < pixels; ++i) {
    const std::uint8_t* p = &img.pixels[i * img.channels];
    if (p[0] < 235 || p[1] < 235 || p[2] < 235) ++n;
  }
  return static_cast<double>(n) / static_cast<double>(pixels);
}

struct Rendered {
  std::string dom, console;  // the DOM after load; Chromium's console lines (should be none)
  Image screenshot;
};

Rendered render(const std::filesystem::path& html, const std::filesystem::path& dir) {
  const auto png = dir / "shot.png";
  const Result r =
      run({chromium(), "--headless", "--no-sandbox", "--disable-gpu",
           "--user-data-dir=" + (dir / "chromium-profile").string(), "--enable-logging=stderr",
           "--v=0", "--window-size=1200,2000", "--screenshot=" + png.string(), "--dump-dom",
           "file://" + std::filesystem::absolute(html).string()},
          120);
  INFO(r.err.substr(0, 4000));
  REQUIRE(r.rc == 0);
  Rendered out;
  out.dom = r.out;
  std::stringstream lines(r.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(":CONSOLE") != std::string::npos) out.console += line + "\n";
  }
  REQUIRE(std::filesystem::exists(png));
  out.screenshot = decode_png(slurp(png));
  return out;
}

// What every report must be: self-contained (no script, no fetch), and render cleanly.
void check_page(const std::filesystem::path& html, const std::filesystem::path& dir,
                std::size_t min_svgs) {
  const std::string page = slurp(html);
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("</html>") != std::string::npos);
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find("src=") == std::string::npos);
  CHECK(count(page, "http") == count(page, "http://www.w3.org/2000/svg"));  // namespaces only
  const Rendered r = render(html, dir);
  INFO(r.console);
  CHECK(r.console.empty());
  CHECK(r.screenshot.width == 1200);
  CHECK(r.screenshot.height == 2000);
  const double share = ink(r.screenshot);
  INFO("non-white share of the screenshot: " << share);
  CHECK(share > 0.03);
  CHECK(count(r.dom, "<svg") >= min_svgs);
  CHECK(r.dom.find("Roofline") != std::string::npos);
}

void write_gemm_inputs(const std::filesystem::path& dir, std::size_t m, std::size_t k,
                       std::size_t n) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> a(m * k), b(k * n);
  for (auto& v : a) v = static_cast<std::uint8_t>(rng() % 0x70);
  for (auto& v : b) v = static_cast<std::uint8_t>(rng() % 0x70);
  write_npy((dir / "a.npy").string(), make_u8({m, k}, a));
  write_npy((dir / "b.npy").string(), make_u8({k, n}, b));
}

}  // namespace

TEST_CASE("Chromium's console is seen by this test (a page with an error is caught)", "[report]") {
  const auto dir = scratch("control");
  std::ofstream(dir / "bad.html")
      << "<!DOCTYPE html><html><body><p>x</p><script>console.error('boom');</script></body>"
         "</html>\n";
  const Rendered r = render(dir / "bad.html", dir);
  CHECK(r.console.find("boom") != std::string::npos);
}

TEST_CASE("mxemu report: a single chip's GEMM, with and without its timeline", "[report]") {
  const auto dir = scratch("chip");
  write_gemm_inputs(dir, 256, 512, 256);
  const auto stats = dir / "s.json", tl = dir / "t.json", html = dir / "report.html";
  Result g =
      mxemu_cli({"gemm", "--a", (dir / "a.npy").string(), "--b", (dir / "b.npy").string(), "--out",
                 (dir / "c.npy").string(), "--stats", stats.string(), "--timeline", tl.string()});
  INFO(g.err);
  REQUIRE(g.rc == 0);

  // HBM counters as a timeline may carry them (Perfetto "C" events): drawn over time.
  auto trace = nlohmann::json::parse(slurp(tl));
  for (int i = 0; i <= 10; ++i) {
    trace["traceEvents"].push_back({{"ph", "C"},
                                    {"pid", 0},
                                    {"name", "HBM bandwidth"},
                                    {"ts", i * 1.0},
                                    {"args", {{"GB/s", 100.0 * (i % 4)}}}});
    trace["traceEvents"].push_back({{"ph", "C"},
                                    {"pid", 0},
                                    {"name", "HBM row hits"},
                                    {"ts", i * 1.0},
                                    {"args", {{"rate", 0.1 * i}}}});
  }
  const auto tl2 = dir / "t2.json";
  std::ofstream(tl2) << trace.dump();

  Result r = mxemu_cli({"report", stats.string(), "--timeline", tl2.string(), "-o", html.string()});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.err.empty());
  CHECK(!std::filesystem::exists(html.string() + ".partial"));
  const std::string page = slurp(html);
  for (const char* s : {"Utilisation over time", "MXU0", "MXU1", "DMA", "stall: wait_input",
                        "Roofline", "compute roof 65.5 TFLOP/s", "HBM roof 3.28 TB/s",
                        "bound:", "HBM bandwidth over time", "HBM row hits over time"}) {
    INFO(s);
    CHECK(page.find(s) != std::string::npos);
  }
  CHECK(page.find("No timeline given") == std::string::npos);
  check_page(html, dir, 6);

  // Without the timeline: the totals, and the page says so.
  const auto html2 = dir / "totals.html";
  r = mxemu_cli({"report", stats.string(), "-o", html2.string()});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const std::string totals = slurp(html2);
  CHECK(totals.find("No timeline given: totals only") != std::string::npos);
  CHECK(totals.find("Roofline") != std::string::npos);
  CHECK(totals.find("Utilisation over time, per engine</h3>\n<svg") == std::string::npos);
}

TEST_CASE("mxemu report: a 2x2x2 pod's all-reduce, one section per chip and the links",
          "[report]") {
  const auto dir = scratch("pod");
  for (int c = 0; c < 8; ++c) {
    std::vector<float> x(4096);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(c) + 0.001F * i;
    write_npy((dir / ("x_" + std::to_string(c) + ".npy")).string(), make_f32({4096}, x));
  }
  const auto stats = dir / "s.json", tl = dir / "t.json", html = dir / "report.html";
  Result g = mxemu_cli({"run", "--pod", "2x2x2", "--kernel", "collective", "--in",
                        "X=" + (dir / "x_{chip}.npy").string(), "--scalar", "op=0", "--quiet",
                        "--stats", stats.string(), "--timeline", tl.string()});
  INFO(g.err);
  REQUIRE(g.rc == 0);
  Result r = mxemu_cli({"report", stats.string(), "--timeline", tl.string(), "-o", html.string()});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const std::string page = slurp(html);
  for (int c = 0; c < 8; ++c) {
    INFO(c);
    CHECK(page.find("<section id=\"chip" + std::to_string(c) + "\">") != std::string::npos);
  }
  CHECK(count(page, "<h3>Roofline</h3>") == 8);
  CHECK(page.find("Pod 2x2x2 torus: 8 chips") != std::string::npos);
  CHECK(page.find("Interconnect links") != std::string::npos);
  CHECK(page.find("link activity over time") != std::string::npos);
  CHECK(page.find("chip0.x+ -&gt; chip1") != std::string::npos);
  CHECK(page.find("no MXU work") != std::string::npos);  // a collective: no point on the roofline
  check_page(html, dir, 8 * 4);
}

TEST_CASE("mxemu report: bad input is refused with status 2 and leaves no output",
          "[report][bad-input]") {
  const auto dir = scratch("bad");
  write_gemm_inputs(dir, 64, 128, 64);
  const auto stats = dir / "s.json", tl = dir / "t.json", html = dir / "report.html";
  Result g =
      mxemu_cli({"gemm", "--a", (dir / "a.npy").string(), "--b", (dir / "b.npy").string(), "--out",
                 (dir / "c.npy").string(), "--stats", stats.string(), "--timeline", tl.string()});
  REQUIRE(g.rc == 0);
  auto refused = [&](const std::vector<std::string>& args, const std::string& cause,
                     const std::filesystem::path& out) {
    const Result r = mxemu_cli(args);
    INFO(r.err);
    CHECK(r.rc == 2);
    CHECK(r.err.rfind("mxemu: error: ", 0) == 0);
    CHECK(r.err.find(cause) != std::string::npos);
    CHECK(!std::filesystem::exists(out));
    CHECK(!std::filesystem::exists(out.string() + ".partial"));
  };
  // The timeline passed as statistics.
  refused({"report", tl.string(), "-o", html.string()}, "not statistics", html);
  refused({"report", tl.string(), "-o", html.string()}, "total_cycles is missing", html);
  // A pod file whose second chip lost its engines.
  {
    auto j = nlohmann::json::parse(slurp(stats));
    nlohmann::json pod = {{"pod", {{"chips", 2}, {"total_cycles", 10}}}, {"chips", {j, j}}};
    pod["chips"][1].erase("engines");
    std::ofstream(dir / "pod.json") << pod.dump();
    refused({"report", (dir / "pod.json").string(), "-o", html.string()},
            "chips[1].engines is missing", html);
    pod["chips"][1] = j;
    pod["chips"][1]["engines"]["MXU0"]["busy_cycles"] = "many";
    std::ofstream(dir / "pod.json") << pod.dump();
    refused({"report", (dir / "pod.json").string(), "-o", html.string()},
            "chips[1].engines.MXU0.busy_cycles is string, expected a number", html);
  }
  std::ofstream(dir / "trunc.json") << slurp(stats).substr(0, 100);
  refused({"report", (dir / "trunc.json").string(), "-o", html.string()}, "not JSON", html);
  refused({"report", (dir / "none.json").string(), "-o", html.string()}, "no such file", html);
  refused({"report", stats.string(), "--timeline", stats.string(), "-o", html.string()},
          "not a timeline", html);
  // Unwritable outputs (the tests may run as root: /proc refuses even root).
  refused({"report", stats.string(), "-o", "/proc/mxemu_report.html"},
          "cannot write the report to /proc/mxemu_report.html", "/proc/mxemu_report.html");
  refused({"report", stats.string(), "-o", (dir / "no_dir" / "r.html").string()}, "does not exist",
          dir / "no_dir" / "r.html");
  // A report already there is left as it was when the new one cannot be made.
  std::ofstream(html) << "previous";
  const Result r = mxemu_cli({"report", tl.string(), "-o", html.string()});
  CHECK(r.rc == 2);
  CHECK(slurp(html) == "previous");
  CHECK(!std::filesystem::exists(html.string() + ".partial"));
}
