#ifndef FACEFIND_CRC32C_H
#define FACEFIND_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C (Castagnoli) of `n` bytes, continuing from `crc` (0 to start): ff_crc32c(ff_crc32c(0, a), b) is the
 * CRC of a followed by b. The checksums of FaceFind's vector files. SSE4.2's crc32 instruction where the CPU has
 * it (about 8 bytes a cycle), else a table a byte at a time. */
uint32_t ff_crc32c(uint32_t crc, const void *data, size_t n);

/* Forces the table-driven path even where SSE4.2 exists: tests compare both paths on one machine. */
void ff_crc32c_set_portable(int portable);

#endif
