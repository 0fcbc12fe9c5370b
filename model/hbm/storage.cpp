#include "model/hbm/storage.h"

#include <algorithm>
#include <cstring>

#include "model/common/error.h"

namespace mxemu::hbm {

void Storage::read(std::uint64_t addr, std::span<std::uint8_t> out) const {
  if (!contains(addr, out.size())) {
    throw_bad_input("hbm: read of {} bytes at 0x{:x} leaves the capacity of 0x{:x} bytes",
                    out.size(), addr, capacity_);
  }
  std::size_t done = 0;
  while (done < out.size()) {
    const std::uint64_t a = addr + done;
    const std::uint64_t off = a % kPageBytes;
    const std::size_t n = std::min<std::size_t>(out.size() - done, kPageBytes - off);
    auto it = pages_.find(a / kPageBytes);
    if (it == pages_.end()) {
      std::memset(out.data() + done, 0, n);
    } else {
      std::memcpy(out.data() + done, it->second->data() + off, n);
    }
    done += n;
  }
}

void Storage::write(std::uint64_t addr, std::span<const std::uint8_t> in) {
  if (!contains(addr, in.size())) {
    throw_bad_input("hbm: write of {} bytes at 0x{:x} leaves the capacity of 0x{:x} bytes",
                    in.size(), addr, capacity_);
  }
  std::size_t done = 0;
  while (done < in.size()) {
    const std::uint64_t a = addr + done;
    const std::uint64_t off = a % kPageBytes;
    const std::size_t n = std::min<std::size_t>(in.size() - done, kPageBytes - off);
    auto& page = pages_[a / kPageBytes];
    if (!page) page = std::make_unique<Page>(Page{});
    std::memcpy(page->data() + off, in.data() + done, n);
    done += n;
  }
}

}  // namespace mxemu::hbm
