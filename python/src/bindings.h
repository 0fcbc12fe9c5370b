// The pieces of the extension module mxemu._mxemu: argument checking shared by the bindings, and
// the functions that register each part on the module (numerics_bindings.cpp, chip_bindings.cpp).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "model/numerics/fp8.h"

namespace mxemu::py {

namespace pb = pybind11;

// A C-contiguous view of `obj`, which must be a NumPy array of exactly dtype T (no conversion: a
// float64 array given for float32 data would round twice, an int array for codes would wrap).
// Throws pybind11::value_error naming the argument `what` and the dtype found. Non-contiguous
// arrays are copied.
// "float64", "int32", ... for an array, or "a list", "None", ... for anything else (messages).
std::string describe_dtype(const pb::handle& obj);

template <typename T>
pb::array_t<T, pb::array::c_style> require_array(const pb::handle& obj, std::string_view what,
                                                 std::string_view expected) {
  if (!pb::isinstance<pb::array>(obj) ||
      !pb::reinterpret_borrow<pb::array>(obj).dtype().equal(pb::dtype::of<T>())) {
    throw pb::value_error(std::string(what) + " must be a NumPy array of dtype " +
                          std::string(expected) + ", got " + describe_dtype(obj));
  }
  return pb::array_t<T, pb::array::c_style>::ensure(obj);
}

// Text options. Each throws pybind11::value_error listing the accepted spellings.
num::Fp8Format parse_fp8_format(const std::string& name, std::string_view what);
num::SatMode parse_sat_mode(const std::string& name);

void register_numerics(pb::module_& m);
void register_chip(pb::module_& m);

}  // namespace mxemu::py
