// mxemu._mxemu: the extension module under the Python package mxemu (python/mxemu). It holds the
// numerics bindings (submodule `numerics`) and the chip runner; the package's Python modules add
// the exception classes and the friendly Chip API on top.
#include <pybind11/pybind11.h>

#include <cstdlib>
#include <exception>
#include <string>

#include "model/common/error.h"
#include "python/src/bindings.h"

// libsystemc refers to sc_main, which a program normally defines; the extension never lets
// SystemC call it (runs elaborate and start the kernel themselves). Default visibility so that
// libsystemc, loaded with the module, resolves it even though pybind11 hides the module's symbols.
extern "C" __attribute__((visibility("default"))) int sc_main(int /*argc*/, char* /*argv*/[]) {
  return 0;
}

namespace mxemu::py {

std::string describe_dtype(const pb::handle& obj) {
  if (pb::isinstance<pb::array>(obj)) {
    return pb::str(pb::reinterpret_borrow<pb::array>(obj).dtype()).cast<std::string>();
  }
  if (obj.is_none()) return "None";
  return "a " + pb::str(obj.get_type().attr("__name__")).cast<std::string>() +
         " (not a NumPy array)";
}

num::Fp8Format parse_fp8_format(const std::string& name, std::string_view what) {
  const auto f = num::parse_format(name);
  if (!f) {
    throw pb::value_error("unknown format '" + name + "' for " + std::string(what) +
                          " (expected 'e4m3' or 'e5m2')");
  }
  return *f;
}

num::SatMode parse_sat_mode(const std::string& name) {
  if (name == "satfinite") return num::SatMode::kSatFinite;
  if (name == "nonsat") return num::SatMode::kNonSat;
  throw pb::value_error("unknown mode '" + name + "' (expected 'satfinite' or 'nonsat')");
}

}  // namespace mxemu::py

PYBIND11_MODULE(_mxemu, m) {
  namespace pb = pybind11;
  m.doc() = "mxemu's C++ core: the FP8/MX numerics reference and the chip runner";
  m.attr("__version__") = MXEMU_VERSION;  // the CMake project version
  // As the CLI does: no SystemC copyright banner unless the user's environment asks for it.
  // Waiver: the import runs under the GIL, before this module has started any thread.
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);  // NOLINT(concurrency-mt-unsafe)

  // mxemu::Error becomes the package's exception for its code (mxemu.errors): the message is the
  // CLI's (what it prints after "mxemu: error: ") and .code its exit status.
  // Waiver: pybind11 takes translators as void(*)(std::exception_ptr), by value.
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  pb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const mxemu::Error& e) {
      const pb::object exc = pb::module_::import("mxemu.errors")
                                 .attr("error_for_code")(static_cast<int>(e.code()), e.what());
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
    }
  });

  pb::module_ numerics = m.def_submodule("numerics", "FP8 / UE8M0 / MX numerics (DESIGN §3)");
  mxemu::py::register_numerics(numerics);
  mxemu::py::register_chip(m);
}
