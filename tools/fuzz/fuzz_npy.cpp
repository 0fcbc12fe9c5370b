// libFuzzer harness of the .npy reader (model/common/npy.h). Properties beyond "no crash, no
// hang": every refusal is mxemu::Error(kBadInput); an accepted file obeys the documented bounds
// (dimensions, byte count, data size = elements x item size); it round-trips through the writer
// (encode -> parse gives the same dtype, shape and data, and encoding that again gives the
// same bytes).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/common/error.h"
#include "model/common/npy.h"
#include "tools/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mxemu;
  NpyArray a;
  try {
    a = parse_npy(std::span<const std::uint8_t>(data, size), "fuzz.npy");
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ExitCode::kBadInput);
    return 0;
  }
  FUZZ_CHECK(a.shape.size() <= kNpyMaxDims);
  std::uint64_t nonzero = a.element_bytes();
  bool empty = false;
  for (const std::size_t d : a.shape) {
    if (d == 0) {
      empty = true;
      continue;
    }
    FUZZ_CHECK(nonzero <= kNpyMaxDataBytes / d);
    nonzero *= d;
  }
  FUZZ_CHECK(a.data.size() == (empty ? 0 : nonzero));
  FUZZ_CHECK(a.data.size() == a.elements() * a.element_bytes());
  FUZZ_CHECK(a.data.size() <= size);

  const std::vector<std::uint8_t> enc = encode_npy(a);
  FUZZ_CHECK(enc.size() % 64 == a.data.size() % 64);  // data starts 64-byte aligned
  const NpyArray b = parse_npy(enc, "roundtrip.npy");
  FUZZ_CHECK(b.dtype == a.dtype);
  FUZZ_CHECK(b.shape == a.shape);
  FUZZ_CHECK(b.data == a.data);
  FUZZ_CHECK(encode_npy(b) == enc);
  if (a.dtype == NpyDtype::kF32) FUZZ_CHECK(a.as_f32().size() == a.elements());
  return 0;
}
