#include "crc32c.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Reflected polynomial of CRC-32C. */
#define FF_CRC32C_POLY 0x82f63b78u

static uint32_t ff_crc32c_table[256];
static int ff_crc32c_hardware;
static int ff_crc32c_portable;

__attribute__((constructor)) static void ff_crc32c_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (FF_CRC32C_POLY & (0u - (c & 1)));
        ff_crc32c_table[i] = c;
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    ff_crc32c_hardware = __builtin_cpu_supports("sse4.2");
#endif
}

void ff_crc32c_set_portable(int portable) { ff_crc32c_portable = portable; }

static uint32_t ff_crc32c_bytes(uint32_t c, const uint8_t *p, size_t n) {
    while (n--) c = ff_crc32c_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t ff_crc32c_sse42(uint32_t c, const uint8_t *p, size_t n) {
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c64 = _mm_crc32_u64(c64, word);
        p += 8;
        n -= 8;
    }
    c = (uint32_t)c64;
    while (n--) c = _mm_crc32_u8(c, *p++);
    return c;
}
#endif

uint32_t ff_crc32c(uint32_t crc, const void *data, size_t n) {
    uint32_t c = ~crc;
    const uint8_t *p = (const uint8_t *)data;
#if defined(__x86_64__)
    if (ff_crc32c_hardware && !ff_crc32c_portable) return ~ff_crc32c_sse42(c, p, n);
#endif
    return ~ff_crc32c_bytes(c, p, n);
}
