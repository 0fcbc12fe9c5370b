// A SystemC context of one's own for the length of a scope: a process elaborates once per
// context, so each run that is not the process's only one (a second pod in `mxemu run`'s demo, a
// Python call) installs a fresh context first and deletes it afterwards (the model's modules are
// gone by then). Not thread-safe: SystemC has one current context per process.
#pragma once

#include <systemc>

namespace mxemu::sim {

class OwnScContext {
 public:
  OwnScContext() {
    sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
    sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  }
  ~OwnScContext() {
    delete sc_core::sc_curr_simcontext;
    sc_core::sc_curr_simcontext = nullptr;
    sc_core::sc_default_global_context = nullptr;
  }
  OwnScContext(const OwnScContext&) = delete;
  OwnScContext& operator=(const OwnScContext&) = delete;
  OwnScContext(OwnScContext&&) = delete;
  OwnScContext& operator=(OwnScContext&&) = delete;
};

}  // namespace mxemu::sim
