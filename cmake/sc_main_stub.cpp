// libsystemc references sc_main; Catch2 owns main() in test binaries, so this is never called.
// Test binaries that link SystemC add this file (mxemu_add_test(... SYSTEMC)).
extern "C" int sc_main(int /*argc*/, char* /*argv*/[]) {
  return 0;
}
