// libsystemc references sc_main; Catch2 owns main() in test binaries, so this is never called.
extern "C" int sc_main(int /*argc*/, char* /*argv*/[]) { return 0; }
