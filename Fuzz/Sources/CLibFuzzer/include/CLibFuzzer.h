#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt's libclang_rt.fuzzer), for programs that have a main of their own: SwiftPM
/// links every executable's entry point as `main`, so libFuzzer's own `main` is never used and the targets call
/// this instead. Only linked in -sanitize=fuzzer builds.
int LLVMFuzzerRunDriver(int *_Nonnull argc, char *_Nullable *_Nullable *_Nonnull argv,
                        int (*_Nonnull callback)(const uint8_t *_Nonnull data, size_t size));

#endif
